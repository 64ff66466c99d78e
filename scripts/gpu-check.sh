#!/usr/bin/env bash
# The GPU path, measured: run from anywhere on a machine with an NVIDIA GPU (no GPU is needed by
# the tests or CI; this is the check for a machine that has one). It
#   1. builds l2tww with the Makefile (the venv's torch 2.13 wheel carries the CUDA libraries,
#      and the binary links libtorch_cuda),
#   2. prints `l2tww --device cuda info` (the libtorch in use and the CUDA devices),
#   3. runs the float64 conformance cases on CUDA (../shared/reference, or $REFERENCE),
#   4. times every meta-gradient mode with `l2tww --device cuda bench --phases` (exact and
#      first-order, meta-every 1 and 2, each in its own process, against a plain SGD step, with
#      the time of every phase of the iteration), $ROUNDS rounds; with BESIDE='command' the
#      command (e.g. the official loop timed by a throw-away harness that prints one JSON line)
#      runs after each round and its line is reported beside ours.
# Everything goes to stdout and to gpu-check.log in the current folder.
#   scripts/gpu-check.sh                       # DEVICE=cuda:0 ROUNDS=3 BATCH=64 ITERS=5 by default
#   BESIDE='python3 ~/harness/official_loop.py --device cuda' scripts/gpu-check.sh
#   L2TWW_BIN=/path/to/l2tww scripts/gpu-check.sh   # a binary built elsewhere: no build step
# A binary built elsewhere must have been built against the libtorch it loads there (tch's
# libtorch version): point LD_LIBRARY_PATH at that libtorch's lib folder; `info` says which
# one was loaded.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
DEVICE="${DEVICE:-cuda:0}"
ROUNDS="${ROUNDS:-3}"
BATCH="${BATCH:-64}"
ITERS="${ITERS:-5}"
REFERENCE="${REFERENCE:-$repo/../shared/reference}"
log="$PWD/gpu-check.log"
exec > >(tee "$log") 2>&1

if [ -n "${L2TWW_BIN:-}" ]; then
  bin="$L2TWW_BIN"
  echo "== binary: $bin (built elsewhere)"
else
  echo "== build"
  make -C "$repo" build
  bin="${CARGO_TARGET_DIR:-$HOME/.cache/l2tww/target}/debug/l2tww"
fi

echo "== l2tww --device $DEVICE info"
"$bin" --device "$DEVICE" info

echo "== conformance in float64 on $DEVICE"
status=0
if [ -d "$REFERENCE" ]; then
  # A failing case is reported and the timings still run; the script's exit status says it.
  "$bin" --device "$DEVICE" --precision f64 conformance "$REFERENCE" || status=$?
else
  echo "skipped: no reference cases at $REFERENCE (set REFERENCE=…)"
fi

echo "== bench on $DEVICE: every mode, $ROUNDS rounds, batch $BATCH"
args=(--device "$DEVICE" bench --batch "$BATCH" --iters "$ITERS" --rounds "$ROUNDS" --phases)
if [ -n "${BESIDE:-}" ]; then
  args+=(--beside "$BESIDE")
fi
"$bin" "${args[@]}"
echo "== done (conformance exit status $status); the log is $log"
exit "$status"
