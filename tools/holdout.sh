#!/usr/bin/env bash
# A second, larger test set for a trained run: N more synthetic cases of the run's own style and language
# (another seed than the demo's corpus), drafted with the run's model as the demo drafts its test letters
# (llama.cpp q8_0, all in parallel, the same longest letter) and scored like them. On the demo's 24 test letters
# one or two facts can decide the quality bar; these 96 say whether a change of recipe helped
# (benchmarks/RESULTS.md, 2026-11-29).
#
#   make holdout RUN=runs/demo             # or: bash tools/holdout.sh RUN [N] [SEED] [BACKEND]
#   -> RUN/holdout/{cases.jsonl, letters.jsonl, eval.json, eval_letters.jsonl, report.html}
#      and the grounding A/B: letters_ungated.jsonl, grounding_ab.{json,html} (GROUNDING_AB=0 skips it)
set -euo pipefail
run=${1:?usage: tools/holdout.sh RUN [N] [SEED] [BACKEND]}
n=${2:-96}
seed=${3:-4242}
backend=${4:-llamacpp}
bin=${MEDLETTER:-.venv/bin/medletter}
py=${PYTHON:-.venv/bin/python}
if [[ ! -f $run/config.yaml ]]; then
  echo "holdout: $run is not a training run (no config.yaml); the demo's run is runs/demo" >&2
  exit 2
fi
# the run's style and language, and the longest letter as the demo sets it (the training letters' longest + 15%)
read -r style lang max_new < <("$py" - "$run" <<'PY'
import json, sys
from pathlib import Path

import yaml

from medletter.demo import draft_length
from medletter.generate.settings import GenSettings

run = Path(sys.argv[1])
c = yaml.safe_load((run / "config.yaml").read_text(encoding="utf-8"))
stats = run / "data_stats.json"
longest = draft_length(json.loads(stats.read_text())) if stats.is_file() else GenSettings.max_new_tokens
print(c.get("style") or "kreisklinikum", c.get("lang") or "de", longest)
PY
)
out=$run/holdout
mkdir -p "$out"
"$bin" synth --n "$n" --seed "$seed" --lang "$lang" --style "$style" --out "$out/cases.jsonl"
"$bin" generate --run "$run" --cases "$out/cases.jsonl" --out "$out/letters.jsonl" --backend "$backend" \
  --batch-size 24 --max-new-tokens "$max_new" --grounding on
systems=(--system "finetuned=$out/letters.jsonl")
if [[ ${GROUNDING_AB:-1} == 1 ]]; then
  # the same cases without grounded number decoding: what the gate changes (GROUNDING_AB=0 skips it)
  "$bin" generate --run "$run" --cases "$out/cases.jsonl" --out "$out/letters_ungated.jsonl" --backend "$backend" \
    --batch-size 24 --max-new-tokens "$max_new" --grounding off
  systems+=(--system "finetuned_ungated=$out/letters_ungated.jsonl")
fi
"$bin" evaluate --cases "$out/cases.jsonl" "${systems[@]}" --out-dir "$out" \
  --title "medletter: $n held-out cases (seed $seed) for $run"
if [[ ${GROUNDING_AB:-1} == 1 ]]; then
  "$py" -m medletter.evaluate.grounding_ab "$out/cases.jsonl" "$out/letters.jsonl" "$out/letters_ungated.jsonl" \
    --out "$out/grounding_ab.json" --html "$out/grounding_ab.html"
fi
