#!/usr/bin/env python3
"""HTTP server for the attachment tests, built on Python's http.server.

The server listens on 127.0.0.1 and serves the files of one folder (--root)
at their paths, plus these routes for the cases a file cannot produce:

  /endless                 200 with no Content-Length and a body of zero
                           octets that never ends; the server stops writing
                           when the client closes the connection
  /declared-length?bytes=N 200 with Content-Length: N and a body of N octets
  /slow?seconds=S          waits S seconds, then sends 200 with the body "late"
  /trickle                 200 with no Content-Length, then one octet every
                           0.1 s for up to 10 minutes
  /redirect?to=URL&status=CODE
                           a redirect (default 302) with Location: URL
  /chain/N                 a 302 to /chain/N-1, until /chain/0, which sends
                           200 with the body "end of chain"
  /status/CODE             an empty response with that status code

Start-up protocol: once the socket is listening, the server prints one JSON
line to stdout, {"port": N}, and serves until SIGTERM or SIGINT, or until its
standard input reaches end of file. The parent should keep a pipe open on the
server's standard input.

Every request is logged to stderr as one line, "GET /path", so that a test can
check which requests reached the server.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import signal
import sys
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

CHUNK = b"\0" * 65536

# The maximum duration of a /trickle response in seconds, so that a client that never
# disconnects cannot keep a server thread busy forever.
TRICKLE_SECONDS = 600


class TestRequestHandler(SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        sys.stderr.write(f"GET {self.path}\n")
        sys.stderr.flush()

        url = urlsplit(self.path)
        query = parse_qs(url.query)
        route = url.path

        if route == "/endless":
            self.send_endless_body()
        elif route == "/declared-length":
            self.send_declared_length(int(query["bytes"][0]))
        elif route == "/slow":
            time.sleep(float(query["seconds"][0]))
            self.send_text(200, b"late")
        elif route == "/trickle":
            self.send_trickle()
        elif route == "/redirect":
            status = int(query.get("status", ["302"])[0])
            self.send_redirect(status, query["to"][0])
        elif route.startswith("/chain/"):
            remaining = int(route.removeprefix("/chain/"))
            if remaining > 0:
                self.send_redirect(302, f"/chain/{remaining - 1}")
            else:
                self.send_text(200, b"end of chain")
        elif route.startswith("/status/"):
            self.send_text(int(route.removeprefix("/status/")), b"")
        else:
            super().do_GET()

    def send_text(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def send_redirect(self, status: int, location: str) -> None:
        self.send_response(status)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def send_declared_length(self, size: int) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(size))
        self.end_headers()
        self.write_until_closed(lambda written: written < size, limit=size)

    def send_endless_body(self) -> None:
        # Without Content-Length or chunked encoding the body ends when the
        # connection closes, which HTTP/1.1 allows for a response marked
        # "Connection: close".
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        self.write_until_closed(lambda written: True)

    def send_trickle(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        deadline = time.monotonic() + TRICKLE_SECONDS
        try:
            while time.monotonic() < deadline:
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.1)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def write_until_closed(self, should_continue, limit: int | None = None) -> None:
        written = 0
        try:
            while should_continue(written):
                chunk = CHUNK if limit is None else CHUNK[: min(len(CHUNK), limit - written)]
                self.wfile.write(chunk)
                written += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, format: str, *args) -> None:
        # do_GET logs each request itself, in the shorter form tests match.
        pass


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
    parser.add_argument("--root", required=True, help="folder whose files are served")
    parser.add_argument("--port", type=int, default=0, help="port to listen on; 0 takes any free one")
    arguments = parser.parse_args()

    handler = functools.partial(TestRequestHandler, directory=arguments.root)
    server = ThreadingHTTPServer(("127.0.0.1", arguments.port), handler)
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
