"""`medletter study …`: blinded rating studies in the review app's database (`--db` like `medletter app`).

    medletter study create --name N --cases FILE --system NAME=letters.jsonl … [--reference] --raters a,b,c [--per-item K]
    medletter study create --name N --from runs/demo/study/study.json --raters a,b
    medletter study results N [--json] [--csv FILE]
    medletter study list
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from medletter.app.cli import DEFAULT_DB, DbOption, _database, _fail, console

study_app = typer.Typer(no_args_is_help=True, help="Blinded physician rating studies: create, results (CSV, JSON).")


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        _fail(f"{path}: cannot read the {what} ({e.strerror})")


@study_app.command("create")
def create(
    name: Annotated[str, typer.Option("--name", help="The study's name (unique)")],
    raters: Annotated[str, typer.Option("--raters", help="Comma-separated user names with the role rater")],
    cases: Annotated[Optional[Path], typer.Option("--cases", help="Case records JSONL (with their letters for --reference)")] = None,
    system: Annotated[Optional[list[str]], typer.Option("--system", help="NAME=letters.jsonl (as `medletter generate` writes it); repeat")] = None,
    reference: Annotated[bool, typer.Option("--reference", help="Add each case's own letter as the system 'reference'")] = False,
    per_item: Annotated[Optional[int], typer.Option("--per-item", help="Raters per letter (default: all)")] = None,
    instrument: Annotated[Optional[Path], typer.Option("--instrument", help="Rating instrument JSON (default: the built-in one)")] = None,
    from_file: Annotated[Optional[Path], typer.Option("--from", help="A study file (e.g. runs/demo/study/study.json)")] = None,
    seed: Annotated[Optional[int], typer.Option("--seed", help="Seed of assignment and order (default: random)")] = None,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Make a blinded study: pseudonymise cases and letters, assign letters to raters, order them per rater."""
    from medletter.app.services import studies
    from medletter.app.services.auth import Principal
    from medletter.app.services.errors import Invalid, ServiceError

    systems = list(system or [])
    if from_file is not None:
        from medletter.app.studyfile import StudyFileError, read_study_file

        try:
            mcases, msystems, mref = read_study_file(from_file)
        except StudyFileError as e:
            _fail(str(e), 2)
        cases = cases or mcases
        systems = systems or [f"{k}={v}" for k, v in msystems.items()]
        reference = reference or mref
    if cases is None:
        _fail("--cases FILE (or --from STUDY.json) is required", 2)
    files = []
    for i, spec in enumerate(systems):
        sname, eq, path = spec.partition("=")
        if not eq or not sname.strip() or not path.strip():
            _fail(f"--system {i + 1}: write NAME=letters.jsonl", 2)
        p = Path(path.strip())
        files.append(studies.SystemFile(sname.strip(), _read(p, "letters"), str(p)))
    inst = None
    if instrument is not None:
        try:
            inst = json.loads(_read(instrument, "instrument"))
        except json.JSONDecodeError as e:
            _fail(f"{instrument}:{e.lineno}: not valid JSON ({e.msg})")
    raw = _read(cases, "cases")
    database = _database(db)
    try:
        with database.session() as s:
            st = studies.create_study(s, Principal.system(), name=name, cases_raw=raw, cases_name=str(cases),
                                      systems=files, reference=reference,
                                      raters=[r.strip() for r in raters.split(",") if r.strip()], per_item=per_item,
                                      instrument=inst, seed=seed)
            sid, k, n_sys = st.id, st.per_item, len(files) + (1 if reference else 0)
            info = studies.studies_for(s, Principal.system())
    except Invalid as e:
        for err in e.errors:
            console.print(err, highlight=False, markup=False)
        _fail(f"{len(e.errors)} problem(s); no study was made")
    except ServiceError as e:
        _fail(str(e))
    n = next(x for x in info if x["id"] == sid)["n_items"]
    console.print(f"study {name!r} (id {sid}): {n} ratings to collect from {n_sys} systems, {k} rater(s) per letter; "
                  f"raters open /rater in the app", highlight=False, markup=False)


@study_app.command("list")
def list_cmd(db: DbOption = DEFAULT_DB) -> None:
    """The studies with their progress."""
    from medletter.app.services import studies
    from medletter.app.services.auth import Principal

    with _database(db).session() as s:
        for st in studies.studies_for(s, Principal.system()):
            print(f"{st['id']}\t{st['name']}\t{st['status']}\t{st['n_done']}/{st['n_items']}")


@study_app.command("results")
def results(
    name: Annotated[str, typer.Argument(help="The study's name (or id)")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON")] = False,
    csv_out: Annotated[Optional[Path], typer.Option("--csv", help="Also write every rating to this CSV file")] = None,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Means with 95% bootstrap intervals per system and dimension, paired differences, Krippendorff's α."""
    from sqlalchemy import select

    from medletter.app.models import Study
    from medletter.app.services import study_stats

    with _database(db).session() as s:
        st = s.scalar(select(Study).where(Study.name == name))
        if st is None and name.isdigit():
            st = s.get(Study, int(name))
        if st is None:
            _fail(f"no study named {name!r}")
        res = study_stats.results(s, st)
        if csv_out is not None:
            csv_out.write_text(study_stats.ratings_csv(s, st), encoding="utf-8")
    if as_json:
        print(json.dumps(res, indent=2, ensure_ascii=False))
        return
    _print(res)
    if csv_out is not None:
        console.print(f"ratings -> {csv_out}", highlight=False)


def _print(res: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    def f(x, n=2):
        return "–" if x is None else f"{x:.{n}f}"

    c = Console(width=140)
    t = Table(title=f"Study {res['study']}: {res['n_ratings']} ratings of {res['n_items']} letters")
    t.add_column("dimension")
    for sy in res["systems"]:
        t.add_column(sy, justify="right")
    t.add_column("α (ordinal)", justify="right")
    for d in res["dimensions"]:
        k = d["key"]
        ag = res["agreement"][k]
        t.add_row(d["label"], *[f"{f(v[k]['mean'])} [{f(v[k]['ci_low'])}–{f(v[k]['ci_high'])}]" for v in res["systems"].values()],
                  f"{f(ag['krippendorff_alpha'], 3)} (n={ag['n_items']})")
    c.print(t)
    for p in res["pairwise"]:
        t = Table(title=f"{p['a']} − {p['b']} (paired by case)")
        for col in ("dimension", "mean difference", "95% interval", "cases"):
            t.add_column(col, justify="left" if col == "dimension" else "right")
        for d in res["dimensions"]:
            v = p["dimensions"][d["key"]]
            t.add_row(d["label"], f(v["mean_diff"]), f"{f(v['ci_low'])} – {f(v['ci_high'])}", str(v["n_cases"]))
        c.print(t)
    c.print(res["method"])
