#!/usr/bin/env bash
# The method-latency table (issue 20): every `nanocam explain --method` method, batch 1, at 1 and 2 threads, on the
# shipped shapes network and on SqueezeNet (MethodLatencyBenchmarks + MaskedMethodLatencyBenchmarks), then the table
# for benchmarks/README.md ("Method latency") from BenchmarkDotNet's CSV reports. About 20 minutes on a quiet 2-core
# machine; run it with nothing else running. The table goes to stdout and to
# benchmarks/BenchmarkDotNet.Artifacts/results/method-latency-table.md, headed by the date and the load average
# before and after the run.
#
#   benchmarks/method-latency.sh                          # the whole run, then the table
#   benchmarks/method-latency.sh --table-only             # the table from the last run's reports
#   benchmarks/method-latency.sh --filter '*.MethodLatencyBenchmarks.Run(*"gradcam"*'   # a subset (a --filter of yours replaces the class filter)
#   benchmarks/method-latency.sh --job dry                # other arguments go to BenchmarkDotNet
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
artifacts="$here/BenchmarkDotNet.Artifacts"
results="$artifacts/results"
table="$results/method-latency-table.md"
mkdir -p "$results"

python=python3
command -v "$python" >/dev/null 2>&1 || python=/usr/bin/python3

if [[ "${1:-}" == "--table-only" ]]; then
  # Keep the last run's header line (date, load, command) when there is one.
  header=""
  if [[ -f "$table" ]] && head -n1 "$table" | grep -q '^Run '; then header="$(head -n1 "$table")"; fi
  body="$("$python" "$here/method_latency_table.py" "$results")"
  { if [[ -n "$header" ]]; then printf '%s\n\n' "$header"; fi; printf '%s\n' "$body"; } | tee "$table.tmp"
  mv "$table.tmp" "$table"
  exit 0
fi

arguments=("$@")
if [[ " $* " != *" --filter "* ]]; then arguments=(--filter '*MethodLatency*' "${arguments[@]}"); fi

quoted=""; if (( $# > 0 )); then quoted="$(printf ' %q' "$@")"; fi
load() { cut -d' ' -f1-3 /proc/loadavg; }
start="$(date -u '+%Y-%m-%d %H:%M')"
load_before="$(load)"
# The build of BenchmarkDotNet's generated project references every NanoCam project: allow it more than the default 2 min.
dotnet run -c Release --project "$here/NanoCam.Benchmarks" -- \
  --artifacts "$artifacts" --buildTimeout 1200 \
  "${arguments[@]}"
end="$(date -u '+%H:%M')"
load_after="$(load)"

{
  echo "Run ${start}–${end} UTC on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), load average (1, 5, 15 min) ${load_before} before, ${load_after} after; command: benchmarks/method-latency.sh${quoted}"
  echo
  "$python" "$here/method_latency_table.py" "$results"
} | tee "$table.tmp"
mv "$table.tmp" "$table"
