import numpy as np
import pytest

pytest.importorskip("pytestqt")

from conftest import small_dataset_config  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402

from alstudio.engine.results import metrics_row  # noqa: E402
from alstudio.gui.plots import AcquisitionPlot, FairnessPlot, GalleryItem, QueryGallery  # noqa: E402

STRATEGIES = ("random", "bald")
SEEDS = (1, 2)
CYCLES = 3


def _fake_metrics(strategy_index: int, seed: int, cycle: int) -> dict:
    """Distinct, predictable values per column so a test can tell which column was plotted."""
    base = 0.1 * (strategy_index + 1) + 0.01 * seed + 0.001 * cycle
    red_share = 0.1 + 0.05 * cycle * strategy_index + 0.01 * seed
    return {"accuracy": 0.6 + base, "accuracy_gap": base, "ppv_gap": 2 * base, "eo_diff": 3 * base,
            "dp_diff": 4 * base, "accuracy_per_group": [0.7, 0.6], "labeled_share": [1 - red_share, red_share],
            "labeled_count": np.array([[10, 1], [9, 2]]), "labels_by_source": {"initial": 20},
            "label_accuracy": 1.0}


def _rows(dataset_config, seeds=SEEDS) -> list[dict]:
    return [metrics_row(strategy, seed, cycle, 20 + 10 * cycle, _fake_metrics(i, seed, cycle), dataset_config)
            for i, strategy in enumerate(STRATEGIES) for seed in seeds for cycle in range(CYCLES)]


def _seed_mean(rows, strategy, column, scale=1.0) -> list[float]:
    return [scale * np.mean([r[column] for r in rows if r["strategy"] == strategy and r["cycle"] == c])
            for c in range(CYCLES)]


def _gallery_items(n: int) -> list[GalleryItem]:
    rng = np.random.default_rng(0)
    return [GalleryItem(sample=100 + k, image=rng.integers(0, 255, (32, 32, 3), dtype=np.uint8),
                        class_name="ad"[k % 2], group=("blue", "red")[k % 2], score=1.0 / (k + 1),
                        scores={"bald": 1.0 / (k + 1), "entropy": 0.1 * k, "margin": 0.5})
            for k in range(n)]


@pytest.fixture
def config():
    return small_dataset_config()  # minority bias 0.9: blue 90 %, red 10 % of a 120-image pool


def test_fairness_plot_shows_one_mean_point_per_cycle_and_the_seed_average(qtbot, config):
    rows = _rows(config)
    plot = FairnessPlot()
    qtbot.addWidget(plot)
    plot.set_rows(rows)
    assert plot.metric_box.currentText() == "PPV gap"
    for strategy in STRATEGIES:
        assert plot.plot.point_count(strategy) == CYCLES
        mean = plot.plot._items[strategy]["mean"]
        np.testing.assert_allclose(mean.xData, [20, 30, 40])
        np.testing.assert_allclose(mean.yData, _seed_mean(rows, strategy, "ppv_gap"))


def test_switching_the_fairness_metric_replots_the_other_column_in_place(qtbot, config):
    rows = _rows(config)
    plot = FairnessPlot()
    qtbot.addWidget(plot)
    plot.set_rows(rows)
    line = plot.plot._items["bald"]["mean"]
    plot.metric_box.setCurrentIndex(plot.metric_box.findText("Demographic parity"))
    assert plot.plot._items["bald"]["mean"] is line  # updated with setData, not rebuilt
    np.testing.assert_allclose(line.yData, _seed_mean(rows, "bald", "dp_diff"))
    assert "Demographic parity" in plot.plot.getAxis("left").labelText
    plot.set_rows(rows[:2])  # new rows (random, seed 1, cycles 0-1) keep the chosen metric
    np.testing.assert_allclose(plot.plot._items["random"]["mean"].yData, [rows[0]["dp_diff"], rows[1]["dp_diff"]])


def test_acquisition_plot_draws_each_group_share_and_its_pool_base_rate(qtbot, config):
    rows = _rows(config)
    plot = AcquisitionPlot(config)
    qtbot.addWidget(plot)
    plot.set_rows(rows)
    lines = plot.base_rate_lines
    assert set(lines) == {"blue", "red"}
    assert lines["blue"].value() == pytest.approx(90) and lines["red"].value() == pytest.approx(10)
    for group, line in lines.items():
        assert line.pen.style() == Qt.PenStyle.DashLine
        assert group in line.label.format and "%" in line.label.format
    for strategy in STRATEGIES:
        for group in ("blue", "red"):
            assert plot.point_count(strategy, group) == CYCLES
            np.testing.assert_allclose(plot.mean_item(strategy, group).yData,
                                       _seed_mean(rows, strategy, f"labeled_share_{group}", 100))
    # Groups differ by line style, strategies by colour.
    styles = {plot.mean_item("bald", g).opts["pen"].style() for g in ("blue", "red")}
    colours = {plot.mean_item(s, "red").opts["pen"].color().name() for s in STRATEGIES}
    assert len(styles) == 2 and len(colours) == 2 and Qt.PenStyle.DashLine not in styles
    plot.set_line_width(5)  # lecture mode: thicker, still told apart by style
    assert {plot.mean_item("bald", g).opts["pen"].style() for g in ("blue", "red")} == styles
    assert plot.mean_item("bald", "red").opts["pen"].widthF() == 5


def test_gallery_shows_one_tile_per_item_with_its_score_class_and_group(qtbot):
    gallery = QueryGallery()
    qtbot.addWidget(gallery)
    gallery.show_batch("bald", 4, _gallery_items(3))
    assert gallery.title.text() == "Cycle 4 — bald: 3 queried"
    assert gallery.tile_count() == 3
    assert [gallery.tiles.item(k).text() for k in range(3)] == [
        "score 1\na · blue", "score 0.5\nd · red", "score 0.333\na · blue"]
    assert gallery.tiles.iconSize().width() == 96  # 32-pixel glyphs enlarged three times
    gallery.show_batch("bald", 5, _gallery_items(100))
    assert gallery.tile_count() == 100
    gallery.clear()
    assert gallery.tile_count() == 0 and "No batch" in gallery.title.text()


def test_gallery_tooltip_says_why_with_every_strategy_and_the_ranks(qtbot):
    gallery = QueryGallery()
    qtbot.addWidget(gallery)
    gallery.show_batch("bald", 0, _gallery_items(3))
    tip = gallery.tiles.item(2).toolTip()  # the lowest BALD score, the highest entropy
    assert "sample 102" in tip and "class <b>a</b>" in tip and "group <b>blue</b>" in tip
    for strategy in ("bald", "entropy", "margin"):
        assert strategy in tip
    bald_row, entropy_row, margin_row = tip.split("<tr>")[2:5]
    assert "bald" in bald_row and "3 of 3" in bald_row
    assert "entropy" in entropy_row and "1 of 3" in entropy_row
    assert "margin" in margin_row and "1 of 3" in margin_row  # a three-way tie shares the top rank


def test_gallery_reflows_to_its_width(qtbot):
    gallery = QueryGallery()
    qtbot.addWidget(gallery)
    gallery.show_batch("bald", 1, _gallery_items(12))
    gallery.resize(900, 600)
    gallery.show()
    qtbot.waitUntil(lambda: gallery.tiles.visualItemRect(gallery.tiles.item(11)).isValid())
    wide_rows = {gallery.tiles.visualItemRect(gallery.tiles.item(k)).top() for k in range(12)}
    gallery.resize(300, 600)
    qtbot.waitUntil(lambda: len({gallery.tiles.visualItemRect(gallery.tiles.item(k)).top()
                                 for k in range(12)}) > len(wide_rows))


def test_every_plot_exports_png_and_svg_and_the_gallery_png(qtbot, tmp_path, config):
    rows = _rows(config)
    fairness, acquisition, gallery = FairnessPlot(), AcquisitionPlot(config), QueryGallery()
    for widget in (fairness, acquisition, gallery):
        qtbot.addWidget(widget)
        widget.resize(500, 350)
    fairness.set_rows(rows)
    acquisition.set_rows(rows)
    gallery.show_batch("bald", 2, _gallery_items(4))
    written = [fairness.export(tmp_path / "fairness.png"), fairness.export(tmp_path / "fairness.svg"),
               acquisition.export(tmp_path / "acquisition.PNG"), acquisition.export(tmp_path / "acquisition.svg"),
               gallery.export(tmp_path / "gallery.png")]
    for path in written:
        assert path.stat().st_size > 1000
    assert written[0].read_bytes().startswith(b"\x89PNG")
    assert b"<svg" in written[1].read_bytes() and b"Fairness" in written[1].read_bytes()
    with pytest.raises(ValueError, match="png"):
        fairness.export(tmp_path / "fairness.jpg")
    with pytest.raises(ValueError, match="png only"):
        gallery.export(tmp_path / "gallery.svg")


def _band(items) -> tuple[np.ndarray, np.ndarray]:
    return items["low"].yData, items["high"].yData


@pytest.mark.parametrize("n_seeds", [2, 3, 5])
def test_every_plot_draws_the_95_percent_interval_from_three_seeds_on_and_says_so(qtbot, config, n_seeds):
    from types import SimpleNamespace

    from alstudio.engine.results import curves
    from alstudio.gui.plots import LearningCurvePlot
    from alstudio.report import _experiment_plots

    rows = _rows(config, seeds=range(1, n_seeds + 1))
    learning, fairness, acquisition = LearningCurvePlot(), FairnessPlot(), AcquisitionPlot(config)
    for widget in (learning, fairness, acquisition):
        qtbot.addWidget(widget)
    learning.set_rows(rows)
    fairness.set_rows(rows)
    acquisition.set_rows(rows)
    report_accuracy, report_parity, report_share = _experiment_plots(SimpleNamespace(config=SimpleNamespace(
        dataset=config)), rows)
    for widget in (report_accuracy, report_parity, report_share):
        qtbot.addWidget(widget)
    ci = n_seeds >= 3
    caption = f"mean, 95 % CI over {n_seeds} seeds" if ci else f"mean ± std over {n_seeds} seeds"
    plotted = [(learning.plot, "accuracy", 1), (fairness.plot, "ppv_gap", 1), (report_accuracy, "accuracy", 1),
               (report_parity, "ppv_gap", 1), (report_share, "labeled_share_minority_cells", 1)]
    plotted += [(acquisition, f"labeled_share_{group}", 100) for group in ("blue", "red")]
    for plot, column, scale in plotted:
        assert caption in plot.title and caption in plot.plotItem.titleLabel.text, plot.title
        for strategy, data in curves(rows, column).items():
            items = acquisition._curves[(strategy, column[len("labeled_share_"):])] if plot is acquisition \
                else plot._items[strategy]
            low, high = (data["ci_low"], data["ci_high"]) if ci else (data["mean"] - data["std"],
                                                                      data["mean"] + data["std"])
            np.testing.assert_allclose(_band(items), (scale * low, scale * high))
    if ci:
        one = curves(rows, "accuracy")["bald"]
        assert (one["ci_high"] - one["ci_low"] > 0).all()  # the band drawn has a width


def test_a_run_under_way_shows_the_interval_where_three_seeds_are_in_and_the_std_beyond(qtbot, config):
    rows = [r for r in _rows(config, seeds=(1, 2, 3)) if not (r["seed"] == 3 and r["cycle"] == CYCLES - 1)]
    plot = FairnessPlot()
    qtbot.addWidget(plot)
    plot.set_rows(rows)
    assert "(95 % CI; ± std below 3 seeds)" in plot.plot.title
    low, high = _band(plot.plot._items["bald"])
    last = [r["ppv_gap"] for r in rows if r["strategy"] == "bald" and r["cycle"] == CYCLES - 1]
    assert (low[-1], high[-1]) == pytest.approx((np.mean(last) - np.std(last), np.mean(last) + np.std(last)))
    assert high[0] - low[0] > 3 * np.std([r["ppv_gap"] for r in rows if r["strategy"] == "bald" and r["cycle"] == 0])
