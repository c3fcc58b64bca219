#!/usr/bin/env python3
"""A second, non-Postfix SMTP server for smtpcli's interop tests (started by scripts/test-servers).

STARTTLS with the given certificate, AUTH PLAIN, LOGIN and XOAUTH2 (only after STARTTLS; the
XOAUTH2 token is the password, and a wrong one gets the 334 JSON error step), and a few
recipients with scripted answers:
  nosuchuser@...  -> 550 5.1.1 (unknown user)
  greylist@...    -> 450 4.7.1 (try again later)
With --token TOKEN (a second instance): XOAUTH2 takes TOKEN instead of the password, and
OAUTHBEARER (RFC 7628) is offered too; a wrong token gets RFC 7628's error challenge (base64
JSON), which the client must answer with ^A before the 535. A good one gets a 235 that names the
host= and port= the client sent.
Accepted messages are stored one per file in --spool: NNNNNN.eml holds the DATA bytes exactly as
received (after dot-unstuffing), NNNNNN.json the envelope.
"""

import argparse
import base64
import binascii
import itertools
import json
import logging
import os
import signal
import ssl
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Handler:
    def __init__(self, spool, logins, token):
        self.spool = spool
        self.logins = logins
        self.token = token
        start = len([n for n in os.listdir(spool) if n.endswith(".eml")])
        self.counter = itertools.count(start + 1)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.rsplit("@", 1)[0].lower()
        if local == "nosuchuser":
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        if local == "greylist":
            return f"450 4.7.1 <{address}>: Recipient address rejected: Greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def auth_XOAUTH2(self, server, args):
        """Google's XOAUTH2: base64("user=U\\x01auth=Bearer TOKEN\\x01\\x01")."""
        if len(args) < 2:
            blob = await server.challenge_auth("")
            if not isinstance(blob, bytes):
                return AuthResult(success=False)
        else:
            try:
                blob = base64.b64decode(args[1], validate=True)
            except (binascii.Error, ValueError):
                return AuthResult(success=False, handled=False, message="501 5.5.2 Can't decode base64")
        fields = dict(
            part.split("=", 1) for part in blob.decode("utf-8", "replace").split("\x01") if "=" in part
        )
        if fields.get("user", "").encode() in self.logins and fields.get("auth") == f"Bearer {self.token}":
            return AuthResult(success=True, auth_data=LoginPassword(fields["user"].encode(), b""))
        # The error step: a 334 carrying a JSON error, answered by an empty line, then the 535.
        error = json.dumps({"status": "401", "schemes": "bearer", "scope": "https://mail.example.org/"})
        await server.challenge_auth(error)
        return AuthResult(success=False, handled=False, message="535 5.7.8 Username and Password not accepted")

    async def handle_DATA(self, server, session, envelope):
        n = next(self.counter)
        base = os.path.join(self.spool, f"{n:06d}")
        with open(base + ".json", "w") as f:
            json.dump(
                {
                    "mail_from": envelope.mail_from,
                    "mail_options": envelope.mail_options,
                    "rcpt_tos": envelope.rcpt_tos,
                    "rcpt_options": envelope.rcpt_options,
                    "helo": session.host_name,
                    "tls": session.ssl is not None,
                    "auth": session.authenticated,
                },
                f,
                indent=1,
            )
        # Write the .eml last, under a temporary name, so a reader never sees half a message.
        with open(base + ".tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(base + ".tmp", base + ".eml")
        return f"250 2.0.0 Ok: queued as {n:06d}"


class OAuthHandler(Handler):
    """Handler plus OAUTHBEARER (RFC 7628), for the instance started with --token."""

    async def auth_OAUTHBEARER(self, server, args):
        if len(args) < 2:
            blob = await server.challenge_auth("")
            if not isinstance(blob, bytes):
                return AuthResult(success=False)
        else:
            try:
                blob = base64.b64decode(args[1], validate=True)
            except (binascii.Error, ValueError):
                return AuthResult(success=False, handled=False, message="501 5.5.2 Can't decode base64")
        text = blob.decode("utf-8", "replace")
        # gs2-header ^A kvpairs ^A: "n,a=USER," then "key=value" parts.
        header, _, rest = text.partition("\x01")
        gs2 = header.split(",")
        authzid = next((p[2:] for p in gs2[1:2] if p.startswith("a=")), "")
        authzid = authzid.replace("=2C", ",").replace("=3D", "=")
        fields = dict(part.split("=", 1) for part in rest.split("\x01") if "=" in part)
        well_formed = gs2[0] in ("n", "y") and text.endswith("\x01\x01")
        if (
            well_formed
            and (not authzid or authzid.encode() in self.logins)
            and fields.get("auth") == f"Bearer {self.token}"
        ):
            user = authzid or "token"
            return AuthResult(
                success=True,
                handled=False,
                message=(
                    "235 2.7.0 Authentication successful (OAUTHBEARER, "
                    f"host={fields.get('host', '-')} port={fields.get('port', '-')})"
                ),
                auth_data=LoginPassword(user.encode(), b""),
            )
        # RFC 7628 §3.2.2: the error as a JSON challenge; the client answers ^A.
        error = json.dumps(
            {
                "status": "invalid_token",
                "scope": "https://mail.example.org/smtp",
                "openid-configuration": "https://auth.example.org/.well-known/openid-configuration",
            }
        )
        answer = await server.challenge_auth(error)
        if not isinstance(answer, bytes):
            return AuthResult(success=False)
        if answer != b"\x01":
            return AuthResult(
                success=False, handled=False, message="501 5.5.2 RFC 7628 wants ^A after the error challenge"
            )
        return AuthResult(success=False, handled=False, message="535 5.7.8 Authentication credentials invalid")


def make_authenticator(logins, password):
    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login in logins
            and auth_data.password == password.encode()
        )
        return AuthResult(success=ok, handled=False)

    return authenticate


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=2587)
    p.add_argument("--hostname", default="mailserver.example.com")
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--user", default="alice")
    p.add_argument("--password", default="secret")
    p.add_argument("--spool", required=True)
    p.add_argument("--token", help="the OAuth 2.0 token XOAUTH2 and OAUTHBEARER accept (adds OAUTHBEARER)")
    args = p.parse_args()

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    os.makedirs(args.spool, exist_ok=True)

    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(args.cert, args.key)

    logins = {args.user.encode(), f"{args.user}@{args.hostname}".encode()}
    if args.token:
        handler = OAuthHandler(args.spool, logins, args.token)
    else:
        handler = Handler(args.spool, logins, args.password)
    controller = Controller(
        handler,
        hostname=args.host,
        port=args.port,
        server_hostname=args.hostname,
        ident="smtpcli-test aiosmtpd",
        tls_context=tls,
        authenticator=make_authenticator(logins, args.password),
        auth_require_tls=True,
    )
    controller.start()
    logging.info("listening on %s:%d (pid %d)", args.host, args.port, os.getpid())

    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    while not done.wait(3600):
        pass
    controller.stop()
    logging.info("stopped")


if __name__ == "__main__":
    main()
