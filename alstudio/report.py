"""`alstudio report DIR --png FILE`: the experiment's curves in one picture, drawn without a display."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .engine.data.bias import cell_counts, group_shares
from .engine.errors import UserInputError
from .engine.experiment import Experiment
from .engine.results import collect_rows, curves


def pool_base_rates(config) -> np.ndarray:
    d = config.dataset
    counts = cell_counts(d.pool_size, group_shares(d.bias, d.bias_strength, len(d.classes), len(d.groups)))
    return counts.sum(axis=0) / counts.sum()


def draw_report(folder: str | Path, png: str | Path, width: int = 1500, height: int = 480) -> Path:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication, QHBoxLayout, QWidget

    from .gui.plots import CurvePlot

    experiment = Experiment.open(folder)
    rows = collect_rows(experiment)
    if not rows:
        raise UserInputError(f"{folder}: no finished cycle to report yet")
    app = QApplication.instance() or QApplication([])
    groups = experiment.config.dataset.groups
    minority = groups[-1]
    base_rate = pool_base_rates(experiment.config)[-1]

    accuracy = CurvePlot("Learning curve (mean ± std over seeds)", "test accuracy")
    accuracy.set_curves(curves(rows, "accuracy"))
    parity = CurvePlot("Predictive-parity gap (lower is fairer)", "PPV gap, mean over classes")
    parity.set_curves(curves(rows, "ppv_gap"))
    share = CurvePlot(f"Acquired share of '{minority}'", f"share of labelled set in '{minority}'")
    share.set_curves(curves(rows, f"labeled_share_{minority}"))
    share.add_reference(float(base_rate), f"pool base rate {100 * base_rate:.0f}%")

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
