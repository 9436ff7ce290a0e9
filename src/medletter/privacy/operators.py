"""Replacing detected spans in a text: pseudonymise, mask or redact.

Detection (:mod:`medletter.privacy.detect`) finds spans; :func:`apply` replaces them through
presidio-anonymizer's ``AnonymizerEngine`` (each span gets its own ``replace`` operator with the
surrogate computed by :class:`~medletter.privacy.surrogates.Surrogates`, so that Presidio does the
offset bookkeeping). Modes:

* ``pseudonymize`` (default): fluent surrogates; titles ("Dr. med.") stay.
* ``mask``: ``[NAME_PATIENT]`` style placeholders.
* ``redact``: the span is removed.

Optionally the encrypted surrogate -> original mapping of the document comes with the result
(:func:`medletter.privacy.keys.encrypt_mapping`).

Errors and logs never contain text: only counts, labels and offsets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import regex as re

from medletter.privacy.dateshift import parse_date_text
from medletter.privacy.keys import encrypt_mapping
from medletter.privacy.surrogates import Surrogates
from medletter.records import Span

Mode = Literal["pseudonymize", "mask", "redact"]
MODES = ("pseudonymize", "mask", "redact")
KEEP_LABELS = ("NAME_TITLE",)  # kept in pseudonymize mode: not identifying, keeps the letter fluent


@dataclass
class DeidResult:
    text: str
    spans: list[Span]
    """Spans of the replacements in the new text (label as detected)."""
    mapping: bytes | None = None
    """Fernet token with the surrogate -> original mapping of this document (if requested)."""
    replacements: list[tuple[int, int, int, int]] = field(default_factory=list)
    """(old start, old end, new start, new end) of every replaced span, in order."""

    def new_offset(self, old: int) -> int | None:
        """Where an offset of the old text lies in the new one; None inside a replaced span."""
        shift = 0
        for a, b, na, nb in self.replacements:
            if b <= old:
                shift = nb - b
            elif a < old < b:
                return None
            else:
                break
        return old + shift


def _context_years(text: str, spans: list[Span]) -> list[int]:
    years, last = [], None
    for s in spans:
        if s.label == "DATE":
            m = re.search(r"(?<!\d)(1[89]\d\d|20\d\d)(?!\d)", s.text)
            if m:
                last = int(m.group(1))
        years.append(last)
    first = next((y for y in years if y), 2001)
    return [y or first for y in years]


def apply(text: str, spans: list[Span], surrogates: Surrogates, mode: Mode = "pseudonymize",
          with_mapping: bool = False) -> DeidResult:
    """Replace ``spans`` (non-overlapping) in ``text`` according to ``mode``."""
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r} (use one of {', '.join(MODES)})")
    from presidio_anonymizer import AnonymizerEngine
    from presidio_anonymizer.entities import OperatorConfig, RecognizerResult

    spans = sorted(spans, key=lambda s: s.start)
    years = _context_years(text, spans)
    results, operators, pairs = [], {}, []
    for i, s in enumerate(spans):
        original = text[s.start:s.end]
        if mode == "mask":
            new = f"[{s.label}]"
        elif mode == "redact":
            new = ""
        elif s.label in KEEP_LABELS:
            continue
        else:
            next_date = None
            if s.label == "DATE":
                nxt = next((t for t in spans[i + 1:i + 3] if t.label == "DATE" and t.start - s.end < 15), None)
                if nxt:
                    next_date = parse_date_text(nxt.text, years[i])
            new = surrogates.replace(s.label, original, years[i], next_date)
        tag = f"{s.label}#{i}"
        results.append(RecognizerResult(entity_type=tag, start=s.start, end=s.end, score=1.0))
        operators[tag] = OperatorConfig("redact", {}) if mode == "redact" else OperatorConfig("replace", {"new_value": new})
        if with_mapping and new:
            pairs.append({"label": s.label, "surrogate": new, "original": original})
    if not results:
        kept = [Span(start=s.start, end=s.end, label=s.label, text=s.text) for s in spans if s.label in KEEP_LABELS]
        return DeidResult(text, kept, encrypt_mapping(pairs, surrogates.key) if with_mapping else None)
    engine = AnonymizerEngine()
    res = engine.anonymize(text=text, analyzer_results=results, operators=operators,
                           merge_entities_with_spaces=False)
    new_text = res.text
    new_spans, replacements = [], []
    for item in sorted(res.items, key=lambda it: it.start):
        label, idx = item.entity_type.split("#", 1)
        old = spans[int(idx)]
        replacements.append((old.start, old.end, item.start, item.end))
        if item.end > item.start:
            new_spans.append(Span(start=item.start, end=item.end, label=label, text=new_text[item.start:item.end]))
    if mode == "pseudonymize":  # titles stay; report them at their new offsets
        new_spans += _kept_spans(text, spans, res.items, new_text)
        new_spans.sort(key=lambda s: s.start)
    return DeidResult(new_text, new_spans, encrypt_mapping(pairs, surrogates.key) if with_mapping else None,
                      replacements)


def _kept_spans(text: str, spans: list[Span], items, new_text: str) -> list[Span]:
    """Where the unchanged (kept) spans ended up in the new text."""
    repl = sorted(((int(it.entity_type.split("#")[1]), it) for it in items), key=lambda x: x[0])
    shifts = []  # (original end, delta)
    by_index = dict(repl)
    out = []
    delta = 0
    for i, s in enumerate(spans):
        if i in by_index:
            it = by_index[i]
            delta += (it.end - it.start) - (s.end - s.start)
            shifts.append((s.end, delta))
        elif s.label in KEEP_LABELS:
            a, b = s.start + delta, s.end + delta
            if new_text[a:b] == text[s.start:s.end]:
                out.append(Span(start=a, end=b, label=s.label, text=new_text[a:b]))
    return out


def pseudonymize_text(text: str, key: bytes, mode: Mode = "pseudonymize", lang: str = "de",
                      patient_key: str = "", known=None, sex: str | None = None,
                      spans: list[Span] | None = None, with_mapping: bool = False) -> DeidResult:
    """Detect (unless ``spans`` are given) and replace patient information in one text."""
    from medletter.privacy.detect import detect

    if spans is None:
        spans = detect(text, lang=lang, known=known)
    sur = Surrogates(key=key, patient_key=patient_key, sex=sex)
    if known is not None:
        sur.known_first = {t.lower() for n in known.patient_first for t in n.split()}
        sur.add_known(*known.patient_first, *known.patient_last, *[f"{a} {b}" for a, b in known.doctor_names])
    return apply(text, spans, sur, mode=mode, with_mapping=with_mapping)
