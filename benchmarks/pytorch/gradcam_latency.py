"""Grad-CAM in PyTorch with hooks on the target module: the peer of GradCamLatencyBenchmarks.

The models of benchmarks/NanoCam.Benchmarks/ZooModels.cs as torch modules: every model of shared/data/models/zoo
that names a target (rebuilt with its constructor and torch.manual_seed(4321), the seed the zoo was made with, so the
weights are the exported ones: the logits are held against NAME.logits.npy), SqueezeNet 1.1 (torchvision's
squeezenet1_1, random weights, 1000 classes, uniform [-1, 1] input of 224 x 224, target features.12 for class 0) and
the full-size exports of /work/fullsize (or NANOCAM_FULLSIZE) whose name is a torchvision constructor (random weights).

Grad-CAM as pytorch-grad-cam computes it: a forward hook on the target module keeps its output A and registers a
tensor hook for dy/dA; forward with gradients (the parameters require them, as in a model taken as it is); zero the
gradients; backward from the sum over the batch of the target class's logit; alpha = mean of dy/dA over the positions,
map = ReLU(sum_k alpha_k A^k), bilinear upsampling to the input's size, min-max per image. --frozen instead freezes the
parameters and makes the hooked output a leaf, so that the backward pass stops at the target layer (as NanoCam's does).
Batch B repeats the stored input B times. Each case: warm-up, then the median of the timed runs (ms per Grad-CAM).

    python3 benchmarks/pytorch/gradcam_latency.py [--models a,b] [--threads 1 2] [--batches 1 16] [--warmup 3]
        [--runs 15] [--max-seconds 10] [--frozen] [--csv out.csv]
"""
import argparse
import csv
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision.models as tvm
from torchvision.models.convnext import CNBlockConfig, ConvNeXt
from torchvision.models.densenet import DenseNet

ZOO_SEED = 4321


class OpMix(nn.Module):
    """The zoo's op-mix network (opmix, opmix_dynamic), rebuilt from its ONNX graph."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3, padding=1)
        self.prelu = nn.PReLU(16)
        self.down = nn.Conv2d(16, 32, 3, stride=2, padding=1)
        self.gn = nn.GroupNorm(4, 32)
        self.up = nn.ConvTranspose2d(32, 16, 2, stride=2)
        self.inorm = nn.InstanceNorm2d(16, affine=True)
        self.mix = nn.Conv2d(32, 32, 3, padding=1)
        self.features = nn.Sequential(nn.Conv2d(32, 48, 3, stride=2, padding=1), nn.ELU(), nn.Conv2d(48, 48, 1), nn.ReLU())
        self.fc = nn.Linear(48, 10)

    def forward(self, x):
        p = self.prelu(self.stem(x))
        a = F.avg_pool2d(p, 3, stride=1, padding=1, count_include_pad=True) + F.pad(p, (1, 1, 1, 1), mode="reflect")[:, :, 1:-1, 1:-1]
        t = torch.tanh(self.gn(self.down(a)))
        b = self.inorm(self.up(t)) + F.interpolate(F.softplus(t), scale_factor=2, mode="nearest")[:, :16]
        first, second = torch.cat([a, b], 1).chunk(2, 1)
        pooled = F.interpolate(a.mean((2, 3), keepdim=True), size=(a.shape[2], a.shape[3]), mode="bilinear", align_corners=False)
        y = self.mix(torch.cat([second, first], 1)) + pooled.repeat(1, 2, 1, 1)
        y = self.features(y).mean((2, 3))
        return self.fc(y.view(y.size(0), -1))


ZOO_BUILDERS = {
    "mnasnet0_5": lambda: tvm.mnasnet0_5(num_classes=10),
    "shufflenet_v2_x0_5": lambda: tvm.shufflenet_v2_x0_5(num_classes=10),
    "mobilenet_v3_small_op13": lambda: tvm.mobilenet_v3_small(num_classes=10),
    "mobilenet_v3_small_op17_dynamic": lambda: tvm.mobilenet_v3_small(num_classes=10),
    "densenet_tiny": lambda: DenseNet(growth_rate=8, block_config=(2, 2, 2, 2), num_init_features=16, bn_size=2, num_classes=10),
    "convnext_tiny_narrow": lambda: ConvNeXt([CNBlockConfig(24, 48, 2), CNBlockConfig(48, None, 2)], num_classes=10),
    "opmix": OpMix,
    "opmix_dynamic": OpMix,
}


def shared_data() -> Path:
    env = os.environ.get("NANOCAM_DATA")
    if env and Path(env).is_dir():
        return Path(env)
    for parent in Path(__file__).resolve().parents:
        if (parent / "shared" / "data").is_dir():
            return parent / "shared" / "data"
    return Path("/work/shared/data")


def models_in(folder: Path, what: str):
    """The .onnx files of folder, sorted; none, with a line saying so, when it is absent."""
    if not folder.is_dir():
        print(f"gradcam_latency: {folder} is absent: {what} skipped", file=sys.stderr)
        return []
    return sorted(folder.glob("*.onnx"))


def discover(wanted):
    """(name, build, layer, class, input [1, C, H, W], stored logits or None, pytorch-grad-cam map or None) per model, as ZooModels."""
    cases, data = [], shared_data()
    cases.append(("squeezenet1.1", tvm.squeezenet1_1, "features.12", 0,
                  np.random.default_rng(1).uniform(-1, 1, (1, 3, 224, 224)).astype(np.float32), None, None))
    zoo = data / "models" / "zoo"
    for onnx in models_in(zoo, "the zoo models"):
        name, meta = onnx.stem, json.loads(onnx.with_suffix(".json").read_text())
        if "target_module" not in meta:
            print(f"gradcam_latency: zoo/{name} skipped: its .json names no target_module (a model without a spatial layer)", file=sys.stderr)
            continue
        if name not in ZOO_BUILDERS:
            print(f"gradcam_latency: zoo/{name} skipped: no PyTorch constructor known for it", file=sys.stderr)
            continue
        maps = zoo / f"{name}.gradcam.npy"
        cases.append((f"zoo/{name}", ZOO_BUILDERS[name], meta["target_module"], meta["target_class"], np.load(zoo / f"{name}.input.npy"),
                      np.load(zoo / f"{name}.logits.npy"), np.load(maps) if maps.exists() else None))
    full = Path(os.environ.get("NANOCAM_FULLSIZE") or "/work/fullsize")
    for onnx in models_in(full, "the full-size models"):
        name, meta = onnx.stem, json.loads(onnx.with_suffix(".json").read_text())
        constructor = getattr(tvm, name.split("_op")[0], None)
        if constructor is None or "target_module" not in meta:
            print(f"gradcam_latency: full/{name} skipped: no torchvision constructor or target_module", file=sys.stderr)
            continue
        stored = onnx.with_suffix(".input.npy")
        image = np.load(stored) if stored.exists() else np.random.default_rng(1).uniform(-1, 1, (1, 3, 224, 224)).astype(np.float32)
        cases.append((f"full/{name}", constructor, meta["target_module"], meta["target_class"], image, None, None))
    if wanted:
        for w in wanted:
            if not any(c[0] == w or c[0].endswith("/" + w) for c in cases):
                print(f"gradcam_latency: {w} is absent: skipped", file=sys.stderr)
        cases = [c for c in cases if any(c[0] == w or c[0].endswith("/" + w) for w in wanted)]
    return cases


class GradCam:
    """pytorch-grad-cam's ActivationsAndGradients and GradCAM, reduced to what one class score needs."""

    def __init__(self, model: nn.Module, layer: str, frozen: bool):
        self.model, self.frozen, self.activations, self.gradients = model, frozen, None, None
        if frozen:
            for p in model.parameters():
                p.requires_grad_(False)
        model.get_submodule(layer).register_forward_hook(self._forward_hook)

    def _forward_hook(self, module, inputs, output):
        def keep(grad):
            self.gradients = grad

        if not self.frozen:
            self.activations = output
            output.register_hook(keep)
            return None
        # A leaf ends the backward pass here; the module's output is a copy of it, so that an in-place operation after
        # the module (DenseNet's ReLU after norm5) changes the copy, as it changes the hooked output above.
        leaf = output.detach().requires_grad_(True)
        leaf.register_hook(keep)
        self.activations = leaf.clone()
        return self.activations

    def __call__(self, x: torch.Tensor, target_class: int) -> torch.Tensor:
        logits = self.model(x)
        self.model.zero_grad()
        logits[:, target_class].sum().backward()
        with torch.no_grad():
            weights = self.gradients.mean(dim=(2, 3), keepdim=True)
            cam = F.relu((weights * self.activations).sum(dim=1, keepdim=True))
            cam = F.interpolate(cam, size=x.shape[2:], mode="bilinear", align_corners=False).flatten(1)
            low, high = cam.min(dim=1, keepdim=True).values, cam.max(dim=1, keepdim=True).values
            return ((cam - low) / (high - low + 1e-7)).view(x.shape[0], *x.shape[2:])


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel().astype(np.float64), b.ravel().astype(np.float64))[0, 1])


def measure(gradcam, x, target_class, warmup, runs, max_seconds):
    for _ in range(warmup):
        gradcam(x, target_class)
    times, start = [], time.perf_counter()
    while len(times) < runs and (len(times) < 3 or time.perf_counter() - start < max_seconds):
        t0 = time.perf_counter()
        gradcam(x, target_class)
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times), len(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=os.environ.get("NANOCAM_ZOO_MODELS", ""), help="comma-separated names (default: NANOCAM_ZOO_MODELS, else all)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--warmup", type=int, default=3, help="untimed Grad-CAMs first")
    parser.add_argument("--runs", type=int, default=15, help="timed Grad-CAMs; the median is reported")
    parser.add_argument("--max-seconds", type=float, default=10.0, help="stop timing a case after this long (at least 3 runs)")
    parser.add_argument("--frozen", action="store_true", help="frozen parameters, backward stopped at the target layer")
    parser.add_argument("--csv", help="also write the rows to this CSV file")
    args = parser.parse_args()

    torch.set_num_interop_threads(1)
    rows = []
    for name, build, layer, target_class, image, logits, reference in discover([m for m in args.models.split(",") if m]):
        torch.manual_seed(ZOO_SEED)
        model = build().eval()
        image_t = torch.from_numpy(image)
        note = "random weights"
        if logits is not None:
            with torch.no_grad():
                error = float(np.abs(model(image_t).numpy() - logits).max() / np.abs(logits).max())
            if error > 1e-4:
                raise SystemExit(f"gradcam_latency: {name}: the rebuilt model's logits differ from NAME.logits.npy by {error:.2e} of the largest")
            note = f"exported weights (logits within {error:.1e})"
        gradcam = GradCam(model, layer, args.frozen)
        if reference is not None:
            r = pearson(gradcam(image_t, target_class)[0].numpy(), reference)
            if not r >= 0.99:
                raise SystemExit(f"gradcam_latency: {name}: the map against pytorch-grad-cam's: Pearson r = {r:.4f} < 0.99")
            note += f", map r = {r:.5f} against pytorch-grad-cam's"
        print(f"// {name}: {note}", file=sys.stderr)
        for batch in args.batches:
            x = image_t.repeat(batch, 1, 1, 1)
            for threads in args.threads:
                torch.set_num_threads(threads)
                median, count = measure(gradcam, x, target_class, args.warmup, args.runs, args.max_seconds)
                rows.append({"model": name, "batch": batch, "threads": threads, "mode": "frozen" if args.frozen else "hooks",
                             "median_ms": f"{median:.3f}", "runs": count})
                print(f"// {name} batch {batch} threads {threads}: {median:.3f} ms (median of {count})", file=sys.stderr)
    if args.csv:
        with open(args.csv + ".tmp", "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0].keys()) if rows else ["model"])
            writer.writeheader()
            writer.writerows(rows)
        os.replace(args.csv + ".tmp", args.csv)
    print("| model | batch | threads | mode | PyTorch ms (median) | runs |")
    print("| --- | ---: | ---: | --- | ---: | ---: |")
    for row in rows:
        print(f"| {row['model']} | {row['batch']} | {row['threads']} | {row['mode']} | {row['median_ms']} | {row['runs']} |")


if __name__ == "__main__":
    main()
