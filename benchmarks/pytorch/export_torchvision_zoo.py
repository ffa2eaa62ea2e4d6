"""The 17 full-size torchvision ImageNet classifiers with random weights, exported to ONNX with PyTorch's references.

For each architecture: `torch.manual_seed(4321)`, then the torchvision constructor with `weights=None` (no download;
googlenet and inception_v3 with `aux_logits=False, init_weights=True`), eval mode, export with `torch.onnx.export`'s
defaults (constant folding on, batch fixed at 1) at opset 13, or 17 when opset 13 does not export; input `input`,
output `logits`; and `convnext_tiny_op17`, ConvNeXt-T again at opset 17 (LayerNormalization). Then, on a standard normal input (`torch.Generator().manual_seed(99)`), PyTorch's logits and
pytorch-grad-cam's Grad-CAM and Grad-CAM++ maps for the top class at the layer its README recommends for that
family (ResNet: `layer4[-1]`; VGG, DenseNet, MobileNet: `features[-1]`; MnasNet: `layers[-1]`) or, for the families
it does not name, the last feature block before global pooling. Writes to --out (default /work/fullsize), per model
NAME, the same layout as shared/data/models/zoo (shared/data/README.md, section 7):

  NAME.onnx                       the model
  NAME.json                       opset, input shape, parameters, SHA-256, ops, target_expression (as pytorch-grad-cam's
                                  README writes it), target_module (its dotted path in named_modules), target_tensor
                                  (the ONNX tensor that module outputs), target_class, versions
  NAME.input.npy, NAME.logits.npy the input [1, 3, S, S] and PyTorch's logits [1, 1000]
  NAME.activations.npy            the target module's output [1, K, h, w] as its forward hook saw it (before any
                                  in-place ReLU after it): a check of the features where random weights leave the
                                  logits insensitive to them (googlenet's equal fc.bias to float precision)
  NAME.gradcam.npy, NAME.gradcampp.npy  pytorch-grad-cam (commit 084273b) maps [S, S] (float32)

The models keep torchvision's in-place ReLUs: pytorch-grad-cam is run on the model as users build it. Where an in-place
ReLU follows the hooked module (densenet121's F.relu(features, inplace=True) after norm5), pytorch-grad-cam holds
ReLU(A) as the activations and ∂y/∂A as the gradients; the JSON says so under `inplace_relu_after_target`.

Run with Debian's PyTorch and pytorch-grad-cam's source on the path (tests/NanoCam.Explain.Tests/Reference/README.md):
  PYTHONPATH=/work/ext/pytorch-grad-cam:/work/ext/shims /usr/bin/python3 benchmarks/pytorch/export_torchvision_zoo.py
  [--out DIR] [--models resnet18,vgg16]
Then `dotnet run -c Release --project benchmarks/NanoCam.Benchmarks -- torchvision-zoo --dir DIR`.
"""
import argparse
import hashlib
import json
import os
import sys
import time

import numpy as np
import onnx
import torch
import torchvision

import pytorch_grad_cam as pgc
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

# name -> (constructor keyword arguments beyond weights=None, target layer as pytorch-grad-cam's README writes it)
MODELS = {
    "resnet18": ({}, "layer4[-1]"),
    "resnet50": ({}, "layer4[-1]"),
    "resnext50_32x4d": ({}, "layer4[-1]"),
    "mobilenet_v2": ({}, "features[-1]"),
    "mobilenet_v3_small": ({}, "features[-1]"),
    "mobilenet_v3_large": ({}, "features[-1]"),
    "efficientnet_b0": ({}, "features[-1]"),
    "densenet121": ({}, "features[-1]"),
    "googlenet": ({"aux_logits": False, "init_weights": True}, "inception5b"),
    "inception_v3": ({"aux_logits": False, "init_weights": True}, "Mixed_7c"),
    "shufflenet_v2_x1_0": ({}, "conv5"),
    "mnasnet1_0": ({}, "layers[-1]"),
    "regnet_y_400mf": ({}, "trunk_output[-1]"),
    "convnext_tiny": ({}, "features[-1]"),
    "vgg16": ({}, "features[-1]"),
    "alexnet": ({}, "features[-1]"),
    "squeezenet1_1": ({}, "features[-1]"),
}
# Extra exports of an architecture above at a fixed opset: ConvNeXt's LayerNorm2d is a LayerNormalization node only from
# opset 17 on (at 13 it is decomposed into ReduceMean, Sub, Pow, Sqrt, Div), the form newer exporters write by default.
VARIANTS = {"convnext_tiny_op17": ("convnext_tiny", 17)}
# Modules after which the forward runs an in-place ReLU on the hooked output (outside any module, so no hook sees it).
INPLACE_RELU_AFTER = {"densenet121": "DenseNet.forward: F.relu(features, inplace=True)"}
OPSETS = (13, 17)


def build(name):
    name = VARIANTS.get(name, (name,))[0]
    kwargs, expression = MODELS[name]
    torch.manual_seed(4321)
    model = getattr(torchvision.models, name)(weights=None, **kwargs).eval()
    layer = eval(f"model.{expression}", {"model": model})
    path = next(p for p, m in model.named_modules() if m is layer)
    return model, layer, expression, path


def export(model, x, path, opsets=OPSETS):
    """torch.onnx.export's defaults at the first of opsets that exports; returns the opset and the failures before it."""
    errors = []
    for opset in opsets:
        try:
            torch.onnx.export(model, x, path, opset_version=opset, input_names=["input"], output_names=["logits"])
            return opset, errors
        except Exception as ex:  # the exporter raises several types (SymbolicValueError, RuntimeError, UnsupportedOperatorError)
            errors.append(f"opset {opset}: {type(ex).__name__}: {str(ex).splitlines()[0]}")
    raise RuntimeError("; ".join(errors))


def module_output_tensor(model_proto, module_path, activation_shape):
    """
    The tensor that module_path outputs in the exported graph, found without NanoCam's rule (the last node in the
    module's scope): the outputs of nodes in the scope that a node outside it (or the graph output) reads. torch.onnx
    names a node /a/a.b/a.b.c/Op; a scope part is either the full dotted path or the name within its parent.
    Checked against the shape of the activation pytorch-grad-cam hooked.
    """
    def scopes(node_name):
        path, out = "", []
        for part in node_name.strip("/").split("/")[:-1]:
            path = part if not path or part.startswith(path + ".") else path + "." + part
            out.append(path)
        return out

    graph = model_proto.graph
    inside = [n for n in graph.node if module_path in scopes(n.name)]
    produced = {o for n in inside for o in n.output}
    inside_names = {n.name for n in inside}
    read_outside = {i for n in graph.node if n.name not in inside_names for i in n.input if i in produced}
    read_outside |= {o.name for o in graph.output if o.name in produced}
    inferred = onnx.shape_inference.infer_shapes(model_proto)
    shapes = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim] for v in inferred.graph.value_info}
    candidates = sorted(t for t in read_outside if shapes.get(t) == list(activation_shape))
    assert len(candidates) == 1, f"{module_path}: tensors read outside the module {sorted(read_outside)}, of shape {list(activation_shape)}: {candidates}"
    return candidates[0]


def save(out, name, array):
    np.save(os.path.join(out, name), np.ascontiguousarray(array, dtype=np.float32))


def run(name, out):
    started = time.time()
    model, layer, expression, module_path = build(name)
    architecture = VARIANTS.get(name, (name,))[0]
    size = 299 if architecture == "inception_v3" else 224
    x = torch.randn(1, 3, size, size, generator=torch.Generator().manual_seed(99))
    onnx_path = os.path.join(out, f"{name}.onnx")
    opset, export_errors = export(model, x, onnx_path, VARIANTS[name][1:] if name in VARIANTS else OPSETS)

    with torch.no_grad():
        activation = {}
        handle = layer.register_forward_hook(lambda m, i, o: activation.__setitem__("a", o.clone()))
        logits = model(x)
        handle.remove()
    top = int(torch.argmax(logits[0]))
    save(out, f"{name}.input.npy", x.numpy())
    save(out, f"{name}.logits.npy", logits.numpy())
    save(out, f"{name}.activations.npy", activation["a"].numpy())

    targets = [ClassifierOutputTarget(top)]
    maps = {}
    for file, method in (("gradcam", pgc.GradCAM), ("gradcampp", pgc.GradCAMPlusPlus)):
        with method(model=model, target_layers=[layer]) as cam:
            maps[file] = cam(input_tensor=x, targets=targets)[0]
        save(out, f"{name}.{file}.npy", maps[file])

    model_proto = onnx.load(onnx_path)
    graph = model_proto.graph
    tensor = module_output_tensor(model_proto, module_path, activation["a"].shape)
    with open(onnx_path, "rb") as f:
        sha256 = hashlib.sha256(f.read()).hexdigest()
    meta = {
        "name": name, "opset": opset, "input": [1, 3, size, size], "dynamic_batch": False,
        "constructor": f"torchvision.models.{architecture}(weights=None{''.join(f', {k}={v}' for k, v in MODELS[architecture][0].items())})",
        "parameters": sum(p.numel() for p in model.parameters()),
        "bytes": os.path.getsize(onnx_path), "sha256": sha256,
        "ops": sorted({n.op_type for n in graph.node}),
        "files": {"logits": f"{name}.logits.npy", "activations": f"{name}.activations.npy", "gradcam": f"{name}.gradcam.npy", "gradcampp": f"{name}.gradcampp.npy"},
        "target_expression": f"model.{expression}", "target_module": module_path, "target_tensor": tensor,
        "target_shape": list(activation["a"].shape), "target_class": top,
        "inplace_relu_after_target": INPLACE_RELU_AFTER.get(architecture),
        "export_errors": export_errors,
        "torch": torch.__version__, "torchvision": torchvision.__version__, "onnx": onnx.__version__,
        "numpy": np.__version__, "python": sys.version.split()[0], "pytorch_grad_cam_commit": "084273b",
    }
    with open(os.path.join(out, f"{name}.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
    print(f"{name}: opset {opset}, {meta['parameters']:,} parameters, {meta['bytes'] / 2**20:.1f} MiB, "
          f"top class {top} ({float(logits[0, top]):.4f}), target {module_path} -> {tensor} {list(activation['a'].shape)}, "
          f"{time.time() - started:.0f} s", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="/work/fullsize")
    names = list(MODELS) + list(VARIANTS)
    parser.add_argument("--models", default=",".join(names), help="comma-separated subset of " + ", ".join(names))
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    for name in args.models.split(","):
        run(name, args.out)


if __name__ == "__main__":
    main()
