"""GPU smoke benchmark: medletter's QLoRA training code on the Llama-3-8B architecture.

Builds Meta-Llama-3-8B's architecture with random weights (no download: LlamaConfig with the
published sizes), saves it once as a local model folder, then runs >= 20 optimiser steps of
``medletter.train.train`` (NF4 + double quantisation, bf16 compute, LoRA on all linear layers,
gradient checkpointing) on 2,048-token examples, and prints tokens/s and peak GPU memory.

    python benchmarks/gpu_smoke.py                 # on a CUDA machine (needs bitsandbytes with CUDA)
    python benchmarks/gpu_smoke.py --tiny          # the same path on a tiny model, CPU, to check the script

The baseline in the same run is the same steps with ``--quantization none`` (bf16 LoRA) where
memory allows (``--baseline``); the ratio of the two is printed.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

LLAMA3_8B = dict(
    vocab_size=128256, hidden_size=4096, intermediate_size=14336, num_hidden_layers=32, num_attention_heads=32,
    num_key_value_heads=8, max_position_embeddings=8192, rope_theta=500000.0, rms_norm_eps=1e-5,
    bos_token_id=128000, eos_token_id=128001, tie_word_embeddings=False,
)
TINY = dict(LLAMA3_8B, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2)


def build_model_folder(folder: Path, sizes: dict, on_gpu: bool) -> None:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    prev = torch.get_default_dtype()
    torch.set_default_dtype(torch.bfloat16)
    try:
        with torch.device("cuda" if on_gpu else "cpu"):
            model = LlamaForCausalLM(LlamaConfig(**sizes))
    finally:
        torch.set_default_dtype(prev)
    model.save_pretrained(folder)
    del model
    if on_gpu:
        torch.cuda.empty_cache()


def run(folder: Path, quantization: str, steps: int, seq_len: int, work: Path, on_gpu: bool) -> dict:
    import torch

    from medletter.synth import generate_corpus
    from medletter.train import load_config, train
    from tiny_llama import build_tokenizer

    records = generate_corpus(steps + 4, seed=0, style="uniklinik")
    # letters written twice and a small BPE vocabulary make every example longer than seq_len:
    # each is cut to exactly seq_len tokens (the truncation policy keeps the prompt whole)
    records = [r.model_copy(update={"letter": r.letter.model_copy(update={"text": r.letter.text + "\n\n" + r.letter.text, "spans": []})})
               for r in records]
    build_tokenizer([r.letter.text for r in records], folder, vocab_size=300)
    cfg = load_config("llama3-8b-48gb", dict(
        model=str(folder), quantization=quantization, dtype="bf16" if on_gpu else "fp32", max_steps=steps, batch_size=1,
        gradient_accumulation_steps=1, max_length=seq_len, report_to=[], save_steps=10_000, eval_steps=0, warmup_steps=2,
        n_test=0, n_validation=0,
    ))
    if on_gpu:
        torch.cuda.reset_peak_memory_stats()
    out = work / f"run-{quantization}"
    t0 = time.perf_counter()
    summary = train(cfg, {"train": records[:steps], "validation": records[steps:steps + 2], "test": []}, out)
    wall = time.perf_counter() - t0
    stats = json.loads((out / "data_stats.json").read_text())["train"]
    if stats["truncated"] != stats["examples"]:
        raise SystemExit(f"only {stats['truncated']} of {stats['examples']} examples reached {seq_len} tokens")
    return {
        "quantization": quantization, "steps": summary["steps"], "tokens_per_example": seq_len, "tokens_per_s": summary["tokens_per_s"], "train_seconds": summary["seconds"],
        "wall_seconds_incl_load": round(wall, 1), "loss_first_last": [summary["first_loss"], summary["last_loss"]],
        "peak_gpu_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2) if on_gpu else None,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tiny", action="store_true", help="tiny model on the CPU (checks the script, no meaningful figures)")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--seq-len", type=int, default=2048)
    ap.add_argument("--baseline", action="store_true", help="also run bf16 LoRA without quantisation and print the ratio")
    ap.add_argument("--work", type=Path, default=None)
    args = ap.parse_args()

    import torch

    on_gpu = torch.cuda.is_available() and not args.tiny
    if not on_gpu and not args.tiny:
        sys.exit("no CUDA device: run with --tiny to check the script on the CPU")
    work = args.work or Path(tempfile.mkdtemp(prefix="medletter-gpu-smoke-"))
    folder = work / "llama3-8b-random"
    t0 = time.perf_counter()
    build_model_folder(folder, TINY if args.tiny else LLAMA3_8B, on_gpu)
    print(f"built random {'tiny' if args.tiny else 'Llama-3-8B'} weights in {time.perf_counter() - t0:.0f} s", flush=True)
    results = [run(folder, "nf4", args.steps, args.seq_len, work, on_gpu)]
    if args.baseline:
        results.append(run(folder, "none", args.steps, args.seq_len, work, on_gpu))
    device = torch.cuda.get_device_name(0) if on_gpu else "cpu (tiny model)"
    for r in results:
        print(json.dumps({"device": device, **r}))
    if len(results) == 2 and results[1]["tokens_per_s"]:
        q, b = results
        print(f"QLoRA / bf16-LoRA: tokens/s ratio {q['tokens_per_s'] / b['tokens_per_s']:.2f}"
              + (f", peak memory ratio {q['peak_gpu_gib'] / b['peak_gpu_gib']:.2f}" if on_gpu else ""))


if __name__ == "__main__":
    main()
