"""Drafting speed: the same test cases with the fine-tuned demo model on every engine, in one run.

    python benchmarks/bench_generate.py [--run runs/demo] [--n 12] [--max-new-tokens 160]
    python benchmarks/bench_generate.py --gpu          # on a CUDA machine: Llama-3-8B architecture, hf backend

Configurations (each in its own process, so peak RSS is its own):
  hf-adapter   transformers, LoRA adapter not merged (PEFT forward)
  hf-merged    transformers, adapter merged (what `--backend hf` uses)
  llamacpp-f16 / -q8_0 / -q4_k_m   the run's GGUF exports through llama-cpp-python (`--backend llamacpp`)

For each: tokens/s drafting one letter at a time, tokens/s drafting the whole set (hf: one batch of n;
llama.cpp: n parallel sequences of one context, as `--backend llamacpp` drafts a set), time to first
token (one letter at a time, median), peak RSS. Every letter runs to exactly --max-new-tokens (end
markers ignored; in the parallel set they are honoured, but the demo's letters are all longer than
the default 160 tokens), so all engines do the same work.
`--llama-builds avx2,avx512` runs each llamacpp config once per llama.cpp CPU build (tools/llama-cpu.sh; the
wheels `make` keeps in ~/.cache/medletter/wheels, built there first with --build-missing, about 7 minutes
each) and prints each build's ratio against the first one.
Ratios are printed against hf-merged measured in the same run. Goal: llama.cpp q8_0 >= 3x hf-merged
for one letter at a time.

Without --run (or when it does not exist) a short demo run is trained first (6 steps: speed does not
depend on how well it learned).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ("hf-adapter", "hf-merged", "llamacpp-f16", "llamacpp-q8_0", "llamacpp-q4_k_m")


def _records(run: Path, n: int):
    from medletter.jsonl import load_records
    from medletter.records import Record

    recs = load_records(run / "data" / "test.jsonl")
    if len(recs) < n:
        raise SystemExit(f"{run}: {len(recs)} test cases, --n {n}")
    return [Record(case=r.case) for r in recs[:n]]


def _hf_one_config(run: Path, merged: bool, n: int, max_new: int, batch_all: bool) -> dict:
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList

    from medletter.dataset import encode_prompt, prompt_text
    from medletter.generate import run_config, run_tokenizer_dir
    from medletter.models import load_for_inference, load_tokenizer, resolve_model

    cfg = run_config(run)
    tok = load_tokenizer(run_tokenizer_dir(run, cfg))
    tok.padding_side = "left"
    model = load_for_inference(resolve_model(cfg["model"]), run / "adapter", merge=merged,
                               trained_on=cfg.get("quantization", "none"))
    style, lang = cfg.get("style") or "kreisklinikum", cfg.get("lang") or "de"
    prompts = [encode_prompt(tok, prompt_text(tok, r.case, style, lang)) for r in _records(run, n)]
    device = next(model.parameters()).device

    class First(StoppingCriteria):
        def __init__(self):
            self.t = None

        def __call__(self, input_ids, scores, **kw):
            if self.t is None:
                self.t = time.perf_counter()
            return torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)

    def gen(batch: list[list[int]]) -> tuple[float, float, int]:
        m = max(map(len, batch))
        ids = torch.full((len(batch), m), tok.pad_token_id, dtype=torch.long)
        att = torch.zeros_like(ids)
        for i, p in enumerate(batch):
            ids[i, m - len(p):] = torch.tensor(p)
            att[i, m - len(p):] = 1
        first = First()
        t0 = time.perf_counter()
        with torch.inference_mode():
            out = model.generate(input_ids=ids.to(device), attention_mask=att.to(device), max_new_tokens=max_new,
                                 min_new_tokens=max_new, do_sample=False, temperature=None, top_p=None, top_k=None,
                                 pad_token_id=tok.pad_token_id, stopping_criteria=StoppingCriteriaList([first]))
        if device.type == "cuda":
            torch.cuda.synchronize()
        dt = time.perf_counter() - t0
        return dt, (first.t or t0) - t0, (out.shape[1] - m) * len(batch)

    gen(prompts[:1])  # warm-up
    one_t, ttft, one_tok = 0.0, [], 0
    for p in prompts:
        dt, first, k = gen([p])
        one_t += dt
        ttft.append(first)
        one_tok += k
    res = {"one_tokens_per_s": one_tok / one_t, "ttft_s": statistics.median(ttft)}
    if batch_all:
        dt, _, k = gen(prompts)
        res["batch_tokens_per_s"] = k / dt
        res["batch_size"] = len(prompts)
    return res


def _llamacpp_one_config(run: Path, quant: str, n: int, max_new: int) -> dict:
    from medletter.dataset import encode_prompt, prompt_text
    from medletter.export import run_gguf
    from medletter.generate.backends import LlamaCppBackend
    from medletter.generate.settings import GenSettings
    from medletter.generate import run_config, run_tokenizer_dir
    from medletter.models import load_tokenizer

    cfg = run_config(run)
    tok = load_tokenizer(run_tokenizer_dir(run, cfg))
    style, lang = cfg.get("style") or "kreisklinikum", cfg.get("lang") or "de"
    records = _records(run, n)
    prompts = [encode_prompt(tok, prompt_text(tok, r.case, style, lang)) for r in records]
    be = LlamaCppBackend(run_gguf(run, quant), tok, style, lang, "finetuned", GenSettings(max_new_tokens=max_new, batch_size=n))
    llm = be.llm

    def gen(p: list[int]) -> tuple[float, float, int]:
        k, first = 0, None
        t0 = time.perf_counter()
        for _tok in llm.generate(p, temp=0.0, top_k=1, top_p=1.0, repeat_penalty=1.0, reset=True):
            if first is None:
                first = time.perf_counter()
            k += 1  # end markers are not honoured here: every letter gets max_new tokens
            if k >= max_new:
                break
        return time.perf_counter() - t0, first - t0, k

    gen(prompts[0])
    total_t, ttft, total_k = 0.0, [], 0
    for p in prompts:
        dt, first, k = gen(p)
        total_t += dt
        ttft.append(first)
        total_k += k
    tps = total_k / total_t
    # the whole set as parallel sequences of one context, as the backend drafts a set (greedy; a letter ending
    # before max_new frees its slot, so the count is of the tokens actually drafted)
    t0 = time.perf_counter()
    drafts = be._draft_parallel(records)
    batch_tps = sum(d.new_tokens for d in drafts) / (time.perf_counter() - t0)
    be.close()
    return {"one_tokens_per_s": tps, "ttft_s": statistics.median(ttft), "batch_tokens_per_s": batch_tps, "batch_size": len(records)}


def _llama_build(tag: str, build_missing: bool) -> Path:
    """llama-cpp-python built for ``tag`` (tools/llama-cpu.sh), unpacked into a folder to put first on
    PYTHONPATH: the wheel `make` keeps in ~/.cache/medletter/wheels (`make llama-wheel LLAMA_CPU=tag` builds it)."""
    import zipfile
    from importlib.metadata import version

    v = version("llama_cpp_python")
    wheels = Path.home() / ".cache" / "medletter" / "wheels" / f"llama-cpp-python-{v}-{tag}"
    found = sorted(wheels.glob("llama_cpp_python-*.whl"))
    if not found:
        if not build_missing:
            raise SystemExit(f"no {tag} build of llama-cpp-python {v} in {wheels}: --build-missing builds it (about 7 minutes)")
        subprocess.run(["make", "-C", str(ROOT), "--no-print-directory", "llama-wheel", f"LLAMA_CPU={tag}"], check=True)
        found = sorted(wheels.glob("llama_cpp_python-*.whl"))
    out = Path(tempfile.mkdtemp(prefix=f"llama-{tag}-"))
    with zipfile.ZipFile(found[-1]) as z:
        z.extractall(out)
    return out


def one(name: str, run: Path, n: int, max_new: int) -> dict:
    if name == "hf-adapter":
        r = _hf_one_config(run, False, n, max_new, batch_all=True)
    elif name == "hf-merged":
        r = _hf_one_config(run, True, n, max_new, batch_all=True)
    else:
        r = _llamacpp_one_config(run, name.split("@")[0].split("-", 1)[1], n, max_new)
        import llama_cpp

        r["llama_cpp"] = str(Path(llama_cpp.__file__).parent)
    r["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return r


def _ensure_run(run: Path | None, n: int) -> Path:
    if run is not None and (run / "adapter" / "adapter_config.json").is_file():
        return run
    out = Path(tempfile.mkdtemp(prefix="bench-generate-")) / "run"
    print(f"no trained run given: a short demo run into {out} (6 steps)", flush=True)
    subprocess.run([sys.executable, "-m", "medletter.cli", "demo", "--out", str(out), "--max-steps", "6", "--n-train", "20",
                    "--n-test", str(n), "--backend", "hf"], check=True, stdout=subprocess.DEVNULL)
    return out


def _gpu(args) -> None:
    """hf backend on a CUDA card: Llama-3-8B architecture (random weights, bf16), a rank-16 LoRA on all
    linear layers, unmerged vs merged; one letter at a time vs a batch of 12."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import LlamaConfig, LlamaForCausalLM

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from gpu_smoke import LLAMA3_8B

    assert torch.cuda.is_available(), "no CUDA device"
    torch.manual_seed(0)
    with torch.device("cuda"):
        model = LlamaForCausalLM(LlamaConfig(**LLAMA3_8B)).to(torch.bfloat16)
    model = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, target_modules="all-linear", task_type="CAUSAL_LM"))
    model.eval()
    prompt_len, n, max_new = 700, 12, args.max_new_tokens

    def gen(m, bs):
        ids = torch.randint(1000, 100000, (bs, prompt_len), device="cuda")
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        with torch.inference_mode():
            out = m.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=max_new,
                             min_new_tokens=max_new, do_sample=False, pad_token_id=0)
        torch.cuda.synchronize()
        return (out.shape[1] - prompt_len) * bs / (time.perf_counter() - t0)

    rows = {}
    for name, m in (("hf-adapter", model), ("hf-merged", None)):
        if m is None:
            m = model.merge_and_unload()
        gen(m, 1)
        one_tps = statistics.median([gen(m, 1) for _ in range(3)])
        rows[name] = {"one_tokens_per_s": one_tps, "batch_tokens_per_s": gen(m, n), "batch_size": n,
                      "peak_gpu_gib": torch.cuda.max_memory_allocated() / 2**30}
    dev = torch.cuda.get_device_name(0)
    base = rows["hf-merged"]
    for name, r in rows.items():
        print(json.dumps({"device": dev, "config": name, "prompt_tokens": prompt_len, "new_tokens": max_new,
                          **{k: round(v, 2) if isinstance(v, float) else v for k, v in r.items()},
                          "one_ratio_vs_merged": round(r["one_tokens_per_s"] / base["one_tokens_per_s"], 2)}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", type=Path, default=ROOT / "runs" / "demo")
    ap.add_argument("--n", type=int, default=12)
    ap.add_argument("--max-new-tokens", type=int, default=160)
    ap.add_argument("--configs", default=",".join(CONFIGS))
    ap.add_argument("--llama-builds", help="comma-separated llama.cpp CPU builds (avx2, avx512) to compare")
    ap.add_argument("--build-missing", action="store_true", help="build a --llama-builds wheel that is not kept yet")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    ap.add_argument("--gpu", action="store_true", help="the hf backend on a CUDA card (Llama-3-8B architecture)")
    args = ap.parse_args()
    if args.gpu:
        return _gpu(args)
    if args.one:
        print(json.dumps(one(args.one, args.run, args.n, args.max_new_tokens)))
        return
    run = _ensure_run(args.run, args.n)
    configs, env = args.configs.split(","), {}
    if args.llama_builds:
        builds = args.llama_builds.split(",")
        paths = {b: _llama_build(b, args.build_missing) for b in builds}
        configs = [c for c in configs if not c.startswith("llamacpp")] + [
            f"{c}@{b}" for c in configs if c.startswith("llamacpp") for b in builds]
        env = {c: {"PYTHONPATH": os.pathsep.join([str(paths[c.split("@")[1]]), os.environ.get("PYTHONPATH", "")])}
               for c in configs if "@" in c}
    rows = {}
    for name in configs:
        t0 = time.perf_counter()
        r = subprocess.run([sys.executable, __file__, "--one", name, "--run", str(run), "--n", str(args.n),
                            "--max-new-tokens", str(args.max_new_tokens)], capture_output=True, text=True,
                           env={**os.environ, **env.get(name, {})})
        if r.returncode != 0:
            print(f"{name}: failed\n{r.stderr[-1500:]}", file=sys.stderr)
            continue
        rows[name] = json.loads(r.stdout.strip().splitlines()[-1])
        if "@" in name and not rows[name]["llama_cpp"].startswith(env[name]["PYTHONPATH"].split(os.pathsep)[0]):
            raise SystemExit(f"{name} ran on {rows[name]['llama_cpp']}, not on the {name.split('@')[1]} build")
        print(f"{name}: done in {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    base = rows.get("hf-merged")
    print(f"\n{args.n} test cases of {run}, {args.max_new_tokens} new tokens each, {os.cpu_count()} CPU threads")
    print(f"{'config':16} {'one tok/s':>10} {'x merged':>9} {'set tok/s':>10} {'x merged':>9} {'TTFT s':>8} {'peak RSS MiB':>13}")
    for name, r in rows.items():
        x1 = r["one_tokens_per_s"] / base["one_tokens_per_s"] if base else float("nan")
        xb = r["batch_tokens_per_s"] / base["batch_tokens_per_s"] if base else float("nan")
        print(f"{name:16} {r['one_tokens_per_s']:10.1f} {x1:9.2f} {r['batch_tokens_per_s']:10.1f} {xb:9.2f} "
              f"{r['ttft_s']:8.2f} {r['peak_rss_mib']:13.0f}")
    if args.llama_builds:
        first = builds[0]
        for name, r in rows.items():
            if "@" in name and not name.endswith("@" + first):
                ref = rows.get(name.split("@")[0] + "@" + first)
                if ref:
                    print(f"{name} vs {first}: one letter {r['one_tokens_per_s'] / ref['one_tokens_per_s']:.2f}x, "
                          f"the set {r['batch_tokens_per_s'] / ref['batch_tokens_per_s']:.2f}x")
    for name in [k for k in rows if k.split("@")[0] == "llamacpp-q8_0"] if base else []:
        x = rows[name]["one_tokens_per_s"] / base["one_tokens_per_s"]
        print(f"goal llama.cpp q8_0 >= 3x hf-merged, one letter at a time ({name}): {x:.2f}x -> {'met' if x >= 3 else 'NOT met'}")
    print(json.dumps({"n": args.n, "max_new_tokens": args.max_new_tokens, "rows": rows}))


if __name__ == "__main__":
    main()
