#!/usr/bin/env bash
# llama.cpp's CPU build for this machine: `tools/llama-cpu.sh tag|cmake|needs [TAG]`.
#   tag    avx512 (AVX-512 with VBMI and VNNI: Ice Lake, Zen 4 and later) or avx2
#   cmake  the CMAKE_ARGS that build it
#   needs  the /proc/cpuinfo flags the build's code uses: medletter refuses to load a build whose flags
#          the CPU lacks (a venv moved to another machine) instead of dying with SIGILL
#   TAG    another build than this CPU's best (benchmarks/bench_generate.py --llama-builds compares them)
# Never -march=native (GGML_NATIVE): the compiler's guess at a VM's CPU has produced builds that die with
# SIGILL here. The AVX-512 build drafts the demo's parallel letters 1.09-1.17x as fast as the AVX2 one
# (benchmarks/RESULTS.md, 2026-11-29).
set -euo pipefail
have=" $(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null | cut -d: -f2 || true) "
avx2="avx avx2 fma f16c"
avx512="$avx2 bmi2 avx512f avx512cd avx512vl avx512dq avx512bw avx512vbmi avx512_vnni"
has_all() { for f in $1; do [[ $have == *" $f "* ]] || return 1; done; }
base="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
tag=${2:-}
if [[ -z $tag ]]; then has_all "$avx512" && tag=avx512 || tag=avx2; fi
case "$tag" in
  avx512) needs=$avx512 cmake="$base -DGGML_BMI2=ON -DGGML_AVX512=ON -DGGML_AVX512_VBMI=ON -DGGML_AVX512_VNNI=ON" ;;
  avx2) needs=$avx2 cmake=$base ;;
  *) echo "unknown build $tag: avx512 or avx2" >&2; exit 2 ;;
esac
case "${1:-tag}" in
  tag) echo "$tag" ;;
  cmake) echo "$cmake" ;;
  needs) echo "$needs" ;;
  *) echo "usage: $0 tag|cmake|needs [avx512|avx2]" >&2; exit 2 ;;
esac
