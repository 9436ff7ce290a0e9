"""Synthetic radiation-oncology cases, each with a reference letter in an institution style.

Public API::

    generate_corpus(n, seed, lang="de", style=None) -> list[Record]
    STYLES: dict[str, Style];  style_names() -> list[str]
    section_patterns(style, lang) -> dict[section key, re.Pattern]
    render_letter(case, style, lang, rng) -> Letter

Everything is drawn from one ``random.Random(seed)``: the same arguments give the same corpus.
Case texts (diagnosis, procedures, recommendations, ...) are written in ``lang``, so a corpus is
monolingual; :func:`render_letter` copies the case's texts as they are.
"""

from __future__ import annotations

import random

from medletter.records import Record

from .cases import Department, Ids, make_case
from .entities import ENTITIES
from .people import make_roster
from .styles import STYLES, Style, render_letter, section_patterns, style_names

SECOND_CASE_PROBABILITY = 0.16
"""Chance that a patient (of an entity that can relapse) gets a later second case (metastasis)."""


def _departments(rng: random.Random) -> dict[str, Department]:
    return {
        name: Department(institution=st.institution, phone=st.phone, fax=st.fax, roster=make_roster(rng), with_chief=st.with_chief)
        for name, st in STYLES.items()
    }


def generate_corpus(n: int, seed: int, lang: str = "de", style: str | None = None) -> list[Record]:
    """``n`` records (case + reference letter), deterministic for (n, seed, lang, style).

    ``style`` is a style name, or None / "mixed" to use all styles evenly. About one patient in
    eight gets a second case (a later metastasis course) with the same identity and patient_id.
    """
    if n < 0:
        raise ValueError("n must be >= 0")
    if lang not in ("de", "en"):
        raise ValueError(f"unknown language {lang!r}; expected 'de' or 'en'")
    if style in (None, "mixed"):
        names = style_names()
    elif style in STYLES:
        names = [style]
    else:
        raise ValueError(f"unknown style {style!r}; known: {', '.join(style_names())}, mixed")
    rng = random.Random(seed)
    depts = _departments(rng)
    styles = [names[i % len(names)] for i in range(n)]
    rng.shuffle(styles)

    keys = list(ENTITIES)
    weights = [ENTITIES[k].weight for k in keys]
    ids = Ids()
    records: list[Record] = []
    while len(records) < n:
        st = styles[len(records)]
        entity = rng.choices(keys, weights=weights)[0]
        case = make_case(rng, entity, lang, depts[st], ids)
        records.append(Record(case=case, letter=render_letter(case, st, lang, rng)))
        relapse = ENTITIES[entity].relapse_to
        if relapse and len(records) < n and rng.random() < SECOND_CASE_PROBABILITY:
            st2 = styles[len(records)]
            second = make_case(rng, rng.choice(relapse), lang, depts[st2], ids, patient=case.patient,
                               not_before=case.letter_date, previous=case)
            records.append(Record(case=second, letter=render_letter(second, st2, lang, rng)))
    return records


__all__ = ["STYLES", "Style", "generate_corpus", "render_letter", "section_patterns", "style_names"]
