"""Number spans in letter text, read one character at a time: what the gate holds to the case.

A *span* starts at an ASCII digit and runs over digits and the characters that join digit groups:
``.`` and ``,`` (decimals, dates: "40,05", "4.4.2029"), ``:`` (times), and ``/`` and ``-`` ("03/2029",
"6-8", "6–8", "2029-03-04"). A joining character belongs to the span only when a digit follows it ("2029." at a
sentence's end is the span "2029"). A span has a *class*, read from the text right before its first digit:

``tnm:T`` / ``tnm:N`` / ``tnm:M`` / ``tnm:Pn``
    a TNM category letter with its prefixes ("pT1c", "ypN0", "cM0"); in these classes the span also takes
    the lower-case letters after the digits ("1c", "1mi").
``code:X``
    one capital letter alone before the digits: ICD-10 codes ("C50.4"), "G2", "L0", "V1", "R0".
``word:ABC``
    a word that runs into the digits ("HER2", "IDH1", "v5.0"): its last letters.
``grade``
    after "Grad", "grade", "CTCAE" or "°" ("Grad 2", "CTCAE-Grad 3", "°2").
``plain``
    everything else: doses, fraction counts, dates, ages, intervals, telephone numbers.

:class:`Scanner` is the state machine the gate runs token by token (``feed`` a character, ask what a
character would do); :func:`scan` runs it over a whole text. Both sides use the same machine: the allowed
keys are the spans of the case's values rendered as letters write them (:mod:`medletter.grounding.keys`),
so a letter's span is allowed exactly when the same text scanned from the case gave it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from medletter import months as MO

STRICT_JOINS = ".,:"
"""Joins whose whole span must be a key ("4.4.2029": not three allowed numbers that make a wrong date)."""
LOOSE_JOINS = "/-–"
"""Joins whose span may be its parts when it has two ("50,4/1,8", "6-8"); three groups must be a key whole."""
JOINS = STRICT_JOINS + LOOSE_JOINS
TAIL = 24
"""Characters of text kept before a span to read its class."""

_L = "A-Za-zÄÖÜäöüß"
_TNM = re.compile(rf"(?:(?<![{_L}])|(?<=[0-9][a-dmi]))(?:y|r|a|yp|yc|p|c)?([TNM])$")
_PN = re.compile(rf"(?<![{_L}])Pn$")
_CODE = re.compile(rf"(?<![{_L}])([A-Z])$")
_WORD = re.compile(rf"([{_L}]+)$")
_GRADE = re.compile(r"(?:\bGrad|\bgrade|\bGrade|\bGRAD|\bGRADE|CTCAE(?:[\s-]*v?5(?:\.0)?)?|°)[\s:-]*$")


def lead_class(tail: str) -> str:
    """The class of a span that would start right after ``tail`` (see the module docstring)."""
    if m := _TNM.search(tail):
        return f"tnm:{m.group(1)}"
    if _PN.search(tail):
        return "tnm:Pn"
    if m := _CODE.search(tail):
        return f"code:{m.group(1)}"
    if _GRADE.search(tail):
        return "grade"
    if m := _WORD.search(tail):
        w = m.group(1)
        return "plain" if w in ("x", "X") else f"word:{w[-4:]}"
    return "plain"


_UNIT_WORD = re.compile(r"^(\.?)[ \t]{0,2}-?[ \t]?([A-Za-zÄÖÜäöüß×]+)\.?(?=[^A-Za-zÄÖÜäöüß])")
_UNIT_SOFAR = re.compile(r"\.?[ \t]{0,2}-?[ \t]?[A-Za-zÄÖÜäöüß×]*\.?")
_MONTHS = {w.lower(): n for w, n in MO.NUMBER.items()}
UNITS = {
    "Gy": r"Gy|Gray",
    "fx": r"x|×|Fx|fx|Fraktion\w*|fraction\w*|Sitzung\w*|session\w*|Bestrahlung\w*",
    "w": r"Wo|Woche\w*|wk|wks|week\w*",
    "m": r"Mo|Mon|Monat\w*|month\w*|mo|mos",
    "y": r"J|Jahr\w*|j[äa]hrig\w*|y|yr|yrs|year\w*",
    "d": r"d|Tag\w*|day\w*",
}
"""A number's unit, read from the word right after it ("40,05 Gy", "15 x", "6 Wochen", "67-jährige")."""
_UNIT_RES = [(u, re.compile(rf"(?:{p})$")) for u, p in UNITS.items()]


def unit_of(word: str, dotted: bool = False) -> str | None:
    """The unit a word names; after a dot ("4. April") only a month counts (the day of that month: "mon:4"),
    since "die 10. Fraktion" counts fractions, not the number 10 of them."""
    n = _MONTHS.get(word.lower())
    if n is not None and (word[0].isupper() or dotted):
        return f"mon:{n}"
    if dotted:
        return None
    for u, rx in _UNIT_RES:
        if rx.match(word):
            return u
    return None


def numeric(span: str):
    """The value a span stands for when it is one number ("40,05" -> 40.05), else the span itself
    ("6-8", "4.4.2029") with dashes made one."""
    if re.fullmatch(r"\d+(?:[.,]\d+)?", span):
        return round(float(span.replace(",", ".")), 3)
    return span.replace("–", "-")


def is_digit(c: str) -> bool:
    return "0" <= c <= "9"


def foreign_digit(c: str) -> bool:
    """A decimal digit of another script ("٣", "３", "३"): never written (it would slip past the gate)."""
    return c.isdecimal() and not is_digit(c)


@dataclass
class Closed:
    """A finished span: its class, its text, and its offsets in the scanned text."""

    klass: str
    span: str
    start: int
    end: int


@dataclass
class Unit:
    """The unit word read after a finished span (``unit`` None: the span has none)."""

    closed: Closed
    unit: str | None


_TNM_LETTERS = "abcdmi"


class Scanner:
    """The spans of a text, fed one character at a time.

    State: the last :data:`TAIL` characters before the open span (``tail``), the open span (``span``, None
    when none is open; it may end in a joining character that a digit has not yet confirmed), its class and
    where it started, and after a span has closed the text after it until its unit is known (``after``).
    ``feed`` returns the events a character caused: a :class:`Closed` span, a :class:`Unit` read after one.
    """

    __slots__ = ("tail", "span", "klass", "start", "pos", "last", "after")

    def __init__(self, tail: str = "", pos: int = 0):
        self.tail, self.span, self.klass, self.start, self.pos = tail[-TAIL:], None, "", 0, pos
        self.last: Closed | None = None
        self.after = ""

    def copy(self) -> "Scanner":
        s = Scanner.__new__(Scanner)
        s.tail, s.span, s.klass, s.start, s.pos, s.last, s.after = (self.tail, self.span, self.klass, self.start, self.pos,
                                                                      self.last, self.after)
        return s

    @property
    def idle(self) -> bool:
        """No span open and no unit awaited: a character without digits cannot matter."""
        return self.span is None and self.last is None

    def _takes(self, c: str) -> bool:
        s = self.span
        if is_digit(c):
            return True
        if c in JOINS:
            if s[-1] in JOINS:
                return False
            # "16/11/2026–20/11/2026" is two spans; "2029-03-04", "6–8", "50,4/1,8" are one
            if c in "-–":
                return all(x == c for x in s if x in JOINS)
            if c == "/":
                return not any(x in "-–" for x in s)
            return True
        # in a TNM class the span goes on over the letters after its digits ("1c", "1mi")
        if self.klass.startswith("tnm:") and c in _TNM_LETTERS and s[-1] not in JOINS:
            letters = len(s) - len(s.rstrip(_TNM_LETTERS))
            return letters < 2
        return False

    def feed(self, c: str) -> list:
        out: list = []
        if self.span is not None:
            if self._takes(c):
                self.span += c
                self.pos += 1
                return out
            out.append(self._close())
        if self.last is not None:
            u = self._unit(c)
            if u is not None:
                out.append(u)
        if is_digit(c):
            self.klass, self.span, self.start = lead_class(self.tail), c, self.pos
        else:
            self.tail = (self.tail + c)[-TAIL:]
        self.pos += 1
        return out

    def _unit(self, c: str) -> Unit | None:
        """Read the text after the last span; a Unit once its first word is complete (or none can come)."""
        if is_digit(c):
            last, self.last, self.after = self.last, None, ""
            return Unit(last, None)
        self.after += c
        m = _UNIT_WORD.match(self.after)
        if m:
            last, self.last, self.after = self.last, None, ""
            return Unit(last, unit_of(m.group(2), bool(m.group(1))))
        if len(self.after) > 14 or not _UNIT_SOFAR.fullmatch(self.after):
            last, self.last, self.after = self.last, None, ""
            return Unit(last, None)
        return None

    def _close(self) -> Closed:
        s = self.span
        pending = s[-1] in JOINS
        value = s[:-1] if pending else s
        out = Closed(self.klass, value, self.start, self.start + len(value))
        self.tail = (self.tail + value)[-TAIL:]
        self.span = None
        self.last, self.after = out, s[-1] if pending else ""
        if pending:
            # the join was the text's own ("2029." ending a sentence): the unit reader sees it
            self.tail = (self.tail + s[-1])[-TAIL:]
            if not _UNIT_SOFAR.fullmatch(self.after):
                self.last, self.after = None, ""
                return out
        return out

    def finish(self) -> list:
        """The events the end of the text causes (a span still open, a unit still awaited)."""
        out: list = []
        if self.span is not None:
            out.append(self._close())
        if self.last is not None:
            m = _UNIT_WORD.match(self.after + " ")
            out.append(Unit(self.last, unit_of(m.group(2), bool(m.group(1))) if m else None))
            self.last, self.after = None, ""
        return out


def scan(text: str) -> list:
    """Every event of ``text``: each span (:class:`Closed`, with its class and offsets) and the unit read
    after it (:class:`Unit`)."""
    sc = Scanner()
    out: list = []
    for c in text:
        out.extend(sc.feed(c))
    out.extend(sc.finish())
    return out


def spans(text: str) -> list[Closed]:
    return [e for e in scan(text) if isinstance(e, Closed)]
