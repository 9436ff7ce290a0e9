"""Pseudonymisation of detected patient information: consistent surrogates, per-patient date shift.

Detection (:mod:`medletter.privacy.detect`) finds spans; this module replaces them, through
presidio-anonymizer's ``AnonymizerEngine`` (each span gets its own ``replace`` operator with the
surrogate computed here, so that Presidio does the offset bookkeeping). Modes:

* ``pseudonymize`` (default): fluent surrogates. The same name always gets the same surrogate
  (gender-matched first names; inflected forms such as "Albers'" and initials follow), dates are
  shifted by an offset that is fixed per patient, so intervals and order stay right, and every date
  keeps its textual format ("04.04.2029" stays DD.MM.YYYY, "März 2029" becomes another month name).
  IDs, phone numbers and postcodes get format-preserving fakes; streets, cities and hospitals
  plausible fakes. Titles ("Dr. med.") and ages under 90 stay.
* ``mask``: ``[NAME_PATIENT]`` style placeholders.
* ``redact``: the span is removed.

Everything is deterministic from a secret key (HMAC-SHA256), kept outside the data: a key file
named by ``MEDLETTER_DEID_KEY_FILE`` or passed explicitly; :func:`create_key_file` writes one with
mode 0600. Optionally an encrypted mapping (Fernet, keyed from the secret) of surrogate -> original
is returned per document, so that a draft can be re-identified inside the hospital with
:func:`reidentify`.

Errors and logs never contain text: only counts, labels and offsets.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import regex as re

from medletter.privacy import names_data as nd
from medletter.privacy import patterns as P
from medletter.privacy.recognizers import ocr_variant
from medletter.records import Span

logger = logging.getLogger(__name__)

KEY_ENV = "MEDLETTER_DEID_KEY_FILE"
Mode = Literal["pseudonymize", "mask", "redact"]
MODES = ("pseudonymize", "mask", "redact")
NAME_LABELS = ("NAME_PATIENT", "NAME_DOCTOR", "NAME_RELATIVE", "NAME_EXT")
KEEP_LABELS = ("NAME_TITLE",)  # kept in pseudonymize mode: not identifying, keeps the letter fluent
MAX_SHIFT_DAYS = 365
MIN_SHIFT_DAYS = 30


class KeyError_(ValueError):
    """The de-identification key is missing or unusable (message names the path, never the key)."""


# --- the secret key ------------------------------------------------------------------------------


def create_key_file(path: str | os.PathLike, overwrite: bool = False) -> Path:
    """Write a new random 32-byte key (base64) to ``path`` with permissions 0600."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if overwrite else os.O_EXCL)
    try:
        fd = os.open(p, flags, 0o600)
    except FileExistsError:
        raise KeyError_(f"{p}: key file exists already (pass overwrite=True to replace it)") from None
    with os.fdopen(fd, "wb") as f:
        f.write(base64.urlsafe_b64encode(secrets.token_bytes(32)) + b"\n")
    os.chmod(p, 0o600)
    return p


def default_key() -> bytes:
    """The key of ``$MEDLETTER_DEID_KEY_FILE``, or one made once in the project cache (mode 0600)."""
    from medletter.models import cache_dir

    key_file = Path(os.environ.get(KEY_ENV) or cache_dir() / "deid.key")
    if not key_file.exists():
        create_key_file(key_file)
    return load_key(key_file)


def load_key(path: str | os.PathLike | None = None) -> bytes:
    """Read the key from ``path`` or from the file named by ``$MEDLETTER_DEID_KEY_FILE``."""
    path = path or os.environ.get(KEY_ENV)
    if not path:
        raise KeyError_(f"no de-identification key: pass a key file or set {KEY_ENV}")
    p = Path(path)
    try:
        raw = p.read_bytes().strip()
    except FileNotFoundError:
        raise KeyError_(f"{p}: key file not found") from None
    except PermissionError:
        raise KeyError_(f"{p}: key file not readable") from None
    if len(raw) < 16:
        raise KeyError_(f"{p}: key file is too short (expected at least 16 bytes)")
    mode = p.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        logger.warning("key file %s is readable by others; chmod 600 it", p)
    try:
        key = base64.urlsafe_b64decode(raw)
        if len(key) >= 16:
            return key
    except ValueError:
        pass
    return raw


# --- the surrogate generator ---------------------------------------------------------------------

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
_MONTHS_DE = ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
              "November", "Dezember")
_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
              "November", "December")


def _case_like(template: str, value: str) -> str:
    if len(template) > 1 and template.isupper():
        return value.upper()
    if template.islower():
        return value.lower()
    return value


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
        gm = re.fullmatch(rf"(.+?)(['’]s|['’]|s)", tok)
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
        return _case_like(base, sur) + suffix

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
        return _case_like(text, self._pick(_CITY_POOL, "city", text))

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


# --- dates in their textual formats ---------------------------------------------------------------

_MONTH_ALT = "|".join(sorted(P.MONTH_NUM, key=len, reverse=True))


def _y2(y2: int, pivot: int = 40) -> int:
    return 2000 + y2 if y2 < pivot else 1900 + y2


def _safe_date(y: int, m: int, d: int) -> dt.date | None:
    try:
        return dt.date(y, m, d)
    except ValueError:
        return None


def _fmt_num(template: str, value: int) -> str:
    return f"{value:0{len(template)}d}" if template.startswith("0") or len(template) == 2 and value >= 10 else str(value)


def shift_date_text(text: str, offset: int, context_year: int = 2001, next_date: dt.date | None = None,
                    anchors: dict[tuple[int, int], int] | None = None) -> str | None:
    """``text`` (a date as letters write it) shifted by ``offset`` days in the same format; None if
    it cannot be read as a date. A date without a day ("März 2029", "04/2029") is shifted as the
    day of a known date in that month (``anchors``: (year, month) -> day), else as the 15th, so that
    it moves with the full dates of the case."""
    delta = dt.timedelta(days=offset)
    anchors = anchors or {}
    s = text
    # ISO 2029-04-04
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", s)
    if m:
        d = _safe_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        return (d + delta).isoformat() if d else None
    # 04.04.2029, 4.4.97, 23.04 2029, 10. 03. 2043, 21/06/1967, 26 09.2033
    m = re.fullmatch(r"(\d{1,2})(\s?[./]\s?|\s)(\d{1,2})(\s?[./ ]\s?)(\d{4}|\d{2})", s)
    if m:
        dd, s1, mm, s2, yy = m.groups()
        year = int(yy) if len(yy) == 4 else _y2(int(yy))
        d = _safe_date(year, int(mm), int(dd))
        if not d:
            return None
        n = d + delta
        ys = str(n.year) if len(yy) == 4 else f"{n.year % 100:02d}"
        return f"{_fmt_num(dd, n.day)}{s1}{_fmt_num(mm, n.month)}{s2}{ys}"
    # 19.3. / 05.11 (day and month)
    m = re.fullmatch(r"(\d{1,2})\.(\d{1,2})(\.?)", s)
    if m:
        dd, mm, dot = m.groups()
        d = _safe_date(next_date.year if next_date else context_year, int(mm), int(dd))
        if not d:
            return None
        n = d + delta
        return f"{_fmt_num(dd, n.day)}.{_fmt_num(mm, n.month)}{dot}"
    # month names: 27. März 2025, 13.Juli 2025, März 2029, Oktober\n2012, Juni, March 4, 2029, 4 March 2029
    m = re.fullmatch(rf"(?:(\d{{1,2}})(\.?\s*))?({_MONTH_ALT})(\.?)(?:(\s*)(\d{{1,2}})(,))?(?:(\s*)('?)(\d{{4}}|\d{{2}}))?", s,
                     flags=re.IGNORECASE)
    if m:
        dd, sep1, mon, mdot, sp_d, dd2, comma, sp_y, apo, yy = m.groups()
        month = P.MONTH_NUM.get(mon.lower())
        if not month:
            return None
        day_s = dd or dd2
        year = int(yy) if yy and len(yy) == 4 else (_y2(int(yy)) if yy else context_year)
        d = _safe_date(year, month, int(day_s) if day_s else anchors.get((year, month), 15))
        if not d:
            return None
        n = d + delta
        english = mon.lower() in {x.lower() for x in _MONTHS_EN} and mon.lower() not in {x.lower() for x in _MONTHS_DE}
        names = _MONTHS_EN if english else _MONTHS_DE
        new_mon = names[n.month - 1]
        if len(mon) <= 4 and mdot:  # abbreviation "Jan."
            new_mon = new_mon[:3]
        new_mon = _case_like(mon, new_mon)
        out = ""
        if dd:
            out += f"{_fmt_num(dd, n.day)}{sep1}"
        out += new_mon + (mdot or "")
        if dd2:
            out += f"{sp_d}{_fmt_num(dd2, n.day)}{comma}"
        if yy:
            out += f"{sp_y}{apo}" + (str(n.year) if len(yy) == 4 else f"{n.year % 100:02d}")
        return out
    # 04/2029, 8/2023, 11/28, 07.2025, 02-04/2021
    m = re.fullmatch(r"(\d{1,2})(?:([-–])(\d{1,2}))?(\s?[/.]\s?)(\d{4}|\d{2})", s)
    if m:
        m1, dash, m2, sep, yy = m.groups()
        year = int(yy) if len(yy) == 4 else _y2(int(yy))
        parts = []
        for mm in (m1, m2):
            if mm is None:
                continue
            d = _safe_date(year, int(mm), anchors.get((year, int(mm)), 15))
            if not d:
                return None
            parts.append((mm, d + delta))
        n_last = parts[-1][1]
        ys = str(n_last.year) if len(yy) == 4 else f"{n_last.year % 100:02d}"
        ms = [_fmt_num(mm, n.month) for mm, n in parts]
        return (f"{ms[0]}{dash}{ms[1]}" if dash else ms[0]) + f"{sep}{ys}"
    # a year
    m = re.fullmatch(r"(\d{4})", s)
    if m:
        known = sorted((mo, da) for (yy, mo), da in anchors.items() if yy == int(s))
        d = _safe_date(int(s), *known[0]) if known else _safe_date(int(s), 7, 2)
        return str((d + delta).year) if d else None
    # the first day of a range ("4." in "vom 4. bis 18.10.21")
    m = re.fullmatch(r"(\d{1,2})(\.?)", s)
    if m and next_date:
        d = _safe_date(next_date.year, next_date.month, int(m.group(1)))
        if not d:
            return None
        return f"{_fmt_num(m.group(1), (d + delta).day)}{m.group(2)}"
    return None


def parse_date_text(text: str, context_year: int = 2001) -> dt.date | None:
    """The date a full date string denotes (for context), or None."""
    m = re.fullmatch(r"(\d{1,2})\s?[./]\s?(\d{1,2})\s?[./ ]\s?(\d{4}|\d{2})", text)
    if m:
        y = int(m.group(3)) if len(m.group(3)) == 4 else _y2(int(m.group(3)))
        return _safe_date(y, int(m.group(2)), int(m.group(1)))
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text)
    if m:
        return _safe_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    m = re.fullmatch(r"(\d{1,2})\.(\d{1,2})\.?", text)
    if m:
        return _safe_date(context_year, int(m.group(2)), int(m.group(1)))
    return None


# --- applying replacements with presidio-anonymizer -----------------------------------------------


@dataclass
class DeidResult:
    text: str
    spans: list[Span]
    """Spans of the replacements in the new text (label as detected)."""
    mapping: bytes | None = None
    """Fernet token with the surrogate -> original mapping of this document (if requested)."""
    replacements: list[tuple[int, int, int, int]] = field(default_factory=list)
    """(old start, old end, new start, new end) of every replaced span, in order."""

    def new_offset(self, old: int) -> int | None:
        """Where an offset of the old text lies in the new one; None inside a replaced span."""
        shift = 0
        for a, b, na, nb in self.replacements:
            if b <= old:
                shift = nb - b
            elif a < old < b:
                return None
            else:
                break
        return old + shift


def _fernet(key: bytes):
    from cryptography.fernet import Fernet

    fkey = base64.urlsafe_b64encode(hmac.new(key, b"medletter-reid-mapping-v1", hashlib.sha256).digest())
    return Fernet(fkey)


def encrypt_mapping(pairs: list[dict], key: bytes) -> bytes:
    return _fernet(key).encrypt(json.dumps(pairs, ensure_ascii=False).encode("utf-8"))


def decrypt_mapping(token: bytes | str, key: bytes) -> list[dict]:
    from cryptography.fernet import InvalidToken

    try:
        raw = _fernet(key).decrypt(token.encode() if isinstance(token, str) else token)
    except InvalidToken:
        raise KeyError_("mapping cannot be decrypted with this key (wrong key or damaged mapping)") from None
    return json.loads(raw.decode("utf-8"))


def reidentify(text: str, token: bytes | str, key: bytes) -> str:
    """Put the originals back into ``text`` (a draft written with surrogates), inside the hospital."""
    pairs = decrypt_mapping(token, key)
    subs = {}
    for p in pairs:
        if p["surrogate"] and p["surrogate"] != p["original"]:
            subs.setdefault(p["surrogate"], p["original"])
    if not subs:
        return text
    rx = re.compile(r"(?<![\w])(" + "|".join(re.escape(s) for s in sorted(subs, key=len, reverse=True)) + r")(?![\w])")
    return rx.sub(lambda m: subs[m.group(1)], text)


def _context_years(text: str, spans: list[Span]) -> list[int]:
    years, last = [], None
    for s in spans:
        if s.label == "DATE":
            m = re.search(r"(?<!\d)(1[89]\d\d|20\d\d)(?!\d)", s.text)
            if m:
                last = int(m.group(1))
        years.append(last)
    first = next((y for y in years if y), 2001)
    return [y or first for y in years]


def apply(text: str, spans: list[Span], surrogates: Surrogates, mode: Mode = "pseudonymize",
          with_mapping: bool = False) -> DeidResult:
    """Replace ``spans`` (non-overlapping) in ``text`` according to ``mode``."""
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r} (use one of {', '.join(MODES)})")
    from presidio_anonymizer import AnonymizerEngine
    from presidio_anonymizer.entities import OperatorConfig, RecognizerResult

    spans = sorted(spans, key=lambda s: s.start)
    years = _context_years(text, spans)
    results, operators, pairs = [], {}, []
    for i, s in enumerate(spans):
        original = text[s.start:s.end]
        if mode == "mask":
            new = f"[{s.label}]"
        elif mode == "redact":
            new = ""
        elif s.label in KEEP_LABELS:
            continue
        else:
            next_date = None
            if s.label == "DATE":
                nxt = next((t for t in spans[i + 1:i + 3] if t.label == "DATE" and t.start - s.end < 15), None)
                if nxt:
                    next_date = parse_date_text(nxt.text, years[i])
            new = surrogates.replace(s.label, original, years[i], next_date)
        tag = f"{s.label}#{i}"
        results.append(RecognizerResult(entity_type=tag, start=s.start, end=s.end, score=1.0))
        operators[tag] = OperatorConfig("redact", {}) if mode == "redact" else OperatorConfig("replace", {"new_value": new})
        if with_mapping and new:
            pairs.append({"label": s.label, "surrogate": new, "original": original})
    if not results:
        kept = [Span(start=s.start, end=s.end, label=s.label, text=s.text) for s in spans if s.label in KEEP_LABELS]
        return DeidResult(text, kept, encrypt_mapping(pairs, surrogates.key) if with_mapping else None)
    engine = AnonymizerEngine()
    res = engine.anonymize(text=text, analyzer_results=results, operators=operators,
                           merge_entities_with_spaces=False)
    new_text = res.text
    new_spans, replacements = [], []
    for item in sorted(res.items, key=lambda it: it.start):
        label, idx = item.entity_type.split("#", 1)
        old = spans[int(idx)]
        replacements.append((old.start, old.end, item.start, item.end))
        if item.end > item.start:
            new_spans.append(Span(start=item.start, end=item.end, label=label, text=new_text[item.start:item.end]))
    if mode == "pseudonymize":  # titles stay; report them at their new offsets
        new_spans += _kept_spans(text, spans, res.items, new_text)
        new_spans.sort(key=lambda s: s.start)
    return DeidResult(new_text, new_spans, encrypt_mapping(pairs, surrogates.key) if with_mapping else None,
                      replacements)


def _kept_spans(text: str, spans: list[Span], items, new_text: str) -> list[Span]:
    """Where the unchanged (kept) spans ended up in the new text."""
    repl = sorted(((int(it.entity_type.split("#")[1]), it) for it in items), key=lambda x: x[0])
    shifts = []  # (original end, delta)
    by_index = dict(repl)
    out = []
    delta = 0
    for i, s in enumerate(spans):
        if i in by_index:
            it = by_index[i]
            delta += (it.end - it.start) - (s.end - s.start)
            shifts.append((s.end, delta))
        elif s.label in KEEP_LABELS:
            a, b = s.start + delta, s.end + delta
            if new_text[a:b] == text[s.start:s.end]:
                out.append(Span(start=a, end=b, label=s.label, text=new_text[a:b]))
    return out


def pseudonymize_text(text: str, key: bytes, mode: Mode = "pseudonymize", lang: str = "de",
                      patient_key: str = "", known=None, sex: str | None = None,
                      spans: list[Span] | None = None, with_mapping: bool = False) -> DeidResult:
    """Detect (unless ``spans`` are given) and replace patient information in one text."""
    from medletter.privacy.detect import detect

    if spans is None:
        spans = detect(text, lang=lang, known=known)
    sur = Surrogates(key=key, patient_key=patient_key, sex=sex)
    if known is not None:
        sur.known_first = {t.lower() for n in known.patient_first for t in n.split()}
        sur.add_known(*known.patient_first, *known.patient_last, *[f"{a} {b}" for a, b in known.doctor_names])
    return apply(text, spans, sur, mode=mode, with_mapping=with_mapping)



# --- records ------------------------------------------------------------------------------------

_DATE_KEYS = ("birth_date", "letter_date", "date_of_diagnosis", "date", "start_date", "end_date")
_FREE_TEXT_KEYS = ("text", "procedure", "surgeon_institution", "where", "what", "interval_text", "reason",
                   "findings_at_end", "recommendations")


def _surrogates_for_case(case, key: bytes) -> Surrogates:
    p = case.patient
    sur = Surrogates(key=key, patient_key=str(p.patient_id), sex=p.sex.value if p.sex else None)
    sur.known_first = {t.lower() for t in p.first_name.split()}
    sur.add_known(p.first_name, p.last_name)
    for doc in [case.referring_physician, *case.treating_physicians]:
        sur.add_known(doc.first_name, doc.last_name)
        for t in doc.first_name.split():
            sur.first_sex.setdefault(t.lower(), doc.sex.value if doc.sex else "")
    dates = [p.birth_date, case.letter_date]
    if case.main_diagnosis.date_of_diagnosis:
        dates.append(case.main_diagnosis.date_of_diagnosis)
    dates += [s.date for s in case.prior_treatments.surgeries]
    dates += [s.start_date for s in case.prior_treatments.systemic] + [s.end_date for s in case.prior_treatments.systemic if s.end_date]
    dates += [c.start_date for c in case.radiotherapy_courses] + [c.end_date for c in case.radiotherapy_courses]
    for d in sorted(dates):
        sur.anchors.setdefault((d.year, d.month), d.day)
    return sur


def _placeholder(label: str, mode: Mode) -> str:
    return f"[{label}]" if mode == "mask" else "[REDACTED]"


def _deid_case(case, sur: Surrogates, mode: Mode, known, lang: str):
    from medletter.privacy.detect import detect

    data = case.model_dump(mode="json")
    p = data["patient"]
    pseudo = mode == "pseudonymize"

    def name(v, label):
        return sur.name(v) if pseudo else _placeholder(label, mode)

    p["first_name"] = name(p["first_name"], "NAME_PATIENT")
    p["last_name"] = name(p["last_name"], "NAME_PATIENT")
    a = p["address"]
    a["street"] = sur.street(a["street"]) if pseudo else _placeholder("LOCATION_STREET", mode)
    a["postcode"] = sur.postcode(a["postcode"]) if pseudo else "00000"
    a["city"] = sur.city(a["city"]) if pseudo else _placeholder("LOCATION_CITY", mode)
    if p.get("phone"):
        p["phone"] = sur.phone(p["phone"]) if pseudo else _placeholder("CONTACT_PHONE", mode)
    for k in ("patient_id", "case_id", "insurance_number"):
        p[k] = sur.digits(p[k], "id") if pseudo else _placeholder("ID", mode)
    data["case_id"] = sur.digits(data["case_id"], "id") if pseudo else _placeholder("ID", mode)
    for doc in [data["referring_physician"], *data["treating_physicians"]]:
        doc["first_name"] = name(doc["first_name"], "NAME_DOCTOR")
        doc["last_name"] = name(doc["last_name"], "NAME_DOCTOR")
        if doc.get("institution"):
            doc["institution"] = sur.replace("LOCATION_HOSPITAL", doc["institution"]) if pseudo else _placeholder("LOCATION_HOSPITAL", mode)
        for k in ("phone", "fax"):
            if doc.get(k):
                doc[k] = sur.phone(doc[k]) if pseudo else _placeholder("CONTACT_PHONE", mode)
        if doc.get("address"):
            da = doc["address"]
            da["street"] = sur.street(da["street"]) if pseudo else _placeholder("LOCATION_STREET", mode)
            da["postcode"] = sur.postcode(da["postcode"]) if pseudo else "00000"
            da["city"] = sur.city(da["city"]) if pseudo else _placeholder("LOCATION_CITY", mode)

    def walk(node):
        if isinstance(node, dict):
            for k, v in node.items():
                if k in _DATE_KEYS and isinstance(v, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", v):
                    node[k] = sur.shift(dt.date.fromisoformat(v)).isoformat()
                elif k in _FREE_TEXT_KEYS and isinstance(v, str) and v.strip():
                    node[k] = _deid_free_text(v, sur, mode, known, lang, detect)
                elif k in _FREE_TEXT_KEYS and isinstance(v, list):
                    node[k] = [_deid_free_text(x, sur, mode, known, lang, detect) if isinstance(x, str) else x for x in v]
                else:
                    walk(v)
        elif isinstance(node, list):
            for x in node:
                walk(x)

    walk(data)
    return data


def _deid_free_text(text: str, sur: Surrogates, mode: Mode, known, lang: str, detect) -> str:
    spans = detect(text, lang=lang, known=known)
    if not spans:
        return text
    out = apply(text, spans, sur, mode=mode).text
    return out if out.strip() else _placeholder("PHI", mode)


def _union_spans(text: str, gold: list[Span], found: list[Span]) -> list[Span]:
    from presidio_analyzer import RecognizerResult as AR

    from medletter.privacy.detect import resolve

    results = [AR(s.label, s.start, s.end, 1.0) for s in gold if text[s.start:s.end] == s.text]
    results += [AR(s.label, s.start, s.end, 0.9) for s in found]
    return resolve(results, text)


def deidentify_record_with_mapping(record, key: bytes, mode: Mode = "pseudonymize", use_gold_spans: bool = True):
    """:func:`deidentify_record`, also returning the letter's encrypted mapping (or None)."""
    from medletter.privacy.detect import KnownPHI, detect
    from medletter.records import Record

    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r} (use one of {', '.join(MODES)})")
    case = record.case
    known = KnownPHI.from_case(case)
    sur = _surrogates_for_case(case, key)
    letter = record.letter
    lang = letter.language if letter is not None else "de"
    case_data = _deid_case(case, sur, mode, known, lang)
    letter_data, token = None, None
    if letter is not None:
        found = detect(letter.text, lang=lang, known=known)
        spans = _union_spans(letter.text, letter.spans if use_gold_spans else [], found)
        res = apply(letter.text, spans, sur, mode=mode, with_mapping=True)
        token = res.mapping
        sections, cursor = [], 0
        for sec in letter.sections:
            pos = letter.text.find(sec.text, cursor) if sec.text else -1
            a = res.new_offset(pos) if pos >= 0 else None
            b = res.new_offset(pos + len(sec.text)) if pos >= 0 else None
            if a is not None and b is not None:
                new_sec = res.text[a:b]
                cursor = pos + len(sec.text)
            else:  # a section not found verbatim: de-identify it on its own (same surrogates)
                new_sec = _deid_free_text(sec.text, sur, mode, known, lang, detect) if sec.text else sec.text
            sd = sec.model_dump(mode="json")
            sd["text"] = new_sec
            sections.append(sd)
        letter_data = letter.model_dump(mode="json")
        letter_data["text"] = res.text
        letter_data["sections"] = sections
        letter_data["spans"] = [s.model_dump() for s in res.spans if s.end > s.start]
    out = Record.model_validate({"case": case_data, "letter": letter_data, "split": record.split})
    logger.debug("de-identified a record: %d letter spans", len(letter_data["spans"]) if letter_data else 0)
    return out, token


def deidentify_record(record, key: bytes, mode: Mode = "pseudonymize", use_gold_spans: bool = True):
    """De-identify one :class:`medletter.records.Record`: the case fields and the letter, consistently.

    The patient's and physicians' names, address, phone numbers and IDs are replaced by surrogates
    (``mask``/``redact``: placeholders), and **every date of the case is shifted by the same
    per-patient offset**, so that the case stays valid. The letter's spans (from the synthetic
    generator; ground truth when ``use_gold_spans``) are united with :func:`detect` hits, using what
    the case knows; the new letter's spans point at the surrogates. The result is validated.
    """
    return deidentify_record_with_mapping(record, key, mode=mode, use_gold_spans=use_gold_spans)[0]
