#!/usr/bin/env python3
"""SMTP peer that injects one fault, for faults no real server produces on demand.

The peer plays an ordinary SMTP server on 127.0.0.1 (greeting, EHLO, HELO,
STARTTLS, AUTH, MAIL, RCPT, DATA, RSET, NOOP, QUIT) and accepts any sender,
recipient and credentials. It keeps no message content. One fault, chosen on
the command line, replaces its normal behaviour at one step:

  --reply TEXT         send TEXT instead of the normal reply; after a 421
                       reply the peer closes the connection, as RFC 5321
                       section 3.8 has a server do
  --drop               close the connection instead of replying
  --stall              never reply, and keep the connection open until the
                       client closes it
  --malformed          send "hello there", which is not a reply
  --multiline          send a valid three-line reply with the normal reply
                       code, such as 250-first, 250-second, 250 last
  --oversized          send a reply line of 100,000 octets with the normal
                       reply code
  --tls-failure        reply 220 to STARTTLS, wait for the client's first
                       handshake bytes, and reply to them with bytes that are
                       not TLS
  --starttls-refused   reply 454 to STARTTLS
  --starttls-injection send a plaintext reply line in the same write as the
                       220 to STARTTLS, then complete the TLS handshake; a
                       client that reads that line after the handshake takes
                       text from anyone on the network path as the server's
                       reply (STARTTLS response injection)

--step names where the fault applies: greeting, ehlo (EHLO only, not HELO),
starttls, auth (the first reply to an AUTH command), mail, rcpt, data,
message (the reply to the final dot) or quit. The three STARTTLS faults always
apply at starttls and take no --step. The fault applies to every reply of that
step in every connection, or only in the first N connections with
--faulty-connections N. At mail, rcpt, data and message it applies in every
mail transaction, or only in the Nth of each connection with
--faulty-transaction N (the first MAIL command starts transaction 1).

EHLO lists PIPELINING (unless --no-pipelining), SIZE, 8BITMIME and
ENHANCEDSTATUSCODES. It adds STARTTLS with --tls-cert or a fault at the
starttls step, and AUTH PLAIN LOGIN with --offer-auth or a fault at the auth
step. With --tls-cert and --tls-key, STARTTLS completes a real TLS handshake
and the session goes on encrypted. Without them the peer has no TLS, so it
replies 454 to STARTTLS unless a fault replaces that reply.

Start-up protocol: once listening, the peer prints {"port": N} as its first
line on stdout. It serves until standard input reaches end of file, or until
SIGTERM or SIGINT, and then exits with status 0.

Status file (--status FILE): a JSON object rewritten after every change,
under a temporary name and then renamed, so a reader never sees a partial
file. Its fields:
  connections         connections accepted so far
  open_connections    connections not yet closed by either side
  messages_received   messages whose final dot arrived
  messages_accepted   messages whose final dot got a 2xx reply, whether or
                      not the client could read that reply
  faults_applied      times the fault replaced a normal reply
  pipelined_commands  commands that had already arrived when the peer read
                      the final dot before them, so the client sent them
                      without waiting for the reply to the message data

Events go to stderr, one line each. Command arguments are never logged,
because AUTH lines carry credentials.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import re
import signal
import ssl
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("fault_smtp_peer")

STEPS = ["greeting", "ehlo", "starttls", "auth", "mail", "rcpt", "data", "message", "quit"]

HOST = "127.0.0.1"
SERVER_NAME = "localhost"
MALFORMED_LINE = "hello there"
OVERSIZED_LINE_OCTETS = 100_000
# The first octet, "g", is no TLS record content type, so a TLS client fails
# on it at once.
NOT_A_TLS_HANDSHAKE = b"garbage instead of a TLS handshake\r\n"
INJECTED_LINE = "554 5.7.0 injected before TLS"
STARTTLS_FAULTS = ["tls-failure", "starttls-refused", "starttls-injection"]
TRANSACTION_STEPS = ["mail", "rcpt", "data", "message"]
# Message lines may be much longer than command lines. A line over this limit
# ends the connection.
READ_LIMIT = 1 << 20

REPLY_PATTERN = re.compile(r"^[2-5][0-9][0-9]( .*)?$")


# Command line


@dataclass(frozen=True)
class Fault:
    kind: str
    step: str
    reply: str | None = None


def parse_reply(value: str) -> str:
    if not REPLY_PATTERN.match(value):
        raise argparse.ArgumentTypeError(
            f"invalid reply {value!r}: expected a code from 200 to 599, "
            "optionally followed by a space and text, such as '421 4.3.2 Service shutting down'"
        )
    return value


def parse_connection_count(value: str) -> int:
    try:
        count = int(value)
    except ValueError:
        count = 0
    if count < 1:
        raise argparse.ArgumentTypeError(f"invalid connection count {value!r}: expected 1 or more")
    return count


def build_argument_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Run an SMTP server on 127.0.0.1 that injects one fault at one step.",
    )
    parser.add_argument(
        "--status", metavar="FILE", type=Path, required=True,
        help="JSON file for the connection and message counters, rewritten after every change",
    )
    parser.add_argument(
        "--step", choices=STEPS,
        help="the step whose reply the fault replaces; required with every fault "
        "except --tls-failure and --starttls-refused",
    )

    faults = parser.add_mutually_exclusive_group()
    faults.add_argument(
        "--reply", metavar="TEXT", type=parse_reply,
        help="send TEXT instead of the normal reply, such as '421 4.3.2 Service shutting down'",
    )
    faults.add_argument("--drop", action="store_true", help="close the connection instead of replying")
    faults.add_argument(
        "--stall", action="store_true",
        help="never reply, and keep the connection open until the client closes it",
    )
    faults.add_argument("--malformed", action="store_true", help=f"send {MALFORMED_LINE!r} instead of a reply")
    faults.add_argument(
        "--multiline", action="store_true",
        help="send the normal reply code as a three-line reply: first, second, last",
    )
    faults.add_argument(
        "--oversized", action="store_true",
        help=f"send a reply line of {OVERSIZED_LINE_OCTETS:,} octets with the normal reply code",
    )
    faults.add_argument(
        "--tls-failure", action="store_true",
        help="reply 220 to STARTTLS, then reply to the client's first handshake bytes with bytes that are not TLS",
    )
    faults.add_argument("--starttls-refused", action="store_true", help="reply 454 to STARTTLS")
    faults.add_argument(
        "--starttls-injection", action="store_true",
        help=f"send {INJECTED_LINE!r} in clear text right after the 220 to STARTTLS, "
        "then complete the TLS handshake; needs --tls-cert",
    )

    parser.add_argument(
        "--tls-cert", metavar="FILE", type=Path,
        help="PEM certificate for STARTTLS. With --tls-key, the peer offers STARTTLS and completes the handshake",
    )
    parser.add_argument("--tls-key", metavar="FILE", type=Path, help="PEM private key of --tls-cert")
    parser.add_argument("--offer-auth", action="store_true", help="list AUTH PLAIN LOGIN in the EHLO reply")
    parser.add_argument(
        "--no-pipelining", action="store_true",
        help="leave PIPELINING out of the EHLO reply, so the client waits for each reply",
    )
    parser.add_argument(
        "--greeting-delay", metavar="SECONDS", type=float, default=0.0,
        help="wait this long before the greeting of each connection",
    )
    parser.add_argument(
        "--faulty-connections", metavar="N", type=parse_connection_count,
        help="apply the fault only in the first N connections (default: every connection)",
    )
    parser.add_argument(
        "--faulty-transaction", metavar="N", type=parse_connection_count,
        help="at mail, rcpt, data and message, apply the fault only in the Nth mail transaction of a connection",
    )
    return parser


def parse_arguments(argv: list[str] | None = None) -> tuple[argparse.Namespace, Fault | None]:
    parser = build_argument_parser()
    arguments = parser.parse_args(argv)

    if (arguments.tls_cert is None) != (arguments.tls_key is None):
        parser.error("--tls-cert and --tls-key go together")
    has_tls = arguments.tls_cert is not None

    starttls_kind = next(
        (kind for kind in STARTTLS_FAULTS if getattr(arguments, kind.replace("-", "_"))), None
    )
    if starttls_kind is not None:
        if arguments.step not in (None, "starttls"):
            parser.error(f"--{starttls_kind} applies at the starttls step only")
        if starttls_kind == "starttls-injection" and not has_tls:
            parser.error("--starttls-injection needs --tls-cert and --tls-key to complete the handshake")
        return arguments, Fault(kind=starttls_kind, step="starttls")

    kinds = ["drop", "stall", "malformed", "multiline", "oversized"]
    kind = "reply" if arguments.reply is not None else next(
        (name for name in kinds if getattr(arguments, name)), None
    )
    if kind is None:
        if arguments.step is not None:
            parser.error("--step needs a fault: --reply, --drop, --stall, --malformed, --multiline or --oversized")
        if arguments.faulty_connections is not None:
            parser.error("--faulty-connections needs a fault")
        if arguments.faulty_transaction is not None:
            parser.error("--faulty-transaction needs a fault")
        return arguments, None

    if arguments.step is None:
        parser.error(f"--{kind} needs --step")
    if arguments.faulty_transaction is not None and arguments.step not in TRANSACTION_STEPS:
        parser.error("--faulty-transaction applies at mail, rcpt, data and message only")
    if kind == "multiline" and arguments.step == "starttls" and not has_tls:
        # A 220 reply to STARTTLS must be followed by a TLS handshake.
        parser.error("--multiline at starttls needs --tls-cert and --tls-key")
    return arguments, Fault(kind=kind, step=arguments.step, reply=arguments.reply)


# Status file


class Status:
    """Counters written to the status file after every change."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.counters = {
            "connections": 0,
            "open_connections": 0,
            "messages_received": 0,
            "messages_accepted": 0,
            "faults_applied": 0,
            "pipelined_commands": 0,
        }
        self.write()

    def add(self, name: str, amount: int = 1) -> None:
        self.counters[name] += amount
        self.write()

    def write(self) -> None:
        temporary_path = self.path.with_name(f".{self.path.name}.tmp")
        temporary_path.write_text(json.dumps(self.counters) + "\n", encoding="utf-8")
        os.replace(temporary_path, self.path)


# SMTP session


class SessionEnded(Exception):
    """Raised when the connection must close: a dropped, stalled or 421 reply, or QUIT."""


class Session:
    """One client connection, served line by line."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
        peer: Peer, number: int,
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.peer = peer
        self.number = number
        self.fault = peer.fault if peer.applies_fault(number) else None
        self.accepts_mail = True
        self.is_encrypted = False
        self.greeted = False
        self.has_sender = False
        self.recipients = 0
        self.transactions = 0

    async def run(self) -> None:
        try:
            if self.peer.greeting_delay > 0:
                await asyncio.sleep(self.peer.greeting_delay)
            code = await self.respond("greeting", ["220 localhost ESMTP fault injection peer"])
            # RFC 5321 section 3.1: after a 554 greeting the server replies
            # 503 to every command except QUIT.
            self.accepts_mail = code == 220 or code is None
            while True:
                line = await self.read_line()
                if line is None:
                    return
                await self.handle(line)
        except SessionEnded:
            return
        except (ConnectionError, ssl.SSLError, asyncio.IncompleteReadError) as error:
            log.info("connection %d ended: %r", self.number, error)

    async def handle(self, line: str) -> None:
        verb, _, argument = line.partition(" ")
        verb = verb.upper()

        if verb == "QUIT":
            await self.respond("quit", ["221 2.0.0 Bye"])
            raise SessionEnded
        if not self.accepts_mail:
            await self.send(["503 5.5.1 Bad sequence of commands: this server does not accept mail"])
            return

        handlers = {
            "EHLO": self.handle_ehlo,
            "HELO": self.handle_helo,
            "STARTTLS": self.handle_starttls,
            "AUTH": self.handle_auth,
            "MAIL": self.handle_mail,
            "RCPT": self.handle_rcpt,
            "DATA": self.handle_data,
            "RSET": self.handle_reset,
            "NOOP": self.handle_noop,
        }
        handler = handlers.get(verb)
        if handler is None:
            await self.send(["500 5.5.2 Command not recognized"])
            return
        await handler(argument)

    # Commands

    async def handle_ehlo(self, argument: str) -> None:
        keywords = ["SIZE 10240000", "8BITMIME", "ENHANCEDSTATUSCODES"]
        if self.peer.offers_pipelining:
            keywords.insert(0, "PIPELINING")
        if self.peer.offers_starttls and not self.is_encrypted:
            keywords.append("STARTTLS")
        if self.peer.offers_auth:
            keywords.append("AUTH PLAIN LOGIN")
        texts = [SERVER_NAME] + keywords
        lines = [f"250-{text}" for text in texts[:-1]] + [f"250 {texts[-1]}"]

        code = await self.respond("ehlo", lines)
        self.greeted = code == 250
        self.reset_transaction()

    async def handle_helo(self, argument: str) -> None:
        await self.send([f"250 {SERVER_NAME}"])
        self.greeted = True
        self.reset_transaction()

    async def handle_starttls(self, argument: str) -> None:
        if not self.peer.offers_starttls or self.is_encrypted:
            await self.send(["502 5.5.1 STARTTLS not offered"])
            return
        if self.peer.tls_context is None:
            await self.respond("starttls", ["454 4.7.0 TLS not available on this peer"])
            return

        code = await self.respond("starttls", ["220 2.0.0 Ready to start TLS"])
        if code == 220:
            await self.start_tls()

    async def start_tls(self) -> None:
        """Run the server side of the TLS handshake; RFC 3207 section 4.2 then expects a new EHLO."""
        assert self.peer.tls_context is not None
        await self.writer.start_tls(self.peer.tls_context)
        self.is_encrypted = True
        self.greeted = False
        self.reset_transaction()
        ssl_object = self.writer.get_extra_info("ssl_object")
        log.info("connection %d: TLS established (%s)", self.number, ssl_object.version() if ssl_object else "unknown")

    async def handle_auth(self, argument: str) -> None:
        if not self.peer.offers_auth:
            await self.send(["502 5.5.1 AUTH not offered"])
            return
        mechanism, _, initial_response = argument.partition(" ")
        mechanism = mechanism.upper()
        if mechanism == "PLAIN" and initial_response:
            code = await self.respond("auth", ["235 2.7.0 Authentication successful"])
        elif mechanism == "PLAIN":
            code = await self.respond("auth", ["334 "])
            if code == 334:
                await self.finish_authentication(challenges=[])
        elif mechanism == "LOGIN":
            # The challenges are base64 of "Username:" and "Password:".
            code = await self.respond("auth", ["334 VXNlcm5hbWU6"])
            if code == 334:
                await self.finish_authentication(challenges=["334 UGFzc3dvcmQ6"])
        else:
            await self.send(["504 5.5.4 Unrecognized authentication mechanism"])

    async def finish_authentication(self, challenges: list[str]) -> None:
        """Read the client's responses, sending each further challenge, then accept any credentials."""
        for reply in challenges + ["235 2.7.0 Authentication successful"]:
            response = await self.read_line()
            if response is None:
                raise SessionEnded
            if response == "*":
                await self.send(["501 5.7.0 Authentication cancelled"])
                return
            await self.send([reply])

    async def handle_mail(self, argument: str) -> None:
        if not self.greeted or self.has_sender:
            await self.send(["503 5.5.1 Bad sequence of commands"])
            return
        self.transactions += 1
        code = await self.respond("mail", ["250 2.1.0 Ok"])
        self.has_sender = code == 250

    async def handle_rcpt(self, argument: str) -> None:
        if not self.has_sender:
            await self.send(["503 5.5.1 Bad sequence of commands"])
            return
        code = await self.respond("rcpt", ["250 2.1.5 Ok"])
        if code == 250:
            self.recipients += 1

    async def handle_data(self, argument: str) -> None:
        if self.recipients == 0:
            await self.send(["503 5.5.1 Bad sequence of commands"])
            return
        code = await self.respond("data", ["354 End data with <CR><LF>.<CR><LF>"])
        if code != 354:
            return

        await self.read_message()
        # asyncio has no public way to ask whether more input is buffered. Bytes already
        # there when the final dot is read came in the client's write of the message data.
        if self.reader._buffer:
            self.peer.status.add("pipelined_commands")
        self.peer.status.add("messages_received")
        number = self.peer.status.counters["messages_received"]
        log.info("connection %d: message %d received", self.number, number)

        code = await self.respond("message", [f"250 2.0.0 Ok: queued as {number}"])
        if code is not None and 200 <= code < 300:
            self.peer.status.add("messages_accepted")
            log.info("connection %d: message %d accepted", self.number, number)
        self.reset_transaction()

    async def handle_reset(self, argument: str) -> None:
        self.reset_transaction()
        await self.send(["250 2.0.0 Ok"])

    async def handle_noop(self, argument: str) -> None:
        await self.send(["250 2.0.0 Ok"])

    def reset_transaction(self) -> None:
        self.has_sender = False
        self.recipients = 0

    # Faults

    async def respond(self, step: str, lines: list[str]) -> int | None:
        """Send the normal reply of step, or apply the fault there.

        Returns the reply code that was sent, None for a malformed line, and
        raises SessionEnded when the connection must close.
        """
        fault = self.fault
        normal_code = int(lines[0][:3])
        if fault is None or fault.step != step or not self.in_faulty_transaction():
            await self.send(lines)
            return normal_code

        self.peer.status.add("faults_applied")
        log.info("connection %d: fault %s applied at %s", self.number, fault.kind, step)

        if fault.kind == "reply":
            assert fault.reply is not None
            await self.send([fault.reply])
            code = int(fault.reply[:3])
            if code == 421:
                raise SessionEnded
            return code
        if fault.kind == "drop":
            raise SessionEnded
        if fault.kind == "stall":
            await self.discard_until_closed()
            raise SessionEnded
        if fault.kind == "malformed":
            await self.send([MALFORMED_LINE])
            return None
        if fault.kind == "multiline":
            await self.send([f"{normal_code}-first", f"{normal_code}-second", f"{normal_code} last"])
            return normal_code
        if fault.kind == "oversized":
            prefix = f"{normal_code} "
            await self.send([prefix + "x" * (OVERSIZED_LINE_OCTETS - len(prefix))])
            return normal_code
        if fault.kind == "tls-failure":
            await self.send(["220 2.0.0 Ready to start TLS"])
            # Sent after the ClientHello, not together with the 220, the bytes reach the
            # client's TLS layer and not its reply buffer.
            if not await self.reader.read(65536):
                raise SessionEnded
            self.writer.write(NOT_A_TLS_HANDSHAKE)
            await self.writer.drain()
            await self.discard_until_closed()
            raise SessionEnded
        if fault.kind == "starttls-injection":
            # One write, so the injected line arrives together with the 220.
            await self.send(["220 2.0.0 Ready to start TLS", INJECTED_LINE])
            await self.start_tls()
            return None
        if fault.kind == "starttls-refused":
            await self.send(["454 4.7.0 TLS not available due to temporary reason"])
            return 454
        raise AssertionError(f"unknown fault {fault.kind}")

    # Wire

    def in_faulty_transaction(self) -> bool:
        faulty = self.peer.faulty_transaction
        return faulty is None or self.fault is None or self.fault.step not in TRANSACTION_STEPS or self.transactions == faulty

    async def send(self, lines: list[str]) -> None:
        self.writer.write("".join(f"{line}\r\n" for line in lines).encode("ascii"))
        await self.writer.drain()

    async def read_line(self) -> str | None:
        """Return the next line without its line break, or None at end of file."""
        try:
            line = await self.reader.readuntil(b"\n")
        except asyncio.IncompleteReadError:
            return None
        except asyncio.LimitOverrunError:
            await self.send(["500 5.5.6 Line too long"])
            raise SessionEnded from None
        return line.rstrip(b"\r\n").decode("utf-8", "replace")

    async def read_message(self) -> None:
        """Read message lines up to the final dot and discard them."""
        while True:
            line = await self.read_line()
            if line is None:
                raise SessionEnded
            if line == ".":
                return

    async def discard_until_closed(self) -> None:
        while await self.reader.read(65536):
            pass


class Peer:
    """The listening socket and what all its connections share."""

    def __init__(self, arguments: argparse.Namespace, fault: Fault | None) -> None:
        self.fault = fault
        self.faulty_connections: int | None = arguments.faulty_connections
        self.faulty_transaction: int | None = arguments.faulty_transaction
        self.tls_context: ssl.SSLContext | None = None
        if arguments.tls_cert is not None:
            self.tls_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.tls_context.load_cert_chain(arguments.tls_cert, arguments.tls_key)
        self.offers_starttls = self.tls_context is not None or (fault is not None and fault.step == "starttls")
        self.offers_auth = arguments.offer_auth or (fault is not None and fault.step == "auth")
        self.offers_pipelining = not arguments.no_pipelining
        self.greeting_delay: float = arguments.greeting_delay
        self.status = Status(arguments.status)
        self.writers: set[asyncio.StreamWriter] = set()

    def applies_fault(self, number: int) -> bool:
        return self.faulty_connections is None or number <= self.faulty_connections

    async def serve_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.status.add("connections")
        self.status.add("open_connections")
        number = self.status.counters["connections"]
        self.writers.add(writer)
        log.info("connection %d opened", number)
        try:
            await Session(reader, writer, self, number).run()
        finally:
            # close() sends what is buffered and then closes. Waiting for wait_closed() could
            # hang on a TLS connection whose client never replies to the TLS close_notify.
            self.writers.discard(writer)
            writer.close()
            self.status.add("open_connections", -1)
            log.info("connection %d closed", number)

    def close_connections(self) -> None:
        for writer in list(self.writers):
            writer.close()


# Process lifetime


def watch_standard_input(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    """Set stop once standard input reaches end of file, from a daemon thread."""

    def read_until_end_of_file() -> None:
        try:
            while os.read(0, 65536):
                pass
        except OSError as error:
            log.warning("failed to read standard input (%s); stop the peer with SIGTERM", error)
            return
        loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=read_until_end_of_file, name="stdin-watch", daemon=True).start()


async def serve(arguments: argparse.Namespace, fault: Fault | None) -> int:
    loop = asyncio.get_running_loop()
    peer = Peer(arguments, fault)

    server = await asyncio.start_server(peer.serve_connection, host=HOST, port=0, limit=READ_LIMIT)
    port = server.sockets[0].getsockname()[1]
    log.info("listening on %s port %d, fault %s", HOST, port, fault)

    stop = asyncio.Event()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signal_number, stop.set)
    watch_standard_input(loop, stop)

    print(json.dumps({"port": port}), flush=True)
    await stop.wait()

    log.info("stopping")
    server.close()
    peer.close_connections()
    await server.wait_closed()
    return 0


def main() -> int:
    arguments, fault = parse_arguments()
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO,
        format="%(asctime)s fault_smtp_peer %(levelname)s %(message)s",
    )
    return asyncio.run(serve(arguments, fault))


if __name__ == "__main__":
    sys.exit(main())
