"""Tombstone hashes (DESIGN §2): an erased identifier is kept only as a keyed hash.

HMAC-SHA256 over "kind:normalized value" with the tenant's own random secret (decision 50): the
same email erased in two tenants gives unrelated hashes, and a table of hashes read without
the secret cannot be tested against a list of guessed emails.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_secret() -> str:
    return secrets.token_hex(32)


def tombstone_hash(secret: str, kind: str, value: str) -> str:
    message = f"{kind}:{value}".encode()
    return hmac.new(bytes.fromhex(secret), message, hashlib.sha256).hexdigest()
