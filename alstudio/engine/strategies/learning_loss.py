"""Learning loss (LL4AL): a module trained alongside the model predicts each candidate's loss."""

from __future__ import annotations

from ..errors import UserInputError
from .base import Strategy


class LearningLoss(Strategy):
    name, title = "learning_loss", "Learning loss"
    description = ("A loss-prediction module, trained with the model on the trunk's feature maps, predicts each "
                   "candidate's loss; the highest are taken (Yoo & Kweon 2019).")
    needs_loss_module = True
    needs_feature_maps = True  # the loss module reads the trunk's intermediate maps
    explains = True

    def scores(self, ctx):
        if getattr(ctx.model, "loss_module", None) is None:
            raise UserInputError(f"strategy {self.name!r} needs a model with a loss-prediction module")
        return ctx.predicted_losses
