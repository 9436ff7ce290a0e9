"""A letter's words for the facts that are words (a histology, a diagnosis, a target region): its tokens, what its
abbreviations stand for, its dotted abbreviations and acronyms. Text only; nothing here knows a case."""

from __future__ import annotations

import os
import re

from medletter.evaluate.factcheck.text import norm, similar

_HIST_STOP = {"und", "and", "mit", "with", "der", "die", "das", "the", "of", "von", "nst"}


def tokens(s: str) -> list[str]:
    return [norm(t) for t in re.findall(r"[^\W_]+", s) if t.lower() not in _HIST_STOP]


ABBREVIATIONS = {
    "Ca": "Karzinom carcinoma cancer", "KHK": "koronare Herzkrankheit", "VHF": "Vorhofflimmern", "aHT": "arterielle Hypertonie",
    "HTN": "hypertension", "DM": "Diabetes mellitus", "T2DM": "type 2 diabetes mellitus", "DM2": "Diabetes mellitus Typ 2",
    "PEC": "Plattenepithelkarzinom", "SCC": "squamous cell carcinoma", "NST": "no special type", "NSCLC": "nicht-kleinzelliges "
    "Lungenkarzinom non-small cell lung cancer", "SCLC": "kleinzelliges Lungenkarzinom small cell lung cancer",
    "ER": "Östrogenrezeptor oestrogen estrogen receptor", "PR": "Progesteronrezeptor progesterone receptor",
    "HR": "Hormonrezeptor hormone receptor ER PR", "re": "rechts right", "li": "links left", "bds": "beidseits bilateral",
    "R": "right rechts", "L": "left links", "LK": "Lymphknoten lymph node", "LAW": "Lymphabflusswege Lymphabfluss",
    "LN": "lymph node", "LNs": "lymph nodes", "COPD": "chronisch obstruktive Lungenerkrankung chronic obstructive pulmonary disease",
    "pAVK": "periphere arterielle Verschlusskrankheit", "CNI": "chronische Niereninsuffizienz", "CKD": "chronic kidney disease",
    "BPH": "benigne Prostatahyperplasie benign prostatic hyperplasia", "met": "Metastase metastasis", "mets": "Metastasen metastases",
    "DLBCL": "diffus großzelliges B-Zell-Lymphom diffuse large B-cell lymphoma", "GBM": "Glioblastom glioblastoma",
    "GERD": "gastro-oesophageal reflux disease", "OP": "Operation", "Op": "Operation", "Adeno": "Adenokarzinom adenocarcinoma",
    "BET": "brusterhaltende Therapie Brust", "Mamma": "Brust breast", "Brust": "Mamma breast", "breast": "Mamma Brust",
    "OL": "Oberlappen", "UL": "Unterlappen", "ML": "Mittellappen", "RUL": "right upper lobe", "RLL": "right lower lobe",
    "LUL": "left upper lobe", "LLL": "left lower lobe", "Ösophagus": "oesophagus esophagus", "Lunge": "lung pulmonal",
}
"""Abbreviations letters write for the words of a diagnosis or histology, and what they stand for."""
_EXPAND = {norm(k): [norm(w) for w in re.findall(r"[^\W_]+", v)] for k, v in ABBREVIATIONS.items()}


class Vocabulary:
    """The letter's words for the facts that are words (histology, a diagnosis, a target): its tokens, what its
    abbreviations stand for ("KHK", "Adeno-Ca" -> "Adenokarzinom"), and its dotted abbreviations ("inv.", "lob.")."""

    def __init__(self, text: str):
        toks = tokens(text)
        self.tokens = set(toks)
        for t in toks:
            self.tokens.update(_EXPAND.get(t, ()))
        for m in re.finditer(r"([^\W\d_]+)-([^\W\d_]+)", text):  # "Adeno-Ca", "Mamma-Ca": one word
            first, second = norm(m.group(1)), norm(m.group(2))
            for tail in [second] + _EXPAND.get(second, []):
                self.tokens.add(first + tail)
        self.long = sorted({t for t in self.tokens if len(t) >= 5})
        self.dotted = {norm(m.group(1)) for m in re.finditer(r"\b([^\W\d_]{3,})\.", text)}
        self.acronyms = set(re.findall(r"\b[A-Z][A-Za-z]{1,5}\b", text))

    def has(self, t: str) -> bool:
        if t in self.tokens:
            return True
        if len(t) >= 5 and any(_holds(w, t) for w in self.long):
            return True
        return len(t) >= 6 and any(t.startswith(a) for a in self.dotted)

    def coverage(self, part: str, skip=frozenset()) -> float:
        """The share of ``part``'s words (leaving out ``skip``) the letter writes; 1.0 where its initials are an acronym
        of the letter's."""
        toks = [t for t in tokens(part) if t not in skip and not t.isdigit()]
        if not toks:
            return 0.0
        got = sum(self.has(t) for t in toks) / len(toks)
        if got < 1.0:
            initials = "".join(w[0] for w in re.findall(r"[^\W\d_]+", part) if w.lower() not in _HIST_STOP).upper()
            if len(initials) >= 2 and any(a.upper() == initials for a in self.acronyms):
                return 1.0
        return got

    def names(self, part: str) -> bool:
        """Every word of ``part`` is the letter's (or its initials are one of the letter's acronyms)."""
        toks = tokens(part)
        if not toks or all(self.has(t) for t in toks):
            return True
        initials = "".join(w[0] for w in re.findall(r"[^\W\d_]+", part) if w.lower() not in _HIST_STOP).upper()
        return len(initials) >= 2 and any(a.upper() == initials for a in self.acronyms)


def _holds(w: str, t: str) -> bool:
    """The letter's word ``w`` writes the wanted word ``t``: the same term (``similar``), but where one contains the
    other only the letter's may be the longer ("Mammakarzinom" writes "Karzinom"; "Karzinom" does not write
    "Adenokarzinom"), or ``t`` inflected."""
    if len(w) < len(t) and w in t:
        return False
    return similar(t, w) or _inflected(t, w)


def _inflected(a: str, b: str) -> bool:
    """One word inflected ("lobuläres" / "lobulär"): they share all but the last three letters, and five."""
    n = len(os.path.commonprefix([a, b]))  # letters the two share from the start
    return n >= 5 and n >= max(len(a), len(b)) - 4




def variants(word: str) -> set[str]:
    """A normalised word of a letter and what else it writes: without its hyphen, its abbreviation's words, a
    compound with an abbreviation spelled out ("mamma-ca" -> "mammacarcinom")."""
    out = {word, word.replace("-", "")}
    out.update(_EXPAND.get(word, ()))
    if "-" in word:
        first, _, second = word.partition("-")
        out.add(first)
        out.update(first + t for t in _EXPAND.get(second, []))
        out.update(_EXPAND.get(first, ()))
    return out
