"""`medletter compare --models A,B`: the paper's model comparison (LLaMA-3-8B vs LLaMA-2-13B there; two small real
models here), every model trained and scored the same way.

Each model gets a demo run of its own (``OUT/MODEL/``) in a fresh process (so its peak memory is its own): the same
synthetic corpus, split, de-identification, prompt, preset and number of training letters, the same test cases, and a
``max_length`` that cuts no letter in any model's tokenizer (the budget is letters and steps, not tokens: SmolLM2's
tokenizer needs about twice Gemma's tokens for a German letter). Then
the four (or more) systems, base and fine-tuned per model, are evaluated together, and the fine-tuned models are
compared letter by letter: the paired difference of ROUGE-L and fact recall on the same test cases, with a bootstrap
interval, says whether one model is better or the difference is within what 24 letters can resolve.
"""

from __future__ import annotations

import json
import multiprocessing
import resource
from pathlib import Path

from medletter.jsonl import atomic_writer, read_jsonl, write_jsonl

PAIRED_METRICS = ("rougeL", "facts_recall", "section_coverage")


def _one_model(out: Path, model: str, kwargs: dict) -> None:
    from rich.console import Console

    from medletter.demo import run_demo

    run_demo(out, model=model, console=Console(stderr=True), **kwargs)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    (out / "peak_rss.json").write_text(json.dumps({"peak_rss_mib": round(peak)}))


def paired_differences(rows: list[dict], a: str, b: str, n_boot: int = 2000, seed: int = 0) -> dict:
    """Per metric: mean of (a - b) over the cases both systems drafted, with a 95% bootstrap interval, and
    whether the interval excludes zero."""
    from medletter.evaluate.core import bootstrap

    by = {(r["system"], r["case_id"]): r for r in rows}
    cases = sorted({c for (s, c) in by if s == a} & {c for (s, c) in by if s == b})
    out = {}
    for m in PAIRED_METRICS:
        diffs = [by[(a, c)][m] - by[(b, c)][m] for c in cases if by[(a, c)].get(m) is not None and by[(b, c)].get(m) is not None]
        bs = bootstrap(diffs, n_boot, seed) if diffs else {"mean": None, "ci_low": None, "ci_high": None, "n": 0}
        bs["excludes_zero"] = bool(diffs) and (bs["ci_low"] > 0 or bs["ci_high"] < 0)
        out[m] = bs
    return out


def run_compare(out: Path, models: list[str], console=None, **demo_kwargs) -> Path:
    """Train and draft with every model (``out/MODEL``), evaluate all systems together, write ``out/eval.json``,
    ``out/eval_letters.jsonl`` and ``out/report.html``."""
    from medletter.app.studyfile import write_study_file
    from medletter.demo import study_section_html
    from medletter.evaluate import evaluate_systems
    from medletter.evaluate.report import summary_table, write_report
    from medletter.records import Record

    if len(models) < 2 or len(set(models)) != len(models):
        raise ValueError(f"--models takes two or more different models (got {','.join(models)})")
    names = [_dir(m) for m in models]
    if len(set(names)) != len(names):
        raise ValueError(f"two models have the same name ({', '.join(names)}); their runs would share a folder")
    out.mkdir(parents=True, exist_ok=True)
    ctx = multiprocessing.get_context("spawn")
    for m in models:
        if console:
            console.print(f"\n[bold]model {m}[/bold] -> {out / _dir(m)}", highlight=False)
        p = ctx.Process(target=_one_model, args=(out / _dir(m), m, demo_kwargs))
        p.start()
        p.join()
        if p.exitcode != 0:
            raise RuntimeError(f"the run of {m} failed (exit code {p.exitcode}); its output is above, its folder {out / _dir(m)}")
    first = out / _dir(models[0])
    records = [Record.model_validate(r) for r in read_jsonl(first / "data" / "test.jsonl")]
    systems, info = {}, {}
    for m in models:
        d = out / _dir(m)
        test_ids = [r["case"]["case_id"] for r in read_jsonl(d / "data" / "test.jsonl")]
        if test_ids != [r.case.case_id for r in records]:
            raise RuntimeError(f"{m} was tested on other cases than {models[0]}: the runs are not comparable")
        systems[f"{_dir(m)}/base"] = {r["case_id"]: r["text"] for r in read_jsonl(d / "letters_base.jsonl")}
        systems[f"{_dir(m)}/finetuned"] = {r["case_id"]: r["text"] for r in read_jsonl(d / "letters.jsonl")}
        ev_m = json.loads((d / "eval.json").read_text())
        train = ev_m["demo"]["train"]
        info[_dir(m)] = {
            "train_seconds": train["seconds"], "train_tokens_per_s": train["tokens_per_s"], "steps": train["steps"],
            "train_examples": train["train_examples"], "eval_loss": train["eval_loss"],
            "peak_rss_mib": json.loads((d / "peak_rss.json").read_text())["peak_rss_mib"],
            "drafting": ev_m["demo"]["generation"],
        }
    ev, rows = evaluate_systems(records, systems)
    paired = {}
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            paired[f"{a}/finetuned - {b}/finetuned"] = paired_differences(rows, f"{a}/finetuned", f"{b}/finetuned")
    ev["compare"] = {"models": info, "paired": paired}
    with atomic_writer(out / "eval.json") as f:
        json.dump(ev, f, indent=2)
    write_jsonl(out / "eval_letters.jsonl", rows)
    # the paper's physician rating of the models: a blinded study of the fine-tuned letters (and the references),
    # each system named by its model (study system names take no "/")
    study = write_study_file(out / "study" / "study.json", first / "data" / "test.jsonl",
                             {n: out / n / "letters.jsonl" for n in names}, reference=True)
    report = write_report(out / "report.html", ev, rows, records, systems, title="medletter compare: " + " vs ".join(models),
                          subtitle="the same corpus, split, prompt, preset and test cases for every model",
                          extra=[{"title": "Models", "html": models_html(info)}, {"title": "Paired differences", "html": paired_html(paired)},
                                 {"title": "Physician study", "html": study_section_html(
                                     out, study, len(records), name="compare", run=first,
                                     systems=f"the {len(names)} fine-tuned models and the reference letter")}])
    if console:
        console.print(summary_table(ev))
        for name, p in paired.items():
            r = p["rougeL"]
            console.print(f"{name}: ROUGE-L {r['mean']:+.3f} [{r['ci_low']:+.3f}, {r['ci_high']:+.3f}]"
                          f"{' (interval excludes 0)' if r['excludes_zero'] else ' (interval includes 0)'}", highlight=False)
    return report


def _dir(model: str) -> str:
    """A model's name in the comparison and its run folder: the source name, or a local folder's name."""
    return Path(model).name if "/" in model else model


def models_html(info: dict) -> str:
    import html

    rows = "".join(
        f"<tr><td>{html.escape(m)}</td><td>{i['train_examples']}</td><td>{i['steps']}</td><td>{i['train_seconds']:.0f} s</td>"
        f"<td>{i['train_tokens_per_s']}</td><td>{i['eval_loss']:.3f}</td><td>{i['peak_rss_mib']:,} MiB</td>"
        f"<td>{i['drafting']['finetuned']['tokens_per_s']} ({html.escape(i['drafting']['finetuned']['backend'])})</td></tr>"
        for m, i in info.items()
    )
    return ("<table><tr><th>model</th><th>letters trained</th><th>steps</th><th>training</th><th>tokens/s</th>"
            "<th>validation loss</th><th>peak memory</th><th>drafting tokens/s (engine)</th></tr>" + rows + "</table>")


def paired_html(paired: dict) -> str:
    import html

    rows = ""
    for name, p in paired.items():
        for m, r in p.items():
            if r["mean"] is None:
                continue
            rows += (f"<tr><td>{html.escape(name)}</td><td>{m}</td><td>{r['mean']:+.3f}</td><td>[{r['ci_low']:+.3f}, {r['ci_high']:+.3f}]</td>"
                     f"<td>{r['n']}</td><td>{'yes' if r['excludes_zero'] else 'no'}</td></tr>")
    return ("<p>Per test case, the first fine-tuned model's score minus the second's; 95% bootstrap interval over the cases. "
            "An interval that excludes 0 is a difference these letters resolve.</p><table><tr><th>pair</th><th>metric</th>"
            "<th>mean difference</th><th>95% interval</th><th>cases</th><th>excludes 0</th></tr>" + rows + "</table>")
