"""How letters write numbers and dates (German and English), shared by the corpus, the prompt and the checks."""

from __future__ import annotations

import datetime as dt

from medletter import months as MO


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

MONTHS = {"de": list(MO.MONTHS_DE), "en": list(MO.MONTHS_EN)}

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
