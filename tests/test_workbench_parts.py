"""The parts MainWindow is composed of, each on its own: the results area, the labeling hand-off, the
run session's start rule, recent experiments and lecture mode (issue 12, item 6)."""

from types import SimpleNamespace

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from engine_helpers import tiny_config  # noqa: E402
from PySide6.QtCore import QSettings, Qt  # noqa: E402
from PySide6.QtWidgets import QApplication, QMainWindow, QMenu, QWidget  # noqa: E402
from test_lecture_and_layout import _rows  # noqa: E402

from alstudio.engine.errors import UserInputError  # noqa: E402
from alstudio.engine.results import LLMAccounting  # noqa: E402
from alstudio.gui.config_model import ConfigModel  # noqa: E402
from alstudio.gui.labeling_handoff import LabelingHandoff  # noqa: E402
from alstudio.gui.lecture import LECTURE_SCALE, LectureMode  # noqa: E402
from alstudio.gui.plots.gallery import QueryGallery  # noqa: E402
from alstudio.gui.recent import RecentExperiments  # noqa: E402
from alstudio.gui.results_area import ResultsArea  # noqa: E402
from alstudio.gui.run_session import RunSession  # noqa: E402
from alstudio.gui.worker import CycleReport, LabelRequest, QueriedSample  # noqa: E402

pytestmark = pytest.mark.usefixtures("modal_dialogs_fail")


def _pool(n=12):
    rng = np.random.default_rng(0)
    return SimpleNamespace(images=rng.integers(0, 256, (n, 16, 16, 3), dtype=np.uint8),
                           groups=np.arange(n) % 2)


# ---- results area ---------------------------------------------------------------------------------


def test_the_results_area_draws_rows_clears_to_fresh_plots_and_exports_them(qtbot, tmp_path):
    config = tiny_config()
    area = ResultsArea(config.dataset)
    qtbot.addWidget(area)
    rows = _rows(config.dataset, strategies=("random",), seeds=(1,), cycles=3)
    area.show_rows(rows, "oracle")
    assert area.rows == rows and area.learning_plot.point_count("random") == 3
    assert area.acquisition_plot.point_count("random") == 3
    area.add_row(_rows(config.dataset, strategies=("bald",), seeds=(1,), cycles=1)[0], "oracle")
    assert area.learning_plot.point_count("bald") == 1 and len(area.rows) == 4

    written = area.export(tmp_path)
    assert sorted(p.name for p in written) == sorted(f"{n}.{e}" for n in ("learning_curve", "fairness", "acquisition")
                                                     for e in ("png", "svg"))
    assert all(p.stat().st_size > 0 for p in written)
    with pytest.raises(UserInputError, match="not a folder"):
        area.export(tmp_path / "missing")

    old = (area.fairness_plot, area.acquisition_plot)
    area.clear(config.dataset)
    assert area.rows == [] and area.learning_plot.point_count("random") == 0
    assert area.fairness_plot is not old[0] and area.acquisition_plot is not old[1]
    assert not old[0].isVisible() and area.gallery.tile_count() == 0


def test_the_results_area_shows_a_cycles_batch_hidden_while_people_label_it(qtbot):
    config = tiny_config(annotator={"kind": "human"})
    area = ResultsArea(config.dataset)
    qtbot.addWidget(area)
    queried = tuple(QueriedSample(s, s % 2, s % 2, 0.5, (("bald", 0.5),), (0.4, 0.6)) for s in (2, 5))
    payload = CycleReport("bald seed 1", "bald", 1, 0, 8, {}, LLMAccounting(), queried)
    area.show_cycle(payload, config, SimpleNamespace(pool=_pool()))
    assert area.gallery.tile_count() == 2 and area.gallery.hidden() == {2, 5}
    assert area.cycle_counter.text() == "bald seed 1 — cycle 0 of 2 — 8 labels"


# ---- labeling hand-off ----------------------------------------------------------------------------


class RecordingHuman:
    """Stands in for the run's HumanAnnotator: what the dialog handed over."""

    def __init__(self):
        self.answers, self.retracted, self.closed = [], [], 0

    def submit(self, sample, label):
        self.answers.append((sample, label))

    def retract(self, sample):
        self.retracted.append(sample)

    def close_batch(self):
        self.closed += 1


@pytest.fixture
def handoff(qtbot):
    window = QWidget()
    qtbot.addWidget(window)
    window.show()
    gallery = QueryGallery(window)
    part = LabelingHandoff(window, gallery)
    yield part, gallery
    part.forget()


def test_the_handoff_opens_the_dialog_for_a_request_and_closes_it_on_submit(handoff, qtbot):
    part, gallery = handoff
    config, human = tiny_config(annotator={"kind": "human"}), RecordingHuman()
    part.show_predictions((QueriedSample(3, 0, 1, 0.5, (), (0.8, 0.2)),), list(config.dataset.classes))
    part.ask(LabelRequest("bald seed 1", "bald", 0, (3, 4), {}), _pool(), config, human)
    dialog = part.dialog
    assert dialog is not None and dialog.isVisible() and part.pending.samples == (3, 4)
    assert [tile.sample for tile in dialog.tiles] == [3, 4] and "queried samples" in dialog.windowTitle()
    assert gallery.hidden() == {3, 4} and part.predictions == {3: "a (0.80)"}
    qtbot.keyClick(dialog, Qt.Key.Key_A)
    qtbot.keyClick(dialog, Qt.Key.Key_D)
    assert human.answers == [(3, 0), (4, 1)]  # handed over the moment they are given
    qtbot.keyClick(dialog, Qt.Key.Key_Return)
    assert human.closed == 1 and part.dialog is None and part.pending is None and gallery.hidden() == set()


def test_a_postponed_batch_pauses_and_reopens_with_the_samples_not_yet_answered(handoff, qtbot):
    part, _ = handoff
    config, human = tiny_config(annotator={"kind": "human"}), RecordingHuman()
    part.ask(LabelRequest("bald seed 1", "bald", 0, (3, 4, 5), {}), _pool(), config, human)
    qtbot.keyClick(part.dialog, Qt.Key.Key_A)
    with qtbot.waitSignal(part.postponed):
        qtbot.keyClick(part.dialog, Qt.Key.Key_Escape)
    assert part.dialog is None and part.pending.samples == (4, 5) and human.closed == 0
    part.reopen()
    assert [tile.sample for tile in part.dialog.tiles] == [4, 5]
    dialog = part.dialog
    with qtbot.assertNotEmitted(part.postponed):
        part.forget()  # the run ended: no postponement, nothing pending
    assert not dialog.isVisible() and part.pending is None and part.dialog is None


# ---- run session ----------------------------------------------------------------------------------


def test_the_session_starts_only_a_valid_set_up(qtbot):
    host = QMainWindow()
    qtbot.addWidget(host)
    model = ConfigModel(tiny_config())
    session = RunSession(host, model, workers=1)
    assert session.can_start()
    model.edit("dataset", classes=["a"])
    session.refresh_actions()
    assert not session.can_start() and not session.start_action.isEnabled() and not session.step_action.isEnabled()
    session.start()
    assert session.experiment is None and not session.controller.running
    assert host.statusBar().currentMessage().startswith("Cannot start: dataset.classes")


# ---- recent experiments and lecture mode -----------------------------------------------------------


def test_recent_experiments_newest_first_and_chosen_by_their_folder(qtbot, tmp_path):
    QSettings().remove("recentExperiments")
    menu = QMenu()
    recent = RecentExperiments(menu)
    assert not menu.isEnabled()
    for name in ("one", "two", "one"):
        recent.remember(tmp_path / name)
    assert [a.data() for a in menu.actions()] == [str(tmp_path / "one"), str(tmp_path / "two")]
    with qtbot.waitSignal(recent.chosen) as chosen:
        menu.actions()[1].trigger()
    assert chosen.args == [str(tmp_path / "two")]
    QSettings().remove("recentExperiments")


def test_lecture_mode_enlarges_the_application_font_and_gives_it_back(qtbot):
    app = QApplication.instance()
    normal = app.font().pointSizeF()
    lecture = LectureMode()
    with qtbot.waitSignal(lecture.toggled) as toggled:
        lecture.toggle()
    assert toggled.args == [True] and app.font().pointSizeF() == pytest.approx(normal * LECTURE_SCALE)
    lecture.toggle()
    assert not lecture.active and app.font().pointSizeF() == pytest.approx(normal)
