"""Learning Loss for Active Learning (Yoo & Kweon, CVPR 2019): a module that predicts the target
loss of a sample from the trunk's intermediate feature maps, trained with a pairwise ranking loss."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class LossPredictionModule(nn.Module):
    """Per feature map: global average pool -> FC(128) -> ReLU; concatenated -> FC -> 1."""

    def __init__(self, map_channels: list[int], width: int = 128):
        super().__init__()
        self.branches = nn.ModuleList(nn.Linear(c, width) for c in map_channels)
        self.out = nn.Linear(width * len(map_channels), 1)

    def forward(self, maps: list[torch.Tensor]) -> torch.Tensor:
        pooled = [F.relu(fc(m.mean(dim=(2, 3)))) for fc, m in zip(self.branches, maps)]
        return self.out(torch.cat(pooled, dim=1)).squeeze(1)


def ranking_loss(predicted: torch.Tensor, target: torch.Tensor, margin: float = 1.0) -> torch.Tensor:
    """The paper's loss over pairs (i, B-1-i) of the mini-batch: zero when the predicted losses are
    ordered like the true ones with a gap of at least `margin`, positive otherwise. The true loss
    is detached: the module learns to rank, the classifier is not pushed to change its loss."""
    half = len(predicted) // 2
    if half == 0:
        return predicted.sum() * 0.0
    target = target.detach()
    pred_i, pred_j = predicted[:half], predicted.flip(0)[:half]
    true_i, true_j = target[:half], target.flip(0)[:half]
    sign = torch.sign(true_i - true_j)
    return torch.clamp(margin - sign * (pred_i - pred_j), min=0).mean()
