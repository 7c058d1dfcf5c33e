"""Lecture mode scales every text, the window lays out without overlaps from 800 x 500 to 1920 x 1080,
and the plots keep their labels and legends off each other and off the curves (issue 9, items 8, 12, 13)."""

import itertools

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from conftest import small_dataset_config  # noqa: E402
from PySide6.QtCore import QPoint, QPointF, QRect, QRectF  # noqa: E402
from PySide6.QtGui import QImage, QPainter  # noqa: E402
from PySide6.QtWidgets import QApplication, QTabBar  # noqa: E402

from alstudio.engine.results import metrics_row  # noqa: E402
from alstudio.gui.plots import AcquisitionPlot, FairnessPlot, GalleryItem, LearningCurvePlot  # noqa: E402
from alstudio.plotting import CurvePlot  # noqa: E402

LONG_STAGE = "bald seed 1, cycle 3: training epoch 2/15, about 1 min 05 s left"


def _rows(dataset_config, strategies=("random", "bald"), seeds=(1, 2), cycles=4) -> list[dict]:
    """Rising accuracy (the newest points at the top right, where legends used to sit)."""
    rows = []
    for index, strategy in enumerate(strategies):
        for seed in seeds:
            for cycle in range(cycles):
                accuracy = 0.55 + 0.1 * cycle + 0.02 * index + 0.005 * seed
                share = 0.3 + 0.05 * cycle * index
                metrics = {"accuracy": accuracy, "accuracy_gap": 0.1 * index + 0.02 * cycle, "ppv_gap": 0.2,
                           "eo_diff": 0.1, "dp_diff": 0.1, "accuracy_per_group": [accuracy, accuracy - 0.1],
                           "labeled_share": [1 - share, share], "labeled_count": np.array([[10, 1], [9, 2]]),
                           "labels_by_source": {"initial": 20}, "label_accuracy": 1.0}
                rows.append(metrics_row(strategy, seed, cycle, 20 + 10 * cycle, metrics, dataset_config))
    return rows


def _gallery_items(n: int) -> list[GalleryItem]:
    rng = np.random.default_rng(0)
    return [GalleryItem(sample=k, image=rng.integers(0, 255, (32, 32, 3), dtype=np.uint8), class_name="ad"[k % 2],
                        group=("blue", "red")[k % 2], score=1.0 / (k + 1)) for k in range(n)]


def _settle(qtbot) -> None:
    for _ in range(3):
        QApplication.processEvents()
    qtbot.wait(20)


pytestmark = pytest.mark.usefixtures("modal_dialogs_fail")


@pytest.fixture
def filled_window(window, qtbot):
    """A workbench with curves in every plot and a batch in the gallery."""
    def make(config=None):
        win = window(config)
        qtbot.waitExposed(win)
        _fill(win)
        return win

    return make


def _fill(win) -> None:
    win.results.show_rows(_rows(win.config.dataset), "oracle")
    win.gallery.show_batch("bald", 3, _gallery_items(6))


def _curve_plots(win) -> dict[str, CurvePlot]:
    return {"learning": win.learning_plot.plot, "fairness": win.fairness_plot.plot,
            "acquisition": win.acquisition_plot}


def _tick_text_heights(axis) -> list[float]:
    """The heights of the tick numbers the axis would draw now."""
    image = QImage(10, 10, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        specs = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    return [] if specs is None else [rect.height() for rect, _, _ in specs[2]]


def _text_height(item) -> float:
    """A QGraphicsTextItem's line height, without the document's margin (which does not scale)."""
    document, lines, block = item.document(), 0, item.document().firstBlock()
    while block.isValid():
        lines += block.layout().lineCount()
        block = block.next()
    return (item.boundingRect().height() - 2 * document.documentMargin()) / max(lines, 1)


def _text_rect(item) -> QRectF:
    """Where a QGraphicsTextItem's text is drawn, in scene coordinates (its margin is blank)."""
    margin = item.document().documentMargin()
    return item.mapRectToScene(item.boundingRect().adjusted(margin, margin, -margin, -margin))


def _text_sizes(win) -> dict[str, float]:
    """The drawn height of every text in the plots and the gallery, by element."""
    sizes = {}
    for name, plot in _curve_plots(win).items():
        sizes[f"{name} title"] = _text_height(plot.plotItem.titleLabel.item)
        for side in ("left", "bottom"):
            axis = plot.getAxis(side)
            sizes[f"{name} {side} label"] = _text_height(axis.label)
            ticks = _tick_text_heights(axis)
            assert ticks, f"{name} {side}: no tick numbers"
            sizes[f"{name} {side} ticks"] = max(ticks)
        for index, (_, label) in enumerate(plot.legend.items):
            sizes[f"{name} legend {index}"] = _text_height(label.item)
        for index, line in enumerate(getattr(plot, "_references", [])):
            sizes[f"{name} line label {index}"] = _text_height(line.label.textItem)
    tiles = win.gallery.tiles
    sizes["gallery caption"] = tiles.fontMetrics().height()
    sizes["gallery caption room"] = tiles.visualItemRect(tiles.item(0)).height() - tiles.iconSize().height()
    sizes["gallery title"] = win.gallery.title.fontMetrics().height()
    return sizes


def test_lecture_mode_scales_every_plot_text_at_once_and_back(filled_window, qtbot):
    win = filled_window()
    _settle(qtbot)
    normal = _text_sizes(win)
    win.toggle_lecture_mode()  # no new data, no redraw in between
    lecture = _text_sizes(win)
    assert lecture.keys() == normal.keys()
    smaller = {key: (normal[key], lecture[key]) for key in normal if not lecture[key] >= 1.4 * normal[key]}
    assert not smaller, f"not enlarged in lecture mode: {smaller}"
    win.toggle_lecture_mode()
    back = _text_sizes(win)
    changed = {key: (normal[key], back[key]) for key in normal if back[key] != pytest.approx(normal[key], abs=0.5)}
    assert not changed, f"not back to normal after lecture mode: {changed}"


def test_plots_made_during_lecture_mode_have_lecture_text(filled_window, qtbot):
    win = filled_window()
    _settle(qtbot)
    normal = _text_sizes(win)
    win.toggle_lecture_mode()
    lecture = _text_sizes(win)
    win.new_experiment()  # fresh fairness and acquisition plots, made while lecture mode is on
    _fill(win)
    _settle(qtbot)
    fresh = _text_sizes(win)
    for key in ("fairness title", "fairness left label", "fairness bottom ticks", "fairness legend 0",
                "acquisition title", "acquisition left label", "acquisition left ticks", "acquisition legend 0",
                "acquisition line label 0"):
        assert fresh[key] == pytest.approx(lecture[key], abs=0.5), key
    win.toggle_lecture_mode()
    back = _text_sizes(win)
    for key in ("fairness title", "fairness left label", "acquisition legend 0", "acquisition line label 0"):
        assert back[key] == pytest.approx(normal[key], abs=0.5), key


def _window_rect(widget) -> QRect:
    return QRect(widget.mapTo(widget.window(), QPoint(0, 0)), widget.size())


def _scene_rect(item) -> QRectF:
    """Where the item lies: a layout's widget by its geometry (an axis paints its grid beyond it)."""
    return item.mapRectToScene(item.rect() if hasattr(item, "rect") else item.boundingRect())


def _check_layout(win) -> None:
    """No plot over another, every plot inside its view, the docks' content off their tab bar and the
    whole run stage readable in the toolbar."""
    widgets = {"learning": win.learning_plot, "fairness": win.fairness_plot, "acquisition": win.acquisition_plot,
               "gallery": win.gallery}
    for (a, first), (b, second) in itertools.combinations(widgets.items(), 2):
        assert not _window_rect(first).intersects(_window_rect(second)), f"{a} overlaps {b}"
    central = _window_rect(win.centralWidget())
    for name, widget in widgets.items():
        assert central.contains(_window_rect(widget)), f"{name} outside the plot area"
    for name, plot in _curve_plots(win).items():
        item = plot.plotItem
        # A plot item wider or taller than its view is cut off (and looked covered by its neighbour).
        assert item.geometry().width() <= plot.width() + 0.5, f"{name} wider than its view"
        assert item.geometry().height() <= plot.height() + 0.5, f"{name} taller than its view"
        box = _scene_rect(item.vb)
        assert box.width() > 50 and box.height() > 30, f"{name}: no room for curves ({box})"
        parts = {"title": _scene_rect(item.titleLabel), "axes": box, "legend": _scene_rect(plot.legend),
                 "left axis": _scene_rect(plot.getAxis("left")), "bottom axis": _scene_rect(plot.getAxis("bottom"))}
        for (a, first), (b, second) in itertools.combinations(parts.items(), 2):
            if {a, b} != {"left axis", "bottom axis"}:  # they meet at the corner
                assert not first.adjusted(1, 1, -1, -1).intersects(second), f"{name}: {a} overlaps {b}"
    tab_bars = [bar for bar in win.findChildren(QTabBar) if bar.isVisible()]
    for dock in win.docks:
        if dock.isVisible() and not dock.visibleRegion().isEmpty():
            content = _window_rect(dock.widget())
            assert _window_rect(dock).contains(content), f"{dock.objectName()}: content outside its dock"
            for bar in tab_bars:
                assert not content.intersects(_window_rect(bar)), f"{dock.objectName()}: content over the tab bar"
    stage = win.stage_label
    assert stage.isVisible(), "the run stage is in the toolbar's overflow menu"
    assert _window_rect(win.toolbar).contains(_window_rect(stage))
    assert stage.width() >= stage.fontMetrics().horizontalAdvance(stage.text()), "the run stage is cut"


@pytest.mark.parametrize("width, height", [(800, 500), (1920, 1080)])
def test_the_window_lays_out_without_overlaps(filled_window, qtbot, tmp_path, width, height):
    win = filled_window()
    win.stage_label.setText(LONG_STAGE)
    win.resize(width, height)
    _settle(qtbot)
    assert (win.width(), win.height()) == (width, height)  # not held larger by a minimum size
    win.grab().save(str(tmp_path / f"layout-{width}x{height}.png"))
    _check_layout(win)


def test_lecture_mode_on_a_projector_lays_out_without_overlaps(filled_window, qtbot, tmp_path):
    win = filled_window()
    win.stage_label.setText(LONG_STAGE)
    win.toggle_lecture_mode()
    win.resize(1024, 768)
    _settle(qtbot)
    win.grab().save(str(tmp_path / "layout-lecture-1024x768.png"))
    _check_layout(win)


@pytest.mark.parametrize("bias, strength", [("correlation", 0.9), ("minority", 0.52)])
def test_base_rate_labels_never_overprint(qtbot, tmp_path, bias, strength):
    """Equal base rates (a correlation bias) share one line and one label; close ones are labeled on
    either side of their lines."""
    config = small_dataset_config(bias=bias, bias_strength=strength)
    plot = AcquisitionPlot(config)
    qtbot.addWidget(plot)
    plot.resize(420, 320)
    plot.show()
    qtbot.waitExposed(plot)
    plot.set_rows(_rows(config))
    _settle(qtbot)
    plot.grab().save(str(tmp_path / f"acquisition-{bias}.png"))
    lines = list(dict.fromkeys(plot.base_rate_lines.values()))
    if bias == "correlation":
        assert len(lines) == 1
        assert lines[0].label.format == "blue, red: 50% of pool"
    else:
        assert len(lines) == 2
    labels = [_text_rect(line.label.textItem) for line in lines]
    for first, second in itertools.combinations(labels, 2):
        assert not first.intersects(second), (first, second)
    box = _scene_rect(plot.plotItem.vb)
    for label in labels:
        assert box.contains(label), "a base-rate label is cut off"


@pytest.mark.parametrize("kind", ["learning", "fairness", "acquisition"])
def test_legends_sit_outside_the_curves(qtbot, kind):
    config = small_dataset_config(bias="correlation")
    rows = _rows(config, strategies=("random", "bald", "entropy"))
    widget = {"learning": LearningCurvePlot, "fairness": FairnessPlot,
              "acquisition": lambda: AcquisitionPlot(config)}[kind]()
    qtbot.addWidget(widget)
    widget.resize(520, 380)
    widget.show()
    qtbot.waitExposed(widget)
    if kind == "learning":
        widget.set_rows(rows, "oracle")
    else:
        widget.set_rows(rows)
    _settle(qtbot)
    plot = widget if isinstance(widget, CurvePlot) else widget.plot
    legend = _scene_rect(plot.legend)
    assert len(plot.legend.items) >= 3
    view = plot.plotItem.vb
    assert not legend.intersects(_scene_rect(view)), "the legend lies over the curves' box"
    curves = [item for item in view.addedItems if getattr(item, "xData", None) is not None]
    points = [view.mapViewToScene(QPointF(x, y)) for item in curves for x, y in zip(item.xData, item.yData)]
    assert points and not any(legend.contains(point) for point in points)
    assert not legend.intersects(_scene_rect(plot.plotItem.titleLabel))


def _shows_numbers(plot: CurvePlot) -> bool:
    return any(_tick_text_heights(plot.getAxis(side)) for side in ("left", "bottom"))


def test_an_empty_plot_shows_no_numbers_until_it_has_data(qtbot, tmp_path):
    config = small_dataset_config(bias="correlation")
    learning, fairness, acquisition = LearningCurvePlot(), FairnessPlot(), AcquisitionPlot(config)
    plots = {"learning": learning.plot, "fairness": fairness.plot, "acquisition": acquisition}
    for widget in (learning, fairness, acquisition):
        qtbot.addWidget(widget)
        widget.resize(420, 320)
        widget.show()
    _settle(qtbot)
    for name, plot in plots.items():
        plot.grab().save(str(tmp_path / f"empty-{name}.png"))
        assert not _shows_numbers(plot), f"{name}: numbers on an empty plot"
        assert plot.empty_note.isVisible() and plot.empty_note.text() == "no data yet"
    rows = _rows(config)
    learning.set_rows(rows, "oracle")
    fairness.set_rows(rows)
    acquisition.set_rows(rows)
    for name, plot in plots.items():
        assert _shows_numbers(plot), f"{name}: no numbers with data"
        assert not plot.empty_note.isVisible()
    learning.set_rows([], "")  # a new experiment empties the learning curve
    assert not _shows_numbers(learning.plot) and learning.plot.empty_note.isVisible()
    # The note keeps off the acquisition plot's 50 % base-rate line and its label.
    fresh = AcquisitionPlot(config)
    qtbot.addWidget(fresh)
    fresh.resize(420, 320)
    fresh.show()
    _settle(qtbot)
    note = _scene_rect(fresh.empty_note)
    line = fresh.base_rate_lines["blue"]
    assert not note.intersects(_scene_rect(line.label))
    line_y = fresh.plotItem.vb.mapViewToScene(QPointF(0, line.value())).y()
    assert not note.top() <= line_y <= note.bottom()
