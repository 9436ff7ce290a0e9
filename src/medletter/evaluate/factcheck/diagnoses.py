"""The letter's diagnosis list, item by item: which diagnosis of the case each item names, or which detail of one it
gives (TNM, histology, date of first diagnosis, a prior treatment), or neither: a diagnosis the case does not have.

A list is a heading ("Diagnosen:", "DIAGNOSEN", "Nebendiagnosen", "Dx", "Secondary diagnoses") and the lines under
it up to a blank line or the next heading; an item is a line, or each part of a line that lists several ("Adipositas
(E66.9), Vorhofflimmern (I48.9)"); an indented line carries on the item above. Prose ("Daneben besteht eine KHK") is
no list and is not read here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from medletter.evaluate.factcheck.lexicon import Lexicon
from medletter.evaluate.factcheck.text import norm
from medletter.evaluate.factcheck.vocab import Vocabulary, tokens

_SIDES = {norm(w) for w in ("links", "rechts", "left", "right", "li", "re", "bds", "beidseits", "bilateral", "l", "r")}

_HEADING = re.compile(r"^[ \t]*(?:#\s*)?(?:(?:Haupt|Neben|Weitere |Begleit)?diagnose[n]?|DIAGNOSE[N]?|NEBENDIAGNOSE[N]?|Diagnos[ie]s|"
                      r"Secondary diagnos[ie]s|Other diagnos[ie]s|Comorbidit(?:y|ies)|Co-?Dx|Dx|Dg\.?|Diagn\.|ND|HD|PMHx)"
                      r"\s*(?::|$)[ \t]*", re.I)
_OTHER_HEADING = re.compile(r"^[ \t]*(?:[A-ZÄÖÜ][\w ./()-]{2,40}:[ \t]*$|(?=[A-ZÄÖÜ /()-]*[A-ZÄÖÜ]{5})[A-ZÄÖÜ][A-ZÄÖÜ /()-]{3,}[ \t]*$)")
_BULLET = re.compile(r"^[ \t]*(?:[-–•*→#]|\d{1,2}[.)]|[a-z]\))[ \t]*")
_DETAIL = re.compile(
    r"(?<![A-Za-z])(?:y|r|a|yp|yc|p|c)?T(?:is|[0-4x])|\bUICC\b|\bStadi|\bstage\b|\bFIGO\b|\bAnn Arbor\b|\bED\b|Erstdiagnos|erstdiagnost|"
    r"diagnos(?:ed|is)\b|Histo|histolog|Grading|\bG\d\b|\bGrad\b|\bgrade\b|\bWHO\b|\bER\b|\bPR\b|HER2|PD-?L1|Ki-?67|\bp16\b|IDH|MGMT|"
    r"Gleason|ISUP|\bGS\b|PSA|Seite|Side|Laterali|Lokalisation|\bZ\.\s?n\.|Zustand nach|\bs/p\b|\bstatus post\b|\bkeine\b|\bnone\b|"
    r"\bno\b|festgestellt|gesichert|\bbekannt seit|\bICD|Rezeptor|receptor|Differenzierung|Typ\b|type\b|Befall|metasta|\bdx\b|\bOP\b|Surgery|Vorbehandl|diagnos|Nachweis|"
    r"^\s*\d{1,2}[./]\d{1,2}(?:[./]\d{2,4})?\s*$|^\s*(?:bei|mit|nach|from|with|of|secondary to|due to)\b", re.I)


@dataclass
class DxItem:
    start: int
    end: int
    diagnosis: int | None
    """The case's diagnosis the item names (0: the main one), or None."""
    detail: bool
    """It gives a detail of a diagnosis (TNM, histology, a date, a prior treatment) rather than naming one."""
    whole: bool
    """It writes the whole diagnosis (four fifths of its words): a second such item lists that diagnosis again."""
    words: frozenset = frozenset()
    """Its normalised words (an item written twice is a repeat)."""


def _parts(text: str, a: int, b: int) -> list[tuple[int, int]]:
    """A line that lists several items ("Adipositas (E66.9), Vorhofflimmern (I48.9)", "… · …", "… (C64). Comorbidity:
    COPD (J44.9)"): its parts."""
    line = text[a:b]
    if (re.search(r"\)\s*(?:[,;·.|]|\s[–-]|\s(?:und|and|sowie)\s)\s*[A-ZÄÖÜa-zäöü]", line) or "·" in line
            or re.search(r";\s|\s\|\s", line)):
        out, pos = [], 0
        for m in re.finditer(r"(?<=\))\s*(?:[,.]|\s[–-]|\s(?:und|and|sowie)(?=\s))\s*|\s*[;·]\s*|\s+\|\s+", line):
            out.append((a + pos, a + m.start()))
            pos = m.end()
        out.append((a + pos, b))
        parts = [(x, y) for x, y in out if text[x:y].strip()]
        # a code alone ("Nierenzell-Ca (NCC), C64") is the code of the part before it
        merged: list[tuple[int, int]] = []
        for x, y in parts:
            if merged and _CODE_ONLY.match(text[x:y]):
                merged[-1] = (merged[-1][0], y)
            else:
                merged.append((x, y))
        return merged
    return [(a, b)]


_CODE_ONLY = re.compile(r"^\s*\(?\s*(?:ICD(?:-10)?:?\s*)?[A-Z]\d{2}(?:\.\d{1,2})?\s*\)?[.,]?\s*$")


_LABELLED = re.compile(r"^[ \t]*[A-ZÄÖÜ][\w./ -]{0,25}:\s+\S")
_DETAIL_LABEL = re.compile(r"^[ \t]*(?:Seite|Seitenlokalisation|Laterality|Side|Histolog\w*|Histo|Grading|Grade|Differenzierung|"
                           r"Erstdiagnose|ED|First diagnosed|Diagnosed|Diagnose\b[^:\n]{0,25}|ICD\S*|TNM\S*|Stadium|Stage|UICC\S*|"
                           r"Rezeptor\w*|Receptor status|Hormone? ?receptors?|Ki-?67|PD-?L1|Gleason|i?PSA|Morphologie|Typ|Type|Lokalisation)"
                           r"\b[^:\n]{0,25}:", re.I)
"""A labelled line that gives a detail of the diagnosis above ("Histologie: …", "Seite: links"): the list goes on."""
_SECTION_LABEL = re.compile(r"^[ \t]*(?:Therapie|Th|Tx|RT|Radiatio|Bestrahlung\w*|Strahlentherapie|Radiotherapy|NW|Nebenwirkung\w*|"
                            r"Toxizität|Toxicity|Tox|Verlauf|Procedere|Proc|Empfehlung\w*|Recommendation\w*|Plan|Nachsorge|"
                            r"Follow-?up|Befund\w*|Abschluss\w*|Beurteilung|Assessment|Vorbehandlung|Vortherapie|History|Hx|"
                            r"Anamnese|Chemo\w*|Systemtherapie|Medikation|Dosis|Dose|Technik|Technique|Zeitraum|Status|Findings|"
                            r"Weiteres|Next steps|Betreff|Re|Abschlussbefund|Procedure|Summary)\b\.?[^:\n]{0,20}:", re.I)
"""A labelled line that starts another part of the letter ("Th.: …", "NW: …", "Procedere: …"): the list ends."""


def diagnosis_items(lex: Lexicon, text: str, dx_scores) -> list[DxItem]:
    """Every item of the letter's diagnosis lists (``dx_scores(lex, text)``: how much of each diagnosis a stretch
    writes, best first)."""
    out: list[DxItem] = []
    lines = text.split("\n")
    offs, o = [], 0
    for ln in lines:
        offs.append(o)
        o += len(ln) + 1
    i = 0
    while i < len(lines):
        m = _HEADING.match(lines[i])
        if not m:
            i += 1
            continue
        items: list[tuple[int, int]] = []
        bulleted: list[bool] = []
        rest = lines[i][m.end():]
        if rest.strip():
            items.append((offs[i] + m.end(), offs[i] + len(lines[i])))
            bulleted.append(False)
        j = i + 1
        # up to a blank line, another heading, or a line with another label ("Th.: …", "Histologie: …")
        while j < len(lines) and lines[j].strip() and not _HEADING.match(lines[j]) and not _OTHER_HEADING.match(lines[j]) \
                and not _SECTION_LABEL.match(lines[j]):
            a, b = offs[j], offs[j] + len(lines[j])
            if items and bulleted[-1] and re.match(r"^[ \t]{2,}\S", lines[j]) and not _BULLET.match(lines[j]):
                items[-1] = (items[-1][0], b)  # an indented line carries on the bulleted item above
            else:
                items.append((a, b))
                bulleted.append(bool(_BULLET.match(lines[j])))
            j += 1
        for a, b in items:
            for x, y in _parts(text, a, b):
                bm = _BULLET.match(text[x:y])
                x2 = x + (bm.end() if bm else 0)
                part = text[x2:y].strip()
                if not part:
                    continue
                scores = dx_scores(lex, part[:80])
                best = scores[0] if scores and scores[0][0] >= 0.5 and not (len(scores) > 1 and scores[1][0] == scores[0][0]) else None
                # a labelled line ("Staging: …") gives a detail; only a line without a label can be a diagnosis of its own
                detail = bool(_DETAIL.search(part) or _LABELLED.match(part)) or _names_details(lex, part)
                whole = bool(best) and Vocabulary(part[:80]).coverage(lex.diagnoses[best[1]], _SIDES) >= 0.8
                out.append(DxItem(x2, y, best[1] if best else None, detail, whole, frozenset(tokens(part))))
        i = j
    return out


def _names_details(lex: Lexicon, part: str) -> bool:
    """The item writes (three fifths of) the histology, a prior procedure or a systemic therapy of the case."""
    voc = Vocabulary(part)
    return any(t and voc.coverage(t) >= 0.6 for t in lex.details)
