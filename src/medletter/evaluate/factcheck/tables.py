"""Tables a hospital system prints: the radiotherapy series as rows under a header ("Serie | Zielvolumen | ED (Gy) |
Fx | GD (Gy) | Beginn | Ende", aligned columns, ';'-separated values, Markdown pipes), and the toxicities with a
grade column. A cell gets its meaning from its column's header, so a bare "2,67" under "ED (Gy)" is a dose per
fraction and a bare "15" under "Fx" a fraction count. Text only: nothing here knows a case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from medletter.evaluate.factcheck.text import num

ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5}
_HEADERS = {
    "dpf": r"(?:ED|EZD|Einzeldosis|Dose/fx|Dose per fraction|Fraction dose|Dose/fraction|Fraktionsdosis)",
    "fx": r"(?:Fx|Fraktionen|Fractions|Anzahl(?: Fx| Fraktionen)?|Anz\.?|No\. of fractions|n)",
    "total": r"(?:GD|Gesamtdosis|Total|Total dose|Dose total)",
    "start": r"(?:Beginn|Start|von|from|Start date|Anfang)",
    "end": r"(?:Ende|End|bis|to|End date)",
    "target": r"(?:Zielvolumen|Target|Zielgebiet|Region|Target volume|Bestrahlungsregion)",
    "grade": r"(?:(?:CTCAE[\s-]*(?:v5(?:\.0)?)?[\s-]*)?(?:Grad|Grade|Schweregrad))",
}
_UNIT = r"(?:\s*[\[(](?:Gy|CTCAE[^)\]]*)[\])]|\s*/?\s*Gy)?"
_HEADER_RES = {k: re.compile(rf"^\s*{p}{_UNIT}\s*$", re.I) for k, p in _HEADERS.items()}
_NUMBER = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*(?:Gy)?\s*$")
_GRADE_VALUE = re.compile(r"^\s*(?:Grad\s*|grade\s*|G)?(IV|I{1,3}|[0-5])°?\s*$")


@dataclass
class Row:
    """One row of a table: its cells by column meaning, as (start, end, value) with offsets in the letter."""

    cells: dict = field(default_factory=dict)
    start: int = 0
    end: int = 0


def cells(line: str, sep: str | None = None) -> tuple[list[tuple[int, int]], str]:
    """A table row's cells as (start, end) offsets in the line, and the separator: '|', ';' or a gap of two spaces."""
    if sep is None:
        sep = "|" if line.count("|") >= 2 else ";" if line.count(";") >= 2 else "  "
    pat = {"|": r"\|", ";": ";", "  ": r"\s{2,}|\t"}[sep]
    out, pos = [], 0
    for m in list(re.finditer(pat, line)) + [None]:
        end = m.start() if m else len(line)
        piece = line[pos:end]
        if piece.strip():
            a = pos + len(piece) - len(piece.lstrip())
            out.append((a, a + len(piece.strip())))
        pos = m.end() if m else len(line)
    return out, sep


def tables(text: str) -> list[list[Row]]:
    """Every table whose header names at least one column of meaning (dose, fractions, grade, dates, target), as rows
    of its meaningful cells, the rows up to a blank line or a line that is no row of the table."""
    lines = text.split("\n")
    offs, o = [], 0
    for ln in lines:
        offs.append(o)
        o += len(ln) + 1
    out = []
    i = 0
    while i < len(lines):
        head, sep = cells(lines[i])
        cols = {}
        for k, (a, b) in enumerate(head):
            for name, rx in _HEADER_RES.items():
                if name not in cols and rx.match(lines[i][a:b]):
                    cols[name] = (k, a, b)
                    break
        if len(head) < 2 or not cols or (set(cols) <= {"start", "end", "target"}):
            i += 1
            continue
        rows = []
        j = i + 1
        while j < len(lines) and lines[j].strip():
            line = lines[j]
            if re.fullmatch(r"[\s|:+-]*", line):  # a Markdown separator row
                j += 1
                continue
            cs, _ = cells(line, sep)
            if len(cs) < 2:
                break
            row = Row(start=offs[j], end=offs[j] + len(line))
            for name, (k, a, b) in cols.items():
                if sep in "|;":
                    cell = cs[k] if k < len(cs) and len(cs) == len(head) else None
                else:  # aligned columns: the cell under the header (most overlap, then the nearest left edge)
                    near = [(min(y, b + 1) - max(x, a - 1), -abs(x - a), (x, y)) for x, y in cs if x <= b + 1 and y >= a - 1]
                    cell = max(near)[2] if near else None
                if cell is not None:
                    row.cells[name] = (offs[j] + cell[0], offs[j] + cell[1], line[cell[0]:cell[1]])
            rows.append(row)
            j += 1
        if rows:
            out.append(rows)
        i = j
    return out


def table_values(text: str):
    """(doses, fraction counts, grades, rows) from the tables' columns: doses and counts as (start, end, value) for
    the cells that give them bare ("2,67" under "ED (Gy)"), grades likewise, and each row's cells for the dose
    statements and date ranges of the series."""
    doses, fracs, grades, rows = [], [], [], []
    for tab in tables(text):
        for row in tab:
            for name in ("dpf", "total"):
                if name in row.cells:
                    a, b, v = row.cells[name]
                    m = _NUMBER.match(v)
                    if m and "Gy" not in v:
                        doses.append((a + m.start(1), a + m.end(1), num(m.group(1))))
            if "fx" in row.cells:
                a, b, v = row.cells["fx"]
                m = re.match(r"^\s*(\d{1,2})\s*$", v)
                if m:
                    fracs.append((a + m.start(1), a + m.end(1), int(m.group(1))))
            if "grade" in row.cells:
                a, b, v = row.cells["grade"]
                m = _GRADE_VALUE.match(v)
                if m:
                    g = m.group(1)
                    grades.append((a + m.start(1), a + m.end(1), ROMAN[g] if g in ROMAN else int(g)))
            if {"dpf", "fx", "total"} & set(row.cells):
                rows.append(row)
    return doses, fracs, grades, rows
