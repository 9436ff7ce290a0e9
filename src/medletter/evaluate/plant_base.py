"""What a planted error is (:class:`Planted`), and the two edits every planter makes: replace text, drop text."""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass
class Planted:
    kind: str
    text: str
    spans: list[tuple[int, int]] = field(default_factory=list)
    """Offsets of the edited text in the new letter (edit kinds)."""
    missing: str | None = None
    """The expected-fact kind the edit removes (drop kinds)."""
    in_set: bool = False
    note: str = ""


def _replace(text: str, edits: list[tuple[int, int, str]]) -> tuple[str, list[tuple[int, int]]]:
    """Apply non-overlapping edits (start, end, new); return the text and the new spans."""
    out, spans, pos, shift = [], [], 0, 0
    for a, b, new in sorted(edits):
        out.append(text[pos:a])
        spans.append((a + shift, a + shift + len(new)))
        out.append(new)
        shift += len(new) - (b - a)
        pos = b
    out.append(text[pos:])
    return "".join(out), spans


def _drop(text: str, a: int, b: int) -> str:
    """Remove text[a:b] with one separator (', ', '; ') beside it."""
    before, after = text[:a], text[b:]
    m = re.search(r"(?:,|;)\s*$", before)
    if m:
        before = before[: m.start()]
    else:
        after = re.sub(r"^\s*(?:,|;)\s*", "", after, count=1)
    return before + after
