import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from alstudio.cli import main

SMALL = "[dataset]\npool_size = 60\ntest_size = 12\n[active]\ninitial_labels = 4\nquery_size = 4\ncycles = 2\n"


@pytest.fixture
def small_config(tmp_path):
    path = tmp_path / "small.toml"
    path.write_text(SMALL)
    return path


def test_generate_prints_counts_and_writes_npz_and_preview(small_config, tmp_path, capsys):
    out, preview = tmp_path / "d.npz", tmp_path / "p.png"
    assert main(["generate", str(small_config), "--out", str(out), "--preview", str(preview),
                 "--workers", "1"]) == 0
    printed = capsys.readouterr().out
    assert "pool (60 images)" in printed and "test (12 images)" in printed
    assert "90.0%" in printed
    with np.load(out) as data:
        for key in ("pool_images", "pool_classes", "pool_groups", "test_images", "test_classes",
                    "test_groups", "class_names", "group_names"):
            assert key in data.files
        assert data["pool_images"].shape == (60, 32, 32, 3)
        assert data["group_names"].tolist() == ["blue", "red"]
        assert np.bincount(data["pool_groups"]).tolist() == [54, 6]
    assert Image.open(preview).size[0] > 300


def test_second_generate_says_it_used_the_cache(small_config, capsys):
    main(["generate", str(small_config), "--workers", "1"])
    capsys.readouterr()
    main(["generate", str(small_config), "--workers", "1"])
    assert capsys.readouterr().out.startswith("loaded from the cache")


def test_presets_are_listed_and_usable(capsys):
    assert main(["presets"]) == 0
    listed = capsys.readouterr().out
    assert "minority-color (default)" in listed and "correlation-color" in listed


BAD_TOML = {
    "unknown key": ("[dataset]\ncolour = 'red'\n", "dataset.colour is not a known key"),
    "wrong type": ("[training]\nepochs = 'ten'\n", "training.epochs must be an integer"),
    "out of range": ("[dataset]\nbias_strength = 1.5\n", "dataset.bias_strength must be <= 1.0"),
    "empty classes": ("[dataset]\nclasses = []\n", "dataset.classes needs at least 2 classes"),
    "duplicate classes": ("[dataset]\nclasses = ['a', 'a']\n", "dataset.classes must not repeat"),
    "unknown colour": ("[dataset]\ngroups = ['blue', 'teal']\n", "unknown colour 'teal'"),
    "unknown font": ("[dataset]\nsensitive_attribute = 'font'\ngroups = ['Lato', 'Papyrus']\n",
                     "font family 'Papyrus'"),
    "one group": ("[dataset]\ngroups = ['blue']\n", "dataset.groups needs at least 2 groups"),
    "query too large": ("[active]\nquery_size = 99999\n", "active.query_size must be at most"),
    "negative query": ("[active]\nquery_size = -5\n", "active.query_size must be > 0, got -5"),
    "bad toml": ("[dataset\n", "not valid TOML"),
}


@pytest.mark.parametrize("case", list(BAD_TOML))
def test_bad_config_exits_2_with_one_sentence(case, tmp_path, capsys):
    text, expected = BAD_TOML[case]
    path = tmp_path / "bad.toml"
    path.write_text(text)
    assert main(["generate", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and expected in captured.err
    assert "bad.toml" in captured.err and "Traceback" not in captured.err


def test_bad_arguments_exit_2(tmp_path, small_config, capsys):
    assert main(["generate", "--preset", "nope"]) == 2
    assert main(["generate", str(small_config), "--preset", "minority-color"]) == 2
    assert main(["generate", str(small_config), "--out", str(tmp_path / "no" / "d.npz")]) == 2
    assert main(["generate", str(tmp_path / "missing.toml")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("alstudio: error:") == 4


def test_the_installed_command_exits_2_without_a_traceback(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[active]\nquery_size = -5\n")
    result = subprocess.run([sys.executable, "-m", "alstudio", "generate", str(path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip() == "alstudio: error: bad.toml: active.query_size must be > 0, got -5"


def test_gui_without_a_display_explains_instead_of_crashing(monkeypatch, capsys):
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    assert main(["gui"]) == 2
    assert "no display" in capsys.readouterr().err
