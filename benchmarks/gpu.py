"""CPU vs GPU wall time of one paper-scale fairness cycle, and how busy the GPU is while it runs.

    python benchmarks/gpu.py [--quick] [--cpu-fraction 0.1] [--no-variants] [--compile] [--threads N]

The cycle is the fairness paper's (preset paper-fairness-correlation): ResNet-18 on 64x64 images,
10 epochs of SGD (lr 0.01, momentum 0.9, batch 32) on 2,000 labelled images, then BALD over 20,000
pool images with T = 20 (the trunk once, the dropout head 20 times) and the top 100 queried. It goes
through the engine's own functions (training.to_tensor, fit, predict_features, mc_probabilities,
heuristics.bald / top_k); the pixels are random uint8 and the labels random, because the cost does
not depend on what the images show (and the GPU machine needs neither synbols nor a cached dataset).
The model starts from random weights: the pretrained trunk changes the weights, not the work.

The GPU part is the whole cycle, after an untimed warm-up (cuDNN's first calls), every figure ending
with torch.cuda.synchronize(); a thread samples the GPU's utilisation every 0.1 s (torch.cuda.utilization,
which needs nvidia-ml-py, else nvidia-smi). It then times the same cycle with bf16 autocast and with a
channels_last model, and compares their BALD picks with fp32's, unless --no-variants; --compile adds
torch.compile's compile time and cycle (minutes of compiling: not in the default run).
The CPU part would take many minutes at full size, so it trains on --cpu-fraction of the image passes
and scores that fraction of the pool, and the full cycle is extrapolated linearly (the output says so;
benchmarks/scale.py shows scoring is linear in the pool). Without a GPU it runs the CPU part and says so.
--quick: the CPU part at 1 % (a try on a laptop or a CI machine).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import shutil
import subprocess
import threading
import time

import numpy as np
import torch

RESOLUTION, LABELLED, POOL, SAMPLES, EPOCHS, BATCH, QUERY = 64, 2000, 20000, 20, 10, 32, 100
TRAINING = {"epochs": EPOCHS, "batch_size": BATCH, "learning_rate": 0.01, "optimizer": "sgd", "momentum": 0.9,
            "weight_decay": 0.0}


def config(epochs: int = EPOCHS):
    from alstudio.engine import config as configs

    return configs.validate({"model": {"architecture": "resnet18", "init": "scratch"},
                             "training": {**TRAINING, "epochs": epochs},
                             "active": {"strategy": "bald", "mc_samples": SAMPLES, "query_size": QUERY}})


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class UtilisationSampler:
    """Samples the GPU's utilisation (%) in a thread; `mark(name)` starts a new phase."""

    def __init__(self, device: torch.device, every: float = 0.1):
        self.device, self.every = device, every
        self.samples: dict[str, list[float]] = {}
        self.phase: str | None = None
        self.read = self._reader()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _reader(self):
        try:
            torch.cuda.utilization(self.device)
            return lambda: float(torch.cuda.utilization(self.device))
        except Exception:  # no nvidia-ml-py (pynvml): ask nvidia-smi
            smi = shutil.which("nvidia-smi")
            if smi is None:
                return None
            index = str(self.device.index or 0)

            def read() -> float:
                out = subprocess.run([smi, "-i", index, "--query-gpu=utilization.gpu", "--format=csv,noheader,nounits"],
                                     capture_output=True, text=True, timeout=5).stdout
                return float(out.strip().splitlines()[0])
            return read

    @property
    def source(self) -> str:
        return "unavailable" if self.read is None else "sampled every 0.1 s"

    def _run(self) -> None:
        while not self.stop.wait(self.every):
            phase = self.phase
            if phase is not None:
                with contextlib.suppress(Exception):
                    self.samples.setdefault(phase, []).append(self.read())

    def __enter__(self):
        if self.read is not None:
            self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        if self.thread.is_alive():
            self.thread.join()

    def mark(self, phase: str | None) -> None:
        self.phase = phase

    def summary(self, phase: str) -> str:
        values = self.samples.get(phase, [])
        if not values:
            return "n/a"
        return f"{np.mean(values):.0f} % mean, {np.median(values):.0f} % median ({len(values)} samples)"


def cycle(device: torch.device, images: np.ndarray, labels: np.ndarray, train_passes: int, scored: int,
          sampler: UtilisationSampler | None = None, autocast: torch.dtype | None = None,
          channels_last: bool = False, compile_model: bool = False, seed: int = 0) -> dict:
    """One cycle: fit on `train_passes` image passes of the labelled set, score `scored` pool images, query."""
    from alstudio.engine.models import build_model
    from alstudio.engine.strategies import heuristics
    from alstudio.engine.training import fit_to_end, mc_probabilities, predict_features, to_tensor

    # An epoch count and a labelled set that give `train_passes` image passes (a fraction of an epoch: fewer labels).
    epochs = max(1, min(EPOCHS, round(train_passes / LABELLED)))
    labelled = min(LABELLED, max(BATCH, train_passes // epochs))
    cfg = config(epochs)
    pixels = to_tensor(images, device)  # the engine's uint8 store, on the device
    y = torch.from_numpy(labels).to(device)
    torch.manual_seed(seed)
    model = build_model(cfg, 2, 2).to(device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    if compile_model:
        model.features = torch.compile(model.features)
    amp = (torch.autocast(device.type, dtype=autocast) if autocast is not None else contextlib.nullcontext())
    rows = torch.arange(labelled, device=device)
    pool = pixels[torch.arange(LABELLED, LABELLED + scored, device=device)]
    out = {"epochs": epochs, "labelled": labelled, "scored": scored}
    synchronize(device)
    if sampler:
        sampler.mark("train")
    start = time.perf_counter()
    with amp:
        stats = fit_to_end(model, pixels[rows], y[rows], y[rows], cfg.training, seed=seed)
    synchronize(device)
    out["train_s"] = time.perf_counter() - start
    out["loss"] = stats.final_loss
    if sampler:
        sampler.mark("score")
    start = time.perf_counter()
    with amp:  # the trunk pass, where the time goes; the dropout head samples the float32 features
        features = predict_features(model, pool)
    probs = mc_probabilities(model, features.float(), SAMPLES, seed=seed + 1)
    scores = heuristics.bald(probs)
    chosen = heuristics.top_k(scores, QUERY)
    synchronize(device)
    out["score_s"] = time.perf_counter() - start
    if sampler:
        sampler.mark(None)
    out["model"], out["pool"], out["chosen"] = model, pool, chosen
    return out


def scoring_agreement(reference: dict, device: torch.device, autocast: torch.dtype) -> str:
    """The fp32-trained model's pool scored again under autocast: how many of the same 100 are picked."""
    from alstudio.engine.strategies import heuristics
    from alstudio.engine.training import mc_probabilities, predict_features

    model, pool = reference["model"], reference["pool"]
    with torch.autocast(device.type, dtype=autocast):
        features = predict_features(model, pool)
    probs = mc_probabilities(model, features.float(), SAMPLES, seed=1)
    exact = mc_probabilities(model, predict_features(model, pool), SAMPLES, seed=1)
    chosen = heuristics.top_k(heuristics.bald(probs), QUERY)
    same = len(set(chosen.tolist()) & set(reference["chosen"].tolist()))
    return (f"scoring the fp32-trained model under {str(autocast).removeprefix('torch.')}: {same}/{QUERY} of fp32's "
            f"picks, largest probability difference {np.abs(probs - exact).max():.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the CPU part at 1 %% of the cycle")
    parser.add_argument("--cpu-fraction", type=float, default=None,
                        help="share of the training passes and of the pool the CPU part runs (default 0.1)")
    parser.add_argument("--no-variants", action="store_true", help="skip the bf16 and channels_last cycles")
    parser.add_argument("--compile", action="store_true", help="also time torch.compile (compile time included)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    args = parser.parse_args()
    fraction = args.cpu_fraction if args.cpu_fraction is not None else (0.01 if args.quick else 0.1)
    if not 0 < fraction <= 1:
        parser.error("--cpu-fraction must be in (0, 1]")
    if args.threads:
        torch.set_num_threads(args.threads)
    started = time.perf_counter()
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (LABELLED + POOL, RESOLUTION, RESOLUTION, 3), dtype=np.uint8)
    labels = rng.integers(0, 2, LABELLED + POOL)
    full_passes = EPOCHS * LABELLED
    gpu = torch.device("cuda") if torch.cuda.is_available() else None
    print(f"One fairness cycle: ResNet-18, {RESOLUTION}x{RESOLUTION}, {EPOCHS} epochs on {LABELLED:,} labels "
          f"(batch {BATCH}, SGD), BALD over {POOL:,} with T = {SAMPLES}, top {QUERY}.")
    print(f"Host: {platform.machine()}, {os.cpu_count()} cores ({torch.get_num_threads()} torch threads), "
          f"torch {torch.__version__}, Python {platform.python_version()}; load average {os.getloadavg()[0]:.1f}.")

    rows = []
    if gpu is None:
        print("No CUDA GPU here, so only the CPU part runs; run this script on a machine with one for the GPU figures.")
    else:
        print(f"GPU: {torch.cuda.get_device_name(gpu)}.", flush=True)
        cycle(gpu, images[:LABELLED + 2048], labels, train_passes=2 * BATCH * 4, scored=2048)  # warm-up, untimed
        torch.cuda.reset_peak_memory_stats(gpu)
        with UtilisationSampler(gpu) as sampler:
            fp32 = cycle(gpu, images, labels, full_passes, POOL, sampler)
            utilisation = {phase: sampler.summary(phase) for phase in ("train", "score")}
        peak = torch.cuda.max_memory_allocated(gpu)
        rows.append(("GPU, fp32 (the engine's default)", fp32, 1.0))
        print(f"GPU utilisation ({sampler.source}): training {utilisation['train']}; scoring {utilisation['score']}. "
              f"Peak GPU memory allocated: {peak / 1e9:.2f} GB.", flush=True)
        notes = []
        if not args.no_variants:
            bf16 = cycle(gpu, images, labels, full_passes, POOL, autocast=torch.bfloat16)
            rows.append(("GPU, bf16 autocast", bf16, 1.0))
            notes.append(scoring_agreement(fp32, gpu, torch.bfloat16))
            notes.append(f"final training loss (random labels): fp32 {fp32['loss']:.4f}, bf16 {bf16['loss']:.4f}")
            rows.append(("GPU, channels_last model", cycle(gpu, images, labels, full_passes, POOL,
                                                            channels_last=True), 1.0))
        if args.compile:
            compiled = cycle(gpu, images, labels, full_passes, POOL, compile_model=True)
            rows.append(("GPU, torch.compile (first cycle, compiling included)", compiled, 1.0))
            rows.append(("GPU, torch.compile (second cycle)",
                         cycle(gpu, images, labels, full_passes, POOL, compile_model=True), 1.0))
    cpu = torch.device("cpu")
    passes, scored = max(BATCH, round(full_passes * fraction)), max(QUERY, round(POOL * fraction))
    print(f"CPU part: {passes:,} training image passes and {scored:,} pool images ({fraction:.0%} of the cycle), "
          f"extrapolated linearly to the full cycle.", flush=True)
    measured = cycle(cpu, images, labels, passes, scored)
    rows.append((f"CPU ({torch.get_num_threads()} threads), extrapolated from {fraction:.0%}", measured,
                 full_passes / (measured["epochs"] * measured["labelled"])))

    ratio = gpu is not None
    print("\n| device | train (s) | score + query (s) | cycle (s) |" + (" time vs fp32 GPU |" if ratio else ""))
    print("|---|---|---|---|" + ("---|" if ratio else ""))
    reference = None
    for name, r, scale in rows:
        train = r["train_s"] * scale
        score = r["score_s"] * POOL / r["scored"]
        total = train + score
        reference = reference or total
        versus = f" {total / reference:.2f}x |" if ratio else ""
        print(f"| {name} | {train:.1f} | {score:.1f} | {total:.1f} |{versus}")
    if gpu is not None and not args.no_variants:
        print("\n" + "\n".join(f"- {note}" for note in notes))
    print(f"\n{time.perf_counter() - started:.0f} s in all.")


if __name__ == "__main__":
    main()
