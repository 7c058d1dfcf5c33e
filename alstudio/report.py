"""`alstudio report DIR --png FILE`: the experiment's curves in one picture, drawn without a display."""

from __future__ import annotations

import os
from pathlib import Path

from .engine.errors import UserInputError
from .engine.experiment import Experiment
from .engine.results import collect_rows, curves, pool_minority_share

_MINORITY_WORDS = {
    "minority": "the minority group(s)",
    "correlation": "bias-conflicting cells (class not paired with its group)",
    "none": "no minority (unbiased pool)",
}


def draw_report(folder: str | Path, png: str | Path, width: int = 1500, height: int = 480) -> Path:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication, QHBoxLayout, QWidget

    from .gui.plots import CurvePlot

    experiment = Experiment.open(folder)
    rows = collect_rows(experiment)
    if not rows:
        raise UserInputError(f"{folder}: no finished cycle to report yet")
    app = QApplication.instance() or QApplication([])
    d = experiment.config.dataset
    base_rate = pool_minority_share(d)

    accuracy = CurvePlot("Learning curve (mean ± std over seeds)", "test accuracy")
    accuracy.set_curves(curves(rows, "accuracy"))
    parity = CurvePlot("Predictive-parity gap (lower is fairer)", "PPV gap, mean over classes")
    parity.set_curves(curves(rows, "ppv_gap"))
    share = CurvePlot("What the strategies acquire", f"labelled share in {_MINORITY_WORDS[d.bias]}")
    share.set_curves(curves(rows, "labeled_share_minority_cells"))
    share.add_reference(base_rate, f"pool base rate {100 * base_rate:.0f}%")

    sheet = QWidget()
    layout = QHBoxLayout(sheet)
    for plot in (accuracy, parity, share):
        layout.addWidget(plot)
    sheet.resize(width, height)
    sheet.show()
    app.processEvents()
    png = Path(png)
    if not sheet.grab().save(str(png)):
        raise UserInputError(f"--png {png}: cannot be written")
    sheet.close()
    return png
