#!/usr/bin/env bash
# The bundled models' atlases (docs/ATLAS.md): `npm run atlas:build` writes public/models/<model>/atlas/ for
# demo-causal and demo-masked from 40 known facts of each model's test split (resumable: run it again after a stop).
# ATLAS_FACTS / ATLAS_MODELS override the fact count and the models.
set -euo pipefail
cd "$(dirname "$0")/.."
FACTS="${ATLAS_FACTS:-40}"
for m in ${ATLAS_MODELS:-demo-causal demo-masked}; do
  nice -n 10 npm run -s kn -- atlas build --model "bundled:$m" --split test --facts "$FACTS" --jobs 1 --out "public/models/$m/atlas" --json
done
