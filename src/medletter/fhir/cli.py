"""``medletter import fhir FILE|DIR [--profile mii|mcode|auto] --out cases.jsonl [--report FILE]``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

import_app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_show_locals=False,
                         help="Import cases from hospital systems.")
console = Console(stderr=True, soft_wrap=True)


@import_app.command("fhir")
def import_fhir(
    source: Annotated[list[Path], typer.Argument(help="FHIR R4 Bundle (.json) or Bulk Data NDJSON (.ndjson) files, or folders of them")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output JSONL of case records")],
    profile: Annotated[str, typer.Option(help="mii (MII Kerndatensatz Onkologie), mcode (mCODE/CodeX RT) or auto")] = "auto",
    report: Annotated[Path | None, typer.Option("--report", help="Write a report: .md for Markdown, else JSON")] = None,
) -> None:
    """Map FHIR R4 radiotherapy data to case records; incomplete cases list what they miss (see --report)."""
    from medletter.fhir.importer import PROFILES, import_index, write_report
    from medletter.fhir.importer import report as make_report
    from medletter.fhir.read import FhirInputError, read_index
    from medletter.jsonl import write_jsonl

    if profile not in PROFILES:
        console.print(f"[red]error:[/red] --profile must be mii, mcode or auto, not {profile!r}", highlight=False)
        raise typer.Exit(2)
    try:
        index = read_index(list(source))
    except FhirInputError as e:
        for p in e.problems:
            console.print(str(p), highlight=False, markup=False)
        console.print(f"[red]error:[/red] {len(e.problems)} problem(s) in the FHIR input; nothing was written", highlight=False)
        raise typer.Exit(1) from None
    result = import_index(index, profile)
    records = result.records
    for u in result.unmappable:
        console.print(f"unmappable: {u['resource']}: {u['reason']}", highlight=False, markup=False)
    if not records:
        console.print("[red]error:[/red] no case could be made from the input; nothing was written", highlight=False)
        if report is not None:
            write_report(report, make_report(result, [str(s) for s in source], profile))
        raise typer.Exit(1)
    write_jsonl(out, records)
    if report is not None:
        write_report(report, make_report(result, [str(s) for s in source], profile))
    n_inc = sum(1 for r in records if r.case.missing)
    console.print(f"wrote {len(records)} case(s) to {out}: {len(records) - n_inc} complete, {n_inc} incomplete "
                  f"(they list missing fields; the app drafts them once completed)"
                  + (f"; report in {report}" if report else ""), highlight=False)
