"""Sweeps: grids of experiments over config keys, their runs spread over a local process pool or
Ray tasks, one journal per run, resumable. See docs/architecture.md (Sweeps) for the API and layout.

    grid.py        --grid text -> typed axes -> cells (ids, settings)
    folder.py      Sweep: the folder, sweep.json, cells (experiment folders), locks
    execution.py   RunTask / RunOutcome / execute_run: one run in a worker process
    executors.py   LocalExecutor (process pool, spawn) and RayExecutor (imports ray only when started)
    driver.py      run_sweep: prepare once, dispatch, retry, record failures, rebuild the results
    status.py      sweep_status: per cell runs done / running / failed / pending, ETA
    aggregate.py   DIR/metrics.csv and DIR/summary.json; sweep_summary for a table
"""

from .aggregate import Band, SummaryRow, sweep_results_are_stale, sweep_summary, write_sweep_results
from .driver import FailedRun, SweepOutcome, prepare_inputs, run_sweep
from .execution import RunOutcome, RunTask
from .executors import RAY_MISSING, Executor, LocalExecutor, RayExecutor, default_parallel, executor_for, ray_installed
from .folder import ExecutionSettings, Sweep, SweepCell, is_sweep
from .grid import STRATEGY_KEY, Axis, GridError, parse_grid, strategies_of
from .status import CellStatus, SweepStatus, read_failures, sweep_status

__all__ = [
    "Axis", "Band", "CellStatus", "ExecutionSettings", "Executor", "FailedRun", "GridError", "LocalExecutor",
    "RAY_MISSING", "RayExecutor", "RunOutcome", "RunTask", "STRATEGY_KEY", "SummaryRow", "Sweep", "SweepCell",
    "SweepOutcome", "SweepStatus", "default_parallel", "executor_for", "is_sweep", "parse_grid", "prepare_inputs",
    "ray_installed", "read_failures", "run_sweep", "strategies_of", "sweep_results_are_stale", "sweep_status",
    "sweep_summary", "write_sweep_results",
]
