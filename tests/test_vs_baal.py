"""benchmarks/vs_baal.py without BaaL: the interleaving, the report, the options and the missing-BaaL exit.

The measurements themselves need BaaL (a benchmark-only dependency), so they are not run here.
"""

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "vs_baal.py"


@pytest.fixture
def vs_baal(monkeypatch):
    spec = importlib.util.spec_from_file_location("vs_baal", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "vs_baal", module)  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


def test_sides_alternate_and_each_keeps_its_own_times(vs_baal):
    order = []

    def side(name, spent):
        def run():
            order.append(name)
            return spent
        return run

    row = vs_baal.interleaved(vs_baal.Row("bald", "5 images"), 3, side("A", 1.0), side("B", 4.0))
    assert order == ["A", "B", "A", "B", "A", "B"]
    assert row.alstudio == [1.0, 1.0, 1.0] and row.baal == [4.0, 4.0, 4.0]


def test_medians_ratio_and_table(vs_baal):
    row = vs_baal.Row("training", "10 labels", alstudio=[1.0, 9.0, 2.0], baal=[6.0, 3.0, 60.0])
    assert (row.alstudio_median, row.baal_median, row.ratio) == (2.0, 6.0, 3.0)
    table = vs_baal.markdown_table([row]).splitlines()
    assert table[0].startswith("| measurement | size | alstudio (median) | BaaL (median) | BaaL / alstudio |")
    assert table[2] == "| training | 10 labels | 2.000 s | 6.000 s | 3.0x | 3 |"
    assert row.as_dict()["baal_over_alstudio"] == 3.0


def test_quick_shrinks_every_size_and_an_explicit_option_wins(vs_baal):
    quick = vs_baal.parse_args(["--quick"])
    assert (quick.repeats, quick.pool, quick.labels, quick.epochs) == (1, 500, 100, 2)
    full = vs_baal.parse_args([])
    assert (full.repeats, full.pool, full.labels, full.epochs, full.candidates) == (5, 5000, 1000, 10, 1000)
    assert vs_baal.parse_args(["--quick", "--repeats", "3"]).repeats == 3


@pytest.mark.parametrize("args", [["--pool", "100", "--labels", "50"], ["--repeats", "0"]])
def test_impossible_sizes_are_refused(vs_baal, args, capsys):
    with pytest.raises(SystemExit) as exit_:
        vs_baal.parse_args(args)
    assert exit_.value.code == 2
    assert "--" in capsys.readouterr().err


def test_without_baal_it_says_how_to_install_it_and_exits_2(vs_baal, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "baal", None)  # import baal now raises ImportError, installed or not
    assert vs_baal.main(["--quick"]) == 2
    err = capsys.readouterr().err.strip()
    assert "pip install -e .[bench]" in err and len(err.splitlines()) == 1
