"""Models: a deterministic trunk, an MC-dropout head, and optional GRAD and loss-prediction heads."""

from __future__ import annotations

import torch
from torch import nn

from .heads import GroupAdversary, MCDropoutClassifier, reverse_gradient
from .loss_prediction import LossPredictionModule
from .trunks import TRUNKS


class ActiveModel(nn.Module):
    def __init__(self, architecture: str, n_classes: int, n_groups: int, dropout: float,
                 adversary: bool = False, loss_prediction: bool = False):
        super().__init__()
        self.trunk = TRUNKS[architecture]()
        self.classifier = MCDropoutClassifier(self.trunk.feature_dim, n_classes, dropout)
        self.adversary = GroupAdversary(self.trunk.feature_dim, n_groups) if adversary else None
        self.loss_module = LossPredictionModule(self.trunk.map_channels) if loss_prediction else None

    def features(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Pooled trunk features [B, D] and the intermediate feature maps."""
        return self.trunk(x)

    def forward(self, x: torch.Tensor, mc: bool = False) -> torch.Tensor:
        return self.classifier(self.trunk(x)[0], mc=mc)


def build_model(config, n_classes: int, n_groups: int) -> ActiveModel:
    """The model an ExperimentConfig asks for."""
    return ActiveModel(
        config.model.architecture, n_classes, n_groups, config.model.dropout,
        adversary=config.training.grad_lambda > 0,
        loss_prediction=config.active.strategy == "learning_loss",
    )


__all__ = ["ActiveModel", "build_model", "reverse_gradient"]
