"""`alstudio report DIR [DIR ...] --png FILE`: curves in one picture, drawn without a display.

One folder: its learning curve, parity gap and acquired minority share. Several (say a study's
conditions, or human-only, oracle and LLM-assisted experiments): their learning curves side by side,
each named by what sets it apart, against all labels and, when an LLM labeled some, against the
labels people gave; on biased pools their parity gaps, and, on one shared pool, what each acquired.
"""

from __future__ import annotations

import math
import os
import sys
from contextlib import contextmanager
from pathlib import Path

from .engine.data.bias import bias_kind
from .engine.errors import UserInputError
from .engine.experiment import Experiment
from .engine.metrics import FAIRNESS_METRICS, HEADLINE_FAIRNESS_METRIC
from .engine.results import collect_rows, compared_curves, curves, experiment_labels, pool_minority_share


def _rows_of(folder: str | Path) -> tuple[Experiment, list[dict]]:
    experiment = Experiment.open(folder)
    rows = collect_rows(experiment)
    if not rows:
        raise UserInputError(f"{folder}: no finished cycle to report yet")
    return experiment, rows


def draw_report(folders: str | Path | list, png: str | Path, panel_width: int = 500, height: int = 480) -> Path:
    os.environ["QT_QPA_PLATFORM"] = os.environ.get("QT_QPA_PLATFORM") or "offscreen"  # a picture needs no display
    from PySide6.QtWidgets import QApplication

    folders = [folders] if isinstance(folders, (str, Path)) else list(folders)
    loaded = [_rows_of(folder) for folder in folders]
    with _without_offscreen_chatter():
        app = QApplication.instance() or QApplication([])
        plots = _comparison_plots(loaded) if len(loaded) > 1 else _experiment_plots(*loaded[0])
        return save_sheet(app, plots, Path(png), panel_width * len(plots), height)


@contextmanager
def _without_offscreen_chatter():
    """The offscreen platform warns that it ignores window size hints, which a picture never needs."""
    from PySide6.QtCore import qInstallMessageHandler

    def handler(kind, context, message: str) -> None:
        if "propagateSizeHints" in message:
            return
        if previous is not None:
            previous(kind, context, message)
        else:
            print(message, file=sys.stderr)

    previous = qInstallMessageHandler(handler)
    try:
        yield
    finally:
        qInstallMessageHandler(previous)


def _share_plot(dataset, colors=None):
    from .plotting import CurvePlot

    base_rate = pool_minority_share(dataset)
    share = CurvePlot("What they acquire ({band})", f"labeled share in {bias_kind(dataset).minority_words}",
                      colors=colors)
    share.add_reference(base_rate, f"pool base rate {100 * base_rate:.0f}%")
    return share


def _fairness_plot(colors=None):
    """An empty plot of the headline fairness metric, named as the registry names it."""
    from .plotting import CurvePlot

    metric = FAIRNESS_METRICS[HEADLINE_FAIRNESS_METRIC]
    return CurvePlot(f"{metric.title} ({{band}})", f"{metric.axis_label} ({metric.direction})", colors=colors)


def _experiment_plots(experiment: Experiment, rows: list[dict]) -> list:
    from .plotting import CurvePlot

    accuracy = CurvePlot("Learning curve ({band})", "test accuracy")
    accuracy.set_curves(curves(rows, "accuracy"))
    parity = _fairness_plot()
    parity.set_curves(curves(rows, HEADLINE_FAIRNESS_METRIC))
    share = _share_plot(experiment.config.dataset)
    share.set_curves(curves(rows, "labeled_share_minority_cells"))
    return [accuracy, parity, share]


def _comparison_plots(loaded: list[tuple[Experiment, list[dict]]]) -> list:
    """Learning curves; against human effort when an LLM labeled some; on biased pools the parity
    gap, and, when the experiments share one biased pool, what each acquired."""
    from .plotting import CurvePlot, palette_colors

    experiments = [experiment for experiment, _ in loaded]
    named: dict[str, list[dict]] = {}
    for label, (experiment, rows) in zip(experiment_labels(experiments), loaded):
        strategies = {row["strategy"] for row in rows}
        if any(name == label and strategies & {row["strategy"] for row in other} for name, other in named.items()):
            label = f"{label} ({experiment.folder.name})".strip()  # the same set-up twice: tell them by folder
        named[label] = named.get(label, []) + rows  # set-ups alike but for their strategies share a name
    colors = palette_colors(compared_curves(named, "accuracy"))
    plots = [CurvePlot("Learning curves ({band})", "test accuracy", colors=colors)]
    plots[0].set_curves(compared_curves(named, "accuracy"))
    if any(experiment.config.annotator.kind == "llm" for experiment in experiments):
        by_people = CurvePlot("Against human effort ({band})", "test accuracy", colors=colors)
        by_people.setLabel("bottom", "labels from people (initial labels included)")
        by_people.set_curves(compared_curves(named, "accuracy", x="people_labels"))
        plots.append(by_people)
    if any(bias_kind(experiment.config.dataset).biased for experiment in experiments):
        parity = _fairness_plot(colors)
        parity.set_curves(compared_curves(named, HEADLINE_FAIRNESS_METRIC))
        plots.append(parity)
    datasets = {experiment.config.dataset.model_dump_json() for experiment in experiments}
    dataset = experiments[0].config.dataset
    if len(datasets) == 1 and bias_kind(dataset).biased:
        share = _share_plot(dataset, colors)
        share.set_curves(compared_curves(named, "labeled_share_minority_cells"))
        plots.append(share)
    return plots


def save_sheet(app, plots: list, png: Path, width: int, height: int) -> Path:
    """The plots side by side in one PNG."""
    from PySide6.QtWidgets import QHBoxLayout, QWidget

    sheet = QWidget()
    layout = QHBoxLayout(sheet)
    for plot in plots:
        layout.addWidget(plot)
    return save_widget(app, sheet, png, width, height)


def save_widget(app, sheet, png: Path, width: int, height: int) -> Path:
    """`sheet` at `width` x `height`, as a PNG (its folder made when missing)."""
    Path(png).parent.mkdir(parents=True, exist_ok=True)
    sheet.resize(width, height)
    sheet.show()
    app.processEvents()
    if not sheet.grab().save(str(png)):
        raise UserInputError(f"--png {png}: cannot be written")
    sheet.close()
    return png


def draw_sweep_report(folder: str | Path, png: str | Path, panel_width: int = 420, panel_height: int = 340) -> Path:
    """A sweep's small multiples: one panel per cell, its learning curves per strategy (mean and band
    over seeds), on one shared accuracy scale so that panels compare at a glance."""
    os.environ["QT_QPA_PLATFORM"] = os.environ.get("QT_QPA_PLATFORM") or "offscreen"
    from PySide6.QtWidgets import QApplication, QGridLayout, QWidget

    from .engine.sweep import Sweep
    from .plotting import CurvePlot

    sweep = Sweep.open(folder)
    panels = [(cell, collect_rows(cell.experiment())) for cell in sweep.cells]
    if not any(rows for _, rows in panels):
        raise UserInputError(f"{folder}: no finished cycle to report yet")
    accuracies = [row["accuracy"] for _, rows in panels for row in rows]
    columns = max(1, min(len(panels), math.ceil(math.sqrt(len(panels)))))
    with _without_offscreen_chatter():
        app = QApplication.instance() or QApplication([])
        sheet = QWidget()
        layout = QGridLayout(sheet)
        for i, (cell, rows) in enumerate(panels):
            plot = CurvePlot(cell.id, "test accuracy")  # the band (CI or ± std) follows the report's one rule
            if rows:
                plot.set_curves(curves(rows, "accuracy"))
            plot.setYRange(min(accuracies), max(accuracies), padding=0.05)
            layout.addWidget(plot, i // columns, i % columns)
        rows_of_panels = math.ceil(len(panels) / columns)
        return save_widget(app, sheet, Path(png), panel_width * columns, panel_height * rows_of_panels)
