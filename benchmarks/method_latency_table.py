#!/usr/bin/env python3
"""The method-latency table of benchmarks/README.md from BenchmarkDotNet's CSV reports.

Reads the *-report.csv of MethodLatencyBenchmarks and MaskedMethodLatencyBenchmarks in RESULTS (a
BenchmarkDotNet.Artifacts/results folder) and prints one markdown table: a row per method (forward, then `nanocam explain --method`'s order),
per network and thread count the Mean in ms per image and "x forward" = (Mean - forward Mean) / forward Mean, torch-cam's
overhead ratio (the Overhead and "× forward" columns of OverheadColumns.cs), the forward Mean taken from
MethodLatencyBenchmarks (10 iterations) when it has the case; then the allocation per call at 1 thread.

    python3 benchmarks/method_latency_table.py benchmarks/BenchmarkDotNet.Artifacts/results
"""
import csv
import os
import re
import sys

CLASSES = ["MethodLatencyBenchmarks", "MaskedMethodLatencyBenchmarks"]
TIME_UNITS = {"ns": 1e-6, "μs": 1e-3, "us": 1e-3, "ms": 1.0, "s": 1e3}
SIZE_UNITS = {"B": 1, "KB": 1024, "MB": 1024 ** 2, "GB": 1024 ** 3}
NETWORK_NAMES = {"shapes": "shapes", "squeezenet": "SqueezeNet"}


def number(text):
    return float(text.replace(",", ""))


def milliseconds(cell):
    """'4.123 ms', '1,234.5 μs', '2.1 s' -> milliseconds; None for NA or an empty cell."""
    match = re.fullmatch(r"\s*([-0-9.,]+)\s*(ns|μs|us|ms|s)\s*", cell or "")
    return number(match.group(1)) * TIME_UNITS[match.group(2)] if match else None


def bytes_of(cell):
    match = re.fullmatch(r"\s*([-0-9.,]+)\s*(B|KB|MB|GB)\s*", cell or "")
    return number(match.group(1)) * SIZE_UNITS[match.group(2)] if match else None


def registry_order():
    """The methods in `nanocam explain --method`'s order: CamMethods' factories, then InputAttributions.Names."""
    methods = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "NanoCam.Explain", "Methods")
    names = []
    try:
        with open(os.path.join(methods, "CamMethods.cs"), encoding="utf-8") as f:
            names += re.findall(r'\["([^"]+)"\]\s*=\s*\(\)\s*=>', f.read())
        with open(os.path.join(methods, "InputAttributions.cs"), encoding="utf-8") as f:
            block = re.search(r"Names \{ get; \} =\s*\[(.*?)\];", f.read(), re.S)
            names += re.findall(r'"([^"]+)"', block.group(1)) if block else []
    except OSError:
        pass
    return names


def read(results):
    """{(class, network, threads, method): (mean ms, allocated bytes)}, and the methods in the reports."""
    rows, methods = {}, []
    for name in CLASSES:
        path = os.path.join(results, f"NanoCam.Benchmarks.Explain.{name}-report.csv")
        if not os.path.exists(path):
            print(f"method_latency_table: {path} not found (run benchmarks/method-latency.sh)", file=sys.stderr)
            continue
        with open(path, newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                method, network, threads = row["Algorithm"], row["Network"], int(row["Threads"])
                rows[(name, network, threads, method)] = (milliseconds(row.get("Mean")), bytes_of(row.get("Allocated")))
                if method not in methods:
                    methods.append(method)
    return rows, methods


def time_text(ms):
    if ms is None:
        return "NA"
    if ms >= 1000:
        return f"{ms / 1000:,.2f} s"
    return f"{ms:.3g} ms" if ms < 10 else f"{ms:,.1f} ms"


def size_text(size):
    if size is None:
        return "NA"
    for unit in ["GB", "MB", "KB"]:
        if size >= SIZE_UNITS[unit]:
            return f"{size / SIZE_UNITS[unit]:.3g} {unit}"
    return f"{size:.0f} B"


def table(rows, methods):
    networks = [n for n in NETWORK_NAMES if any(key[1] == n for key in rows)]
    threads = sorted({key[2] for key in rows})
    columns = [(n, t) for n in networks for t in threads]

    def case(network, thread, method):
        for name in CLASSES:
            if (name, network, thread, method) in rows:
                return rows[(name, network, thread, method)]
        return None

    def forward(network, thread):
        hit = case(network, thread, "forward")
        return hit[0] if hit else None

    header = ["method"]
    for n, t in columns:
        header += [f"{NETWORK_NAMES[n]} {t}T", "× fwd"]
    header += [f"allocated, {NETWORK_NAMES[n]} 1T" for n in networks]
    lines = ["| " + " | ".join(header) + " |", "|---|" + "---:|" * (len(header) - 1)]
    for method in methods:
        cells = [method]
        for n, t in columns:
            hit = case(n, t, method)
            mean = hit[0] if hit else None
            base = forward(n, t)
            cells.append(time_text(mean) if hit else "—")
            if method == "forward" or mean is None or not base:
                cells.append("—")
            else:
                cells.append(f"{(mean - base) / base:,.2f}×")
        for n in networks:
            hit = case(n, min(threads), method)
            cells.append(size_text(hit[1]) if hit else "—")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv):
    if len(argv) != 2:
        print("usage: method_latency_table.py RESULTS_FOLDER", file=sys.stderr)
        return 2
    rows, methods = read(argv[1])
    # BenchmarkDotNet sorts the cases by parameter value; the table follows the command's list, forward first.
    order = ["forward"] + registry_order()
    methods.sort(key=lambda m: (order.index(m) if m in order else len(order), m))
    if not rows:
        print(f"method_latency_table: no MethodLatency reports in {argv[1]}", file=sys.stderr)
        return 1
    print(table(rows, methods))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
