"""The residual-risk report of ``medletter deid run``: what was replaced, and which records hold
decisions the department should review by hand before training.

    report = ResidualReport(mode="pseudonymize")
    with capture_detection() as cap:
        for i, rec in enumerate(records, start=1):
            new, token = deidentify_record_with_mapping(rec, key)
            report.add(i, rec, new, cap)
            cap.clear()
    report.write(report_path(out_path))

For every span replaced in a letter the report knows its source — the record's own ground-truth
spans (``gold``), the rules and the case record's known identifiers (``rules``, with the best score
among the rule results that overlap it with the same label and how many there were), or neither
(``learned``: the learned tagger alone) — and a decision is *low-confidence* when

* no rule supports it (the learned tagger alone, or a label no rule gave), or
* its best rule score is below :data:`LOW_SCORE` (0.6: a weak cue such as a name found only through
  a list of first names at 0.55, a bare trunk phone number at 0.5), or
* one single rule result supports it and scores below :data:`SINGLE_RULE_SCORE` (0.7: a bare year,
  a unit letter, a city from the list of places, with nothing else agreeing).

The report holds no patient text: record numbers (1-based: the line in the output, and in the input
unless ``--skip-invalid`` dropped lines),
the de-identified record's case id (a surrogate, only in ``pseudonymize`` mode), labels, counts,
scores and character offsets into the *input* letter.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

LOW_SCORE = 0.6
SINGLE_RULE_SCORE = 0.7
REPORT_SUFFIX = ".deid-report.json"


def report_path(out_path: Path) -> Path:
    """``deid.jsonl`` -> ``deid.deid-report.json``, next to the output."""
    return out_path.with_name(out_path.stem + REPORT_SUFFIX)


@dataclass
class Capture:
    """What detection saw and decided during one record: (text, raw rule results) for every call of
    ``detect.analyze`` and (text, spans) for every call of ``detect.detect``. Kept in memory only until
    :meth:`clear` (call it after each record)."""

    analyzed: list[tuple[str, list]] = field(default_factory=list)
    detected: list[tuple[str, list]] = field(default_factory=list)

    def clear(self) -> None:
        self.analyzed.clear()
        self.detected.clear()

    def rule_results(self, text: str) -> list:
        return [r for t, rs in self.analyzed if t == text for r in rs]

    def spans(self, text: str) -> list | None:
        return next((s for t, s in reversed(self.detected) if t == text), None)


@contextmanager
def capture_detection() -> Iterator[Capture]:
    """Record detection's inputs and results while de-identifying, without running it twice
    (:func:`medletter.privacy.detect.observed`, for the duration of the block). Single-threaded use
    only (the ``deid run`` command): detection in another thread would be recorded too."""
    from medletter.privacy.detect import observed

    cap = Capture()
    with observed(on_analyze=lambda text, results: cap.analyzed.append((text, results)),
                  on_detect=lambda text, spans: cap.detected.append((text, spans))):
        yield cap


def decisions(spans, gold, rule_results) -> list[dict]:
    """One decision a replaced span: label, offsets, source, best rule score and support, and
    whether it is low-confidence (see the module doc)."""
    gold_keys = {(g.start, g.end, g.label) for g in gold}
    out = []
    for s in spans:
        if (s.start, s.end, s.label) in gold_keys:
            out.append({"label": s.label, "start": s.start, "end": s.end, "source": "gold", "score": 1.0,
                        "support": 0, "low": False})
            continue
        same = [r.score for r in rule_results if r.entity_type == s.label and r.start < s.end and s.start < r.end]
        best = round(max(same), 3) if same else None
        low = best is None or best < LOW_SCORE or (len(same) == 1 and best < SINGLE_RULE_SCORE)
        out.append({"label": s.label, "start": s.start, "end": s.end, "source": "rules" if same else "learned",
                    "score": best, "support": len(same), "low": low})
    return out


@dataclass
class ResidualReport:
    """Counts by label and the records with low-confidence decisions, for one ``deid run``."""

    mode: str
    use_gold_spans: bool = True
    records: int = 0
    letters: int = 0
    letter_labels: Counter = field(default_factory=Counter)
    case_text_labels: Counter = field(default_factory=Counter)
    sources: Counter = field(default_factory=Counter)
    review: list[dict] = field(default_factory=list)

    def add(self, index: int, record, new_record, cap: Capture) -> None:
        """Account for record ``index`` (1-based) from what ``cap`` saw while it was de-identified."""
        from medletter.privacy.operators import KEEP_LABELS
        from medletter.privacy.records import union_spans

        self.records += 1
        letter = record.letter
        low: list[dict] = []
        letter_text = letter.text if letter is not None else None
        for text, spans in cap.detected:
            if letter_text is not None and text in letter_text:
                continue  # the letter, or one of its sections de-identified on its own
            for s in spans:  # the case's free-text fields (procedures, findings, ...)
                if self.mode != "pseudonymize" or s.label not in KEEP_LABELS:
                    self.case_text_labels[s.label] += 1
        if letter is not None:
            self.letters += 1
            found = cap.spans(letter.text) or []
            gold = letter.spans if self.use_gold_spans else []
            union = union_spans(letter.text, gold, found)
            for d in decisions(union, gold, cap.rule_results(letter.text)):
                if self.mode == "pseudonymize" and d["label"] in KEEP_LABELS:
                    continue  # titles are kept, not replaced
                self.letter_labels[d["label"]] += 1
                self.sources[d["source"]] += 1
                if d["low"]:
                    low.append({k: d[k] for k in ("label", "start", "end", "source", "score", "support")})
        if low:
            entry = {"record": index, "low_confidence": low}
            if self.mode == "pseudonymize":
                entry = {"record": index, "case_id": new_record.case.case_id, "low_confidence": low}
            self.review.append(entry)

    def to_dict(self) -> dict:
        return {
            "about": ("Residual-risk report of `medletter deid run`: counts of replaced spans by label, and the "
                      "records with low-confidence decisions to review by hand before training. No patient text: "
                      "record numbers (1-based line in the output), surrogate case ids, labels, scores, and offsets "
                      "into the input letter."),
            "mode": self.mode,
            "gold_spans_used": self.use_gold_spans,
            "records": self.records,
            "letters": self.letters,
            "replaced": {
                "letters": dict(sorted(self.letter_labels.items())),
                "case_text": dict(sorted(self.case_text_labels.items())),
                "letters_total": sum(self.letter_labels.values()),
                "case_text_total": sum(self.case_text_labels.values()),
            },
            "letter_spans_by_source": dict(sorted(self.sources.items())),
            "low_confidence_rule": (f"a detected span that no rule supports (learned tagger only), whose best rule score "
                                    f"is below {LOW_SCORE}, or that one single rule supports with a score below "
                                    f"{SINGLE_RULE_SCORE}"),
            "records_to_review": [r["record"] for r in self.review],
            "low_confidence_decisions": sum(len(r["low_confidence"]) for r in self.review),
            "review": self.review,
        }

    def write(self, path: Path) -> Path:
        path.write_text(json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return path
