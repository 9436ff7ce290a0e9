"""Offline building blocks for Presidio: a blank spaCy pipeline and an offline tldextract.

No German NER model is available offline, so Presidio gets a *blank* spaCy pipeline
(tokeniser only) that is created once and saved to a cache folder; its path is named as the
model in Presidio's ``NlpEngineProvider`` configuration, so Presidio never tries to download one.
The blank pipeline has no lemmatiser; :class:`BlankSpacyNlpEngine` fills the lemmas with the
lower-cased token text so that Presidio's context-aware enhancer can still match context words.

Presidio's e-mail recogniser validates domains with ``tldextract``, whose default extractor
fetches the public-suffix list from the internet on first use. :func:`offline_tldextract` makes
every extractor use the snapshot bundled with the package instead.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_tld_extractor = None


def cache_dir() -> Path:
    """The project's cache (``$MEDLETTER_CACHE`` or ``~/.cache/medletter``), shared with the models."""
    from medletter.models import cache_dir as project_cache

    return project_cache()


def blank_pipeline_path(lang: str = "de") -> Path:
    """Path of a saved blank spaCy pipeline for ``lang``; created on first use."""
    path = cache_dir() / f"spacy-blank-{lang}"
    with _lock:
        if not (path / "config.cfg").exists():
            import spacy

            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + f".tmp{os.getpid()}")
            spacy.blank(lang).to_disk(tmp)
            try:
                os.replace(tmp, path)
            except OSError:  # another process won the race
                import shutil

                shutil.rmtree(tmp, ignore_errors=True)
            logger.info("created blank spaCy pipeline for language %s", lang)
    return path


def offline_tldextract():
    """Return a tldextract extractor that never fetches, and make it the module default."""
    global _tld_extractor
    if _tld_extractor is None:
        import tldextract
        import tldextract.tldextract as tx

        _tld_extractor = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)
        tx.TLD_EXTRACTOR = _tld_extractor  # `tldextract.extract` looks this global up at call time
    return _tld_extractor


def _engine_class():
    from presidio_analyzer.nlp_engine import SpacyNlpEngine

    class BlankSpacyNlpEngine(SpacyNlpEngine):
        """spaCy engine for blank pipelines: lemmas fall back to the lower-cased token."""

        engine_name = "spacy"

        def process_text(self, text, language):  # type: ignore[override]
            art = super().process_text(text, language)
            art.lemmas = [lem or tok.text.lower() for lem, tok in zip(art.lemmas, art.tokens)]
            return art

    return BlankSpacyNlpEngine


def nlp_configuration(languages: tuple[str, ...] = ("de", "en")) -> dict:
    """The ``NlpEngineProvider`` configuration naming the cached blank pipelines as models."""
    return {
        "nlp_engine_name": "spacy",
        "models": [{"lang_code": lang, "model_name": str(blank_pipeline_path(lang))} for lang in languages],
        "ner_model_configuration": {
            # a blank pipeline has no NER; the mapping is there because Presidio requires one
            "model_to_presidio_entity_mapping": {"PER": "PERSON", "PERSON": "PERSON", "LOC": "LOCATION", "GPE": "LOCATION",
                                                 "ORG": "ORGANIZATION", "DATE": "DATE_TIME"},
            "labels_to_ignore": ["O"],
        },
    }


def create_nlp_engine(languages: tuple[str, ...] = ("de", "en")):
    """A loaded Presidio NLP engine over blank spaCy pipelines (no download, no network)."""
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    offline_tldextract()
    provider = NlpEngineProvider(nlp_engines=(_engine_class(),), nlp_configuration=nlp_configuration(languages))
    engine = provider.create_engine()
    return engine
