"""E-mail addresses (``CONTACT_EMAIL``): Presidio's e-mail recogniser.

Forms (invented examples): "a.muster@klinik-seestadt.de", "sekretariat.rt@uni-beispiel.ch".

Validity: the domain is a real one by the public-suffix list, read offline (tldextract without the
network: :func:`medletter.privacy.nlp.offline_tldextract`).

Score: Presidio's pattern scores 0.5 and a validated address 1.0: an address with a real domain is
nothing else.
"""

from __future__ import annotations

from presidio_analyzer.predefined_recognizers import EmailRecognizer


class OfflineEmailRecognizer(EmailRecognizer):
    """Presidio's e-mail recogniser, label CONTACT_EMAIL, validating with the offline tldextract."""

    def __init__(self, supported_language: str = "de"):
        super().__init__(supported_language=supported_language, supported_entity="CONTACT_EMAIL",
                         name="OfflineEmailRecognizer")

    def validate_result(self, pattern_text: str):  # noqa: D102
        from medletter.privacy.nlp import offline_tldextract

        return offline_tldextract()(pattern_text).fqdn != ""
