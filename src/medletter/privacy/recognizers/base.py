"""What the recognisers of this package share: case-sensitive matching, the result with its
explanation, the regular-expression recogniser most entity types are, and word tests that more than
one recogniser needs.

Scores. A result's score says how sure its rule is from the form alone, and it decides between rules
whose spans overlap: :func:`medletter.privacy.detect.resolve` keeps the higher score, then the longer
span. Rules score 0.5-1.0: above :data:`~medletter.privacy.detect.SCORE_THRESHOLD` (0.4) and above the
learned tagger's :data:`~medletter.privacy.detect.LEARNED_SCORE` (0.45), so that where a rule fires its
span and label win over the tagger's. The residual-risk report (:mod:`medletter.privacy.residual`) lists
a decision for review when its best rule scores below 0.6, or a single rule below 0.7 supports it: a
rule scores that low when the form alone leaves doubt.

Recognisers never log text; only counts.
"""

from __future__ import annotations

import regex as re
from presidio_analyzer import AnalysisExplanation, EntityRecognizer, RecognizerResult

from medletter.privacy import names_data as nd

FLAGS = re.MULTILINE  # case-sensitive on purpose: capitalisation is evidence


def make_result(rec: EntityRecognizer, entity: str, start: int, end: int, score: float, rule: str) -> RecognizerResult:
    """A result of ``rec`` with its explanation (the rule's name as the pattern name)."""
    expl = AnalysisExplanation(recognizer=rec.name, original_score=score, pattern_name=rule)
    return RecognizerResult(
        entity_type=entity,
        start=start,
        end=end,
        score=score,
        analysis_explanation=expl,
        recognition_metadata={
            RecognizerResult.RECOGNIZER_NAME_KEY: rec.name,
            RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: rec.id,
        },
    )


class MedletterRegexRecognizer(EntityRecognizer):
    """Rules of one entity type: ``(rule name, pattern, score)``; the whole match is the entity.

    Patterns carry their context as look-behind/look-ahead; matching is case-sensitive.
    Subclasses may override :meth:`valid` to reject a match.
    """

    ENTITY = ""
    RULES: list[tuple[str, str, float]] = []

    def __init__(self, supported_language: str = "de", context: list[str] | None = None):
        self._compiled: list[tuple[str, re.Pattern, float]] = []
        super().__init__(
            supported_entities=[self.ENTITY],
            supported_language=supported_language,
            name=f"{type(self).__name__}",
            context=context,
        )

    def load(self) -> None:
        self._compiled = [(n, re.compile(p, FLAGS), s) for n, p, s in self.RULES]

    def valid(self, text: str, start: int, end: int, rule: str) -> bool:
        return True

    def analyze(self, text, entities, nlp_artifacts=None, regex_flags=None):  # type: ignore[override]
        out = []
        for name, rx, score in self._compiled:
            for m in rx.finditer(text):
                s, e = m.span()
                while e > s and text[e - 1] in " \t\n,;:":
                    e -= 1
                if e > s and self.valid(text, s, e, name):
                    out.append(make_result(self, self.ENTITY, s, e, score, name))
        return out


# --- word tests of more than one recogniser ------------------------------------------------------

# articles, determiners and possessives: a capitalised word after one is a noun, not a name
ARTICLES = frozenset(
    "der die das den dem des ein eine einen einem einer eines im am vom zum zur beim ins kein keine keinen keiner "
    "seine seiner seinem seinen ihre ihrer ihrem ihren unsere unserer unserem diese dieser diesem diesen the a an".split()
)
# capitals that are clinical abbreviations or numerals, not names nor a hospital's abbreviation
NON_NAME_CAPS = frozenset("CT MRT MRI PET EKG EEG EMG OP KG AZ EZ RR HF BZ ED DD NaCl PCR CRP HIV HCV HBV ICD TNM "
                          "UICC AJCC WHO ECOG KPS IMRT VMAT SBRT IGRT CTV PTV GTV OAR DVH ZVK PICC PEG PORT USA DIN ISO "
                          "EN II III IV VI VII VIII IX XI XII".split())


def name_like_city(tok: str) -> bool:
    """The last word of ``tok`` may be a place: no common noun, no noun's ending ("-ung", "-itis")."""
    base = tok.split()[-1].split("-")[0]
    return base not in nd.NOT_NAME and base.capitalize() not in nd.NOT_NAME and not base.lower().endswith(
        ("ung", "heit", "keit", "tion", "itis", "ose", "ie", "mg", "ml")
    )
