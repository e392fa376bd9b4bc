"""Parse messages with Python's email package.

The MIME tests pipe each composed message through this script, so an
independent parser checks what the Swift composer writes. It prints the same
record layout the test SMTP server spools, minus the SMTP envelope.

Without arguments it reads one raw message from standard input and prints its
record. With --batch it reads a JSON array of base64-encoded messages and
prints a JSON array of records, so a large corpus costs one Python start.
"""

import base64
import json
import sys

from smtp_test_server import BARE_LINE_BREAK, max_line_length, parse_message, without_surrogates


def record_for(raw: bytes) -> dict:
    return {
        "max_line_length": max_line_length(raw),
        "bare_line_feeds": len(BARE_LINE_BREAK.findall(raw)),
        "parsed": parse_message(raw),
    }


def main() -> int:
    if sys.argv[1:] == ["--batch"]:
        messages = json.load(sys.stdin)
        records = [record_for(base64.b64decode(message)) for message in messages]
        json.dump(without_surrogates(records), sys.stdout, ensure_ascii=False)
        return 0

    raw = sys.stdin.buffer.read()
    json.dump(without_surrogates(record_for(raw)), sys.stdout, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
