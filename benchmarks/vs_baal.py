"""alstudio vs BaaL on the same model, pool and hyper-parameters, side by side in one run.

Each row runs alstudio and BaaL alternately (A, B, A, B, ...) and reports the median of each and
their ratio, so a busy moment on a shared machine hits both sides alike:

1. BALD scoring of the pool with T MC-dropout samples: alstudio's ScoringContext (trunk once, the
   dropout head sampled T times) + the bald strategy's select, vs BaaL's
   ModelWrapper.predict_on_dataset(iterations=T) + baal.active.heuristics.BALD; then again against BaaL with
   its MCCachingModule (opt-in: each Conv2d and Linear remembers its last input and output in eval mode, so
   the T passes over one batch recompute only what dropout changes) and replicate_in_memory=False;
2. training for E epochs on L labels at the lecture preset's batch size and optimiser: alstudio's
   training.fit vs BaaL's ModelWrapper.train_on_dataset;
3. one full active-learning cycle: train, score the unlabeled pool, query Q: alstudio's calls vs
   BaaL's train_on_dataset on an ActiveLearningDataset + ActiveLearningLoop.step;
4. BatchBALD picking a batch of 10 among 1000 candidates: end to end (MC predictions included), and
   the selection alone on one shared [N, C, T] probability array.

    .venv/bin/python benchmarks/vs_baal.py [--quick] [--repeats 5] [--pool 5000] [--labels 1000]
        [--epochs 10] [--samples 20] [--query 100] [--candidates 1000] [--batch 10]
        [--threads N] [--device cpu|cuda] [--baal-predict-batch 32] [--baal-workers 0] [--json FILE]

BaaL is a benchmark-only dependency: `pip install -e .[bench]`. The model is alstudio's small CNN
("cnn" trunk + MC-dropout head), handed to BaaL behind a module that keeps the head's dropout on in
eval mode, which is what BaaL's MCDropoutModule does to nn.Dropout layers. BaaL's datasets are
TensorDatasets over the same float tensors alstudio trains on, held in host memory (BaaL moves each
batch to the GPU itself).
"""

from __future__ import annotations

import argparse
import copy
import datetime
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

PRESET = "lecture-bald-vs-random"
INSTALL_HINT = ("BaaL is not installed (it is a benchmark-only dependency): install it with "
                "`pip install -e .[bench]` and run this again.")


# ---- timing and reporting (no torch here: tests/test_vs_baal.py runs these without BaaL) --------------------

@dataclass
class Row:
    """One measurement: both sides' wall times in seconds, in the order they ran."""

    name: str
    size: str
    alstudio: list[float] = field(default_factory=list)
    baal: list[float] = field(default_factory=list)

    @property
    def alstudio_median(self) -> float:
        return statistics.median(self.alstudio)

    @property
    def baal_median(self) -> float:
        return statistics.median(self.baal)

    @property
    def ratio(self) -> float:
        """BaaL's median over alstudio's: above 1, alstudio is faster."""
        return self.baal_median / self.alstudio_median

    def as_dict(self) -> dict:
        return {"name": self.name, "size": self.size, "alstudio_s": self.alstudio, "baal_s": self.baal,
                "alstudio_median_s": self.alstudio_median, "baal_median_s": self.baal_median,
                "baal_over_alstudio": self.ratio}


def interleaved(row: Row, repeats: int, alstudio: Callable[[], float], baal: Callable[[], float],
                log: Callable[[str], None] = lambda line: None) -> Row:
    """Runs alstudio, BaaL, alstudio, BaaL, ... `repeats` times each; every callable returns its own
    seconds, so set-up that is not part of the measurement stays outside the clock."""
    for i in range(repeats):
        row.alstudio.append(alstudio())
        row.baal.append(baal())
        log(f"  {row.name}: repeat {i + 1}/{repeats}: alstudio {row.alstudio[-1]:.3f} s, BaaL {row.baal[-1]:.3f} s")
    return row


def seconds(value: float) -> str:
    return f"{value:.3f} s" if value < 10 else f"{value:.1f} s"


def markdown_table(rows: list[Row]) -> str:
    lines = ["| measurement | size | alstudio (median) | BaaL (median) | BaaL / alstudio | repeats |",
             "|---|---|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row.name} | {row.size} | {seconds(row.alstudio_median)} | {seconds(row.baal_median)} | "
                     f"{row.ratio:.1f}x | {len(row.alstudio)} |")
    return "\n".join(lines)


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (OSError, AttributeError):  # not on every platform
        return None


def model_floats(images):
    """alstudio's model input for these images as one float tensor: to_tensor hands back uint8 `Pixels`
    converted a batch at a time (or, in older trees, the float tensor itself)."""
    floats = getattr(images, "floats", None)
    return floats() if floats is not None else images


# What a full run measures, and what --quick shrinks it to; an option given on the command line wins over both.
FULL = {"repeats": 5, "pool": 5000, "labels": 1000, "epochs": 10, "candidates": 1000}
QUICK = {"repeats": 1, "pool": 500, "labels": 100, "epochs": 2, "candidates": 200}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, help=f"runs of each side per row, interleaved ({FULL['repeats']})")
    parser.add_argument("--pool", type=int, help=f"images in the pool; row 1 scores all of them ({FULL['pool']})")
    parser.add_argument("--labels", type=int, help=f"labeled images rows 2 and 3 train on ({FULL['labels']})")
    parser.add_argument("--epochs", type=int, help=f"training epochs ({FULL['epochs']})")
    parser.add_argument("--candidates", type=int, help=f"BatchBALD's candidates, row 4 ({FULL['candidates']})")
    parser.add_argument("--samples", type=int, default=20, help="MC-dropout samples T")
    parser.add_argument("--query", type=int, default=100, help="images one cycle queries (row 3)")
    parser.add_argument("--batch", type=int, default=10, help="BatchBALD's batch (row 4)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="torch threads, both sides")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu", help="both sides run on it")
    parser.add_argument("--baal-predict-batch", type=int, default=32,
                        help="BaaL's prediction batch (TrainingArgs' default; x T images per forward pass)")
    parser.add_argument("--baal-workers", type=int, default=0,
                        help="BaaL's DataLoader worker processes (its default is 4; the data is in memory)")
    parser.add_argument("--quick", action="store_true",
                        help="a small check that everything runs: " + ", ".join(f"{k} {v}" for k, v in QUICK.items()))
    parser.add_argument("--json", metavar="FILE", help="also write the raw figures and the machine here")
    args = parser.parse_args(argv)
    for key, value in (QUICK if args.quick else FULL).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    args.candidates = min(args.candidates, args.pool)
    if min(args.repeats, args.pool, args.labels, args.epochs, args.candidates, args.samples, args.query,
           args.batch, args.threads, args.baal_predict_batch) < 1 or args.baal_workers < 0:
        parser.error("every count must be at least 1 (--baal-workers may be 0)")
    if args.labels + args.query > args.pool:
        parser.error(f"--labels ({args.labels}) + --query ({args.query}) must fit in --pool ({args.pool})")
    return args


# ---- the benchmark ------------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        import baal  # noqa: F401  (checked before anything heavy loads)
    except ImportError:
        print(INSTALL_HINT, file=sys.stderr)
        return 2
    return run(args)


def run(args: argparse.Namespace) -> int:
    import logging
    import warnings
    from importlib.metadata import version

    import numpy as np
    import structlog
    import torch
    from baal.active import ActiveLearningDataset, ActiveLearningLoop
    from baal.active.heuristics import BALD, BatchBALD
    from baal.bayesian.caching_utils import MCCachingModule
    from baal.modelwrapper import ModelWrapper, TrainingArgs
    from threadpoolctl import threadpool_limits  # scikit-learn's dependency, so BaaL's too
    from torch import nn
    from torch.utils.data import TensorDataset

    from alstudio.engine import config as configs
    from alstudio.engine.data import load_or_generate
    from alstudio.engine.models import build_model
    from alstudio.engine.strategies import ScoringContext, get_strategy, heuristics
    from alstudio.engine.training import (
        available_devices,
        device_description,
        fit_to_end,
        pick_device,
        probabilities,
        to_tensor,
    )

    # BaaL logs every training and prediction call to stdout; the table is what this script prints.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    # BaaL's loss metric converts a tensor that requires grad to a float, and torch says so once.
    warnings.filterwarnings("ignore", message="Converting a tensor with requires_grad", module="baal")

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    torch.set_num_threads(args.threads)
    threadpool_limits(args.threads)  # numpy's BLAS too: both BatchBALDs multiply matrices with it
    if args.device not in available_devices():
        print(f"--device {args.device}: torch finds no such device here (it has: {', '.join(available_devices())})",
              file=sys.stderr)
        return 2
    device = pick_device(args.device)
    on_cuda = device.type == "cuda"
    T, started_load = args.samples, load_average()

    data = configs.load_preset(PRESET).model_dump()
    data["dataset"]["pool_size"] = args.pool
    data["model"]["architecture"] = "cnn"
    data["training"]["epochs"] = args.epochs
    data["training"]["device"] = args.device
    config = configs.validate(data, source=f"preset {PRESET} with pool {args.pool}, {args.epochs} epochs")
    training = config.training
    log(f"dataset: the {PRESET} preset's, pool {args.pool} ...")
    dataset, _ = load_or_generate(config.dataset)
    n_classes, n_groups = len(dataset.class_names), len(dataset.group_names)

    pool_x = to_tensor(dataset.pool.images, device)
    pool_y = torch.from_numpy(dataset.pool.classes).to(device)
    pool_g = torch.from_numpy(dataset.pool.groups).to(device)
    test_x = to_tensor(dataset.test.images, device)
    # BaaL's datasets: the same float images alstudio's model sees, one plain NCHW tensor in host memory.
    host_x = model_floats(pool_x).cpu().contiguous()
    host_y = pool_y.cpu()
    initial = np.sort(np.random.default_rng(0).choice(args.pool, args.labels, replace=False))
    initial_t = torch.from_numpy(initial).to(device)

    torch.manual_seed(0)
    init_state = {k: v.clone() for k, v in build_model(config, n_classes, n_groups).state_dict().items()}

    def fresh_model():
        model = build_model(config, n_classes, n_groups).to(device)
        model.load_state_dict(init_state)
        return model

    class AlwaysMCDropout(nn.Module):
        """What BaaL's MCDropoutModule makes of a model: its dropout stays on in eval mode. alstudio's head
        calls F.dropout rather than holding nn.Dropout layers, so patch_module would find nothing to patch."""

        def __init__(self, model: nn.Module):
            super().__init__()
            self.model = model

        def forward(self, x):
            return self.model(x, mc=True)

    def baal_optimizer(model):
        if training.optimizer == "sgd":
            return torch.optim.SGD(model.parameters(), lr=training.learning_rate, momentum=training.momentum,
                                   weight_decay=training.weight_decay)
        return torch.optim.Adam(model.parameters(), lr=training.learning_rate, weight_decay=training.weight_decay)

    def baal_trainer(mc_model):
        return ModelWrapper(mc_model, TrainingArgs(
            optimizer=baal_optimizer(mc_model), batch_size=training.batch_size, epoch=training.epochs,
            use_cuda=on_cuda, workers=args.baal_workers, criterion=nn.CrossEntropyLoss()))

    def baal_predictor(mc_model, replicate_in_memory: bool = True):
        return ModelWrapper(mc_model, TrainingArgs(batch_size=args.baal_predict_batch, use_cuda=on_cuda,
                                                   workers=args.baal_workers, criterion=nn.CrossEntropyLoss(),
                                                   replicate_in_memory=replicate_in_memory))

    def synchronize():
        if on_cuda:
            torch.cuda.synchronize()

    def clock(work: Callable[[], object]) -> float:
        synchronize()
        start = time.perf_counter()
        work()
        synchronize()
        return time.perf_counter() - start

    def accuracy(model) -> float:
        return float(np.mean(probabilities(model, test_x).argmax(axis=1) == dataset.test.classes))

    bald, batchbald = get_strategy("bald"), get_strategy("batchbald")

    # Untimed warm-up of both sides: first-call kernel selection and allocator growth hit neither row.
    log("warm-up ...")
    warm = fresh_model()
    fit_to_end(warm, pool_x[:64], pool_y[:64], pool_g[:64], training.model_copy(update={"epochs": 1}), seed=0)
    bald.select(ScoringContext(warm, pool_x[:256], pool_x[:0], T, 0), 10)
    warm_baal = baal_trainer(AlwaysMCDropout(warm))
    warm_baal.args.epoch = 1
    warm_baal.train_on_dataset(TensorDataset(host_x[:64], host_y[:64]))
    BALD().get_ranks(baal_predictor(AlwaysMCDropout(warm)).predict_on_dataset(
        TensorDataset(host_x[:256]), iterations=T, verbose=False))

    rows: dict[str, Row] = {}
    checks: dict[str, object] = {}

    # -- 2. training (first: its trained model is the one rows 1 and 4 score with) -------------------------
    log("training ...")
    row = Row(f"training, {args.epochs} epochs, batch {training.batch_size}, {training.optimizer}",
              f"{args.labels} labels")
    trained: dict[str, nn.Module] = {}

    def alstudio_training() -> float:
        model = fresh_model()
        spent = clock(lambda: fit_to_end(model, pool_x[initial_t], pool_y[initial_t], pool_g[initial_t], training,
                                         seed=0))
        trained["alstudio"] = model
        return spent

    labeled_set = TensorDataset(host_x[initial], host_y[initial])

    def baal_training() -> float:
        model = fresh_model()
        torch.manual_seed(0)
        spent = clock(lambda: baal_trainer(AlwaysMCDropout(model)).train_on_dataset(labeled_set))
        trained["baal"] = model
        return spent

    rows["train"] = interleaved(row, args.repeats, alstudio_training, baal_training, log)
    checks["test_accuracy_after_training"] = {side: accuracy(model) for side, model in trained.items()}
    model = trained["alstudio"].eval()
    mc_model = AlwaysMCDropout(model)

    # -- 1. BALD scoring of the whole pool -------------------------------------------------------------------
    log("BALD scoring ...")
    row = Row(f"BALD scoring, T = {T}, top {args.query}", f"{args.pool} images")
    picks: dict[str, np.ndarray] = {}

    def alstudio_scoring() -> float:
        def work():
            picks["alstudio"] = bald.select(ScoringContext(model, pool_x, pool_x[:0], T, seed=0), args.query)[0]
        return clock(work)

    def baal_scoring() -> float:
        torch.manual_seed(0)

        def work():
            mc = baal_predictor(mc_model).predict_on_dataset(TensorDataset(host_x), iterations=T, verbose=False)
            picks["baal"] = BALD().get_ranks(mc)[0][:args.query]
        return clock(work)

    rows["bald"] = interleaved(row, args.repeats, alstudio_scoring, baal_scoring, log)

    # BaaL's own answer to recomputing the deterministic layers T times: MCCachingModule remembers each Conv2d's
    # and Linear's last input and output in eval mode, used with replicate_in_memory=False (T passes in a row).
    row = Row(f"BALD scoring, T = {T}, top {args.query}; BaaL with MCCachingModule", f"{args.pool} images")
    cached_model = MCCachingModule(copy.deepcopy(mc_model))  # it patches the layers of the module it is given

    def baal_cached_scoring() -> float:
        torch.manual_seed(0)

        def work():
            mc = baal_predictor(cached_model, replicate_in_memory=False).predict_on_dataset(
                TensorDataset(host_x), iterations=T, verbose=False)
            picks["baal_cached"] = BALD().get_ranks(mc)[0][:args.query]
        return clock(work)

    rows["bald_cached"] = interleaved(row, args.repeats, alstudio_scoring, baal_cached_scoring, log)
    checks["bald_top_picks_in_common"] = int(len(np.intersect1d(picks["alstudio"], picks["baal"])))
    shared = ScoringContext(model, pool_x, pool_x[:0], T, seed=0).mc_probs  # one [N, C, T] array for both
    checks["bald_max_abs_difference_same_probabilities"] = float(
        np.max(np.abs(heuristics.bald(shared) - BALD().get_uncertainties(shared))))

    # -- 4. BatchBALD ------------------------------------------------------------------------------------------
    log("BatchBALD ...")
    candidates_x, candidates_host = pool_x[:args.candidates], host_x[:args.candidates]
    row = Row(f"BatchBALD batch of {args.batch}, T = {T}, MC predictions included", f"{args.candidates} candidates")

    def alstudio_batchbald() -> float:
        return clock(lambda: batchbald.select(ScoringContext(model, candidates_x, pool_x[:0], T, seed=0), args.batch))

    def baal_batchbald() -> float:
        torch.manual_seed(0)

        def work():
            mc = baal_predictor(mc_model).predict_on_dataset(TensorDataset(candidates_host), iterations=T,
                                                             verbose=False)
            return BatchBALD(num_samples=args.batch).get_ranks(mc)[0][:args.batch]
        return clock(work)

    rows["batchbald"] = interleaved(row, args.repeats, alstudio_batchbald, baal_batchbald, log)

    row = Row(f"BatchBALD batch of {args.batch}, T = {T}, selection alone (same probabilities)",
              f"{args.candidates} candidates")
    same = shared[:args.candidates]
    chosen: dict[str, np.ndarray] = {}

    def alstudio_selection() -> float:
        ctx = ScoringContext(model, candidates_x, pool_x[:0], T, seed=0)
        ctx.mc_probs = same  # a cached_property: the strategy reads these probabilities, computes none

        def work():
            chosen["alstudio"] = batchbald.select(ctx, args.batch)[0]
        return clock(work)

    def baal_selection() -> float:
        torch.manual_seed(0)

        def work():
            chosen["baal"] = BatchBALD(num_samples=args.batch).get_ranks(same)[0][:args.batch]
        return clock(work)

    rows["batchbald_selection"] = interleaved(row, args.repeats, alstudio_selection, baal_selection, log)
    checks["batchbald_picks_in_common_same_probabilities"] = int(len(np.intersect1d(chosen["alstudio"],
                                                                                    chosen["baal"])))

    # -- 3. one full cycle -------------------------------------------------------------------------------------
    log("full cycle ...")
    row = Row(f"one cycle: train {args.epochs} epochs + BALD on the unlabeled pool + query {args.query}",
              f"{args.labels} labels, {args.pool - args.labels} unlabeled")
    labeled_after: dict[str, int] = {}

    def alstudio_cycle() -> float:
        cycle_model = fresh_model()
        labeled = np.zeros(args.pool, dtype=bool)
        labeled[initial] = True

        def work():
            index = torch.from_numpy(np.flatnonzero(labeled)).to(device)
            fit_to_end(cycle_model, pool_x[index], pool_y[index], pool_g[index], training, seed=0)
            candidates = np.flatnonzero(~labeled)
            ctx = ScoringContext(cycle_model, pool_x[torch.from_numpy(candidates).to(device)], pool_x[index], T,
                                 seed=0)
            positions, _ = bald.select(ctx, args.query)
            labeled[candidates[positions]] = True
        spent = clock(work)
        labeled_after["alstudio"] = int(labeled.sum())
        return spent

    def baal_cycle() -> float:
        cycle_model = AlwaysMCDropout(fresh_model())
        labeled = np.zeros(args.pool, dtype=int)
        labeled[initial] = 1
        active = ActiveLearningDataset(TensorDataset(host_x, host_y), labelled=labeled)
        trainer = baal_trainer(cycle_model)
        loop = ActiveLearningLoop(active, baal_predictor(cycle_model).predict_on_dataset, BALD(),
                                  query_size=args.query, iterations=T, verbose=False)
        torch.manual_seed(0)

        def work():
            trainer.train_on_dataset(active)
            loop.step()
        spent = clock(work)
        labeled_after["baal"] = int(active.n_labelled)
        return spent

    rows["cycle"] = interleaved(row, args.repeats, alstudio_cycle, baal_cycle, log)
    checks["labeled_after_cycle"] = labeled_after

    # -- report ------------------------------------------------------------------------------------------------
    ordered = [rows[key] for key in ("bald", "bald_cached", "train", "cycle", "batchbald", "batchbald_selection")]
    meta = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": " ".join([os.path.relpath(sys.argv[0])] + sys.argv[1:]),
        "machine": f"{platform.machine()}, {cpu_name()}, {os.cpu_count()} CPU cores",
        "device": device_description(device),
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "baal": version("baal"),
        "load_average_start": started_load,
        "load_average_end": load_average(),
        "preset": PRESET,
        "settings": {k: v for k, v in vars(args).items() if k != "json"},
        "training": {"epochs": training.epochs, "batch_size": training.batch_size, "optimizer": training.optimizer,
                     "learning_rate": training.learning_rate, "weight_decay": training.weight_decay},
    }
    print(f"{meta['date']}; {meta['machine']}; {meta['device']}, {meta['torch_threads']} torch threads; "
          f"Python {meta['python']}, torch {meta['torch']}, numpy {meta['numpy']}, BaaL {meta['baal']}; "
          f"load average {started_load} at the start, {meta['load_average_end']} at the end\n")
    print(markdown_table(ordered))
    accuracies = checks["test_accuracy_after_training"]
    print(f"\nChecks: test accuracy after training: alstudio {accuracies['alstudio']:.3f}, BaaL "
          f"{accuracies['baal']:.3f}; BALD on the same probabilities: scores differ by at most "
          f"{checks['bald_max_abs_difference_same_probabilities']:.1e}; BALD's top {args.query}: "
          f"{checks['bald_top_picks_in_common']} in common (different dropout masks); BatchBALD on the same "
          f"probabilities: {checks['batchbald_picks_in_common_same_probabilities']} of {args.batch} picks in common "
          f"(BaaL samples 500 label configurations, alstudio enumerates them while there are at most 1024); "
          f"labeled after one cycle: {labeled_after['alstudio']} (alstudio), {labeled_after['baal']} (BaaL)")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump({"meta": meta, "rows": [row.as_dict() for row in ordered], "checks": checks}, out, indent=2)
            out.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
