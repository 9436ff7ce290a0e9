"""Surrogates: deterministic, fluent replacements for patient information, from a secret key.

The same name always gets the same surrogate (gender-matched first names; inflected forms such as
"Albers'" and initials follow), dates are shifted by an offset that is fixed per patient (so that
intervals and order stay right) and keep their format (:mod:`medletter.privacy.dateshift`); IDs, phone
numbers and postcodes get format-preserving fakes; streets, cities and hospitals plausible fakes from
the pools below. Ages under 90 stay.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass, field

import regex as re

from medletter.privacy import names_data as nd
from medletter.privacy import patterns as P
from medletter.privacy.dateshift import case_like, shift_date_text
from medletter.privacy.recognizers import ocr_variant

NAME_LABELS = ("NAME_PATIENT", "NAME_DOCTOR", "NAME_RELATIVE", "NAME_EXT")
MAX_SHIFT_DAYS = 365
MIN_SHIFT_DAYS = 30

_SURNAME_POOL = tuple(n for n in nd.SURNAMES if n.isalpha() and n not in nd.COMMON_NOUNS and len(n) > 3)
_FEMALE_POOL = tuple(n for n in nd.FEMALE_FIRST if n.isalpha() and len(n) > 2)
_MALE_POOL = tuple(n for n in nd.MALE_FIRST if n.isalpha() and len(n) > 2)
_CITY_POOL = tuple(c for c in nd.CITIES if " " not in c and "/" not in c and c not in nd.AMBIGUOUS_CITIES
                   and len(c) > 3 and c.isalpha() and not re.search(r"(?:ue|oe)", c))
_STREET_POOL = tuple(s for s in nd.STREETS if s.endswith(("straße", "weg", "allee", "platz")))
_HOSPITAL_POOL = (
    "Klinikum Nordstadt", "St.-Marien-Krankenhaus", "Kreiskrankenhaus Talheim", "Evangelisches Klinikum Am Park",
    "Universitätsklinikum Seestadt", "Krankenhaus Lindenhof", "St.-Josefs-Hospital", "Klinikum Am Hang",
    "Elisabethen-Krankenhaus", "Städtisches Klinikum Auental", "Rehaklinik Sonnenhang", "Praxis am Markt",
)
_ORG_POOL = ("Musterkasse", "Gesundheitskasse Nord", "Versicherung Süd", "Betriebskrankenkasse West", "Landesversicherung")
_COUNTRY_POOL = ("Norwegen", "Portugal", "Kanada", "Irland", "Chile", "Island", "Neuseeland", "Finnland")
_PROFESSION_POOL = ("Angestellter", "Handwerker", "Kaufmann", "Techniker", "Verwaltungsangestellter", "Facharbeiter")


@dataclass
class Surrogates:
    """Deterministic surrogates from a secret key. ``patient_key`` fixes the date shift."""

    key: bytes
    patient_key: str = ""
    sex: str | None = None  # "female"/"male" for the patient's own first names
    known_first: set[str] = field(default_factory=set)  # the patient's first names (lower case)
    canon: dict[str, str] = field(default_factory=dict)  # lower-case name token -> canonical form
    first_sex: dict[str, str] = field(default_factory=dict)  # known first names (lower case) -> sex
    anchors: dict[tuple[int, int], int] = field(default_factory=dict)  # (year, month) -> day of a known date

    def _h(self, *parts: str) -> int:
        msg = "\x1f".join(parts).encode("utf-8")
        return int.from_bytes(hmac.new(self.key, msg, hashlib.sha256).digest()[:8], "big")

    def _pick(self, pool, kind: str, original: str) -> str:
        i = self._h(kind, original.lower())
        avoid = self.canon if kind.startswith(("first", "surname")) else {}
        for k in range(len(pool)):
            cand = pool[(i + k) % len(pool)]
            if cand.lower() != original.lower() and cand.lower() not in avoid:
                return cand
        return pool[0]

    # -- dates --
    @property
    def offset_days(self) -> int:
        n = self._h("date-offset", self.patient_key) % (2 * (MAX_SHIFT_DAYS - MIN_SHIFT_DAYS) + 1)
        d = n - (MAX_SHIFT_DAYS - MIN_SHIFT_DAYS)
        return d + MIN_SHIFT_DAYS if d >= 0 else d - MIN_SHIFT_DAYS

    def shift(self, d: dt.date) -> dt.date:
        return d + dt.timedelta(days=self.offset_days)

    # -- names --
    def _canonical(self, tok: str) -> str:
        low = tok.lower()
        if low in self.canon:
            return self.canon[low]
        for k, v in self.canon.items():
            if ocr_variant(low, k):
                self.canon[low] = v
                return v
        self.canon[low] = low
        return low

    def add_known(self, *names: str) -> None:
        for n in names:
            for t in re.split(r"[\s,-]+", n or ""):
                if len(t) > 1:
                    self.canon.setdefault(t.lower(), t.lower())

    def name_token(self, tok: str) -> str:
        if re.fullmatch(P.PARTICLE, tok) and not tok[:1].isupper():
            return tok
        m = re.fullmatch(rf"([{P.UC}][{P.LC}]?)\.", tok)
        if m:  # an initial: the initial of the surrogate of a known token with that letter, else a letter
            letter = m.group(1)[0].lower()
            for low, can in self.canon.items():
                if can[:1] == letter and len(can) > 2:
                    return self.name_token(can.capitalize())[0] + "."
            return chr(ord("A") + self._h("initial", letter) % 26) + "."
        suffix = ""
        gm = re.fullmatch(r"(.+?)(['’]s|['’]|s)", tok)
        base = tok
        if gm and gm.group(1).lower() in self.canon:
            base, suffix = gm.group(1), gm.group(2)
        can = self._canonical(base)
        first = (can in self.known_first or can in self.first_sex or can.capitalize() in nd.FEMALE_FIRST
                 or can.capitalize() in nd.MALE_FIRST)
        if first:
            if can in self.known_first and self.sex in ("female", "male"):
                female = self.sex == "female"
            elif self.first_sex.get(can) in ("female", "male"):
                female = self.first_sex[can] == "female"
            elif can.capitalize() in nd.FEMALE_FIRST:
                female = True
            elif can.capitalize() in nd.MALE_FIRST:
                female = False
            else:
                female = can.endswith(("a", "e", "ine", "ia"))
            sur = self._pick(_FEMALE_POOL if female else _MALE_POOL, "first-f" if female else "first-m", can)
        else:
            sur = self._pick(_SURNAME_POOL, "surname", can)
        if sur.lower() == base.lower():  # never the original
            sur = self._pick(_SURNAME_POOL, "surname2", can)
        return case_like(base, sur) + suffix

    def name(self, text: str) -> str:
        return re.sub(rf"[{P.UC}{P.LC}]+(?:['’]s|['’])?\.?|[{P.UC}][{P.LC}]?\.",
                      lambda m: self.name_token(m.group(0)) if m.group(0)[0].isalpha() else m.group(0), text)

    # -- format-preserving fakes --
    def digits(self, text: str, kind: str, keep_prefix: int = 0) -> str:
        out, i = [], self._h(kind, re.sub(r"\W", "", text).lower())
        n = 0
        for c in text:
            if c.isdigit():
                if n < keep_prefix:
                    out.append(c)
                else:
                    i = i * 6364136223846793005 + 1442695040888963407 & (2**64 - 1)
                    d = str((i >> 33) % 10)
                    if n == 0 and d == "0" and c != "0":
                        d = "1"
                    out.append(d)
                n += 1
            elif c.isalpha() and c.isascii():
                i = i * 6364136223846793005 + 1442695040888963407 & (2**64 - 1)
                ch = chr(ord("A") + (i >> 33) % 26)
                out.append(ch if c.isupper() else ch.lower())
            else:
                out.append(c)
        res = "".join(out)
        if res == text and any(c.isdigit() for c in text):
            res = re.sub(r"\d(?!.*\d)", lambda m: str((int(m.group(0)) + 1) % 10), res, flags=re.DOTALL)
        return res

    def phone(self, text: str) -> str:
        m = re.match(r"\s*(\+\s?\d{1,3}|00\d{2}|\(?0\d{1,4}\)?)", text)
        keep = sum(c.isdigit() for c in m.group(0)) if m else 0
        return self.digits(text, "phone", keep_prefix=min(keep, 5))

    def postcode(self, text: str) -> str:
        m = re.match(r"([A-Z]{1,2}\s?-\s?)?(.*)$", text)
        return (m.group(1) or "") + self.digits(m.group(2), "zip", keep_prefix=1)

    def street(self, text: str) -> str:
        m = re.search(r"(\s*\.?\s*)(\d[\d\s\-/a-zA-Z]*)$", text)
        name = self._pick(_STREET_POOL, "street", re.sub(r"\s*\d.*$", "", text))
        if m:
            num = self.digits(m.group(2), "house")
            return name + " " + num.strip()
        return name

    def city(self, text: str) -> str:
        return case_like(text, self._pick(_CITY_POOL, "city", text))

    def email(self, text: str) -> str:
        a = self._pick(_SURNAME_POOL, "email", text).lower()
        return f"{a}.{self._h('email-n', text) % 1000}@beispiel-klinik.de"

    # -- dates --
    def date(self, text: str, context_year: int = 2001, next_date: dt.date | None = None) -> str:
        out = shift_date_text(text, self.offset_days, context_year, next_date, self.anchors)
        return out if out is not None else self.digits(text, "date")

    def replace(self, label: str, text: str, context_year: int = 2001, next_date: dt.date | None = None) -> str:
        if label in NAME_LABELS:
            return self.name(text)
        if label == "DATE":
            return self.date(text, context_year, next_date)
        if label == "AGE":
            try:
                return text if int(text) < 90 else "90"
            except ValueError:
                return text
        if label in ("ID", "NAME_USERNAME"):
            return self.digits(text, "id")
        if label in ("CONTACT_PHONE", "CONTACT_FAX"):
            return self.phone(text)
        if label == "LOCATION_ZIP":
            return self.postcode(text)
        if label == "LOCATION_STREET":
            return self.street(text)
        if label == "LOCATION_CITY":
            return self.city(text)
        if label == "LOCATION_HOSPITAL":
            return self._pick(_HOSPITAL_POOL, "hospital", text)
        if label == "LOCATION_ORGANIZATION":
            return self._pick(_ORG_POOL, "org", text)
        if label == "LOCATION_COUNTRY":
            return self._pick(_COUNTRY_POOL, "country", text)
        if label == "PROFESSION":
            return self._pick(_PROFESSION_POOL, "profession", text)
        if label == "CONTACT_EMAIL":
            return self.email(text)
        if label == "CONTACT_URL":
            return "https://www.beispiel-klinik.de"
        return f"[{label}]"
