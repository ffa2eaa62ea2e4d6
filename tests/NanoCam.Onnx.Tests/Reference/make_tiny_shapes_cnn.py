"""A tiny CNN for the fine-tuning tests (GraphTrainingTests.cs, TrainInitCommandTests.cs), exported with PyTorch.

Input [N, 3, 64, 64] (the shapes data set; batch axis dynamic), six classes, about 15 K parameters. The first batch norm follows a convolution,
so export folds it in (its weights become onnx::Conv_* initializers that only the node names' module paths name); the
second follows a ReLU and stays a BatchNormalization node (running statistics as initializers). Random initialization
(seed 0): the tests fine-tune it. Writes tiny_shapes_cnn.onnx next to this script:
  /usr/bin/python3 make_tiny_shapes_cnn.py
"""
import os

import torch
from torch import nn


class TinyShapesCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.BatchNorm2d(32), nn.MaxPool2d(2),
            nn.Conv2d(32, 32, 3, padding=1), nn.ReLU())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(32, 6)

    def forward(self, x):
        return self.classifier(torch.flatten(self.pool(self.features(x)), 1))


torch.manual_seed(0)
model = TinyShapesCnn()
# Non-trivial running statistics, so that eval mode and train mode differ from the first batch.
with torch.no_grad():
    for bn in (model.features[1], model.features[6]):
        bn.running_mean.uniform_(-0.2, 0.2)
        bn.running_var.uniform_(0.5, 1.5)
model.eval()
here = os.path.dirname(os.path.abspath(__file__))
torch.onnx.export(model, torch.zeros(1, 3, 64, 64), os.path.join(here, "tiny_shapes_cnn.onnx"), opset_version=13,
                  input_names=["input"], output_names=["logits"], dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
