"""cuBLAS, cuDNN and a PyTorch GAP-CNN training step on the GPU: the peers of NanoCam's ILGPU kernels in benchmarks/gpu/run.sh.

Times, with CUDA events after warm-up (median of rounds):
  * GEMM 4096x4096x4096 FP32 (torch.matmul -> cuBLAS; TF32 disabled so it is true FP32, as ours);
  * 3x3 convolution forward, batch 64, 64->64 channels, 56x56, padding 1, with bias (F.conv2d -> cuDNN, benchmark mode);
  * the GAP-CNN training step of benchmarks/pytorch/train_step.py (batch 64, 1x28x28, SGD momentum 0.9) on the GPU.
Prints one line per case with ms and GFLOP/s (FLOPs counted as NanoCam's benchmarks count them).

    python3 benchmarks/gpu/torch_peers.py [--rounds 7] [--steps 20]
"""
import argparse
import os
import statistics
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pytorch"))
from train_step import gap_cnn, train_step  # noqa: E402  (the same network and step as the CPU peer)


def timed(run, rounds: int, steps: int) -> float:
    """Median over rounds of the mean milliseconds per call, measured with CUDA events."""
    for _ in range(3):
        run()
    torch.cuda.synchronize()
    per_call = []
    for _ in range(rounds):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(steps):
            run()
        end.record()
        torch.cuda.synchronize()
        per_call.append(start.elapsed_time(end) / steps)
    return statistics.median(per_call)


def gap_cnn_step_flops(batch: int = 64, size: int = 28, classes: int = 10) -> float:
    """TrainingStepBenchmarks.StepFlops: forward + dWeight + dInput of every layer except dInput of the first conv."""
    def conv(n, c, h, k):
        return 2.0 * n * k * h * h * c * 9
    conv1, conv2, conv3 = conv(batch, 1, size, 32), conv(batch, 32, size // 2, 64), conv(batch, 64, size // 4, 128)
    fc = 2.0 * batch * classes * 128
    return 2 * conv1 + 3 * (conv2 + conv3 + fc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        sys.exit("torch_peers.py: error: PyTorch sees no CUDA device")
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    device = torch.device("cuda")
    name = torch.cuda.get_device_name(0)
    torch.manual_seed(42)

    a = torch.rand(4096, 4096, device=device) * 2 - 1
    b = torch.rand(4096, 4096, device=device) * 2 - 1
    ms = timed(lambda: torch.matmul(a, b), args.rounds, args.steps)
    print(f"cublas gemm 4096^3 fp32: {ms:.3f} ms, {2 * 4096 ** 3 / ms / 1e6:.0f} GFLOP/s ({name}, torch {torch.__version__})")

    x = torch.rand(64, 64, 56, 56, device=device) * 2 - 1
    w = torch.rand(64, 64, 3, 3, device=device) * 2 - 1
    bias = torch.rand(64, device=device) * 2 - 1
    ms = timed(lambda: F.conv2d(x, w, bias, padding=1), args.rounds, args.steps)
    flops = 2.0 * 64 * 64 * 56 * 56 * 64 * 9
    print(f"cudnn conv 3x3 batch 64 64->64 56x56 fp32: {ms:.3f} ms, {flops / ms / 1e6:.0f} GFLOP/s (cudnn {torch.backends.cudnn.version()})")

    model = gap_cnn().to(device).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    images_host = torch.rand(64, 1, 28, 28)
    labels_host = torch.randint(0, 10, (64,))

    def step() -> None:
        # Like NanoCam's step on a device: the batch is copied in from the host each step.
        train_step(model, optimizer, images_host.to(device), labels_host.to(device))

    ms = timed(step, args.rounds, args.steps)
    print(f"pytorch gapcnn train step (batch 64, 28x28): {ms:.3f} ms, {gap_cnn_step_flops() / ms / 1e6:.1f} GFLOP/s")


if __name__ == "__main__":
    main()
