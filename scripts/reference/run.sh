#!/usr/bin/env bash
# `npm run reference`: regenerate every reference fixture with transformers (models, then tokenizers).
#   bash scripts/reference/run.sh [models|tokenizers] [family…]
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/reference/setup.sh
. scripts/reference/env.sh
what=${1:-all}; shift || true
if [ "$what" = all ] || [ "$what" = models ]; then "$PY" scripts/reference/models.py "$@"; fi
if [ "$what" = all ] || [ "$what" = tokenizers ]; then "$PY" scripts/reference/tokenizer_parity.py; fi
