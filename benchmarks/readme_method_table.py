#!/usr/bin/env python3
"""The method table of README.md ("Scoring") from `nanocam evaluate-explanations --out FILE.json`.

Every column of that table comes from the one evaluate-explanations run: deletion and insertion AUC, ROAD MoRF drop,
pointing game and localization %, max sensitivity, sparseness, the sanity check's mean |rho| over the cascade with its
verdict, and ms / image (the method's own explanation time, batched as evaluate-explanations batches it; the
batch-1 latency per network and thread count is benchmarks/method-latency.sh's table). Re-measure with:

    nanocam evaluate-explanations --model weights/shapes-vgg.safetensors --count 10 \
        --metrics faithfulness,robustness,complexity,localization,sanity --out scores.json
    python3 benchmarks/readme_method_table.py scores.json
"""
import json
import sys


def fixed(value, digits=3):
    return "–" if value is None else f"{value:.{digits}f}"


def percent(value):
    if value is None:
        return "–"
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def sanity(row):
    if "sanity_spearman_cascade_mean" not in row:
        return "–"
    verdict = "**fails**" if row["sanity_fails"] else "passes"
    return f"{row['sanity_spearman_cascade_mean']:.2f} {verdict}"


def main(argv):
    if len(argv) != 2:
        print("usage: readme_method_table.py SCORES.json (from evaluate-explanations --out)", file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        rows = json.load(f)
    print("| method | deletion ↓ | insertion ↑ | ROAD MoRF ↑ | pointing % | localization % | max sens. ↓ | sparseness | sanity (mean \\|ρ\\|) | ms / image |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |")
    for row in rows:
        cells = [
            row["method"],
            fixed(row.get("deletion_auc")),
            fixed(row.get("insertion_auc")),
            fixed(row.get("road_most_relevant_first")),
            percent(row.get("pointing_game_percent")),
            percent(row.get("localization_percent")),
            fixed(row.get("max_sensitivity")),
            fixed(row.get("sparseness")),
            sanity(row),
            f"{row['ms_per_image']:.1f}",
        ]
        print("| " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
