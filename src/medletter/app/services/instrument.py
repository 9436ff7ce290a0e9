"""The rating instrument: data, not code (``app/assets/rating_instrument.json``, or a department's own file).

Dimensions, each with a unique ``key``, a ``label``, an optional ``question`` and every point of the
4-point ``scale`` worded ("1" worst … "4" best), and the ``would_sign`` question. Every text is either a
string (shown in every language) or one per language, ``{"de": "…", "en": "…"}``; the shipped
instrument has both. A study freezes its instrument with all its languages; :func:`localize` picks one
for a page or the API (the user's, else German, else whichever the text has).

Studies made before the instrument had languages froze its English wording: a plain string that is a
text of the shipped instrument is shown in the shipped instrument's translation.
"""

from __future__ import annotations

import copy
import json
import re
from functools import lru_cache
from importlib import resources

from medletter.app.i18n import DEFAULT_LANG, LANGS, Msg, join
from medletter.app.services.errors import Invalid

SCALE = ("1", "2", "3", "4")
_KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


@lru_cache(maxsize=1)
def _shipped() -> dict:
    raw = resources.files("medletter.app").joinpath("assets/rating_instrument.json").read_text(encoding="utf-8")
    return json.loads(raw)


def default_instrument(lang: str | None = "en") -> dict:
    """The shipped instrument in one language (English by default, as the CLI and the demo report show it),
    or with every language (``lang=None``: what a study freezes)."""
    inst = copy.deepcopy(_shipped())
    return inst if lang is None else localize(inst, lang)


def _is_text(v) -> bool:
    if isinstance(v, str):
        return bool(v.strip())
    return (isinstance(v, dict) and bool(v) and set(v) <= set(LANGS)
            and all(isinstance(t, str) and t.strip() for t in v.values()))


def check_instrument(inst, where: str = "instrument") -> dict:
    """The instrument, validated. Errors name the field, never a value."""
    errors = []
    if not isinstance(inst, dict):
        raise Invalid([join([where, Msg("not a JSON object")], ": ")])
    dims = inst.get("dimensions")
    if not isinstance(dims, list) or not dims:
        raise Invalid([join([where, "dimensions", Msg("a non-empty list is required")], ": ")])
    langs = Msg("a text, or one per language (%(langs)s)", langs=", ".join(LANGS))
    seen = set()
    for i, d in enumerate(dims):
        f = f"dimensions.{i}"
        if not isinstance(d, dict):
            errors.append(join([where, f, Msg("not an object")], ": "))
            continue
        key = d.get("key")
        if not isinstance(key, str) or not _KEY_RE.match(key):
            errors.append(join([where, f + ".key", Msg("lower-case letters, digits and _ (at most 40), starting with a letter")], ": "))
        elif key in seen:
            errors.append(join([where, f + ".key", Msg("used twice")], ": "))
        else:
            seen.add(key)
        if not _is_text(d.get("label")):
            errors.append(join([where, f + ".label", Msg("required (%(what)s)", what=langs)], ": "))
        if d.get("question") is not None and not _is_text(d["question"]):
            errors.append(join([where, f + ".question", langs], ": "))
        scale = d.get("scale")
        if not isinstance(scale, dict) or set(scale) != set(SCALE) or not all(_is_text(v) for v in scale.values()):
            errors.append(join([where, f + ".scale", Msg("every point 1, 2, 3 and 4 needs its wording (and nothing else)")], ": "))
    if inst.get("would_sign") is not None and not _is_text(inst["would_sign"]):
        errors.append(join([where, "would_sign", langs], ": "))
    if errors:
        raise Invalid(errors)
    return inst


@lru_cache(maxsize=1)
def _legacy() -> dict[str, dict]:
    """English text of the shipped instrument -> all its languages (for studies frozen in English only)."""
    out: dict[str, dict] = {}

    def walk(v):
        if isinstance(v, dict) and set(v) <= set(LANGS) and "en" in v and all(isinstance(t, str) for t in v.values()):
            out[v["en"]] = v
        elif isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    walk(_shipped())
    return out


def text(v, lang: str) -> str | None:
    """One text of the instrument in ``lang`` (else German, else any language it has)."""
    if v is None:
        return None
    if isinstance(v, str):
        v = _legacy().get(v, v)
        if isinstance(v, str):
            return v
    for cand in (lang, DEFAULT_LANG, *LANGS):
        if v.get(cand):
            return v[cand]
    return next(iter(v.values()))


def localize(inst: dict, lang: str) -> dict:
    """The instrument with every text in one language (the layout of a one-language instrument)."""
    out = copy.deepcopy(inst)
    for d in out.get("dimensions", []):
        for field in ("label", "question"):
            if field in d:
                d[field] = text(d[field], lang)
        if isinstance(d.get("scale"), dict):
            d["scale"] = {p: text(w, lang) for p, w in d["scale"].items()}
    if "would_sign" in out:
        out["would_sign"] = text(out["would_sign"], lang)
    return out


def dimensions(study, lang: str | None = None) -> list[dict]:
    """A study's dimensions: as frozen (``lang=None``; for their keys), or with their texts in ``lang``."""
    inst = json.loads(study.instrument)
    return (inst if lang is None else localize(inst, lang))["dimensions"]


def would_sign(study, lang: str) -> str:
    """The study's "would you sign" question in ``lang``."""
    inst = json.loads(study.instrument)
    return text(inst.get("would_sign"), lang) or Msg("Would you sign this letter after your edits?").localize(lang)
