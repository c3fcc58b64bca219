/*
 * A stand-in for Windows' bcryptprimitives.dll, for Wine releases that lack
 * it (Wine 8, Debian 12). Rust's standard library takes its random bytes
 * from ProcessPrng there (Windows 10 and later have it); this one asks
 * RtlGenRandom (advapi32's SystemFunction036), which every Wine has.
 * Built and installed into the Wine prefix by scripts/windows-check; never
 * shipped with smtpcli.
 */
#include <windows.h>
#include <ntsecapi.h>

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG n = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!RtlGenRandom(data, n))
            return FALSE;
        data += n;
        len -= n;
    }
    return TRUE;
}
