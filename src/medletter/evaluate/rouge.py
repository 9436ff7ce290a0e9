"""ROUGE with a tokenizer that keeps German words whole.

rouge-score's default tokenizer lower-cases and then drops every character outside [a-z0-9], so
"Übelkeit" becomes "belkeit" and "Strahlendosis" survives only by luck. Ours lower-cases and splits
on Unicode word characters; no stemming (the Porter stemmer is English).
"""

from __future__ import annotations

import re

from rouge_score import rouge_scorer

ROUGE_TYPES = ("rouge1", "rouge2", "rougeL", "rougeLsum")
_WORD = re.compile(r"\w+", re.UNICODE)


class GermanTokenizer:
    """rouge-score tokenizer interface: ``tokenize(text) -> list[str]``."""

    def tokenize(self, text: str) -> list[str]:
        return _WORD.findall(text.lower())


def scorer() -> rouge_scorer.RougeScorer:
    return rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=False, tokenizer=GermanTokenizer())


def rouge_f1(reference: str, prediction: str, sc: rouge_scorer.RougeScorer | None = None) -> dict[str, float]:
    """F1 of each ROUGE type. rougeLsum treats lines as sentences (letters are line-structured)."""
    s = (sc or scorer()).score(reference, prediction)
    return {k: s[k].fmeasure for k in ROUGE_TYPES}
