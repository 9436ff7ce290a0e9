"""What each token of a vocabulary writes, for the gate: its text, and whether it carries digits.

Two tokenizer families are read directly from their pieces: SentencePiece-style ("▁" for a space, byte
tokens "<0x34>" for bytes: Gemma 3 writes every digit as its own token and has byte tokens for the ASCII
digits too) and byte-level BPE (Llama 3: digits in groups of up to three, pieces spelled in GPT-2's byte
alphabet). Any other tokenizer is read token by token through ``decode``. Special tokens write nothing.
A sample of tokens is checked against the tokenizer's own ``decode`` (:meth:`TokenTable.verify`).
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache

import numpy as np

log = logging.getLogger(__name__)
_BYTE = re.compile(r"^<0x([0-9A-Fa-f]{2})>$")


@lru_cache(maxsize=1)
def _byte_decoder() -> dict[str, int]:
    """GPT-2's byte alphabet, reversed: the character a byte-level piece uses -> the byte."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs)}


def _decoder_kind(tokenizer) -> str:
    backend = getattr(tokenizer, "backend_tokenizer", None)
    dec = repr(getattr(backend, "decoder", None)) if backend is not None else ""
    if "ByteLevel" in dec:
        return "bytelevel"
    if "▁" in dec or "Metaspace" in dec:
        return "sentencepiece"
    return "decode"


class TokenTable:
    """``texts[i]``: what token i adds to a draft; ``digit`` / ``foreign``: boolean arrays, token i carries an
    ASCII digit / a decimal digit of another script."""

    def __init__(self, tokenizer):
        n = len(tokenizer)
        special = set(getattr(tokenizer, "all_special_ids", []) or [])
        added = getattr(tokenizer, "added_tokens_decoder", None) or {}
        special |= {i for i, t in added.items() if getattr(t, "special", False)}
        kind = _decoder_kind(tokenizer)
        pieces = tokenizer.convert_ids_to_tokens(list(range(n)))
        texts: list[str] = []
        if kind == "bytelevel":
            dec = _byte_decoder()
            for i, p in enumerate(pieces):
                if i in special or p is None:
                    texts.append("")
                elif i in added:
                    texts.append(p)
                else:
                    texts.append(bytes(dec.get(ch, 32) for ch in p).decode("utf-8", errors="replace"))
        elif kind == "sentencepiece":
            for i, p in enumerate(pieces):
                if i in special or p is None:
                    texts.append("")
                elif m := _BYTE.match(p):
                    b = int(m.group(1), 16)
                    texts.append(chr(b) if b < 128 else "\ufffd")
                else:
                    texts.append(p.replace("▁", " "))
        else:
            texts = [self._decode_one(tokenizer, i) if i not in special else "" for i in range(n)]
        self.kind = kind
        self.texts = texts
        self.digit = np.fromiter((any("0" <= c <= "9" for c in t) for t in texts), dtype=bool, count=n)
        self.foreign = np.fromiter((any(c.isdecimal() and not "0" <= c <= "9" for c in t) for t in texts), dtype=bool, count=n)
        self.size = n

    @staticmethod
    def _decode_one(tokenizer, i: int) -> str:
        """Token i's text as the tokenizer decodes it after an anchor token (a SentencePiece decoder drops a
        leading space at the start of a text, not after another token)."""
        anchor = tokenizer.convert_tokens_to_ids("a")
        if anchor is None or anchor == tokenizer.unk_token_id:
            return tokenizer.decode([i], skip_special_tokens=True)
        a = tokenizer.decode([anchor], skip_special_tokens=True)
        return tokenizer.decode([anchor, i], skip_special_tokens=True)[len(a):]

    def verify(self, tokenizer, ids) -> list[int]:
        """Tokens (of ``ids``) whose text here differs from the tokenizer's own decoding after an anchor."""
        bad = []
        for i in ids:
            want = self._decode_one(tokenizer, int(i))
            if want != self.texts[int(i)] and "\ufffd" not in want:
                bad.append(int(i))
        return bad


_tables: dict[tuple, TokenTable] = {}


def token_table(tokenizer) -> TokenTable:
    """The table of ``tokenizer`` (made once per tokenizer and vocabulary size)."""
    key = (getattr(tokenizer, "name_or_path", ""), len(tokenizer), id(tokenizer))
    t = _tables.get(key)
    if t is None:
        t = _tables[key] = TokenTable(tokenizer)
    return t
