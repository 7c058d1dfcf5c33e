"""The workbench's sweeps (engine.sweep): the grid as a live, colour-scaled table, and new sweeps run
locally on a QThread.

    launcher.py      SweepLauncher: File > Open sweep / New sweep, the sweep windows, the one drive at a time
    view.py          SweepView: the table, each cell's runs, Stop / Resume; a row opens its cell's plots
    table.py         SweepTableModel: cell x strategy rows, bands as text, colour per column
    colours.py       the colour scale (greener is better) and its legend
    cell_status.py   CellStatusTable: runs done / running / failed / pending and time left per cell
    poller.py        SweepPoller: sweep_summary and sweep_status read on a worker thread
    runner.py        SweepRunner: run_sweep with a LocalExecutor on a QThread, cooperative stop
    new_dialog.py    NewSweepDialog: tick strategies, axes and values, other axes checked as typed
    axis_choices.py  the dialog's tickable strategies and axes
    plan.py          the dialog's choices -> a checked SweepPlan (no Qt)
"""

from .launcher import SweepLauncher
from .new_dialog import NewSweepDialog
from .plan import SweepPlan, check_plan
from .view import SweepView

__all__ = ["NewSweepDialog", "SweepLauncher", "SweepPlan", "SweepView", "check_plan"]
