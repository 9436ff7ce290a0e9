"""``medletter deid``: measure and run de-identification.

    medletter deid eval --gold grascco_phi_dev.jsonl [--json] [--rules-only]
    medletter deid eval --cv 5 [--gold FILE] [--json]     # cross-validated: rules / learned / combined
    medletter deid train-model [--gold FILE] [--if-missing]  # the learned tagger, into the cache
    medletter deid run --in records.jsonl --out deid.jsonl [--mode pseudonymize|mask|redact] [--key-file F]
                                                          # + deid.deid-report.json (residual risk)
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
    gold: Path = typer.Option(None, "--gold", help="Gold JSONL (GraSCCo_PHI format: text + phi spans). "
                              "Default with --cv: the development letters in shared/data/deid."),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON."),
    lang: str = typer.Option("de", "--lang", help="Language of the texts (de or en)."),
    cv: int = typer.Option(0, "--cv", help="K-fold cross-validation of the learned tagger by document (e.g. 5): "
                           "rules only, learned only and combined, per label."),
    seed: int = typer.Option(0, "--seed", help="Seed of the fold split and of training (--cv)."),
    synth: int = typer.Option(None, "--synth", help="Synthetic letters added to each fold's training (--cv)."),
    epochs: int = typer.Option(None, "--epochs", help="Training epochs per fold (--cv)."),
    augment: int = typer.Option(None, "--augment",
                                help="Augmented variants of each training letter (--cv): surrogates, made-up names."),
    threshold: float = typer.Option(None, "--threshold", help="The tagger's PHI probability threshold (--cv)."),
    rules_only: bool = typer.Option(False, "--rules-only", help="Score the rules alone, even where a model is cached."),
) -> None:
    """Precision, recall and F1 of detection on a gold set, overall and per label.

    Without --cv: detection as ``deid run`` uses it (the rules, plus the learned tagger when a model was
    built with ``medletter deid train-model``; built once here when it is missing). With --cv K:
    cross-validated figures for the tagger."""
    from medletter.privacy import guard
    from medletter.privacy.deid_eval import cross_validate, default_dev_path, evaluate_gold

    guard.install()
    if gold is None:
        gold = default_dev_path() if cv else None
        if gold is None:
            typer.echo("error: --gold FILE is required" + ("" if cv else " (or --cv K with shared/data/deid present)"), err=True)
            raise typer.Exit(2)
    try:
        if cv:
            if lang != "de":
                typer.echo("error: --cv evaluates the German tagger (--lang de)", err=True)
                raise typer.Exit(2)
            log = None if as_json else (lambda m: typer.echo(m, err=True))
            res = cross_validate(gold, cv, seed, synth=synth, epochs=epochs, augment=augment, threshold=threshold, log=log)
        else:
            if not rules_only and lang == "de":
                _ensure_model(quiet=as_json)
            res = evaluate_gold(gold, lang=lang, use_learned=not rules_only)
    except (OSError, ValueError) as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps(res, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    c = Console()
    if cv:
        _print_cv(Console(width=max(c.width, 118)), gold, res)  # 8 columns: never squeeze the labels
        return
    t = Table(title=f"De-identification on {gold.name} ({res['documents']} documents; {res['detector']})")
    for col in ("label", "precision", "recall", "f1", "support", "predicted"):
        t.add_column(col, justify="left" if col == "label" else "right")
    o = res["overall"]
    t.add_row("overall", f"{o['precision']:.3f}", f"{o['recall']:.3f}", f"{o['f1']:.3f}", str(o["support"]), str(o["predicted"]),
              style="bold")
    for name, v in res["labels"].items():
        t.add_row(name, f"{v['precision']:.3f}", f"{v['recall']:.3f}", f"{v['f1']:.3f}", str(v["support"]), str(v["predicted"]))
    c.print(t)
    c.print(f"Overlap rule: {res['overlap_rule']}")


def _print_cv(c, gold: Path, res: dict) -> None:
    from rich.table import Table

    cv = res["cv"]
    t = Table(title=f"{cv['folds']}-fold cross-validation on {gold.name} ({cv['documents']} letters, seed {cv['seed']})")
    t.add_column("label")
    t.add_column("support", justify="right")
    for part in ("rules", "learned", "combined"):
        t.add_column(f"{part} R", justify="right")
        t.add_column(f"{part} P", justify="right")

    def cells(v):
        return [f"{v['recall']:.3f}" if v else "-", f"{v['precision']:.3f}" if v else "-"]

    o = {p: res[p]["overall"] for p in ("rules", "learned", "combined")}
    t.add_row("overall", str(o["combined"]["support"]), *cells(o["rules"]), *cells(o["learned"]), *cells(o["combined"]),
              style="bold")
    labels = list(res["combined"]["labels"])
    labels += [n for p in ("rules", "learned") for n in res[p]["labels"] if n not in labels]
    for name in labels:
        v = {p: res[p]["labels"].get(name) for p in ("rules", "learned", "combined")}
        support = next((x["support"] for x in v.values() if x), 0)
        t.add_row(name, str(support), *cells(v["rules"]), *cells(v["learned"]), *cells(v["combined"]))
    c.print(t)
    s = Table(title="combined, by the tagger's threshold")
    for col in ("threshold", "learned R", "learned P", "combined R", "combined P", "NAME_PATIENT R", "DATE R", "ID R"):
        s.add_column(col, justify="right")
    for th, v in res["sweep"].items():
        r3 = v["combined_names_dates_ids_recall"]
        s.add_row(th + (" *" if float(th) == cv["threshold"] else ""), f"{v['learned']['recall']:.3f}",
                  f"{v['learned']['precision']:.3f}", f"{v['combined']['recall']:.3f}", f"{v['combined']['precision']:.3f}",
                  *[f"{r3[k]:.3f}" if r3[k] is not None else "-" for k in ("NAME_PATIENT", "DATE", "ID")])
    c.print(s)
    for name, v in res.get("ablation", {}).items():
        c.print(f"{name}: learned R {v['learned']['recall']:.3f} P {v['learned']['precision']:.3f}, "
                f"combined R {v['combined']['recall']:.3f} P {v['combined']['precision']:.3f}")
    c.print(f"Training per fold: {', '.join(f'{x:.0f} s' for x in cv['train_seconds'])} ({cv['epochs']} epochs, "
            f"{cv['augment']} augmented variants per letter, {cv['synthetic_letters']} synthetic letters); "
            f"R = recall, P = precision.")
    c.print(cv["note"])
    c.print(f"Overlap rule: {res['overlap_rule']}")


@deid_app.command("train-model")
def train_model_cmd(
    gold: Path = typer.Option(None, "--gold", help="Gold JSONL to train on (default: the development letters in "
                              "shared/data/deid, where present)."),
    no_gold: bool = typer.Option(False, "--no-gold", help="Train on synthetic letters only."),
    synth: int = typer.Option(None, "--synth", help="Synthetic letters to add."),
    epochs: int = typer.Option(None, "--epochs", help="Training epochs."),
    augment: int = typer.Option(None, "--augment", help="Augmented variants of each gold letter (surrogates, made-up names)."),
    seed: int = typer.Option(0, "--seed", help="Training seed."),
    out: Path = typer.Option(None, "--out", help="Where to save (default: the cache, where detection looks)."),
    if_missing: bool = typer.Option(False, "--if-missing", help="Do nothing when a model is already there."),
) -> None:
    """Train the learned PHI tagger offline (gold letters + synthetic corpus) and save it into the cache."""
    from medletter.privacy import guard
    from medletter.privacy import learned as L
    from medletter.privacy.deid_eval import default_dev_path

    guard.install()
    target = out or L.model_path()
    if if_missing and target is not None and L.model_ready(target):
        typer.echo(f"the PHI tagger is already built: {target}")
        return
    if target is None and out is None:
        typer.echo("error: MEDLETTER_DEID_MODEL is off: name a folder with --out", err=True)
        raise typer.Exit(2)
    if not no_gold and gold is None:
        gold = default_dev_path()
        if gold is None:
            typer.echo("no --gold file and no development letters found: training on synthetic letters only", err=True)
    try:
        path, info = L.build_model(None if no_gold else gold, synth=L.SYNTH_LETTERS if synth is None else synth,
                                   epochs=L.EPOCHS if epochs is None else epochs,
                                   augment=L.AUGMENT if augment is None else augment, seed=seed, out=out,
                                   log=lambda m: typer.echo(m, err=True))
    except (OSError, ValueError) as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"trained the PHI tagger on {info['gold_documents']} gold letters (+{info['augment']} augmented "
               f"variants each) and {info['synthetic_letters']} synthetic letters in {info['train_seconds']:.0f} s "
               f"-> {path}")


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
    report_out: Path = typer.Option(None, "--report",
                                    help="Where to write the residual-risk report (default: OUT's name with "
                                         "'.deid-report.json', next to it)."),
) -> None:
    """De-identify a records file (case fields and letters, consistently per patient).

    Next to the output it writes a residual-risk report, OUT.deid-report.json ("deid.jsonl" ->
    "deid.deid-report.json"): how many spans were replaced, by label (in the letters and in the case's
    free text), and the records with low-confidence decisions — a span that only the learned tagger
    found, whose best rule score is below 0.6, or that one single rule below 0.7 supports — with the
    label, score and offsets into the input letter, for the department to review by hand before
    training. It holds no patient text: record numbers (the line in the output), surrogate case ids,
    labels, scores and offsets only.
    """
    from medletter.jsonl import RecordsError, load_records, write_jsonl
    from medletter.privacy import guard
    from medletter.privacy.pseudonymize import MODES, KeyError_, deidentify_record_with_mapping, load_key
    from medletter.privacy.residual import ResidualReport, capture_detection, report_path

    guard.install()
    _ensure_model()
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
    report = ResidualReport(mode=mode, use_gold_spans=not no_gold)
    with capture_detection() as cap:
        for i, rec in enumerate(records, start=1):
            try:
                new, token = deidentify_record_with_mapping(rec, key, mode=mode, use_gold_spans=not no_gold)
                report.add(i, rec, new, cap)
            except Exception as e:  # never echo the record
                typer.echo(f"error: {in_path}: record {i}: de-identification failed ({type(e).__name__})", err=True)
                raise typer.Exit(1) from None
            finally:
                cap.clear()
            out.append(new)
            maps.append({"record": i, "mapping": token.decode("ascii") if token else None})
    n = write_jsonl(out_path, out)
    if mapping_out:
        write_jsonl(mapping_out, maps)
    rep = report.write(report_out or report_path(out_path))
    typer.echo(f"de-identified {n} records ({mode}) -> {out_path}")
    typer.echo(f"residual-risk report -> {rep} ({len(report.review)} records with low-confidence decisions to review)")


def _ensure_model(quiet: bool = False) -> None:
    """Build the learned tagger once when detection would use it and it is missing (stderr says so)."""
    from medletter.privacy import learned as L

    try:
        def log(m: str) -> None:  # with --json: the one line that says why it waits, not every epoch
            if not quiet or m.startswith("no learned"):
                typer.echo(m, err=True)

        L.ensure_model(log=log)
    except (OSError, ValueError) as e:
        typer.echo(f"warning: could not build the learned PHI tagger ({e}): detection uses the rules only", err=True)


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
