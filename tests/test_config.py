import pytest

from alstudio.engine import config
from alstudio.engine.errors import ConfigError


def test_defaults_are_the_papers_minority_setup():
    cfg = config.ExperimentConfig()
    assert cfg.dataset.classes == ["a", "d"]
    assert cfg.dataset.sensitive_attribute == "color"
    assert cfg.dataset.groups == ["blue", "red"]
    assert cfg.dataset.bias == "minority"
    assert cfg.dataset.resolution == 32


@pytest.mark.parametrize("name", config.preset_names())
def test_every_preset_loads_and_has_a_summary(name):
    cfg = config.load_preset(name)
    assert len(cfg.dataset.groups) >= 2
    assert config.preset_summary(name)


def test_default_preset_exists():
    assert config.DEFAULT_PRESET in config.preset_names()


def test_groups_default_per_attribute():
    assert config.DatasetConfig(sensitive_attribute="background").groups == ["gradient", "camouflage"]
    font_groups = config.DatasetConfig(sensitive_attribute="font").groups
    assert len(font_groups) == 2


def test_names_are_canonicalised():
    cfg = config.DatasetConfig(sensitive_attribute="font", groups=["lato", "dejavu serif"])
    assert cfg.groups == ["Lato", "DejaVu Serif"]
    assert config.DatasetConfig(groups=["Blue", "RED"]).groups == ["blue", "red"]


def test_toml_round_trip(tmp_path):
    cfg = config.validate({"dataset": {"bias": "correlation", "bias_strength": 0.8},
                           "active": {"query_size": 7}, "training": {"optimizer": "sgd"}})
    path = tmp_path / "exp.toml"
    config.save(cfg, path)
    assert config.load(path) == cfg


BAD_CONFIGS = [
    ({"active": {"query_size": -5}}, "active.query_size must be > 0, got -5"),
    ({"dataset": {"clases": ["a", "b"]}}, "dataset.clases is not a known key (did you mean dataset.classes?)"),
    ({"modle": {}}, "modle is not a known key (did you mean model?)"),
    ({"training": {"epochs": "10"}}, "training.epochs must be an integer, got '10'"),
    ({"dataset": {"bias_strength": 1.2}}, "dataset.bias_strength must be <= 1.0, got 1.2"),
    ({"dataset": {"bias_strength": 0.3}}, "dataset.bias_strength must be >= 0.5, got 0.3"),
    ({"dataset": {"classes": []}}, "dataset.classes needs at least 2 classes, got 0"),
    ({"dataset": {"classes": ["a", "b", "a"]}}, "dataset.classes must not repeat 'a'"),
    ({"dataset": {"classes": ["ab", "c"]}}, "dataset.classes must hold single visible characters, got 'ab'"),
    ({"dataset": {"groups": ["blue", "mauve"]}}, "dataset.groups holds the unknown colour 'mauve'"),
    ({"dataset": {"sensitive_attribute": "font", "groups": ["Lato", "Comic Sans"]}},
     "dataset.groups holds the font family 'Comic Sans', which fontconfig does not know"),
    ({"dataset": {"fonts": ["Nonexistent Sans"]}}, "dataset.fonts holds the font family 'Nonexistent Sans'"),
    ({"dataset": {"groups": ["red"]}}, "dataset.groups needs at least 2 groups, got 1"),
    ({"dataset": {"groups": ["red", "Red"]}}, "dataset.groups must not repeat 'red'"),
    ({"dataset": {"sensitive_attribute": "texture"}}, "dataset.sensitive_attribute must be one of"),
    ({"dataset": {"bias": "strong"}}, "dataset.bias must be one of 'none', 'minority' or 'correlation'"),
    ({"dataset": {"test_size": 5, "classes": ["a", "b", "c"]}}, "dataset.test_size must be at least"),
    ({"active": {"query_size": 6000}}, "active.query_size must be at most the unlabeled pool"),
    ({"active": {"initial_labels": 5000}}, "active.initial_labels must be smaller than dataset.pool_size"),
    ({"active": {"strategy": "balld"}}, "active.strategy must be one of random, entropy"),
    ({"active": {"cycles": 1000}}, "active.cycles asks for 20020 labels"),
    ({"model": {"architecture": "vgg"}}, "model.architecture must be one of 'cnn' or 'resnet18', got 'vgg'"),
    ({"model": {"dropout": 1.0}}, "model.dropout must be < 1.0, got 1.0"),
    ({"training": {"device": "tpu"}}, "training.device must be one of"),
    ({"training": {"reset_each_cycle": "yes"}}, "training.reset_each_cycle must be true or false, got 'yes'"),
    ({"annotator": {"kind": "crowd"}}, "annotator.kind must be one of"),
    ({"annotator": {"kind": "noisy", "error_group": "green"}}, "annotator.error_group must be one of"),
    ({"dataset": 5}, "dataset must be a table, got 5"),
    ({"annotator": {"price_input": float("inf")}}, "annotator.price_input must be a finite number, got inf"),
    ({"training": {"learning_rate": float("nan")}}, "training.learning_rate must be a finite number, got nan"),
    ({"dataset": {"classes": ["a", "\u0301"]}}, "dataset.classes must hold characters that stand on their own"),
    ({"dataset": {"classes": ["a", "字"], "fonts": ["Lato"]}},
     "dataset.classes holds '字', but the font 'Lato' (dataset.fonts) has no glyph for it"),
]


@pytest.mark.parametrize(("data", "expected"), BAD_CONFIGS)
def test_bad_config_gives_one_sentence_naming_the_key(data, expected):
    with pytest.raises(ConfigError) as caught:
        config.validate(data)
    message = str(caught.value)
    assert message.startswith(expected)
    assert "\n" not in message


def test_several_problems_are_counted():
    with pytest.raises(ConfigError, match=r"\(and 1 more problem in config\)$"):
        config.validate({"model": {"dropout": 2.0}, "training": {"epochs": 0}})


def test_broken_toml_names_the_file(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text("[dataset\nclasses = ['a']\n")
    with pytest.raises(ConfigError, match=r"broken.toml: not valid TOML"):
        config.load(path)


def test_file_errors_name_the_file_and_key(tmp_path):
    path = tmp_path / "exp.toml"
    path.write_text("[active]\nquery_size = -5\n")
    with pytest.raises(ConfigError, match=r"^exp.toml: active.query_size must be > 0, got -5$"):
        config.load(path)
    with pytest.raises(ConfigError, match="no such config file"):
        config.load(tmp_path / "missing.toml")


def test_unknown_preset_lists_the_real_ones():
    with pytest.raises(ConfigError, match="minority-color"):
        config.load_preset("nope")


def test_every_config_key_is_in_the_readme_reference():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    for section, field in config.ExperimentConfig.model_fields.items():
        for key in field.annotation.model_fields:
            assert f"`{section}.{key}`" in readme, f"{section}.{key} is missing from the README"
