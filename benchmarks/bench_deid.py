"""Benchmark: letters per second of medletter's de-identification vs Presidio's default recognisers.

Both run in the same process on the same texts (the GraSCCo_PHI development letters, or synthetic
letters when that file is absent), with the same offline blank spaCy NLP engine. Presidio's default
registry is loaded for German ("de": its German-specific recognisers and the language-independent
ones that list "de"); if it has no recogniser for "de", English ("en") is used and the output says so.
Prints the figures and the ratio (ours / Presidio). No text is printed.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

DEV = ROOT.parent / "shared" / "data" / "deid" / "grascco_phi_dev.jsonl"
for cand in (DEV, Path("/work/shared/data/deid/grascco_phi_dev.jsonl")):
    if cand.exists():
        DEV = cand
        break


def load_texts() -> tuple[list[str], str]:
    if DEV.exists():
        return [json.loads(line)["text"] for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()], DEV.name
    from medletter.synth import generate_corpus

    return [r.letter.text for r in generate_corpus(40, seed=7) if r.letter], "synthetic letters"


def rate(fn, texts, repeat: int = 2) -> float:
    fn(texts[0])  # warm up
    best = 0.0
    for _ in range(repeat):
        t0 = time.perf_counter()
        for t in texts:
            fn(t)
        best = max(best, len(texts) / (time.perf_counter() - t0))
    return best


def main() -> None:
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry

    from medletter.privacy import guard
    from medletter.privacy.detect import detect, get_engine
    from medletter.privacy.nlp import create_nlp_engine

    guard.install()
    texts, source = load_texts()
    get_engine()  # build ours outside the timing

    nlp = create_nlp_engine(("de", "en"))
    registry = RecognizerRegistry(supported_languages=["de", "en"])
    registry.load_predefined_recognizers(languages=["de", "en"], nlp_engine=nlp)
    lang = "de" if registry.get_recognizers(language="de", all_fields=True) else "en"
    baseline = AnalyzerEngine(registry=registry, nlp_engine=nlp, supported_languages=["de", "en"])
    n_rec = len(registry.get_recognizers(language=lang, all_fields=True))

    ours = rate(lambda t: detect(t, lang="de"), texts)
    theirs = rate(lambda t: baseline.analyze(t, language=lang), texts)
    chars = sum(len(t) for t in texts)
    print(f"texts: {len(texts)} ({source}), {chars} characters")
    print(f"medletter detect (de):                         {ours:8.1f} letters/s")
    print(f"Presidio default registry ({lang}, {n_rec} recognisers): {theirs:8.1f} letters/s")
    print(f"ratio medletter / Presidio default: {ours / theirs:.2f}")


if __name__ == "__main__":
    main()
