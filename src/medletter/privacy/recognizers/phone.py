"""Phone and fax numbers (``CONTACT_PHONE``, ``CONTACT_FAX``).

Forms (invented examples): after a cue ("Tel.: 0621 383-2213", "Mobil 0171 2233445",
"erreichbar unter 06221/56-0", "Fax 0621 383-2299"), international ("+49 (0) 621 383 2213", "+41 61
265 25 25"), and a bare number with a trunk prefix ("06221/567890").

Validity (:meth:`GermanPhoneRecognizer.valid`): never a date's shape; a cued number has at least five
digits and is not a lone year, an uncued one at least seven.

Scores: a number after a phone cue (0.85) or a fax cue (0.9) is one; an international number's form
says as much (0.75); a bare number with a leading zero may be a measurement or an identifier as well
(0.5, the lowest rule score: any other rule over it wins, and it is listed for review).
"""

from __future__ import annotations

import regex as re

from medletter.privacy.recognizers.base import MedletterRegexRecognizer

PHONE_NUM = (
    r"(?:\+\s?\d{1,3}\s?(?:\(0\)\s?)?)?(?:\(\s?0?\d{1,6}\s?\)|\d{2,6})"
    r"(?:(?:\s?[/-]\s?|\s)\d{1,8}){0,4}(?:\s?(?:-|o\.|oder|/)\s?\d{2,5})?"
)
PHONE_CUE = r"(?i:\bTel(?:efon)?(?:\.?\s?-?Nr)?|\bFon|\bPhone|\bMobil(?:telefon)?|\bHandy|\bDurchwahl|\bNummer|\bRückruf(?:\sunter)?|\berreichbar\sunter|\bunter|\bInfo|\bSekretariat|\bPforte|\bZentrale|\bTelefonnummer|\bcall|\bT)"
FAX_CUE = r"(?i:\bFax|\bTelefax|\bFaxnummer|\bF)"
PHONE_PATTERNS: list[tuple[str, str, float]] = [
    ("cued", rf"(?<={PHONE_CUE}\.?:?\s{{0,3}})(?<!{FAX_CUE}\.?:?\s{{0,3}}){PHONE_NUM}(?<=\d)", 0.85),
    ("intl", r"(?<![\w+])\+\s?\d{1,3}\s?(?:\(0\)\s?)?(?:\(\d{1,6}\)|\d{1,6})(?:(?:\s?[/-]\s?|\s)\d{1,8}){1,4}", 0.75),
    ("trunk", r"(?<![\w.,/+-])\(?0\d{2,5}\)?\s?[/-]?\s?\d{3,}(?:[\s-]\d{2,})*(?![\d.,])", 0.5),
]
FAX_PATTERNS: list[tuple[str, str, float]] = [
    ("cued", rf"(?<={FAX_CUE}\.?:?\s{{0,3}}){PHONE_NUM}(?<=\d)", 0.9),
]


class GermanPhoneRecognizer(MedletterRegexRecognizer):
    ENTITY = "CONTACT_PHONE"
    RULES = PHONE_PATTERNS

    def valid(self, text, start, end, rule):
        frag = text[start:end]
        digits = sum(c.isdigit() for c in frag)
        if re.fullmatch(r"\d{1,2}\.\d{1,2}\.\d{2,4}", frag):
            return False
        if rule == "cued":
            return digits >= 5 and not re.fullmatch(r"(?:19|20)\d\d", frag)
        return digits >= 7


class GermanFaxRecognizer(GermanPhoneRecognizer):
    ENTITY = "CONTACT_FAX"
    RULES = FAX_PATTERNS
