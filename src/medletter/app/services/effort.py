"""Correction effort from daily use: how much of the model's draft survives into the approved letter.

For every approved letter (``letters.status == "approved"``) the first model draft (the lowest
version with origin "model") is compared with the approved version (``letters.approved_version``):

* ``edit_distance``: word-level Levenshtein distance (words are the whitespace-separated tokens,
  punctuation stays on its word; insert, delete and substitute cost 1 each);
* ``share_kept``: draft words that survive unchanged and in order in the approved text (the equal
  blocks of the longest-common-subsequence alignment) / draft words; None for an empty draft;
* ``minutes_to_approval``: from the draft's ``created_at`` to the letter's ``approved_at``;
* ``sections_changed``: the style's sections (``evaluate.core.split_sections``; "header" is what
  precedes the first heading) whose words differ; not measured for a style without known headings;
* ``fact_kinds_changed``: fact kinds whose entries differ between the two versions' fact reports
  (``review.fact_report``). Kinds are read from the JSON itself, not from a list: every list in the
  report holding ``{"kind": …, "value": …}`` objects or ``"kind=value"`` strings counts, and a
  numbered prefix such as ``course2.`` is dropped ("course2.total_dose_gy" -> "total_dose_gy");
  not measured where either report is unreadable.

A letter approved, then edited again (a draft once more) is not counted until it is approved
again. The aggregates carry numbers, section names and fact-kind names only, never letter text,
fact values or user names.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass

from rapidfuzz.distance import Indel, Levenshtein
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, aliased

from medletter.app.models import Letter, LetterVersion
from medletter.app.services.auth import Principal
from medletter.evaluate.core import split_sections
from medletter.records import REQUIRED_SECTIONS

SECTION_ORDER = ("header", *REQUIRED_SECTIONS)
_NUMBERED_PREFIX = re.compile(r"^[A-Za-z_]+\d+\.")


@dataclass(frozen=True)
class LetterEffort:
    """The correction effort of one approved letter (no text in it)."""

    model: str
    approved_at: dt.datetime
    draft_words: int
    approved_words: int
    edit_distance: int
    words_kept: int
    share_kept: float | None
    minutes_to_approval: float
    sections: tuple[str, ...] | None
    """Sections found in the draft or the approved text; None where the style's headings are unknown."""
    sections_changed: tuple[str, ...]
    fact_kinds: tuple[str, ...] | None
    """Fact kinds in either version's fact report; None where a report is unreadable."""
    fact_kinds_changed: tuple[str, ...]

    @property
    def week(self) -> str:
        year, week, _ = self.approved_at.isocalendar()
        return f"{year}-W{week:02d}"


def word_edit(draft: str, final: str) -> tuple[int, int]:
    """(word-level Levenshtein distance, draft words kept unchanged in order) of two texts."""
    a, b = draft.split(), final.split()
    kept = sum(op.src_end - op.src_start for op in Indel.opcodes(a, b) if op.tag == "equal")
    return Levenshtein.distance(a, b), kept


def changed_sections(draft: str, final: str, style: str, lang: str) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """(sections in either text, sections whose words differ), or None for an unknown style."""
    a, b = split_sections(draft, style, lang), split_sections(final, style, lang)
    if a is None or b is None:
        return None
    keys = _ordered(a.keys() | b.keys(), SECTION_ORDER)
    return keys, tuple(k for k in keys if a.get(k, "").split() != b.get(k, "").split())


def fact_entries(facts_json: str) -> dict[str, Counter] | None:
    """{fact kind: Counter of (report list, value)} of a stored fact report (see the module doc);
    None for a report that is not a JSON object."""
    try:
        report = json.loads(facts_json)
    except (TypeError, ValueError):
        return None
    if not isinstance(report, dict):
        return None
    out: dict[str, Counter] = defaultdict(Counter)
    for list_name, items in report.items():
        if not isinstance(items, list):
            continue
        for item in items:
            if isinstance(item, dict) and isinstance(item.get("kind"), str):
                kind, value = item["kind"], json.dumps(item.get("value"), sort_keys=True)
            elif isinstance(item, str) and "=" in item:
                kind, _, value = item.partition("=")
            else:
                continue  # e.g. "missing_sections": section names, not facts
            out[_NUMBERED_PREFIX.sub("", kind)][(list_name, value)] += 1
    return out


def changed_fact_kinds(draft_facts: str, final_facts: str) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """(fact kinds in either report, kinds whose entries were added, removed or changed), or None
    where a report is unreadable."""
    a, b = fact_entries(draft_facts), fact_entries(final_facts)
    if a is None or b is None:
        return None
    kinds = tuple(sorted(a.keys() | b.keys()))
    return kinds, tuple(k for k in kinds if a.get(k, Counter()) != b.get(k, Counter()))


def measure(letter: Letter, draft: LetterVersion, final: LetterVersion) -> LetterEffort:
    distance, kept = word_edit(draft.text, final.text)
    n_draft = len(draft.text.split())
    sec = changed_sections(draft.text, final.text, letter.style, letter.lang)
    facts = changed_fact_kinds(draft.facts, final.facts)
    return LetterEffort(
        model=letter.model, approved_at=letter.approved_at, draft_words=n_draft, approved_words=len(final.text.split()),
        edit_distance=distance, words_kept=kept, share_kept=kept / n_draft if n_draft else None,
        minutes_to_approval=(letter.approved_at - draft.created_at).total_seconds() / 60,
        sections=sec[0] if sec else None, sections_changed=sec[1] if sec else (),
        fact_kinds=facts[0] if facts else None, fact_kinds_changed=facts[1] if facts else (),
    )


def letter_efforts(s: Session) -> list[LetterEffort]:
    """The effort of every approved letter that has a model draft, oldest approval first."""
    first = (select(LetterVersion.letter_id, func.min(LetterVersion.version).label("version"))
             .where(LetterVersion.origin == "model").group_by(LetterVersion.letter_id).subquery())
    draft, final = aliased(LetterVersion), aliased(LetterVersion)
    rows = s.execute(
        select(Letter, draft, final)
        .join(first, first.c.letter_id == Letter.id)
        .join(draft, and_(draft.letter_id == Letter.id, draft.version == first.c.version))
        .join(final, and_(final.letter_id == Letter.id, final.version == Letter.approved_version))
        .where(Letter.status == "approved", Letter.approved_at.is_not(None))
        .order_by(Letter.approved_at, Letter.id))
    return [measure(lt, d, f) for lt, d, f in rows]


# ---------------------------------------------------------------- aggregation


def _ordered(keys, order: tuple[str, ...]) -> tuple[str, ...]:
    rank = {k: i for i, k in enumerate(order)}
    return tuple(sorted(keys, key=lambda k: (rank.get(k, len(order)), k)))


def _mean(xs: list[float], nd: int) -> float | None:
    return round(statistics.fmean(xs), nd) if xs else None


def _median(xs: list[float], nd: int) -> float | None:
    return round(statistics.median(xs), nd) if xs else None


def _rates(counted: list[tuple[str, ...]], changed: list[tuple[str, ...]], n: int, order: tuple[str, ...] = ()) -> dict[str, float]:
    seen = {k for keys in counted for k in keys}
    hits = Counter(k for keys in changed for k in keys)
    return {k: round(hits[k] / n, 4) for k in _ordered(seen, order)} if n else {}


def _core(efforts: list[LetterEffort]) -> dict:
    shares = [e.share_kept for e in efforts if e.share_kept is not None]
    dists = [e.edit_distance for e in efforts]
    minutes = [e.minutes_to_approval for e in efforts]
    return {
        "letters": len(efforts),
        "share_kept_mean": _mean(shares, 4),
        "share_kept_median": _median(shares, 4),
        "edit_distance_mean": _mean(dists, 2),
        "edit_distance_median": _median(dists, 1),
        "minutes_to_approval_median": _median(minutes, 1),
    }


def summarise(efforts: list[LetterEffort]) -> dict:
    """The aggregate of a group of letters (one model/run, or all); see :func:`report`."""
    measured = [e for e in efforts if e.sections is not None]
    checked = [e for e in efforts if e.fact_kinds is not None]
    return {
        **_core(efforts),
        "unchanged": sum(1 for e in efforts if e.edit_distance == 0),
        "draft_words_mean": _mean([e.draft_words for e in efforts], 1),
        "minutes_to_approval_mean": _mean([e.minutes_to_approval for e in efforts], 1),
        "sections_measured": len(measured),
        "section_change_rate": _rates([e.sections for e in measured], [e.sections_changed for e in measured],
                                      len(measured), SECTION_ORDER),
        "facts_measured": len(checked),
        "fact_kind_change_rate": _rates([e.fact_kinds for e in checked], [e.fact_kinds_changed for e in checked], len(checked)),
    }


def report(s: Session, who: Principal) -> dict:
    """Correction effort of all approved letters, per model/run and per ISO week (admins only).

    ``{"letters": N, "overall": G, "models": {run: G}, "weeks": [W, …]}`` where a group G has
    ``letters``, ``share_kept_mean``/``_median`` (0–1), ``edit_distance_mean``/``_median`` (words),
    ``minutes_to_approval_median``/``_mean``, ``unchanged`` (letters approved as drafted),
    ``draft_words_mean``, ``sections_measured`` (letters of a style with known headings),
    ``section_change_rate`` {section: share of those letters where it changed}, ``facts_measured``
    (letters whose two fact reports are readable) and ``fact_kind_change_rate`` {kind: share of
    those letters where it changed}; and a week row W is
    ``{"week": "2026-W48", "model": run, "letters", "share_kept_mean", "share_kept_median",
    "edit_distance_mean", "edit_distance_median", "minutes_to_approval_median"}`` (ISO week of the
    approval), sorted by week, then model.
    """
    who.require("admin")
    efforts = letter_efforts(s)
    by_model: dict[str, list[LetterEffort]] = defaultdict(list)
    by_week: dict[tuple[str, str], list[LetterEffort]] = defaultdict(list)
    for e in efforts:
        by_model[e.model].append(e)
        by_week[(e.week, e.model)].append(e)
    return {
        "letters": len(efforts),
        "overall": summarise(efforts),
        "models": {m: summarise(es) for m, es in sorted(by_model.items())},
        "weeks": [{"week": w, "model": m, **_core(es)} for (w, m), es in sorted(by_week.items())],
    }
