"""`medletter train` under `accelerate launch --cpu --num_processes 2` (DDP over gloo), on the tiny Llama-3 model.

Both ranks train (the tokens trained are those of every example of the epoch, which neither rank has alone),
only rank 0 writes the run folder, the loss falls, the two-process run's first-step gradients equal one
process's with the same global batch, --resume continues from the distributed checkpoint, and the adapter
loads and drafts."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

BIN = Path(sys.executable).parent


def _train(data: Path, run: Path, cfg: Path, nproc: int, *extra: str) -> subprocess.CompletedProcess:
    medletter = str(BIN / "medletter")
    if nproc == 1:
        cmd = [medletter]
    else:
        launcher = shutil.which("accelerate", path=str(BIN)) or "accelerate"
        # the command as people type it; accelerate itself starts one process for it (several need mpirun),
        # and medletter starts the ranks (torch.distributed.run, gloo)
        cmd = [launcher, "launch", "--cpu", "--num_processes", str(nproc), "--num_machines", "1", "--mixed_precision", "no",
               "--dynamo_backend", "no", medletter]
    cmd += ["train", "--data", str(data), "--run", str(run), "--config", str(cfg), "--no-deid", "--n-test", "2",
            "--n-validation", "2", "--set", "max_train_examples=8", "--set", "report_to=", "--set", "logging_steps=1",
            "--set", "dump_first_step_gradients=true", *extra]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, f"{' '.join(cmd)}\n{r.stdout[-3000:]}\n{r.stderr[-6000:]}"
    return r


@pytest.fixture(scope="module")
def setup(tmp_path_factory, tiny_llama, corpus_records):
    from medletter.jsonl import write_jsonl

    d = tmp_path_factory.mktemp("dist")
    data = d / "corpus.jsonl"
    write_jsonl(data, corpus_records)
    cfg = d / "tiny.yaml"
    cfg.write_text(yaml.safe_dump(dict(model=str(tiny_llama), dtype="fp32", quantization="nf4", max_length=2048, warmup_steps=0,
                                       lora_r=8, lora_alpha=16, lora_dropout=0.0, learning_rate=3e-3, max_grad_norm=0.0,
                                       seed=5, epochs=3)))
    return d, data, cfg


@pytest.fixture(scope="module")
def two_ranks(setup):
    """2 processes x batch 1 x accumulation 2 = global batch 4: 8 examples are 2 steps per epoch. Two steps
    (one epoch, checkpoint at 2), then --resume to 4 (the second epoch)."""
    d, data, cfg = setup
    run = d / "two"
    first = _train(data, run, cfg, 2, "--set", "batch_size=1", "--set", "gradient_accumulation_steps=2",
                   "--max-steps", "2", "--set", "save_steps=2")
    first_summary = json.loads((run / "train_summary.json").read_text())
    grads = torch.load(run / "first_step_gradients.pt")
    second = _train(data, run, cfg, 2, "--set", "batch_size=1", "--set", "gradient_accumulation_steps=2",
                    "--max-steps", "4", "--set", "save_steps=2", "--resume")
    return run, first, first_summary, grads, second


def test_both_ranks_train_and_rank_0_alone_writes(two_ranks):
    run, first, s1, _, second = two_ranks
    stats = json.loads((run / "data_stats.json").read_text())["train"]
    assert stats["examples"] == 8
    assert (s1["world_size"], s1["global_batch_size"], s1["steps"]) == (2, 4, 2)
    # one epoch = every example once, half on each rank: the count only adds up if both ranks' tokens are counted
    assert s1["tokens_trained"] == stats["sum_total_tokens"], (s1, stats["sum_total_tokens"])
    cfg = yaml.safe_load((run / "config.yaml").read_text())
    assert (cfg["world_size"], cfg["global_batch_size"]) == (2, 4)
    rows = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    train_rows = [r["step"] for r in rows if "loss" in r]
    assert train_rows == [1, 2, 3, 4], train_rows  # one line per step (rank 1 writes none), the resumed run appends
    out = first.stdout + first.stderr + second.stdout + second.stderr
    assert out.count('"world_size"') == 2  # the summary printed once per launch, by rank 0
    assert out.count("accelerate launch --cpu starts one process") == 2  # and medletter started the two ranks


def test_the_resumed_run_continues_from_the_distributed_checkpoint(two_ranks):
    run, _, s1, _, _ = two_ranks
    s2 = json.loads((run / "train_summary.json").read_text())
    assert s2["resumed_from"] == "checkpoint-2" and s2["steps"] == 4, s2
    stats = json.loads((run / "data_stats.json").read_text())["train"]
    assert s2["tokens_trained"] == stats["sum_total_tokens"]  # steps 3-4 only: the second epoch
    assert s2["last_loss"] < s1["first_loss"], (s1, s2)  # the loss fell over the four steps
    assert (run / "checkpoints" / "checkpoint-4").is_dir()


def test_two_ranks_give_the_gradients_of_one_process_with_the_same_global_batch(two_ranks, setup):
    d, data, cfg = setup
    _, _, _, grads2, _ = two_ranks
    one = d / "one"
    _train(data, one, cfg, 1, "--set", "batch_size=1", "--set", "gradient_accumulation_steps=4", "--max-steps", "1")
    grads1 = torch.load(one / "first_step_gradients.pt")
    assert grads1.keys() == grads2.keys() and len(grads1) > 0
    nonzero = 0
    for name in grads1:
        a, b = grads1[name], grads2[name]
        scale = float(a.abs().max())
        nonzero += scale > 0
        assert torch.allclose(b, a, rtol=1e-3, atol=1e-4 * scale + 1e-12), (name, float((a - b).abs().max()), scale)
    # the comparison is not one of zeros: LoRA's B matrices start at zero, so A has no gradient in step 1, B has
    assert nonzero == sum("lora_B" in n for n in grads1) > 0, nonzero


def test_the_distributed_adapter_loads_and_drafts(two_ranks, tmp_path, corpus_records):
    from medletter.jsonl import write_jsonl

    run = two_ranks[0]
    cases = tmp_path / "cases.jsonl"
    write_jsonl(cases, [{"case": r.case.model_dump(mode="json")} for r in corpus_records[:1]])
    out = tmp_path / "letters.jsonl"
    r = subprocess.run([str(BIN / "medletter"), "generate", "--run", str(run), "--cases", str(cases), "--out", str(out),
                        "--backend", "hf", "--max-new-tokens", "12"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    letters = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(letters) == 1 and letters[0]["new_tokens"] > 0
