"""llama.cpp's build for this CPU (tools/llama-cpu.sh) and the guard that refuses a build the CPU cannot run
(a venv moved to another machine would otherwise die with SIGILL at its first draft)."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest

from medletter.generate import backends
from medletter.models import cpu_flags

ROOT = Path(__file__).resolve().parents[1]


def _llama_cpu(what: str) -> str:
    return subprocess.run(["bash", str(ROOT / "tools" / "llama-cpu.sh"), what], check=True, capture_output=True,
                          text=True).stdout.strip()


@pytest.mark.skipif(not cpu_flags(), reason="no /proc/cpuinfo flags")
def test_the_build_chosen_here_uses_only_what_this_cpu_has(tmp_path):
    tag, cmake, needs = _llama_cpu("tag"), _llama_cpu("cmake").split(), _llama_cpu("needs").split()
    assert tag in ("avx512", "avx2")
    assert set(needs) <= cpu_flags()
    assert "-DGGML_NATIVE=OFF" in cmake
    assert ("-DGGML_AVX512=ON" in cmake) == (tag == "avx512") == ("avx512f" in needs)
    # the guard agrees: a build recorded with exactly these needs runs on this CPU
    marker = tmp_path / "llama-cpp-cpu.txt"
    marker.write_text(" ".join(needs) + "\n")
    assert backends.llamacpp_cpu_problem(marker=marker) == ""


def test_a_build_for_missing_extensions_is_refused_with_the_reason(tmp_path):
    marker = tmp_path / "llama-cpp-cpu.txt"
    marker.write_text("avx avx2 fma f16c avx512f avx512_vnni\n")
    why = backends.llamacpp_cpu_problem(marker=marker, flags={"avx", "avx2", "fma", "f16c", "sse4_2"})
    assert "avx512f, avx512_vnni" in why and "make llama" in why
    assert backends.llamacpp_cpu_problem(marker=marker, flags={"avx", "avx2", "fma", "f16c", "avx512f", "avx512_vnni"}) == ""
    assert backends.llamacpp_cpu_problem(marker=tmp_path / "none.txt", flags={"avx"}) == ""  # nothing recorded


@pytest.fixture
def cpu_without_avx2(monkeypatch):
    marker = Path(sys.prefix) / "llama-cpp-cpu.txt"
    if not marker.is_file():
        pytest.skip("llama-cpp-python was not built by make env (no .venv/llama-cpp-cpu.txt)")
    import medletter.models

    monkeypatch.setattr(medletter.models, "cpu_flags", lambda: {"sse2", "sse4_2", "avx"})
    monkeypatch.setattr(backends, "_said", set())
    return marker


def test_a_cpu_that_cannot_run_the_build_drafts_on_hf_and_says_why_once(cpu_without_avx2, memorising_run, caplog):
    ok, why = backends.llamacpp_available()
    assert not ok and "avx2" in why and "make llama" in why
    with pytest.raises(RuntimeError, match="make llama"):
        backends.make_backend("llamacpp", memorising_run, fallback=False)
    with caplog.at_level(logging.WARNING, logger=backends.log.name):
        b1 = backends.make_backend("llamacpp", memorising_run)
        b2 = backends.make_backend("llamacpp", memorising_run)
    assert b1.name == b2.name == "hf"
    assert sum("which this CPU lacks" in r.getMessage() for r in caplog.records) == 1


def test_export_refuses_to_quantise_with_a_build_the_cpu_cannot_run(cpu_without_avx2, tmp_path):
    from medletter.export import ExportError, quantize

    with pytest.raises(ExportError, match="make llama"):
        quantize(tmp_path / "model-f16.gguf", tmp_path / "model-q8_0.gguf", "q8_0")
    assert not list(tmp_path.iterdir())  # nothing written
