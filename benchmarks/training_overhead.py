"""What alstudio's training loop costs over a bare one, and how the lecture's small batches use 2 cores.

1. `training.fit` (the engine's loop: uint8 pool converted a batch at a time, checkpoint hook, progress
   generator, GRAD/loss-module branches) against a bare loop over a float tensor (the same model, the
   same optimiser, the same batch order, nothing else), interleaved repeats, at batch 64 and at the
   lecture preset's batch 16. The issue's goal: fit within 70 % of the bare loop's throughput.
2. The lecture's training layout on this machine: one process with all torch threads, one process
   with 1 thread, and as many 1-thread processes side by side as there are cores (what parallel runs do),
   in images per second over all of them.

    .venv/bin/python benchmarks/training_overhead.py [--images 1024] [--epochs 3] [--repeats 5] [--json F]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import statistics
import time

import numpy as np
import torch
from torch.nn import functional as F


def _setup(n_images: int, seed: int = 0):
    from alstudio.engine import config as configs
    from alstudio.engine.models import build_model
    from alstudio.engine.training import to_tensor

    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, size=(n_images, 32, 32, 3), dtype=np.uint8)
    labels = torch.from_numpy(rng.integers(0, 2, size=n_images)).long()
    groups = torch.zeros(n_images, dtype=torch.long)
    config = configs.load_preset("lecture-bald-vs-random")
    torch.manual_seed(seed)
    model = build_model(config, 2, 2)
    return config, model, to_tensor(pixels, torch.device("cpu")), labels, groups


def engine_fit(model, images, labels, groups, training) -> float:
    from alstudio.engine.training import fit_to_end

    start = time.perf_counter()
    fit_to_end(model, images, labels, groups, training, seed=1, checkpoint=lambda: None)
    return time.perf_counter() - start


def bare_fit(model, floats, labels, training) -> float:
    """The same forward, loss, backward and step, batch for batch, with nothing around them."""
    start = time.perf_counter()
    generator = torch.Generator().manual_seed(1)
    optimizer = torch.optim.Adam(model.parameters(), lr=training.learning_rate, weight_decay=training.weight_decay)
    model.train()
    n, batch = len(labels), training.batch_size
    for _ in range(training.epochs):
        order = torch.randperm(n, generator=generator)
        for begin in range(0, n, batch):
            index = order[begin:begin + batch]
            loss = F.cross_entropy(model(floats[index]), labels[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return time.perf_counter() - start


def overhead(n_images: int, epochs: int, batch: int, repeats: int) -> dict:
    config, model, images, labels, groups = _setup(n_images)
    training = config.training.model_copy(update={"epochs": epochs, "batch_size": batch})
    floats = images.floats().contiguous(memory_format=torch.channels_last)  # the layout Pixels hands the model
    initial = {k: v.clone() for k, v in model.state_dict().items()}
    times = {"engine": [], "bare": []}
    for repeat in range(repeats + 1):  # the first pair warms up, untimed
        model.load_state_dict(initial)
        engine = engine_fit(model, images, labels, groups, training)
        model.load_state_dict(initial)
        bare = bare_fit(model, floats, labels, training)
        if repeat:
            times["engine"].append(engine)
            times["bare"].append(bare)
    seen = epochs * n_images
    engine, bare = statistics.median(times["engine"]), statistics.median(times["bare"])
    return {"batch": batch, "images_per_second_engine": seen / engine, "images_per_second_bare": seen / bare,
            "engine_share_of_bare": bare / engine, "times": times}


def _throughput_worker(args) -> float:
    n_images, epochs, threads = args
    torch.set_num_threads(threads)
    config, model, images, labels, groups = _setup(n_images)
    training = config.training.model_copy(update={"epochs": epochs})
    return engine_fit(model, images, labels, groups, training)


def layouts(n_images: int, epochs: int) -> list[dict]:
    """Images per second of the lecture's training (batch 16) over the whole machine, per layout."""
    cores = os.cpu_count() or 1
    context = multiprocessing.get_context("spawn")
    rows = []
    for name, processes, threads in (("1 process, all threads", 1, cores), ("1 process, 1 thread", 1, 1),
                                     (f"{cores} processes, 1 thread each", cores, 1)):
        with context.Pool(processes) as pool:
            pool.map(_throughput_worker, [(64, 1, threads)] * processes)  # imports and warm-up, untimed
            start = time.perf_counter()
            pool.map(_throughput_worker, [(n_images, epochs, threads)] * processes)
            wall = time.perf_counter() - start
        rows.append({"layout": name, "images_per_second": processes * n_images * epochs / wall, "wall": wall})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1024)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", help="write every figure to this file")
    args = parser.parse_args()
    print(f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__} ({torch.get_num_threads()} "
          f"threads), load average {os.getloadavg()[0]:.2f}\n")
    print("| batch | engine fit (images/s) | bare loop (images/s) | engine / bare |")
    print("|---|---|---|---|")
    results = {"overhead": [], "layouts": []}
    for batch in (64, 16):
        row = overhead(args.images, args.epochs, batch, args.repeats)
        results["overhead"].append(row)
        print(f"| {batch} | {row['images_per_second_engine']:.0f} | {row['images_per_second_bare']:.0f} | "
              f"{100 * row['engine_share_of_bare']:.0f} % |")
    print("\nThe lecture's training (batch 16) over the whole machine:\n")
    print("| layout | images/s | vs all threads in one process |")
    print("|---|---|---|")
    results["layouts"] = layouts(args.images, args.epochs)
    first = results["layouts"][0]["images_per_second"]
    for row in results["layouts"]:
        print(f"| {row['layout']} | {row['images_per_second']:.0f} | {row['images_per_second'] / first:.2f}x |")
    print(f"\nload average at the end {os.getloadavg()[0]:.2f}")
    if args.json:
        with open(args.json, "w") as out:
            json.dump(results, out, indent=1)


if __name__ == "__main__":
    main()
