"""Dates shifted in their textual formats: "04.04.2029" stays DD.MM.YYYY, "März 2029" becomes another
month's name, "04/2029" stays MM/YYYY, by an offset in days.

    shift_date_text("27. März 2025", 40)   -> "6. Mai 2025"
    parse_date_text("04.04.29")            -> date(2029, 4, 4)

Month names come from the package's table (:mod:`medletter.months`), through the rules' reading of
them (:data:`medletter.privacy.patterns.MONTH_NUM`).
"""

from __future__ import annotations

import datetime as dt

import regex as re

from medletter import months as MO
from medletter.privacy import patterns as P

_MONTH_ALT = "|".join(sorted(P.MONTH_NUM, key=len, reverse=True))


def case_like(template: str, value: str) -> str:
    """``value`` in the case of ``template``: all capitals, all small letters, or as it is."""
    if len(template) > 1 and template.isupper():
        return value.upper()
    if template.islower():
        return value.lower()
    return value


def _y2(y2: int, pivot: int = 40) -> int:
    return 2000 + y2 if y2 < pivot else 1900 + y2


def _safe_date(y: int, m: int, d: int) -> dt.date | None:
    try:
        return dt.date(y, m, d)
    except ValueError:
        return None


def _fmt_num(template: str, value: int) -> str:
    return f"{value:0{len(template)}d}" if template.startswith("0") or len(template) == 2 and value >= 10 else str(value)


def shift_date_text(text: str, offset: int, context_year: int = 2001, next_date: dt.date | None = None,
                    anchors: dict[tuple[int, int], int] | None = None) -> str | None:
    """``text`` (a date as letters write it) shifted by ``offset`` days in the same format; None if
    it cannot be read as a date. A date without a day ("März 2029", "04/2029") is shifted as the
    day of a known date in that month (``anchors``: (year, month) -> day), else as the 15th, so that
    it moves with the full dates of the case."""
    delta = dt.timedelta(days=offset)
    anchors = anchors or {}
    s = text
    # ISO 2029-04-04
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", s)
    if m:
        d = _safe_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        return (d + delta).isoformat() if d else None
    # 04.04.2029, 4.4.97, 23.04 2029, 10. 03. 2043, 21/06/1967, 26 09.2033
    m = re.fullmatch(r"(\d{1,2})(\s?[./]\s?|\s)(\d{1,2})(\s?[./ ]\s?)(\d{4}|\d{2})", s)
    if m:
        dd, s1, mm, s2, yy = m.groups()
        year = int(yy) if len(yy) == 4 else _y2(int(yy))
        d = _safe_date(year, int(mm), int(dd))
        if not d:
            return None
        n = d + delta
        ys = str(n.year) if len(yy) == 4 else f"{n.year % 100:02d}"
        return f"{_fmt_num(dd, n.day)}{s1}{_fmt_num(mm, n.month)}{s2}{ys}"
    # 19.3. / 05.11 (day and month)
    m = re.fullmatch(r"(\d{1,2})\.(\d{1,2})(\.?)", s)
    if m:
        dd, mm, dot = m.groups()
        d = _safe_date(next_date.year if next_date else context_year, int(mm), int(dd))
        if not d:
            return None
        n = d + delta
        return f"{_fmt_num(dd, n.day)}.{_fmt_num(mm, n.month)}{dot}"
    # month names: 27. März 2025, 13.Juli 2025, März 2029, Oktober\n2012, Juni, March 4, 2029, 4 March 2029
    m = re.fullmatch(rf"(?:(\d{{1,2}})(\.?\s*))?({_MONTH_ALT})(\.?)(?:(\s*)(\d{{1,2}})(,))?(?:(\s*)('?)(\d{{4}}|\d{{2}}))?", s,
                     flags=re.IGNORECASE)
    if m:
        dd, sep1, mon, mdot, sp_d, dd2, comma, sp_y, apo, yy = m.groups()
        month = P.MONTH_NUM.get(mon.lower())
        if not month:
            return None
        day_s = dd or dd2
        year = int(yy) if yy and len(yy) == 4 else (_y2(int(yy)) if yy else context_year)
        d = _safe_date(year, month, int(day_s) if day_s else anchors.get((year, month), 15))
        if not d:
            return None
        n = d + delta
        english = mon.lower() in {x.lower() for x in MO.MONTHS_EN} and mon.lower() not in {x.lower() for x in MO.MONTHS_DE}
        names = MO.MONTHS_EN if english else MO.MONTHS_DE
        new_mon = names[n.month - 1]
        if len(mon) <= 4 and mdot:  # abbreviation "Jan."
            new_mon = new_mon[:3]
        new_mon = case_like(mon, new_mon)
        out = ""
        if dd:
            out += f"{_fmt_num(dd, n.day)}{sep1}"
        out += new_mon + (mdot or "")
        if dd2:
            out += f"{sp_d}{_fmt_num(dd2, n.day)}{comma}"
        if yy:
            out += f"{sp_y}{apo}" + (str(n.year) if len(yy) == 4 else f"{n.year % 100:02d}")
        return out
    # 04/2029, 8/2023, 11/28, 07.2025, 02-04/2021
    m = re.fullmatch(r"(\d{1,2})(?:([-–])(\d{1,2}))?(\s?[/.]\s?)(\d{4}|\d{2})", s)
    if m:
        m1, dash, m2, sep, yy = m.groups()
        year = int(yy) if len(yy) == 4 else _y2(int(yy))
        parts = []
        for mm in (m1, m2):
            if mm is None:
                continue
            d = _safe_date(year, int(mm), anchors.get((year, int(mm)), 15))
            if not d:
                return None
            parts.append((mm, d + delta))
        n_last = parts[-1][1]
        ys = str(n_last.year) if len(yy) == 4 else f"{n_last.year % 100:02d}"
        ms = [_fmt_num(mm, n.month) for mm, n in parts]
        return (f"{ms[0]}{dash}{ms[1]}" if dash else ms[0]) + f"{sep}{ys}"
    # a year
    m = re.fullmatch(r"(\d{4})", s)
    if m:
        known = sorted((mo, da) for (yy, mo), da in anchors.items() if yy == int(s))
        d = _safe_date(int(s), *known[0]) if known else _safe_date(int(s), 7, 2)
        return str((d + delta).year) if d else None
    # the first day of a range ("4." in "vom 4. bis 18.10.21")
    m = re.fullmatch(r"(\d{1,2})(\.?)", s)
    if m and next_date:
        d = _safe_date(next_date.year, next_date.month, int(m.group(1)))
        if not d:
            return None
        return f"{_fmt_num(m.group(1), (d + delta).day)}{m.group(2)}"
    return None


def parse_date_text(text: str, context_year: int = 2001) -> dt.date | None:
    """The date a full date string denotes (for context), or None."""
    m = re.fullmatch(r"(\d{1,2})\s?[./]\s?(\d{1,2})\s?[./ ]\s?(\d{4}|\d{2})", text)
    if m:
        y = int(m.group(3)) if len(m.group(3)) == 4 else _y2(int(m.group(3)))
        return _safe_date(y, int(m.group(2)), int(m.group(1)))
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text)
    if m:
        return _safe_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    m = re.fullmatch(r"(\d{1,2})\.(\d{1,2})\.?", text)
    if m:
        return _safe_date(context_year, int(m.group(2)), int(m.group(1)))
    return None
