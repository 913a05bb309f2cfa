#!/usr/bin/env bash
# The GPU benchmark, for a machine with a GPU and nothing else: WebGPU (Dawn) on the real adapter against wasm on
# the same machine, for the DQN and A2C updates (bench/updates.ts) and the GAN's `fast` and `book` iterations
# (bench/gan.ts). Writes JSON files into $OUT (default ./gpu-bench). Two steps:
#
#   bash bench/gpu.sh pack     here, with the project installed: writes .gpu/ (ignored by git, about 35 MB):
#                              the benchmarks bundled by esbuild, this machine's Node binary, Dawn, the wasm
#                              binaries and Debian's Vulkan loader (libvulkan1), so the GPU machine needs no
#                              npm, no network and no Node of its own
#   bash bench/gpu.sh run      there, in a copy of the working tree that holds .gpu/: runs everything, ~5 min
#
# A GPU machine without Node or network is what the lab's device tool lends: its run gets the working tree with
# `carry: [".gpu"]`. On a workstation with the project installed, `bash bench/gpu.sh run --installed` uses
# node_modules and the system's Node instead. Speed figures from SwiftShader (software Vulkan) mean nothing:
# the script says which adapter ran, and the benchmarks doc quotes only hardware adapters.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-}
PACK=.gpu

pack() {
  rm -rf "$PACK" && mkdir -p "$PACK/node_modules/@tensorflow" "$PACK/debs"
  grep -qxF "/$PACK/" .git/info/exclude 2>/dev/null || echo "/$PACK/" >> .git/info/exclude
  # One ES module per benchmark; packages that find files next to themselves at run time stay outside the bundle.
  for b in updates gan; do
    node_modules/.bin/esbuild "bench/$b.ts" --bundle --platform=node --format=esm --target=node20 --log-level=warning \
      --external:webgpu --external:crc-32 \
      --banner:js="import { createRequire as __labCreateRequire } from 'node:module'; import { fileURLToPath as __labPath } from 'node:url'; const require = __labCreateRequire(import.meta.url); const __filename = __labPath(import.meta.url); const __dirname = __labPath(new URL('.', import.meta.url));" \
      --outfile="$PACK/$b.mjs"
  done
  mkdir -p "$PACK/node_modules/webgpu/dist/linux-x64" "$PACK/node_modules/@tensorflow/tfjs-backend-wasm/dist" "$PACK/node_modules/crc-32"
  cp node_modules/webgpu/package.json node_modules/webgpu/index.js "$PACK/node_modules/webgpu/"
  xz -T0 -c node_modules/webgpu/dist/linux-x64/dawn.node > "$PACK/dawn.node.xz"
  cp node_modules/@tensorflow/tfjs-backend-wasm/package.json "$PACK/node_modules/@tensorflow/tfjs-backend-wasm/"
  cp node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm "$PACK/node_modules/@tensorflow/tfjs-backend-wasm/dist/"
  cp -r node_modules/crc-32/package.json node_modules/crc-32/*.js "$PACK/node_modules/crc-32/"
  xz -T0 -c "$(command -v node)" > "$PACK/node.xz"
  (cd "$PACK/debs" && apt-get download libvulkan1 >/dev/null 2>&1) || echo "warning: could not download libvulkan1 (the GPU machine must have a Vulkan loader)" >&2
  du -sh "$PACK"
}

run() {
  local out=${OUT:-gpu-bench} node=node dir=bench ext=ts loader=(--import tsx)
  mkdir -p "$out"
  if [ "${1:-}" != "--installed" ]; then
    [ -d "$PACK" ] || { echo "no $PACK/ here: run 'bash bench/gpu.sh pack' on a machine with the project installed" >&2; exit 2; }
    [ -x "$PACK/node" ] || xz -dc "$PACK/node.xz" > "$PACK/node" && chmod +x "$PACK/node"
    [ -f "$PACK/node_modules/webgpu/dist/linux-x64/dawn.node" ] || xz -dc "$PACK/dawn.node.xz" > "$PACK/node_modules/webgpu/dist/linux-x64/dawn.node"
    if ! ldconfig -p | grep -q libvulkan.so.1; then
      for f in "$PACK"/debs/*.deb; do dpkg -x "$f" /; done
      ldconfig
    fi
    node=$PACK/node dir=$PACK ext=mjs loader=()
  fi
  # NVIDIA's container runtime puts its Vulkan driver's manifest here, outside the loader's search path.
  local icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  if [ -z "${VK_ICD_FILENAMES:-}${VK_DRIVER_FILES:-}" ] && [ -f "$icd" ]; then export VK_DRIVER_FILES=$icd; fi
  { nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true; } > "$out/gpu.txt" 2>&1
  "$node" --version >> "$out/gpu.txt"
  local status=0
  for backend in webgpu wasm; do
    echo "updates on $backend" >&2
    "$node" "${loader[@]}" "$dir/updates.$ext" --backend "$backend" --updates 50 --warmup 5 > "$out/updates-$backend.json" 2> "$out/updates-$backend.log" || { status=1; tail -5 "$out/updates-$backend.log" >&2; }
  done
  for backend in webgpu wasm; do
    echo "gan on $backend" >&2
    "$node" "${loader[@]}" "$dir/gan.$ext" --backend "$backend" --iterations 10 --warmup 2 --fast-iterations 50 > "$out/gan-$backend.json" 2> "$out/gan-$backend.log" || { status=1; tail -5 "$out/gan-$backend.log" >&2; }
  done
  ls -l "$out"
  return $status
}

case "$mode" in
  pack) pack ;;
  run) shift; run "$@" ;;
  *) echo "usage: bash bench/gpu.sh pack | run [--installed]" >&2; exit 2 ;;
esac
