"""Bad input, table-driven: every row runs the CLI in-process and must exit 2 with exactly one line on
stderr, `alstudio: error: ...`, naming the key, option or file at fault; `run` must leave no folder.

Rows: every config key with a wrong type and out-of-range values, cross-key limits, non-finite numbers,
unknown keys and sections, files that are not configs, bad command-line arguments, and experiment
folders whose manifest, config or journal was tampered with."""

from __future__ import annotations

import copy
import json
import os
import sqlite3

import pytest
import tomli_w

from alstudio import cli

BASE = {
    "model": {"init": "scratch"},
    "dataset": {"pool_size": 80, "test_size": 20, "resolution": 16, "bias": "correlation"},
    "training": {"epochs": 2, "batch_size": 8},
    "active": {"initial_labels": 8, "query_size": 4, "cycles": 3, "mc_samples": 4},
}
NAN, INF = float("nan"), float("inf")


# ---- setting up a row: files and folders in tmp, then the argv ----------------------------------------

def _config(tmp, data=None, text=None, name="tiny.toml"):
    path = tmp / name
    path.write_text(tomli_w.dumps(data if data is not None else BASE) if text is None else text)
    return path


def _run(tmp, config, *extra):
    return ["run", str(config), "--out", str(tmp / "exp"), "--strategies", "random", "--seeds", "1", *extra]


def _experiment(tmp, strategies=("random",), data=None):
    """A created experiment (not run) at tmp/exp."""
    from alstudio.engine import config as configs
    from alstudio.engine.experiment import Experiment

    loaded = configs.validate(copy.deepcopy(data or BASE))
    Experiment.create(tmp / "exp", loaded, list(strategies), 1).release()
    return tmp / "exp"


def _journal(tmp):
    """An experiment with its one run's journal created (empty of labels); the journal's path."""
    from alstudio.engine.experiment import Experiment
    from alstudio.engine.runner import open_or_create_journal

    experiment = Experiment.open(_experiment(tmp))
    spec = experiment.runs()[0]
    open_or_create_journal(experiment, spec).close()
    return spec.journal_path


def setting(key, value, expect=None, command="run", **also):
    """A row: the tiny config with `key` (section.name) set to `value` (and `also`: more keys)."""
    def setup(tmp):
        data = copy.deepcopy(BASE)
        for dotted, v in {key: value, **{k.replace("__", "."): v for k, v in also.items()}}.items():
            section, name = dotted.split(".")
            data.setdefault(section, {})[name] = v
        config = _config(tmp, data)
        return _run(tmp, config) if command == "run" else [command, str(config)]
    shown = repr(value) if not isinstance(value, str) or len(value) < 20 else repr(value[:17] + "...")
    extra = "".join(f",{k.replace('__', '.')}={v!r}" for k, v in also.items())
    return pytest.param(setup, expect or key, id=f"{key}={shown}{extra}")


def edited(name, edit, expect):
    """A row: the tiny config changed by edit(data)."""
    def setup(tmp):
        data = copy.deepcopy(BASE)
        edit(data)
        return _run(tmp, _config(tmp, data))
    return pytest.param(setup, expect, id=name)


def toml_text(name, text, expect):
    return pytest.param(lambda tmp: _run(tmp, _config(tmp, text=text, name="bad.toml")), expect, id=name)


def argv(name, make, expect):
    """A row from make(tmp) -> argv, where the tiny config is at tmp/tiny.toml."""
    def setup(tmp):
        _config(tmp)
        return make(tmp)
    return pytest.param(setup, expect, id=name)


def tampered(name, tamper, expect, command="resume"):
    """A row: a created experiment at tmp/exp, then tamper(folder); then `resume` (or `report`) it."""
    def setup(tmp):
        folder = _experiment(tmp)
        tamper(folder)
        if command == "report":
            return ["report", str(folder), "--png", str(tmp / "r.png")]
        return ["resume", str(folder)]
    return pytest.param(setup, expect, id=name)


def manifest(**changes):
    def tamper(folder):
        path = folder / "experiment.json"
        data = json.loads(path.read_text())
        data.update(changes)
        path.write_text(json.dumps(data))
    return tamper


def write(name, content):
    def tamper(folder):
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return tamper


def journal_row(name, damage):
    """A row: an experiment whose one journal exists, then damage(journal path); resume it."""
    def setup(tmp):
        damage(_journal(tmp))
        return ["resume", str(tmp / "exp")]
    return pytest.param(setup, "journal.sqlite", id=name)


# ---- damage done to files --------------------------------------------------------------------------------

def _truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _sql(statement):
    def damage(path):
        db = sqlite3.connect(path)
        try:
            db.execute(statement)
            db.commit()
        finally:
            db.close()
        for suffix in ("-wal", "-shm"):
            if os.path.exists(f"{path}{suffix}"):
                os.unlink(f"{path}{suffix}")
    return damage


def _replace_with_other_database(path):
    os.unlink(path)
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE photos (id INTEGER)")
    db.commit()
    db.close()


def _empty_with_garbage_log(path):
    path.write_bytes(b"")
    open(f"{path}-wal", "wb").write(os.urandom(4096))


def _folder_instead(path):
    os.unlink(path)
    path.mkdir()


def _bytes_garbage(path):
    path.write_bytes(bytes(range(256)) * 64)


def _missing(name):
    def tamper(folder):
        os.unlink(folder / name)
    return tamper


def _as_folder(name):
    def tamper(folder):
        os.unlink(folder / name)
        (folder / name).mkdir()
    return tamper


def _other_files(tmp):
    (tmp / "exp").mkdir()
    (tmp / "exp" / "notes.txt").write_text("mine")
    return _run(tmp, tmp / "tiny.toml")


def _pipe(tmp):
    os.mkfifo(tmp / "pipe.toml")
    return _run(tmp, tmp / "pipe.toml")


def _loop(tmp):
    os.symlink(tmp / "loop.toml", tmp / "loop.toml")
    return _run(tmp, tmp / "loop.toml")


def _huge(tmp):
    (tmp / "huge.toml").write_text("# " + "x" * (2 << 20) + "\n")
    return _run(tmp, tmp / "huge.toml")


def _missing_device(tmp):
    import torch

    missing = "mps" if torch.cuda.is_available() else "cuda"
    return _run(tmp, tmp / "tiny.toml", "--device", missing)


def _folder(tmp, name):
    (tmp / name).mkdir()
    (tmp / name / "notes.txt").write_text("mine")
    return tmp / name


def _bytes(tmp, name, data):
    (tmp / name).write_bytes(data)
    return tmp / name


def _file(tmp, name="afile"):
    (tmp / name).write_text("")
    return tmp / name


def _human_experiment(tmp):
    data = copy.deepcopy(BASE)
    data["annotator"] = {"kind": "human"}
    return ["resume", str(_experiment(tmp, data=data))]


CONFIG_KEYS = [
    # dataset
    setting("dataset.classes", []),
    setting("dataset.classes", ["a"]),
    setting("dataset.classes", ["a", "a"]),
    setting("dataset.classes", ["ab", "d"]),
    setting("dataset.classes", "ad"),
    setting("dataset.classes", [1, 2]),
    setting("dataset.classes", [" ", "a"]),
    setting("dataset.classes", ["a", "\n"]),
    setting("dataset.classes", ["\u0301", "a"]),  # a combining mark
    setting("dataset.classes", ["a", "\u4e00"]),  # no glyph in the bundled fonts
    setting("dataset.classes", ["a", "\U0001F600"]),
    setting("dataset.sensitive_attribute", "size"),
    setting("dataset.sensitive_attribute", 1),
    setting("dataset.groups", ["red"]),
    setting("dataset.groups", ["red", "red"]),
    setting("dataset.groups", ["red", "mauve-ish"]),
    setting("dataset.groups", "red,blue"),
    setting("dataset.groups", [1, 2]),
    setting("dataset.fonts", ["No Such Font Family"]),
    setting("dataset.fonts", [1]),
    setting("dataset.fonts", "Lato"),
    setting("dataset.fonts", ["Lato"], "dataset.fonts", dataset__sensitive_attribute="font"),
    setting("dataset.bias", "strong"),
    setting("dataset.bias", 0.9),
    setting("dataset.bias_strength", 0.4),
    setting("dataset.bias_strength", 1.5),
    setting("dataset.bias_strength", "0.9"),
    setting("dataset.bias_strength", NAN),
    setting("dataset.bias_strength", INF),
    setting("dataset.pool_size", 0),
    setting("dataset.pool_size", 9),
    setting("dataset.pool_size", -80),
    setting("dataset.pool_size", "80"),
    setting("dataset.pool_size", 1e12),
    setting("dataset.pool_size", 10**12),
    setting("dataset.pool_size", 80.0),
    setting("dataset.pool_size", True),
    setting("dataset.pool_size", 12, dataset__bias="minority", dataset__bias_strength=0.95,
            active__initial_labels=2, active__query_size=2, active__cycles=1),  # a cell with no image
    setting("dataset.pool_size", 1_000_000, dataset__test_size=1_000_000, dataset__resolution=256),  # memory
    setting("dataset.test_size", 0),
    setting("dataset.test_size", 3),
    setting("dataset.test_size", "20"),
    setting("dataset.test_size", 2_000_000),
    setting("dataset.test_size", 5, dataset__classes=["a", "d", "e"]),  # fewer than classes x groups
    setting("dataset.resolution", 7),
    setting("dataset.resolution", 257),
    setting("dataset.resolution", 16.0),
    setting("dataset.resolution", "16"),
    setting("dataset.seed", -1),
    setting("dataset.seed", 2**32),
    setting("dataset.seed", "0"),
    # model
    setting("model.architecture", "vgg"),
    setting("model.architecture", 3),
    setting("model.dropout", 1.0),
    setting("model.dropout", -0.1),
    setting("model.dropout", "0.5"),
    setting("model.dropout", NAN),
    setting("model.init", "imagenet"),
    setting("model.source_classes", ["a", "b"]),  # shares 'a' with dataset.classes
    setting("model.source_classes", ["xy", "b"]),
    setting("model.source_classes", "bc"),
    setting("model.pretrain_images", 99),
    setting("model.pretrain_images", 2_000_000),
    setting("model.pretrain_images", 1_000_000, model__init="pretrained", dataset__resolution=256),  # memory
    setting("model.pretrain_epochs", 0),
    setting("model.pretrain_epochs", 1001),
    # training
    setting("training.epochs", 0),
    setting("training.epochs", 10_001),
    setting("training.epochs", "2"),
    setting("training.epochs", 2.5),
    setting("training.batch_size", 0),
    setting("training.batch_size", 65_537),
    setting("training.learning_rate", -1),
    setting("training.learning_rate", 0.0),
    setting("training.learning_rate", 11.0),
    setting("training.learning_rate", NAN),
    setting("training.learning_rate", "0.1"),
    setting("training.optimizer", "rmsprop"),
    setting("training.reset_each_cycle", "yes"),
    setting("training.reset_each_cycle", 1),
    setting("training.grad_lambda", -1.0),
    setting("training.grad_lambda", INF),
    setting("training.grad_lambda", 101.0),
    setting("training.device", "tpu"),
    setting("training.momentum", 1.0),
    setting("training.momentum", -0.5),
    setting("training.weight_decay", 2.0),
    setting("training.weight_decay", -1.0),
    setting("training.eval_mc_samples", -1),
    setting("training.eval_mc_samples", 1001),
    setting("training.loss_prediction_weight", 101.0),
    setting("training.loss_prediction_stop", 1.5),
    setting("training.loss_prediction_stop", -0.1),
    # active
    setting("active.strategy", "nope"),
    setting("active.strategy", 3),
    setting("active.initial_labels", 0),
    setting("active.initial_labels", 80),
    setting("active.initial_labels", "8"),
    setting("active.query_size", 0),
    setting("active.query_size", -4),
    setting("active.query_size", 100),  # more than the unlabeled pool
    setting("active.cycles", 0),
    setting("active.cycles", 100),  # asks for more labels than the pool has
    setting("active.cycles", 100_001),
    setting("active.mc_samples", 0),
    setting("active.mc_samples", 1001),
    setting("active.pool_subset", -1),
    setting("active.pool_subset", 2),  # below query_size
    setting("active.pool_subset", 1000),
    setting("active.seed", -1),
    setting("active.seed", 2**32),
    setting("active.power_beta", 0.0),
    setting("active.power_beta", 101.0),
    setting("active.power_beta", NAN),
    setting("active.strategies", ["nope"]),
    setting("active.strategies", ["bald", "bald"]),
    setting("active.strategies", "bald"),
    setting("active.strategies", [1]),
    setting("active.strategy", "entropy", active__strategies=["random", "bald"]),
    setting("active.repetitions", 0),
    setting("active.repetitions", 101),
    setting("active.repetitions", "3"),
    # annotator
    setting("annotator.kind", "crowd"),
    setting("annotator.kind", "human"),  # needs the workbench
    setting("annotator.kind", "llm"),  # needs --human in `alstudio run`
    setting("annotator.error_rate", 1.5),
    setting("annotator.error_rate", -0.1),
    setting("annotator.error_rate", NAN),
    setting("annotator.error_group", "green"),  # not among dataset.groups
    setting("annotator.error_group", 5),
    setting("annotator.error_group_rate", 2.0),
    setting("annotator.base_url", 5),
    setting("annotator.model", 3),
    setting("annotator.api_key_env", []),
    setting("annotator.samples", 0),
    setting("annotator.samples", 21),
    setting("annotator.temperatures", []),
    setting("annotator.temperatures", [3.0]),
    setting("annotator.temperatures", "0.7"),
    setting("annotator.temperatures", [NAN]),
    setting("annotator.request_timeout", 0.0),
    setting("annotator.request_timeout", 601.0),
    setting("annotator.request_timeout", INF),
    setting("annotator.deadline", 0.0),
    setting("annotator.deadline", 3601.0),
    setting("annotator.max_concurrency", 0),
    setting("annotator.max_concurrency", 65),
    setting("annotator.price_input", -1.0),
    setting("annotator.price_input", INF),
    setting("annotator.price_input", NAN),
    setting("annotator.price_input", "0.15"),
    setting("annotator.price_output", -1.0),
    setting("annotator.price_output", INF),
    setting("annotator.few_shot", 17),
    setting("annotator.few_shot", -1),
    setting("annotator.few_shot_selection", "best"),
    # unknown keys and sections, sections of the wrong kind
    edited("unknown-key", lambda d: d["dataset"].update(pool=80), "dataset.pool"),
    edited("unknown-top-level-key", lambda d: d.update(seed=1), "seed"),
    edited("unknown-section", lambda d: d.update(data={"pool_size": 80}), "data"),
    edited("unknown-subtable", lambda d: d["dataset"].update(extra={"a": 1}), "dataset.extra"),
    edited("section-is-a-number", lambda d: d.update(training=5), "training"),
]

FILES = [
    toml_text("toml-unclosed-table", "[dataset\npool_size = 80\n", "bad.toml"),
    toml_text("toml-missing-value", "[dataset]\npool_size =\n", "bad.toml"),
    toml_text("toml-duplicate-key", "[dataset]\npool_size = 80\npool_size = 90\n", "bad.toml"),
    toml_text("toml-unterminated-string", '[active]\nstrategy = "bald\n', "bad.toml"),
    toml_text("toml-array-of-tables", "[[dataset]]\npool_size = 80\n", "dataset"),
    toml_text("toml-bare-nan", "[training]\nlearning_rate = nan\n", "training.learning_rate"),
    toml_text("toml-bare-inf", "[annotator]\nprice_input = inf\n", "annotator.price_input"),
    toml_text("toml-negative-inf", "[training]\ngrad_lambda = -inf\n", "training.grad_lambda"),
    argv("config-missing", lambda tmp: _run(tmp, tmp / "missing.toml"), "missing.toml"),
    argv("config-is-a-folder", lambda tmp: _run(tmp, _folder(tmp, "configs")), "configs"),
    argv("config-is-dev-zero", lambda tmp: _run(tmp, "/dev/zero"), "/dev/zero"),
    argv("config-is-a-named-pipe", _pipe, "pipe.toml"),
    argv("config-is-a-symlink-loop", _loop, "loop.toml"),
    argv("config-is-binary", lambda tmp: _run(tmp, _bytes(tmp, "binary.toml", bytes(range(256)) * 8)),
         "binary.toml"),
    argv("config-is-latin1", lambda tmp: _run(tmp, _bytes(tmp, "latin1.toml", b"# caf\xe9\n")), "latin1.toml"),
    argv("config-over-1-MiB", _huge, "huge.toml"),
    argv("preset-unknown", lambda tmp: ["run", "--preset", "nope", "--out", str(tmp / "exp")], "--preset"),
    argv("preset-empty", lambda tmp: ["run", "--preset", "", "--out", str(tmp / "exp")], "--preset"),
    argv("preset-and-config", lambda tmp: _run(tmp, tmp / "tiny.toml", "--preset", "minority-color"), "--preset"),
]

ARGUMENTS = [
    argv("seeds-abc", lambda tmp: _run(tmp, tmp / "tiny.toml", "--seeds", "abc"), "--seeds"),
    argv("seeds-0", lambda tmp: _run(tmp, tmp / "tiny.toml", "--seeds", "0"), "--seeds"),
    argv("seeds-negative", lambda tmp: _run(tmp, tmp / "tiny.toml", "--seeds", "-1"), "--seeds"),
    argv("seeds-101", lambda tmp: _run(tmp, tmp / "tiny.toml", "--seeds", "101"), "--seeds"),
    argv("seeds-1.5", lambda tmp: _run(tmp, tmp / "tiny.toml", "--seeds", "1.5"), "--seeds"),
    argv("strategies-empty", lambda tmp: _run(tmp, tmp / "tiny.toml", "--strategies", ""), "--strategies"),
    argv("strategies-comma", lambda tmp: _run(tmp, tmp / "tiny.toml", "--strategies", ","), "--strategies"),
    argv("strategies-nope", lambda tmp: _run(tmp, tmp / "tiny.toml", "--strategies", "nope"), "--strategies"),
    argv("strategies-gap", lambda tmp: _run(tmp, tmp / "tiny.toml", "--strategies", "random,,bald"),
         "--strategies"),
    argv("strategies-twice", lambda tmp: _run(tmp, tmp / "tiny.toml", "--strategies", "random,random"),
         "--strategies"),
    argv("device-tpu", lambda tmp: _run(tmp, tmp / "tiny.toml", "--device", "tpu"), "--device"),
    argv("device-unavailable", _missing_device, "training.device"),
    argv("init-imagenet", lambda tmp: _run(tmp, tmp / "tiny.toml", "--init", "imagenet"), "--init"),
    argv("human-maybe", lambda tmp: _run(tmp, tmp / "tiny.toml", "--human", "maybe"), "--human"),
    argv("out-missing", lambda tmp: ["run", str(tmp / "tiny.toml")], "--out"),
    argv("out-under-a-file", lambda tmp: ["run", str(tmp / "tiny.toml"), "--out", str(_file(tmp) / "exp")],
         "afile"),
    argv("out-parent-missing", lambda tmp: ["run", str(tmp / "tiny.toml"), "--out", str(tmp / "nowhere" / "exp")],
         "nowhere"),
    argv("out-holds-other-files", _other_files, "--out"),
    argv("option-unknown", lambda tmp: _run(tmp, tmp / "tiny.toml", "--bogus"), "--bogus"),
    argv("command-unknown", lambda tmp: ["frobnicate"], "frobnicate"),
    argv("top-level-option-unknown", lambda tmp: ["--bogus"], "--bogus"),
    # report
    argv("report-missing-folder", lambda tmp: ["report", str(tmp / "gone"), "--png", str(tmp / "r.png")], "gone"),
    argv("report-not-an-experiment", lambda tmp: ["report", str(_folder(tmp, "plain")), "--png",
                                                  str(tmp / "r.png")], "plain"),
    argv("report-png-in-missing-folder", lambda tmp: ["report", str(_experiment(tmp)), "--png",
                                                      str(tmp / "nowhere" / "r.png")], "nowhere"),
    argv("report-png-is-a-folder", lambda tmp: ["report", str(_experiment(tmp)), "--png", str(tmp)], "--png"),
    argv("report-png-missing", lambda tmp: ["report", str(_experiment(tmp))], "--png"),
    argv("report-nothing-run-yet", lambda tmp: ["report", str(_experiment(tmp)), "--png", str(tmp / "r.png")],
         "exp"),
    # generate
    argv("generate-workers-0", lambda tmp: ["generate", str(tmp / "tiny.toml"), "--workers", "0"], "--workers"),
    argv("generate-workers-negative", lambda tmp: ["generate", str(tmp / "tiny.toml"), "--workers", "-2"],
         "--workers"),
    argv("generate-workers-abc", lambda tmp: ["generate", str(tmp / "tiny.toml"), "--workers", "abc"],
         "--workers"),
    argv("generate-out-in-missing-folder", lambda tmp: ["generate", str(tmp / "tiny.toml"), "--out",
                                                        str(tmp / "nowhere" / "d.npz")], "--out"),
    argv("generate-out-is-a-folder", lambda tmp: ["generate", str(tmp / "tiny.toml"), "--out", str(tmp)], "--out"),
    argv("generate-preview-in-missing-folder", lambda tmp: ["generate", str(tmp / "tiny.toml"), "--preview",
                                                            str(tmp / "nowhere" / "p.png")], "--preview"),
    argv("generate-config-missing", lambda tmp: ["generate", str(tmp / "nope.toml")], "nope.toml"),
    argv("generate-preset-unknown", lambda tmp: ["generate", "--preset", "nope"], "--preset"),
    argv("generate-bad-config", lambda tmp: ["generate", str(_config(tmp, text="[dataset]\npool_size = 0\n",
                                                                     name="zero.toml"))], "dataset.pool_size"),
    # pretrain
    argv("pretrain-architecture-vgg", lambda tmp: ["pretrain", str(tmp / "tiny.toml"), "--architecture", "vgg"],
         "--architecture"),
    argv("pretrain-classes-overlap", lambda tmp: ["pretrain", str(tmp / "tiny.toml"), "--classes", "ad"],
         "model.source_classes"),
    argv("pretrain-classes-one", lambda tmp: ["pretrain", str(tmp / "tiny.toml"), "--classes", "b"],
         "model.source_classes"),
    argv("pretrain-device-tpu", lambda tmp: ["pretrain", str(tmp / "tiny.toml"), "--device", "tpu"], "--device"),
    # gui (refused before any window opens)
    argv("gui-quit-after-0-cycles", lambda tmp: ["gui", str(tmp / "tiny.toml"), "--quit-after-cycles", "0"],
         "--quit-after-cycles"),
    argv("gui-export-plots-missing", lambda tmp: ["gui", str(tmp / "tiny.toml"), "--export-plots",
                                                  str(tmp / "nowhere")], "--export-plots"),
    argv("gui-screenshot-in-missing-folder", lambda tmp: ["gui", str(tmp / "tiny.toml"), "--screenshot",
                                                          str(tmp / "nowhere" / "s.png")], "--screenshot"),
    argv("gui-folder-and-preset", lambda tmp: ["gui", str(_experiment(tmp)), "--preset", "minority-color"],
         "--preset"),
]

FOLDERS = [
    argv("resume-missing-folder", lambda tmp: ["resume", str(tmp / "gone")], "gone"),
    argv("resume-not-an-experiment", lambda tmp: ["resume", str(_folder(tmp, "plain"))], "plain"),
    argv("resume-a-file", lambda tmp: ["resume", str(_file(tmp))], "afile"),
    argv("resume-no-folder-given", lambda tmp: ["resume"], "DIR"),
    argv("resume-a-person-labels-it", _human_experiment, "exp"),
    tampered("manifest-not-json", write("experiment.json", "{"), "experiment.json"),
    tampered("manifest-empty", write("experiment.json", ""), "experiment.json"),
    tampered("manifest-binary", write("experiment.json", bytes(range(256))), "experiment.json"),
    tampered("manifest-a-list", write("experiment.json", "[]"), "experiment.json"),
    tampered("manifest-a-folder", _as_folder("experiment.json"), "experiment.json"),
    tampered("manifest-strategies-a-string", manifest(strategies="random"), "experiment.json"),
    tampered("manifest-strategies-empty", manifest(strategies=[]), "experiment.json"),
    tampered("manifest-strategies-path-traversal", manifest(strategies=["../../x"]), "experiment.json"),
    tampered("manifest-strategies-twice", manifest(strategies=["random", "random"]), "experiment.json"),
    tampered("manifest-seeds-negative", manifest(seeds=-1), "experiment.json"),
    tampered("manifest-seeds-0", manifest(seeds=0), "experiment.json"),
    tampered("manifest-seeds-a-string", manifest(seeds="1"), "experiment.json"),
    tampered("manifest-seeds-huge", manifest(seeds=10**9), "experiment.json"),
    tampered("manifest-unknown-key", manifest(owner="me"), "experiment.json"),
    tampered("manifest-flagged-to-robot", manifest(flagged_to="robot"), "experiment.json"),
    tampered("manifest-run-seeds-strings", manifest(run_seeds=["a"]), "experiment.json"),
    tampered("report-manifest-not-json", write("experiment.json", "{"), "experiment.json", command="report"),
    tampered("config-not-toml", write("experiment.toml", "[dataset\n"), "experiment.toml"),
    tampered("config-binary", write("experiment.toml", bytes(range(256))), "experiment.toml"),
    tampered("config-bad-value", write("experiment.toml", "[dataset]\npool_size = \"80\"\n"), "experiment.toml"),
    tampered("config-unknown-key", write("experiment.toml", "[dataset]\npool = 80\n"), "experiment.toml"),
    tampered("config-missing", _missing("experiment.toml"), "experiment.toml"),
    tampered("report-config-not-toml", write("experiment.toml", "[dataset\n"), "experiment.toml", command="report"),
    journal_row("journal-garbage-bytes", _bytes_garbage),
    journal_row("journal-truncated", _truncate),
    journal_row("journal-empty-with-garbage-log", _empty_with_garbage_log),
    journal_row("journal-a-folder", _folder_instead),
    journal_row("journal-other-database", _replace_with_other_database),
    journal_row("journal-schema-version-99", _sql("UPDATE meta SET value = '99' WHERE key = 'schema_version'")),
    journal_row("journal-config-not-json", _sql("UPDATE meta SET value = '{' WHERE key = 'config'")),
    journal_row("journal-no-labels-table", _sql("DROP TABLE labels")),
]

CASES = CONFIG_KEYS + FILES + ARGUMENTS + FOLDERS


@pytest.fixture
def accepted_inputs_stop_early(monkeypatch):
    """stop(command): should that command accept a row by mistake, it fails at once instead of running
    an experiment, building a trunk or opening a window. A resume is left whole: it reads the journals'
    contents only on its way through the runs."""
    import alstudio.engine.models.pretrained as pretrained
    import alstudio.gui.app

    def accepted(*args, **kwargs):
        raise AssertionError("the input was accepted")

    def stop(command):
        monkeypatch.setattr(alstudio.gui.app, "run_gui", accepted)
        monkeypatch.setattr(pretrained, "ensure_trunk", accepted)
        if command == "run":
            monkeypatch.setattr(cli, "_drive", accepted)

    return stop


@pytest.mark.parametrize("setup, expect", CASES)
def test_bad_input_is_one_sentence_naming_what_is_wrong(setup, expect, tmp_path, capsys,
                                                        accepted_inputs_stop_early):
    args = setup(tmp_path)
    accepted_inputs_stop_early(args[0] if args else None)
    out = tmp_path / "exp"
    existed = out.exists()
    capsys.readouterr()
    try:
        code = cli.main(args)
    except SystemExit as exit_:  # argparse
        code = exit_.code
    err = capsys.readouterr().err
    assert code == 2, f"exit code {code}, stderr:\n{err}"
    lines = err.splitlines()
    assert len(lines) == 1 and err.endswith("\n"), f"expected one line on stderr, got:\n{err}"
    assert lines[0].startswith("alstudio: error: "), lines[0]
    assert expect in lines[0], f"{expect!r} not named in: {lines[0]}"
    if args and args[0] == "run" and not existed:
        assert not out.exists(), "a refused run left a folder behind"


def test_the_table_has_at_least_100_rows():
    assert len(CASES) >= 100
