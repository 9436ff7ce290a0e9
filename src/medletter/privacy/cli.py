"""``medletter deid``: measure and run de-identification.

    medletter deid eval --gold grascco_phi_dev.jsonl [--json]
    medletter deid run --in records.jsonl --out deid.jsonl [--mode pseudonymize|mask|redact] [--key-file F]
    medletter deid keygen FILE

Output never contains patient text: counts, labels and figures only.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

deid_app = typer.Typer(no_args_is_help=True, help="De-identify records: detect and replace patient information.")


@deid_app.command("eval")
def eval_cmd(
    gold: Path = typer.Option(..., "--gold", help="Gold JSONL (GraSCCo_PHI format: text + phi spans)."),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON."),
    lang: str = typer.Option("de", "--lang", help="Language of the texts (de or en)."),
) -> None:
    """Precision, recall and F1 of detection on a gold set, overall and per label."""
    from medletter.privacy import guard
    from medletter.privacy.deid_eval import evaluate_gold

    guard.install()
    try:
        res = evaluate_gold(gold, lang=lang)
    except (OSError, ValueError) as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps(res, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"De-identification on {gold.name} ({res['documents']} documents)")
    for col in ("label", "precision", "recall", "f1", "support", "predicted"):
        t.add_column(col, justify="left" if col == "label" else "right")
    o = res["overall"]
    t.add_row("overall", f"{o['precision']:.3f}", f"{o['recall']:.3f}", f"{o['f1']:.3f}", str(o["support"]), str(o["predicted"]),
              style="bold")
    for name, v in res["labels"].items():
        t.add_row(name, f"{v['precision']:.3f}", f"{v['recall']:.3f}", f"{v['f1']:.3f}", str(v["support"]), str(v["predicted"]))
    c = Console()
    c.print(t)
    c.print(f"Overlap rule: {res['overlap_rule']}")


@deid_app.command("run")
def run_cmd(
    in_path: Path = typer.Option(..., "--in", help="Records JSONL."),
    out_path: Path = typer.Option(..., "--out", help="Where to write the de-identified records."),
    mode: str = typer.Option("pseudonymize", "--mode", help="pseudonymize, mask or redact."),
    key_file: Path = typer.Option(None, "--key-file", help="Secret key file (default: $MEDLETTER_DEID_KEY_FILE)."),
    skip_invalid: bool = typer.Option(False, "--skip-invalid", help="Skip bad lines (written to a rejects file)."),
    mapping_out: Path = typer.Option(None, "--mapping-out",
                                     help="Also write the encrypted surrogate->original mapping per record (JSONL)."),
    no_gold: bool = typer.Option(False, "--no-gold-spans", help="Ignore the letters' own spans; use detection only."),
) -> None:
    """De-identify a records file (case fields and letters, consistently per patient)."""
    from medletter.jsonl import RecordsError, load_records, write_jsonl
    from medletter.privacy import guard
    from medletter.privacy.pseudonymize import MODES, KeyError_, deidentify_record_with_mapping, load_key

    guard.install()
    if mode not in MODES:
        typer.echo(f"error: --mode must be one of {', '.join(MODES)}", err=True)
        raise typer.Exit(2)
    try:
        key = load_key(key_file)
    except KeyError_ as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    try:
        records = load_records(in_path, skip_invalid=skip_invalid)
    except RecordsError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    out, maps = [], []
    for i, rec in enumerate(records, start=1):
        try:
            new, token = deidentify_record_with_mapping(rec, key, mode=mode, use_gold_spans=not no_gold)
        except Exception as e:  # never echo the record
            typer.echo(f"error: {in_path}: record {i}: de-identification failed ({type(e).__name__})", err=True)
            raise typer.Exit(1) from None
        out.append(new)
        maps.append({"record": i, "mapping": token.decode("ascii") if token else None})
    n = write_jsonl(out_path, out)
    if mapping_out:
        write_jsonl(mapping_out, maps)
    typer.echo(f"de-identified {n} records ({mode}) -> {out_path}")


@deid_app.command("keygen")
def keygen_cmd(path: Path = typer.Argument(..., help="Where to write the new key (mode 0600).")) -> None:
    """Create a new secret key file for pseudonymisation."""
    from medletter.privacy.pseudonymize import KeyError_, create_key_file

    try:
        create_key_file(path)
    except KeyError_ as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"wrote a new key to {path} (keep it outside the data; mode 0600)")
