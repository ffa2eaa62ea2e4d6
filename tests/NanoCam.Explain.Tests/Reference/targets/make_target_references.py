"""Reference Grad-CAM maps for NanoCam's explanation targets (Targets/ in NanoCam.Explain).

Four tiny networks with fixed random weights are exported to ONNX beside this script; for each target the scalar
it names is computed with PyTorch autograd directly (no explanation library), and Grad-CAM at the layer "feat" is
written as <model>.<target>.npy ([16, 16], ReLU'd, not normalized). TargetReferenceTests.cs reads them.

Run with Debian's python3-torch:  /usr/bin/python3 make_target_references.py   (writes the same bytes again)
"""
import json
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
SIDE = 16


class Trunk(nn.Module):
    """conv 3→8, ReLU, conv 8→8, ReLU: the layer "feat" [8, 16, 16] every target is explained at."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1)

    def forward(self, x):
        return F.relu(self.conv2(F.relu(self.conv1(x))))


class Classifier(nn.Module):
    """Trunk, GAP, linear to `classes` logits (classes = 1: a binary classifier's single logit)."""

    def __init__(self, classes):
        super().__init__()
        self.trunk = Trunk()
        self.fc = nn.Linear(8, classes)

    def forward(self, x):
        return self.fc(F.adaptive_avg_pool2d(self.trunk(x), 1).flatten(1))


class Segmenter(nn.Module):
    """Trunk, 1×1 conv to 3 class maps [3, 16, 16]."""

    def __init__(self):
        super().__init__()
        self.trunk = Trunk()
        self.head = nn.Conv2d(8, 3, 1)

    def forward(self, x):
        return self.head(self.trunk(x))


class Detector(nn.Module):
    """Trunk, 4×4 average pooling, 1×1 conv to 4 + 1 + 3 values per cell: 16 boxes [cx, cy, w, h, obj, c0, c1, c2]
    in input pixels (centre = (cell + sigmoid) · 4, size = sigmoid · 16; objectness and classes sigmoid'd)."""

    def __init__(self):
        super().__init__()
        self.trunk = Trunk()
        self.head = nn.Conv2d(8, 8, 1)

    def forward(self, x):
        raw = self.head(F.avg_pool2d(self.trunk(x), 4))  # [N, 8, 4, 4]
        n = raw.shape[0]
        raw = raw.permute(0, 2, 3, 1).reshape(n, 16, 8)
        s = torch.sigmoid(raw)
        cell = torch.arange(16, dtype=torch.float32)
        gx, gy = (cell % 4).reshape(1, 16, 1), torch.div(cell, 4, rounding_mode="floor").reshape(1, 16, 1)
        cx = (gx + s[:, :, 0:1]) * 4
        cy = (gy + s[:, :, 1:2]) * 4
        wh = s[:, :, 2:4] * 16
        return torch.cat([cx, cy, wh, s[:, :, 4:]], dim=2)


class Embedder(nn.Module):
    """Trunk, GAP, linear to a 6-dimensional embedding."""

    def __init__(self):
        super().__init__()
        self.trunk = Trunk()
        self.fc = nn.Linear(8, 6)

    def forward(self, x):
        return self.fc(F.adaptive_avg_pool2d(self.trunk(x), 1).flatten(1))


def grad_cam(model, x, scalar_of_output):
    """Grad-CAM (Selvaraju et al. eq. 1–2) at the trunk's output, by autograd on the scalar the target names."""
    feats = {}
    handle = model.trunk.register_forward_hook(lambda m, i, o: feats.__setitem__("a", o))
    out = model(x)
    handle.remove()
    a = feats["a"]
    scalar = scalar_of_output(out)
    (g,) = torch.autograd.grad(scalar, a)
    alpha = g.mean(dim=(2, 3), keepdim=True)
    return F.relu((alpha * a).sum(dim=1))[0].detach().numpy().astype(np.float32), out.detach().numpy()


def iou(a, b):
    """a, b: x1, y1, x2, y2."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def export(model, name, x):
    torch.onnx.export(model, x, os.path.join(HERE, f"{name}.onnx"), opset_version=13, input_names=["input"],
                      output_names=["output"], dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})


def save(name, array):
    np.save(os.path.join(HERE, f"{name}.npy"), np.ascontiguousarray(array, dtype=np.float32))


def main():
    torch.manual_seed(2024)
    x = torch.randn(1, 3, SIDE, SIDE, generator=torch.Generator().manual_seed(7))
    save("input", x.numpy())
    meta = {"torch": torch.__version__, "layer": "feat", "targets": {}}

    classifier = Classifier(5).eval()
    binary = Classifier(1).eval()
    segmenter = Segmenter().eval()
    detector = Detector().eval()
    embedder = Embedder().eval()
    # A reference image for similarity: another random input, and its embedding.
    other = torch.randn(1, 3, SIDE, SIDE, generator=torch.Generator().manual_seed(8))
    save("other", other.numpy())
    with torch.no_grad():
        reference = embedder(other)[0]
    save("embedder.reference", reference.numpy())

    cases = {
        ("classifier", "class:3"): (classifier, lambda y: y[0, 3]),
        ("classifier", "contrast:3,1"): (classifier, lambda y: y[0, 3] - y[0, 1]),
        ("classifier", "softmax:3"): (classifier, lambda y: torch.softmax(y, dim=1)[0, 3]),
        ("classifier", "sigmoid:2"): (classifier, lambda y: torch.sigmoid(y[0, 2])),
        ("classifier", "output:4"): (classifier, lambda y: y[0, 4]),
        ("binary", "binary"): (binary, lambda y: y[0, 0]),
        ("binary", "binary:0"): (binary, lambda y: -y[0, 0]),
        ("embedder", "embedding"): (embedder, lambda y: F.cosine_similarity(y[0], reference, dim=0)),
    }
    # Segmentation: class 1 summed over the pixels where the model predicts it, and over a given mask.
    with torch.no_grad():
        predicted = segmenter(x)[0].argmax(dim=0)
    seg_mask = (predicted == 1).float()
    cases[("segmenter", "segmentation:1")] = (segmenter, lambda y: (y[0, 1] * seg_mask).sum())
    given = torch.zeros(SIDE, SIDE)
    given[2:9, 5:14] = 1
    save("segmenter.mask", given.numpy())
    cases[("segmenter", "segmentation:2,mask")] = (segmenter, lambda y: (y[0, 2] * given).sum())
    # Detection: boxes whose IoU with the given box is ≥ 0.5; Σ objectness × class score (the box's best class, or K).
    with torch.no_grad():
        boxes = detector(x)[0]
    xyxy = [[float(b[0] - b[2] / 2), float(b[1] - b[3] / 2), float(b[0] + b[2] / 2), float(b[1] + b[3] / 2)] for b in boxes]
    query_box = xyxy[5]  # a box the detector predicts; the query rounds it to whole pixels
    query = [round(v) for v in query_box]
    matched = [i for i, b in enumerate(xyxy) if iou(b, query) >= 0.5]
    best = [int(boxes[i, 5:].argmax()) for i in matched]
    meta["detector"] = {"query": query, "matched": matched, "best_classes": best}
    cases[("detector", "box")] = (detector, lambda y: sum(y[0, i, 4] * y[0, i, 5 + c] for i, c in zip(matched, best)))
    cases[("detector", "box:2")] = (detector, lambda y: sum(y[0, i, 4] * y[0, i, 7] for i in matched))

    for name, model in [("classifier", classifier), ("binary", binary), ("segmenter", segmenter), ("detector", detector), ("embedder", embedder)]:
        export(model, name, x)
        with torch.no_grad():
            save(f"{name}.output", model(x).numpy())
    for (model_name, target), (model, scalar) in cases.items():
        cam, _ = grad_cam(model, x, scalar)
        file = f"{model_name}.{target.replace(':', '-').replace(',', '-')}"
        save(file, cam)
        meta["targets"][f"{model_name} {target}"] = file + ".npy"
    with open(os.path.join(HERE, "targets.json"), "w") as f:
        json.dump(meta, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
