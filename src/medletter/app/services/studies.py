"""Blinded rating studies: physicians rate drafts of several systems on a worded 4-point instrument.

An item is one case with one system's letter; both are pseudonymised when the study is made (the
de-identification module, one key: all letters of a case get the same surrogates and date shift), so
no real identity and no system name reaches a rater. Items are addressed by random ids; each rater
sees their items in their own random order, never two letters of one case back to back, and can
stop and go on later. Every rating keeps the rater, the time and the time spent on the item.

Results (``results``) live in services/study_stats.py.
"""

from __future__ import annotations

import json
import random
import re
import secrets
from collections import Counter, defaultdict
from dataclasses import dataclass
from importlib import resources

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from medletter.app.models import (Study, StudyAssignment, StudyItem, StudyRating, StudySystem, User, utcnow)
from medletter.app.services import audit
from medletter.app.services.auth import Principal
from medletter.app.services.errors import Conflict, Invalid, NotFound

REFERENCE = "reference"
SCALE = ("1", "2", "3", "4")
MAX_COMMENT = 5000
_KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$")


# ---------------------------------------------------------------- the instrument (data, not code)


def default_instrument() -> dict:
    raw = resources.files("medletter.app").joinpath("assets/rating_instrument.json").read_text(encoding="utf-8")
    return json.loads(raw)


def check_instrument(inst, where: str = "instrument") -> dict:
    """The instrument, validated: ``dimensions`` with a unique ``key``, a ``label`` and every point of the
    4-point ``scale`` worded ("1" worst … "4" best). Errors name the field, never a value."""
    errors = []
    if not isinstance(inst, dict):
        raise Invalid([f"{where}: not a JSON object"])
    dims = inst.get("dimensions")
    if not isinstance(dims, list) or not dims:
        raise Invalid([f"{where}: dimensions: a non-empty list is required"])
    seen = set()
    for i, d in enumerate(dims):
        f = f"{where}: dimensions.{i}"
        if not isinstance(d, dict):
            errors.append(f"{f}: not an object")
            continue
        key = d.get("key")
        if not isinstance(key, str) or not _KEY_RE.match(key):
            errors.append(f"{f}.key: lower-case letters, digits and _ (at most 40), starting with a letter")
        elif key in seen:
            errors.append(f"{f}.key: used twice")
        else:
            seen.add(key)
        if not isinstance(d.get("label"), str) or not d["label"].strip():
            errors.append(f"{f}.label: required")
        scale = d.get("scale")
        if not isinstance(scale, dict) or set(scale) != set(SCALE) or not all(isinstance(v, str) and v.strip() for v in scale.values()):
            errors.append(f"{f}.scale: every point 1, 2, 3 and 4 needs its wording (and nothing else)")
    if errors:
        raise Invalid(errors)
    return inst


def dimensions(study: Study) -> list[dict]:
    return json.loads(study.instrument)["dimensions"]


# ---------------------------------------------------------------- making a study


@dataclass
class SystemFile:
    name: str
    raw: bytes
    filename: str


def _parse_letters(sf: SystemFile, case_lines: dict[str, int], cases_name: str) -> tuple[dict[str, dict], list[str]]:
    """A letters file as ``medletter generate`` writes it (``case_id`` and ``text`` are enough)."""
    errors, out = [], {}
    seen: dict[str, int] = {}
    for lineno, bline in enumerate(sf.raw.split(b"\n"), start=1):
        if not bline.strip():
            continue
        try:
            row = json.loads(bline)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            errors.append(f"{sf.filename}:{lineno}: (line): not valid JSON ({type(e).__name__})")
            continue
        if not isinstance(row, dict):
            errors.append(f"{sf.filename}:{lineno}: (line): not a JSON object")
            continue
        cid, text = row.get("case_id"), row.get("text")
        if not isinstance(cid, str) or not cid.strip():
            errors.append(f"{sf.filename}:{lineno}: case_id: a non-empty string is required")
            continue
        if not isinstance(text, str) or not text.strip():
            errors.append(f"{sf.filename}:{lineno}: text: a non-empty string is required")
            seen.setdefault(cid, lineno)
            continue
        if cid in seen:
            errors.append(f"{sf.filename}:{lineno}: case_id: the same case as line {seen[cid]}")
            continue
        if cid not in case_lines:
            errors.append(f"{sf.filename}:{lineno}: case_id: not a case of {cases_name}")
            continue
        seen[cid] = lineno
        out[cid] = row
    for cid, line in case_lines.items():
        if cid not in out and cid not in seen:  # (a case whose line was wrong is reported at that line)
            errors.append(f"{cases_name}:{line}: case.case_id: no letter for this case in system "
                          f"'{sf.name}' ({sf.filename})")
    return out, errors


def order_without_repeats(groups: list[str], rng: random.Random) -> list[int] | None:
    """Indices of ``groups`` in a random order in which no two neighbours share a group, or None when
    no such order exists (one group holds more than half, rounded up, of the items).

    At each step a random group other than the last is drawn, weighted by what it has left, among those
    after which the rest can still be ordered (every group's remainder at most half of the rest,
    rounded up, and the group just placed at most half, rounded down)."""
    left: dict[str, list[int]] = defaultdict(list)
    for i, g in enumerate(groups):
        left[g].append(i)
    for v in left.values():
        rng.shuffle(v)
    n = len(groups)
    if n and max(len(v) for v in left.values()) > (n + 1) // 2:
        return None
    out, last = [], None
    while n:
        cands = []
        for g, v in left.items():
            if not v or g == last:
                continue
            rest = n - 1
            ok = len(v) - 1 <= rest // 2 and all(len(w) <= (rest + 1) // 2 for h, w in left.items() if h != g)
            if ok:
                cands.append(g)
        if not cands:  # cannot happen when the start condition holds; kept as a guard
            return None
        g = rng.choices(cands, weights=[len(left[c]) for c in cands])[0]
        out.append(left[g].pop())
        last, n = g, n - 1
    return out


def _raters(s: Session, names: list[str]) -> list[User]:
    errors, users = [], []
    if not names:
        raise Invalid(["raters: name at least one rater"])
    if len(set(names)) != len(names):
        errors.append("raters: a rater is named twice")
    for i, name in enumerate(names):
        u = s.scalar(select(User).where(User.name == name))
        if u is None:
            errors.append(f"raters.{i}: no such user (add one with `medletter users add NAME --role rater`)")
        elif u.role != "rater":
            errors.append(f"raters.{i}: '{name}' is a {u.role}, not a rater")
        elif u.disabled:
            errors.append(f"raters.{i}: '{name}' is disabled")
        else:
            users.append(u)
    if errors:
        raise Invalid(errors)
    return users


def _pseudonymise(case, letter_text: str | None, letter, key: bytes, style: str, lang: str):
    """(case JSON, letter text) with the patient's identity replaced (same surrogates for all of a case's letters)."""
    from medletter.privacy.pseudonymize import deidentify_record
    from medletter.records import Letter, Record, Section

    if letter is None:
        letter = Letter(style=style, language=lang, sections=[Section(key="closing", text=letter_text)], text=letter_text)
        use_gold = False
    else:
        use_gold = True  # a reference letter with its annotated spans
    out = deidentify_record(Record(case=case, letter=letter), key, use_gold_spans=use_gold)
    return out.case.model_dump_json(), out.letter.text


def create_study(s: Session, who: Principal, *, name: str, cases_raw: bytes, cases_name: str,
                 systems: list[SystemFile], reference: bool, raters: list[str], per_item: int | None = None,
                 instrument: dict | None = None, seed: int | None = None, key: bytes | None = None) -> Study:
    """Make a study from a case file and letters files; all or nothing (Invalid lists every problem)."""
    from medletter.jsonl import RecordsError, parse_records
    from medletter.privacy.pseudonymize import default_key
    from medletter.records import Record

    who.require("admin")
    name = (name or "").strip()
    if not _NAME_RE.match(name):
        raise Invalid(["name: 1–64 letters, digits or _ . + - (starting with a letter or digit)"])
    if s.scalar(select(Study.id).where(Study.name == name)) is not None:
        raise Conflict(f"a study named '{name}' exists already")
    inst = check_instrument(instrument if instrument is not None else default_instrument())
    errors: list[str] = []
    try:
        res = parse_records(cases_raw, cases_name, Record, ignore=("split",))
    except RecordsError as e:
        raise Invalid([str(err) for err in e.errors]) from None
    errors += [str(e) for e in res.errors]
    case_lines: dict[str, int] = {}
    records = {}
    for line, rec in res.good:
        cid = rec.case.case_id
        if cid in case_lines:
            errors.append(f"{cases_name}:{line}: case.case_id: the same case as line {case_lines[cid]}")
            continue
        if reference and rec.letter is None:
            errors.append(f"{cases_name}:{line}: letter: --reference needs the case's own letter")
        case_lines[cid] = line
        records[cid] = rec
    names = [sf.name for sf in systems] + ([REFERENCE] if reference else [])
    if not names:
        errors.append("systems: name at least one system (NAME=letters.jsonl) or --reference")
    for i, sf in enumerate(systems):
        if not _NAME_RE.match(sf.name or ""):
            errors.append(f"systems.{i}: name: 1–64 letters, digits or _ . + -")
        elif sf.name == REFERENCE and reference:
            errors.append(f"systems.{i}: name: '{REFERENCE}' is the case's own letter (--reference)")
    if len(set(names)) != len(names):
        errors.append("systems: a system name is used twice")
    letters: dict[str, dict[str, dict]] = {}
    for sf in systems:
        letters[sf.name], errs = _parse_letters(sf, case_lines, cases_name)
        errors += errs
    users = []
    try:
        users = _raters(s, raters)
    except Invalid as e:
        errors += e.errors
    k = per_item if per_item is not None else len(users)
    if users and not 1 <= k <= len(users):
        errors.append(f"per_item: between 1 and the number of raters ({len(users)})")
    if errors:
        raise Invalid(errors)
    if len(case_lines) < 2 and len(names) > 1:
        raise Invalid([f"{cases_name}: one case only: raters would see its letters back to back; add cases"])

    key = key or default_key()
    seed = secrets.randbelow(2**31) if seed is None else int(seed)
    rng = random.Random(seed)
    study = Study(name=name, instrument=json.dumps(inst, ensure_ascii=False), per_item=k, seed=seed,
                  created_by=who.id)
    s.add(study)
    s.flush()
    sys_rows = {}
    for n in names:
        sys_rows[n] = StudySystem(study_id=study.id, name=n)
        s.add(sys_rows[n])
    s.flush()
    items: list[StudyItem] = []
    for cid, rec in records.items():
        case_json = None
        for n in names:
            if n == REFERENCE:
                cj, text = _pseudonymise(rec.case, None, rec.letter, key, "", "")
            else:
                row = letters[n][cid]
                style = row.get("style") or (rec.letter.style if rec.letter else "unknown")
                lang = row.get("language") or row.get("lang") or (rec.letter.language if rec.letter else "de")
                cj, text = _pseudonymise(rec.case, row["text"], None, key, style, lang if lang in ("de", "en") else "de")
            case_json = case_json or cj  # the same surrogates for every letter of the case
            items.append(StudyItem(study_id=study.id, public_id=secrets.token_hex(8), system_id=sys_rows[n].id,
                                   case_key=cid, case_data=case_json, letter_text=text))
    rng.shuffle(items)
    s.add_all(items)
    s.flush()

    # each item to the k raters with the fewest items so far (ties at random)
    load = Counter({u.id: 0 for u in users})
    per_rater: dict[int, list[StudyItem]] = defaultdict(list)
    for it in items:
        chosen = sorted(users, key=lambda u: (load[u.id], rng.random()))[:k]
        for u in chosen:
            load[u.id] += 1
            per_rater[u.id].append(it)
    for u in users:
        its = per_rater[u.id]
        order = order_without_repeats([it.case_key for it in its], rng)
        if order is None:
            raise Invalid([f"raters: '{u.name}' would see two letters of one case back to back "
                           "(too few cases for this many systems); add cases or raise per_item"])
        for pos, idx in enumerate(order, start=1):
            s.add(StudyAssignment(study_id=study.id, item_id=its[idx].id, rater_id=u.id, position=pos))
    audit.record(s, who, "study_create", "study", study.id,
                 f"cases={len(records)} systems={len(names)} items={len(items)} raters={len(users)} per_item={k}")
    return study


# ---------------------------------------------------------------- rating


def get_study(s: Session, study_id: int) -> Study:
    st = s.get(Study, study_id)
    if st is None:
        raise NotFound(f"study {study_id} not found")
    return st


def studies_for(s: Session, who: Principal) -> list[dict]:
    """A rater's studies with progress (admins: all studies)."""
    who.require("rater", "admin")
    q = select(Study).order_by(Study.id)
    if who.role == "rater":
        q = q.where(Study.id.in_(select(StudyAssignment.study_id).where(StudyAssignment.rater_id == who.id)))
    out = []
    for st in s.scalars(q):
        assigned = select(func.count()).select_from(StudyAssignment).where(StudyAssignment.study_id == st.id)
        done = select(func.count()).select_from(StudyRating).where(StudyRating.study_id == st.id)
        if who.role == "rater":
            assigned = assigned.where(StudyAssignment.rater_id == who.id)
            done = done.where(StudyRating.rater_id == who.id)
        out.append({"id": st.id, "name": st.name, "status": st.status, "n_items": s.scalar(assigned) or 0,
                    "n_done": s.scalar(done) or 0, "created_at": st.created_at.isoformat(timespec="seconds") + "Z"})
    return out


def _assigned_study(s: Session, who: Principal, study_id: int) -> Study:
    who.require("rater")
    st = get_study(s, study_id)
    mine = s.scalar(select(StudyAssignment.id).where(StudyAssignment.study_id == study_id,
                                                     StudyAssignment.rater_id == who.id).limit(1))
    if mine is None:
        raise NotFound(f"study {study_id} not found")  # not assigned: the same answer as absent
    return st


@dataclass
class NextItem:
    study: Study
    item: StudyItem
    position: int
    total: int
    done: int

    def to_api(self) -> dict:
        return {"item_id": self.item.public_id, "case": json.loads(self.item.case_data), "letter": self.item.letter_text,
                "dimensions": dimensions(self.study), "would_sign": json.loads(self.study.instrument).get("would_sign"),
                "position": self.done + 1, "total": self.total}


def next_item(s: Session, who: Principal, study_id: int) -> NextItem | None:
    """The rater's first unrated item in their order (None when done); its clock starts now."""
    st = _assigned_study(s, who, study_id)
    rated = select(StudyRating.item_id).where(StudyRating.study_id == study_id, StudyRating.rater_id == who.id)
    mine = (StudyAssignment.study_id == study_id) & (StudyAssignment.rater_id == who.id)
    total = s.scalar(select(func.count()).select_from(StudyAssignment).where(mine)) or 0
    done = s.scalar(select(func.count()).select_from(StudyRating).where(StudyRating.study_id == study_id,
                                                                         StudyRating.rater_id == who.id)) or 0
    a = s.scalar(select(StudyAssignment).where(mine, StudyAssignment.item_id.not_in(rated))
                 .order_by(StudyAssignment.position).limit(1))
    if a is None:
        return None
    a.opened_at = utcnow()
    item = s.get(StudyItem, a.item_id)
    return NextItem(st, item, a.position, total, done)


def _scores(study: Study, scores) -> dict[str, int]:
    if not isinstance(scores, dict):
        raise Invalid(["scores: an object {dimension: 1-4} is required"])
    keys = [d["key"] for d in dimensions(study)]
    errors = [f"scores.{k}: not a dimension of this study" for k in scores if k not in keys]
    out = {}
    for k in keys:
        v = scores.get(k)
        if isinstance(v, str) and v.strip().isdigit():
            v = int(v)
        if v is None:
            errors.append(f"scores.{k}: missing (every dimension is rated)")
        elif isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 4:
            errors.append(f"scores.{k}: must be 1, 2, 3 or 4")
        else:
            out[k] = v
    if errors:
        raise Invalid(errors)
    return out


def submit_rating(s: Session, who: Principal, study_id: int, item_id: str, scores, comment=None,
                  would_sign=None) -> StudyRating:
    """Store one rating of an item assigned to this rater; a second one of the same item is a Conflict."""
    st = _assigned_study(s, who, study_id)
    if st.status != "open":
        raise Conflict(f"study {study_id} is closed")
    if not isinstance(item_id, str) or not item_id:
        raise Invalid(["item_id: required"])
    row = s.execute(select(StudyItem, StudyAssignment).join(StudyAssignment, StudyAssignment.item_id == StudyItem.id)
                    .where(StudyItem.study_id == study_id, StudyItem.public_id == item_id,
                           StudyAssignment.rater_id == who.id)).first()
    if row is None:
        raise NotFound(f"item {item_id} is not one of your items in study {study_id}")
    item, a = row
    sc = _scores(st, scores)
    if comment is not None and not isinstance(comment, str):
        raise Invalid(["comment: a string"])
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise Invalid([f"comment: at most {MAX_COMMENT} characters"])
    if would_sign is not None and not isinstance(would_sign, bool):
        raise Invalid(["would_sign: true or false"])
    if s.scalar(select(StudyRating.id).where(StudyRating.item_id == item.id, StudyRating.rater_id == who.id)):
        raise Conflict(f"you have rated item {item_id} already")
    now = utcnow()
    spent = (now - a.opened_at).total_seconds() if a.opened_at else None
    r = StudyRating(study_id=study_id, item_id=item.id, rater_id=who.id, scores=json.dumps(sc), would_sign=would_sign,
                    comment=comment, seconds_spent=spent, created_at=now)
    try:
        with s.begin_nested():
            s.add(r)
    except IntegrityError:  # the same rating at the same moment from another request
        raise Conflict(f"you have rated item {item_id} already") from None
    audit.record(s, who, "study_rating", "study", study_id, f"position={a.position}")
    return r


def close_study(s: Session, who: Principal, study_id: int) -> Study:
    who.require("admin")
    st = get_study(s, study_id)
    st.status = "closed"
    audit.record(s, who, "study_close", "study", study_id)
    return st


def progress(s: Session, study_id: int) -> list[dict]:
    """Per rater: assigned, rated, median seconds per item."""
    rows = s.execute(select(User.name, func.count(StudyAssignment.id)).join(User, User.id == StudyAssignment.rater_id)
                     .where(StudyAssignment.study_id == study_id).group_by(User.name).order_by(User.name)).all()
    done = dict(s.execute(select(User.name, func.count(StudyRating.id)).join(User, User.id == StudyRating.rater_id)
                          .where(StudyRating.study_id == study_id).group_by(User.name)).all())
    return [{"rater": n, "assigned": a, "rated": done.get(n, 0)} for n, a in rows]

