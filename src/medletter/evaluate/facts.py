"""Fact checks of a letter against its case: the public face of :mod:`medletter.evaluate.factcheck`.

*Fact recall* is the share of the facts a letter should carry (from the case) that it carries. *Unsupported
facts* are statements of a checkable kind that the case does not back, or that bind a value of the case to the
wrong thing (a grade to another toxicity, a date to another event, fractions × dose per fraction ≠ total,
another course's numbers, the wrong side, a code to another diagnosis), and codes that are none. Each comes as
a :class:`Flag` with its character offsets in the letter, so a reviewer's view can highlight it in place:
``FactReport.flags`` / ``FactReport.flags_json()``.
"""

from __future__ import annotations

from medletter.evaluate.factcheck import check_letter
from medletter.evaluate.factcheck.model import FactReport, Flag
from medletter.evaluate.factcheck.values import (extract_dates, extract_doses, extract_fractions, extract_grades, extract_icd10,
                                                 extract_intervals, extract_techniques, extract_tnm, find_dates)

__all__ = ["check_letter", "FactReport", "Flag", "extract_dates", "extract_doses", "extract_fractions", "extract_grades",
           "extract_icd10", "extract_intervals", "extract_techniques", "extract_tnm", "find_dates"]
