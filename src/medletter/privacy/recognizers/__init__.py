"""Presidio recognisers for patient information in German (and English) clinical letters.

One recogniser a module, each with its patterns, its validity check and, in its docstring, the forms
it finds (with invented examples) and why it scores as it does; what they share is in
:mod:`~medletter.privacy.recognizers.base` and :mod:`medletter.privacy.patterns`. Each is a Presidio
:class:`~presidio_analyzer.EntityRecognizer`; :data:`DEFAULT_RECOGNIZERS` is the registry that
:mod:`medletter.privacy.detect` hands to Presidio's ``AnalyzerEngine``. They are rule-based:
regular expressions with German context cues (``Fallnummer:``, ``Tel.``, ``geb.``,
``Frau``/``Herrn``/``Dr. med.``), word lists, and — for names and places — document-level propagation
of what was found next to a strong cue.

Recognisers never log text; only counts.
"""

from __future__ import annotations

from medletter.privacy.recognizers.address import GermanAddressRecognizer
from medletter.privacy.recognizers.age import GermanAgeRecognizer, age_word, jaehrig_like
from medletter.privacy.recognizers.base import FLAGS, MedletterRegexRecognizer, make_result
from medletter.privacy.recognizers.country import GermanCountryRecognizer
from medletter.privacy.recognizers.date import GermanDateRecognizer
from medletter.privacy.recognizers.email import OfflineEmailRecognizer
from medletter.privacy.recognizers.hospital import GermanHospitalRecognizer
from medletter.privacy.recognizers.ids import GermanIdRecognizer
from medletter.privacy.recognizers.names import GermanNameRecognizer, Mention, ocr_variant
from medletter.privacy.recognizers.organization import GermanOrganizationRecognizer
from medletter.privacy.recognizers.phone import GermanFaxRecognizer, GermanPhoneRecognizer
from medletter.privacy.recognizers.profession import GermanProfessionRecognizer
from medletter.privacy.recognizers.url import SchemeUrlRecognizer

# the default set, in the order the registry holds them (one instance of each per language)
DEFAULT_RECOGNIZERS = (
    GermanDateRecognizer, GermanAgeRecognizer, GermanIdRecognizer, GermanPhoneRecognizer, GermanFaxRecognizer,
    GermanCountryRecognizer, GermanProfessionRecognizer, GermanOrganizationRecognizer, GermanAddressRecognizer,
    GermanHospitalRecognizer, GermanNameRecognizer, OfflineEmailRecognizer, SchemeUrlRecognizer,
)

__all__ = [
    "DEFAULT_RECOGNIZERS", "FLAGS", "GermanAddressRecognizer", "GermanAgeRecognizer", "GermanCountryRecognizer",
    "GermanDateRecognizer", "GermanFaxRecognizer", "GermanHospitalRecognizer", "GermanIdRecognizer",
    "GermanNameRecognizer", "GermanOrganizationRecognizer", "GermanPhoneRecognizer", "GermanProfessionRecognizer",
    "MedletterRegexRecognizer", "Mention", "OfflineEmailRecognizer", "SchemeUrlRecognizer", "age_word",
    "jaehrig_like", "make_result", "ocr_variant",
]
