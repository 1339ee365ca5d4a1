#!/usr/bin/env bash
# The bundled models' atlases (docs/ATLAS.md): `npm run atlas:build` writes public/models/<model>/atlas/ from known
# facts of each model's test split: 40 for demo-causal, 12 for demo-masked (a masked model's attributions re-run every
# position, about 2-4 min a fact here). Resumable: run it again after a stop. ATLAS_MODELS picks the models;
# ATLAS_FACTS overrides both counts (a folder built with other facts is resumed with its own facts).
set -euo pipefail
cd "$(dirname "$0")/.."
facts() { case "$1" in demo-masked) echo 12 ;; *) echo 40 ;; esac; }
for m in ${ATLAS_MODELS:-demo-causal demo-masked}; do
  nice -n 10 npm run -s kn -- atlas build --model "bundled:$m" --split test --facts "${ATLAS_FACTS:-$(facts "$m")}" --jobs 1 --out "public/models/$m/atlas" --json
done
