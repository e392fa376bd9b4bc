#!/usr/bin/env python3
"""OAuth 2.0 token endpoint for the trigger-email test suite, built on http.server.

The server listens on 127.0.0.1 and implements the refresh token grant of
RFC 6749 section 6 at POST /token. The request body must be form-encoded with
grant_type=refresh_token and the client_id, client_secret and refresh_token
given on the command line. A valid request gets 200 with a JSON body:

  {"access_token": "token-N", "token_type": "Bearer", "expires_in": SECONDS,
   "scope": "https://mail.google.com/"}

where N counts the tokens issued, from 1. An invalid request gets the error
response of RFC 6749 section 5.2, such as 400 {"error": "invalid_grant",
"error_description": "..."}, or 401 invalid_client for a wrong client.

With --redirect-to, every token request gets 307 with a Location header field
instead, so that a test can check that the client does not follow it.

Other routes:
  GET /stats   {"token_requests": N, "issued": [...]}: every POST /token
               received so far, valid or not, and the tokens issued

Start-up protocol: once the socket is listening, the server prints one JSON
line to stdout, {"port": N}, and serves until SIGTERM or SIGINT, or until its
standard input reaches end of file. The parent should keep a pipe open on the
server's standard input.

Every token request is logged to stderr as one line with its outcome. The
client secret, the refresh token and the issued tokens are never logged.
"""

from __future__ import annotations

import argparse
import hmac
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

# Token requests are a few hundred octets, so a larger body is a client bug.
MAX_BODY_BYTES = 65536


class TokenState:
    """The counters that every request thread shares."""

    def __init__(self, prefix: str) -> None:
        self.lock = threading.Lock()
        self.prefix = prefix
        self.token_requests = 0
        self.issued: list[str] = []

    def count_request(self) -> None:
        with self.lock:
            self.token_requests += 1

    def issue_token(self) -> str:
        with self.lock:
            token = f"{self.prefix}{len(self.issued) + 1}"
            self.issued.append(token)
            return token

    def snapshot(self) -> dict:
        with self.lock:
            return {"token_requests": self.token_requests, "issued": list(self.issued)}


class TokenRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Set by main() on the class, because http.server creates one handler per request.
    arguments: argparse.Namespace
    state: TokenState

    def do_GET(self) -> None:
        if self.path == "/stats":
            self.send_json(200, self.state.snapshot())
        else:
            self.send_json(404, {"error": "not_found"})

    def do_POST(self) -> None:
        if self.path != "/token":
            self.send_json(404, {"error": "not_found"})
            return

        self.state.count_request()
        if self.arguments.delay > 0:
            time.sleep(self.arguments.delay)
        if self.arguments.redirect_to:
            sys.stderr.write("POST /token -> 307 redirect\n")
            sys.stderr.flush()
            self.close_connection = True
            self.send_response(307)
            self.send_header("Location", self.arguments.redirect_to)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return

        status, body = self.answer_token_request()
        outcome = body.get("error", "token issued")
        sys.stderr.write(f"POST /token -> {status} {outcome}\n")
        sys.stderr.flush()
        # A rejected request may leave part of its body unread, so the connection cannot be reused.
        self.close_connection = status != 200
        self.send_json(status, body)

    def answer_token_request(self) -> tuple[int, dict]:
        """Return the status and JSON body for one POST /token."""
        content_type = self.headers.get("Content-Type", "")
        if content_type.split(";")[0].strip().lower() != "application/x-www-form-urlencoded":
            return 400, error_body("invalid_request", f"unsupported Content-Type {content_type!r}")

        length_text = self.headers.get("Content-Length", "")
        if not length_text.isdigit() or not 0 < int(length_text) <= MAX_BODY_BYTES:
            return 400, error_body("invalid_request", f"unsupported Content-Length {length_text!r}")
        body = self.rfile.read(int(length_text))
        try:
            form = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
        except (UnicodeDecodeError, ValueError) as error:
            return 400, error_body("invalid_request", f"the body is not form-encoded: {error}")

        if any(len(values) != 1 for values in form.values()):
            return 400, error_body("invalid_request", "a parameter was given more than once")
        fields = {name: values[0] for name, values in form.items()}

        if self.arguments.fail:
            status, error, description = self.arguments.fail
            return status, error_body(error, description)
        if fields.get("grant_type") != "refresh_token":
            return 400, error_body("unsupported_grant_type", "grant_type must be refresh_token")
        if not (
            matches(fields.get("client_id"), self.arguments.client_id)
            and matches(fields.get("client_secret"), self.arguments.client_secret)
        ):
            return 401, error_body("invalid_client", "The OAuth client was not found.")
        if not matches(fields.get("refresh_token"), self.arguments.refresh_token):
            return 400, error_body("invalid_grant", "Bad Request")

        body = {
            "access_token": self.state.issue_token(),
            "token_type": "Bearer",
            "expires_in": self.arguments.expires_in,
            "scope": "https://mail.google.com/",
        }
        if self.arguments.omit_expires_in:
            del body["expires_in"]
        return 200, body

    def send_json(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args) -> None:
        # do_POST logs each token request itself, without the request line.
        pass


def error_body(error: str, description: str) -> dict:
    return {"error": error, "error_description": description}


def matches(received: str | None, expected: str) -> bool:
    return received is not None and hmac.compare_digest(received.encode(), expected.encode())


def parse_failure(value: str) -> tuple[int, str, str]:
    status, _, rest = value.partition(":")
    error, _, description = rest.partition(":")
    if not status.isdigit() or not 400 <= int(status) <= 599 or not error:
        raise argparse.ArgumentTypeError(
            f"invalid failure {value!r}: expected STATUS:ERROR[:DESCRIPTION], such as 400:invalid_grant"
        )
    return int(status), error, description


def watch_standard_input(server: ThreadingHTTPServer) -> None:
    """Shut the server down from a daemon thread once standard input reaches end of file."""

    def read_until_end_of_file() -> None:
        try:
            while os.read(0, 65536):
                pass
        except OSError:
            return
        server.shutdown()

    threading.Thread(target=read_until_end_of_file, name="stdin-watch", daemon=True).start()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="port to listen on; 0 takes any free one")
    parser.add_argument("--client-id", required=True, help="the only client_id accepted")
    parser.add_argument("--client-secret", required=True, help="the only client_secret accepted")
    parser.add_argument("--refresh-token", required=True, help="the only refresh_token accepted")
    parser.add_argument(
        "--token-prefix", default="token-",
        help="issued access tokens are this prefix and a counter from 1 (default: token-)",
    )
    parser.add_argument(
        "--expires-in", type=int, default=3600,
        help="expires_in of issued tokens in seconds; 0 makes them expire at once (default: 3600)",
    )
    parser.add_argument("--omit-expires-in", action="store_true", help="send tokens without expires_in")
    parser.add_argument(
        "--delay", type=float, default=0.0,
        help="seconds to wait before responding to each token request (default: 0)",
    )
    parser.add_argument(
        "--redirect-to", metavar="URL",
        help="respond to every token request with 307 and Location: URL",
    )
    parser.add_argument(
        "--fail", type=parse_failure, metavar="STATUS:ERROR[:DESCRIPTION]",
        help="respond to every token request with this error response",
    )
    arguments = parser.parse_args()

    TokenRequestHandler.arguments = arguments
    TokenRequestHandler.state = TokenState(arguments.token_prefix)
    server = ThreadingHTTPServer(("127.0.0.1", arguments.port), TokenRequestHandler)
    server.daemon_threads = True

    for signal_number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signal_number, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start())
    watch_standard_input(server)

    print(json.dumps({"port": server.server_address[1]}), flush=True)
    server.serve_forever()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
