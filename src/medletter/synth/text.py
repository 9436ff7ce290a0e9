"""Building letter text and its PHI spans together, and writing numbers and dates the way letters do.

A :class:`Builder` appends literal text and labelled pieces (:class:`Phi`); it records the offset
of every labelled piece as it goes, so spans are exact by construction (nothing is searched for
afterwards).
"""

from __future__ import annotations

import datetime as dt
import string
from dataclasses import dataclass
from typing import Union

from medletter.records import PHI_LABELS, Span

_FORMATTER = string.Formatter()


@dataclass(frozen=True)
class Phi:
    """A piece of patient information: its text and its label (one of ``records.PHI_LABELS``)."""

    text: str
    label: str

    def __post_init__(self) -> None:
        if self.label not in PHI_LABELS:
            raise ValueError(f"unknown PHI label {self.label!r}")
        if not self.text or self.text != self.text.strip():
            raise ValueError("a PHI piece must be non-empty and carry no surrounding whitespace")


Piece = Union[str, Phi, "Builder", None, list, tuple]


class Builder:
    """Text plus the PHI spans in it."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._spans: list[tuple[int, int, str, str]] = []
        self._len = 0

    def __len__(self) -> int:
        return self._len

    def add(self, *pieces: Piece) -> "Builder":
        for p in pieces:
            if p is None or (isinstance(p, str) and not p):
                continue
            if isinstance(p, (list, tuple)):
                self.add(*p)
            elif isinstance(p, Phi):
                self._spans.append((self._len, self._len + len(p.text), p.label, p.text))
                self._parts.append(p.text)
                self._len += len(p.text)
            elif isinstance(p, Builder):
                for s, e, label, text in p._spans:
                    self._spans.append((s + self._len, e + self._len, label, text))
                self._parts.extend(p._parts)
                self._len += p._len
            elif isinstance(p, str):
                self._parts.append(p)
                self._len += len(p)
            else:  # pragma: no cover - programming error
                raise TypeError(f"cannot add {type(p).__name__}")
        return self

    def t(self, template: str, **fields: Piece) -> "Builder":
        """Append ``template`` with ``{name}`` fields replaced by pieces (strings, Phi, lists)."""
        for literal, name, _spec, _conv in _FORMATTER.parse(template):
            self.add(literal)
            if name is not None:
                self.add(fields[name])
        return self

    @property
    def text(self) -> str:
        return "".join(self._parts)

    def spans(self, offset: int = 0) -> list[Span]:
        return [Span(start=s + offset, end=e + offset, label=label, text=text) for s, e, label, text in self._spans]

    def span_tuples(self) -> list[tuple[int, int, str, str]]:
        return list(self._spans)


def join(pieces: list[Piece], sep: str = ", ", last: str | None = None) -> list[Piece]:
    """Pieces joined by ``sep`` (and ``last`` before the final one, e.g. " und ")."""
    out: list[Piece] = []
    for i, p in enumerate(pieces):
        if i:
            out.append(last if (last is not None and i == len(pieces) - 1) else sep)
        out.append(p)
    return out


# ---------------------------------------------------------------------------------------------
# numbers

def fmt_num(x: float, lang: str) -> str:
    """40.05 -> "40,05" (de) / "40.05" (en); 60.0 -> "60"; 1.8 -> "1,8"."""
    if abs(x - round(x)) < 1e-9:
        s = str(int(round(x)))
    else:
        s = f"{x:.2f}".rstrip("0").rstrip(".")
    return s.replace(".", ",") if lang == "de" else s


def fmt_gy(x: float, lang: str) -> str:
    return f"{fmt_num(x, lang)} Gy"


# ---------------------------------------------------------------------------------------------
# dates

MONTHS = {
    "de": ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September",
           "Oktober", "November", "Dezember"],
    "en": ["January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December"],
}

DATE_FORMATS = ("dd.mm.yyyy", "d.m.yyyy", "d month yyyy", "dd/mm/yyyy", "month yyyy", "yyyy")


def fmt_date(d: dt.date, fmt: str, lang: str) -> str:
    if fmt == "dd.mm.yyyy":
        return f"{d.day:02d}.{d.month:02d}.{d.year}"
    if fmt == "d.m.yyyy":
        return f"{d.day}.{d.month}.{d.year}"
    if fmt == "dd/mm/yyyy":
        return f"{d.day:02d}/{d.month:02d}/{d.year}"
    if fmt == "d month yyyy":
        sep = ". " if lang == "de" else " "
        return f"{d.day}{sep}{MONTHS[lang][d.month - 1]} {d.year}"
    if fmt == "month yyyy":
        return f"{MONTHS[lang][d.month - 1]} {d.year}"
    if fmt == "yyyy":
        return str(d.year)
    raise ValueError(f"unknown date format {fmt!r}")


def age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))
