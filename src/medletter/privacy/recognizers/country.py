"""Countries (``LOCATION_COUNTRY``): a country's name from the list in
:mod:`medletter.privacy.names_data`.

Forms (invented examples): "stammt aus Portugal", "Urlaub in Thailand", "lebt seit 2009 in der
Schweiz".

Score: 0.6: the name alone, with no cue, says where someone comes from or has been, or only where
something was done; a hospital's name that contains it scores higher (its span wins).
"""

from __future__ import annotations

from medletter.privacy import names_data as nd
from medletter.privacy.patterns import alt
from medletter.privacy.recognizers.base import MedletterRegexRecognizer

COUNTRY_RE = alt(nd.COUNTRIES)


class GermanCountryRecognizer(MedletterRegexRecognizer):
    ENTITY = "LOCATION_COUNTRY"
    RULES = [("country", rf"(?<![\w-]){COUNTRY_RE}(?![\w-])", 0.6)]
