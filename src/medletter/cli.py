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

from medletter.generate.settings import GenSettings
from medletter.privacy import guard

app = typer.Typer(
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # a traceback must never print patient data held in local variables
    add_completion=False,
    help="Fine-tune a local LLM on a radiation-oncology department's letters and draft new ones. Nothing leaves the hospital.",
)
console = Console(stderr=True)


def _mount_subapps() -> None:
    from medletter.privacy.cli import deid_app

    app.add_typer(deid_app, name="deid", help="De-identify records: detect and replace patient information; measure it.")
    from medletter.app.cli import app_stats, serve, users_app

    app.add_typer(users_app, name="users", help="Users of the review app: add, make an API token, disable.")
    app.command("app")(serve)
    app.command("app-stats")(app_stats)
    from medletter.app.study_cli import study_app

    app.add_typer(study_app, name="study", help="Blinded physician rating studies: create, results (CSV, JSON).")
    from medletter.export_cli import export_app

    app.add_typer(export_app, name="export")
    from medletter.fhir.cli import import_app

    app.add_typer(import_app, name="import", help="Import cases from hospital systems: FHIR R4 (MII Onkologie, mCODE).")


_mount_subapps()
log = logging.getLogger("medletter")


@app.callback()
def _main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="More log output.")] = False) -> None:
    guard.install()
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("medletter").setLevel(logging.INFO)  # our own progress notes; never patient data
    # bitsandbytes tries to fetch an optional CPU kernel from a hub (blocked offline) and warns on every
    # load; its built-in CPU path is used instead, so the warning carries no information here.
    logging.getLogger("bitsandbytes.backends.cpu.ops").setLevel(logging.ERROR)


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
        res = read_records(file, allow_incomplete=True)
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
    n_inc = sum(1 for r in res.records if r.case.missing)
    note = f" ({n_inc} incomplete: they list missing fields and cannot be drafted until completed)" if n_inc else ""
    console.print(f"[green]ok[/green]: {n} records valid in {file}{note}", highlight=False)


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


@app.command()
def train(
    data: Annotated[Path, typer.Option("--data", help="Corpus JSONL (cases with reference letters; an optional split column is kept)")],
    run: Annotated[Path, typer.Option("--run", help="Run folder, e.g. runs/NAME")],
    config: Annotated[str, typer.Option(help="Preset name (cpu-demo, llama3-8b-48gb) or YAML file")] = "cpu-demo",
    model: Annotated[Optional[str], typer.Option(help="gemma-3-270m or a local Hugging Face model folder")] = None,
    quantization: Annotated[Optional[str], typer.Option(help="nf4 (QLoRA) or none (plain LoRA)")] = None,
    epochs: Annotated[Optional[float], typer.Option(help="Override epochs")] = None,
    max_steps: Annotated[Optional[int], typer.Option(help="Override: stop after this many optimiser steps")] = None,
    learning_rate: Annotated[Optional[float], typer.Option("--lr", help="Override learning rate")] = None,
    style: Annotated[Optional[str], typer.Option(help="Style named in the prompt (default: each letter's own)")] = None,
    n_test: Annotated[Optional[int], typer.Option("--n-test", min=0, help="Override: cases held out for testing (whole patients)")] = None,
    n_validation: Annotated[Optional[int], typer.Option("--n-validation", min=0, help="Override: cases held out for the validation loss")] = None,
    sets: Annotated[Optional[list[str]], typer.Option("--set", metavar="KEY=VALUE", help="Override any config key (repeatable), e.g. --set lora_r=8 --set report_to= ; keys: src/medletter/train/config.py")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue from the newest checkpoint in RUN/checkpoints")] = False,
    skip_invalid: Annotated[bool, typer.Option("--skip-invalid", help="Train on the good lines; write bad ones to a rejects file")] = False,
    no_deid: Annotated[bool, typer.Option("--no-deid", help="The data is de-identified already: do not pseudonymise it again (recorded in the run's config)")] = False,
) -> None:
    """QLoRA fine-tuning: writes RUN/{config.yaml, adapter/, tokenizer/, checkpoints/, metrics.jsonl, data/}.

    The training and validation letters are pseudonymised before they are tokenised (key:
    $MEDLETTER_DEID_KEY_FILE, or one made once in the cache), unless --no-deid.

    The preset (or YAML file) gives every setting; the options and --set KEY=VALUE override them."""
    from medletter.train import load_config, prepare_data
    from medletter.train import train as run_training
    from medletter.train.config import ConfigError
    from medletter.train import dist

    n_ranks = dist.cpu_processes_requested()
    if n_ranks > 1:
        console.print(f"accelerate launch --cpu starts one process (several need mpirun): starting the {n_ranks} ranks here "
                      "with torch.distributed.run (gloo)", highlight=False)
        dist.relaunch_ranks(n_ranks, sys.argv)

    try:
        cfg = load_config(config, {"model": model, "quantization": quantization, "epochs": epochs, "max_steps": max_steps,
                                   "learning_rate": learning_rate, "style": style, "n_test": n_test,
                                   "n_validation": n_validation}, sets=sets or ())
    except ConfigError as e:
        _fail(str(e), code=2)
    except (FileNotFoundError, ValueError) as e:
        _fail(str(e))
    dist.init()  # under accelerate launch / torchrun: join the process group (a no-op for one process)
    main = dist.is_main()
    records = _records_or_exit(data, skip_invalid)
    key = None
    with dist.main_first():  # rank 0 makes the key (if new) and writes the splits; the others then compute the same
        if not no_deid and cfg.deid:
            from medletter.privacy.pseudonymize import KeyError_, default_key

            try:
                key = default_key()
            except KeyError_ as e:
                _fail(str(e))
        try:
            splits = prepare_data(records, cfg, run, key=key, write=main)
        except ValueError as e:
            _fail(f"{data}: {e}")
    if main:
        console.print(f"split by patient: {len(splits['train'])} train, {len(splits['validation'])} validation, {len(splits['test'])} test cases -> {run / 'data'}", highlight=False)
        console.print("training and validation letters pseudonymised before tokenising" if key else
                      "[yellow]--no-deid:[/yellow] training on the letters as given (recorded in config.yaml)", highlight=False)
    try:
        summary = run_training(cfg, splits, run, resume=resume)
    except FileNotFoundError as e:
        _fail(str(e))
    except ValueError as e:
        _fail(str(e))
    if main:
        console.print_json(json.dumps(summary))
        console.print(f"adapter: {run / 'adapter'}", highlight=False)


@app.command()
def generate(
    run: Annotated[Path, typer.Option("--run", help="Run folder of `medletter train`")],
    cases: Annotated[Path, typer.Option("--cases", help="Cases JSONL (letters, if present, are ignored)")],
    out: Annotated[Path, typer.Option("--out", help="Output letters JSONL")],
    base_only: Annotated[bool, typer.Option("--base-only", help="Use the base model without the adapter")] = False,
    backend: Annotated[str, typer.Option("--backend", help="hf (transformers), llamacpp (the run's GGUF, made on first use) or openai (a server)")] = "hf",
    endpoint: Annotated[Optional[str], typer.Option("--endpoint", help="OpenAI-compatible server, e.g. http://127.0.0.1:8001 (--backend openai)")] = None,
    model: Annotated[Optional[str], typer.Option("--model", help="Model (or LoRA adapter) name on the server (--backend openai)")] = None,
    quant: Annotated[str, typer.Option("--quant", help="GGUF type for --backend llamacpp: f16, q8_0, q4_k_m")] = "q8_0",
    max_new_tokens: Annotated[int, typer.Option(min=1, help="Longest letter in tokens")] = GenSettings.max_new_tokens,
    batch_size: Annotated[int, typer.Option(min=1, help="Letters drafted together (hf: one batch; llamacpp: parallel sequences)")] = GenSettings.batch_size,
    style: Annotated[Optional[str], typer.Option(help="Style to ask for (default: the run's training style)")] = None,
    lang: Annotated[Optional[str], typer.Option(help="de or en (default: the run's)")] = None,
    sample: Annotated[bool, typer.Option("--sample", help="Sample instead of greedy decoding")] = False,
    loop_tokens: Annotated[int, typer.Option("--loop-tokens", min=0, help="Stop a letter once its last N tokens copy its own earlier text (0: never)")] = GenSettings.loop_tokens,
    grounding: Annotated[str, typer.Option("--grounding", help="on: the fine-tuned model writes only numbers its case backs (medletter.grounding); off: freely")] = GenSettings.grounding,
    skip_invalid: Annotated[bool, typer.Option("--skip-invalid")] = False,
) -> None:
    """Draft letters for cases with the fine-tuned (or base) model; records latency and tokens/s per letter."""
    from medletter.generate import overall_tokens_per_s
    from medletter.generate.backends import make_backend
    from medletter.jsonl import write_jsonl

    if grounding not in ("on", "off"):
        _fail("--grounding must be on or off")
    records = _records_or_exit(cases, skip_invalid)
    settings = GenSettings(max_new_tokens=max_new_tokens, batch_size=batch_size, do_sample=sample, loop_tokens=loop_tokens,
                           grounding=grounding)
    try:
        be = make_backend(backend, run, base_only=base_only, style=style, lang=lang, settings=settings, endpoint=endpoint,
                          model=model, quant=quant)
    except (FileNotFoundError, ValueError, RuntimeError) as e:
        _fail(str(e))
    try:
        drafts = be.draft(records)
    except RuntimeError as e:
        _fail(str(e))
    write_jsonl(out, [d.to_dict() for d in drafts])
    tps = overall_tokens_per_s(drafts)
    loops = sum(d.looped for d in drafts)
    said = f"; {loops} stopped because they began to repeat themselves (looped)" if loops else ""
    if be.grounding is not None:
        held = sum(len(d.grounding.get("interventions", [])) for d in drafts)
        mode = drafts[0].grounding.get("mode", "gate") if drafts else "gate"
        said += f"; grounding on ({mode}): {held} numbers held to their cases"
    console.print(f"wrote {len(drafts)} letters to {out} ({tps:.1f} tokens/s overall, backend {be.name}{said})", highlight=False)


@app.command("serve")
def serve_cmd(
    run: Annotated[list[Path], typer.Option("--run", help="Run folder of `medletter train`; repeat it to serve several departments' adapters on one shared base")],
    port: Annotated[int, typer.Option(help="Port")] = 8001,
    host: Annotated[str, typer.Option(help="Address (loopback by default)")] = "127.0.0.1",
    quant: Annotated[str, typer.Option("--quant", help="GGUF type: f16, q8_0 or q4_k_m")] = "q8_0",
    n_ctx: Annotated[int, typer.Option("--n-ctx", help="Context length")] = 4096,
) -> None:
    """An OpenAI-compatible server for the run's model (llama-cpp-python's server on the exported GGUF);
    the model is named after the run. `medletter generate --backend openai` and the review app use it.

    With several --run: one server, one base GGUF shared by the runs, each run's adapter as a GGUF LoRA,
    each served under its department (config `department`, else the run's folder name); llama-cpp-python
    holds one of them at a time and switches when a request names another."""
    import os

    from medletter.export import ExportError, run_gguf, shared_base_config
    from medletter.generate.backends import llamacpp_available

    ok, why = llamacpp_available()
    if not ok:
        _fail(why)
    if host not in ("127.0.0.1", "localhost", "::1"):
        console.print(f"note: serving on {host}: put TLS and authentication in front of it", highlight=False)
    threads = str(os.cpu_count() or 1)
    if len(run) == 1:
        try:
            gguf = run_gguf(run[0], quant)
        except (ExportError, FileNotFoundError) as e:
            _fail(str(e))
        console.print(f"OpenAI-compatible server for {run[0].name} on http://{host}:{port}/v1 ({gguf.name})", highlight=False)
        args = [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--model_alias", run[0].name, "--host", host,
                "--port", str(port), "--n_ctx", str(n_ctx), "--n_threads", threads]
        os.execv(sys.executable, args)
    try:
        cfg = shared_base_config(run, quant, n_ctx)
    except (ExportError, FileNotFoundError) as e:
        _fail(str(e))
    cfg.update(host=host, port=port)
    path = run[0] / "export" / "serve-departments.json"
    path.write_text(json.dumps(cfg, indent=2), encoding="utf-8")
    names = ", ".join(m["model_alias"] for m in cfg["models"])
    console.print(f"OpenAI-compatible server on http://{host}:{port}/v1: {names} (one base, {Path(cfg['models'][0]['model']).name}, "
                  f"one LoRA each; settings {path})", highlight=False)
    os.execv(sys.executable, [sys.executable, "-m", "llama_cpp.server", "--config_file", str(path)])


@app.command()
def evaluate(
    cases: Annotated[Path, typer.Option("--cases", help="Test cases JSONL with reference letters")],
    system: Annotated[list[str], typer.Option("--system", help="NAME=letters.jsonl; repeat for each system to compare")],
    out_dir: Annotated[Path, typer.Option("--out-dir", help="Where eval.json and report.html go")],
    title: Annotated[str, typer.Option(help="Report title")] = "medletter evaluation",
) -> None:
    """ROUGE (German-aware) with bootstrap intervals, section coverage and fact checks; eval.json + report.html."""
    from medletter.evaluate import evaluate_systems, load_drafts
    from medletter.evaluate.report import write_report
    from medletter.jsonl import RecordsError, atomic_writer, write_jsonl

    records = _records_or_exit(cases, False)
    systems = {}
    for spec in system:
        name, sep, path = spec.partition("=")
        if not sep or not name or not path:
            _fail(f"--system takes NAME=letters.jsonl, got {spec!r}")
        try:
            systems[name] = load_drafts(path)
        except RecordsError as e:
            _fail(str(e))
        except KeyError as e:
            _fail(f"{path}: rows need case_id and text ({e} missing)")
    ev, rows = evaluate_systems(records, systems)
    with atomic_writer(out_dir / "eval.json") as f:
        json.dump(ev, f, indent=2)
    write_jsonl(out_dir / "eval_letters.jsonl", rows)
    report = write_report(out_dir / "report.html", ev, rows, records, systems, title=title)
    _print_eval(ev)
    console.print(f"eval: {out_dir / 'eval.json'}\nreport: {report}", highlight=False)


def _print_eval(ev: dict) -> None:
    from medletter.evaluate.report import summary_table

    console.print(summary_table(ev))


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", help="Run folder")] = Path("runs/demo"),
    n_train: Annotated[int, typer.Option(help="Training cases")] = 170,
    n_test: Annotated[int, typer.Option(help="Held-out test cases (split by patient)")] = 24,
    n_validation: Annotated[int, typer.Option(help="Validation cases")] = 6,
    seed: Annotated[int, typer.Option(help="Seed of corpus and training")] = 1,
    style: Annotated[str, typer.Option(help="The department's letter style")] = "kreisklinikum",
    config: Annotated[str, typer.Option(help="Training preset or YAML file")] = "cpu-demo",
    max_steps: Annotated[Optional[int], typer.Option(help="Cut training short (for a quick look)")] = None,
    backend: Annotated[str, typer.Option("--backend", help="Engine for the letters: auto (llama.cpp with parallel sequences, the fastest for a set of letters on a CPU; hf where llama-cpp-python is missing), hf, llamacpp")] = "auto",
    parity: Annotated[bool, typer.Option("--parity", help="Also draft the fine-tuned letters with hf and report how close the llama.cpp (q8_0) letters score (ROUGE-L, fact recall; goal within 0.01); +2-3 minutes")] = False,
    styles: Annotated[Optional[str], typer.Option("--styles", help="Comma-separated styles (e.g. uniklinik,kreisklinikum): one adapter per style on the same base, each run in OUT/STYLE, and a report of whether each adapter writes its own department's letters (section coverage, style fidelity); a full demo per style")] = None,
) -> None:
    """The paper's comparison end to end on the CPU: synthesise -> de-identify -> QLoRA -> generate (base, fine-tuned) -> evaluate -> report."""
    from medletter.demo import run_demo

    if backend not in ("auto", "hf", "llamacpp"):
        _fail("--backend must be auto, hf or llamacpp")
    if styles:
        from medletter.styles_demo import run_styles_demo

        try:
            report = run_styles_demo(out, [s.strip() for s in styles.split(",") if s.strip()], console=console, n_train=n_train,
                                     n_test=n_test, n_validation=n_validation, seed=seed, config=config, max_steps=max_steps,
                                     backend=backend, parity=parity)
        except ValueError as e:
            _fail(str(e), 2)
        console.print(f"\n[bold]report:[/bold] {report.resolve()}", highlight=False)
        return
    report = run_demo(out, n_train=n_train, n_test=n_test, n_validation=n_validation, seed=seed, style=style,
                      config=config, max_steps=max_steps, console=console, backend=backend, parity=parity)
    console.print(f"\n[bold]report:[/bold] {report.resolve()}", highlight=False)
    exe = _own_command()
    console.print(
        "\n[bold]Open the demo run in the review app[/bold] (draft, check, correct, approve, export):\n"
        f"  {exe} users add doctor --role physician\n"
        f"  {exe} app --run {out} --import-cases {out / 'data' / 'test.jsonl'}\n"
        "  then open http://127.0.0.1:8000/ and log in as doctor",
        highlight=False, markup=True, soft_wrap=True,  # commands stay on one line, to copy them
    )


@app.command()
def compare(
    models: Annotated[str, typer.Option("--models", help="Comma-separated model sources: gemma-3-270m, smollm2-135m or local Hugging Face folders")] = "gemma-3-270m,smollm2-135m",
    out: Annotated[Path, typer.Option("--out", help="Output folder (one run per model inside)")] = Path("runs/compare"),
    style: Annotated[str, typer.Option("--styles", "--style", help="The department style of the corpus")] = "kreisklinikum",
    n_train: Annotated[int, typer.Option(help="Training cases, the same for every model")] = 60,
    n_test: Annotated[int, typer.Option(help="Held-out test cases, the same for every model")] = 24,
    n_validation: Annotated[int, typer.Option(help="Validation cases")] = 6,
    seed: Annotated[int, typer.Option(help="Seed of corpus, split and training")] = 1,
    config: Annotated[str, typer.Option(help="Training preset for every model")] = "cpu-demo",
    max_steps: Annotated[Optional[int], typer.Option(help="Cut every model's training short (for a quick look)")] = None,
    max_length: Annotated[int, typer.Option(min=64, help="Longest training example in tokens, the same for every model: "
                                            "the default cuts no demo letter in either model's tokenizer (SmolLM2's splits German "
                                            "into about twice as many tokens as Gemma's; the preset's 1408 cut 10% of its letters)")] = 2048,
    backend: Annotated[str, typer.Option("--backend", help="Drafting engine: auto, hf, llamacpp")] = "auto",
) -> None:
    """The paper's model comparison: every model fine-tuned and scored the same way; base and fine-tuned letters of
    each side by side, and the fine-tuned models' paired differences with bootstrap intervals (OUT/eval.json, report.html)."""
    from medletter.compare import run_compare

    if backend not in ("auto", "hf", "llamacpp"):
        _fail("--backend must be auto, hf or llamacpp")
    try:
        report = run_compare(out, [m.strip() for m in models.split(",") if m.strip()], console=console, n_train=n_train,
                             n_test=n_test, n_validation=n_validation, seed=seed, style=style, config=config,
                             max_steps=max_steps, max_length=max_length, backend=backend)
    except (ValueError, RuntimeError) as e:
        _fail(str(e))
    console.print(f"\n[bold]report:[/bold] {report.resolve()}", highlight=False)


def _own_command() -> str:
    """How the user can call medletter again: `.venv/bin/medletter` after `make demo`, else `medletter`."""
    import shutil

    here = Path(sys.argv[0]).resolve()
    if here.name != "medletter" or shutil.which("medletter") and Path(shutil.which("medletter")).resolve() == here:
        return "medletter"
    try:
        return str(here.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(here)


@app.command()
def audit(
    run: Annotated[Path, typer.Option("--run", help="Run folder of `medletter train` (its data/ holds the splits)")],
    cases: Annotated[Optional[Path], typer.Option("--cases", help="Held-out cases to draft letters for (default: RUN/data/test.jsonl)")] = None,
    letters: Annotated[Optional[Path], typer.Option("--letters", help="Audit these generated letters instead of generating new ones")] = None,
    training_data: Annotated[Optional[Path], typer.Option("--training-data", help="Original (not pseudonymised) training records, if the run trained on pseudonymised ones")] = None,
    max_new_tokens: Annotated[int, typer.Option(min=1)] = GenSettings.max_new_tokens,
    batch_size: Annotated[int, typer.Option(min=1)] = 12,
    out: Annotated[Optional[Path], typer.Option("--out", help="audit.json (default: RUN/audit.json)")] = None,
) -> None:
    """Leak audit: draft letters for held-out cases and report every training patient's name, birth date, address or ID in them."""
    from medletter.generate import generate_letters, load_run
    from medletter.jsonl import atomic_writer, read_jsonl
    from medletter.privacy.audit import audit_letters

    cases = cases or run / "data" / "test.jsonl"
    held_out = _records_or_exit(cases, False)
    trained = _records_or_exit(run / "data" / "train.jsonl", False) + _records_or_exit(run / "data" / "validation.jsonl", False)
    original = _records_or_exit(training_data, False) if training_data else trained
    if letters:
        texts = [(r["case_id"], r["text"]) for r in read_jsonl(letters)]
    else:
        model_, tok, cfg = load_run(run)
        drafts = generate_letters(model_, tok, held_out, cfg.get("style") or cfg.get("train_style", "default"), cfg.get("lang", "de"),
                                  "finetuned", max_new_tokens=max_new_tokens, batch_size=batch_size)
        texts = [(d.case_id, d.text) for d in drafts]
    result = audit_letters(texts, original, trained if training_data else None, {r.case.case_id: r for r in held_out})
    target = out or run / "audit.json"
    with atomic_writer(target) as f:
        json.dump(result, f, indent=2, ensure_ascii=False)
    console.print(f"{result['letters_checked']} letters, {result['training_patients']} training patients: "
                  f"{result['n_leaks']} leak(s) in {result['letters_with_leaks']} letter(s); "
                  f"{result['n_surrogates_reproduced']} surrogate identifiers reproduced -> {target}", highlight=False)
    if result["n_leaks"]:
        raise typer.Exit(3)


_LONG_COMMANDS = ("train", "demo", "compare")  # they train: started again under jemalloc where installed (memory.py)


def main() -> None:  # pragma: no cover
    if len(sys.argv) > 1 and sys.argv[1] in _LONG_COMMANDS:
        from medletter.memory import reexec_with_jemalloc

        spec = getattr(sys.modules["__main__"], "__spec__", None)
        again = ["-m", spec.name] if spec is not None and spec.name else [sys.argv[0]]  # python -m medletter.cli / the script
        reexec_with_jemalloc([*again, *sys.argv[1:]])
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
