"""Building letter text and its PHI spans together, and writing numbers and dates the way letters do.

A :class:`Builder` appends literal text and labelled pieces (:class:`Phi`); it records the offset
of every labelled piece as it goes, so spans are exact by construction (nothing is searched for
afterwards).
"""

from __future__ import annotations

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
