#!/usr/bin/env bash
# Grad-CAM latency, NanoCam against PyTorch with hooks: GradCamLatencyBenchmarks (BenchmarkDotNet, in process, about
# 2–3 minutes for every model), then benchmarks/pytorch/gradcam_latency.py on the same models, batches and thread
# counts (about 2–4 minutes, at most 10 s a case), then one table: model × batch × threads, NanoCam's median ms, PyTorch's median ms and
# the speed-up PyTorch / NanoCam. Run it on a quiet machine. NANOCAM_ZOO_MODELS=a,b keeps the named models in both.
#
#   benchmarks/gradcam-latency.sh                # everything; results in benchmarks/BenchmarkDotNet.Artifacts/results
#   benchmarks/gradcam-latency.sh --frozen       # extra arguments go to gradcam_latency.py
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
artifacts="$here/BenchmarkDotNet.Artifacts"
results="$artifacts/results"
mkdir -p "$results"

# Debian's python3-torch lives under /usr/bin/python3, which a pyenv shim may hide.
python=""
for candidate in python3 /usr/bin/python3; do
  if "$candidate" -c 'import torch, torchvision' 2>/dev/null; then python="$candidate"; break; fi
done
if [[ -z "$python" ]]; then
  echo "gradcam-latency: PyTorch and torchvision are not installed (python3 -c 'import torch, torchvision' failed)" >&2
  exit 1
fi

dotnet run -c Release --project "$here/NanoCam.Benchmarks" -- \
  --filter '*GradCamLatencyBenchmarks*' --artifacts "$artifacts"
"$python" "$here/pytorch/gradcam_latency.py" --csv "$results/pytorch-gradcam-latency.csv" "$@"

"$python" - "$results/NanoCam.Benchmarks.GradCamLatencyBenchmarks-report.csv" "$results/pytorch-gradcam-latency.csv" <<'PY'
import csv, statistics, sys

UNITS = {"ns": 1e-6, "us": 1e-3, "μs": 1e-3, "µs": 1e-3, "ms": 1.0, "s": 1e3}

def ms(cell):
    value, unit = cell.replace(",", "").split()
    return float(value) * UNITS[unit]

nanocam = {}
with open(sys.argv[1], newline="", encoding="utf-8") as f:
    for row in csv.DictReader(f):
        nanocam[(row["Model"], int(row["Batch"]), int(row["Threads"]))] = (ms(row["Median"]), row["Allocated"])
pytorch = {}
with open(sys.argv[2], newline="") as f:
    for row in csv.DictReader(f):
        pytorch[(row["model"], int(row["batch"]), int(row["threads"]))] = (float(row["median_ms"]), row["mode"])

print("| model | batch | threads | NanoCam ms | NanoCam allocated | PyTorch ms | PyTorch / NanoCam |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
ratios = {}
for key in sorted(set(nanocam) | set(pytorch)):
    ours, theirs = nanocam.get(key), pytorch.get(key)
    ratio = theirs[0] / ours[0] if ours and theirs else None
    if ratio: ratios.setdefault(key[1:], []).append(ratio)
    print(f"| {key[0]} | {key[1]} | {key[2]} | {f'{ours[0]:.2f}' if ours else '–'} | {ours[1] if ours else '–'} | "
          f"{f'{theirs[0]:.2f}' if theirs else '–'} | {f'{ratio:.2f}×' if ratio else '–'} |")
print()
modes = {mode for _, mode in pytorch.values()}
print(f"PyTorch mode: {', '.join(sorted(modes))} (hooks: parameters require gradients; frozen: backward stops at the target)")
for (batch, threads), values in sorted(ratios.items()):
    below = sum(r < 2 for r in values)
    print(f"batch {batch}, {threads} thread(s): speed-up geometric mean {statistics.geometric_mean(values):.2f}×, "
          f"min {min(values):.2f}×, {below} of {len(values)} models below the 2× target")
PY
