"""The fine-tuning recipe (see the package docstring for the outline)."""

from __future__ import annotations

import json
import logging
import math
import os
import time
from pathlib import Path

import yaml

from medletter.dataset import IGNORE_INDEX, MIN_COMPLETION_TOKENS, collate, encode_records, split_by_patient
from medletter.jsonl import write_jsonl
from medletter.prompt import PROMPT_VERSION
from medletter.records import Record
from medletter.train.config import TrainConfig

log = logging.getLogger(__name__)


def prepare_data(records: list[Record], cfg: TrainConfig, run_dir: Path, key: bytes | None = None,
                 write: bool = True) -> dict[str, list[Record]]:
    """Split by patient and write the splits to ``run_dir/data`` (traceable inputs of the run).

    With ``key``, the training and validation records are pseudonymised first (surrogates and
    date shifts keyed by it; see privacy/pseudonymize.py), so no patient's identity is written to
    the run or tokenised; the test split keeps the real cases (they are drafted inside the hospital).
    ``cfg.deid`` records which it was. ``write=False`` (the other ranks of a distributed run) returns the
    same splits without writing them.
    """
    for i, r in enumerate(records):
        if r.letter is None:
            raise ValueError(f"record {i + 1} has no reference letter; training needs one per case")
    splits = split_by_patient(records, n_test=cfg.n_test, n_validation=cfg.n_validation, seed=cfg.seed)
    require_training_cases(splits, cfg)
    if cfg.max_train_examples:
        splits["train"] = splits["train"][: cfg.max_train_examples]
    cfg.deid = key is not None
    if key is not None:
        from medletter.privacy.pseudonymize import deidentify_record

        for name in ("train", "validation"):
            splits[name] = [deidentify_record(r, key) for r in splits[name]]
    data = run_dir / "data"
    for name, rs in (splits.items() if write else ()):
        write_jsonl(data / f"{name}.jsonl", [r.model_copy(update={"split": name}) for r in rs])
    return splits


def require_training_cases(splits: dict[str, list[Record]], cfg: TrainConfig) -> None:
    """Say why nothing is left to train on, before anything is tokenised or loaded."""
    n_train = len(splits.get("train", []))
    if n_train:
        effective = cfg.batch_size * cfg.gradient_accumulation_steps
        if n_train < effective:
            log.warning("only %d training case(s), fewer than one optimiser step's batch (%d)", n_train, effective)
        return
    n = sum(len(rs) for rs in splits.values())
    fixed = sum(1 for rs in splits.values() for r in rs if r.split)
    why = f"; {fixed} of them carry a split column, which is kept" if fixed else ""
    raise ValueError(
        f"{n} cases: the config holds out n_test={cfg.n_test} and n_validation={cfg.n_validation} "
        f"(by whole patients: {len(splits.get('test', []))} test, {len(splits.get('validation', []))} validation){why}, "
        f"which leaves 0 for training; pass --n-test/--n-validation (or --set n_test=…)"
    )


def _make_trainer_class():
    """Defined lazily: importing transformers is slow and the CLI should start fast."""
    import torch
    from transformers import Trainer, TrainerCallback

    from medletter.train.loss import fused_loss_supported, letter_loss

    class Throughput(TrainerCallback):
        """Non-padding tokens of the micro-batches actually trained and the time of the optimiser steps
        they were trained in (forward, backward, update; evaluation and checkpoints excluded), in total
        and since the last log: the logs' tokens/s and the summary's are the same measure."""

        def __init__(self):
            self.tokens = self.window_tokens = 0
            self.seconds = self.window_seconds = 0.0
            self._t0 = None

        def add(self, n_tokens: int) -> None:
            self.tokens += n_tokens
            self.window_tokens += n_tokens

        def on_step_begin(self, args, state, control, **kw):
            self._t0 = time.perf_counter()

        def on_step_end(self, args, state, control, **kw):
            if self._t0 is not None:
                dt = time.perf_counter() - self._t0
                self.seconds += dt
                self.window_seconds += dt
                self._t0 = None

        def take_window(self) -> tuple[int, float]:
            out = (self.window_tokens, self.window_seconds)
            self.window_tokens, self.window_seconds = 0, 0.0
            return out

    class LetterTrainer(Trainer):
        """HF Trainer whose loss projects only the positions that have a letter token to predict.

        The demo model's vocabulary has 262k entries: projecting every prompt position onto it costs
        more than the transformer itself. Only positions whose next token is labelled are scored, and
        for the models ``fused_loss_supported`` names the projection and the cross-entropy are fused
        chunk by chunk (train/loss.py); the others use ``logits_to_keep`` with indices. Same loss.
        """

        loss_is_scaled_for_ga = True

        def __init__(self, *a, **kw):
            super().__init__(*a, **kw)
            self.throughput = Throughput()
            self.add_callback(self.throughput)
            self.fused_loss = fused_loss_supported(self.model)
            self.head_cache: dict = {}  # the frozen output head in the compute dtype, cast once per run
            self.head_grad_min_p = 0.0  # TrainConfig.head_grad_min_p, set by train()

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            labels = inputs["labels"]
            targets = labels[:, 1:]
            keep = (targets != IGNORE_INDEX).any(dim=0).nonzero().squeeze(1)
            tgt = targets[:, keep]
            n = num_items_in_batch if num_items_in_batch is not None else (tgt != IGNORE_INDEX).sum()
            if self.fused_loss and model is self.model:  # not behind a DDP/FSDP wrapper, whose forward must run
                base = model.get_base_model() if hasattr(model, "get_base_model") else model
                # the decoder is called directly, so the mixed precision accelerate wraps around model.forward
                # is entered here (without it the step ran in fp32: 164 instead of 246 tokens/s on 2 cores)
                with self.accelerator.autocast():
                    hidden = base.model(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"]).last_hidden_state
                    h = hidden[:, keep]
                    loss = letter_loss(h.reshape(-1, h.shape[-1]), base.get_output_embeddings(), tgt.reshape(-1).to(h.device), n,
                                       softcap=getattr(base.config, "final_logit_softcapping", None), cache=self.head_cache,
                                       min_p=self.head_grad_min_p)
                logits = None
            else:
                out = model(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"], logits_to_keep=keep)
                logits = out.logits.float()
                loss = torch.nn.functional.cross_entropy(
                    logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1).to(logits.device), ignore_index=IGNORE_INDEX, reduction="sum"
                ) / n
            if self.args.average_tokens_across_devices and self.accelerator.num_processes > 1 and num_items_in_batch is not None:
                # n counts the target tokens of every rank's micro-batches and DDP averages the ranks'
                # gradients: scaled back, the gradient is the token mean of the global batch, as with one
                # process (Trainer.compute_loss does the same; this override replaces it)
                loss = loss * self.accelerator.num_processes
            if model.training:
                self.throughput.add(int(inputs["attention_mask"].sum()))
            return (loss, {"logits": logits}) if return_outputs else loss

        def all_ranks(self, tokens: int, seconds: float) -> tuple[int, float]:
            """Tokens summed over the ranks, and the slowest rank's seconds (they train side by side)."""
            if self.accelerator.num_processes == 1:
                return tokens, seconds
            t = torch.tensor([[float(tokens), float(seconds)]], dtype=torch.float64, device=self.accelerator.device)
            g = self.accelerator.gather(t)
            return int(g[:, 0].sum()), float(g[:, 1].max())

        def log(self, logs, start_time=None):
            if "loss" in logs:  # every rank logs at the same steps, so the gather below is matched
                tokens, seconds = self.all_ranks(*self.throughput.take_window())
                if tokens and seconds:
                    logs["tokens_per_s"] = round(tokens / seconds, 1)
                total, _ = self.all_ranks(self.throughput.tokens, 0.0)
                logs["tokens_trained"] = total
            super().log(logs, start_time)

    return LetterTrainer


def _callbacks(run_dir: Path, total_steps: int, model=None, dump_gradients: bool = False):
    from tqdm.auto import tqdm
    from transformers import TrainerCallback

    class Progress(TrainerCallback):
        """One progress bar with loss, eval loss and tokens/s."""

        def __init__(self):
            self.bar = None
            self.post: dict = {}

        def on_train_begin(self, args, state, control, **kw):
            self.bar = tqdm(total=state.max_steps or total_steps, desc="fine-tuning", unit="step", dynamic_ncols=True,
                            disable=not state.is_world_process_zero)
            self.bar.update(state.global_step)

        def on_step_end(self, args, state, control, **kw):
            if self.bar:
                self.bar.update(state.global_step - self.bar.n)

        def on_log(self, args, state, control, logs=None, **kw):
            logs = logs or {}
            for k, short in (("loss", "loss"), ("eval_loss", "eval_loss"), ("tokens_per_s", "tok/s")):
                if k in logs:
                    self.post[short] = f"{logs[k]:.3f}" if "loss" in k else f"{logs[k]:.0f}"
            if self.bar:
                self.bar.set_postfix(self.post, refresh=True)

        def on_train_end(self, args, state, control, **kw):
            if self.bar:
                self.bar.close()

    class Metrics(TrainerCallback):
        """Append every log entry to runs/NAME/metrics.jsonl."""

        def on_log(self, args, state, control, logs=None, **kw):
            if not state.is_world_process_zero:
                return
            row = {"step": state.global_step, "epoch": round(state.epoch or 0, 4), "time": round(time.time(), 3), **(logs or {})}
            with open(run_dir / "metrics.jsonl", "a", encoding="utf-8") as f:
                f.write(json.dumps(row) + "\n")

    class FirstStepGradients(TrainerCallback):
        """``dump_first_step_gradients``: the LoRA gradients the first optimiser step applies (after the
        ranks' all-reduce and clipping) to RUN/first_step_gradients.pt, to check a distributed set-up
        against one process with the same global batch."""

        def on_pre_optimizer_step(self, args, state, control, **kw):
            if state.global_step == 0 and state.is_world_process_zero:
                import torch

                grads = {n: p.grad.detach().float().cpu().clone() for n, p in model.named_parameters()
                         if p.requires_grad and p.grad is not None}
                torch.save(grads, run_dir / "first_step_gradients.pt")

    return [Progress(), Metrics()] + ([FirstStepGradients()] if dump_gradients and model is not None else [])


def optimisation_arguments(cfg: TrainConfig) -> dict:
    """The ``TrainingArguments`` a config fixes for the optimisation itself (batching, optimiser, schedule,
    precision, seed, logging), shared by the recipe and by the TRL run of benchmarks/bench_train.py."""
    import torch

    from medletter.models import compute_dtype

    cd = compute_dtype(cfg.dtype)
    return dict(
        per_device_train_batch_size=cfg.batch_size,
        per_device_eval_batch_size=cfg.batch_size,
        gradient_accumulation_steps=cfg.gradient_accumulation_steps,
        learning_rate=cfg.learning_rate,
        lr_scheduler_type=cfg.lr_scheduler,
        warmup_steps=cfg.warmup_steps,
        weight_decay=cfg.weight_decay,
        max_grad_norm=cfg.max_grad_norm,
        max_steps=cfg.max_steps,
        logging_steps=cfg.logging_steps,
        seed=cfg.seed,
        bf16=cd == torch.bfloat16,
        fp16=cd == torch.float16,
        use_cpu=not torch.cuda.is_available(),
    )


def train(cfg: TrainConfig, splits: dict[str, list[Record]], run_dir: Path, resume: bool = False) -> dict:
    """Fine-tune; returns a summary (steps, losses, tokens/s, seconds), also written to ``train_summary.json``.

    ``tokens_trained``: non-padding tokens of the batches trained in this call (a resumed run counts from
    its checkpoint); ``tokens_per_s``: those over ``step_seconds``, the time of the optimiser steps
    (evaluation and checkpoints excluded; ``seconds`` is the whole wall time), the same measure as the
    per-log ``tokens_per_s`` in ``metrics.jsonl``.
    """
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import TrainingArguments, set_seed

    from medletter.models import load_for_training, load_tokenizer, resolve_model
    from medletter.train import dist

    main = dist.is_main()  # only rank 0 writes the run folder (every rank trains)
    require_training_cases(splits, cfg)
    run_dir.mkdir(parents=True, exist_ok=True)
    from medletter.memory import keep_freed_memory

    keep_freed_memory()  # no page faults for the same activations every step (medletter/memory.py)
    set_seed(cfg.seed)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    base = resolve_model(cfg.model)
    tok = load_tokenizer(base)

    # 1. data: tokenise with the prompt masked; report lengths and truncation
    train_ex, train_stats = encode_records(tok, splits["train"], cfg.lang, cfg.max_length, cfg.style)
    val_ex, val_stats = encode_records(tok, splits["validation"], cfg.lang, cfg.max_length, cfg.style)
    if not train_ex:
        raise ValueError(
            f"all {train_stats.n} training examples dropped: their prompts leave fewer than {MIN_COMPLETION_TOKENS} of "
            f"max_length={cfg.max_length} tokens for the letter (longest prompt {max(train_stats.prompt_tokens)} tokens); "
            "raise max_length (--set max_length=…)"
        )
    stats = {"train": train_stats.summary(), "validation": val_stats.summary(), "test_cases": len(splits.get("test", []))}
    if main:
        (run_dir / "data_stats.json").write_text(json.dumps(stats, indent=2))
        from medletter.grounding.constants import write_constants

        # the department's own numbers in its letters, for the drafts' grounding (runs/NAME/grounding/constants.json)
        write_constants(run_dir, splits["train"])
    ts = stats["train"]
    log.info(
        "training data: %d examples; prompt tokens median %s (max %s), letter tokens median %s (max %s); %d truncated, %d dropped (max_length %d)",
        ts["examples"], ts["prompt_tokens"].get("median"), ts["prompt_tokens"].get("max"), ts["completion_tokens"].get("median"),
        ts["completion_tokens"].get("max"), ts["truncated"], ts["dropped"], cfg.max_length,
    )
    for name, st in (("train", train_stats), ("validation", val_stats)):
        if st.truncated or st.dropped:
            log.warning("%s: %d of %d examples truncated, %d dropped (max_length %d)", name, st.truncated, st.n, st.dropped, cfg.max_length)

    # 2. model: quantised (or not) base + LoRA on all linear layers
    model = load_for_training(base, cfg.quantization, cfg.dtype, cfg.gradient_checkpointing, cfg.attn_implementation)
    lora = LoraConfig(
        r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
        target_modules=cfg.target_modules, task_type="CAUSAL_LM",
    )
    model = get_peft_model(model, lora)
    n_train = sum(p.numel() for p in model.parameters() if p.requires_grad)
    n_all = sum(p.numel() for p in model.parameters())

    # 3. trainer
    world = dist.world_size()
    global_batch = cfg.batch_size * cfg.gradient_accumulation_steps * world
    steps_per_epoch = math.ceil(len(train_ex) / global_batch)
    if world > 1:
        log.info("%d processes: global batch %d (batch_size %d x gradient_accumulation_steps %d x %d ranks), %d steps per epoch",
                 world, global_batch, cfg.batch_size, cfg.gradient_accumulation_steps, world, steps_per_epoch)
    total = cfg.max_steps if cfg.max_steps > 0 else math.ceil(steps_per_epoch * cfg.epochs)
    args = TrainingArguments(
        output_dir=str(run_dir / "checkpoints"),
        **optimisation_arguments(cfg),
        num_train_epochs=cfg.epochs,
        eval_strategy=("steps" if cfg.eval_steps else "epoch") if val_ex else "no",
        eval_steps=cfg.eval_steps or None,
        save_strategy="steps",
        save_steps=cfg.save_steps,
        save_total_limit=cfg.save_total_limit,
        report_to=cfg.report_to,
        disable_tqdm=True,
        remove_unused_columns=False,
        prediction_loss_only=True,
        label_names=["labels"],
        dataloader_num_workers=0,
        save_only_model=False,
    )
    os.environ["TENSORBOARD_LOGGING_DIR"] = str(run_dir / "tensorboard")  # transformers 5 reads it from here
    Trainer = _make_trainer_class()
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=[{"input_ids": e.input_ids, "labels": e.labels} for e in train_ex],
        eval_dataset=[{"input_ids": e.input_ids, "labels": e.labels} for e in val_ex] or None,
        data_collator=lambda rows: collate(rows, tok.pad_token_id),
        callbacks=_callbacks(run_dir, total, model, cfg.dump_first_step_gradients),
    )
    trainer.head_grad_min_p = cfg.head_grad_min_p
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)  # our progress bar shows the logs
    from collections import Counter

    styles = Counter(r.letter.style for r in splits["train"] if r.letter)
    cfg_dump = {**cfg.to_dict(), "prompt_version": PROMPT_VERSION, "train_style": cfg.style or styles.most_common(1)[0][0], "base_model_path": str(base),
                "trainable_parameters": n_train, "all_parameters": n_all, "world_size": world, "global_batch_size": global_batch}
    if main:
        (run_dir / "config.yaml").write_text(yaml.safe_dump(cfg_dump, sort_keys=False, allow_unicode=True))

    ckpts = sorted((run_dir / "checkpoints").glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[-1]))
    resume_from = str(ckpts[-1]) if (resume and ckpts) else None
    if resume and not ckpts:
        log.warning("--resume: no checkpoint in %s; starting from scratch", run_dir / "checkpoints")
    t0 = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=resume_from)
    seconds = time.perf_counter() - t0
    evals = [r for r in trainer.state.log_history if "eval_loss" in r]
    ev = evals[-1] if evals else (trainer.evaluate() if val_ex else {})

    # 4. outputs
    tp = trainer.throughput
    tokens_all, seconds_all = trainer.all_ranks(tp.tokens, tp.seconds)  # a collective: every rank calls it
    if trainer.is_fsdp_enabled:  # gather the sharded adapter to rank 0 for saving
        trainer.accelerator.state.fsdp_plugin.set_state_dict_type("FULL_STATE_DICT")
    if world > 1:
        trainer.save_model(str(run_dir / "adapter"))  # a collective under FSDP/DeepSpeed; writes on rank 0 only
    else:
        model.save_pretrained(str(run_dir / "adapter"))
    if main:
        tok.save_pretrained(str(run_dir / "tokenizer"))
    losses = [r for r in trainer.state.log_history if "loss" in r]
    summary = {
        "steps": trainer.state.global_step,
        "train_loss": result.training_loss,
        "first_loss": losses[0]["loss"] if losses else None,
        "last_loss": losses[-1]["loss"] if losses else None,
        "eval_loss": ev.get("eval_loss"),
        "seconds": round(seconds, 1),
        "step_seconds": round(seconds_all, 3),
        "tokens_trained": tokens_all,
        "tokens_per_s": round(tokens_all / seconds_all, 1) if seconds_all else None,
        "train_examples": len(train_ex),
        "world_size": world,
        "global_batch_size": global_batch,
        "prompt_version": PROMPT_VERSION,
        "tokens": {k: stats["train"][k] for k in ("prompt_tokens", "completion_tokens", "truncated", "dropped")},
        "resumed_from": Path(resume_from).name if resume_from else None,
    }
    if main:
        (run_dir / "train_summary.json").write_text(json.dumps(summary, indent=2))
    dist.barrier()  # the other ranks return once the run folder is complete
    del trainer, model
    import gc

    gc.collect()
    from medletter.memory import give_back_freed_memory

    give_back_freed_memory()  # training's freed heap back to the kernel before export and drafting
    return summary
