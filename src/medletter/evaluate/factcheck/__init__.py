"""The fact check of a letter against its case, in two parts with nothing in common but the facts:

1. the **extractor** (:func:`~medletter.evaluate.factcheck.extract.extract`): letter text -> typed facts with
   their spans (doses, fraction counts, doses per fraction in their statements, dates with their event, TNM,
   ICD-10 codes with the diagnosis they follow, grades with their toxicity, sides with their anatomy,
   intervals), read with the case's words (:mod:`~medletter.evaluate.factcheck.lexicon`) but no value of it;
2. the **comparison** (:mod:`~medletter.evaluate.factcheck.compare`, :mod:`~medletter.evaluate.factcheck.expected`):
   those facts against what the case backs (:mod:`~medletter.evaluate.factcheck.casefacts`): flags for what the
   case does not back or binds to something else, and the expected facts the letter lacks.

:func:`check_letter` runs both. Modules import downwards only: text, values, model <- lexicon <- extract_time
<- extract <- casefacts <- compare, expected <- this package.
"""

from __future__ import annotations

from medletter.evaluate.factcheck.casefacts import case_facts
from medletter.evaluate.factcheck.compare import binding_flags, value_flags
from medletter.evaluate.factcheck.expected import expected
from medletter.evaluate.factcheck.extract import extract
from medletter.evaluate.factcheck.lexicon import lexicon
from medletter.evaluate.factcheck.model import FactReport, Flag, LetterFacts
from medletter.evaluate.factcheck.text import overlaps
from medletter.records import Case


def check_letter(case: Case, text: str) -> FactReport:
    """The letter ``text`` against ``case``: flags (value flags first, then binding flags where no value flag
    covers the same text), expected facts found and missing."""
    facts = extract(text, lexicon(case))
    cf = case_facts(case)
    rep = FactReport()
    for fl in value_flags(facts, cf):
        rep.unsupported.append((fl.kind, fl.value))
        rep.flags.append(fl)
    taken = [(fl.start, fl.end) for fl in rep.flags]
    for fl in sorted(binding_flags(facts, cf), key=lambda f: (f.start, f.end)):
        if overlaps(fl.start, fl.end, taken):
            continue
        taken.append((fl.start, fl.end))
        rep.unsupported.append((fl.kind, fl.value))
        rep.flags.append(fl)
    for kind, value, present in expected(facts, cf):
        rep.expected.append((kind, value))
        (rep.found if present else rep.missing).append((kind, value))
    rep.flags.sort(key=lambda f: (f.start, f.end))
    return rep


__all__ = ["check_letter", "extract", "lexicon", "case_facts", "FactReport", "Flag", "LetterFacts"]
