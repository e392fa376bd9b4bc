"""Parse one message from standard input with Python's email package.

The MIME tests pipe each composed message through this script, so an
independent parser checks what the Swift composer writes. It prints the same
record layout the test SMTP server spools, minus the SMTP envelope.
"""

import json
import sys

from smtp_test_server import BARE_LINE_BREAK, max_line_length, parse_message, without_surrogates


def main() -> int:
    raw = sys.stdin.buffer.read()
    record = {
        "max_line_length": max_line_length(raw),
        "bare_line_feeds": len(BARE_LINE_BREAK.findall(raw)),
        "parsed": parse_message(raw),
    }
    json.dump(without_surrogates(record), sys.stdout, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
