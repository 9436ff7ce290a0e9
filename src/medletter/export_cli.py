"""`medletter export`: the model export (`--run …`, the callback) and the approved letters' FHIR export (`fhir`).

Both forms share one command: a Typer group whose callback runs when no subcommand is named, so
`medletter export --run runs/NAME --format hf` works exactly as before the `fhir` subcommand came.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from medletter.app.cli import _fail, console
from medletter.app.fhir_cli import export_fhir

export_app = typer.Typer(invoke_without_command=True)


@export_app.callback(invoke_without_command=True)
def export_cmd(
    ctx: typer.Context,
    run: Annotated[Optional[Path], typer.Option("--run", help="Run folder of `medletter train`")] = None,
    fmt: Annotated[Optional[str], typer.Option("--format", help="hf (merged folder), gguf (merged, llama.cpp; the default) or gguf-lora (the adapter alone)")] = None,
    quant: Annotated[Optional[str], typer.Option("--quant", help="GGUF type: f16, q8_0 (the default) or q4_k_m")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", help="Where to write (default: runs/NAME/export/)")] = None,
) -> None:
    """Export a model (--run …) or approved letters (fhir).

    `medletter export --run runs/NAME [--format hf|gguf|gguf-lora] [--quant …] [--out DIR]`: merge the adapter
    into de-quantised weights and write a HF folder or a GGUF (llama.cpp's converter and quantiser).

    `medletter export fhir --letter ID | --approved --out DIR [--server URL]`: approved letters as ISiK FHIR
    DocumentReferences (see `medletter export fhir --help`)."""
    if ctx.invoked_subcommand is not None:
        given = [name for name, value in (("--run", run), ("--format", fmt), ("--quant", quant), ("--out", out)) if value is not None]
        if given:
            raise typer.BadParameter(f"{', '.join(given)} before `{ctx.invoked_subcommand}`: these belong to the model export "
                                     f"(medletter export --run …); the options of `medletter export {ctx.invoked_subcommand}` "
                                     "come after it")
        return
    if run is None:
        raise typer.BadParameter("give --run runs/NAME (model export) or a subcommand: fhir (approved letters)", param_hint="'--run'")
    from medletter.export import ExportError, export

    fmt, quant = fmt or "gguf", quant or "q8_0"
    try:
        path = export(run, fmt, quant, out)
    except (ExportError, FileNotFoundError) as e:
        _fail(str(e))
    console.print(f"exported {run} as {fmt}{'' if fmt != 'gguf' else ' ' + quant} -> {path}", highlight=False)


export_app.command("fhir")(export_fhir)
