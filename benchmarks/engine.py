"""Engine speed, side by side in one run:

1. BALD pool scoring with T MC-dropout samples: trunk features computed once and the head
   sampled T times (what alstudio does) vs T full forward passes (the naive way);
2. training throughput (images per second) of both architectures;
3. wall time of the lecture preset, random vs bald, 2 seeds, its runs one after another and side by
   side, interleaved (optional: --lecture, or --lecture-only).

    .venv/bin/python benchmarks/engine.py [--device auto|cpu|cuda|mps] [--pool 5000] [--resnet-pool 500]
                                          [--train-images 512] [--samples 20] [--lecture]

On a GPU every figure includes torch.cuda.synchronize() before the clock stops, and training is
warmed up once (untimed) first; on the CPU nothing is warmed up.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F


def best_of(repeats: int, work) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", type=int, default=5000)
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--resnet-pool", type=int, default=500,
                        help="ResNet-18's pool (its T full passes are slow on a CPU)")
    parser.add_argument("--train-images", type=int, default=512,
                        help="labeled images the training throughput is measured on (2 epochs)")
    parser.add_argument("--device", default="auto", help="auto (CUDA, then MPS, then CPU), cpu, cuda or mps")
    parser.add_argument("--lecture", action="store_true", help="also time the lecture preset end to end")
    parser.add_argument("--lecture-repeats", type=int, default=2, help="interleaved repeats of each layout")
    parser.add_argument("--lecture-only", action="store_true", help="time the lecture preset and nothing else")
    args = parser.parse_args()
    if args.lecture_only:
        lecture(args.device, args.lecture_repeats)
        return

    from alstudio.engine import config as configs
    from alstudio.engine.models import build_model
    from alstudio.engine.strategies import heuristics
    from alstudio.engine.training import (
        PREDICT_BATCH,
        device_description,
        fit_to_end,
        mc_probabilities,
        pick_device,
        predict_features,
    )

    device = pick_device(args.device)
    rng = np.random.default_rng(0)
    n_images = max(args.pool, args.resnet_pool, args.train_images)
    images = torch.from_numpy(rng.normal(size=(n_images, 3, 32, 32)).astype(np.float32)).to(device)
    T = args.samples
    print(f"device: {device_description(device)}; {os.cpu_count()} CPU cores, {torch.get_num_threads()} torch "
          f"threads; torch {torch.__version__}; Python {platform.python_version()}\n")

    print(f"BALD scoring of 32x32 images, T={T}:\n")
    print("| model | pool | features once + T head samples | T full forward passes | speed-up |")
    print("|---|---|---|---|---|")
    for architecture, n in (("cnn", args.pool), ("resnet18", args.resnet_pool)):
        pool = images[:n]
        config = configs.validate({"model": {"architecture": architecture}})
        model = build_model(config, 2, 2).to(device).eval()

        def features_once(model=model, pool=pool):
            heuristics.bald(mc_probabilities(model, predict_features(model, pool), T, seed=0))
            synchronize(device)

        @torch.no_grad()
        def full_passes(model=model, pool=pool):
            out = []
            for _ in range(T):
                out.append(torch.cat([F.softmax(model(pool[i:i + PREDICT_BATCH], mc=True), dim=1)
                                      for i in range(0, len(pool), PREDICT_BATCH)]).cpu())
            heuristics.bald(torch.stack(out, dim=2).numpy())
            synchronize(device)

        repeats = 3 if architecture == "cnn" or device.type == "cuda" else 1
        once, full = best_of(repeats, features_once), best_of(repeats, full_passes)
        print(f"| {architecture} | {n} | {once:.3f} s | {full:.3f} s | {full / once:.1f}x |")

    n = args.train_images
    print(f"\nTraining throughput (batch 64, Adam, 2 epochs over {n} images):\n")
    print("| model | images/s |")
    print("|---|---|")
    labels = torch.from_numpy(rng.integers(0, 2, n)).to(device)
    for architecture in ("cnn", "resnet18"):
        config = configs.validate({"model": {"architecture": architecture}, "training": {"epochs": 2}})
        if device.type != "cpu":  # first-call kernel selection and allocator growth, untimed
            warm = configs.validate({"model": {"architecture": architecture}, "training": {"epochs": 1}})
            fit_to_end(build_model(warm, 2, 2).to(device), images[:n], labels, labels, warm.training, seed=1)
        model = build_model(config, 2, 2).to(device)
        stats = fit_to_end(model, images[:n], labels, labels, config.training, seed=0)
        print(f"| {architecture} | {stats.images_per_second:.0f} |")

    if args.lecture:
        lecture(args.device, args.lecture_repeats)


def lecture(device: str, repeats: int) -> None:
    """The lecture preset end to end through `alstudio run`, its runs one after another (--jobs 1, all
    torch threads) and side by side (the default: one run per core), interleaved."""
    folder = tempfile.mkdtemp()
    try:
        base = [sys.executable, "-m", "alstudio"]
        # The dataset and the pretrained trunk into the cache first: time the experiment only.
        for ahead in ("generate", "pretrain"):
            subprocess.run(base + [ahead, "--preset", "lecture-bald-vs-random"], check=True, capture_output=True)
        env = {k: v for k, v in os.environ.items() if k != "ALSTUDIO_JOBS"}
        layouts = {"one after another (--jobs 1)": ["--jobs", "1"], "side by side (default)": []}
        walls: dict[str, list[float]] = {name: [] for name in layouts}
        summaries = {}
        for repeat in range(repeats):
            for name, extra in layouts.items():
                out = os.path.join(folder, f"lecture-{repeat}-{len(walls[name])}-{extra[-1] if extra else 'auto'}")
                command = base + ["run", "--preset", "lecture-bald-vs-random", "--out", out, "--strategies",
                                  "random,bald", "--seeds", "2", "--device", device, *extra]
                start = time.perf_counter()
                subprocess.run(command, check=True, capture_output=True, env=env)
                walls[name].append(time.perf_counter() - start)
                summaries[name] = json.loads(Path(out, "summary.json").read_text())
        print(f"\nLecture preset, random vs bald, 2 seeds, 10 cycles, {os.cpu_count()} cores "
              f"(load average {os.getloadavg()[0]:.1f} at the end):\n")
        print("| layout | wall (s), each repeat | random: final accuracy, PPV gap | bald: final accuracy, PPV gap |")
        print("|---|---|---|---|")
        for name, times in walls.items():
            cells = []
            for strategy in ("random", "bald"):
                entry = summaries[name][strategy]
                cells.append(f"{entry['final_accuracy']['mean']:.3f} ± {entry['final_accuracy']['std']:.3f}, "
                             f"{entry['final_ppv_gap']['mean']:.3f} ± {entry['final_ppv_gap']['std']:.3f}")
            print(f"| {name} | {', '.join(f'{t:.0f}' for t in times)} | {cells[0]} | {cells[1]} |")
    finally:
        shutil.rmtree(folder, ignore_errors=True)

if __name__ == "__main__":
    main()
