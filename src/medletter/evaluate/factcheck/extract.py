"""The extractor: letter text -> typed facts with their spans (:class:`~medletter.evaluate.factcheck.model.LetterFacts`).

Values (:mod:`~medletter.evaluate.factcheck.values`) are read with what they describe: a grade with the
toxicity its clause names, a date with its event word (:mod:`~medletter.evaluate.factcheck.extract_time`), a
dose statement's numbers with their roles and the course its words name, a side with the anatomical words of
its phrase, a code with the diagnosis written before it. The case's own words (which toxicity, procedure,
course a word names) come from its :class:`~medletter.evaluate.factcheck.lexicon.Lexicon`; no value of the
case is looked at: that is the comparison's (:mod:`~medletter.evaluate.factcheck.compare`).
"""

from __future__ import annotations

import re

from medletter.evaluate.factcheck import values as V
from medletter.evaluate.factcheck.extract_time import read_dates, read_statements
from medletter.evaluate.factcheck.diagnoses import diagnosis_items
from medletter.evaluate.factcheck.lexicon import SIDE_WORD, Lexicon, lexicon
from medletter.evaluate.factcheck.model import CodeUse, Grade, LetterFacts, Side
from medletter.evaluate.factcheck.tables import table_values
from medletter.evaluate.factcheck.text import clause_bounds, norm, overlaps, sentence_bounds, similar, words
from medletter.evaluate.factcheck.vocab import Vocabulary
from medletter.records import Case

_ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4}
MAX_WORDS = re.compile(r"\b(?:max\.?|maximal\w*|höchst\w*|highest|worst|bis zu|up to)\b|\bmax\b", re.I)
GENERIC_TOX_WORDS = re.compile(r"toxizität|toxicity|toxicities|nebenwirkung|side effect|\bNW\b", re.I)
G_FORM = re.compile(r"^G\s?[0-5]$")
_EACH = re.compile(r"\b(?:jeweils|each|both|beide|all)\b", re.I)


def extract(text: str, lex: Lexicon | None = None, case: Case | None = None) -> LetterFacts:
    """Everything the fact check reads from ``text``, with the case's vocabulary ``lex`` (or ``case``'s)."""
    if lex is None:
        lex = lexicon(case) if case is not None else Lexicon()
    f = LetterFacts(text=text)
    t_doses, t_fracs, t_grades, rows = table_values(text)
    f.doses = _merge(V.find_doses(text), t_doses)
    f.fractions = _merge(V.find_fractions(text), t_fracs)
    date_hits = V.find_dates(text)
    f.tnm = V.find_tnm(text)
    f.techniques = V.find_techniques(text)
    grade_hits = _merge(V.find_grades(text), t_grades)
    f.intervals = V.find_intervals(text)
    f.grades = read_grades(lex, text, grade_hits, {a for a, _, _ in t_grades})
    f.dates, f.ranges = read_dates(lex, text, date_hits, f.doses, f.fractions, rows)
    f.statements = read_statements(lex, text, f.doses, f.fractions, date_hits, rows)
    icd = V.find_icd10(text)
    f.codes = read_codes(lex, text, icd)
    f.invalid_codes = invalid_codes(text)
    f.diagnoses = diagnosis_items(lex, text, dx_scores)
    f.sides = read_sides(text)
    f.lower = text.lower()
    f.flat = re.sub(r"\s+", "", f.lower).replace("m2", "m²")
    f.extra = {"date_hits": date_hits, "grade_hits": grade_hits, "icd": icd,
               "dx_seen": {j for _, _, j in _dx_spans(lex, text)}}
    return f


def _merge(hits, more):
    """Hits and more hits that overlap none of them (a table's bare cells beside the values written with a unit)."""
    return sorted(hits + [h for h in more if not overlaps(h[0], h[1], [(a, b) for a, b, _ in hits])])


# ---------------------------------------------------------------- grades and toxicities

def tox_mentions(lex: Lexicon, text: str, a: int, b: int) -> list[tuple[int, int, set[int]]]:
    """Toxicity terms of the case named in text[a:b]: (start, end, indices of the toxicities)."""
    out = []
    for s, e, w in words(text, a, b):
        idx = {i for i, ks in enumerate(lex.tox_keys) if any(similar(w, k) for k in ks)}
        if idx:
            out.append((s, e, idx))
    if not out:
        return out
    # a word shared by several toxicities ('breast' of 'breast pain' and 'breast oedema') is decided
    # by the full term when it is there
    full = []
    for i, term in enumerate(lex.tox_terms):
        for m in re.finditer(r"\s+".join(re.escape(x) for x in term.split()), text[a:b], re.I):
            full.append((a + m.start(), a + m.end(), {i}))
    if full:
        out = [o for o in out if not overlaps(o[0], o[1], [(x, y) for x, y, _ in full])] + full
    return out


def _grade_first(lex: Lexicon, text: str, a: int, grade_hits) -> bool:
    """The sentence around position a writes the grade before the term ('Grad 2 Dermatitis')."""
    sa, sb = sentence_bounds(text, a)
    mentions = tox_mentions(lex, text, sa, sb)
    grades = [g for g in grade_hits if sa <= g[0] < sb]
    return bool(mentions and grades) and grades[0][1] <= min(m[0] for m in mentions)


def _term_nearby(lex: Lexicon, text: str, a: int, b: int, grade_hits) -> list:
    """A grade whose clause names no toxicity: the one term of the parenthesis it stands in ('(dysphagia, grade 2)'),
    or of its line when the line gives one term and this one grade ('Husten | Grad 3')."""
    po, pc = text.rfind("(", 0, a), text.find(")", b)
    if po >= 0 and pc >= 0 and "\n" not in text[po:pc] and ")" not in text[po:a]:
        ms = tox_mentions(lex, text, po + 1, pc)
        if len({frozenset(m[2]) for m in ms}) == 1:
            return ms
    lo, hi = text.rfind("\n", 0, a) + 1, (text.find("\n", b) + 1 or len(text) + 1) - 1
    if hi - lo > 60:  # a short line: a table's row or a labelled line, not prose
        return []
    ms = tox_mentions(lex, text, lo, hi)
    if len({frozenset(m[2]) for m in ms}) == 1 and sum(lo <= x < hi for x, _, _ in grade_hits) == 1:
        return ms
    return []


def read_grades(lex: Lexicon, text: str, grade_hits, in_table=frozenset()) -> list[Grade]:
    """Each grade with the toxicity its clause names (a table's grade with its row's), or what else it is."""
    out = []
    range_ends = set()
    for a, b, g in grade_hits:
        if a in in_table:
            lo, hi = text.rfind("\n", 0, a) + 1, (text.find("\n", b) + 1 or len(text) + 1) - 1
            idx = set().union(*(m[2] for m in tox_mentions(lex, text, lo, hi))) or None
            out.append(Grade(a, b, g, {g}, toxicities=idx, scope=None if idx else "max", g_form=False))
            continue
        gf = bool(G_FORM.match(text[a:b]))
        if a in range_ends:
            lo, hi = clause_bounds(text, a, b)
            idx = set().union(*(m[2] for m in tox_mentions(lex, text, lo, hi))) or None
            out.append(Grade(a, b, g, {g}, toxicities=idx, scope="range_end", g_form=gf))
            continue
        # 'Grad 1–2', 'grade 1-2', 'G1/2': either grade
        rng = re.match(r"\s*(?:[–/-]|bis|to)\s*(?:G|Grad|grade|°)?\s*([0-5]|IV|I{1,3})(?![\dIV])°?", text[b : b + 14])
        gs = {g, _ROMAN.get(rng.group(1)) or int(rng.group(1))} if rng else {g}
        if rng:
            range_ends |= {x for x, _, _ in grade_hits if b <= x < b + rng.end()}
        lo, hi = clause_bounds(text, a, b)
        if rng and (re.match(r"\s*:", text[b + rng.end(): b + rng.end() + 3]) or (
                re.match(r"\s*\)", text[b + rng.end(): b + rng.end() + 3])
                and re.search(r"\((?:[^()]*\b(?:Spektrum|insgesamt|gesamt|overall|range|max\w*|bis zu|up to))[^()]*$", text[max(0, a - 40):a], re.I))):
            # "(Spektrum Grad I–II)", "Grad I–II: …": the range of the grades that follow
            out.append(Grade(a, b, g, gs, scope="max", g_form=False))
            continue
        mentions = tox_mentions(lex, text, lo, hi) or ([] if gf else _term_nearby(lex, text, a, b, grade_hits))
        if mentions:
            if _EACH.search(text[lo:hi]):
                sa, sb = sentence_bounds(text, a)
                idx = set().union(*(m[2] for m in tox_mentions(lex, text, sa, sb)))
            else:
                # the term on the side the sentence puts its terms ('Dermatitis Grad 2, …' or
                # 'Grad 2 Dermatitis, …'), else the nearest
                before = [m for m in mentions if m[1] <= a]
                after = [m for m in mentions if m[0] >= b]
                side = after if _grade_first(lex, text, a, grade_hits) else before
                near = min(side or mentions, key=lambda m: a - m[1] if m[1] <= a else m[0] - b)
                idx = near[2]
            out.append(Grade(a, b, g, gs, toxicities=idx, g_form=gf))
            continue
        clause = text[lo:hi]
        if gf and not GENERIC_TOX_WORDS.search(clause):
            scope = "grading"  # "G2" beside the histology: the tumour's grading
        elif MAX_WORDS.search(clause) or GENERIC_TOX_WORDS.search(clause):
            scope = "max"
        else:
            scope = None
        out.append(Grade(a, b, g, gs, scope=scope, g_form=gf))
    return out


# ---------------------------------------------------------------- sides

_SIDE_STOP = {norm(w) for w in ("und", "and", "mit", "with", "der", "die", "das", "des", "dem", "den", "the", "of", "bei", "from", "von", "im", "in",
                                 "auf", "to", "eine", "ein", "einer", "a", "an", "sowie", "nach", "after", "for", "für", "zur", "zum", "ohne")}
_SIDE_BREAK = re.compile(r"\b(?:bei|from|nach|after|seit|since|wegen|durch|infolge|due to|secondary to|of|von)\b", re.I)


def side_of(word: str) -> str:
    w = word.lower().strip("()")
    return "L" if w.startswith(("link", "left", "li", "l")) else "R"


def side_neighbours(text: str, a: int, b: int, span: int = 3) -> list[tuple[int, str]]:
    """Content words next to a side word within its phrase (not across '(', ')', ';', '.', line):
    (distance in words, normalised word)."""
    lo = max(text.rfind(ch, 0, a) for ch in "();\n.:")
    if re.search(r"\)\s*$", text[lo:a] if lo >= 0 else "") or (lo >= 0 and text[lo] == ")" and not text[lo + 1 : a].strip()):
        # 'Karzinom (Tonsille) links': the parenthesis belongs to the phrase
        open_ = text.rfind("(", 0, lo)
        if open_ >= 0:
            lo = max(text.rfind(ch, 0, open_) for ch in "();\n.:")
    hi_c = [x for x in (text.find(ch, b) for ch in "();\n.:") if x >= 0]
    hi = min(hi_c) if hi_c else len(text)
    # a preposition starts another phrase ('Metastase Os ilium rechts bei Mammakarzinom')
    brk = [m.end() for m in _SIDE_BREAK.finditer(text, lo + 1, a)]
    lo = max([lo] + [x - 1 for x in brk])
    m = _SIDE_BREAK.search(text, b, hi)
    hi = m.start() if m else hi
    # a comma ends the phrase, except right after the side word's own noun ("Breast cancer, left")
    before = [w for w in words(text, lo + 1, a) if w[2] not in _SIDE_STOP and len(w[2]) >= 3]
    after = [w for w in words(text, b, hi) if w[2] not in _SIDE_STOP and len(w[2]) >= 3]
    out = []
    for i, (s, e, w) in enumerate(reversed(before[-span:])):
        if "," in text[e:a] and i > 0 and not re.fullmatch(r",\s*", text[e:a]):
            break
        out.append((i + 1, w))
    for i, (s, e, w) in enumerate(after[:span]):
        if "," in text[b:s]:
            break
        out.append((i + 1, w))
    return out


_SIDE_FIELD = re.compile(r"(?:Seite|Seitenlokalisation|Lokalisation|Lateralität|Laterality|Side)\s*:\s*$", re.I)


def read_sides(text: str) -> list[Side]:
    """Each side word with the anatomical words of its phrase; one alone in a field "Seite: links" / "Laterality:
    left" is the main diagnosis' side."""
    out = []
    for m in SIDE_WORD.finditer(text):
        s = Side(m.start(), m.end(), side_of(m.group()), [w for _, w in sorted(side_neighbours(text, m.start(), m.end()))])
        line_start = text.rfind("\n", 0, m.start()) + 1
        s.of_diagnosis = bool(_SIDE_FIELD.search(text[max(line_start, m.start() - 40) : m.start()]))
        out.append(s)
    return out


# ---------------------------------------------------------------- codes

_ICD_LABEL = re.compile(r"\bICD(?:[- ]?(\d{1,2}))?(?:-GM|-CM|-WHO)?(?![-\w])(?:\s*(?:Code|Kode))?\s*:?\s*", re.I)
_CODEISH = re.compile(r"(?<![\w.])([A-Z])(\d{1,4})(?:\.(\d{0,4}))?(?![\w.]*\s*Gy)(?!\w)")
_VALID_ICD10 = re.compile(r"^[A-Z]\d{2}(?:\.\d{1,2})?$")
_NOT_A_CODE_BEFORE = re.compile(r"(?:CTCAE|Version|ECOG|WHO|ISUP|FIGO|UICC|Gleason|Grad|grade|Stadium|stage|Typ|type|NRS|AUC|HWK|BWK|LWK|SWK|Segment|Level|[A-Za-z]{2,}-)\s*$", re.I)


def invalid_codes(text: str) -> list[tuple[int, int, str]]:
    """What looks like a diagnosis code but is none: 'ICD-12', 'ICD-10 C9.3', '(C504)', 'C50.412'."""
    out = []
    taken = []
    # a code label: 'ICD-10', 'ICD-10-GM', 'ICD 10' are valid; 'ICD-12', 'ICD-8' are not
    for m in _ICD_LABEL.finditer(text):
        ver = m.group(1)
        if re.match(r"ICD-?O", text[m.start() : m.start() + 5], re.I):
            continue
        code = _CODEISH.match(text, m.end())
        end = code.end() if code else m.end()
        label_bad = ver is not None and ver not in ("9", "10", "11")
        code_bad = code is not None and not _VALID_ICD10.match(code.group(0)) and ver in (None, "10")
        if label_bad or code_bad:
            start = m.start() if label_bad else code.start()
            stop = end if code else m.end() - len(m.group(0)) + len(m.group(0).rstrip(" :"))
            out.append((start, stop, text[start:end].strip()))
        taken.append((m.start(), end))
    # a parenthesised code after a diagnosis '(C504)', '(C9.3)', and any 'letter digit . digit' shape
    for m in _CODEISH.finditer(text):
        if overlaps(m.start(), m.end(), taken):
            continue
        s = m.group(0)
        if _VALID_ICD10.match(s):
            continue
        letter, digits, sub = m.group(1), m.group(2), m.group(3)
        before = text[max(0, m.start() - 12) : m.start()]
        if _NOT_A_CODE_BEFORE.search(before):
            continue
        paren = bool(re.search(r"[(\[]\s*$", before)) and bool(re.match(r"\s*[)\];,]", text[m.end() : m.end() + 2]))
        dotted = sub is not None and len(digits) in (1, 3, 4) and sub != ""
        if letter in "TNMGLVRP" and sub is None:
            continue  # TNM, grading, L/V/Pn/R components
        # in a code's place: after "HD"/"ICD" or before a diagnosis' name ("HD   C611   Prostatakarzinom")
        placed = bool(re.search(r"\b(?:HD|ND|ICD(?:-?10)?(?:-GM)?|Code|Kode)\s*:?\s*$|\s[–-]\s*$", before)) or bool(re.match(r"\s+[A-ZÄÖÜ][a-zäöü]{4,}", text[m.end():m.end() + 20]))
        if dotted or ((paren or placed) and len(digits) >= 3 and sub is None) or (sub is not None and len(sub) > 2 and len(digits) == 2):
            out.append((m.start(), m.end(), s))
    return out


def _dx_spans(lex: Lexicon, text: str) -> list[tuple[int, int, int]]:
    """Occurrences of the case's diagnosis texts, written as the case writes them: (start, end, diagnosis index)."""
    out = []
    for j, t in enumerate(lex.diagnoses):
        for m in re.finditer(r"\s+".join(re.escape(x) for x in t.split()), text, re.I):
            out.append((m.start(), m.end(), j))
    return out


_DX_STOP = {norm(w) for w in ("links", "rechts", "left", "right", "li", "re", "bds", "beidseits", "bilateral", "l", "r", "icd")}
_HEAD_END = re.compile(r"\b(?:bei|from|of|with|nach|durch|wegen|infolge|due to|secondary to)\b", re.I)
_ITEM_SEP = re.compile(r"[;·|•\n]|\s[–-]\s")


def dx_scores(lex: Lexicon, stretch: str) -> list[tuple[float, int]]:
    """How much of each diagnosis of the case ``stretch`` writes (sides aside), best first: [(share, index)]."""
    head = _HEAD_END.split(stretch, maxsplit=1)[0]  # "Metastase … bei Mammakarzinom": the head noun's
    voc = Vocabulary(head)
    # a diagnosis' name is its text up to the first comma ("Prostatakarzinom, iPSA 15,2 ng/ml"); either may be written
    return sorted(((max(voc.coverage(t, _DX_STOP), voc.coverage(_HEAD_END.split(t.split(",")[0], maxsplit=1)[0], _DX_STOP)), j)
                   for j, t in enumerate(lex.diagnoses)), reverse=True)


def dx_named(lex: Lexicon, stretch: str) -> int | None:
    """The one diagnosis of the case whose words ``stretch`` writes (in its own words: "Mamma-Ca li.", "KHK"), or
    None: half of a diagnosis' words (sides aside) at least, and more than any other diagnosis."""
    scores = dx_scores(lex, stretch)
    if not scores or scores[0][0] < 0.5 or (len(scores) > 1 and scores[1][0] == scores[0][0]):
        return None
    return scores[0][1]


_LABEL_WORDS = re.compile(r"\b(?:ICD(?:-?10)?(?:-GM)?|GM|Code|Kode|HD|ND|Diagnose|Diagnosis|Dx|Dg)\b\.?", re.I)
_DX_FIELD = re.compile(r"^\s*(?:Haupt)?(?:Diagnose|Diagnosis|Dx|Dg|HD)\b[^:\n]{0,20}:\s*(.+)$", re.I)


def _field_above(text: str, a: int) -> str | None:
    """The value of a diagnosis field ("Diagnose: Mammakarzinom rechts") in the lines right above position a (up to
    three labelled lines up)."""
    end = text.rfind("\n", 0, a)
    for _ in range(3):
        if end <= 0:
            return None
        start = text.rfind("\n", 0, end) + 1
        line = text[start:end]
        m = _DX_FIELD.match(line)
        if m:
            return m.group(1)
        if not re.match(r"^\s*[\w .()/-]{2,30}:", line):
            return None
        end = start - 1
    return None


def _worded(s: str) -> bool:
    return bool(re.search(r"[^\W\d_]{3,}", _LABEL_WORDS.sub("", s)))


def read_codes(lex: Lexicon, text: str, icd_hits) -> list[CodeUse]:
    """Each ICD-10 code, the diagnosis of the case its item names (the words before it on its line, back to the
    previous code or item; where none are, the words after it: "HD   C61   Prostatakarzinom"), and a side marker
    after it ("C50.4 R")."""
    out = []
    for a, b, code in icd_hits:
        cu = CodeUse(a, b, code)
        m = re.match(r"[ \t]?([LRB])\b", text[b : b + 3])
        if m:
            cu.side_marker = (b + m.start(1), b + m.end(1), m.group(1))
        out.append(cu)
        if not lex.diagnoses:
            continue
        # the item: back to the line's start, a separator or the code before it; where it has no words, the words
        # after the code ("E78.0 Hypercholesterinämie · E03.9 Hypothyreose"), the item before a dash ("Vorhofflimmern
        # – I48.9"), or the diagnosis' field above ("Diagnose: …" / "ICD-10-GM: C50.4")
        lo = max([text.rfind("\n", 0, a) + 1] + [x.end() for x in _ITEM_SEP.finditer(text, max(0, a - 120), a)]
                 + [y for _, y, _ in icd_hits if y <= a])
        back = text[lo:a][-100:]
        ends = [m.start() for m in _ITEM_SEP.finditer(text, b)][:1] + [x for x, _, _ in icd_hits if x > b][:1]
        ahead = text[b : min(ends) if ends else len(text)][:100]
        if _worded(back):
            cu.after_dx = dx_named(lex, back)
        elif _worded(ahead):
            cu.after_dx = dx_named(lex, ahead)
        elif lo > 0 and text[lo - 1] != "\n" and text[max(0, lo - 3):lo].strip() in ("–", "-"):
            prev = [x.end() for x in _ITEM_SEP.finditer(text, max(0, lo - 120), max(0, lo - 2))]
            lo2 = max([text.rfind("\n", 0, lo - 1) + 1] + prev + [y for _, y, _ in icd_hits if y < lo])
            cu.after_dx = dx_named(lex, text[lo2:a][-100:])
        else:
            above = _field_above(text, a)
            if above:
                cu.after_dx = dx_named(lex, above)
    return out
