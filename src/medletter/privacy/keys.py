"""The secret key of pseudonymisation, and the encrypted mapping that re-identifies a draft.

Everything in pseudonymisation is deterministic from a secret key (HMAC-SHA256), kept outside the
data: a key file named by ``MEDLETTER_DEID_KEY_FILE`` or passed explicitly; :func:`create_key_file`
writes one with mode 0600. The mapping of surrogate -> original of a document is encrypted with a
Fernet key derived from the secret (:func:`encrypt_mapping`), so that a draft written with surrogates
can be re-identified inside the hospital (:func:`reidentify`).

Errors and logs never contain the key or text: only paths and counts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import secrets
import stat
from pathlib import Path

import regex as re

logger = logging.getLogger(__name__)

KEY_ENV = "MEDLETTER_DEID_KEY_FILE"


class KeyError_(ValueError):
    """The de-identification key is missing or unusable (message names the path, never the key)."""


def create_key_file(path: str | os.PathLike, overwrite: bool = False) -> Path:
    """Write a new random 32-byte key (base64) to ``path`` with permissions 0600."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if overwrite else os.O_EXCL)
    try:
        fd = os.open(p, flags, 0o600)
    except FileExistsError:
        raise KeyError_(f"{p}: key file exists already (pass overwrite=True to replace it)") from None
    with os.fdopen(fd, "wb") as f:
        f.write(base64.urlsafe_b64encode(secrets.token_bytes(32)) + b"\n")
    os.chmod(p, 0o600)
    return p


def default_key() -> bytes:
    """The key of ``$MEDLETTER_DEID_KEY_FILE``, or one made once in the project cache (mode 0600)."""
    from medletter.models import cache_dir

    key_file = Path(os.environ.get(KEY_ENV) or cache_dir() / "deid.key")
    if not key_file.exists():
        create_key_file(key_file)
    return load_key(key_file)


def load_key(path: str | os.PathLike | None = None) -> bytes:
    """Read the key from ``path`` or from the file named by ``$MEDLETTER_DEID_KEY_FILE``."""
    path = path or os.environ.get(KEY_ENV)
    if not path:
        raise KeyError_(f"no de-identification key: pass a key file or set {KEY_ENV}")
    p = Path(path)
    try:
        raw = p.read_bytes().strip()
    except FileNotFoundError:
        raise KeyError_(f"{p}: key file not found") from None
    except PermissionError:
        raise KeyError_(f"{p}: key file not readable") from None
    if len(raw) < 16:
        raise KeyError_(f"{p}: key file is too short (expected at least 16 bytes)")
    mode = p.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        logger.warning("key file %s is readable by others; chmod 600 it", p)
    try:
        key = base64.urlsafe_b64decode(raw)
        if len(key) >= 16:
            return key
    except ValueError:
        pass
    return raw

# --- the re-identification mapping ----------------------------------------------------------------


def _fernet(key: bytes):
    from cryptography.fernet import Fernet

    fkey = base64.urlsafe_b64encode(hmac.new(key, b"medletter-reid-mapping-v1", hashlib.sha256).digest())
    return Fernet(fkey)


def encrypt_mapping(pairs: list[dict], key: bytes) -> bytes:
    return _fernet(key).encrypt(json.dumps(pairs, ensure_ascii=False).encode("utf-8"))


def decrypt_mapping(token: bytes | str, key: bytes) -> list[dict]:
    from cryptography.fernet import InvalidToken

    try:
        raw = _fernet(key).decrypt(token.encode() if isinstance(token, str) else token)
    except InvalidToken:
        raise KeyError_("mapping cannot be decrypted with this key (wrong key or damaged mapping)") from None
    return json.loads(raw.decode("utf-8"))


def reidentify(text: str, token: bytes | str, key: bytes) -> str:
    """Put the originals back into ``text`` (a draft written with surrogates), inside the hospital."""
    pairs = decrypt_mapping(token, key)
    subs = {}
    for p in pairs:
        if p["surrogate"] and p["surrogate"] != p["original"]:
            subs.setdefault(p["surrogate"], p["original"])
    if not subs:
        return text
    rx = re.compile(r"(?<![\w])(" + "|".join(re.escape(s) for s in sorted(subs, key=len, reverse=True)) + r")(?![\w])")
    return rx.sub(lambda m: subs[m.group(1)], text)
