"""fit / evaluate / predict on tensors held in memory: batches are slices, not per-item Python calls."""

from __future__ import annotations

import pickle
import time
import warnings
from collections.abc import Callable, Generator
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

from .errors import UserInputError
from .models import ActiveModel
from .models.loss_prediction import ranking_loss

PREDICT_BATCH = 512


def available_devices() -> list[str]:
    """The devices torch can train on here, best first."""
    found = []
    if torch.cuda.is_available():
        found.append("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        found.append("mps")
    return found + ["cpu"]


class DeviceUnavailable(UserInputError):
    """training.device names a device this machine does not have."""


def pick_device(requested: str = "auto") -> torch.device:
    """auto: CUDA, then Apple's MPS, then the CPU."""
    available = available_devices()
    if requested == "auto":
        return torch.device(available[0])
    if requested not in available:
        what = {"cuda": "no CUDA device", "mps": "Apple's MPS is not"}.get(requested, f"{requested} is not")
        raise DeviceUnavailable(f"training.device is {requested!r} but {what} available here; this machine "
                                f"has: {', '.join(available)}")
    return torch.device(requested)


def load_weights(path, device: torch.device | str = "cpu") -> dict:
    """A state dict saved with torch.save, never code: a file that asks to run any is refused."""
    try:
        with warnings.catch_warnings():  # torch's remarks on a foreign pickle's protocol: the refusal says enough
            warnings.simplefilter("ignore", UserWarning)
            return torch.load(path, map_location=device, weights_only=True)
    except pickle.UnpicklingError:
        raise UserInputError(f"{path}: not a plain weights file (it asks to run code), so it will not be "
                             "loaded") from None


def device_description(device: torch.device) -> str:
    if device.type == "cuda":
        return f"CUDA: {torch.cuda.get_device_name(device)}"
    return "Apple MPS" if device.type == "mps" else "CPU"


def to_tensor(images: np.ndarray, device: torch.device) -> torch.Tensor:
    """uint8 [N, H, W, 3] -> float [N, 3, H, W], centred and scaled once for the whole run."""
    x = torch.from_numpy(np.ascontiguousarray(images)).to(device).permute(0, 3, 1, 2).float()
    return ((x / 255.0) - 0.5) / 0.25


def seed_everything(seed: int) -> None:
    torch.manual_seed(seed)  # seeds every device's generator, CUDA included


@dataclass
class FitStats:
    seconds: float
    images_per_second: float
    final_loss: float


class Stopped(Exception):
    """The stop event was set; the caller decides what that means."""


def fit(model: ActiveModel, images: torch.Tensor, labels: torch.Tensor, groups: torch.Tensor, training,
        seed: int, checkpoint: Callable[[], None] | None = None) -> Generator[tuple[int, int], None, FitStats]:
    """Train in place, yielding (epoch, epochs) after each epoch; returns FitStats.

    `training` is a TrainingConfig; `seed` fixes the batch order and the dropout masks.
    `checkpoint` runs between batches: it may block (pause) or raise (stop).
    """
    generator = torch.Generator().manual_seed(seed)
    seed_everything(seed)
    params = [p for p in model.parameters() if p.requires_grad]
    if training.optimizer == "sgd":
        optimizer = torch.optim.SGD(params, lr=training.learning_rate, momentum=training.momentum,
                                    weight_decay=training.weight_decay)
    else:
        optimizer = torch.optim.Adam(params, lr=training.learning_rate, weight_decay=training.weight_decay)
    n, batch = len(labels), training.batch_size
    detach_after = training.loss_prediction_stop * training.epochs  # epochs [0, detach_after) keep the gradient
    model.train()
    started, seen, loss_value = time.perf_counter(), 0, float("nan")
    for epoch in range(training.epochs):
        order = torch.randperm(n, generator=generator).to(images.device)
        for start in range(0, n, batch):
            index = order[start:start + batch]
            if len(index) < 2 and n >= 2:
                continue  # batch norm cannot train on a single image
            if checkpoint is not None:
                checkpoint()
            loss = _batch_loss(model, images[index], labels[index], groups[index], training,
                               detach_maps=epoch >= detach_after)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            seen += len(index)
            loss_value = float(loss.detach())
        yield epoch + 1, training.epochs
    seconds = time.perf_counter() - started
    return FitStats(seconds, seen / max(seconds, 1e-9), loss_value)


def fit_to_end(*args, **kwargs) -> FitStats:
    """fit() without the per-epoch progress."""
    progress = fit(*args, **kwargs)
    while True:
        try:
            next(progress)
        except StopIteration as done:
            return done.value


def _batch_loss(model: ActiveModel, x, y, g, training, detach_maps: bool) -> torch.Tensor:
    features, maps = model.features(x)
    per_sample = F.cross_entropy(model.classifier(features), y, reduction="none")
    loss = per_sample.mean()
    if model.adversary is not None and training.grad_lambda > 0:
        loss = loss + training.grad_lambda * F.cross_entropy(model.adversary(features), g)
    if model.loss_module is not None:
        if detach_maps:
            # Reassign: a bare `m.detach()` would leave the trunk receiving this gradient.
            maps = [m.detach() for m in maps]
        loss = loss + training.loss_prediction_weight * ranking_loss(model.loss_module(maps), per_sample)
    return loss


@torch.no_grad()
def predict_features(model: ActiveModel, images: torch.Tensor) -> torch.Tensor:
    """Pooled trunk features [N, D], deterministic (eval mode)."""
    model.eval()
    return torch.cat([model.features(images[i:i + PREDICT_BATCH])[0] for i in range(0, len(images), PREDICT_BATCH)])


@torch.no_grad()
def mc_probabilities(model: ActiveModel, features: torch.Tensor, samples: int, seed: int) -> np.ndarray:
    """[N, C, T] softmax probabilities from T dropout masks on features computed once."""
    model.eval()
    seed_everything(seed)
    out = []
    rows = max(1, PREDICT_BATCH * 8 // samples)
    for i in range(0, len(features), rows):
        chunk = features[i:i + rows]
        tiled = chunk.repeat(samples, 1)  # [T*B, D]: one head call draws T independent masks per row
        probs = F.softmax(model.classifier(tiled, mc=True), dim=1)
        out.append(probs.view(samples, len(chunk), -1).permute(1, 2, 0).cpu())
    return torch.cat(out).numpy()


@torch.no_grad()
def probabilities(model: ActiveModel, images: torch.Tensor, mc_samples: int = 0, seed: int = 0) -> np.ndarray:
    """[N, C]: one deterministic pass, or the mean over `mc_samples` dropout masks."""
    model.eval()
    features = predict_features(model, images)
    if mc_samples > 0:
        return mc_probabilities(model, features, mc_samples, seed).mean(axis=2)
    return F.softmax(model.classifier(features), dim=1).cpu().numpy()


@torch.no_grad()
def predicted_losses(model: ActiveModel, images: torch.Tensor) -> np.ndarray:
    """The loss-prediction module's output per image [N] (learning_loss)."""
    model.eval()
    out = []
    for i in range(0, len(images), PREDICT_BATCH):
        _, maps = model.features(images[i:i + PREDICT_BATCH])
        out.append(model.loss_module(maps).cpu())
    return torch.cat(out).numpy()
