#!/usr/bin/env bash
# The reference's Python environment (.cache/venv-ref): torch 2.13.0 (the CPU build on the local disk;
# a bare `torch` would pull a CUDA build of several GB), then the pinned requirements.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=.cache/venv-ref
if [ ! -x "$VENV/bin/python" ]; then python3 -m venv "$VENV"; fi
"$VENV/bin/pip" install -q --disable-pip-version-check torch==2.13.0 2>&1 | grep -v "^WARNING: Location" || true
"$VENV/bin/pip" install -q --disable-pip-version-check -r scripts/reference/requirements.txt 2>&1 | grep -v "^WARNING: Location" || true
"$VENV/bin/python" -c "import torch, transformers, tokenizers; assert torch.__version__.startswith('2.13.0'), torch.__version__"
