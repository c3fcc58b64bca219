#!/usr/bin/env python3
"""An LMTP server (RFC 2033) for smtpcli's interop tests, started by scripts/test-servers.

aiosmtpd's LMTP class, listening on TCP and on a UNIX socket. Recipients:
  nosuchuser@...  -> refused at RCPT: 550 5.1.1
  full@...        -> accepted at RCPT, refused after DATA: 552 5.2.2 (mailbox full)
  anyone else     -> accepted, delivered: 250 2.0.0
After DATA the server answers once per accepted recipient, in RCPT order, as LMTP requires.
"""

import argparse
import logging
import signal
import threading

from aiosmtpd.controller import Controller, UnixSocketController
from aiosmtpd.lmtp import LMTP


class Handler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.rsplit("@", 1)[0].lower() == "nosuchuser":
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server, session, envelope):
        # One reply per accepted recipient. aiosmtpd pushes the status as one write,
        # so the replies are joined with CRLF: each is a complete reply on the wire.
        replies = []
        for rcpt in envelope.rcpt_tos:
            if rcpt.rsplit("@", 1)[0].lower() == "full":
                replies.append(f"552 5.2.2 <{rcpt}>: Mailbox full")
            else:
                replies.append(f"250 2.0.0 <{rcpt}> delivered")
        return "\r\n".join(replies)


class LmtpController(Controller):
    def factory(self):
        return LMTP(self.handler, **self.SMTP_kwargs)


class LmtpUnixController(UnixSocketController):
    def factory(self):
        return LMTP(self.handler, **self.SMTP_kwargs)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=2424)
    p.add_argument("--socket", required=True)
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")

    handler = Handler()
    tcp = LmtpController(handler, hostname=args.host, port=args.port, server_hostname="lmtp.example.com")
    unix = LmtpUnixController(handler, unix_socket=args.socket, server_hostname="lmtp.example.com")
    tcp.start()
    unix.start()
    logging.info("LMTP on %s:%d and %s", args.host, args.port, args.socket)

    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    while not done.wait(3600):
        pass
    tcp.stop()
    unix.stop()


if __name__ == "__main__":
    main()
