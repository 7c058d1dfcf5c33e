"""Heads on top of a trunk's pooled features: the MC-dropout classifier and the GRAD adversary."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class MCDropoutClassifier(nn.Module):
    """dropout -> linear -> ReLU -> dropout -> linear; the only place dropout lives.

    With `mc=True` dropout stays on in eval mode, so the head can be sampled T times on
    features the deterministic trunk computed once.
    """

    def __init__(self, in_features: int, n_classes: int, dropout: float, hidden: int = 128):
        super().__init__()
        self.dropout = dropout
        self.hidden = nn.Linear(in_features, hidden)
        self.out = nn.Linear(hidden, n_classes)

    def forward(self, features: torch.Tensor, mc: bool = False) -> torch.Tensor:
        active = self.training or mc
        x = F.dropout(features, self.dropout, training=active)
        x = F.relu(self.hidden(x))
        x = F.dropout(x, self.dropout, training=active)
        return self.out(x)


class _ReverseGradient(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, scale: float) -> torch.Tensor:
        ctx.scale = scale
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return -ctx.scale * grad, None


def reverse_gradient(x: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
    """Identity forward; multiplies the gradient by -scale on the way back."""
    return _ReverseGradient.apply(x, scale)


class GroupAdversary(nn.Module):
    """GRAD: predicts the sensitive group from the trunk features behind a gradient reversal,
    so that minimising its loss pushes the trunk to forget the group."""

    def __init__(self, in_features: int, n_groups: int, hidden: int = 128):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_features, hidden), nn.ReLU(), nn.Linear(hidden, n_groups))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.net(reverse_gradient(features))
