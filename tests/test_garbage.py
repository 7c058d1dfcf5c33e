"""The workbench's garbage collection: never automatic (so never on a worker thread, where freeing Qt
objects crashed), young generations collected on the GUI thread when their thresholds pass."""

import gc
import threading
import weakref

import pytest
from engine_helpers import TINY
from PySide6.QtCore import QCoreApplication, QEvent

from alstudio.engine import config as configs
from alstudio.gui.main_window import MainWindow


class Node:
    """Cyclic garbage: freed only by the cyclic collector."""

    def __init__(self):
        self.me = self


@pytest.fixture
def collections():
    """(generation, thread id) of every collection while the test runs."""
    seen = []

    def record(phase, info):
        if phase == "start":
            seen.append((info["generation"], threading.get_ident()))

    gc.callbacks.append(record)
    yield seen
    gc.callbacks.remove(record)


@pytest.fixture
def window(qtbot):
    gc.enable()  # as in a fresh process (conftest turned it off for Qt tests): the window must turn it off
    gc.collect()  # every generation's count starts at 0
    win = MainWindow(configs.validate({name: dict(values) for name, values in TINY.items()}), workers=1)
    yield win
    win.controller.stop(wait=True)
    win.close()
    win.deleteLater()


def test_the_window_turns_automatic_collection_off_and_collects_young_garbage(window, qtbot, collections):
    assert not gc.isenabled()
    # Windows of earlier tests still waiting to be deleted would free thousands of objects during the
    # wait below, and frees count against the young generation's allocations: delete them first.
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()
    collections.clear()
    threshold = gc.get_threshold()[0]
    nodes = [Node() for _ in range(3 * threshold)]
    freed = threading.Event()
    weakref.finalize(nodes[0], freed.set)
    del nodes
    assert not freed.is_set()
    qtbot.waitUntil(freed.is_set, timeout=5000)  # the next tick, at most a second away
    assert collections, "freed without a collection"
    assert {generation for generation, _ in collections} == {0}  # young only: gen 1 and 2 are not due yet
    assert {thread for _, thread in collections} == {threading.main_thread().ident}


def test_during_a_run_every_collection_happens_on_the_gui_thread(window, qtbot, collections):
    """The worker allocates far more than gen 0's threshold; with automatic collection on, the collector
    would run in its thread. Nothing may collect there, and the GUI thread still collects."""
    with qtbot.waitSignal(window.controller.done, timeout=120_000) as finished:
        window.start()
    assert finished.args[0] is True
    qtbot.wait(1100)  # at least one tick after the run
    assert not gc.isenabled()
    threads = {thread for _, thread in collections}
    assert threads == {threading.main_thread().ident}, "the cyclic collector ran on a worker thread"
