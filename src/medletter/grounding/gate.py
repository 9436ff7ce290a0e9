"""The gate: at each decoding step a number may only be written if it continues one the case allows.

One implementation for every engine. An engine asks :meth:`SequenceGate.choose` for the next token of a
letter, giving it the model's scores (logits) for that step; the gate answers ``(keep, token)``: keep the
letter's first ``keep`` tokens, then append ``token``. Usually ``keep`` is the letter's length (go on);
it is shorter when the gate *rewinds* (the engine drops those tokens from its cache). The rules, with
:class:`~medletter.grounding.spans.Scanner` reading the letter one character at a time:

* A token that would start a span, or go on with one, is taken only if the span so far begins some
  allowed span of its class (:meth:`AllowedNumbers.prefix_ok`); otherwise the model's next best token is
  tried ("15.4.2029" where only "15.3.2029" is the case's: the "4" is held, the model writes its next best
  digit). Digits of other scripts are never taken.
* When the model ends a span that is no allowed span ("4" in "in 4 Wochen" where the case has 6 weeks and
  4 only begins "40,05"), or writes a unit after it that the case does not give that number ("15 Gy" where
  15 is the fraction count), the gate rewinds to the token that began the span, bars that token there, and
  lets the model choose again from the scores it had there.
* After ``max_rewinds`` rewinds at one place, or where the model wants a number of a class the case has none
  of, the gate writes "[fehlt: …]" / "[missing: …]" there: the letter says that the case lacks the value
  rather than inventing one.

Every intervention is recorded (:meth:`SequenceGate.report`): where, what the model wanted, what was written.
Greedy decoding tries the model's tokens best first; sampling draws them in turn without replacement, which
is sampling from the distribution with the barred tokens removed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from medletter.grounding.keys import AllowedNumbers
from medletter.grounding.spans import JOINS, Closed, Scanner, Unit, lead_class, spans
from medletter.grounding.tokens import TokenTable

MISSING = {"de": "[fehlt: {}]", "en": "[missing: {}]"}
_KIND_WORDS = {
    "de": {"phone": "Telefon", "date": "Datum", "dose": "Dosis", "fx": "Fraktionen", "interval": "Intervall", "grade": "Grad", "tnm": "TNM",
           "code": "ICD-10", "value": "Wert"},
    "en": {"phone": "telephone", "date": "date", "dose": "dose", "fx": "fractions", "interval": "interval", "grade": "grade", "tnm": "TNM",
           "code": "ICD-10 code", "value": "value"},
}
_DATE_CUE = re.compile(r"(?:\b(?:am|vom|bis|seit|ab|zum|ED|Datum|geb\.|on|from|to|until|since|date|dated|born)\b|\*)\W*$", re.I)
_PHONE_CUE = re.compile(r"(?:\bTel|\bTelefon|\bFax|\bphone|\bFon)\b\.?:?[\s\d/()+-]*$", re.I)
_DOSE_CUE = re.compile(r"(?:Dosis|\bGD|\bED|\bdose|à|\bje|\bof)\W*$", re.I)
TOP_K = 64
"""Candidates read from the scores before the gate gives up at a step and rewinds."""
MIN_P = 0.05
"""Where the model's own token is held, the probability another token needs to be taken instead; below it the
number the model meant is not the case's, and the gate rewinds (inside a number) or writes the marker."""


def _kind(klass: str, unit: str | None, tail: str) -> str:
    if unit == "Gy":
        return "dose"
    if unit == "fx":
        return "fx"
    if unit in ("w", "m", "y", "d"):
        return "interval"
    if unit and unit.startswith("mon:"):
        return "date"
    if klass == "grade" or klass == "code:G":
        return "grade"
    if klass.startswith("tnm:"):
        return "tnm"
    if klass.startswith("code:"):
        return "code"
    if _PHONE_CUE.search(tail):
        return "phone"
    if _DATE_CUE.search(tail):
        return "date"
    if _DOSE_CUE.search(tail):
        return "dose"
    return "value"


@dataclass
class _Checkpoint:
    """Where the open span began: the letter's length, the scanner and the scores there, the token taken."""

    n: int
    scanner: Scanner
    logits: np.ndarray
    token: int
    temperature: float | None
    top_p: float = 1.0


@dataclass
class Event:
    n: int
    kind: str  # held | rewind | missing
    klass: str
    blocked: str
    written: str = ""
    start: int = -1


@dataclass
class SequenceGate:
    """The gate for one letter (see the module docstring)."""

    allowed: AllowedNumbers
    table: TokenTable
    encode: object  # text -> token ids (the missing-value marker)
    lang: str = "de"
    max_rewinds: int = 3
    min_p: float = MIN_P
    stops: frozenset = frozenset()
    ids: list[int] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)

    def __post_init__(self):
        self.sc = Scanner()
        self.ckpt: _Checkpoint | None = None
        self.bans: dict[int, set[int]] = {}
        self.rewinds: dict[int, int] = {}
        self.forced: list[int] = []
        self._after_rewind = False
        self.rng = np.random.default_rng(0)

    # ------------------------------------------------------------------ one step

    def choose(self, logits: np.ndarray, temperature: float | None = None, top_p: float = 1.0) -> tuple[int, int]:
        """The next token for scores ``logits`` (greedy, or sampled at ``temperature`` with ``top_p``), as
        (tokens to keep, token to append)."""
        if self.forced:
            tok = self.forced.pop(0)
            self._take(tok, self._fed(tok), None)
            return len(self.ids) - 1, tok
        n = len(self.ids)
        # right after a rewind the model's own choice here was barred: its next best must clear min_p too
        held = ("plain", None, "") if self._after_rewind else None
        self._after_rewind = False
        probs = None
        for tok in self._candidates(logits, n, temperature, top_p):
            verdict, sc, info = self._try(tok)
            if held is None and verdict == "ok":
                self._take(tok, sc, logits if (self.sc.idle and not sc.idle) else None, temperature, top_p)
                return n, tok
            if held is None and verdict == "rewind":
                return self._rewind(info)
            if held is None:
                held = info
                self.events.append(Event(n, "held", info[0], self.table.texts[tok]))
                continue
            if verdict != "ok":
                continue
            # the model's own choice was held: another token must be one it finds likely too ("15.3." for
            # "15.4." where only the first is the case's), else the number it meant is not the case's
            if probs is None:
                z = logits.astype(np.float64) / (temperature or 1.0)
                probs = np.exp(z - z.max())
                probs /= probs.sum()
            if probs[tok] >= self.min_p:
                self._take(tok, sc, logits if (self.sc.idle and not sc.idle) else None, temperature, top_p)
                return n, tok
            break
        if self.ckpt is not None and self.sc.span is not None:
            return self._rewind(held or (self.sc.klass, None, self.sc.span))
        return self._missing(held or ("plain", None, ""))

    def _candidates(self, logits: np.ndarray, n: int, temperature: float | None, top_p: float):
        banned = self.bans.get(n, set())
        if temperature is None:
            top = int(np.argmax(logits))
            if top not in banned:
                yield top
            k = min(TOP_K, logits.shape[0] - 1)
            idx = np.argpartition(-logits, k)[:k]
            for t in idx[np.argsort(-logits[idx])]:
                t = int(t)
                if t != top and t not in banned:
                    yield t
            return
        z = logits.astype(np.float64) / max(temperature, 1e-5)
        z -= z.max()
        p = np.exp(z)
        p /= p.sum()
        order = np.argsort(-p)
        keep = order[: int(np.searchsorted(np.cumsum(p[order]), top_p) + 1)]
        q = np.zeros_like(p)
        q[keep] = p[keep]
        for t in banned:
            q[t] = 0.0
        for _ in range(TOP_K):
            s = q.sum()
            if s <= 0:
                return
            t = int(self.rng.choice(q.shape[0], p=q / s))
            q[t] = 0.0
            yield t

    def _try(self, tok: int):
        """('ok', scanner after the token, None) or a verdict why not: 'skip' (the model may take another
        token here), 'rewind' (the number before it cannot end here)."""
        sc0 = self.sc
        text = self.table.texts[tok]
        if self.table.foreign[tok]:
            return "skip", None, (lead_class(sc0.tail) if sc0.span is None else sc0.klass, None, text)
        if sc0.idle and not self.table.digit[tok] and tok not in self.stops:
            sc = sc0.copy()
            for c in text:
                sc.feed(c)
            return "ok", sc, None
        sc = sc0.copy()
        begin = sc0.pos
        events = []
        for c in text:
            events += sc.feed(c)
            bad = self._bad(events, begin)
            if bad:
                return bad
            events = []
            if sc.span is not None and not self.allowed.prefix_ok(sc.klass, sc.span):
                # a join after a whole allowed span may be the text's own punctuation ("2029." "Grad 1,")
                if not (sc.span[-1] in JOINS and self.allowed.complete_ok(sc.klass, sc.span[:-1])):
                    return "skip", None, (sc.klass, None, sc.span)
        if tok in self.stops:
            bad = self._bad(sc.finish(), begin)
            if bad:
                return bad
        return "ok", sc, None

    def _bad(self, events, begin: int):
        for ev in events:
            if isinstance(ev, Closed) and not self.allowed.complete_ok(ev.klass, ev.span):
                return ("rewind" if ev.start < begin else "skip"), None, (ev.klass, None, ev.span)
            if isinstance(ev, Unit) and not self.allowed.unit_ok(ev.closed.span, ev.unit):
                return ("rewind" if ev.closed.start < begin else "skip"), None, (ev.closed.klass, ev.unit, ev.closed.span)
        return None

    def _take(self, tok: int, sc: Scanner, logits, temperature: float | None = None, top_p: float = 1.0) -> None:
        if logits is not None:  # this token began a span: remember where, to come back
            self.ckpt = _Checkpoint(len(self.ids), self.sc.copy(), np.array(logits, copy=True), tok, temperature, top_p)
        elif sc.idle:
            self.ckpt = None
        self.ids.append(tok)
        self.sc = sc

    def _rewind(self, info) -> tuple[int, int]:
        klass, unit, what = info
        ck = self.ckpt
        n = ck.n
        self.events = [e for e in self.events if e.n < n]
        wanted = "".join(self.table.texts[t] for t in self.ids[n:])
        self.events.append(Event(n, "rewind", klass, (wanted + (f" {unit}" if unit and not unit.startswith("mon:") else "")).strip()))
        self.bans = {k: v for k, v in self.bans.items() if k <= n}
        self.bans.setdefault(n, set()).add(ck.token)
        self.rewinds[n] = self.rewinds.get(n, 0) + 1
        del self.ids[n:]
        self.sc, self.ckpt = ck.scanner, None
        if self.rewinds[n] > self.max_rewinds:
            return self._missing((klass, unit, self.sc.tail))
        self._after_rewind = True
        keep, tok = self.choose(ck.logits, ck.temperature, ck.top_p)
        return n, tok

    def _missing(self, info) -> tuple[int, int]:
        klass, unit, _ = info
        words = _KIND_WORDS.get(self.lang, _KIND_WORDS["en"])
        marker = MISSING.get(self.lang, MISSING["en"]).format(words[_kind(klass, unit, self.sc.tail)])
        n = len(self.ids)
        self.events.append(Event(n, "missing", klass, "", marker))
        ids = list(self.encode(marker))
        self.forced = ids[1:]
        self._take(ids[0], self._fed(ids[0]), None)
        return n, ids[0]

    def _fed(self, tok: int) -> Scanner:
        sc = self.sc.copy()
        for c in self.table.texts[tok]:
            sc.feed(c)
        return sc

    # ------------------------------------------------------------------ after the letter

    def report(self, decode, ids: list[int] | None = None, strip: bool = True) -> dict:
        """The draft's grounding record: every intervention with its character offset in the final text
        (``decode(ids)`` as the engine decodes; leading whitespace stripped as drafts are), what the model
        wanted (``blocked``) and what the letter says there (``written``), and the numbers the letter writes."""
        ids = self.ids if ids is None else ids
        full = decode(ids)
        lead = len(full) - len(full.lstrip()) if strip else 0
        text = full.strip() if strip else full
        sp = spans(text)
        out = []
        for e in self.events:
            if e.n > len(ids):
                continue
            pos = max(0, len(decode(ids[: e.n])) - lead)
            # the decoded prefix may end in a space the next token's text starts with
            while pos < len(text) and text[pos].isspace():
                pos += 1
            written = e.written
            if not written:
                s = next((s for s in sp if s.start >= pos), None)
                written = text[s.start : s.end] if s is not None and s.start - pos <= 3 else text[pos : pos + 12].split("\n")[0]
            out.append({"start": pos, "kind": e.kind, "class": e.klass, "blocked": e.blocked, "written": written})
        return {"on": True, "numbers": len(sp), "interventions": out}


def audit(text: str, allowed: AllowedNumbers) -> list[dict]:
    """Numbers of a finished ``text`` the gate would not have let through (class, unit): for drafts from an
    engine the gate could not run in (a server without grammar support)."""
    from medletter.grounding.spans import scan

    out = []
    for ev in scan(text):
        if isinstance(ev, Closed) and not allowed.complete_ok(ev.klass, ev.span):
            out.append({"start": ev.start, "end": ev.end, "class": ev.klass, "value": ev.span})
        elif isinstance(ev, Unit) and not allowed.unit_ok(ev.closed.span, ev.unit):
            out.append({"start": ev.closed.start, "end": ev.closed.end, "class": ev.closed.klass, "value": ev.closed.span,
                        "unit": ev.unit})
    return out
