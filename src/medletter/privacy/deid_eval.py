"""Measuring de-identification against a gold set (GraSCCo_PHI format).

One document a line: ``{"doc": ..., "text": ..., "phi": [{"start", "end", "label", "text"}, ...]}``.

Overlap rule (entity level):

* **Overall recall**: a gold entity counts as found if any predicted span, of *any* PHI label,
  overlaps it by at least one character. A missed entity is a leak; one found under a wrong label
  is still replaced.
* **Overall precision**: a predicted span counts as correct if it overlaps any gold entity (of any
  label) by at least one character.
* **Per label**: the same, but only spans of the same label count (label-matched overlap): recall
  of label L = gold L entities overlapped by a predicted L span / gold L entities; precision of L =
  predicted L spans overlapping a gold L entity / predicted L spans.

F1 is the harmonic mean of precision and recall. Figures carry no text, only counts.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from pathlib import Path

OVERLAP_RULE = (
    "entity level, overlap of at least one character. Overall: a gold entity is found if a predicted span "
    "of any PHI label overlaps it (a wrong label still gets replaced; a miss is a leak); a predicted span is "
    "correct if it overlaps any gold entity. Per label: only spans of the same label count (label-matched "
    "overlap)."
)


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def load_gold(path: str | Path) -> list[dict]:
    docs = []
    p = str(path)
    for lineno, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
        except json.JSONDecodeError as e:
            raise ValueError(f"{p}:{lineno}: (json): invalid JSON: {e.msg} at column {e.colno}") from None
        if not isinstance(d, dict) or not isinstance(d.get("text"), str) or not isinstance(d.get("phi"), list):
            raise ValueError(f"{p}:{lineno}: (record): expected an object with 'text' and 'phi'")
        docs.append(d)
    if not docs:
        raise ValueError(f"{p}: (file): is empty: no documents")
    return docs


def score(gold_docs: list[list[tuple[int, int, str]]], pred_docs: list[list[tuple[int, int, str]]]) -> dict:
    """Entity-level figures for parallel lists of (start, end, label) per document."""
    g_total = g_found = p_total = p_ok = 0
    lab = defaultdict(lambda: {"support": 0, "found": 0, "pred": 0, "pred_ok": 0})
    for gold, pred in zip(gold_docs, pred_docs):
        for gs, ge, gl in gold:
            g_total += 1
            lab[gl]["support"] += 1
            if any(_overlaps((gs, ge), (ps, pe)) for ps, pe, _ in pred):
                g_found += 1
            if any(pl == gl and _overlaps((gs, ge), (ps, pe)) for ps, pe, pl in pred):
                lab[gl]["found"] += 1
        for ps, pe, pl in pred:
            p_total += 1
            lab[pl]["pred"] += 1
            if any(_overlaps((gs, ge), (ps, pe)) for gs, ge, _ in gold):
                p_ok += 1
            if any(gl == pl and _overlaps((gs, ge), (ps, pe)) for gs, ge, gl in gold):
                lab[pl]["pred_ok"] += 1
    precision = p_ok / p_total if p_total else 1.0
    recall = g_found / g_total if g_total else 1.0
    labels = {}
    for name in sorted(lab, key=lambda n: (-lab[n]["support"], n)):
        c = lab[name]
        p = c["pred_ok"] / c["pred"] if c["pred"] else (1.0 if not c["support"] else 0.0)
        r = c["found"] / c["support"] if c["support"] else 1.0
        labels[name] = {"precision": round(p, 4), "recall": round(r, 4), "f1": round(_f1(p, r), 4),
                        "support": c["support"], "predicted": c["pred"]}
    return {
        "overall": {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(_f1(precision, recall), 4),
                    "support": g_total, "predicted": p_total},
        "labels": labels,
        "overlap_rule": OVERLAP_RULE,
    }


def evaluate_gold(path: str | Path, lang: str = "de", detector=None) -> dict:
    """Run detection on every document of a gold JSONL file and score it (see the module doc)."""
    from medletter.privacy.detect import detect

    detector = detector or (lambda text: detect(text, lang=lang))
    docs = load_gold(path)
    gold, pred = [], []
    t0 = time.perf_counter()
    for d in docs:
        gold.append([(int(s["start"]), int(s["end"]), str(s["label"])) for s in d["phi"]])
        pred.append([(s.start, s.end, s.label) for s in detector(d["text"])])
    elapsed = time.perf_counter() - t0
    out = score(gold, pred)
    out["documents"] = len(docs)
    out["seconds"] = round(elapsed, 3)
    return out
