"""Evaluation: ROUGE (German-aware), section coverage, fact checks against the case; any number of
systems side by side; ``eval.json`` and a self-contained ``report.html``."""

from medletter.evaluate.core import evaluate_systems, load_drafts

__all__ = ["evaluate_systems", "load_drafts"]
