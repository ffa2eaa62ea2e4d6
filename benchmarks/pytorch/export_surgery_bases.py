"""Bases for `nanocam gap-surgery`: torchvision vgg11 and resnet18 with RANDOM weights (Debian's torchvision ships none),
exported to ONNX at input 3x64x64 with a dynamic batch axis.

Usage: /usr/bin/python3 benchmarks/pytorch/export_surgery_bases.py [OUT_DIR [SIZE]]   (default /work/fullsize/surgery, 64;
keep it out of the repo). SIZE other than 64 (a multiple of 32, e.g. 32 for MNIST resized with `idx:DIR@32`) exports the
torchvision networks only, at 3xSIZExSIZE. Cuts at 32x32: vgg11_bn features.13 [N, 256, 8, 8], features.20 [N, 512, 4, 4];
resnet18 layer2 [N, 128, 4, 4].

Writes OUT_DIR/vgg11.onnx and OUT_DIR/resnet18.onnx (input `input` [N, 3, 64, 64], output `logits` [N, 1000], opset 13,
`torch.manual_seed(4321)` before each constructor), and OUT_DIR/shapes_vgg.onnx: the shipped shapes network
(weights/shapes-vgg.safetensors, NanoCam's "vgg": conv-BN-ReLU stacks, GAP, fc) rebuilt in PyTorch with the same module
paths and its trained weights, its normalization in metadata_props "nanocam.preprocess". Cuts at 64x64:
  vgg11       features.19 (the last conv's ReLU, before the last MaxPool): [N, 512, 4, 4]
  resnet18    layer3: [N, 256, 4, 4]   (layer4 would be 2x2)
  shapes_vgg  features (its last ReLU): [N, 64, 32, 32]
"""
import json
import os
import struct
import sys

import numpy as np

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


def export(model, path, keep_batch_norm=False, size=64):
    """keep_batch_norm: export BatchNormalization as nodes of its own (inference form, running statistics as
    initializers) instead of folded into the convolutions, so that `train --init` can train it with batch statistics.
    torch.onnx folds BN in eval mode; exported in training mode it keeps BN with training_mode=1 and two extra outputs,
    which are rewritten here to the inference form."""
    # Batch norm in training mode needs more than one value per channel: at 32x32 ResNet's layer4 is 1x1, so trace two
    # images there (at 64 one, as the files exported before SIZE existed; the traced batch moves the running statistics).
    x = torch.randn(1 if size > 32 else 2, 3, size, size)
    if not keep_batch_norm:
        model.eval()
        torch.onnx.export(model, x, path, opset_version=13, input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}}, do_constant_folding=True)
    else:
        import onnx
        model.train()
        torch.onnx.export(model, x, path, opset_version=13, input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}}, do_constant_folding=False,
                          training=torch.onnx.TrainingMode.TRAINING)
        graph = onnx.load(path)
        for node in graph.graph.node:
            if node.op_type == "BatchNormalization":
                del node.output[1:]
                for attribute in list(node.attribute):
                    if attribute.name == "training_mode":
                        node.attribute.remove(attribute)
            if node.op_type == "Dropout":
                del node.output[1:]
        onnx.save(graph, path)
        model.eval()
    print(f"{path}: {sum(p.numel() for p in model.parameters()):,} parameters")


def read_safetensors(path):
    """{name: tensor} from a .safetensors file (an 8-byte header length, a JSON header, then the raw little-endian data)."""
    with open(path, "rb") as f:
        header = json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))
        data = f.read()
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", name
        start, end = info["data_offsets"]
        tensors[name] = torch.from_numpy(np.frombuffer(data[start:end], dtype="<f4").reshape(info["shape"]).copy())
    return tensors


class ShapesVgg(torch.nn.Module):
    """NanoCam's "vgg" (src/NanoCam.Nn/Models/Architectures.cs): the same layers at the same indices, GAP, fc."""

    def __init__(self, classes):
        super().__init__()
        nn = torch.nn

        def block(cin, cout, k=3, padding=1, dilation=1):
            return [nn.Conv2d(cin, cout, k, padding=padding, dilation=dilation), nn.BatchNorm2d(cout, eps=1e-5), nn.ReLU()]

        self.features = nn.Sequential(*block(3, 16), nn.MaxPool2d(2), *block(16, 32), *block(32, 32),
                                      *block(32, 64, padding=2, dilation=2), *block(64, 64, k=1, padding=0))
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        return self.fc(torch.flatten(torch.nn.functional.adaptive_avg_pool2d(self.features(x), 1), 1))


def export_shapes_vgg(out):
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    meta = json.load(open(os.path.join(repo, "weights", "shapes-vgg.json")))
    model = ShapesVgg(len(meta["classes"]))
    state = read_safetensors(os.path.join(repo, "weights", "shapes-vgg.safetensors"))
    missing = model.load_state_dict(state, strict=False)
    assert set(missing.missing_keys) <= {k for k in model.state_dict() if k.endswith("num_batches_tracked")}, missing
    assert not missing.unexpected_keys, missing
    path = os.path.join(out, "shapes_vgg.onnx")
    export(model, path)
    try:
        import onnx  # Debian's python3-onnx, when installed: the normalization travels with the model
        proto = onnx.load(path)
        entry = proto.metadata_props.add()
        entry.key = "nanocam.preprocess"
        entry.value = json.dumps({"scale": 1, "mean": meta["mean"], "std": meta["std"], "input_size": meta["input_height"]})
        onnx.save(proto, path)
        with open(os.path.join(out, "shapes_vgg.labels.txt"), "w") as f:
            f.write("\n".join(meta["classes"]) + "\n")
    except ImportError:
        print("no onnx package: give explain --mean/--std for shapes_vgg.onnx")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "/work/fullsize/surgery"
    size = int(sys.argv[2]) if len(sys.argv) > 2 else 64
    assert size % 32 == 0, "SIZE must be a multiple of 32 (VGG's five poolings)"
    os.makedirs(out, exist_ok=True)
    for name in ["vgg11", "resnet18", "vgg11_bn"]:
        torch.manual_seed(4321)
        model = getattr(torchvision.models, name)(weights=None)
        if name.startswith("vgg11"):
            # At 64x64 the features end 2x2 (SIZE/32 in general); check the replacement against the module it replaces.
            reference, model.avgpool = model.avgpool, AdaptiveAvgPoolAsMatMul(size // 32)
            probe = torch.randn(2, 512, size // 32, size // 32)
            assert torch.allclose(reference(probe), model.avgpool(probe), atol=1e-6)
        export(model, os.path.join(out, f"{name}.onnx"), size=size)
        if name in ("resnet18", "vgg11_bn"):
            # For fine-tuning from random weights: batch norm kept as its own nodes.
            export(model, os.path.join(out, f"{name}.bn.onnx"), keep_batch_norm=True, size=size)
    if size == 64:
        export_shapes_vgg(out)


if __name__ == "__main__":
    main()
