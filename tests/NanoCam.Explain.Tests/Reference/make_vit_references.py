"""pytorch-grad-cam reference maps on a vision transformer, for `explain --reshape-tokens`.

Builds the tiny torchvision VisionTransformer of shared/data/models/zoo/vit_tiny.onnx (image 64, patch 16, 2 layers,
2 heads, hidden 32, MLP 64, 10 classes; the same initializer shapes) from `torch.manual_seed(4321)`, except that its
classifier `heads.head` is given nn.Linear's default initialization: torchvision zero-initializes it, which makes every
logit 0 and every gradient vanish. Exports it at opset 17, batch fixed at 1, and runs pytorch-grad-cam's Grad-CAM and
Grad-CAM++ for the top class at `model.encoder.layers[-1].ln_1` with the reshape_transform of its ViT tutorial: the
class token dropped, the 16 patch tokens laid out on their 4x4 grid, channels first. Writes, in vit/ beside this script:

  vit_tiny_head.onnx        the model (opset 17, input `input` [1, 3, 64, 64], output `logits` [1, 10])
  vit_tiny_head.json        target module and tensor, token grid, class, versions, what each file holds
  input.npy, logits.npy     the input [1, 3, 64, 64] (standard normal, torch.Generator().manual_seed(99)) and PyTorch's logits
  gradcam.npy, gradcampp.npy  pytorch-grad-cam's maps [64, 64] (float32) for the top class
  tokens.npy                the target layer's output [1, 17, 32] (before the reshape), for a check of the capture itself

Run with Debian's PyTorch and pytorch-grad-cam's source on the path (README.md here):
  PYTHONPATH=/path/to/pytorch-grad-cam:/path/to/ttach-stand-in /usr/bin/python3 make_vit_references.py
"""
import hashlib
import json
import os
import sys

import numpy as np
import onnx
import torch
import torchvision
from torchvision.models.vision_transformer import VisionTransformer

import pytorch_grad_cam as pgc
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "vit")
SIZE, PATCH = 64, 16
GRID = SIZE // PATCH


def build_model():
    torch.manual_seed(4321)
    model = VisionTransformer(image_size=SIZE, patch_size=PATCH, num_layers=2, num_heads=2, hidden_dim=32, mlp_dim=64,
                              num_classes=10)
    # torchvision sets heads.head's weight and bias to zero; nn.Linear's own initialization (kaiming-uniform weight,
    # uniform bias), drawn from the same generator right after construction, gives the class scores a gradient.
    model.heads.head.reset_parameters()
    return model.eval()


def reshape_transform(tensor, height=GRID, width=GRID):
    """pytorch-grad-cam's ViT tutorial: [N, 1 + h*w, D] -> drop the class token -> [N, h, w, D] -> [N, D, h, w]."""
    result = tensor[:, 1:, :].reshape(tensor.size(0), height, width, tensor.size(2))
    return result.transpose(2, 3).transpose(1, 2)


def zoo_model_path():
    """NANOCAM_DATA, else a shared/data folder above this script, else /work/shared/data (as the C# tests look)."""
    roots = [os.environ["NANOCAM_DATA"]] if os.environ.get("NANOCAM_DATA") else []
    here = os.path.dirname(os.path.abspath(__file__))
    while os.path.dirname(here) != here:
        roots.append(os.path.join(here, "shared", "data"))
        here = os.path.dirname(here)
    roots.append("/work/shared/data")
    paths = [os.path.join(root, "models", "zoo", "vit_tiny.onnx") for root in roots]
    return next((p for p in paths if os.path.exists(p)), None)


def check_matches_zoo(onnx_path):
    """Every initializer of the zoo's vit_tiny.onnx with the same shape here (and the same values but the head)."""
    zoo = zoo_model_path()
    if zoo is None:
        print("shared/data/models/zoo/vit_tiny.onnx not found (set NANOCAM_DATA); its initializers were not compared")
        return None
    from onnx import numpy_helper
    ours = {i.name: numpy_helper.to_array(i) for i in onnx.load(onnx_path).graph.initializer}
    theirs = {i.name: numpy_helper.to_array(i) for i in onnx.load(zoo).graph.initializer}
    assert ours.keys() == theirs.keys(), f"initializers differ: {sorted(ours.keys() ^ theirs.keys())}"
    for name, value in theirs.items():
        assert ours[name].shape == value.shape, f"{name}: {ours[name].shape} here, {value.shape} in the zoo"
        if not name.startswith("heads.head"):
            assert np.array_equal(ours[name], value), f"{name} differs from the zoo's"
    assert not theirs["heads.head.weight"].any() and ours["heads.head.weight"].any()
    return hashlib.sha256(open(zoo, "rb").read()).hexdigest()


def save(name, array):
    np.save(os.path.join(HERE, name), np.ascontiguousarray(array, dtype=np.float32))


def main():
    os.makedirs(HERE, exist_ok=True)
    model = build_model()
    x = torch.randn(1, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(99))
    onnx_path = os.path.join(HERE, "vit_tiny_head.onnx")
    torch.onnx.export(model, x, onnx_path, opset_version=17, input_names=["input"], output_names=["logits"])
    zoo_sha256 = check_matches_zoo(onnx_path)

    layer = model.encoder.layers[-1].ln_1
    with torch.no_grad():
        tokens = {}
        handle = layer.register_forward_hook(lambda m, i, o: tokens.__setitem__("t", o.clone()))
        logits = model(x)
        handle.remove()
    top = int(torch.argmax(logits[0]))
    save("input.npy", x.numpy())
    save("logits.npy", logits.numpy())
    save("tokens.npy", tokens["t"].numpy())
    print("logits", logits.numpy().round(4), "top class", top)

    targets = [ClassifierOutputTarget(top)]
    for file, method in (("gradcam", pgc.GradCAM), ("gradcampp", pgc.GradCAMPlusPlus)):
        with method(model=model, target_layers=[layer], reshape_transform=reshape_transform) as cam:
            grayscale = cam(input_tensor=x, targets=targets)[0]
        assert grayscale.max() > 0, f"{file}: pytorch-grad-cam's map is all zero"
        save(f"{file}.npy", grayscale)

    graph = onnx.load(onnx_path).graph
    module = "encoder.layers.encoder_layer_1.ln_1"
    tensors = [n.output[0] for n in graph.node if n.name.startswith(f"/encoder/layers/encoder_layer_1/ln_1/")]
    assert len(tensors) == 1 and next(n for n in graph.node if n.output[0] == tensors[0]).op_type == "LayerNormalization", tensors
    import cv2
    meta = {
        "model": "vit_tiny_head.onnx", "opset": 17, "dynamic_batch": False, "input_shape": [1, 3, SIZE, SIZE],
        "architecture": "torchvision VisionTransformer(image_size=64, patch_size=16, num_layers=2, num_heads=2, "
                        "hidden_dim=32, mlp_dim=64, num_classes=10), torch.manual_seed(4321), heads.head.reset_parameters()",
        "same_initializers_as": {"file": "shared/data/models/zoo/vit_tiny.onnx", "sha256": zoo_sha256,
                                 "except": "heads.head.weight and heads.head.bias (zero there)"},
        "parameters": sum(p.numel() for p in model.parameters()),
        "ops": sorted({n.op_type for n in graph.node}),
        "target_expression": "model.encoder.layers[-1].ln_1", "target_module": module, "target_tensor": tensors[0],
        "tokens": [1, 1 + GRID * GRID, 32], "class_tokens": 1, "grid": [GRID, GRID],
        "reshape_transform": "tensor[:, 1:, :].reshape(N, 4, 4, D).transpose(2, 3).transpose(1, 2)",
        "target_class": top,
        "files": {"input": "input.npy", "logits": "logits.npy", "gradcam": "gradcam.npy", "gradcampp": "gradcampp.npy",
                  "tokens": "tokens.npy"},
        "torch": torch.__version__, "torchvision": torchvision.__version__, "numpy": np.__version__, "onnx": onnx.__version__,
        "opencv": cv2.__version__, "python": sys.version.split()[0], "pytorch_grad_cam_commit": "084273b",
    }
    with open(os.path.join(HERE, "vit_tiny_head.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    print(json.dumps(meta, indent=2))


if __name__ == "__main__":
    main()
