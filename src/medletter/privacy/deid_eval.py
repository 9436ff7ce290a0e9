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


def evaluate_gold(path: str | Path, lang: str = "de", detector=None, use_learned: bool = True) -> dict:
    """Run detection on every document of a gold JSONL file and score it (see the module doc).
    Without a ``detector``: :func:`~medletter.privacy.detect.detect`, with the learned tagger when a
    model is in the cache and ``use_learned`` (``out["detector"]`` says which)."""
    from medletter.privacy.detect import detect

    name = "custom"
    if detector is None:
        name = "rules"
        if use_learned and lang == "de":
            from medletter.privacy import learned

            if learned.load_model() is not None:
                name = f"rules+learned ({learned.model_path()})"
        detector = lambda text: detect(text, lang=lang, use_learned=use_learned)  # noqa: E731
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
    out["detector"] = name
    return out


# --- cross-validation of the learned tagger ---------------------------------------------------------

CV_THRESHOLDS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
# the learned part without one of its post-processing steps (detect.learned_spans), at the chosen threshold
ABLATIONS = {"without precision filter": {"filtered": False}, "without name propagation": {"propagated": False}}


def default_dev_path() -> Path | None:
    """The GraSCCo_PHI development letters, where this checkout's shared data has them."""
    root = Path(__file__).resolve().parents[3]
    for cand in (root.parent / "shared" / "data" / "deid" / "grascco_phi_dev.jsonl",
                 root / "shared" / "data" / "deid" / "grascco_phi_dev.jsonl",
                 Path("/work/shared/data/deid/grascco_phi_dev.jsonl")):
        if cand.is_file():
            return cand
    return None


def folds_of(n: int, k: int, seed: int = 0) -> list[list[int]]:
    """Document indices split into ``k`` folds (shuffled with ``seed``; sizes differ by at most one)."""
    import random

    if not 2 <= k <= n:
        raise ValueError(f"--cv needs 2 <= folds <= documents ({n}); got {k}")
    order = list(range(n))
    random.Random(seed).shuffle(order)
    return [sorted(order[i::k]) for i in range(k)]


def cross_validate(path: str | Path, k: int = 5, seed: int = 0, *, synth: int | None = None, epochs: int | None = None,
                   augment: int | None = None, threshold: float | None = None, log=None, details: bool = False) -> dict:
    """``k``-fold cross-validation by document: for each fold the tagger is trained on the other folds'
    letters (plus their surrogate variants and the synthetic letters) and scored on that fold. Reports
    rules only (the rules are not trained here: the same on every fold), learned only and combined
    (:func:`medletter.privacy.detect.combine`), pooled over the folds, and the combined figures for
    other tagger thresholds (``sweep``), to choose one. ``details``: also the spans per letter
    (offsets and labels only) under ``"spans"``."""
    from medletter.privacy import learned as L
    from medletter.privacy.detect import analyze, combine, learned_spans, resolve

    synth = L.SYNTH_LETTERS if synth is None else synth
    epochs = L.EPOCHS if epochs is None else epochs
    augment = L.AUGMENT if augment is None else augment
    threshold = L.THRESHOLD if threshold is None else threshold
    say = log or (lambda m: None)
    docs = load_gold(path)
    folds = folds_of(len(docs), k, seed)
    gold = [[(int(s["start"]), int(s["end"]), str(s["label"])) for s in d["phi"]] for d in docs]
    texts = [d["text"] for d in docs]
    t0 = time.perf_counter()
    rule_results = [analyze(t, "de") for t in texts]
    rules = [[(s.start, s.end, s.label) for s in resolve(r, t)] for r, t in zip(rule_results, texts)]
    rules_seconds = time.perf_counter() - t0
    synth_items = L.synthetic_examples(synth) if synth else []
    thresholds = sorted({threshold, *CV_THRESHOLDS})
    raw: dict[float, list] = {th: [None] * len(docs) for th in thresholds}
    ablated: dict[str, list] = {name: [None] * len(docs) for name in ABLATIONS}
    train_seconds = []
    for f, test_idx in enumerate(folds):
        train_idx = [i for i in range(len(docs)) if i not in set(test_idx)]
        g = L.gold_examples([docs[i] for i in train_idx])
        t1 = time.perf_counter()
        nlp = L.train(g + L.augmented(g, augment, seed=seed) + synth_items, epochs=epochs, seed=seed,
                      vocab_items=g + synth_items)
        train_seconds.append(round(time.perf_counter() - t1, 1))
        say(f"fold {f + 1}/{k}: trained on {len(train_idx)} letters (+{augment} variants each, +{synth} synthetic) "
            f"in {train_seconds[-1]:.0f} s; scoring {len(test_idx)}")
        for i in test_idx:
            for th in thresholds:
                raw[th][i] = learned_spans(texts[i], "de", model=nlp, threshold=th)
            for name, kw in ABLATIONS.items():
                ablated[name][i] = learned_spans(texts[i], "de", model=nlp, threshold=threshold, **kw)

    def combined(th, spans=None):
        spans = spans or raw[th]
        return [[(s.start, s.end, s.label) for s in combine(rule_results[i], spans[i], texts[i])] for i in range(len(docs))]

    out = {
        "cv": {"folds": k, "seed": seed, "documents": len(docs), "synthetic_letters": synth, "epochs": epochs,
               "augment": augment, "threshold": threshold, "fold_sizes": [len(f) for f in folds],
               "train_seconds": train_seconds, "rules_seconds": round(rules_seconds, 1),
               "note": "learned and combined: each letter scored by a tagger that did not see it. The rules are "
                       "fixed (not trained per fold): written while looking at these letters, so their figures "
                       "here are fitted ones."},
        "rules": score(gold, rules),
        "learned": score(gold, [[x[:3] for x in raw[threshold][i]] for i in range(len(docs))]),
        "combined": score(gold, combined(threshold)),
        "sweep": {},
        "overlap_rule": OVERLAP_RULE,
    }
    for th in thresholds:
        lo, co = score(gold, [[x[:3] for x in raw[th][i]] for i in range(len(docs))]), score(gold, combined(th))
        out["sweep"][str(th)] = {"learned": lo["overall"], "combined": co["overall"],
                                 "combined_names_dates_ids_recall": {lab: co["labels"].get(lab, {}).get("recall")
                                                                     for lab in ("NAME_PATIENT", "DATE", "ID")}}
    out["ablation"] = {name: {"learned": score(gold, [[x[:3] for x in spans[i]] for i in range(len(docs))])["overall"],
                              "combined": score(gold, combined(threshold, spans))["overall"]}
                       for name, spans in ablated.items()}
    if details:
        out["spans"] = {"rules": rules, "learned": [[list(x) for x in raw[threshold][i]] for i in range(len(docs))],
                        "combined": combined(threshold)}
    return out
