"""fit / evaluate / predict on images held in memory: batches are slices, not per-item Python calls.

Images stay uint8 (`Pixels`) and become floats one batch at a time, so memory grows with the pool's
pixels, not four times that; on a GPU they stay on the device, and nothing waits for it per batch.
"""

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


def to_device(tensor: torch.Tensor, device: torch.device) -> torch.Tensor:
    """A small host tensor on `device` (row numbers, a batch order); to a CUDA device through pinned
    memory, without waiting for the copy.

    Safe without a synchronisation: later work on `device` is queued behind the copy on the same stream,
    and torch's pinned-memory allocator keeps the staging buffer alive until the copy is done.
    """
    if device.type != "cuda" or tensor.device.type != "cpu":
        return tensor.to(device)
    return tensor.pin_memory().to(device, non_blocking=True)


class Pixels:
    """Images as uint8 [N, H, W, 3], turned into the model's float input a batch at a time.

    What `to_tensor` hands the loop in place of a float32 copy of the whole pool, which cost 4 bytes
    more per pixel (614 MB more for 50,000 images at 32x32, and about three times that while it was
    made); selecting rows (the labelled set, the candidates) copies row numbers, not pixels.
    `floats()` gives exactly the values, and the memory layout, the old float copy had (channels_last
    strides, which the convolutions follow), so every result stays bit for bit the same. On the CPU
    the store shares the dataset's own array; on a GPU it lives on the device, so batches never cross
    the bus.
    """

    def __init__(self, store: torch.Tensor, rows: torch.Tensor | None = None):
        if store.dtype != torch.uint8 or store.dim() != 4 or store.shape[3] != 3:
            raise ValueError(f"Pixels holds uint8 [N, H, W, 3] images, got {store.dtype} {tuple(store.shape)}")
        self.store, self.rows = store, rows

    @property
    def device(self) -> torch.device:
        return self.store.device

    @property
    def shape(self) -> torch.Size:
        """The float input's shape [N, 3, H, W]."""
        return torch.Size((len(self), 3, *self.store.shape[1:3]))

    def __len__(self) -> int:
        return len(self.rows) if self.rows is not None else len(self.store)

    def __getitem__(self, key) -> Pixels:
        """The same images for a slice or a 1-D array of row numbers, still as uint8 (no pixel is copied)."""
        if isinstance(key, slice):
            if self.rows is None:
                return Pixels(self.store[key])  # a view
            return Pixels(self.store, self.rows[key])
        if isinstance(key, (np.ndarray, list, tuple)):
            key = torch.as_tensor(np.asarray(key, dtype=np.int64))
        if not isinstance(key, torch.Tensor) or key.dim() != 1 or key.dtype not in (torch.int64, torch.int32):
            raise TypeError(f"Pixels takes a slice or a 1-D array of row numbers, got {type(key).__name__}")
        key = to_device(key.long(), self.device) if key.device != self.device else key.long()
        return Pixels(self.store, key if self.rows is None else self.rows[key])

    def floats(self) -> torch.Tensor:
        """float32 [n, 3, H, W], centred and scaled: ((x / 255) - 0.5) / 0.25, as the old copy was made."""
        chosen = self.store if self.rows is None else self.store[self.rows]
        x = chosen.permute(0, 3, 1, 2).float()  # keeps the NHWC memory order: channels_last strides
        x.div_(255.0)
        x.sub_(0.5)
        return x.div_(0.25)


def to_tensor(images: np.ndarray, device: torch.device) -> Pixels:
    """uint8 [N, H, W, 3] -> the model's input [N, 3, H, W] (centred and scaled), converted batch by batch.

    Copied to a GPU once, plainly: pinning would first copy the whole array into page-locked memory,
    which torch's allocator then keeps for the life of the process, to save milliseconds once.
    """
    return Pixels(torch.from_numpy(np.ascontiguousarray(images)).to(device))


def model_input(images: Pixels | torch.Tensor) -> torch.Tensor:
    """A batch as the model takes it: Pixels converted, a float tensor as it is."""
    return images.floats() if isinstance(images, Pixels) else images


def seed_everything(seed: int) -> None:
    torch.manual_seed(seed)  # seeds every device's generator, CUDA included


@dataclass
class FitStats:
    seconds: float
    images_per_second: float
    final_loss: float


class Stopped(Exception):
    """The stop event was set; the caller decides what that means."""


def make_optimizer(params: list[torch.nn.Parameter], training, device: torch.device) -> torch.optim.Optimizer:
    """The TrainingConfig's optimiser. Fused (one kernel for every parameter's update) where torch has it:
    Adam's per-tensor steps were 7 % of the lecture's time on a 2-core CPU, the fused step a third of that."""
    fused = {"fused": True} if device.type in ("cpu", "cuda") else {}
    if training.optimizer == "sgd":
        return torch.optim.SGD(params, lr=training.learning_rate, momentum=training.momentum,
                               weight_decay=training.weight_decay, **fused)
    return torch.optim.Adam(params, lr=training.learning_rate, weight_decay=training.weight_decay, **fused)


def fit(model: ActiveModel, images: Pixels | torch.Tensor, labels: torch.Tensor, groups: torch.Tensor, training,
        seed: int, checkpoint: Callable[[], None] | None = None) -> Generator[tuple[int, int], None, FitStats]:
    """Train in place, yielding (epoch, epochs) after each epoch; returns FitStats.

    `training` is a TrainingConfig; `seed` fixes the batch order and the dropout masks.
    `checkpoint` runs between batches: it may block (pause) or raise (stop).
    The loss is read back once, at the end: a read per batch would make the CPU wait for a GPU every batch.
    """
    generator = torch.Generator().manual_seed(seed)
    seed_everything(seed)
    optimizer = make_optimizer([p for p in model.parameters() if p.requires_grad], training, images.device)
    n, batch = len(labels), training.batch_size
    detach_after = training.loss_prediction_stop * training.epochs  # epochs [0, detach_after) keep the gradient
    model.train()
    started, seen, last_loss = time.perf_counter(), 0, None
    for epoch in range(training.epochs):
        order = to_device(torch.randperm(n, generator=generator), images.device)
        for start in range(0, n, batch):
            index = order[start:start + batch]
            if len(index) < 2 and n >= 2:
                continue  # batch norm cannot train on a single image
            if checkpoint is not None:
                checkpoint()
            loss = _batch_loss(model, model_input(images[index]), labels[index], groups[index], training,
                               detach_maps=epoch >= detach_after)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            seen += len(index)
            last_loss = loss.detach()
        yield epoch + 1, training.epochs
    loss_value = float(last_loss) if last_loss is not None else float("nan")  # waits for the device
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


def _in_batches(n: int, step: int, compute: Callable[[int, int], torch.Tensor]) -> torch.Tensor:
    """compute(start, stop) for each batch of rows, written into one tensor made for all n rows.

    Not a list joined at the end: small results kept alive between each batch's large temporaries
    fragment the C heap, and the process then grew by about a batch's input (8 MB) per batch, with
    the pool's size (seen at 50,000 images; benchmarks/scale.py). The values are the same.
    """
    out = None
    for start in range(0, max(n, 1), step):
        value = compute(start, min(start + step, n))
        if out is None:
            out = value.new_empty((n, *value.shape[1:]))
        out[start:start + len(value)] = value
    return out


@torch.no_grad()
def predict_features(model: ActiveModel, images: Pixels | torch.Tensor) -> torch.Tensor:
    """Pooled trunk features [N, D], deterministic (eval mode)."""
    model.eval()
    return _in_batches(len(images), PREDICT_BATCH, lambda i, j: model.features(model_input(images[i:j]))[0])


@torch.no_grad()
def mc_probabilities(model: ActiveModel, features: torch.Tensor, samples: int, seed: int) -> np.ndarray:
    """[N, C, T] softmax probabilities from T dropout masks on features computed once.

    Gathered on the features' device and copied to the host once, not chunk by chunk (each copy waits).
    """
    model.eval()
    seed_everything(seed)

    def chunk_probs(i: int, j: int) -> torch.Tensor:
        chunk = features[i:j]
        tiled = chunk.repeat(samples, 1)  # [T*B, D]: one head call draws T independent masks per row
        probs = F.softmax(model.classifier(tiled, mc=True), dim=1)
        return probs.view(samples, len(chunk), probs.shape[1]).permute(1, 2, 0)

    return _in_batches(len(features), max(1, PREDICT_BATCH * 8 // samples), chunk_probs).cpu().numpy()


@torch.no_grad()
def probabilities(model: ActiveModel, images: Pixels | torch.Tensor, mc_samples: int = 0,
                  seed: int = 0) -> np.ndarray:
    """[N, C]: one deterministic pass, or the mean over `mc_samples` dropout masks."""
    model.eval()
    features = predict_features(model, images)
    if mc_samples > 0:
        return mc_probabilities(model, features, mc_samples, seed).mean(axis=2)
    return F.softmax(model.classifier(features), dim=1).cpu().numpy()


@torch.no_grad()
def predicted_losses(model: ActiveModel, images: Pixels | torch.Tensor) -> np.ndarray:
    """The loss-prediction module's output per image [N] (learning_loss)."""
    model.eval()
    return _in_batches(len(images), PREDICT_BATCH,
                       lambda i, j: model.loss_module(model.features(model_input(images[i:j]))[1])).cpu().numpy()
