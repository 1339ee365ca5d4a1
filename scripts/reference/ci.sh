#!/usr/bin/env bash
# CI: regenerate one family's reference fixture with transformers into a temporary folder and fail if it
# differs from the committed one (a stale fixture fails CI). Numbers are compared within a relative 1e-8
# (scripts/reference/same.mjs): the last printed digit of a float64 result differs between CPUs.
#   bash scripts/reference/ci.sh [family]
set -euo pipefail
cd "$(dirname "$0")/../.."
FAM=${1:-gpt2}
bash scripts/reference/setup.sh
. scripts/reference/env.sh
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
"$PY" scripts/reference/models.py --out "$TMP" "$FAM"
if node scripts/reference/same.mjs "$TMP/$FAM" "tests/fixtures/reference/models/$FAM"; then
  echo "reference: the committed fixture of $FAM equals transformers' output"
else
  echo "reference: tests/fixtures/reference/models/$FAM is stale (run npm run reference)" >&2
  exit 1
fi
