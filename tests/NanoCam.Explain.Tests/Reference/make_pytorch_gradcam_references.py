"""Reference maps from pytorch-grad-cam for NanoCam's parity tests (PyTorchGradCamParityTests.cs).

Builds a narrow two-stage ResNet (torchvision BasicBlocks, ~66 K parameters, input 3x64x64, 10 classes) with fixed
seeds, exports it to ONNX (opset 13), and runs every method NanoCam shares with pytorch-grad-cam at the output of the
last residual block for two classes. Writes, next to this script:

  resnet_narrow.onnx             the model (batch axis dynamic)
  resnet_narrow.json             target tensor, classes, versions, what each file holds
  input.npy, logits.npy          the input [1,3,64,64] (standard normal, seed 99) and PyTorch's logits [1,10]
  <method>.c<class>.npy          pytorch-grad-cam's map [64,64] (float32) for that class
  eigencam.npy                   Eigen-CAM (class-agnostic) [64,64]
  eigencam.projection.npy        its projection before ReLU [8,8]; eigengradcam.c<class>.projection.npy likewise
  randomcam.c<class>.weights.npy the uniform(-1, 1) channel weights RandomCAM drew (np.random.seed(7 + class))
  guidedbackprop.c<class>.npy    the guided gradients [3,64,64] (channels first)

Run with Debian's PyTorch (python3-torch, python3-torchvision, python3-opencv) and pytorch-grad-cam's source on the
path (see README.md here):
  PYTHONPATH=<pytorch-grad-cam checkout>:<ttach shim> /usr/bin/python3 make_pytorch_gradcam_references.py
"""
import json
import os
import sys

import numpy as np
import torch
import torchvision
from torchvision.models.resnet import BasicBlock

import pytorch_grad_cam as pgc
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
from pytorch_grad_cam.utils.svd_on_activations import get_2d_projection

HERE = os.path.dirname(os.path.abspath(__file__))
SIZE = 64


class NarrowResNet(torch.nn.Module):
    """conv 3x3/2 -> BN -> ReLU -> maxpool 3x3/2 -> 2 blocks of 20 -> 2 blocks of 40 (stride 2) -> GAP -> FC."""

    def __init__(self, width=20, classes=10):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(3, width, 3, stride=2, padding=1, bias=False)
        self.bn1 = torch.nn.BatchNorm2d(width)
        self.relu = torch.nn.ReLU(inplace=False)
        self.maxpool = torch.nn.MaxPool2d(3, stride=2, padding=1)
        self.layer1 = torch.nn.Sequential(BasicBlock(width, width), BasicBlock(width, width))
        downsample = torch.nn.Sequential(torch.nn.Conv2d(width, 2 * width, 1, stride=2, bias=False),
                                         torch.nn.BatchNorm2d(2 * width))
        self.layer2 = torch.nn.Sequential(BasicBlock(width, 2 * width, stride=2, downsample=downsample),
                                          BasicBlock(2 * width, 2 * width))
        self.avgpool = torch.nn.AdaptiveAvgPool2d(1)
        self.fc = torch.nn.Linear(2 * width, classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer2(self.layer1(x))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def build_model():
    torch.manual_seed(4321)
    model = NarrowResNet()
    # Random batch-norm statistics, so that the folded biases (and FullGrad's bias terms) are not zero.
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            n = module.num_features
            module.weight.data = torch.rand(n) + 0.5
            module.bias.data = 0.2 * torch.randn(n)
            module.running_mean.data = 0.2 * torch.randn(n)
            module.running_var.data = torch.rand(n) + 0.5
    # torchvision's BasicBlock uses ReLU(inplace=True). pytorch-grad-cam's forward hooks keep a layer's output without a
    # copy, so an in-place ReLU after a hooked layer overwrites the stored activations (its gradients stay those of the
    # layer's own output), and fullgrad_by_module below would differentiate the ReLU's output instead of the layer's.
    # Out of place, every hook reads the tensor it names (docs/pytorch-grad-cam-parity.md, "In-place operations").
    # Every ReLU is an nn.ReLU module (none functional), as the guided-backprop model swaps the modules.
    for module in model.modules():
        if isinstance(module, torch.nn.ReLU):
            module.inplace = False
    return model.eval()


def target_tensor(onnx_path):
    """The ONNX tensor that is layer2[-1]'s output: the input of GlobalAveragePool."""
    import onnx
    graph = onnx.load(onnx_path).graph
    ops = sorted({node.op_type for node in graph.node})
    allowed = {"Conv", "BatchNormalization", "Relu", "MaxPool", "Add", "GlobalAveragePool", "Flatten", "Gemm"}
    assert set(ops) <= allowed, f"ops beyond the importer's: {set(ops) - allowed}"
    pools = [node for node in graph.node if node.op_type == "GlobalAveragePool"]
    assert len(pools) == 1
    return pools[0].input[0], ops


def save(name, array):
    np.save(os.path.join(HERE, name), np.ascontiguousarray(array, dtype=np.float32))


def fullgrad_by_module(model, x, cls):
    """FullGrad recomputed with one hook per module, to check that the library paired every bias with its gradient."""
    from pytorch_grad_cam.utils.image import scale_accross_batch_and_channels, scale_cam_image
    layers = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)
              or (isinstance(m, torch.nn.Conv2d) and m.bias is not None)]
    outputs = {}
    handles = [m.register_forward_hook(lambda m, i, o: outputs.__setitem__(m, o)) for m in layers]
    x = x.clone().requires_grad_(True)
    logits = model(x)
    for h in handles:
        h.remove()
    grads = torch.autograd.grad(logits[0, cls], [x] + [outputs[m] for m in layers])
    terms = [scale_accross_batch_and_channels(np.abs(grads[0].numpy() * x.detach().numpy()), (SIZE, SIZE))]
    for m, g in zip(layers, grads[1:]):
        if isinstance(m, torch.nn.BatchNorm2d):
            bias = m.bias - m.running_mean * m.weight / torch.sqrt(m.running_var + m.eps)
        else:
            bias = m.bias
        term = np.abs(bias.detach().numpy()[None, :, None, None] * g.numpy())
        terms.append(scale_accross_batch_and_channels(term, (SIZE, SIZE)).sum(axis=1, keepdims=True))
    return scale_cam_image(np.concatenate(terms, axis=1).sum(axis=1))[0]


def median_gamma(a):
    """The RBF median heuristic: 1 / the median of the squared distances between the positions' activation vectors."""
    x = a[0].reshape(a.shape[1], -1).T.astype(np.float64)  # [hw, K]
    d = ((x[:, None, :] - x[None, :, :]) ** 2).sum(axis=2)
    return float(1.0 / np.median(d[np.triu_indices(len(x), k=1)]))


def newer_methods(model, layer, x, classes, a):
    """ShapleyCAM, Finer-CAM, FEM and KPCA-CAM, the methods pytorch-grad-cam added last; returns the RBF γ used."""
    from pytorch_grad_cam.utils.svd_on_activations import get_2d_projection_kernel
    for cls in classes:
        with pgc.ShapleyCAM(model=model, target_layers=[layer]) as cam:
            save(f"shapleycam.c{cls}.npy", cam(input_tensor=x, targets=[ClassifierOutputTarget(cls)])[0])
        # Without targets Finer-CAM compares class `target_idx` with the 3 classes whose logits are nearest (alpha 1).
        finer = pgc.FinerCAM(model=model, target_layers=[layer])
        save(f"finercam.c{cls}.npy", finer(input_tensor=x, targets=None, target_idx=cls)[0])
        finer.base_cam.activations_and_grads.release()
    with pgc.FEM(model=model, target_layers=[layer]) as cam:
        save("fem.npy", cam(input_tensor=x, targets=None)[0])
    # KPCA-CAM: NanoCam's default kernel (RBF) with γ by the median heuristic, and pytorch-grad-cam's default (sigmoid,
    # scikit-learn's γ = 1 / channels). The kernel PCA's sign is the eigensolver's: the test compares up to it.
    activations = a.numpy()
    gamma = median_gamma(activations)
    for kernel, g in (("rbf", gamma), ("sigmoid", None)):
        with pgc.KPCA_CAM(model=model, target_layers=[layer], kernel=kernel, gamma=g) as cam:
            save(f"kpcacam.{kernel}.npy", cam(input_tensor=x, targets=None)[0])
        save(f"kpcacam.{kernel}.projection.npy", get_2d_projection_kernel(activations, kernel, g)[0])
    return gamma


def main():
    model = build_model()
    generator = torch.Generator().manual_seed(99)
    x = torch.randn(1, 3, SIZE, SIZE, generator=generator)
    onnx_path = os.path.join(HERE, "resnet_narrow.onnx")
    # A dynamic batch axis: Score-CAM and Ablation-CAM run their masked and ablated copies in batches.
    torch.onnx.export(model, x, onnx_path, opset_version=13, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, do_constant_folding=True)
    tensor, ops = target_tensor(onnx_path)

    with torch.no_grad():
        logits = model(x)
    save("input.npy", x.numpy())
    save("logits.npy", logits.numpy())
    order = torch.argsort(logits[0], descending=True).tolist()
    # The top class, and one with a negative score (Ablation-CAM divides by it; its weights change sign).
    negative = [c for c in order if logits[0, c] < 0]
    classes = [order[0], negative[0]]
    print("logits", logits.numpy().round(4), "classes", classes)

    layer = model.layer2[-1]
    with torch.no_grad():
        activation = {}
        handle = layer.register_forward_hook(lambda m, i, o: activation.__setitem__("a", o))
        model(x)
        handle.remove()
    # AblationLayer zeroes a channel only when the layer's minimum is 0 (else it writes min - 1e7).
    assert float(activation["a"].min()) == 0.0, "the target layer has no zero: AblationLayer would not zero channels"

    cams = {
        "gradcam": pgc.GradCAM, "hirescam": pgc.HiResCAM, "gradcam-elementwise": pgc.GradCAMElementWise,
        "gradcam++": pgc.GradCAMPlusPlus, "xgradcam": pgc.XGradCAM, "ablationcam": pgc.AblationCAM,
        "scorecam": pgc.ScoreCAM, "eigengradcam": pgc.EigenGradCAM, "layercam": pgc.LayerCAM,
    }
    for cls in classes:
        targets = [ClassifierOutputTarget(cls)]
        for name, method in cams.items():
            with method(model=model, target_layers=[layer]) as cam:
                save(f"{name}.c{cls}.npy", cam(input_tensor=x, targets=targets)[0])
        with pgc.FullGrad(model=model, target_layers=[]) as cam:
            fullgrad = cam(input_tensor=x, targets=targets)[0]
        check = fullgrad_by_module(model, x, cls)
        assert np.abs(fullgrad - check).max() < 1e-5, "FullGrad paired biases and gradients out of order"
        save(f"fullgrad.c{cls}.npy", fullgrad)

        seed = 7 + cls
        np.random.seed(seed)
        weights = np.random.uniform(-1, 1, size=(1, layer.conv2.out_channels))
        np.random.seed(seed)
        with pgc.RandomCAM(model=model, target_layers=[layer]) as cam:
            save(f"randomcam.c{cls}.npy", cam(input_tensor=x, targets=targets)[0])
        save(f"randomcam.c{cls}.weights.npy", weights[0])

        guided = pgc.GuidedBackpropReLUModel(model=model, device="cpu")(x.clone(), target_category=cls)
        save(f"guidedbackprop.c{cls}.npy", guided.transpose(2, 0, 1))

        # EigenGradCAM's projection before ReLU (the SVD's sign is LAPACK's choice; the test compares up to sign).
        grads_and_activations = pgc.ActivationsAndGradients(model, [layer], None)
        model.zero_grad()
        out = grads_and_activations(x)
        out[0, cls].backward()
        a = grads_and_activations.activations[0].numpy()
        g = grads_and_activations.gradients[0].numpy()
        grads_and_activations.release()
        save(f"eigengradcam.c{cls}.projection.npy", get_2d_projection(g * a)[0])

    with pgc.EigenCAM(model=model, target_layers=[layer]) as cam:
        save("eigencam.npy", cam(input_tensor=x, targets=None)[0])
    save("eigencam.projection.npy", get_2d_projection(activation["a"].numpy())[0])

    kpca_gamma = newer_methods(model, layer, x, classes, activation["a"])

    import cv2
    meta = {
        "model": "resnet_narrow.onnx", "opset": 13, "dynamic_batch": True, "ops": ops, "input_shape": [1, 3, SIZE, SIZE],
        "parameters": sum(p.numel() for p in model.parameters()),
        "target_module": "layer2[-1] (the last BasicBlock)", "target_tensor": tensor, "target_classes": classes,
        "torch": torch.__version__, "torchvision": torchvision.__version__, "numpy": np.__version__,
        "opencv": cv2.__version__, "python": sys.version.split()[0], "pytorch_grad_cam_commit": "084273b",
        "randomcam_seed": "np.random.seed(7 + class)",
        "kpcacam_rbf_gamma": kpca_gamma,
    }
    with open(os.path.join(HERE, "resnet_narrow.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    print(json.dumps(meta, indent=2))


if __name__ == "__main__":
    main()
