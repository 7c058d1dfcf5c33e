"""Models: a deterministic trunk, an MC-dropout head, and optional GRAD and loss-prediction heads."""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn

from ..errors import UserInputError
from ..strategies import STRATEGIES
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
        loss_prediction=STRATEGIES[config.active.strategy].needs_loss_module,
    )


def check_architecture_serves(architecture: str, strategies: Iterable[str]) -> None:
    """Refuses, in one sentence, a strategy whose needs the architecture does not meet (unknown names pass:
    the caller reports those)."""
    needing = [name for name in strategies if name in STRATEGIES and STRATEGIES[name].needs_feature_maps]
    if needing and not TRUNKS[architecture]().map_channels:  # a trunk is built only when it matters
        raise UserInputError(f"strategy {needing[0]!r} needs feature maps, which model.architecture "
                             f"{architecture!r} does not give")


__all__ = ["ActiveModel", "build_model", "check_architecture_serves", "reverse_gradient"]
