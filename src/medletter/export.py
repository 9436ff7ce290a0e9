"""Export a training run for other engines: a merged Hugging Face folder, a GGUF file, or a GGUF LoRA.

    medletter export --run runs/NAME --format hf|gguf|gguf-lora [--quant f16|q8_0|q4_k_m] [--out DIR]

The adapter is merged into de-quantised full-precision weights (for a QLoRA run: the NF4-rounded base it
was trained against, de-quantised; never into NF4 itself; see ``models.load_for_inference``). GGUF files
are made by llama.cpp's own converter (``convert_hf_to_gguf.py``, ``convert_lora_to_gguf.py``) and
quantiser (``llama_model_quantize`` through llama-cpp-python). The converter is taken from the very
source distribution of llama-cpp-python that ``make`` builds (``.venv/src/llama_cpp_python-VERSION.tar.gz``),
so converter and runtime come from one llama.cpp commit; it is unpacked once into the cache.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

log = logging.getLogger(__name__)

LLAMA_CPP_PYTHON = "0.3.36"
"""The llama-cpp-python release the Makefile builds (its sdist carries llama.cpp's converter)."""
FORMATS = ("hf", "gguf", "gguf-lora")
QUANTS = ("f16", "q8_0", "q4_k_m")
_FTYPE = {"q8_0": 7, "q4_k_m": 15}  # llama.cpp's LLAMA_FTYPE_MOSTLY_Q8_0 / _Q4_K_M
_CONVERTER_PARTS = ("convert_hf_to_gguf.py", "convert_lora_to_gguf.py", "conversion/", "gguf-py/")


class ExportError(RuntimeError):
    pass


# ---------------------------------------------------------------- llama.cpp's converter


def _sdist() -> Path | None:
    env = os.environ.get("MEDLETTER_LLAMA_CPP_SDIST")
    if env:
        return Path(env)
    for d in (Path(sys.prefix) / "src", Path(__file__).resolve().parents[2] / ".venv" / "src"):
        hits = sorted(d.glob(f"llama_cpp_python-{LLAMA_CPP_PYTHON}.tar.gz")) or sorted(d.glob("llama_cpp_python-*.tar.gz"))
        if hits:
            return hits[-1]
    return None


def converter_dir() -> Path:
    """A folder with llama.cpp's ``convert_hf_to_gguf.py`` (and ``conversion/``, ``gguf-py/``):
    ``$MEDLETTER_LLAMA_CPP_DIR`` (a llama.cpp checkout), else unpacked once from the sdist into the cache."""
    env = os.environ.get("MEDLETTER_LLAMA_CPP_DIR")
    if env:
        d = Path(env)
        if not (d / "convert_hf_to_gguf.py").is_file():
            raise ExportError(f"MEDLETTER_LLAMA_CPP_DIR={d}: no convert_hf_to_gguf.py there")
        return d
    from medletter.models import cache_dir

    sd = _sdist()
    name = sd.name.removesuffix(".tar.gz") if sd else f"llama_cpp_python-{LLAMA_CPP_PYTHON}"
    target = cache_dir() / "llama.cpp" / name
    if (target / "convert_hf_to_gguf.py").is_file():
        return target
    if sd is None or not sd.is_file():
        raise ExportError("llama.cpp's converter is not here: `make env` downloads llama-cpp-python's source "
                          f"distribution into .venv/src (or set MEDLETTER_LLAMA_CPP_SDIST to llama_cpp_python-"
                          f"{LLAMA_CPP_PYTHON}.tar.gz, or MEDLETTER_LLAMA_CPP_DIR to a llama.cpp checkout)")
    tmp = target.with_name(target.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    prefix = f"{name}/vendor/llama.cpp/"
    with tarfile.open(sd) as tf:
        members = [m for m in tf.getmembers() if m.name.startswith(prefix)
                   and any(m.name[len(prefix):] == p or (p.endswith("/") and m.name[len(prefix):].startswith(p))
                           for p in _CONVERTER_PARTS) and (m.isfile() or m.isdir())]
        if not members:
            raise ExportError(f"{sd}: no vendor/llama.cpp/convert_hf_to_gguf.py inside")
        for m in members:
            m.name = m.name[len(prefix):]
        tf.extractall(tmp, members=members, filter="data")
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        shutil.rmtree(tmp)
    else:
        os.replace(tmp, target)
    return target


_DRIVER = r'''
import json, runpy, sys
from pathlib import Path

tools, script, args = Path(sys.argv[1]), sys.argv[2], sys.argv[3:]
sys.path.insert(0, str(tools))
import conversion.base as base

LLAMA3_SPLIT = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
_orig = base.TextModel.get_vocab_base_pre

def _by_structure(dir_model):
    """The pre-tokeniser llama.cpp needs, read from tokenizer.json's structure (a tokenizer trained here
    has no known hash): GPT-2's byte-level regex, or Llama-3's split regex before a byte-level step."""
    f = Path(dir_model) / "tokenizer.json"
    if not f.is_file():
        return None
    pre = json.loads(f.read_text(encoding="utf-8")).get("pre_tokenizer") or {}
    steps = pre.get("pretokenizers", []) if pre.get("type") == "Sequence" else [pre]
    kinds = [s.get("type") for s in steps]
    if kinds == ["ByteLevel"] and steps[0].get("use_regex", True):
        return "gpt-2"
    if kinds == ["Split", "ByteLevel"] and steps[0].get("pattern", {}).get("Regex") == LLAMA3_SPLIT \
            and not steps[1].get("use_regex", True):
        return "llama-bpe"
    return None

def _pre(self, tokenizer):
    try:
        return _orig(self, tokenizer)
    except NotImplementedError:
        res = _by_structure(self.dir_model)
        if res is None:
            raise
        print(f"medletter: pre-tokenizer {res!r} (from tokenizer.json's structure)", file=sys.stderr)
        return res

base.TextModel.get_vocab_base_pre = _pre
sys.argv = [script, *args]
runpy.run_path(str(tools / script), run_name="__main__")
'''


def _convert(script: str, args: list[str]) -> None:
    tools = converter_dir()
    cmd = [sys.executable, "-c", _DRIVER, str(tools), script, *args]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        tail = "\n".join((r.stderr or r.stdout).strip().splitlines()[-15:])
        raise ExportError(f"llama.cpp's {script} failed:\n{tail}")
    log.debug("%s: %s", script, r.stderr[-2000:])


def quantize(src: Path, dst: Path, quant: str, threads: int | None = None) -> Path:
    """Quantise a GGUF with llama.cpp's quantiser (through llama-cpp-python)."""
    import ctypes

    from medletter.generate.backends import llamacpp_available

    ok, why = llamacpp_available()
    if not ok:
        raise ExportError(why)
    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = _FTYPE[quant]
    params.nthread = threads or os.cpu_count() or 1
    tmp = dst.with_name(dst.name + ".part")
    rc = llama_cpp.llama_model_quantize(str(src).encode(), str(tmp).encode(), ctypes.byref(params))
    if rc != 0 or not tmp.is_file():
        tmp.unlink(missing_ok=True)
        raise ExportError(f"llama.cpp could not quantise {src.name} to {quant} (code {rc})")
    os.replace(tmp, dst)
    return dst


# ---------------------------------------------------------------- the three formats


def _run_cfg(run: Path) -> dict:
    from medletter.generate import run_config

    try:
        return run_config(run)
    except FileNotFoundError as e:
        raise ExportError(str(e)) from None


def export_hf(run: Path, out: Path) -> Path:
    """The merged model (adapter merged into de-quantised weights) and the run's tokenizer, chat template
    and stop tokens, as a Hugging Face folder ``out``."""
    from medletter.dataset import stop_token_ids
    from medletter.generate import load_run

    model, tok, cfg = load_run(run, dtype="fp32")
    tmp = out.with_name(out.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp, safe_serialization=True)
    tok.padding_side = "right"
    tok.save_pretrained(tmp)
    from medletter.models import resolve_model, spm_tokenizer_file

    spm = spm_tokenizer_file(resolve_model(cfg["model"]))
    if spm is not None and not (tmp / "tokenizer.model").exists():
        shutil.copyfile(spm, tmp / "tokenizer.model")  # llama.cpp's converter reads SentencePiece vocabularies from it
    gen = getattr(model, "generation_config", None)
    if gen is not None:
        gen.eos_token_id = stop_token_ids(tok)  # every end marker ends generation in other engines too
        gen.pad_token_id = tok.pad_token_id
        gen.save_pretrained(tmp)
    (tmp / "medletter.json").write_text(json.dumps({"run": str(run), "base": cfg.get("model"),
                                                    "quantization_trained": cfg.get("quantization"),
                                                    "stop_tokens": [tok.convert_ids_to_tokens(i) for i in stop_token_ids(tok)]},
                                                   indent=2), encoding="utf-8")
    if out.exists():
        shutil.rmtree(out)
    os.replace(tmp, out)
    return out


def export_gguf(run: Path, out_dir: Path, quant: str = "q8_0") -> Path:
    """``out_dir/model-QUANT.gguf``: the merged model converted by llama.cpp (f16), then quantised."""
    if quant not in QUANTS:
        raise ExportError(f"--quant must be one of {', '.join(QUANTS)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    f16 = out_dir / "model-f16.gguf"
    if not f16.is_file():
        hf = out_dir / "hf"
        if not (hf / "config.json").is_file():
            export_hf(run, hf)
        part = f16.with_name(f16.name + ".part")
        _convert("convert_hf_to_gguf.py", [str(hf), "--outfile", str(part), "--outtype", "f16"])
        os.replace(part, f16)
    if quant == "f16":
        return f16
    return quantize(f16, out_dir / f"model-{quant}.gguf", quant)


def export_gguf_lora(run: Path, out_dir: Path) -> Path:
    """``out_dir/adapter-f16.gguf``: the adapter alone, for one shared base GGUF (llama.cpp ``--lora``).

    The base GGUF it goes with is the run's base model converted as it is; a QLoRA adapter was trained
    against the NF4-rounded base, so on a full-precision base it is close to, not the same as, the merged
    export (use ``--format gguf`` where the exact model matters)."""
    from medletter.models import resolve_model

    cfg = _run_cfg(run)
    adapter = Path(run) / "adapter"
    if not (adapter / "adapter_config.json").is_file():
        raise ExportError(f"{run}: no adapter/ (training did not finish?)")
    out_dir.mkdir(parents=True, exist_ok=True)
    dst = out_dir / "adapter-f16.gguf"
    part = dst.with_name(dst.name + ".part")
    _convert("convert_lora_to_gguf.py", [str(adapter), "--base", str(resolve_model(cfg["model"])), "--outfile", str(part),
                                         "--outtype", "f16"])
    os.replace(part, dst)
    return dst


def department(run: Path) -> str:
    """The name a run is served and asked for under: its ``department`` (config), else the folder's name."""
    return str(_run_cfg(Path(run)).get("department") or Path(run).name)


def base_gguf(run: Path, quant: str = "q8_0") -> Path:
    """``runs/NAME/export/base-QUANT.gguf``: the run's base model as it is (no adapter), converted by llama.cpp
    and quantised: the one base that several departments' GGUF LoRA adapters share. Made on first use."""
    from medletter.models import resolve_model

    if quant not in QUANTS:
        raise ExportError(f"--quant must be one of {', '.join(QUANTS)}")
    out_dir = Path(run) / "export"
    dst = out_dir / f"base-{quant}.gguf"
    if dst.is_file():
        return dst
    out_dir.mkdir(parents=True, exist_ok=True)
    f16 = out_dir / "base-f16.gguf"
    if not f16.is_file():
        part = f16.with_name(f16.name + ".part")
        _convert("convert_hf_to_gguf.py", [str(resolve_model(_run_cfg(Path(run))["model"])), "--outfile", str(part), "--outtype", "f16"])
        os.replace(part, f16)
    return f16 if quant == "f16" else quantize(f16, dst, quant)


def shared_base_config(runs: list[Path], quant: str = "q8_0", n_ctx: int = 4096, threads: int | None = None) -> dict:
    """llama-cpp-python server settings (its ``--config_file``) for several departments' runs on one base: one
    model entry per run, each the shared base GGUF with the run's adapter as a GGUF LoRA, named by
    :func:`department`. The runs must share their base model; each adapter is converted on first use
    (``runs/NAME/export/adapter-f16.gguf``)."""
    from medletter.models import resolve_model

    runs = [Path(r) for r in runs]
    bases = {str(resolve_model(_run_cfg(r)["model"])) for r in runs}
    if len(bases) != 1:
        raise ExportError("the runs were trained on different base models (" + ", ".join(sorted(bases)) + "); one server shares one base")
    names = [department(r) for r in runs]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ExportError(f"two runs have the department name {dup[0]!r}; set `department` in one (medletter train --set department=…)")
    base = base_gguf(runs[0], quant)
    models = []
    for r, name in zip(runs, names):
        lora = r / "export" / "adapter-f16.gguf"
        if not lora.is_file():
            export_gguf_lora(r, r / "export")
        models.append({"model": str(base), "model_alias": name, "lora_path": str(lora), "n_ctx": n_ctx,
                       "n_threads": threads or os.cpu_count() or 1})
    return {"models": models}


def export(run: Path, fmt: str, quant: str = "q8_0", out: Path | None = None) -> Path:
    run = Path(run)
    _run_cfg(run)
    out = Path(out) if out else run / "export"
    if fmt == "hf":
        return export_hf(run, out / "hf" if out == run / "export" else out)
    if fmt == "gguf":
        return export_gguf(run, out, quant)
    if fmt == "gguf-lora":
        return export_gguf_lora(run, out)
    raise ExportError(f"--format must be one of {', '.join(FORMATS)}")


def run_gguf(run: Path, quant: str = "q8_0") -> Path:
    """The run's GGUF of ``quant``, made on first use (``runs/NAME/export/model-QUANT.gguf``)."""
    path = Path(run) / "export" / f"model-{quant}.gguf"
    if path.is_file():
        return path
    log.info("no %s yet: exporting the run to GGUF %s once", path, quant)
    return export_gguf(Path(run), Path(run) / "export", quant)
