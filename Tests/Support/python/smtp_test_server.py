#!/usr/bin/env python3
"""SMTP server for the trigger-email test suite, built on aiosmtpd.

The server listens on a loopback address, accepts mail, and writes every
accepted message as a JSON record into a spool directory, so that tests can
check exactly what the client under test sent.

Start-up protocol: once the socket is listening, the server prints one JSON
line to stdout, {"port": N, "ca": PATH or null}, where "ca" is the absolute
path of the PEM CA certificate that signed the server certificate (null
without TLS). It then serves until SIGTERM or SIGINT, or until its standard
input reaches end of file, and exits with status 0. The parent should give the
server a pipe as standard input and keep the write end open, because the
server stops at once when standard input is /dev/null.

Each accepted message becomes SPOOL/NNNNNN.json, numbered from 000001 (or
after the highest number already in SPOOL). The file is written under a
temporary name and renamed, so a reader never sees a partial record. A record
is written only after the DATA reply delay (see --data-delay and
--hold-data-until) and just before the 250 reply, so a client that disconnects
during the delay leaves no record.

Record fields:
  mail_from, mail_options, rcpt_tos  envelope; rcpt_tos lists accepted recipients only
  helo              host name from the last EHLO or HELO
  tls, tls_version  whether the session was encrypted, e.g. true and "TLSv1.3"
  auth_user         user name after a successful AUTH, else null
  raw_base64        message octets exactly as received, after dot-unstuffing
  raw_text          the same octets decoded as Latin-1, one character per octet
  max_line_length   longest line in octets, lines split at CRLF only
  bare_line_feeds   count of LF without a preceding CR plus CR without a following LF
  parsed            email.policy.default view of the message, see parse_message
  parse_error       null, or the exception that stopped parsing (parsed is then null)
Text part contents keep the line endings that were sent, normally CRLF.

Session events (connect, EHLO, STARTTLS, AUTH, MAIL, RCPT, DATA, disconnect)
are logged to stderr, one line each. Passwords and bearer tokens are never
logged.

AUTH XOAUTH2 (offered with --xoauth2) takes the base64 of
"user=USER\x01auth=Bearer TOKEN\x01\x01", as Gmail and Microsoft 365 do. A
rejected token gets the reply that --xoauth2-rejection selects; by default,
as Gmail does, a 334 challenge with a JSON error, and after the client's
empty line, 535.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import email.message
import email.policy
import hmac
import ipaddress
import json
import logging
import os
import re
import signal
import ssl
import sys
import threading
import warnings
import weakref
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import trustme
from aiosmtpd.smtp import (
    SMTP,
    MISSING,
    AuthResult,
    Envelope,
    LoginPassword,
    Session,
    TLSSetupException,
)

log = logging.getLogger("smtp_test_server")

SPOOL_NAME = re.compile(r"^(\d{6,})\.json$")

NON_ESCAPE_SURROGATE = re.compile("[\ud800-\udc7f\udd00-\udfff]")

# A bare LF or a bare CR is one that is not part of a CRLF pair.
BARE_LINE_BREAK = re.compile(rb"(?<!\r)\n|\r(?!\n)")


# Command line


def parse_credentials(value: str) -> tuple[str, str]:
    user, separator, password = value.partition(":")
    if not separator or not user:
        # The value is not echoed because it may contain a password.
        raise argparse.ArgumentTypeError("invalid credentials: expected USER:PASSWORD")
    return user, password


def parse_bearer_user(value: str) -> tuple[str, str]:
    user, separator, prefix = value.partition(":")
    if not separator or not user or not prefix:
        raise argparse.ArgumentTypeError(
            f"invalid XOAUTH2 user {value!r}: expected USER:TOKEN-PREFIX"
        )
    return user, prefix


def parse_host(value: str) -> str:
    # A host name could resolve to several addresses, and with --port 0 each
    # of them would get a different port, so only a single address is allowed.
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid address {value!r}: expected an IP address such as 127.0.0.1 or ::1"
        ) from None


def parse_port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(
            f"invalid port {value!r}: expected 0 to 65535 (0 picks a free port)"
        )
    return port


def parse_delay(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < float("inf"):
        raise argparse.ArgumentTypeError(
            f"invalid delay {value!r}: expected a number of seconds, 0 or more"
        )
    return seconds


def build_argument_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Run an SMTP server that writes every accepted message "
        "as a JSON record into a spool directory.",
    )
    parser.add_argument(
        "--host", type=parse_host, default="127.0.0.1",
        help="IP address to listen on (default: 127.0.0.1)",
    )
    parser.add_argument(
        "--port", type=parse_port, default=0,
        help="TCP port to listen on; 0 picks a free port (default: 0)",
    )

    parser.add_argument(
        "--tls", choices=["none", "starttls", "smtps"], default="none",
        help="none: plain text only; starttls: offer STARTTLS in EHLO; "
        "smtps: TLS from the first byte (default: none)",
    )
    parser.add_argument(
        "--cert-dir", metavar="DIR", type=Path,
        help="directory for ca.pem, the CA certificate that signs the server "
        "certificate; required with --tls starttls or smtps",
    )

    parser.add_argument(
        "--auth", metavar="USER:PASSWORD", type=parse_credentials,
        action="append", default=[],
        help="accept these credentials with AUTH PLAIN and AUTH LOGIN "
        "(repeatable). With TLS, AUTH is offered only on an encrypted "
        "connection. With --tls none it is offered in plain text",
    )
    parser.add_argument(
        "--xoauth2", metavar="USER:TOKEN-PREFIX", type=parse_bearer_user,
        action="append", default=[],
        help="offer AUTH XOAUTH2 and accept USER with any bearer token that "
        "starts with TOKEN-PREFIX (repeatable)",
    )
    parser.add_argument(
        "--xoauth2-rejection", choices=["challenge", "535", "454"], default="challenge",
        help="reply to a rejected XOAUTH2 token: challenge sends 334 with a JSON "
        "error, then 535 after the client's empty line; 535 and 454 reply at once "
        "(default: challenge)",
    )
    parser.add_argument(
        "--require-auth", action="store_true",
        help="reply 530 to MAIL, RCPT, DATA, VRFY and HELP until AUTH succeeds",
    )
    parser.add_argument(
        "--smtputf8", action="store_true",
        help="offer SMTPUTF8 (RFC 6531), so UTF-8 addresses are accepted",
    )
    parser.add_argument(
        "--auth-mechanism", action="append", default=[], choices=["PLAIN", "LOGIN"],
        metavar="NAME",
        help="offer only this AUTH mechanism, PLAIN or LOGIN (repeatable; default: both)",
    )

    parser.add_argument(
        "--reject-recipient", metavar="SUBSTRING", action="append", default=[],
        help="reply 550 to RCPT TO for addresses that contain SUBSTRING, "
        "ignoring case (repeatable)",
    )
    parser.add_argument(
        "--defer-recipient", metavar="SUBSTRING", action="append", default=[],
        help="reply 450 to RCPT TO for addresses that contain SUBSTRING, "
        "ignoring case (repeatable). --reject-recipient wins when both match",
    )

    parser.add_argument(
        "--data-delay", metavar="SECONDS", type=parse_delay, default=0.0,
        help="wait this many seconds before replying to the end of DATA (default: 0)",
    )
    parser.add_argument(
        "--hold-data-until", metavar="FILE", type=Path,
        help="reply to the end of DATA only once FILE exists, so a test decides how long "
        "an attempt lasts instead of guessing a delay long enough for a loaded machine",
    )
    parser.add_argument(
        "--spool", metavar="DIR", type=Path, required=True,
        help="directory for the JSON records of accepted messages; created if missing",
    )
    return parser


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = build_argument_parser()
    arguments = parser.parse_args(argv)

    if arguments.tls != "none" and arguments.cert_dir is None:
        parser.error(f"--cert-dir is required with --tls {arguments.tls}")
    if arguments.require_auth and not (arguments.auth or arguments.xoauth2):
        parser.error("--require-auth needs at least one --auth USER:PASSWORD or --xoauth2 USER:TOKEN-PREFIX")

    users = [user for user, _ in arguments.auth]
    duplicates = sorted({user for user in users if users.count(user) > 1})
    if duplicates:
        parser.error(f"--auth names these users more than once: {', '.join(duplicates)}")

    return arguments


# TLS


def create_tls_context(cert_dir: Path) -> tuple[ssl.SSLContext, Path]:
    """Issue a throwaway CA and server certificate, and write the CA to cert_dir/ca.pem.

    The server certificate is valid for localhost, 127.0.0.1 and ::1.
    Returns the server-side context and the absolute path of ca.pem.
    """
    authority = trustme.CA()
    server_certificate = authority.issue_cert("localhost", "127.0.0.1", "::1")

    cert_dir.mkdir(parents=True, exist_ok=True)
    ca_path = (cert_dir / "ca.pem").resolve()
    authority.cert_pem.write_to_path(str(ca_path))

    # Purpose.CLIENT_AUTH builds a server-side context that requests no client
    # certificate, which is what aiosmtpd expects.
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_certificate.configure_cert(context)
    return context, ca_path


# Spool and records


class Spool:
    """Directory of numbered JSON records, one per accepted message."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        # Continue after existing records, so that a restarted server never
        # overwrites a record that a test may still read.
        numbers = [
            int(match.group(1))
            for match in map(SPOOL_NAME.match, os.listdir(directory))
            if match
        ]
        self.last_number = max(numbers, default=0)

    def write(self, record: dict[str, Any]) -> Path:
        """Write record under the next number and return the final path."""
        self.last_number += 1
        name = f"{self.last_number:06d}.json"
        final_path = self.directory / name
        temporary_path = self.directory / f".{name}.tmp"

        text = json.dumps(record, ensure_ascii=False, indent=2) + "\n"
        temporary_path.write_text(text, encoding="utf-8")
        os.replace(temporary_path, final_path)
        return final_path


def without_surrogates(value: Any) -> Any:
    """Replace lone surrogates in every string of value, recursively.

    The email package decodes 8-bit header bytes with surrogateescape, and a
    lone surrogate cannot be encoded as UTF-8 for the record file. Escaped
    bytes that form UTF-8 come back as that text, and the rest become U+FFFD.
    """
    if isinstance(value, str):
        # Only U+DC80 to U+DCFF are escaped bytes, so other surrogates are
        # replaced first to let the surrogateescape encoding succeed.
        value = NON_ESCAPE_SURROGATE.sub("\ufffd", value)
        encoded = value.encode("utf-8", "surrogateescape")
        return encoded.decode("utf-8", "replace")
    if isinstance(value, list):
        return [without_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {key: without_surrogates(item) for key, item in value.items()}
    return value


def describe_defect(location: str, defect: Exception) -> str:
    # Many defects carry no message, so the class name is the useful part.
    description = f"{location}: {type(defect).__name__}"
    if str(defect):
        description += f": {defect}"
    return description


def header_text(message: email.message.EmailMessage, name: str) -> str | None:
    value = message.get(name)
    return None if value is None else str(value)


def describe_part(
    part: email.message.EmailMessage, location: str, defects: list[str]
) -> dict[str, Any]:
    """Describe one non-multipart entity, appending decoding failures to defects.

    content is the decoded text for text/* parts, and base64 of the decoded
    octets for every other type.
    """
    transfer_encoding = part.get("Content-Transfer-Encoding")
    content_id = part.get("Content-ID")

    content: str | None
    if part.get_content_maintype() == "text":
        try:
            content = part.get_content()
        except (LookupError, ValueError) as error:
            # get_content() raises LookupError for an unknown charset.
            content = None
            defects.append(f"{location}: content could not be decoded: {error!r}")
    else:
        payload = part.get_payload(decode=True) or b""
        content = base64.b64encode(payload).decode("ascii")

    return {
        "content_type": part.get_content_type(),
        "charset": part.get_content_charset(),
        "content_transfer_encoding": (
            None if transfer_encoding is None else transfer_encoding.cte
        ),
        "content_disposition": part.get_content_disposition(),
        "filename": part.get_filename(),
        "content_id": None if content_id is None else str(content_id),
        "content": content,
    }


def parse_message(raw: bytes) -> dict[str, Any]:
    """Parse raw message bytes with email.policy.default into the "parsed" record field.

    Defect locations count entities in walk() order: "message" is the
    top-level entity, and "part N" is the N-th entity after it, multipart
    containers included.
    """
    message = BytesParser(policy=email.policy.default).parsebytes(raw)
    assert isinstance(message, email.message.EmailMessage)

    defects: list[str] = []
    headers: list[list[str]] = []
    parts: list[dict[str, Any]] = []

    for index, entity in enumerate(message.walk()):
        location = "message" if index == 0 else f"part {index} ({entity.get_content_type()})"
        defects.extend(describe_defect(location, defect) for defect in entity.defects)

        for name, value in entity.items():
            defects.extend(
                describe_defect(f"{location}, header {name}", defect)
                for defect in getattr(value, "defects", ())
            )
            if index == 0:
                headers.append([name, str(value)])

        if not entity.is_multipart():
            parts.append(describe_part(entity, location, defects))

    return {
        "headers": headers,
        "subject": header_text(message, "Subject"),
        "from": header_text(message, "From"),
        "to": header_text(message, "To"),
        "cc": header_text(message, "Cc"),
        "bcc": header_text(message, "Bcc"),
        "message_id": header_text(message, "Message-ID"),
        "date": header_text(message, "Date"),
        "content_type": message.get_content_type(),
        "parts": parts,
        "defects": defects,
    }


def max_line_length(raw: bytes) -> int:
    # SMTP lines end with CRLF, so a bare LF or CR counts as part of a line.
    return max((len(line) for line in raw.split(b"\r\n")), default=0)


def build_record(
    server: SMTP, session: Session, envelope: Envelope, raw: bytes
) -> dict[str, Any]:
    ssl_object = server.transport.get_extra_info("ssl_object") if server.transport else None

    record: dict[str, Any] = {
        "mail_from": envelope.mail_from,
        "mail_options": list(envelope.mail_options),
        "rcpt_tos": list(envelope.rcpt_tos),
        "helo": session.host_name,
        "tls": ssl_object is not None,
        "tls_version": None if ssl_object is None else ssl_object.version(),
        "auth_user": session.auth_data if session.authenticated else None,
        "raw_base64": base64.b64encode(raw).decode("ascii"),
        "raw_text": raw.decode("latin-1"),
        "max_line_length": max_line_length(raw),
        "bare_line_feeds": len(BARE_LINE_BREAK.findall(raw)),
    }

    # The email package can raise on some malformed input. The message was
    # still received, so the record is kept with the error in parse_error.
    try:
        record["parsed"] = parse_message(raw)
        record["parse_error"] = None
    except Exception as error:  # noqa: BLE001
        record["parsed"] = None
        record["parse_error"] = repr(error)

    return without_surrogates(record)


# SMTP session


def format_peer(peer: Any) -> str:
    if isinstance(peer, tuple) and len(peer) >= 2:
        host, port = peer[0], peer[1]
        return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"
    return str(peer)


def matches_any(address: str, substrings: list[str]) -> bool:
    folded = address.casefold()
    return any(substring.casefold() in folded for substring in substrings)


class LoggingSMTP(SMTP):
    """aiosmtpd's SMTP protocol with connection logging and a 1 MiB line limit."""

    # aiosmtpd 1.4.6 rejects DATA lines over 1001 octets with "500 Line too
    # long". Accepting longer lines lets the record's max_line_length show
    # what the client sent, so that tests can assert the RFC 5322 limit of
    # 998 octets themselves. Lines over this limit still get the 500 reply.
    line_length_limit = 1 << 20

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # aiosmtpd calls connection_made again after a STARTTLS handshake, and
        # the transport is already set then, so that second call is not logged
        # as a new connection.
        is_new_connection = self.transport is None
        super().connection_made(transport)
        if is_new_connection:
            encrypted = transport.get_extra_info("ssl_object") is not None
            log.info(
                "%s connected (%s)",
                format_peer(self.session.peer), "TLS" if encrypted else "plain text",
            )

    def connection_lost(self, error: Exception | None) -> None:
        peer = format_peer(self.session.peer) if self.session else "unknown peer"
        if error is None:
            log.info("%s disconnected", peer)
        else:
            log.info("%s disconnected: %r", peer, error)
        super().connection_lost(error)

    async def check_auth_needed(self, caller_method: str) -> bool:
        needed = await super().check_auth_needed(caller_method)
        if needed:
            log.info(
                "%s %s rejected with 530: authentication required",
                format_peer(self.session.peer), caller_method,
            )
        return needed


class SpoolingHandler:
    """aiosmtpd handler that applies the recipient rules and spools accepted messages."""

    def __init__(self, arguments: argparse.Namespace, spool: Spool) -> None:
        self.offers_auth = bool(arguments.auth or arguments.xoauth2)
        self.bearer_prefixes: dict[str, str] = dict(arguments.xoauth2)
        self.xoauth2_rejection: str = arguments.xoauth2_rejection
        self.rejected_recipients: list[str] = arguments.reject_recipient
        self.deferred_recipients: list[str] = arguments.defer_recipient
        self.data_delay: float = arguments.data_delay
        self.release_file: Path | None = arguments.hold_data_until
        self.spool = spool

    async def handle_EHLO(
        self, server: SMTP, session: Session, envelope: Envelope,
        hostname: str, responses: list[str],
    ) -> list[str]:
        session.host_name = hostname
        if not self.offers_auth:
            # aiosmtpd always lists AUTH, even with every mechanism excluded.
            responses = [line for line in responses if not line.startswith("250-AUTH")]
        log.info("%s EHLO %s", format_peer(session.peer), hostname)
        return responses

    async def handle_HELO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str
    ) -> str:
        session.host_name = hostname
        log.info("%s HELO %s", format_peer(session.peer), hostname)
        return f"250 {server.hostname}"

    def handle_STARTTLS(self, server: SMTP, session: Session, envelope: Envelope) -> bool:
        version = session.ssl.get("ssl_object").version() if session.ssl else None
        log.info("%s STARTTLS completed (%s)", format_peer(session.peer), version)
        return True

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope,
        address: str, mail_options: list[str],
    ) -> str:
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        log.info("%s MAIL FROM:<%s> %s", format_peer(session.peer), address, " ".join(mail_options))
        return "250 2.1.0 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope,
        address: str, rcpt_options: list[str],
    ) -> str:
        peer = format_peer(session.peer)

        if matches_any(address, self.rejected_recipients):
            log.info("%s RCPT TO:<%s> rejected with 550", peer, address)
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"

        if matches_any(address, self.deferred_recipients):
            log.info("%s RCPT TO:<%s> deferred with 450", peer, address)
            return f"450 4.2.1 <{address}>: Recipient address temporarily deferred"

        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        log.info("%s RCPT TO:<%s> accepted", peer, address)
        return "250 2.1.5 OK"

    async def handle_RSET(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        log.info("%s RSET", format_peer(session.peer))
        return "250 2.0.0 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        peer = format_peer(session.peer)
        raw = envelope.original_content or b""

        try:
            if self.data_delay > 0:
                log.info("%s DATA received, %d octets; replying in %g s", peer, len(raw), self.data_delay)
                await asyncio.sleep(self.data_delay)
            if self.release_file is not None:
                log.info("%s DATA received, %d octets; replying once %s exists", peer, len(raw), self.release_file)
                while not self.release_file.exists():
                    await asyncio.sleep(0.02)
        except asyncio.CancelledError:
            log.info("%s connection closed during the DATA reply delay; message not spooled", peer)
            raise

        record = build_record(server, session, envelope, raw)
        path = self.spool.write(record)
        if record["parse_error"] is not None:
            log.warning("%s message could not be parsed: %s", peer, record["parse_error"])
        log.info(
            "%s DATA accepted, %d octets from <%s> to %d recipients, spooled as %s",
            peer, len(raw), envelope.mail_from, len(envelope.rcpt_tos), path.name,
        )
        return f"250 2.0.0 OK: queued as {path.stem}"

    async def auth_XOAUTH2(self, server: SMTP, args: list[str]) -> AuthResult:
        """Check an XOAUTH2 initial response against the --xoauth2 users and prefixes."""
        peer = format_peer(server.session.peer)
        if len(args) == 1:
            response = await server.challenge_auth("")
            if response is MISSING:
                return AuthResult(success=False, handled=True)
        else:
            try:
                response = base64.b64decode(args[1].encode(), validate=True)
            except binascii.Error:
                await server.push("501 5.5.2 Can't decode base64")
                return AuthResult(success=False, handled=True)

        parsed = parse_xoauth2_response(response)
        if parsed is None:
            log.info("%s AUTH XOAUTH2 rejected: malformed initial response", peer)
            await server.push("501 5.5.2 Malformed XOAUTH2 initial response")
            return AuthResult(success=False, handled=True)

        user, token = parsed
        prefix = self.bearer_prefixes.get(user)
        if prefix is not None and token.startswith(prefix):
            log.info("%s AUTH XOAUTH2 accepted for user %r", peer, user)
            return AuthResult(success=True, auth_data=user)

        reason = "unknown user" if prefix is None else "token not accepted"
        log.info("%s AUTH XOAUTH2 rejected for user %r: %s (%s)", peer, user, reason, self.xoauth2_rejection)
        if self.xoauth2_rejection == "454":
            return AuthResult(success=False, handled=False, message="454 4.7.0 Temporary authentication failure")
        if self.xoauth2_rejection == "challenge":
            error = json.dumps({"status": "401", "schemes": "Bearer", "scope": "https://mail.google.com/"})
            if await server.challenge_auth(error) is MISSING:
                return AuthResult(success=False, handled=True)
        return AuthResult(success=False, handled=False, message="535 5.7.8 Username and Password not accepted")

    async def handle_exception(self, error: Exception) -> str:
        if isinstance(error, TLSSetupException):
            # A client that rejects the certificate ends up here. aiosmtpd
            # then closes the connection without sending the returned reply.
            log.warning("STARTTLS handshake failed: %r", error.__cause__)
            return "454 4.7.0 TLS handshake failed"
        log.error("SMTP session error: %r", error, exc_info=error)
        return f"451 4.3.0 Internal server error: {type(error).__name__}: {error}"


def parse_xoauth2_response(response: bytes) -> tuple[str, str] | None:
    """Return the user and bearer token of an XOAUTH2 initial response, or None if malformed."""
    try:
        text = response.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if not text.endswith("\x01\x01"):
        return None
    fields = text[:-2].split("\x01")
    if len(fields) != 2 or not fields[0].startswith("user=") or not fields[1].startswith("auth=Bearer "):
        return None
    user = fields[0].removeprefix("user=")
    token = fields[1].removeprefix("auth=Bearer ")
    if not user or not token:
        return None
    return user, token


def create_authenticator(credentials: list[tuple[str, str]]):
    """Return an aiosmtpd authenticator that accepts exactly the given USER:PASSWORD pairs."""
    passwords = {user.encode(): password.encode() for user, password in credentials}

    def authenticate(
        server: SMTP, session: Session, envelope: Envelope,
        mechanism: str, auth_data: Any,
    ) -> AuthResult:
        peer = format_peer(session.peer)
        if not isinstance(auth_data, LoginPassword):
            log.info("%s AUTH %s rejected: no user name and password", peer, mechanism)
            return AuthResult(success=False, handled=False)

        user = auth_data.login.decode("utf-8", "replace")
        expected = passwords.get(auth_data.login)
        if expected is None:
            log.info("%s AUTH %s rejected: unknown user %r", peer, mechanism, user)
            return AuthResult(success=False, handled=False)
        if not hmac.compare_digest(expected, auth_data.password):
            log.info("%s AUTH %s rejected: wrong password for user %r", peer, mechanism, user)
            return AuthResult(success=False, handled=False)

        log.info("%s AUTH %s accepted for user %r", peer, mechanism, user)
        # aiosmtpd stores auth_data in session.auth_data, where build_record reads the user.
        return AuthResult(success=True, auth_data=user)

    return authenticate


# Process lifetime


def configure_logging() -> None:
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO,
        format="%(asctime)s smtp_test_server %(levelname)s %(message)s",
    )

    # aiosmtpd's INFO lines include full command lines, and "AUTH PLAIN <base64>"
    # contains the password, so only its warnings and errors are kept.
    aiosmtpd_log = logging.getLogger("mail.log")
    aiosmtpd_log.setLevel(logging.WARNING)
    aiosmtpd_log.addFilter(drop_expected_aiosmtpd_warnings)

    # AUTH without aiosmtpd's TLS requirement is deliberate, because --tls none
    # tests the client's plain-text AUTH and smtps encrypts the socket itself.
    warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")


def drop_expected_aiosmtpd_warnings(record: logging.LogRecord) -> bool:
    # aiosmtpd 1.4.6 logs the login_data deprecation on every successful AUTH,
    # and the auth_require_tls warning on every connection that requires AUTH
    # without its TLS requirement.
    message = str(record.msg)
    return not (
        message.startswith("Session.login_data is deprecated")
        or message.startswith("auth_required == True but auth_require_tls == False")
    )


def reserve_closed_standard_input() -> bool:
    """Return whether descriptor 0 was open, and point it at /dev/null if it was not.

    Without this, the next file or socket the server opens, such as the event
    loop's self-pipe, would get descriptor 0, and the standard input watcher
    would read from it.
    """
    try:
        os.fstat(0)
    except OSError:
        os.open(os.devnull, os.O_RDONLY)
        return False
    return True


def watch_standard_input(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    """Set stop from a daemon thread once standard input reaches end of file.

    The thread uses os.read on descriptor 0 because a thread blocked in
    sys.stdin's buffered reader can abort interpreter shutdown.
    """

    def read_until_end_of_file() -> None:
        try:
            while os.read(0, 65536):
                pass
        except OSError as error:
            log.warning(
                "failed to read standard input (%s); stop the server with SIGTERM instead", error
            )
            return
        log.info("standard input reached end of file, stopping")
        loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=read_until_end_of_file, name="stdin-watch", daemon=True).start()


def excluded_mechanisms(arguments: argparse.Namespace) -> list[str]:
    """Return the AUTH mechanisms to hide.

    PLAIN and LOGIN are hidden without --auth, and otherwise when
    --auth-mechanism leaves them out. XOAUTH2 is hidden without --xoauth2.
    """
    excluded = [] if arguments.xoauth2 else ["XOAUTH2"]
    if not arguments.auth:
        return excluded + ["PLAIN", "LOGIN"]
    if not arguments.auth_mechanism:
        return excluded
    offered = {mechanism.upper() for mechanism in arguments.auth_mechanism}
    return excluded + [mechanism for mechanism in ("PLAIN", "LOGIN") if mechanism not in offered]


async def serve(arguments: argparse.Namespace, watches_standard_input: bool) -> int:
    loop = asyncio.get_running_loop()

    tls_context: ssl.SSLContext | None = None
    ca_path: Path | None = None
    if arguments.tls != "none":
        tls_context, ca_path = create_tls_context(arguments.cert_dir)

    spool = Spool(arguments.spool)
    handler = SpoolingHandler(arguments, spool)
    # Protocols whose TLS handshake failed never see connection_lost, so a
    # weak set lets them go without explicit removal.
    sessions: weakref.WeakSet[LoggingSMTP] = weakref.WeakSet()

    def create_protocol() -> LoggingSMTP:
        protocol = LoggingSMTP(
            handler,
            loop=loop,
            # A fixed name avoids socket.getfqdn(), which can send DNS queries.
            hostname="localhost",
            tls_context=tls_context if arguments.tls == "starttls" else None,
            # In smtps mode aiosmtpd does not see the socket's TLS layer, so
            # requiring TLS for AUTH would hide AUTH on an encrypted connection.
            auth_require_tls=arguments.tls == "starttls",
            auth_required=arguments.require_auth,
            authenticator=create_authenticator(arguments.auth),
            auth_exclude_mechanism=excluded_mechanisms(arguments),
            enable_SMTPUTF8=arguments.smtputf8,
        )
        sessions.add(protocol)
        return protocol

    # NOTE: in smtps mode a failed TLS handshake is not logged, because asyncio
    # reports it only in debug mode and aiosmtpd never receives the connection.
    try:
        server = await loop.create_server(
            create_protocol,
            host=arguments.host,
            port=arguments.port,
            ssl=tls_context if arguments.tls == "smtps" else None,
        )
    except OSError as error:
        log.error(
            "failed to listen on %s port %d: %s (check --host and --port)",
            arguments.host, arguments.port, error,
        )
        return 1

    port = server.sockets[0].getsockname()[1]
    log.info(
        "listening on %s port %d (TLS mode %s, AUTH users %d, XOAUTH2 users %d, spool %s)",
        arguments.host, port, arguments.tls, len(arguments.auth), len(arguments.xoauth2), spool.directory,
    )

    # The handlers are installed before the ready line, so that a parent that
    # sends SIGTERM right after reading it still gets a clean exit.
    stop = asyncio.Event()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signal_number, stop.set)
    if watches_standard_input:
        watch_standard_input(loop, stop)
    else:
        log.warning("standard input is closed; stop the server with SIGTERM")

    print(json.dumps({"port": port, "ca": None if ca_path is None else str(ca_path)}), flush=True)

    await stop.wait()

    log.info("stopping")
    server.close()
    await server.wait_closed()
    for protocol in sessions:
        if protocol.transport is not None:
            protocol.transport.close()
    # Closing a transport schedules connection_lost, which cancels the
    # session's task. One more loop iteration lets that run before exit.
    await asyncio.sleep(0)
    return 0


def main() -> int:
    standard_input_is_open = reserve_closed_standard_input()
    arguments = parse_arguments()
    configure_logging()
    return asyncio.run(serve(arguments, watches_standard_input=standard_input_is_open))


if __name__ == "__main__":
    sys.exit(main())
