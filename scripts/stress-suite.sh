#!/usr/bin/env bash
# Proof under load: clone main fresh, run the README's test command (`npm ci && npm test`) N times with a CPU
# load beside it, and print pass/fail, duration and load average per run.
#
#   bash scripts/stress-suite.sh [N]            N runs (default 3), one after another
#   STRESS_LOAD='stress-ng --cpu 2' bash scripts/stress-suite.sh 3
#
# The load (STRESS_LOAD, default `stress-ng --cpu 1 --cpu-method matrixprod`, Debian's stress-ng; without it
# a `sha256sum /dev/zero` per CPU asked for) runs for the whole of every run. Each run is a new `git clone` of
# the branch (STRESS_BRANCH, default main) of this checkout into a temporary folder, so nothing uncommitted
# and nothing left by an earlier run takes part; CI=1 as in CI. A run also fails when the suite leaves a
# tracked file modified (no test may write into the repository). Logs: $STRESS_OUT (default
# /tmp/kn-stress-<time>)/run-<i>.log (a failed run's test-results/ beside it); the table is also written to
# $STRESS_OUT/summary.txt.
set -uo pipefail
N="${1:-3}"
[[ "$N" =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [N]   (N: how many runs, a positive integer; got '$N')" >&2; exit 2; }
top="$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)" || exit 2
branch="${STRESS_BRANCH:-main}"
git -C "$top" rev-parse --verify -q "$branch" >/dev/null || { echo "no branch '$branch' in $top" >&2; exit 2; }
out="${STRESS_OUT:-/tmp/kn-stress-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$out"
load_cmd="${STRESS_LOAD:-}"
if [ -z "$load_cmd" ]; then
  if command -v stress-ng >/dev/null; then load_cmd="stress-ng --cpu 1 --cpu-method matrixprod --quiet"
  else load_cmd="sha256sum /dev/zero"; fi
fi

load_pid=""
start_load() { setsid bash -c "exec $load_cmd" >/dev/null 2>&1 & load_pid=$!; }
stop_load() { [ -n "$load_pid" ] && kill -- -"$load_pid" 2>/dev/null; wait "$load_pid" 2>/dev/null; load_pid=""; }
trap 'stop_load; [ -n "${sampler:-}" ] && kill "$sampler" 2>/dev/null' EXIT

commit="$(git -C "$top" rev-parse --short "$branch")"
summary="$out/summary.txt"
{
  echo "stress-suite: $N run(s) of 'npm ci && npm test' on fresh clones of $branch ($commit), $(nproc) CPUs"
  echo "load beside each run: $load_cmd"
  printf '%-4s %-6s %-9s %-28s %s\n' run result duration "load avg (min/mean/max)" note
} | tee "$summary"

pass=0
for i in $(seq 1 "$N"); do
  dir="$(mktemp -d /tmp/kn-stress-clone-XXXX)"
  log="$out/run-$i.log"
  git clone -q --branch "$branch" "$top" "$dir/repo" >"$log" 2>&1
  start_load
  samples="$out/run-$i.load"; : >"$samples"
  ( while :; do cut -d' ' -f1 /proc/loadavg >>"$samples"; sleep 10; done ) & sampler=$!
  t0=$(date +%s)
  ( cd "$dir/repo" && CI=1 bash -c 'npm ci --no-audit --no-fund && npm test' ) >>"$log" 2>&1
  rc=$?
  t1=$(date +%s)
  kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null; sampler=""
  stop_load
  note=""
  dirty="$(git -C "$dir/repo" status --porcelain --untracked-files=no)"
  if [ -n "$dirty" ]; then note="tracked files modified: $(echo "$dirty" | tr '\n' ' ')"; rc=1; fi
  if [ "$rc" -ne 0 ]; then
    # what Playwright kept of the failure (screenshots, traces) outlives the clone
    [ -d "$dir/repo/test-results" ] && cp -r "$dir/repo/test-results" "$out/run-$i-test-results"
    failed="$(grep -E '^\s+[0-9]+\) \[|✘|FAIL ' "$log" | head -3 | tr -s ' ' | tr '\n' ';')"
    note="${note:+$note; }${failed:-exit $rc, see $log}"
  fi
  la="$(awk 'NR==1{mn=$1;mx=$1} {s+=$1; if($1<mn)mn=$1; if($1>mx)mx=$1} END{if(NR) printf "%.2f/%.2f/%.2f", mn, s/NR, mx}' "$samples")"
  d=$((t1 - t0))
  result=$([ "$rc" -eq 0 ] && echo pass || echo FAIL)
  [ "$rc" -eq 0 ] && pass=$((pass + 1))
  printf '%-4s %-6s %-9s %-28s %s\n' "$i" "$result" "$((d / 60))m$(printf '%02d' $((d % 60)))s" "$la" "$note" | tee -a "$summary"
  rm -rf "$dir"
done
echo "passed $pass of $N (logs in $out)" | tee -a "$summary"
[ "$pass" -eq "$N" ]
