#!/usr/bin/env bash
# Regenerates docs/experiments/ for the bundled demo models with the project's default settings:
#   <model>/           the manipulation experiment on the model's test split (N facts never used to choose the
#                      recipe): report.md, CSV, SVG, summary.json, and meta.json + rows.ndjson + timing.ndjson,
#                      so `npm run -s kn -- experiment report docs/experiments/<model>` rebuilds the report
#   <model>-readings/  every Eq. 9 × Eq. 5 reading (and lowered UaQ/UaL std weights) on R dev-split facts
#   public/models/<model>/experiment.json   the headline numbers the page shows, and the fact it opens on
# Usage: bash scripts/experiment-docs.sh [demo-causal|demo-masked ...]   (N=100; R=20 causal, 10 masked by default)
# (docs/ was made this way; the masked test run as --shard 1/2 and 2/2 at once, merged: the same rows byte for byte)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-100}
MODELS=("$@")
[ ${#MODELS[@]} -gt 0 ] || MODELS=(demo-causal demo-masked)
for m in "${MODELS[@]}"; do
  out=runs/$m-test
  npm run -s kn -- experiment manipulate --model "bundled:$m" --facts "$N" --split test --out "$out"
  mkdir -p "docs/experiments/$m"
  npm run -s kn -- experiment report "$out" --out "docs/experiments/$m" --json > /dev/null
  cp "$out/meta.json" "$out/rows.ndjson" "$out/timing.ndjson" "docs/experiments/$m/"
  npm run -s headline -- "$out" "$m"
  rd=runs/$m-readings
  R=${R:-$([ "$m" = demo-masked ] && echo 10 || echo 20)}
  npm run -s kn -- experiment readings --model "bundled:$m" --facts "$R" --split dev --out "$rd"
  npm run -s kn -- experiment report "$rd" --out "docs/experiments/$m-readings" --json > /dev/null
  cp "$rd/meta.json" "docs/experiments/$m-readings/"
  unset R
done
