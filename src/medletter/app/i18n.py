"""The review app's languages: German (the default) and English, through gettext catalogues.

The catalogues are ``app/locale/{de,en}/LC_MESSAGES/messages.po`` (made and updated with Babel:
``make messages``). They are compiled in memory when first needed (Babel's ``read_po``/``write_mo``),
so a fresh clone, an installed wheel and a read-only install all get the current texts without a
compile step and without a stale ``.mo`` file; compiling both catalogues takes a few milliseconds.

Texts for people are English in the code (the msgids) and translated where they are shown:

* pages: Jinja2's i18n extension (``{% trans %}``, ``_()``) in one environment per language;
* messages of the services (errors, problems of an upload) are :class:`Msg` objects: a ``str`` that
  reads as the English text (what the API, the log and the CLI print, unchanged) and that a page
  translates with :func:`translate`; their parameters stay apart from the text, so a translation
  never has to parse a formatted message.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from functools import cache, lru_cache
from pathlib import Path

LANGS: tuple[str, ...] = ("de", "en")
DEFAULT_LANG = "de"
LANG_NAMES = {"de": "Deutsch", "en": "English"}
"""Each language in its own words (the language menu shows them untranslated)."""
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"


def check_lang(lang: str | None, where: str = "lang") -> str:
    if lang not in LANGS:
        raise ValueError(f"{where}: must be one of {', '.join(LANGS)}")
    return lang


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(lang: str):
    """The compiled catalogue of ``lang`` (a ``babel.support.Translations``, a GNUTranslations)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    from babel.support import Translations

    path = po_path(check_lang(lang))
    with path.open("rb") as f:
        catalog = read_po(f, locale=lang, domain=DOMAIN)
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    return Translations(fp=buf, domain=DOMAIN)


def gettext(lang: str, msgid: str) -> str:
    return translations(lang).gettext(msgid)


def ngettext(lang: str, singular: str, plural: str, n: int) -> str:
    return translations(lang).ngettext(singular, plural, n)


class Msg(str):
    """A text for people: reads as its English text; ``localize(lang)`` gives it in ``lang`` (not
    ``translate``: ``str.translate`` means something else).

    ``Msg("no case %(id)s", id=7)`` is the string ``"no case 7"``. Parameters that are Msg objects
    themselves (a role's name, a problem inside a line's error) are translated with it.
    """

    msgid: str
    params: dict

    def __new__(cls, msgid: str, /, **params) -> Msg:
        self = super().__new__(cls, msgid % params if params else msgid)
        self.msgid, self.params = msgid, params
        return self

    def localize(self, lang: str) -> str:
        text = gettext(lang, self.msgid)
        if not self.params:
            return text
        return text % {k: translate(v, lang) for k, v in self.params.items()}

    def __reduce__(self):  # pickles (multiprocessing) as itself
        return (_rebuild, (self.msgid, self.params))


def _rebuild(msgid: str, params: dict) -> Msg:
    return Msg(msgid, **params)


def N_(msgid: str) -> str:
    """Marks a text for the catalogue where it is translated later by value (tables of labels)."""
    return msgid


def translate(value, lang: str):
    """A Msg in ``lang``; any other value as it is (numbers, names, codes, texts from elsewhere)."""
    return value.localize(lang) if isinstance(value, Msg) else value


def join(items, sep: str = ", ") -> Msg:
    """Texts joined by ``sep`` (a list of roles, say), each translated with the message it is part of."""
    params = {f"i{k}": v for k, v in enumerate(items)}
    return Msg(sep.join(f"%({k})s" for k in params), **params)


def parse_stored(text: str | None, msgids: tuple[str, ...]) -> Msg | str | None:
    """A message stored as English text (in the database) back as a Msg, when it has the form of one
    of ``msgids`` (its ``%(name)s`` parameters matched as text); else the text as it is."""
    if not text:
        return text
    for msgid in msgids:
        m = _pattern(msgid).fullmatch(text)
        if m:
            return Msg(msgid, **m.groupdict())
    return text


@lru_cache(maxsize=64)
def _pattern(msgid: str) -> re.Pattern:
    parts = re.split(r"%\((\w+)\)s", msgid)
    rx = "".join(re.escape(p.replace("%%", "%")) if i % 2 == 0 else f"(?P<{p}>.*?)" for i, p in enumerate(parts))
    return re.compile(rx, re.DOTALL)


# ---------------------------------------------------------------- dates and numbers (Babel's CLDR data)


def format_date(value: dt.date | str | None, lang: str) -> str:
    """German ``01.03.2029``, English ``Mar 1, 2029``; ``–`` for none; an ISO string is read first."""
    from babel.dates import format_date as fd

    if value is None or value == "":
        return "–"
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    if isinstance(value, dt.datetime):
        value = value.date()
    return fd(value, "medium", locale=lang)


def format_datetime(value: dt.datetime | None, lang: str, seconds: bool = False) -> str:
    """Date and time of day (the app stores UTC; the caller says so): ``01.03.2029 14:03``."""
    from babel.dates import format_time

    if value is None:
        return "–"
    return f"{format_date(value, lang)} {format_time(value, 'medium' if seconds else 'short', locale=lang)}"


def format_number(value: float | None, lang: str, digits: int = 2) -> str:
    """A number with the language's decimal sign: ``2,67`` / ``2.67``; ``–`` for none."""
    from babel.numbers import format_decimal

    if value is None:
        return "–"
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    return format_decimal(value, format=pattern, locale=lang)


def format_percent(value: float | None, lang: str, digits: int = 1) -> str:
    """A share as a percentage in the language's form: ``45,3 %`` / ``45.3%``; ``–`` for none."""
    from babel.numbers import format_percent as fp

    if value is None:
        return "–"
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "") + ("\u00a0%" if lang == "de" else "%")
    return fp(value, format=pattern, locale=lang)


# ---------------------------------------------------------------- Jinja2


def jinja_env(directory: str | Path, lang: str, **options):
    """A Jinja2 environment for ``lang``: autoescaped, with the i18n extension and the catalogue
    installed (new-style gettext: ``_("%(n)s letters", n=3)`` formats and escapes its parameters),
    and the filters that show dates, numbers and service messages in that language."""
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(directory)), autoescape=True,
                             extensions=["jinja2.ext.i18n"], **options)
    env.policies["ext.i18n.trimmed"] = True  # a {% trans %} block's text is one line (as Babel extracts it)
    env.install_gettext_translations(translations(lang), newstyle=True)
    env.globals["lang"] = lang
    env.filters["date"] = lambda v: format_date(v, lang)
    env.filters["datetime"] = lambda v, seconds=False: format_datetime(v, lang, seconds)
    env.filters["number"] = lambda v, digits=2: format_number(v, lang, digits)
    env.filters["percent"] = lambda v, digits=1: format_percent(v, lang, digits)
    env.filters["tr"] = lambda v: translate(v, lang)
    return env
