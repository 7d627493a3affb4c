"""A local SMTP sink for tests: accepts every message and appends it as one JSON line.

Usage: smtp_sink.py --port PORT --out FILE [--hold HOLD]   (PORT 0 picks a free port)

Listens on 127.0.0.1 only. Prints the chosen port as the first stdout line once it is
ready, then runs until killed. Each line of FILE is
{"mail_from": ..., "rcpt_tos": [...], "data": "<raw message>"}.

With --hold, a message's MAIL FROM command waits while the file HOLD exists, so a test can
catch a sender in the middle of a delivery (and kill it there); each such wait first appends
{"held": "<sender>"} as one line to HOLD.log. A message whose sender went away while held
never reaches FILE.
"""

import argparse
import asyncio
import json
import os
import signal
import socket
import sys

from aiosmtpd.controller import Controller


class JsonLinesHandler:
    def __init__(self, out_path, hold_path=None):
        self.out_path = out_path
        self.hold_path = hold_path

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.hold_path and os.path.exists(self.hold_path):
            with open(self.hold_path + ".log", "a", encoding="utf-8") as log:
                log.write(json.dumps({"held": address}) + "\n")
                log.flush()
            while os.path.exists(self.hold_path):
                await asyncio.sleep(0.02)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        data = envelope.content
        if isinstance(data, bytes):
            data = data.decode("utf-8", errors="replace")
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "data": data,
        }
        with open(self.out_path, "a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\n")
            out.flush()
        return "250 Message accepted for delivery"


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--out", required=True)
    parser.add_argument("--hold")
    args = parser.parse_args()
    port = args.port or free_port()
    controller = Controller(
        JsonLinesHandler(args.out, args.hold), hostname="127.0.0.1", port=port
    )
    controller.start()
    print(port, flush=True)
    try:
        signal.sigwait({signal.SIGTERM, signal.SIGINT})
    finally:
        controller.stop()
    return 0


if __name__ == "__main__":
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    sys.exit(main())
