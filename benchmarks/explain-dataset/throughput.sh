#!/usr/bin/env bash
# Grad-CAM throughput of `nanocam explain-dataset` against `nanocam explain` run once per image, on the shipped
# shapes GAP-CNN (weights/shapes-vgg.safetensors) and images 0–999 of the embedded shapes test set.
#
#   benchmarks/explain-dataset/throughput.sh [PER_IMAGE_RUNS]     # default 20 separate explain processes
#
# Prints a Markdown table: images/s with every core and with one thread (per core), and the ratio. The per-image
# figure is measured on the first PER_IMAGE_RUNS images and extrapolated per image (each process costs the same).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
runs="${1:-20}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$root"
dotnet build src/NanoCam.Cli -c Release -v quiet -nologo >/dev/null
nanocam=(dotnet "$root/src/NanoCam.Cli/bin/Release/net10.0/nanocam.dll")
model=weights/shapes-vgg.safetensors
dotnet run benchmarks/explain-dataset/export-images.cs -- 'shapes#0-1000' test "$work/png" >/dev/null

seconds() { local start end; start=$(date +%s.%N); "$@" >/dev/null; end=$(date +%s.%N); echo "$end - $start" | bc -l; }
rate() { echo "scale=1; $1 / $2" | bc -l; }

per_image() { # $1 threads: PER_IMAGE_RUNS separate processes, one image each, as a script calling explain would
  local start end i
  start=$(date +%s.%N)
  for ((i = 0; i < runs; i++)); do
    f=$(printf '%05d' "$i")
    "${nanocam[@]}" explain --model "$model" --image "$work/png/$f.png" --method gradcam --threads "$1" \
      --out "$work/explain/$f.png" --save-map "$work/explain/$f.npy" >/dev/null
  done
  end=$(date +%s.%N)
  echo "$end - $start" | bc -l
}
mkdir -p "$work/explain"

cores=$(nproc)
echo "| run | threads | images | seconds | images/s | × per-image explain |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
for threads in 0 1; do
  label=$([[ $threads == 0 ]] && echo "$cores (all)" || echo 1)
  t_single=$(per_image "$threads")
  r_single=$(rate "$runs" "$t_single")
  t_spec=$(seconds "${nanocam[@]}" explain-dataset --model "$model" --data 'shapes#0-1000' --methods gradcam --threads "$threads" --out "$work/spec-$threads")
  t_folder=$(seconds "${nanocam[@]}" explain-dataset --model "$model" --data "$work/png" --methods gradcam --threads "$threads" --out "$work/folder-$threads")
  r_spec=$(rate 1000 "$t_spec"); r_folder=$(rate 1000 "$t_folder")
  printf '| `explain` once per image (%s processes, extrapolated) | %s | %s | %.1f | %s | 1.0 |\n' "$runs" "$label" "$runs" "$t_single" "$r_single"
  printf '| `explain-dataset --data shapes#0-1000` | %s | 1000 | %.1f | %s | %.1f |\n' "$label" "$t_spec" "$r_spec" "$(echo "$r_spec / $r_single" | bc -l)"
  printf '| `explain-dataset --data DIR` (1000 PNG files) | %s | 1000 | %.1f | %s | %.1f |\n' "$label" "$t_folder" "$r_folder" "$(echo "$r_folder / $r_single" | bc -l)"
done
