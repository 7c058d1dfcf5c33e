"""`alstudio report DIR [DIR ...] --png FILE`: curves in one picture, drawn without a display.

One folder: its learning curve, parity gap and acquired minority share. Several: their learning
curves side by side, against all labels and against the labels people gave (human-only, oracle
and LLM-assisted experiments compared by human effort), and their parity gaps.
"""

from __future__ import annotations

import os
from pathlib import Path

from .engine.errors import UserInputError
from .engine.experiment import Experiment
from .engine.results import annotation_name, collect_rows, compared_curves, curves, pool_minority_share

_MINORITY_WORDS = {
    "minority": "the minority group(s)",
    "correlation": "bias-conflicting cells (class not paired with its group)",
    "none": "no minority (unbiased pool)",
}


def _rows_of(folder: str | Path) -> tuple[Experiment, list[dict]]:
    experiment = Experiment.open(folder)
    rows = collect_rows(experiment)
    if not rows:
        raise UserInputError(f"{folder}: no finished cycle to report yet")
    return experiment, rows


def draw_report(folders: str | Path | list, png: str | Path, width: int = 1500, height: int = 480) -> Path:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    folders = [folders] if isinstance(folders, (str, Path)) else list(folders)
    loaded = [_rows_of(folder) for folder in folders]
    app = QApplication.instance() or QApplication([])
    plots = _comparison_plots(loaded) if len(loaded) > 1 else _experiment_plots(*loaded[0])
    return save_sheet(app, plots, Path(png), width, height)


def _experiment_plots(experiment: Experiment, rows: list[dict]) -> list:
    from .gui.plots import CurvePlot

    d = experiment.config.dataset
    base_rate = pool_minority_share(d)

    accuracy = CurvePlot("Learning curve ({band})", "test accuracy")
    accuracy.set_curves(curves(rows, "accuracy"))
    parity = CurvePlot("Predictive-parity gap ({band})", "PPV gap, mean over classes (lower is fairer)")
    parity.set_curves(curves(rows, "ppv_gap"))
    share = CurvePlot("What the strategies acquire ({band})", f"labelled share in {_MINORITY_WORDS[d.bias]}")
    share.set_curves(curves(rows, "labeled_share_minority_cells"))
    share.add_reference(base_rate, f"pool base rate {100 * base_rate:.0f}%")
    return [accuracy, parity, share]


def _comparison_plots(loaded: list[tuple[Experiment, list[dict]]]) -> list:
    from .gui.plots.curves import CurvePlot, palette_colors

    named: dict[str, list[dict]] = {}
    trunks_differ = len({experiment.config.model.init for experiment, _ in loaded}) > 1
    for experiment, rows in loaded:
        name = annotation_name(experiment)
        if trunks_differ:
            name += f", {experiment.config.model.init} trunk"
        if name in named:  # two experiments with the same annotator: tell them apart by folder
            name = f"{name} ({experiment.folder.name})"
        named[name] = rows
    colors = palette_colors(compared_curves(named, "accuracy"))
    by_labels = CurvePlot("Learning curves ({band})", "test accuracy", colors=colors)
    by_labels.set_curves(compared_curves(named, "accuracy"))
    by_people = CurvePlot("Against human effort ({band})", "test accuracy", colors=colors)
    by_people.setLabel("bottom", "labels from people (initial labels included)")
    by_people.set_curves(compared_curves(named, "accuracy", x="people_labels"))
    parity = CurvePlot("Predictive-parity gap ({band})", "PPV gap, mean over classes (lower is fairer)",
                       colors=colors)
    parity.set_curves(compared_curves(named, "ppv_gap"))
    return [by_labels, by_people, parity]


def save_sheet(app, plots: list, png: Path, width: int, height: int) -> Path:
    """The plots side by side in one PNG."""
    from PySide6.QtWidgets import QHBoxLayout, QWidget

    sheet = QWidget()
    layout = QHBoxLayout(sheet)
    for plot in plots:
        layout.addWidget(plot)
    sheet.resize(width, height)
    sheet.show()
    app.processEvents()
    if not sheet.grab().save(str(png)):
        raise UserInputError(f"--png {png}: cannot be written")
    sheet.close()
    return png
