"""One place for each setting: `medletter train --set`, the prompt version in the run, tokens/s of what was trained."""

from __future__ import annotations

import ast
import inspect
import json
import logging
import shutil

import pytest
import yaml
from typer.testing import CliRunner

from medletter.cli import app
from medletter.prompt import PROMPT_VERSION
from medletter.train import config as config_mod
from medletter.train.config import ConfigError, TrainConfig, load_config, parse_sets

runner = CliRunner()


def test_every_config_field_has_a_docstring():
    tree = ast.parse(inspect.getsource(TrainConfig))
    body = tree.body[0].body
    documented = {
        stmt.target.id for stmt, nxt in zip(body, body[1:])
        if isinstance(stmt, ast.AnnAssign) and isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant)
        and isinstance(nxt.value.value, str) and len(nxt.value.value) > 20
    }
    fields = {f.name for f in config_mod.dataclasses.fields(TrainConfig)}
    assert fields - documented == set()


def test_set_converts_to_the_field_type():
    got = parse_sets([
        "lora_r=8", "learning_rate=2e-4", "epochs=3", "lora_dropout=0", "gradient_checkpointing=yes", "deid=0",
        "lr_scheduler=linear", "report_to=", "target_modules=q_proj, v_proj", "style=none", "n-test=3",
    ])
    assert got == {
        "lora_r": 8, "learning_rate": 2e-4, "epochs": 3.0, "lora_dropout": 0.0, "gradient_checkpointing": True, "deid": False,
        "lr_scheduler": "linear", "report_to": [], "target_modules": ["q_proj", "v_proj"], "style": None, "n_test": 3,
    }
    assert type(got["lora_r"]) is int and type(got["epochs"]) is float
    for text, value in (("true", True), ("False", False), ("YES", True), ("no", False), ("1", True), ("0", False)):
        assert parse_sets([f"deid={text}"])["deid"] is value
    assert parse_sets(["target_modules=all-linear"])["target_modules"] == "all-linear", "one name stays a string (peft)"
    assert parse_sets(["report_to=tensorboard"])["report_to"] == ["tensorboard"]
    assert parse_sets(["style=uniklinik"])["style"] == "uniklinik"
    assert parse_sets(["lora_r=4", "lora_r=8"]) == {"lora_r": 8}, "the last of a repeated key wins"
    cfg = load_config("cpu-demo", {"max_steps": 5}, ["lora_r=4", "report_to="])
    assert (cfg.lora_r, cfg.report_to, cfg.max_steps, cfg.learning_rate) == (4, [], 5, 4e-4), "preset < options < --set"


@pytest.mark.parametrize("item, key", [
    ("lora_rank=8", "lora_rank"), ("lora_r=eight", "lora_r"), ("lora_r=2.5", "lora_r"), ("epochs=fast", "epochs"),
    ("epochs=nan", "epochs"), ("deid=maybe", "deid"), ("quantization=int8", "quantization"), ("lora_r=0", "lora_r"),
    ("lora_dropout=1", "lora_dropout"), ("dtype=fp8", "dtype"),
])
def test_bad_set_names_the_key(item, key):
    with pytest.raises(ConfigError, match=key):
        load_config("cpu-demo", None, [item])


@pytest.mark.parametrize("args, key", [
    (["--set", "no_such_key=1"], "no_such_key"),
    (["--set", "batch_size=two"], "batch_size"),
    (["--set", "gradient_checkpointing=perhaps"], "gradient_checkpointing"),
    (["--set", "lora_r"], "lora_r"),
    (["--max-steps", "3", "--set", "max_steps=4"], "max_steps"),
])
def test_cli_set_errors_exit_2_naming_the_key(tmp_path, args, key):
    data = tmp_path / "corpus.jsonl"
    data.write_text("")
    r = runner.invoke(app, ["train", "--data", str(data), "--run", str(tmp_path / "run"), *args])
    assert r.exit_code == 2, r.output
    assert key in r.output and "error" in r.output
    assert not (tmp_path / "run").exists()


def test_too_small_corpus_says_what_is_held_out(tmp_path, corpus_records):
    """30 cases with cpu-demo's 24 test + 8 validation: the message names the split, not tokenisation."""
    from medletter.jsonl import write_jsonl
    from medletter.synth import generate_corpus
    from medletter.train import prepare_data, train

    data = tmp_path / "corpus.jsonl"
    write_jsonl(data, generate_corpus(30, seed=2))
    run = tmp_path / "run"
    r = runner.invoke(app, ["train", "--data", str(data), "--run", str(run), "--config", "cpu-demo", "--no-deid"])
    assert r.exit_code == 1, r.output
    out = " ".join(r.output.split())
    assert "30 cases: the config holds out n_test=24 and n_validation=8" in out, out
    assert "which leaves 0 for training; pass --n-test/--n-validation (or --set n_test=…)" in out, out
    assert "tokenisation" not in out and not (run / "data").exists(), "stopped before writing or tokenising anything"

    cfg = load_config(None, {"n_test": 10, "n_validation": 6})
    with pytest.raises(ValueError, match="16 cases: .* leaves 0 for training"):
        prepare_data(corpus_records, cfg, tmp_path / "run2")
    with pytest.raises(ValueError, match="leaves 0 for training"):
        train(cfg, {"train": [], "validation": corpus_records[:2], "test": corpus_records[2:]}, tmp_path / "run3")


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory, tiny_llama, corpus_records):
    """A tiny run through `medletter train` whose --max-steps stops it after 2 of 3 epochs."""
    from medletter.jsonl import write_jsonl

    d = tmp_path_factory.mktemp("set-run")
    data = d / "corpus.jsonl"
    write_jsonl(data, corpus_records)
    cfg = d / "tiny.yaml"
    cfg.write_text(yaml.safe_dump(dict(model=str(tiny_llama), dtype="fp32", max_length=2048, warmup_steps=0, save_steps=100,
                                       lora_r=8, lora_alpha=16, lora_dropout=0.0, learning_rate=3e-3)))
    run = d / "run"
    # 8 training examples, batch 2 x accumulation 2: 2 optimiser steps per epoch; 4 steps = 2 of the 3 epochs
    r = runner.invoke(app, ["train", "--data", str(data), "--run", str(run), "--config", str(cfg), "--no-deid",
                            "--n-test", "4", "--n-validation", "2", "--set", "max_train_examples=8", "--set", "epochs=3",
                            "--max-steps", "4", "--set", "batch_size=2", "--set", "gradient_accumulation_steps=2",
                            "--set", "report_to=", "--set", "quantization=none", "--set", "logging_steps=1"])
    assert r.exit_code == 0, r.output
    return run


def test_set_and_prompt_version_reach_the_run(cli_run):
    cfg = yaml.safe_load((cli_run / "config.yaml").read_text())
    assert cfg["prompt_version"] == PROMPT_VERSION
    assert (cfg["n_test"], cfg["n_validation"], cfg["max_train_examples"], cfg["epochs"], cfg["max_steps"]) == (4, 2, 8, 3.0, 4)
    assert (cfg["batch_size"], cfg["gradient_accumulation_steps"], cfg["report_to"], cfg["quantization"]) == (2, 2, [], "none")
    summary = json.loads((cli_run / "train_summary.json").read_text())
    assert summary["prompt_version"] == PROMPT_VERSION
    assert not (cli_run / "tensorboard").exists(), "report_to= turned TensorBoard off"


def test_tokens_per_s_counts_the_tokens_trained(cli_run):
    """max_steps stops after 2 of 3 epochs: every training example was trained exactly twice, so the
    tokens trained are twice the examples' lengths (padding not counted), whatever the batches were."""
    from medletter.dataset import encode_records
    from medletter.jsonl import load_records
    from medletter.models import load_tokenizer

    summary = json.loads((cli_run / "train_summary.json").read_text())
    cfg = yaml.safe_load((cli_run / "config.yaml").read_text())
    assert summary["steps"] == 4 and summary["train_examples"] == 8
    tok = load_tokenizer(cli_run / "tokenizer")
    examples, _ = encode_records(tok, load_records(cli_run / "data" / "train.jsonl"), cfg["lang"], cfg["max_length"], cfg["style"])
    lengths = [len(e.input_ids) for e in examples]
    assert len(lengths) == 8 and len(set(lengths)) > 1, "examples of different lengths: batches carry padding"
    assert summary["tokens_trained"] == 2 * sum(lengths), (summary, lengths)
    assert summary["tokens_per_s"] == pytest.approx(summary["tokens_trained"] / summary["step_seconds"], rel=0.01)
    assert summary["step_seconds"] <= summary["seconds"]

    rows = [json.loads(line) for line in (cli_run / "metrics.jsonl").read_text().splitlines()]
    steps = [r for r in rows if "loss" in r]
    assert [r["step"] for r in steps] == [1, 2, 3, 4]
    assert steps[-1]["tokens_trained"] == summary["tokens_trained"], "the logs and the summary count the same tokens"
    assert all(a["tokens_trained"] < b["tokens_trained"] for a, b in zip(steps, steps[1:]))
    rates = [r["tokens_per_s"] for r in steps]
    # the summary's rate is the logged windows' tokens over their summed time: inside the logged range
    assert min(rates) - 0.1 <= summary["tokens_per_s"] <= max(rates) + 0.1, (rates, summary)


def test_generating_from_another_prompt_version_warns_once(cli_run, tmp_path, caplog):
    from medletter.generate.backends import make_backend

    old = tmp_path / "old-run"
    shutil.copytree(cli_run, old, ignore=shutil.ignore_patterns("checkpoints"))
    cfg = yaml.safe_load((old / "config.yaml").read_text())
    (old / "config.yaml").write_text(yaml.safe_dump({**cfg, "prompt_version": "0"}))
    with caplog.at_level(logging.WARNING, logger="medletter"):
        make_backend("hf", old, base_only=True)  # reads config.yaml itself, then through load_run
        make_backend("openai", old, endpoint="http://127.0.0.1:9")
    warnings = [r for r in caplog.records if "prompt version 0" in r.getMessage()]
    assert len(warnings) == 1 and PROMPT_VERSION in warnings[0].getMessage(), [r.getMessage() for r in caplog.records]

    caplog.clear()
    legacy, same = tmp_path / "legacy-run", tmp_path / "same-run"
    for run, drop in ((legacy, True), (same, False)):
        shutil.copytree(cli_run, run, ignore=shutil.ignore_patterns("checkpoints", "adapter"))
        cfg = yaml.safe_load((run / "config.yaml").read_text())
        if drop:
            cfg.pop("prompt_version")
        (run / "config.yaml").write_text(yaml.safe_dump(cfg))
        with caplog.at_level(logging.WARNING, logger="medletter"):
            make_backend("openai", run, endpoint="http://127.0.0.1:9")
    assert not [r for r in caplog.records if "prompt version" in r.getMessage()], "no field, or the same version: no warning"
