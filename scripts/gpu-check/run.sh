#!/usr/bin/env bash
# The GPU check, from the folder `pack` made (scripts/gpu-check/README.md): unpacks Node, the bundle and Dawn into
# $KN_GPU_CHECK_UNPACK (default /tmp/kn-gpu-check-bin), makes Vulkan findable, and runs the check.
#
#   bash .gpucheck/run.sh [--dry] [--out DIR] [--budget-s 420] [--models gpt2,qwen] [--no-torch] [--python python3] …
#
# On the GPU machine: when ldconfig knows no libvulkan.so.1, the packed .debs (libvulkan1, glvnd) are unpacked into /
# (as root; else into the unpack folder, on LD_LIBRARY_PATH); when neither VK_ICD_FILENAMES nor VK_DRIVER_FILES is set,
# NVIDIA's ICD (nvidia_icd.json) is looked for where the driver mounts it. --dry: SwiftShader, tiny shapes.
# --out defaults to $OUT (the device tool's folder) when that is set; the JSON, the tables and the log land there.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
U=${KN_GPU_CHECK_UNPACK:-/tmp/kn-gpu-check-bin}
dry=0; out=""; prev=""; budget=""
for a in "$@"; do
  [ "$a" = "--dry" ] && dry=1
  [ "$prev" = "--out" ] && out=$a
  [ "$prev" = "--budget-s" ] && budget=$a
  prev=$a
done
[ -z "$budget" ] && { [ $dry = 1 ] && budget=600 || budget=420; }
# the check stops itself at the budget and prints 30 s later at the latest; a process stuck past that is killed
# (gpu-check.partial.json in --out holds the steps done)
kill_after=$(( ${budget%.*} + 60 ))
args=("$@")
if [ -z "$out" ] && [ -n "${OUT:-}" ]; then out=$OUT; args+=(--out "$OUT"); fi
say() { echo "[run.sh] $*" >&2; }
t0=$(date +%s)

unpack() { # src dst: xz (or python3's lzma where xz is missing) / gzip
  [ -s "$2" ] && [ "$2" -nt "$1" ] && return 0
  mkdir -p "$(dirname "$2")"
  case "$1" in
    *.xz) if command -v xz >/dev/null; then xz -dc "$1" >"$2.tmp"; else python3 -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$1" "$2.tmp"; fi ;;
    *.gz) gzip -dc "$1" >"$2.tmp" ;;
    *) cp "$1" "$2.tmp" ;;
  esac || { say "could not unpack $1"; exit 1; }
  mv "$2.tmp" "$2"
}

mkdir -p "$U/node_modules/webgpu/dist/linux-x64" "$U/node_modules/@tensorflow/tfjs-backend-wasm"
unpack "$HERE/gpu-check.mjs.gz" "$U/gpu-check.mjs"
cp "$HERE/node_modules/webgpu/package.json" "$HERE/node_modules/webgpu/index.js" "$U/node_modules/webgpu/"
cp "$HERE/node_modules/@tensorflow/tfjs-backend-wasm/package.json" "$U/node_modules/@tensorflow/tfjs-backend-wasm/"
for d in "$HERE"/node_modules/webgpu/dist/linux-x64/dawn.node.*; do unpack "$d" "$U/node_modules/webgpu/dist/linux-x64/dawn.node"; done
if [ -f "$HERE/node.xz" ]; then
  unpack "$HERE/node.xz" "$U/node" && chmod +x "$U/node"
  NODE=$U/node
else
  NODE=$(command -v node) || { say "this pack has no Node (packed with --no-node) and there is no node on PATH"; exit 1; }
fi
say "unpacked into $U in $(( $(date +%s) - t0 )) s; $("$NODE" --version) ($NODE)"

if [ $dry = 0 ]; then
  if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1'; then
    if ls "$HERE"/debs/*.deb >/dev/null 2>&1; then
      if [ "$(id -u)" = 0 ]; then
        say "no Vulkan loader: unpacking $(ls "$HERE"/debs | tr '\n' ' ')into /"
        for f in "$HERE"/debs/*.deb; do dpkg -x "$f" /; done; ldconfig
      else
        say "no Vulkan loader, not root: unpacking the .debs into $U/sysroot (LD_LIBRARY_PATH)"
        for f in "$HERE"/debs/*.deb; do dpkg -x "$f" "$U/sysroot"; done
        export LD_LIBRARY_PATH="$U/sysroot/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
      fi
    else
      say "no Vulkan loader (libvulkan.so.1) and no .debs in $HERE/debs: Dawn will find no adapter"
    fi
  fi
  if [ -z "${VK_ICD_FILENAMES:-}" ] && [ -z "${VK_DRIVER_FILES:-}" ]; then
    for c in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
      if [ -f "$c" ]; then export VK_ICD_FILENAMES=$c VK_DRIVER_FILES=$c; say "Vulkan driver: $c"; break; fi
    done
  fi
  [ -z "${VK_ICD_FILENAMES:-}${VK_DRIVER_FILES:-}" ] && say "no nvidia_icd.json found; Vulkan uses the system's ICDs"
  command -v nvidia-smi >/dev/null && nvidia-smi -L >&2
else
  if [ -z "${VK_ICD_FILENAMES:-}" ] && [ -f /usr/lib/chromium/vk_swiftshader_icd.json ]; then export VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json; fi
fi

if [ -n "$out" ]; then
  mkdir -p "$out"
  timeout -k 5 "$kill_after" "$NODE" "$U/gpu-check.mjs" --assets "$HERE/assets" "${args[@]}" 2> >(tee "$out/gpu-check.log" >&2)
  rc=$?
else
  timeout -k 5 "$kill_after" "$NODE" "$U/gpu-check.mjs" --assets "$HERE/assets" "${args[@]}"
  rc=$?
fi
[ $rc = 124 ] || [ $rc = 137 ] && say "the check was killed ${kill_after} s after its start; ${out:+$out/gpu-check.partial.json holds what it measured}"
say "done in $(( $(date +%s) - t0 )) s (exit $rc)"
exit $rc
