"""`medletter demo`: the paper's central comparison on the CPU, end to end.

synthesise a corpus in one department style -> split by patient -> pseudonymise the training and
validation letters -> QLoRA-fine-tune Gemma-3-270M -> draft the held-out test letters with the base
and the fine-tuned model -> evaluate -> leak audit -> runs/demo/{eval.json, report.html}.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from rich.console import Console

from medletter.jsonl import atomic_writer, write_jsonl


class _Stages:
    def __init__(self, console: Console, total: int):
        self.console, self.total, self.i, self.t0 = console, total, 0, time.perf_counter()
        self.times: dict[str, float] = {}
        self._start = None
        self._name = None

    def __call__(self, name: str) -> None:
        self.done()
        self.i += 1
        self._name, self._start = name, time.perf_counter()
        self.console.print(f"[bold cyan][{self.i}/{self.total}][/bold cyan] {name} [dim](+{time.perf_counter() - self.t0:.0f} s)[/dim]", highlight=False)

    def done(self) -> None:
        if self._name is not None:
            self.times[self._name] = round(time.perf_counter() - self._start, 1)
            self._name = None


def run_demo(
    out: Path,
    n_train: int = 170,
    n_test: int = 24,
    n_validation: int = 6,
    seed: int = 1,
    style: str = "kreisklinikum",
    config: str = "cpu-demo",
    max_steps: int | None = None,
    model: str | None = None,
    console: Console | None = None,
    generation_batch_size: int = 12,
    backend: str = "auto",
) -> Path:
    from medletter import synth
    from medletter.app.studyfile import write_study_file
    from medletter.dataset import split_by_patient
    from medletter.evaluate import evaluate_systems
    from medletter.evaluate.report import summary_table, write_report
    from medletter.generate import overall_tokens_per_s
    from medletter.generate.backends import make_backend
    from medletter.generate.settings import GenSettings
    from medletter.privacy.audit import audit_letters, audit_html
    from medletter.privacy.pseudonymize import default_key, deidentify_record
    from medletter.train import load_config
    from medletter.train import train as run_training

    console = console or Console(stderr=True)
    stage = _Stages(console, 7)
    out.mkdir(parents=True, exist_ok=True)

    stage("synthesising the corpus")
    n_total = n_train + n_test + n_validation
    records = synth.generate_corpus(n_total, seed=seed, lang="de", style=style)
    write_jsonl(out / "corpus.jsonl", records)
    splits = split_by_patient(records, n_test=n_test, n_validation=n_validation, seed=seed)
    console.print(f"  {len(records)} cases, style {style!r}: {len(splits['train'])} train / {len(splits['validation'])} validation / {len(splits['test'])} test, split by patient", highlight=False)

    stage("pseudonymising training and validation letters")
    # the secret key lives outside the data: $MEDLETTER_DEID_KEY_FILE, or one made once in the cache
    key = default_key()
    deid = {s: [deidentify_record(r, key) for r in splits[s]] for s in ("train", "validation")}
    deid["test"] = splits["test"]  # new cases are drafted inside the hospital from the real case data
    for name, rs in deid.items():
        write_jsonl(out / "data" / f"{name}.jsonl", [r.model_copy(update={"split": name}) for r in rs])
    console.print(f"  {sum(len(r.letter.spans) for r in deid['train'])} PHI spans replaced by surrogates in {len(deid['train'])} training letters", highlight=False)

    stage("QLoRA fine-tuning Gemma-3-270M on the CPU")
    cfg = load_config(config, {"max_steps": max_steps, "model": model, "n_test": n_test, "n_validation": n_validation, "seed": seed})
    cfg.style = style
    cfg.deid = True
    summary = run_training(cfg, deid, out)

    stage("drafting the test letters with the base model")
    stats = json.loads((out / "data_stats.json").read_text())
    gen = GenSettings(max_new_tokens=int(stats["train"]["completion_tokens"]["max"] * 1.15) + 8,
                      batch_size=generation_batch_size)
    # the base model has no export of its own: it drafts on transformers, batched
    base_be = make_backend("hf", out, base_only=True, style=style, lang="de", settings=gen)
    base = base_be.draft(deid["test"])
    del base_be
    write_jsonl(out / "letters_base.jsonl", [d.to_dict() for d in base])

    stage("drafting the test letters with the fine-tuned model")
    # auto: transformers, batched. Measured on 2 cores (benchmarks/RESULTS.md): for a set of 24 letters a batch
    # of 12 on transformers (84 tokens/s) beats llama.cpp one letter after another (53 tokens/s); llama.cpp wins
    # for the single letter a physician waits for (3.45x), which is the review app's case (--backend llamacpp).
    kind = "hf" if backend == "auto" else backend
    tuned_be = make_backend(kind, out, style=style, lang="de", settings=gen)
    tuned = tuned_be.draft(deid["test"])
    backends = {"base": "hf", "finetuned": tuned_be.name}
    if tuned_be.name == "llamacpp":
        console.print(f"  fine-tuned letters from {tuned_be.gguf.relative_to(out)} (llama.cpp)", highlight=False)
    del tuned_be
    write_jsonl(out / "letters.jsonl", [d.to_dict() for d in tuned])

    stage("evaluating")
    systems = {"base": {d.case_id: d.text for d in base}, "finetuned": {d.case_id: d.text for d in tuned}}
    ev, rows = evaluate_systems(deid["test"], systems)

    stage("leak audit: training identities in the fine-tuned letters")
    audit = audit_letters([(d.case_id, d.text) for d in tuned], splits["train"] + splits["validation"],
                          deid["train"] + deid["validation"], {r.case.case_id: r for r in deid["test"]})
    with atomic_writer(out / "audit.json") as f:
        json.dump(audit, f, indent=2, ensure_ascii=False)
    stage.done()

    ev["demo"] = {
        "style": style, "n_train": len(deid["train"]), "n_validation": len(deid["validation"]), "train": summary,
        "generation": {
            name: {"letters": len(ds), "stopped_by_model": sum(d.stopped for d in ds), "tokens_per_s": round(overall_tokens_per_s(ds), 1),
                   "backend": backends[name]}
            for name, ds in (("base", base), ("finetuned", tuned))
        },
        "seconds": stage.times,
        "audit": {"leaks": audit["n_leaks"], "letters_checked": audit["letters_checked"]},
    }
    with atomic_writer(out / "eval.json") as f:
        json.dump(ev, f, indent=2)
    write_jsonl(out / "eval_letters.jsonl", rows)
    train_html = (
        f"<p>{summary['train_examples']} pseudonymised training letters, {summary['steps']} steps in {summary['seconds']:.0f} s "
        f"({summary.get('tokens_per_s') or '–'} tokens/s); loss {summary['first_loss']:.3f} → {summary['last_loss']:.3f}, "
        f"validation loss {summary['eval_loss'] if summary['eval_loss'] is not None else float('nan'):.3f}.</p>"
    )
    study = write_study_file(out / "study" / "study.json", out / "data" / "test.jsonl",
                             {"base": out / "letters_base.jsonl", "finetuned": out / "letters.jsonl"}, reference=True)
    report = write_report(
        out / "report.html", ev, rows, deid["test"], systems, title="medletter demo: base vs QLoRA-fine-tuned Gemma-3-270M",
        subtitle=f"style {style!r}, synthetic German radiation-oncology letters",
        extra=[{"title": "Training", "html": train_html}, {"title": "Leak audit", "html": audit_html(audit)},
               {"title": "Drafting", "html": drafting_html(ev["demo"]["generation"])},
               {"title": "Physician study", "html": study_section_html(out, study, len(deid["test"]))}],
    )
    console.print(summary_table(ev))
    console.print(f"stage seconds: {json.dumps(stage.times)}", highlight=False)
    return report


def study_section_html(out: Path, study: Path, n_cases: int) -> str:
    """The report's "Physician study" section: what the demo cannot measure itself, and the commands that do."""
    from html import escape

    from medletter.app.services.studies import default_instrument

    dims = "".join(f"<li>{escape(d['label'])}</li>" for d in default_instrument()["dimensions"])
    db = escape(str(out / "medletter.db"))
    return (
        "<p>ROUGE does not say whether a physician could use a draft; the paper's strongest evidence is a physician "
        "rating. The demo cannot rate, so it wrote a ready study file for its "
        f"{n_cases} test cases with three systems: the base model, the fine-tuned model and the reference letter "
        f"(<code>{escape(str(study))}</code>). Cases and letters are pseudonymised when the study is made; raters "
        "see them blinded, in their own random order.</p>"
        f"<pre>medletter users add rater1 --role rater --db {db}\n"
        f"medletter users add rater2 --role rater --db {db}\n"
        f"medletter study create --name demo --from {escape(str(study))} --raters rater1,rater2 --db {db}\n"
        f"medletter app --run {escape(str(out))} --db {db}      # raters open /rater\n"
        f"medletter study results demo --db {db} [--json] [--csv ratings.csv]</pre>"
        f"<p>Each letter is rated on a worded 4-point scale:</p><ul>{dims}</ul>"
        "<p>Results: mean per system and dimension with a 95% bootstrap interval, paired differences between systems, "
        "and Krippendorff's α per dimension (the paper: clinical benefit 3.4 of 4).</p>"
    )


def drafting_html(generation: dict) -> str:
    """Which engine wrote each system's letters, and how fast."""
    from html import escape

    names = {"hf": "transformers (batched)", "llamacpp": "llama.cpp (the run's GGUF q8_0, one letter at a time)",
             "openai": "an OpenAI-compatible server"}
    rows = "".join(f"<tr><td>{escape(s)}</td><td>{escape(names.get(g.get('backend', 'hf'), g.get('backend', '')))}</td>"
                   f"<td>{g['tokens_per_s']}</td><td>{g['stopped_by_model']} of {g['letters']}</td></tr>"
                   for s, g in generation.items())
    return ("<table><thead><tr><th>system</th><th>backend</th><th>tokens/s</th><th>ended by the model</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>")
