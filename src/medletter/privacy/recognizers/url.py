"""Web addresses (``CONTACT_URL``): Presidio's URL recogniser, with a scheme or "www." only.

Forms (invented examples): "https://www.klinik-seestadt.de/strahlentherapie", "\"http://beispiel.ch\"",
"www.praxis-am-markt.de".

Presidio's patterns without a scheme ("Non schema URL") are left out: only a scheme or "www." marks a
web address here.

Score: 0.6, Presidio's for a URL with a scheme, and the same for "www.".
"""

from __future__ import annotations

from presidio_analyzer.predefined_recognizers import UrlRecognizer


class SchemeUrlRecognizer(UrlRecognizer):
    """Presidio's URL recogniser restricted to URLs with a scheme or ``www.`` (label CONTACT_URL)."""

    def __init__(self, supported_language: str = "de"):
        pats = [p for p in UrlRecognizer.PATTERNS if p.name in ("Standard Url", "Quoted URL")]
        from presidio_analyzer import Pattern

        pats.append(Pattern("www", r"(?i)\bwww\d{0,3}\.[a-z0-9-]+(?:\.[a-z0-9-]+)+(?:/[^\s()<>\"']*)?", 0.6))
        super().__init__(patterns=pats, supported_language=supported_language, supported_entity="CONTACT_URL",
                         name="SchemeUrlRecognizer")
