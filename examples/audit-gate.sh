#!/bin/sh
# A CI gate for a mail server of your own: run every --audit test, list what is not PASS,
# and fail on any VULNERABLE finding (1) or when the audit could not run (2).
# Run: sh examples/audit-gate.sh 127.0.0.1 2550 audit@example.org empfaenger@mailserver.example.com
host=${1:-127.0.0.1}
port=${2:-25}
from=${3:?the sender of the probes}
to=${4:?your mailbox on the audited server}
out=$(smtpcli --audit --color never --from "$from" --to "$to" "$host" "$port")
code=$?
printf '%s\n' "$out" | grep -E '^(VULNERABLE|UNKNOWN) '
case $code in
    0) echo "OK - $host:$port passed the audit"; exit 0 ;;
    1) echo "FAIL - $host:$port is vulnerable (see above)"; exit 1 ;;
    *) echo "ERROR - the audit of $host:$port could not run"; exit 2 ;;
esac
