"""The GAP-CNN training step of benchmarks/NanoCam.Benchmarks/TrainingStepBenchmarks.cs, in PyTorch on the CPU.

Same network (conv 3x3 1->32, ReLU, maxpool 2, 32->64, ReLU, maxpool 2, 64->128, ReLU, global average pool,
FC 128->10), same batch (64 single-channel 28x28 images, uniform [0, 1), random labels), same step (forward,
mean cross-entropy, backward, SGD lr 0.01 momentum 0.9, zero the gradients), and like NanoCam's step it reads the
loss and counts correct predictions. Prints one line: the median over rounds of the mean milliseconds per step.

    python3 benchmarks/pytorch/train_step.py [--threads 1] [--warmup 20] [--rounds 7] [--steps 30]
"""
import argparse
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def gap_cnn(in_channels: int = 1, classes: int = 10) -> nn.Module:
    def conv(cin: int, cout: int) -> nn.Conv2d:
        return nn.Conv2d(cin, cout, kernel_size=3, padding=1)

    return nn.Sequential(
        conv(in_channels, 32), nn.ReLU(), nn.MaxPool2d(2),
        conv(32, 64), nn.ReLU(), nn.MaxPool2d(2),
        conv(64, 128), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Linear(128, classes),
    )


def train_step(model: nn.Module, optimizer: torch.optim.Optimizer, images: torch.Tensor, labels: torch.Tensor) -> None:
    """Forward, mean cross-entropy, backward, update, zero the gradients; reads the loss and the count of correct predictions, as NanoCam's step does."""
    logits = model(images)
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    loss.item()
    (logits.argmax(dim=1) == labels).sum().item()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--warmup", type=int, default=20, help="untimed steps first")
    parser.add_argument("--rounds", type=int, default=7, help="timed rounds; the median round is reported")
    parser.add_argument("--steps", type=int, default=30, help="steps per timed round")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(42)

    model = gap_cnn()
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    images = torch.rand(args.batch, 1, 28, 28)
    labels = torch.randint(0, 10, (args.batch,))

    def step() -> None:
        train_step(model, optimizer, images, labels)

    for _ in range(args.warmup):
        step()
    round_ms = []
    for _ in range(args.rounds):
        start = time.perf_counter()
        for _ in range(args.steps):
            step()
        round_ms.append((time.perf_counter() - start) * 1000.0 / args.steps)

    print(f"pytorch {torch.__version__} gapcnn train step: {statistics.median(round_ms):.3f} ms/step "
          f"(median of {args.rounds}x{args.steps} steps, min {min(round_ms):.3f}; threads={args.threads}, batch={args.batch}, 28x28)")


if __name__ == "__main__":
    main()
