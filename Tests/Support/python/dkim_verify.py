"""Verify the first DKIM signature of one message with dkimpy, without DNS.

Usage: dkim_verify.py PUBLIC_KEY_PEM DOMAIN SELECTOR < MESSAGE

The script builds the TXT record that DNS would serve at SELECTOR._domainkey.DOMAIN
from the PEM public key file. dkimpy gets a lookup function that returns this record
for that name and nothing for any other, so no DNS query is sent. The script prints
one JSON object: {"valid": true or false, "error": null or the reason it failed}.
"""

import base64
import json
import sys

import dkim
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_public_key


def key_record(public_key_path: str) -> bytes:
    """Return the DKIM key record (RFC 6376 section 3.6.1) for a PEM public key."""
    with open(public_key_path, "rb") as key_file:
        key = load_pem_public_key(key_file.read())

    if isinstance(key, rsa.RSAPublicKey):
        # For RSA, p= is the DER SubjectPublicKeyInfo (RFC 6376 section 3.6.1).
        der = key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
        return b"v=DKIM1; k=rsa; p=" + base64.b64encode(der)
    if isinstance(key, ed25519.Ed25519PublicKey):
        # For Ed25519, p= is the bare 32-byte key (RFC 8463 section 4).
        raw = key.public_bytes(Encoding.Raw, PublicFormat.Raw)
        return b"v=DKIM1; k=ed25519; p=" + base64.b64encode(raw)
    raise SystemExit(f"unsupported public key type in {public_key_path}: {type(key).__name__}")


def main() -> int:
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    public_key_path, domain, selector = sys.argv[1:]

    record = key_record(public_key_path)
    record_name = f"{selector}._domainkey.{domain}.".lower().encode("ascii")

    other_names = []

    def lookup_txt(name: bytes, timeout: int = 5) -> bytes | None:
        if name.lower() == record_name:
            return record
        other_names.append(name.decode("ascii", "replace"))
        return None

    message = sys.stdin.buffer.read()
    try:
        valid = dkim.DKIM(message).verify(dnsfunc=lookup_txt)
        error = None if valid else "dkimpy found no DKIM signature, or one whose b= value does not verify"
    except dkim.DKIMException as exception:
        valid = False
        error = f"{type(exception).__name__}: {exception}"

    if other_names:
        valid = False
        error = f"dkimpy looked up the key at {', '.join(other_names)}, but it exists only at {record_name.decode()}"

    json.dump({"valid": bool(valid), "error": error}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
