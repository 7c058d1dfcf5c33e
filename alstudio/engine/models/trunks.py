"""Deterministic trunks: images -> (pooled features, intermediate feature maps). No dropout here."""

from __future__ import annotations

import torch
from torch import nn


def _conv_block(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU())


class SmallCNN(nn.Module):
    """Three stages of two 3x3 convolutions with max-pooling; fast on a CPU at 32x32."""

    def __init__(self, widths: tuple[int, int, int] = (16, 32, 64)):
        super().__init__()
        stages, c_in = [], 3
        for i, width in enumerate(widths):
            pool = [nn.MaxPool2d(2)] if i < len(widths) - 1 else []
            stages.append(nn.Sequential(_conv_block(c_in, width), _conv_block(width, width), *pool))
            c_in = width
        self.stages = nn.ModuleList(stages)
        self.feature_dim = widths[-1]
        self.map_channels = list(widths)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        maps = []
        for stage in self.stages:
            x = stage(x)
            maps.append(x)
        return x.mean(dim=(2, 3)), maps


class SmallResNet18(nn.Module):
    """torchvision's ResNet-18 for small images: 3x3 stride-1 stem, no max-pool, random init."""

    def __init__(self):
        super().__init__()
        import torchvision  # here, not at the top: its import costs every process seconds (sweep workers)

        net = torchvision.models.resnet18(weights=None)
        net.conv1 = nn.Conv2d(3, 64, 3, stride=1, padding=1, bias=False)
        self.stem = nn.Sequential(net.conv1, net.bn1, net.relu)
        self.layers = nn.ModuleList([net.layer1, net.layer2, net.layer3, net.layer4])
        self.feature_dim = 512
        self.map_channels = [64, 128, 256, 512]

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        x = self.stem(x)
        maps = []
        for layer in self.layers:
            x = layer(x)
            maps.append(x)
        return x.mean(dim=(2, 3)), maps


TRUNKS = {"cnn": SmallCNN, "resnet18": SmallResNet18}
