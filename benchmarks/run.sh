#!/usr/bin/env bash
# The full NanoCam benchmark run: every BenchmarkDotNet class (naive, SIMD and ONNX Runtime cases, Release build),
# then the PyTorch training-step peer when PyTorch is installed. Results land in benchmarks/BenchmarkDotNet.Artifacts/results
# (*-report-github.md, *-report.csv, *-report.html, pytorch-train-step.txt). Run it on a quiet machine; about 10–15 minutes.
#
#   benchmarks/run.sh                      # everything
#   benchmarks/run.sh --filter '*Gemm*'    # extra arguments go to BenchmarkDotNet; a --filter of yours replaces '*'
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
artifacts="$here/BenchmarkDotNet.Artifacts"
mkdir -p "$artifacts/results"

arguments=("$@")
if [[ " $* " != *" --filter "* ]]; then arguments=(--filter '*' "${arguments[@]}"); fi

# The caps keep a noisy case to about 30 s (BenchmarkDotNet's defaults allow 100 iterations and 50 warm-ups);
# the naive classes fix their own, smaller counts with [WarmupCount]/[IterationCount].
dotnet run -c Release --project "$here/NanoCam.Benchmarks" -- \
  --artifacts "$artifacts" \
  --maxIterationCount 30 --maxWarmupCount 10 \
  "${arguments[@]}"

# Debian's python3-torch lives under /usr/bin/python3, which a pyenv shim may hide.
python=""
for candidate in python3 /usr/bin/python3; do
  if "$candidate" -c 'import torch' 2>/dev/null; then python="$candidate"; break; fi
done
if [[ -n "$python" ]]; then
  for threads in 1 2; do
    "$python" "$here/pytorch/train_step.py" --threads "$threads"
  done | tee "$artifacts/results/pytorch-train-step.txt"
else
  echo "PyTorch is not installed (python3 -c 'import torch' failed): skipping benchmarks/pytorch/train_step.py"
fi
