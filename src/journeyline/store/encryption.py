"""Secrets the store must give back in clear, encrypted at rest (decision 49): a webhook
connection's signing secrets are HMAC keys, so unlike API keys they cannot be hashed.

Fernet (AES-128-CBC with HMAC-SHA256, from `cryptography`) under a key derived by HKDF-SHA256
from `JOURNEYLINE_SECRET_KEY`. Keys listed in `JOURNEYLINE_PREVIOUS_SECRET_KEYS` still decrypt,
so the key can be rotated: values sealed under an old key keep being read, new ones are sealed
under the current key (re-sealing old rows is not automated). A sealed value reads
`fernet:<token>`.
Without a configured key a built-in development key is used, which protects nothing: the app
warns at start-up.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from journeyline.config import Settings

PREFIX = "fernet:"
# Public by design: it lets an unconfigured development install run, and protects nothing.
DEVELOPMENT_KEY = "journeyline-development-key (public; set JOURNEYLINE_SECRET_KEY)"
_PURPOSE = b"journeyline: webhook signing secrets at rest"


class SecretUnreadable(Exception):
    """A sealed value that no configured key opens (the key changed without keeping the old
    one in JOURNEYLINE_PREVIOUS_SECRET_KEYS), or a value that was never sealed."""


def _fernet(secret_key: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_PURPOSE).derive(
        secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(derived))


class SecretBox:
    """Seals with the first key, opens with any of them."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ValueError("a SecretBox needs at least one key")
        self._fernet = MultiFernet([_fernet(key) for key in keys])

    def seal(self, plain: str) -> str:
        return PREFIX + self._fernet.encrypt(plain.encode()).decode()

    def open(self, sealed: str) -> str:
        if not is_sealed(sealed):
            raise SecretUnreadable("the value is not sealed")
        try:
            return self._fernet.decrypt(sealed[len(PREFIX) :].encode()).decode()
        except (InvalidToken, UnicodeDecodeError) as exc:
            raise SecretUnreadable("no configured secret key opens the value") from exc


def is_sealed(value: str) -> bool:
    return value.startswith(PREFIX)


@lru_cache(maxsize=8)
def _box(current: str, previous: tuple[str, ...]) -> SecretBox:
    return SecretBox([current, *previous])


def secret_box(settings: Settings) -> SecretBox:
    """The box of these settings (made once per key set: HKDF runs once, not per delivery)."""
    return _box(settings.secret_key or DEVELOPMENT_KEY, tuple(settings.previous_secret_keys))
