"""Where a sweep's runs execute: a process pool on this machine, or Ray tasks (a local Ray or a
cluster the user already runs). The driver sees one small interface, so it retries, records and
reports the same way for both.

Ray is imported only by RayExecutor.start: nothing else in alstudio needs it.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, CancelledError, Future, ProcessPoolExecutor, wait
from typing import Protocol

from ..errors import UserInputError
from .execution import RunOutcome, RunTask, execute_run

RAY_MISSING = "--engine ray needs Ray, which is not installed; install it with pip install 'alstudio[ray]'"


class Executor(Protocol):
    """Runs RunTasks somewhere; `completed` hands back how each attempt ended, in any order."""

    slots: int  # runs that can execute at once (for the ETA)

    def start(self) -> None: ...
    def submit(self, task: RunTask) -> None: ...
    def completed(self, timeout: float) -> list[tuple[RunTask, RunOutcome]]: ...
    def stop(self) -> None: ...  # cooperative: running runs end 'stopped' (resumable), queued ones are dropped
    def close(self) -> None: ...


def default_parallel(cpus_per_run: int) -> int:
    return max(1, (os.cpu_count() or 1) // max(cpus_per_run, 1))


# ---- local: a process pool ----------------------------------------------------------------------

_worker_stop: threading.Event | None = None


def _start_worker(stop, parent_pid: int) -> None:
    """In each pool process: remember the driver's stop event, and end this process should the driver
    die (a killed driver must not leave workers writing journals that a resumed sweep then runs too)."""
    global _worker_stop
    _worker_stop = stop

    def watch_parent() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent_pid:
                os._exit(3)  # the journal is consistent after any kill; resume goes on from it

    threading.Thread(target=watch_parent, name="sweep-parent-watch", daemon=True).start()


def _run_in_pool(task: RunTask) -> RunOutcome:
    return execute_run(task, _worker_stop)


class LocalExecutor:
    """One run per pool process, `max_parallel` at once, each with `cpus_per_run` torch threads.
    Processes are spawned, never forked: a forked copy of a process holding torch's threads is unsafe."""

    def __init__(self, max_parallel: int | None = None, cpus_per_run: int = 1):
        self.slots = max_parallel or default_parallel(cpus_per_run)
        self.cpus_per_run = cpus_per_run
        self._context = multiprocessing.get_context("spawn")
        self._stop = self._context.Event()
        self._pool: ProcessPoolExecutor | None = None
        self._futures: dict[Future, RunTask] = {}

    def start(self) -> None:
        self._pool = ProcessPoolExecutor(self.slots, mp_context=self._context, initializer=_start_worker,
                                         initargs=(self._stop, os.getpid()))

    def submit(self, task: RunTask) -> None:
        if self._pool is None:  # a worker died and took the pool with it: a fresh one for what follows
            self.start()
        self._futures[self._pool.submit(_run_in_pool, task)] = task

    def completed(self, timeout: float) -> list[tuple[RunTask, RunOutcome]]:
        if not self._futures:
            time.sleep(timeout)
            return []
        done, _ = wait(self._futures, timeout, return_when=FIRST_COMPLETED)
        out = []
        for future in done:
            task = self._futures.pop(future)
            try:
                out.append((task, future.result()))
            except CancelledError:
                out.append((task, RunOutcome("stopped")))
            except Exception as err:  # BrokenProcessPool: a worker process died (killed, out of memory)
                self._pool = None
                out.append((task, RunOutcome("failed", f"its worker process died ({err.__class__.__name__})")))
        return out

    def stop(self) -> None:
        self._stop.set()
        for future in self._futures:
            future.cancel()  # those not started yet

    def close(self) -> None:
        if self._pool is not None:
            # With nothing in flight the workers just exit (torch's teardown takes seconds): no need to wait.
            self._pool.shutdown(wait=bool(self._futures), cancel_futures=True)
            self._pool = None


# ---- Ray ----------------------------------------------------------------------------------------

class RayExecutor:
    """One Ray task per run with `num_cpus=cpus_per_run`, `num_gpus=gpus_per_run`. `address` ("auto" or
    HOST:PORT) joins a running cluster; None starts a local one sized to this machine."""

    def __init__(self, address: str | None = None, cpus_per_run: int = 1, gpus_per_run: float = 0.0,
                 max_parallel: int | None = None, local_cpus: int | None = None):
        self.address, self.cpus_per_run, self.gpus_per_run = address, cpus_per_run, gpus_per_run
        self.max_parallel = max_parallel
        self.local_cpus = local_cpus or os.cpu_count() or 1
        self.slots = max_parallel or max(1, self.local_cpus // cpus_per_run)
        self._ray = None
        self._remote = None
        self._refs: dict = {}
        self._queued: deque[RunTask] = deque()  # beyond max_parallel, held back here
        self._dropped: list[RunTask] = []  # queued ones a stop came before

    def start(self) -> None:
        try:
            import ray
        except ImportError:
            raise UserInputError(RAY_MISSING) from None
        self._ray = ray
        options = {"include_dashboard": False, "log_to_driver": False, "ignore_reinit_error": True}
        try:
            if self.address:
                ray.init(address=self.address, **options)
                cpus = int(ray.cluster_resources().get("CPU", 1))
                self.slots = self.max_parallel or max(1, cpus // self.cpus_per_run)
            else:
                # "local": a Ray of the sweep's own, even where `ray start` left a cluster on this machine or
                # RAY_ADDRESS names one (Ray would join that, and refuse num_cpus).
                ray.init(address="local", num_cpus=self.local_cpus, **options)
        except ConnectionError:
            raise UserInputError(f"--address {self.address}: no running Ray cluster found there") from None
        # max_retries=0: the driver retries failures itself, the same way for every executor.
        self._remote = ray.remote(num_cpus=self.cpus_per_run, num_gpus=self.gpus_per_run, max_retries=0)(execute_run)

    def submit(self, task: RunTask) -> None:
        if self.max_parallel and len(self._refs) >= self.max_parallel:
            self._queued.append(task)
        else:
            self._refs[self._remote.remote(task)] = task

    def completed(self, timeout: float) -> list[tuple[RunTask, RunOutcome]]:
        out = [(task, RunOutcome("stopped")) for task in self._dropped]
        self._dropped.clear()
        if not self._refs:
            if not out:
                time.sleep(timeout)
            return out
        ray = self._ray
        ready, _ = ray.wait(list(self._refs), num_returns=len(self._refs), timeout=timeout)
        for ref in ready:
            task = self._refs.pop(ref)
            try:
                out.append((task, ray.get(ref)))
            except ray.exceptions.TaskCancelledError:
                out.append((task, RunOutcome("stopped")))
            except ray.exceptions.RayError as err:  # the worker or its node died
                out.append((task, RunOutcome("failed", f"its Ray worker failed ({err.__class__.__name__})")))
        while self._queued and (not self.max_parallel or len(self._refs) < self.max_parallel):
            self.submit(self._queued.popleft())
        return out

    def stop(self) -> None:
        self._dropped.extend(self._queued)
        self._queued.clear()
        for ref in self._refs:
            self._ray.cancel(ref)  # KeyboardInterrupt in the task: the loop marks its journal stopped

    def close(self) -> None:
        if self._ray is not None:
            self._ray.shutdown()
            self._ray = None



def executor_for(settings) -> Executor:
    """The executor an ExecutionSettings asks for (Ray is imported only when it starts)."""
    if settings.engine == "ray":
        return RayExecutor(settings.address, settings.cpus_per_run, settings.gpus_per_run, settings.max_parallel)
    return LocalExecutor(settings.max_parallel, settings.cpus_per_run)


def ray_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("ray") is not None
