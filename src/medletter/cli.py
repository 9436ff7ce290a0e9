"""The medletter command line: one Typer app, one subcommand per pipeline stage.

Every command runs offline: the guard is installed before anything else happens.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from medletter.privacy import guard

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Fine-tune a local LLM on a radiation-oncology department's letters and draft new ones. Nothing leaves the hospital.",
)
console = Console(stderr=True)
log = logging.getLogger("medletter")


@app.callback()
def _main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="More log output.")] = False) -> None:
    guard.install()
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


def _fail(message: str, code: int = 1) -> None:
    console.print(f"[red]error:[/red] {message}", highlight=False, markup=True)
    raise typer.Exit(code)


def _records_or_exit(path: Path, skip_invalid: bool, rejects: Path | None = None):
    """Load records for a command that processes them; bad lines stop it before it writes anything."""
    from medletter.jsonl import RecordsError, load_records

    try:
        return load_records(path, skip_invalid=skip_invalid, rejects=rejects)
    except RecordsError as e:
        for err in e.errors:
            console.print(str(err), highlight=False, markup=False)
        _fail(f"{len(e.errors)} problem(s) in {path}; nothing was written (use --skip-invalid to process the good lines)")


@app.command()
def schema(
    kind: Annotated[str, typer.Option(help="record (a corpus line), case or letter")] = "record",
) -> None:
    """Print the JSON Schema of a record, a case or a letter."""
    from medletter.records import Case, Letter, Record

    model = {"record": Record, "case": Case, "letter": Letter}.get(kind)
    if model is None:
        _fail(f"--kind must be record, case or letter, not {kind!r}")
    print(json.dumps(model.model_json_schema(), indent=2, ensure_ascii=False))


@app.command()
def validate(
    file: Annotated[Path, typer.Argument(help="JSONL file of records ({\"case\": …, \"letter\": …} per line)")],
) -> None:
    """Check every line of a JSONL file; print FILE:LINE: FIELD: problem for each bad one. Exits 1 if any is bad."""
    from medletter.jsonl import RecordsError, read_records

    try:
        res = read_records(file)
    except RecordsError as e:
        for err in e.errors:
            print(str(err))
        raise typer.Exit(1) from None
    for err in res.errors:
        print(str(err))
    n_bad = len({e.line for e in res.errors})
    n = len(res.good) + n_bad
    if res.errors:
        console.print(f"[red]{n_bad} of {n} lines bad[/red] in {file}", highlight=False)
        raise typer.Exit(1)
    console.print(f"[green]ok[/green]: {n} records valid in {file}", highlight=False)


@app.command()
def synth(
    out: Annotated[Path, typer.Option("--out", "-o", help="Output JSONL file")],
    n: Annotated[int, typer.Option("--n", min=1, max=100_000, help="Number of cases")] = 500,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same corpus)")] = 1,
    lang: Annotated[str, typer.Option(help="Letter language: de or en")] = "de",
    style: Annotated[str, typer.Option(help="Institution style name, or 'mixed'")] = "mixed",
) -> None:
    """Write a synthetic corpus: radiation-oncology cases, each with a reference letter and PHI spans."""
    from medletter import synth as synth_mod
    from medletter.jsonl import write_jsonl

    if lang not in ("de", "en"):
        _fail(f"--lang must be de or en, not {lang!r}")
    if style != "mixed" and style not in synth_mod.STYLES:
        _fail(f"unknown --style {style!r}; known: {', '.join(synth_mod.style_names())}, mixed")
    records = synth_mod.generate_corpus(n, seed=seed, lang=lang, style=None if style == "mixed" else style)
    write_jsonl(out, records)
    console.print(f"wrote {len(records)} cases with letters to {out}", highlight=False)


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
