#!/usr/bin/env bash
# NanoCam on a GPU in one command. Two halves:
#
#   benchmarks/gpu/run.sh publish     # where the .NET SDK is: publish nanocam-gpucheck self-contained and single-file
#                                     # (linux-x64) into .device-build/ (ignored by git), so the GPU machine needs no .NET
#   benchmarks/gpu/run.sh [DEVICE]    # on the CUDA machine (DEVICE: cuda, the default, or opencl): runs, in one go,
#                                     #  1. the ILGPU parity tests against the naive CPU backend (a table),
#                                     #  2. the BenchmarkDotNet tables: ILGPU GEMM, convolution, training step and the
#                                     #     GPU targets (GEMM 4096^3, conv batch 64), beside the SIMD CPU rows,
#                                     #  3. cuBLAS GEMM, cuDNN conv and the PyTorch training step (torch_peers.py), when
#                                     #     PyTorch with CUDA is installed,
#                                     # and writes everything to .device-build/results/<date>-<device>/.
#
# Without an argument and without a published binary it publishes first (when dotnet is on PATH).
# Targets (issue 6): GEMM >= 50% of cuBLAS FP32, conv forward >= 40% of cuDNN, GAP-CNN step >= 10x the 2-core CPU step.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="$root/.device-build"
binary="$build/nanocam-gpucheck"

publish() {
  command -v dotnet >/dev/null || { echo "run.sh: error: publishing needs the .NET SDK (dotnet) on PATH" >&2; exit 1; }
  dotnet publish "$root/benchmarks/NanoCam.GpuCheck" -c Release -r linux-x64 --self-contained \
    -p:PublishSingleFile=true -p:EnableCompressionInSingleFile=true -p:IncludeNativeLibrariesForSelfExtract=true \
    -o "$build"
  echo "published $binary ($(du -h "$binary" | cut -f1))"
}

if [[ "${1:-}" == "publish" ]]; then publish; exit 0; fi
device="${1:-cuda}"
if [[ ! -x "$binary" ]]; then
  if command -v dotnet >/dev/null; then publish; else
    echo "run.sh: error: $binary is missing: run 'benchmarks/gpu/run.sh publish' where the .NET SDK is, and copy .device-build/ here" >&2
    exit 1
  fi
fi

results="$build/results/$(date -u +%Y-%m-%d)-$device"
mkdir -p "$results"
cd "$results"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee gpu.txt

echo "== parity: ILGPU on $device against the naive CPU backend"
status=0
"$binary" parity --device "$device" | tee parity.md || status=$?

echo "== benchmarks (BenchmarkDotNet, in-process)"
"$binary" bench --device "$device" --artifacts "$results/BenchmarkDotNet.Artifacts" \
  --filter '*IlgpuGemmBenchmarks*' '*IlgpuConvBenchmarks*' '*IlgpuTrainingStepBenchmarks*' '*IlgpuGpuTargetBenchmarks*' \
           '*GemmBenchmarks.Simd*' '*ConvBenchmarks.Simd*' '*TrainingStepBenchmarks.Simd*' | tee benchmarks.txt

echo "== peers: cuBLAS, cuDNN and PyTorch through PyTorch"
python=""
for candidate in python3 /usr/bin/python3; do
  if "$candidate" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then python="$candidate"; break; fi
done
if [[ -n "$python" ]]; then
  "$python" "$here/torch_peers.py" | tee torch-peers.txt
else
  echo "PyTorch with CUDA is not installed here: the cuBLAS/cuDNN peers were not timed" | tee torch-peers.txt
fi

echo "results in $results (parity.md, benchmarks.txt, BenchmarkDotNet.Artifacts/results/*-report-github.md, torch-peers.txt)"
exit "$status"
