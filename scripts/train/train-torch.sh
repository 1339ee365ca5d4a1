#!/usr/bin/env bash
# PyTorch + transformers trainer for the demo models: dump (TypeScript) -> train (PyTorch) -> export (TypeScript).
#
#   bash scripts/train/train-torch.sh --model causal|masked [--tag T] [dump flags] [-- train_torch.py flags]
#
# Dump flags are train-demo.ts's recipe flags (--recipe, --pair-lines, --code-switch, --cjk-pair-lines, ...,
# --steps, --epochs, --fresh); they decide the data. Flags after `--` go to train_torch.py (--attn-layers,
# --label-smoothing, --l1, --layers, --hidden, --ffn, --heads, --steps, --max-minutes, --lr, --batch, --seed,
# --target-accuracy, --eval-every; masked: --mlm-transform, --direct-penalty, --direct-scope, --value-dims).
# Dump flag --subject-spans (masked) marks each query's subject tokens, for --direct-scope subject. --steps, when given to the dump, is also the trainer's default.
# Writes .cache/train-torch/<tag>/{data,hf,bundle}: data = the dump, hf = the HF folder (save_pretrained),
# bundle = our int8 bundle + split.json + eval.json (engine eval on the trained and held-out templates).
# Nothing is written to models/ or public/models/. Needs .cache/venv-ref (bash scripts/reference/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/reference/env.sh
MODEL=causal TAG= DUMP=() TRAIN=()
while [ $# -gt 0 ]; do
  case "$1" in
    --model) MODEL=$2; DUMP+=(--model "$2"); shift 2 ;;
    --tag) TAG=$2; shift 2 ;;
    --) shift; TRAIN=("$@"); break ;;
    *) DUMP+=("$1"); shift ;;
  esac
done
TAG=${TAG:-$MODEL}
ROOT=.cache/train-torch/$TAG
mkdir -p "$ROOT"
echo "== dump -> $ROOT/data"
npx tsx scripts/train/dump-data.ts --out "$ROOT/data" "${DUMP[@]}" 2>&1 | grep -v -e '^=*$' -e 'Hi, looks like' -e 'tfjs-node'
echo "== train -> $ROOT/hf"
"$PY" scripts/train/train_torch.py --data "$ROOT/data" --out "$ROOT/hf" "${TRAIN[@]}"
echo "== export -> $ROOT/bundle"
npx tsx scripts/train/export-hf.ts --hf "$ROOT/hf" --out "$ROOT/bundle"
