"""Bases for `nanocam gap-surgery`: torchvision vgg11 and resnet18 with RANDOM weights (Debian's torchvision ships none),
exported to ONNX at input 3x64x64 with a dynamic batch axis.

Usage: /usr/bin/python3 benchmarks/pytorch/export_surgery_bases.py [OUT_DIR]   (default /work/fullsize/surgery; keep it out of the repo)

Writes OUT_DIR/vgg11.onnx and OUT_DIR/resnet18.onnx (input `input` [N, 3, 64, 64], output `logits` [N, 1000], opset 13,
`torch.manual_seed(4321)` before each constructor). The cuts docs/cam-math.md §22 uses at 64x64:
  vgg11     features.19 (the last conv's ReLU, before the last MaxPool): [N, 512, 4, 4]
  resnet18  layer3: [N, 256, 4, 4]   (layer4 would be 2x2)
"""
import os
import sys

import torch
import torchvision


class AdaptiveAvgPoolAsMatMul(torch.nn.Module):
    """AdaptiveAvgPool2d to (7, 7) from a fixed (h, w) as two matrix products, out = P_h · x · P_wᵀ: the same numbers.
    torch.onnx cannot export an adaptive pooling whose output size is not a factor of its input (VGG's 2x2 → 7x7 at 64x64)."""

    def __init__(self, size_in, size_out=7):
        super().__init__()
        p = torch.zeros(size_out, size_in)
        for i in range(size_out):
            start, end = (i * size_in) // size_out, -((-(i + 1) * size_in) // size_out)
            p[i, start:end] = 1.0 / (end - start)
        self.register_buffer("p", p)

    def forward(self, x):
        return torch.matmul(torch.matmul(self.p, x), self.p.t())


def export(model, path):
    model.eval()
    x = torch.randn(1, 3, 64, 64)
    torch.onnx.export(model, x, path, opset_version=13, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}}, do_constant_folding=True)
    print(f"{path}: {sum(p.numel() for p in model.parameters()):,} parameters")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "/work/fullsize/surgery"
    os.makedirs(out, exist_ok=True)
    for name in ["vgg11", "resnet18"]:
        torch.manual_seed(4321)
        model = getattr(torchvision.models, name)(weights=None)
        if name == "vgg11":
            # At 64x64 the features end 2x2; check the replacement against the module it replaces.
            reference, model.avgpool = model.avgpool, AdaptiveAvgPoolAsMatMul(2)
            probe = torch.randn(2, 512, 2, 2)
            assert torch.allclose(reference(probe), model.avgpool(probe), atol=1e-6)
        export(model, os.path.join(out, f"{name}.onnx"))


if __name__ == "__main__":
    main()
