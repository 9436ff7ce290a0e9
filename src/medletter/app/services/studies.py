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

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from medletter.app.i18n import Msg, join
from medletter.app.models import (Study, StudyAssignment, StudyItem, StudyRating, StudySystem, User, utcnow)
from medletter.app.problems import file_error
from medletter.app.services import audit
from medletter.app.services.auth import Principal
from medletter.app.services.errors import Conflict, Invalid, NotFound
from medletter.app.services.instrument import (SCALE, check_instrument, default_instrument, dimensions,  # noqa: F401
                                               localize)

REFERENCE = "reference"
MAX_COMMENT = 5000
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$")


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
            errors.append(join([f"{sf.filename}:{lineno}", "(line)", Msg("not valid JSON (%(kind)s)", kind=type(e).__name__)], ": "))
            continue
        if not isinstance(row, dict):
            errors.append(join([f"{sf.filename}:{lineno}", "(line)", Msg("not a JSON object")], ": "))
            continue
        cid, text = row.get("case_id"), row.get("text")
        if not isinstance(cid, str) or not cid.strip():
            errors.append(join([f"{sf.filename}:{lineno}", "case_id", Msg("a non-empty string is required")], ": "))
            continue
        if not isinstance(text, str) or not text.strip():
            errors.append(join([f"{sf.filename}:{lineno}", "text", Msg("a non-empty string is required")], ": "))
            seen.setdefault(cid, lineno)
            continue
        if cid in seen:
            errors.append(join([f"{sf.filename}:{lineno}", "case_id", Msg("the same case as line %(line)s", line=seen[cid])], ": "))
            continue
        if cid not in case_lines:
            errors.append(join([f"{sf.filename}:{lineno}", "case_id", Msg("not a case of %(file)s", file=cases_name)], ": "))
            continue
        seen[cid] = lineno
        out[cid] = row
    for cid, line in case_lines.items():
        if cid not in out and cid not in seen:  # (a case whose line was wrong is reported at that line)
            errors.append(join([f"{cases_name}:{line}", "case.case_id",
                                Msg("no letter for this case in system '%(system)s' (%(file)s)", system=sf.name,
                                    file=sf.filename)], ": "))
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


def _role(role: str):
    from medletter.app.labels import ROLES

    return Msg(ROLES[role]) if role in ROLES else role


def _raters(s: Session, names: list[str]) -> list[User]:
    errors, users = [], []
    if not names:
        raise Invalid([Msg("raters: name at least one rater")])
    if len(set(names)) != len(names):
        errors.append(Msg("raters: a rater is named twice"))
    for i, name in enumerate(names):
        u = s.scalar(select(User).where(User.name == name))
        if u is None:
            errors.append(join([f"raters.{i}", Msg("no such user (add one with `medletter users add NAME --role rater`)")], ": "))
        elif u.role != "rater":
            errors.append(join([f"raters.{i}", Msg("'%(name)s' is a %(role)s, not a rater", name=name, role=_role(u.role))], ": "))
        elif u.disabled:
            errors.append(join([f"raters.{i}", Msg("'%(name)s' is disabled", name=name)], ": "))
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
        raise Invalid([Msg("name: 1–64 letters, digits or _ . + - (starting with a letter or digit)")])
    if s.scalar(select(Study.id).where(Study.name == name)) is not None:
        raise Conflict(Msg("a study named '%(name)s' exists already", name=name))
    inst = check_instrument(instrument if instrument is not None else default_instrument(None))
    errors: list[str] = []
    try:
        res = parse_records(cases_raw, cases_name, Record, ignore=("split",))
    except RecordsError as e:
        raise Invalid([file_error(err) for err in e.errors]) from None
    errors += [file_error(e) for e in res.errors]
    case_lines: dict[str, int] = {}
    records = {}
    for line, rec in res.good:
        cid = rec.case.case_id
        if cid in case_lines:
            errors.append(join([f"{cases_name}:{line}", "case.case_id", Msg("the same case as line %(line)s", line=case_lines[cid])], ": "))
            continue
        if reference and rec.letter is None:
            errors.append(join([f"{cases_name}:{line}", "letter", Msg("--reference needs the case's own letter")], ": "))
        case_lines[cid] = line
        records[cid] = rec
    names = [sf.name for sf in systems] + ([REFERENCE] if reference else [])
    if not names:
        errors.append(Msg("systems: name at least one system (NAME=letters.jsonl) or --reference"))
    for i, sf in enumerate(systems):
        if not _NAME_RE.match(sf.name or ""):
            errors.append(join([f"systems.{i}", "name", Msg("1–64 letters, digits or _ . + -")], ": "))
        elif sf.name == REFERENCE and reference:
            errors.append(join([f"systems.{i}", "name", Msg("'%(ref)s' is the case's own letter (--reference)", ref=REFERENCE)], ": "))
    if len(set(names)) != len(names):
        errors.append(Msg("systems: a system name is used twice"))
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
        errors.append(Msg("per_item: between 1 and the number of raters (%(n)s)", n=len(users)))
    if errors:
        raise Invalid(errors)
    if len(case_lines) < 2 and len(names) > 1:
        raise Invalid([join([cases_name, Msg("one case only: raters would see its letters back to back; add cases")], ": ")])

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
            raise Invalid([Msg("raters: '%(name)s' would see two letters of one case back to back "
                               "(too few cases for this many systems); add cases or raise per_item", name=u.name)])
        for pos, idx in enumerate(order, start=1):
            s.add(StudyAssignment(study_id=study.id, item_id=its[idx].id, rater_id=u.id, position=pos))
    audit.record(s, who, "study_create", "study", study.id,
                 f"cases={len(records)} systems={len(names)} items={len(items)} raters={len(users)} per_item={k}")
    return study


# ---------------------------------------------------------------- rating


def get_study(s: Session, study_id: int) -> Study:
    st = s.get(Study, study_id)
    if st is None:
        raise NotFound(Msg("study %(study)s not found", study=study_id))
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
        raise NotFound(Msg("study %(study)s not found", study=study_id))  # not assigned: the same answer as absent
    return st


@dataclass
class NextItem:
    study: Study
    item: StudyItem
    position: int
    total: int
    done: int

    def to_api(self, lang: str = "en") -> dict:
        """The item for the API; the instrument's texts in ``lang`` (the rater's language)."""
        inst = localize(json.loads(self.study.instrument), lang)
        return {"item_id": self.item.public_id, "case": json.loads(self.item.case_data), "letter": self.item.letter_text,
                "dimensions": inst["dimensions"], "would_sign": inst.get("would_sign"),
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
        raise Invalid([Msg("scores: an object {dimension: 1-4} is required")])
    keys = [d["key"] for d in dimensions(study)]
    errors = [join([f"scores.{k}", Msg("not a dimension of this study")], ": ") for k in scores if k not in keys]
    out = {}
    for k in keys:
        v = scores.get(k)
        if isinstance(v, str) and v.strip().isdigit():
            v = int(v)
        if v is None:
            errors.append(join([f"scores.{k}", Msg("missing (every dimension is rated)")], ": "))
        elif isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 4:
            errors.append(join([f"scores.{k}", Msg("must be 1, 2, 3 or 4")], ": "))
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
        raise Conflict(Msg("study %(study)s is closed", study=study_id))
    if not isinstance(item_id, str) or not item_id:
        raise Invalid([Msg("item_id: required")])
    row = s.execute(select(StudyItem, StudyAssignment).join(StudyAssignment, StudyAssignment.item_id == StudyItem.id)
                    .where(StudyItem.study_id == study_id, StudyItem.public_id == item_id,
                           StudyAssignment.rater_id == who.id)).first()
    if row is None:
        raise NotFound(Msg("item %(item)s is not one of your items in study %(study)s", item=item_id, study=study_id))
    item, a = row
    sc = _scores(st, scores)
    if comment is not None and not isinstance(comment, str):
        raise Invalid([Msg("comment: a string")])
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise Invalid([Msg("comment: at most %(n)s characters", n=MAX_COMMENT)])
    if would_sign is not None and not isinstance(would_sign, bool):
        raise Invalid([Msg("would_sign: true or false")])
    if s.scalar(select(StudyRating.id).where(StudyRating.item_id == item.id, StudyRating.rater_id == who.id)):
        raise Conflict(Msg("you have rated item %(item)s already", item=item_id))
    now = utcnow()
    spent = (now - a.opened_at).total_seconds() if a.opened_at else None
    r = StudyRating(study_id=study_id, item_id=item.id, rater_id=who.id, scores=json.dumps(sc), would_sign=would_sign,
                    comment=comment, seconds_spent=spent, created_at=now)
    try:
        with s.begin_nested():
            s.add(r)
    except IntegrityError:  # the same rating at the same moment from another request
        raise Conflict(Msg("you have rated item %(item)s already", item=item_id)) from None
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

