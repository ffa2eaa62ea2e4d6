"""Exports torchvision's LR-ASPP MobileNetV3-Large (random weights: no download) to ONNX, with an input and PyTorch's
output, for `nanocam explain --target segmentation:K` on a real segmentation architecture.

    /usr/bin/python3 benchmarks/pytorch/export_segmentation.py OUT_DIR
writes OUT_DIR/lraspp.onnx, lraspp.input.npy [1, 3, 224, 224], lraspp.output.npy [1, 21, 224, 224] and, for class 1 over
its predicted pixels, PyTorch's Grad-CAM at backbone layer 16 (lraspp.gradcam.npy, at that layer's resolution) for the
class the model predicts on most pixels. Keep the model out of the repository.
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
import torchvision


class OutOnly(torch.nn.Module):
    """torchvision's segmentation models return a dict; ONNX wants the tensor."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(x)["out"]


def main(out):
    torch.manual_seed(0)
    model = OutOnly(torchvision.models.segmentation.lraspp_mobilenet_v3_large(weights=None, weights_backbone=None, num_classes=21)).eval()
    x = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(1))
    torch.onnx.export(model, x, os.path.join(out, "lraspp.onnx"), opset_version=13, input_names=["input"], output_names=["out"])
    np.save(os.path.join(out, "lraspp.input.npy"), x.numpy())
    feats = {}
    layer = model.model.backbone["16"]
    handle = layer.register_forward_hook(lambda m, i, o: feats.__setitem__("a", o))
    y = model(x)
    handle.remove()
    np.save(os.path.join(out, "lraspp.output.npy"), y.detach().numpy())
    # The class the random-weight model predicts on most pixels, summed over those pixels.
    predicted = y[0].argmax(dim=0)
    k = int(torch.bincount(predicted.flatten()).argmax())
    mask = (predicted == k).float()
    scalar = (y[0, k] * mask).sum()
    (g,) = torch.autograd.grad(scalar, feats["a"])
    cam = F.relu((g.mean(dim=(2, 3), keepdim=True) * feats["a"]).sum(dim=1))[0]
    np.save(os.path.join(out, "lraspp.gradcam.npy"), cam.detach().numpy())
    print(f"class {k} on {int(mask.sum())} pixels; Grad-CAM at backbone['16'] {tuple(cam.shape)}: nanocam explain --target segmentation:{k} --layer model.backbone.16")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
