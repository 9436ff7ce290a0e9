"""Fine-tuning speed: medletter's training recipe vs TRL's ``SFTTrainer`` set up as TRL's docs recommend for
QLoRA, on the same model, the same letters, the same LoRA and optimiser settings, the same number of optimiser
steps, in one run.

    python benchmarks/bench_train.py                  # --n 40 --steps 12 --configs medletter,trl,trl-nogc
    python benchmarks/bench_train.py --profile        # also: where the time of the steps goes (torch.profiler)
    python benchmarks/bench_train.py --tiny --steps 2 # a tiny random Llama-3 model: checks the script in seconds

Runtime (``make bench`` runs it with the defaults): on a 2-core Intel Xeon without bf16 (fp32, 2026-11-28) the
processes took medletter 163 s, medletter-eager 176 s, trl-nogc 528 s (about 14.5 minutes for those three); TRL
with gradient checkpointing is slower than trl-nogc, so the default set takes about 20-25 minutes. ``--tiny`` takes
about 30 s. Run it on a quiet machine: the configs run one after another and are compared with each other.

Configurations (each in its own process, so that peak RSS is its own):

  medletter  ``medletter.train.train`` with the ``cpu-demo`` preset: NF4 + double quantisation,
             ``prepare_model_for_kbit_training``, LoRA on all linear layers, the letter loss fused with the
             output projection at letter positions only (train/loss.py), blocked causal attention on CPUs
             (train/attention.py, ``attn_implementation`` auto), under jemalloc when it is installed (as
             ``medletter train`` runs: medletter/memory.py; ``--glibc`` runs every config on glibc's malloc).
  medletter-eager  the same with transformers' ``eager`` attention (not in the default set: it measures what the
             blocked attention gains, in the same run).
  trl        TRL's QLoRA recipe (docs/source/peft_integration.md, "Using QLoRA with TRL", Python example):
             ``AutoModelForCausalLM.from_pretrained(base, quantization_config=BitsAndBytesConfig(load_in_4bit=True,
             bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=<compute dtype>, bnb_4bit_use_double_quant=True),
             device_map="auto")``, ``SFTTrainer(model=model, args=SFTConfig(...), train_dataset=...,
             peft_config=LoraConfig(..., bias="none", task_type="CAUSAL_LM"))``; SFTConfig's own defaults for everything
             the recipe does not fix, gradient checkpointing included (on by default in SFTConfig).
  trl-nogc   the same with ``gradient_checkpointing=False``.

Shared by all three, from the ``cpu-demo`` preset (``--set KEY=VALUE`` overrides any key for all of them): LoRA
r, alpha, dropout and target modules; learning rate, scheduler, warm-up, weight decay, gradient clipping, batch
size, gradient accumulation, max_length, seed; the compute dtype (``auto``: bf16 on CPUs with AVX512-BF16 for
both bitsandbytes' compute dtype and Trainer's ``bf16``); the tokenizer with the pad token medletter sets
(``models.load_tokenizer``, passed to SFTTrainer as ``processing_class``); ``--steps`` optimiser steps. Not
shared: what each trainer does by itself (medletter: fp32 adapters, the projection and cross-entropy fused
and only where a letter token is predicted, eager attention on CPUs; TRL: bf16 adapters on a quantised model, its chunked LM head over every position, entropy and
token accuracy on every batch, checkpointing in ``trl``). Both log every step, neither writes checkpoints during
the run (medletter's ``save_steps`` is set past the end; TRL ``save_strategy="no"``) nor reports to TensorBoard.

Data: ``generate_corpus`` (German, style kreisklinikum, ``--data-seed``), split by whole patients into ``--n``
training letters and ``--n-val`` validation letters. TRL gets the very same texts: a prompt-completion dataset
with medletter's prompt and completion (conversational, ``prompt_messages`` + the letter as the assistant turn,
when the tokenizer has a chat template; else the plain ``prompt_text`` / ``completion_text``), so it computes the
loss on the letter only (``completion_only_loss`` defaults to True for prompt-completion data). The TRL worker
checks that its tokenised examples (input ids and labels) equal medletter's and reports how many do. Both train in
the same example order (Trainer's seeded sampler over the same list), which the equal ``tokens`` column shows.

Measures, the same for every config:

  tokens/s     non-padding tokens of the micro-batches actually trained (sum of the attention mask) over the
               time of the optimiser steps (Trainer's on_step_begin to on_step_end: forward, backward, clipping,
               optimiser; batch collation, logging and evaluation excluded); medletter's own ``train_summary.json``
               figures (``tokens_trained`` / ``step_seconds``) measure exactly this; for TRL a callback takes the same
               times and TRL's own count of attention-mask tokens. ``tok/s >1``: the same without the first step.
  loss         the mean of the last ``--last-k`` per-step training losses (per-token mean over the step), and the
               first step's loss (before any update: the same for all if the inputs and the loss are the same).
  eval loss    the loss on the validation letters after training (per-letter token mean, averaged; batch size
               as in training); ``--no-eval`` skips it.
  peak RSS     ``ru_maxrss`` of the config's process (loading, quantisation, training, evaluation).

Ratios are against TRL measured in the same run. Goal: medletter >= 2x TRL's tokens/s (aim 3x) at an equal or
lower loss (eval loss, or the last-k training loss with --no-eval; "equal": within ``--loss-tol``, 2%).
With ``--profile`` each worker runs ``torch.profiler`` over the steps after the first and prints the operators
with the most self CPU time (full tables in the printed folder); the profiler's overhead is then in the timed
steps, so take the speed figures from a run without it.

Prints a table, the goal line and, last, one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ("medletter", "medletter-eager", "trl", "trl-nogc")
DEFAULT_CONFIGS = ("medletter", "trl", "trl-nogc")
BASELINES = ("trl", "trl-nogc", "medletter-eager")
"""Configs that get a ratio column when they ran (the goal is against the TRL ones only)."""
PRESET = "cpu-demo"
STYLE = "kreisklinikum"


# ----------------------------------------------------------------------------------------------- shared set-up


def _config(spec: dict):
    """The cpu-demo preset with the benchmark's overrides: the one configuration all workers read."""
    from medletter.train import load_config

    overrides = {"model": spec["model"], "max_steps": spec["steps"], "n_test": 0, "n_validation": spec["n_val"],
                 "report_to": [], "save_steps": spec["steps"] + 1, "deid": False}
    overrides.update(spec.get("overrides") or {})
    return load_config(PRESET, overrides, sets=spec.get("sets") or ())


def _splits(spec: dict, cfg) -> dict:
    """``n`` training and ``n_val`` validation letters, split by whole patients (deterministic)."""
    from medletter.dataset import split_by_patient
    from medletter.synth import generate_corpus

    extra = 4
    while True:
        records = generate_corpus(spec["n"] + spec["n_val"] + extra, seed=spec["data_seed"], lang=cfg.lang, style=STYLE)
        splits = split_by_patient(records, n_test=0, n_validation=spec["n_val"], seed=cfg.seed)
        if len(splits["train"]) >= spec["n"]:  # --no-eval: the same training letters, no validation loss
            validation = [] if spec.get("no_eval") else splits["validation"][: spec["n_val"]]
            return {"train": splits["train"][: spec["n"]], "validation": validation, "test": []}
        extra += 4


def _versions() -> dict:
    import importlib.metadata as md

    out = {}
    for p in ("torch", "transformers", "peft", "trl", "accelerate", "bitsandbytes"):
        try:
            out[p] = md.version(p)
        except md.PackageNotFoundError:
            out[p] = None
    return out


def _param_dtypes(model) -> dict:
    """Parameter counts by dtype, trainable and frozen (what each recipe trains in)."""
    out: dict = {}
    for p in model.parameters():
        key = f"{'trainable' if p.requires_grad else 'frozen'} {str(p.dtype).removeprefix('torch.')}"
        out[key] = out.get(key, 0) + p.numel()
    return dict(sorted(out.items()))


def _last_k(losses: list[float], k: int) -> float | None:
    tail = losses[-k:] if losses else []
    return sum(tail) / len(tail) if tail else None


def _make_profiler_callbacks(out_file: Path, max_steps: int):
    """torch.profiler over the optimiser steps after the first (or over the only one), as two callbacks: the
    start goes before the step timer, the stop after it, so that neither start-up nor the profiler's
    post-processing lands in the timed steps (the profiler's own overhead does). Stopped before any evaluation.
    Writes the operator table to ``out_file`` and keeps the top rows (``start.top``)."""
    import torch
    from transformers import TrainerCallback

    class Start(TrainerCallback):
        def __init__(self):
            self.prof = None
            self.start_at = 1 if max_steps > 1 else 0
            self.top: list[dict] = []
            self.done = False

        def on_step_begin(self, args, state, control, **kw):
            if self.prof is None and not self.done and state.global_step == self.start_at:
                self.prof = torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU])
                self.prof.__enter__()

    start = Start()

    class Stop(TrainerCallback):
        def on_step_end(self, args, state, control, **kw):
            if start.prof is not None and state.global_step >= max_steps:
                start.prof.__exit__(None, None, None)
                ka = start.prof.key_averages()
                out_file.write_text(ka.table(sort_by="self_cpu_time_total", row_limit=60))
                total = sum(e.self_cpu_time_total for e in ka) or 1
                rows = sorted(ka, key=lambda e: e.self_cpu_time_total, reverse=True)[:15]
                start.top = [{"op": e.key, "self_s": round(e.self_cpu_time_total / 1e6, 2),
                              "share": round(e.self_cpu_time_total / total, 3), "calls": e.count} for e in rows]
                start.prof, start.done = None, True

    return start, Stop()


# ----------------------------------------------------------------------------------------------- the workers


def run_medletter(spec: dict, work: Path) -> dict:
    import yaml

    import medletter.train.recipe as recipe
    from medletter.train import train

    cfg = _config(spec)
    splits = _splits(spec, cfg)
    run_dir = work / f"run-{spec['config']}"
    prof = prof_stop = None
    if spec.get("profile_dir"):
        prof, prof_stop = _make_profiler_callbacks(Path(spec["profile_dir"]) / "medletter.txt", cfg.max_steps)
        original = recipe._callbacks
        recipe._callbacks = lambda *a, **kw: original(*a, **kw) + [prof]  # before the recipe's step timer
    # observe the trainer the recipe builds (parameter dtypes); with --profile, add the profiler's stop after
    # the recipe's step timer (LetterTrainer adds its Throughput callback last, in __init__)
    seen: dict = {}
    make_class = recipe._make_trainer_class

    def observed():
        cls = make_class()

        class Observed(cls):
            def __init__(self, *a, **kw):
                super().__init__(*a, **kw)
                seen["trainer"] = self
                if prof_stop is not None:
                    self.add_callback(prof_stop)

        return Observed

    recipe._make_trainer_class = observed
    t0 = time.perf_counter()
    summary = train(cfg, splits, run_dir)
    wall = time.perf_counter() - t0
    steps = []
    prev = 0
    for line in (run_dir / "metrics.jsonl").read_text().splitlines():
        row = json.loads(line)
        if "loss" in row and "tokens_trained" in row:
            tokens = row["tokens_trained"] - prev
            prev = row["tokens_trained"]
            tps = row.get("tokens_per_s")
            steps.append({"step": row["step"], "loss": row["loss"], "tokens": tokens,
                          "seconds": tokens / tps if tps else None})
    dumped = yaml.safe_load((run_dir / "config.yaml").read_text())
    return {
        "steps": summary["steps"], "tokens": summary["tokens_trained"], "step_seconds": summary["step_seconds"],
        "tokens_per_s": summary["tokens_per_s"], "losses": [s["loss"] for s in steps], "per_step": steps,
        "eval_loss": summary.get("eval_loss"), "train_call_seconds": round(wall, 1),
        "train_examples": summary["train_examples"], "trainable_parameters": dumped.get("trainable_parameters"),
        "settings": {"gradient_checkpointing": cfg.gradient_checkpointing, "compute_dtype": cfg.dtype,
                     "note": "medletter.train.train(load_config('cpu-demo', overrides), splits, run_dir)"},
        "param_dtypes": _param_dtypes(seen["trainer"].model) if "trainer" in seen else None,
        "profile_top": prof.top if prof else None,
    }


def _trl_dataset(tok, records, cfg) -> list[dict]:
    """medletter's prompt and completion as a TRL prompt-completion dataset (conversational when the tokenizer has
    a chat template, as TRL recommends for chat models; the same text either way)."""
    from medletter.prompt import completion_text, has_chat_template, prompt_messages, prompt_text

    # TRL tokenises plain text with the tokenizer's own special tokens (Gemma: a BOS in front), while medletter's
    # prompt text carries the BOS as text: without it here, TRL would train on two BOS tokens
    bos = tok.bos_token or ""
    adds_bos = bool(bos) and tok("x")["input_ids"][:1] == [tok.bos_token_id]
    rows = []
    for r in records:
        style = cfg.style or r.letter.style
        if has_chat_template(tok):
            rows.append({"prompt": prompt_messages(r.case, style, cfg.lang),
                         "completion": [{"role": "assistant", "content": r.letter.text}]})
        else:
            prompt = prompt_text(tok, r.case, style, cfg.lang)
            if adds_bos and prompt.startswith(bos):
                prompt = prompt[len(bos):]
            rows.append({"prompt": prompt, "completion": completion_text(tok, r.case, style, cfg.lang, r.letter.text)})
    return rows


def run_trl(spec: dict, work: Path, gradient_checkpointing: bool | None) -> dict:
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig, TrainerCallback
    from trl import SFTConfig, SFTTrainer

    from medletter.dataset import encode_records
    from medletter.models import compute_dtype, load_tokenizer, resolve_model
    from medletter.prompt import has_chat_template
    from medletter.train.recipe import optimisation_arguments

    cfg = _config(spec)
    if cfg.quantization != "nf4":
        raise SystemExit("the TRL configs follow TRL's QLoRA recipe: quantization must be nf4")
    splits = _splits(spec, cfg)
    base = resolve_model(cfg.model)
    tok = load_tokenizer(base)  # medletter's pad token (never eos)
    cd = compute_dtype(cfg.dtype)

    # TRL docs, "Using QLoRA with TRL": 4-bit NF4, double quantisation, the compute dtype; device_map="auto"
    bnb_config = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=cd,
                                    bnb_4bit_use_double_quant=True)
    model = AutoModelForCausalLM.from_pretrained(str(base), quantization_config=bnb_config, device_map="auto")
    peft_config = LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
                             target_modules=cfg.target_modules, bias="none", task_type="CAUSAL_LM")
    kwargs = {} if gradient_checkpointing is None else {"gradient_checkpointing": gradient_checkpointing}
    args = SFTConfig(
        output_dir=str(work / "trl-out"),
        **optimisation_arguments(cfg),  # the very settings medletter's recipe gives its Trainer
        max_length=cfg.max_length,
        eval_strategy="no",
        save_strategy="no",
        report_to=[],
        disable_tqdm=True,
        **kwargs,
    )

    class Timer(TrainerCallback):
        """The same window as medletter's Throughput callback: on_step_begin .. on_step_end."""

        def __init__(self):
            self.trainer = None
            self.t0 = None
            self.seconds: list[float] = []
            self.tokens: list[int] = []
            self._tokens_before = 0

        def on_step_begin(self, args, state, control, **kw):
            self._tokens_before = self.trainer._total_train_tokens
            self.t0 = time.perf_counter()

        def on_step_end(self, args, state, control, **kw):
            if self.t0 is not None:
                self.seconds.append(time.perf_counter() - self.t0)
                self.tokens.append(self.trainer._total_train_tokens - self._tokens_before)
                self.t0 = None

    timer = Timer()
    callbacks = [timer]
    prof = None
    if spec.get("profile_dir"):
        prof, prof_stop = _make_profiler_callbacks(Path(spec["profile_dir"]) / f"{spec['config']}.txt", cfg.max_steps)
        callbacks = [prof, timer, prof_stop]
    trainer = SFTTrainer(
        model=model,
        args=args,
        train_dataset=Dataset.from_list(_trl_dataset(tok, splits["train"], cfg)),
        eval_dataset=Dataset.from_list(_trl_dataset(tok, splits["validation"], cfg)) if splits["validation"] else None,
        processing_class=tok,
        peft_config=peft_config,
        callbacks=callbacks,
    )
    timer.trainer = trainer
    if not hasattr(trainer, "_total_train_tokens"):
        raise SystemExit("this TRL has no _total_train_tokens count; the benchmark reads it for the tokens trained")

    # the same inputs and labels as medletter's? (tokeniser only: cheap)
    ours, _ = encode_records(tok, splits["train"], cfg.lang, cfg.max_length, cfg.style)
    theirs = trainer.train_dataset
    same = sum(1 for e, row in zip(ours, theirs) if list(e.input_ids) == list(row["input_ids"]) and list(e.labels) == list(row["labels"]))
    inputs_check = {"identical": same, "medletter_examples": len(ours), "trl_examples": len(theirs)}

    t0 = time.perf_counter()
    trainer.train()
    wall = time.perf_counter() - t0
    losses = [r["loss"] for r in trainer.state.log_history if "loss" in r]
    eval_loss = None
    if splits["validation"] and not spec.get("no_eval"):
        eval_loss = trainer.evaluate().get("eval_loss")
    tokens, seconds = sum(timer.tokens), sum(timer.seconds)
    return {
        "steps": trainer.state.global_step, "tokens": tokens, "step_seconds": round(seconds, 3),
        "tokens_per_s": round(tokens / seconds, 1) if seconds else None, "losses": losses,
        "per_step": [{"step": i + 1, "loss": losses[i] if i < len(losses) else None, "tokens": t, "seconds": s}
                     for i, (t, s) in enumerate(zip(timer.tokens, timer.seconds))],
        "eval_loss": eval_loss, "train_call_seconds": round(wall, 1), "train_examples": len(theirs),
        "trainable_parameters": sum(p.numel() for p in trainer.model.parameters() if p.requires_grad),
        "inputs_check": inputs_check,
        "settings": {
            "gradient_checkpointing": args.gradient_checkpointing,
            "gradient_checkpointing_kwargs": args.gradient_checkpointing_kwargs,
            "bf16": args.bf16, "fp16": args.fp16, "completion_only_loss": trainer.completion_only_loss,
            "packing": args.packing, "padding_free": args.padding_free, "loss_type": args.loss_type,
            "optim": str(args.optim), "dataset_format": "conversational" if has_chat_template(tok) else "standard",
            "note": "SFTTrainer(model=<NF4 model, device_map='auto'>, args=SFTConfig(...), peft_config=LoraConfig(...))",
        },
        "param_dtypes": _param_dtypes(trainer.model),
        "profile_top": prof.top if prof else None,
    }


def worker(name: str, spec_path: Path, result_path: Path) -> None:
    spec = json.loads(spec_path.read_text())
    spec["config"] = name
    work = Path(spec["work"])
    t0 = time.perf_counter()
    if name == "medletter":
        r = run_medletter(spec, work)
    elif name == "medletter-eager":
        spec["overrides"] = {**(spec.get("overrides") or {}), "attn_implementation": "eager"}
        r = run_medletter(spec, work)
    elif name == "trl":
        r = run_trl(spec, work, gradient_checkpointing=None)  # SFTConfig's default
    elif name == "trl-nogc":
        r = run_trl(spec, work, gradient_checkpointing=False)
    else:
        raise SystemExit(f"unknown config {name!r} (known: {', '.join(CONFIGS)})")
    import torch

    r["config"] = name
    r["process_seconds"] = round(time.perf_counter() - t0, 1)
    r["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    r["torch_threads"] = torch.get_num_threads()
    from medletter.memory import jemalloc_loaded

    r["malloc"] = "jemalloc" if jemalloc_loaded() else "glibc"
    later = [s for s in r["per_step"][1:] if s.get("seconds")]
    r["tokens_per_s_after_first"] = (round(sum(s["tokens"] for s in later) / sum(s["seconds"] for s in later), 1)
                                     if later else None)
    r["last_k_loss"] = _last_k(r["losses"], spec["last_k"])
    r["first_loss"] = r["losses"][0] if r["losses"] else None
    result_path.write_text(json.dumps(r))


# ----------------------------------------------------------------------------------------------- the driver


def _tiny_model(folder: Path, spec: dict) -> Path:
    """The tests' tiny random Llama-3 model with a tokenizer trained on this run's letters."""
    sys.path.insert(0, str(ROOT / "tests"))
    from tiny_llama import build_model, build_tokenizer

    from medletter.prompt import render_case
    from medletter.synth import generate_corpus

    recs = generate_corpus(spec["n"] + spec["n_val"] + 4, seed=spec["data_seed"], lang="de", style=STYLE)
    texts = [r.letter.text for r in recs] + [render_case(r.case) for r in recs]
    d = folder / "tiny-llama3"
    d.mkdir(parents=True, exist_ok=True)
    tok = build_tokenizer(texts, d)
    build_model(d, vocab_size=len(tok))
    return d


def _w(baseline: str) -> int:
    """Width of a ratio column."""
    return max(11, len(baseline) + 3)


def _fmt(x, spec=".1f", none="–"):
    return none if x is None else format(x, spec)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=None, help="training letters (default 40; --tiny: 8)")
    ap.add_argument("--n-val", type=int, default=None, help="validation letters for the eval loss (default 8; --tiny: 2)")
    ap.add_argument("--steps", type=int, default=None, help="optimiser steps, the same for every config (default 12; --tiny: 2)")
    ap.add_argument("--configs", default=",".join(DEFAULT_CONFIGS), help=f"comma-separated, of {', '.join(CONFIGS)}")
    ap.add_argument("--data-seed", type=int, default=0, help="seed of the synthetic corpus")
    ap.add_argument("--last-k", type=int, default=4, help="training loss: mean of the last k per-step losses")
    ap.add_argument("--loss-tol", type=float, default=0.02, help="'equal loss' for the goal: within this relative tolerance")
    ap.add_argument("--no-eval", action="store_true", help="skip the validation loss")
    ap.add_argument("--glibc", action="store_true", help="medletter's configs on glibc's malloc too (default: jemalloc where installed)")
    ap.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                    help="override a cpu-demo key for every config (e.g. --set max_length=1024)")
    ap.add_argument("--tiny", action="store_true", help="a tiny random Llama-3 model (tests/tiny_llama.py): checks the script in seconds")
    ap.add_argument("--profile", action="store_true", help="torch.profiler over the steps after the first, per config")
    ap.add_argument("--keep", action="store_true", help="keep the work folder (runs, worker logs)")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--spec", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker, args.spec, args.result)
        return

    n = args.n if args.n is not None else (8 if args.tiny else 40)
    n_val = args.n_val if args.n_val is not None else (2 if args.tiny else 8)
    steps = args.steps if args.steps is not None else (2 if args.tiny else 12)
    names = [c.strip() for c in args.configs.split(",") if c.strip()]
    unknown = [c for c in names if c not in CONFIGS]
    if unknown or not names:
        ap.error(f"unknown config(s) {', '.join(unknown) or '(none)'}; known: {', '.join(CONFIGS)}")
    if n < 1 or steps < 1 or n_val < 0:
        ap.error("--n and --steps must be >= 1, --n-val >= 0")

    work = Path(tempfile.mkdtemp(prefix="bench_train."))
    spec = {"n": n, "n_val": n_val, "steps": steps, "data_seed": args.data_seed, "last_k": args.last_k,
            "no_eval": args.no_eval, "sets": args.sets, "work": str(work), "overrides": {}}
    if args.profile:
        (work / "profiles").mkdir()
        spec["profile_dir"] = str(work / "profiles")
    try:
        if args.tiny:
            spec["model"] = str(_tiny_model(work, spec))
            spec["overrides"]["max_length"] = 2048  # the tiny tokenizer's letters are long; its model takes 2,048
        else:
            from medletter.models import resolve_model

            spec["model"] = "gemma-3-270m"
            print(f"model: {resolve_model('gemma-3-270m')}", flush=True)  # imports the demo model once, before timing
        from medletter.models import compute_dtype

        try:
            cfg = _config(spec)
        except ValueError as e:  # ConfigError: an unknown --set key or a bad value
            ap.error(str(e))
        spec_path = work / "spec.json"
        spec_path.write_text(json.dumps(spec))
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
               "HF_HUB_DISABLE_TELEMETRY": "1", "TOKENIZERS_PARALLELISM": "false"}
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        print(f"{n} training letters, {0 if args.no_eval else n_val} validation letters, {steps} optimiser steps "
              f"(batch {cfg.batch_size} x accumulation {cfg.gradient_accumulation_steps}), max_length {cfg.max_length}, "
              f"lr {cfg.learning_rate} {cfg.lr_scheduler} warm-up {cfg.warmup_steps}, LoRA r={cfg.lora_r} alpha={cfg.lora_alpha} "
              f"dropout={cfg.lora_dropout} on {cfg.target_modules}, compute dtype {compute_dtype(cfg.dtype)}", flush=True)
        from medletter.memory import JEMALLOC_CONF, jemalloc_library

        jemalloc = None if args.glibc else jemalloc_library()
        rows: dict[str, dict] = {}
        for name in names:
            res = work / f"result-{name}.json"
            log = work / f"log-{name}.txt"
            wenv = dict(env)
            if name.startswith("medletter") and jemalloc:  # as `medletter train` starts itself (memory.py)
                wenv["LD_PRELOAD"] = f"{jemalloc} {env['LD_PRELOAD']}" if env.get("LD_PRELOAD") else jemalloc
                wenv.setdefault("MALLOC_CONF", JEMALLOC_CONF)
            t0 = time.perf_counter()
            with open(log, "w") as f:
                r = subprocess.run([sys.executable, __file__, "--worker", name, "--spec", str(spec_path), "--result", str(res)],
                                   stdout=f, stderr=subprocess.STDOUT, env=wenv, cwd=str(ROOT))
            if r.returncode != 0 or not res.is_file():
                tail = log.read_text(errors="replace")[-3000:]
                print(f"{name}: FAILED (exit {r.returncode})\n{tail}", file=sys.stderr, flush=True)
                continue
            rows[name] = json.loads(res.read_text())
            print(f"{name}: done in {time.perf_counter() - t0:.0f} s", flush=True)
        _report(rows, spec, cfg, args, work)
        if len(rows) < len(names):
            sys.exit(1)
    finally:
        if args.keep or args.profile:
            print(f"work folder kept: {work}" + (f" (profiles: {work / 'profiles'})" if args.profile else ""))
        else:
            shutil.rmtree(work, ignore_errors=True)


def _report(rows: dict, spec: dict, cfg, args, work: Path) -> None:
    import torch

    from medletter.models import compute_dtype

    print(f"\nmachine: {platform.machine()}, {os.cpu_count()} CPUs, torch threads "
          f"{next(iter(rows.values()))['torch_threads'] if rows else '?'}; {json.dumps(_versions())}")
    bases = [b for b in BASELINES if b in rows and rows[b].get("tokens_per_s")]
    head = f"{'config':15} {'steps':>5} {'tokens':>7} {'step s':>8} {'tok/s':>7} {'tok/s >1':>8} "
    head += "".join(f"{'x ' + b:>{_w(b)}}" for b in bases)
    head += f" {'1st loss':>8} {'last-' + str(args.last_k) + ' loss':>12} {'eval loss':>9} {'peak RSS MiB':>12} {'process s':>9}"
    print(head)
    for name, r in rows.items():
        line = (f"{name:15} {r['steps']:5d} {r['tokens']:7d} {_fmt(r['step_seconds'])!s:>8} {_fmt(r['tokens_per_s'])!s:>7} "
                f"{_fmt(r.get('tokens_per_s_after_first'))!s:>8} ")
        for b in bases:
            x = r["tokens_per_s"] / rows[b]["tokens_per_s"] if r.get("tokens_per_s") else None
            line += f"{_fmt(x, '.2f') + 'x':>{_w(b)}}"
        line += (f" {_fmt(r['first_loss'], '.4f'):>8} {_fmt(r['last_k_loss'], '.4f'):>12} {_fmt(r.get('eval_loss'), '.4f'):>9} "
                 f"{r['peak_rss_mib']:12.0f} {r['process_seconds']:9.0f}")
        print(line)

    # checks that make the comparison meaningful
    notes = []
    toks = {name: r["tokens"] for name, r in rows.items()}
    if len(set(toks.values())) > 1:
        notes.append(f"the configs trained different numbers of tokens ({toks}): the example order or the inputs differ")
    for name, r in rows.items():
        ic = r.get("inputs_check")
        if ic:
            ok = ic["identical"] == ic["medletter_examples"] == ic["trl_examples"]
            notes.append(f"{name}: tokenised inputs and labels identical to medletter's for {ic['identical']} of "
                         f"{ic['medletter_examples']} examples (TRL has {ic['trl_examples']})" + ("" if ok else "  <-- NOT the same inputs"))
        if r.get("param_dtypes"):
            notes.append(f"{name}: parameters by dtype {r['param_dtypes']}")
        notes.append(f"{name}: malloc {r.get('malloc', '?')}")
        if name.startswith("trl") and r.get("settings"):
            s = r["settings"]
            gck = f" {s['gradient_checkpointing_kwargs']}" if s.get("gradient_checkpointing_kwargs") else ""
            notes.append(f"{name}: gradient_checkpointing={s['gradient_checkpointing']}{gck}, "
                         f"bf16={s['bf16']}, completion_only_loss={s['completion_only_loss']}, dataset {s['dataset_format']}, "
                         f"packing={s['packing']}, padding_free={s['padding_free']}, optim={s['optim']}")
    for note in notes:
        print("  " + note)

    # the goal
    goal = {}
    m = rows.get("medletter")
    trls = [b for b in bases if b.startswith("trl")]
    if m and trls:
        use_eval = all(rows[x].get("eval_loss") is not None for x in ["medletter", *trls])
        key = "eval_loss" if use_eval else "last_k_loss"
        parts = []
        for b in trls:
            x = m["tokens_per_s"] / rows[b]["tokens_per_s"]
            lm, lb = m.get(key), rows[b].get(key)
            loss_ok = lm is not None and lb is not None and lm <= lb * (1 + args.loss_tol)
            met = x >= 2 and loss_ok
            goal[b] = {"speedup": round(x, 3), "loss_measure": key, "medletter_loss": lm, "trl_loss": lb,
                       "loss_equal_or_lower": loss_ok, "met": met, "aim_3x": x >= 3}
            parts.append(f"vs {b}: {x:.2f}x, {key.replace('_', ' ')} {_fmt(lm, '.4f')} vs {_fmt(lb, '.4f')} -> "
                         f"{'met' if met else 'NOT met'}{' (3x aim reached)' if x >= 3 and loss_ok else ''}")
        print(f"goal medletter >= 2x TRL tokens/s at equal or lower loss (tol {args.loss_tol:.0%}): " + "; ".join(parts))
        if args.tiny:
            print("  (--tiny: a random 2-layer model; these figures check the script, they say nothing about the goal)")
    for name, r in rows.items():
        if r.get("profile_top"):
            print(f"\n{name}: operators with the most self CPU time over steps 2..{r['steps']} "
                  f"(full table: {work / 'profiles' / (name + '.txt')})")
            for e in r["profile_top"][:10]:
                print(f"  {e['share']:6.1%} {e['self_s']:8.2f} s {e['calls']:7d}x  {e['op']}")
    print(json.dumps({"bench": "train", "tiny": args.tiny, "n": spec["n"], "n_val": spec["n_val"], "steps": spec["steps"],
                      "data_seed": spec["data_seed"], "sets": spec["sets"], "compute_dtype": str(compute_dtype(cfg.dtype)),
                      "cpus": os.cpu_count(), "torch_cuda": torch.cuda.is_available(), "versions": _versions(),
                      "goal": goal, "rows": rows}))


if __name__ == "__main__":
    main()
