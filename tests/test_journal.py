import math
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest
from conftest import small_dataset_config

from alstudio.engine.config import ActiveConfig, AnnotatorConfig, ExperimentConfig, TrainingConfig
from alstudio.engine.errors import UserInputError
from alstudio.engine.journal import Journal, JournalError, fingerprint


def small_config(**dataset):
    return ExperimentConfig(
        dataset=small_dataset_config(**dataset),
        active=ActiveConfig(strategy="entropy", initial_labels=10, query_size=10, cycles=5, seed=3),
    )


def new_journal(path, **kwargs):
    return Journal.create(path, small_config(), "entropy", 3, {"device": "cpu"}, **kwargs)


@pytest.fixture
def journal(tmp_path):
    with new_journal(tmp_path / "run.sqlite") as j:
        yield j


def test_round_trip_of_everything_after_reopening(tmp_path):
    path = tmp_path / "run.sqlite"
    fp = fingerprint("cpu", {"active": 3, "torch": 7})
    with Journal.create(path, small_config(), "entropy", 3, fp) as j:
        j.record_labels([(5, 1), (2, 0), (9, 1)], "initial", 0)
        j.record_labels([(np.int64(40), np.int64(0)), (7, 1)], "oracle", 1)
        j.record_query(0, [40, 7], [0.9, 0.25])
        j.record_query(1, [11, 3, 12], None)
        j.record_cycle(0, 3, {"accuracy": 0.5, "per_group": {"red": 0.25}}, 1.5, 0.25)
        j.record_cycle(1, 5, {"accuracy": 0.75}, None, None)
        j.log_event("started", {"workers": 2})
        j.log_event("note")
        j.log_event("started", {"workers": 4})
        j.set_status("stopped")
        j.put_cached("prompt-1", "a")

    with Journal.open(path) as j:
        assert j.strategy == "entropy"
        assert j.seed == 3
        assert j.fingerprint == fp
        assert j.status == "stopped"
        assert j.labels() == {2: (0, "initial", 0), 5: (1, "initial", 0), 7: (1, "oracle", 1),
                              9: (1, "initial", 0), 40: (0, "oracle", 1)}
        samples = j.labeled_samples()
        assert samples.dtype == np.int64
        assert samples.tolist() == [2, 5, 7, 9, 40]
        assert j.label_counts_by_source() == {"initial": 3, "oracle": 2}
        assert j.query(0) == [40, 7]
        assert j.query_scores(0) == [0.9, 0.25]
        assert j.query(1) == [11, 3, 12]
        assert j.query_scores(1) == [None, None, None]
        assert j.query(2) is None
        assert j.query_scores(2) is None
        cycles = j.cycles()
        assert [c["cycle"] for c in cycles] == [0, 1]
        assert set(cycles[0]) == {"cycle", "n_labeled", "metrics", "train_seconds", "query_seconds", "time"}
        assert cycles[0]["n_labeled"] == 3
        assert cycles[0]["metrics"] == {"accuracy": 0.5, "per_group": {"red": 0.25}}
        assert (cycles[0]["train_seconds"], cycles[0]["query_seconds"]) == (1.5, 0.25)
        assert (cycles[1]["train_seconds"], cycles[1]["query_seconds"]) == (None, None)
        assert j.last_cycle() == 1
        assert [e["kind"] for e in j.events()] == ["started", "note", "started"]
        assert [e["payload"] for e in j.events("started")] == [{"workers": 2}, {"workers": 4}]
        assert j.events("note")[0]["payload"] is None
        assert j.get_cached("prompt-1") == "a"
        assert j.get_cached("prompt-2") is None


def test_an_empty_journal_starts_running_with_nothing_recorded(journal):
    assert journal.status == "running"
    assert journal.labels() == {}
    assert journal.labeled_samples().tolist() == []
    assert journal.cycles() == []
    assert journal.last_cycle() is None
    assert journal.events() == []


def test_config_round_trips_to_an_equal_config(tmp_path):
    config = ExperimentConfig(
        dataset=small_dataset_config(classes=["a", "d", "x"], bias="correlation", bias_strength=0.75),
        training=TrainingConfig(learning_rate=0.0005, optimizer="sgd", reset_each_cycle=False),
        active=ActiveConfig(strategy="margin", initial_labels=12, query_size=4, cycles=7, pool_subset=30),
        annotator=AnnotatorConfig(kind="noisy", error_group="red", error_rate=0.2),
    )
    assert config != ExperimentConfig()
    Journal.create(tmp_path / "run.sqlite", config, "margin", 0, {}).close()
    with Journal.open(tmp_path / "run.sqlite") as j:
        restored = j.config
    assert isinstance(restored, ExperimentConfig)
    assert restored == config


def test_nan_in_metrics_round_trips(tmp_path):
    path = tmp_path / "run.sqlite"
    with new_journal(path) as j:
        j.record_cycle(0, 10, {"accuracy": float("nan"), "gap": float("inf"), "loss": np.float32(0.5)}, 1.0, 2.0)
    with Journal.open(path) as j:
        metrics = j.cycles()[0]["metrics"]
    assert math.isnan(metrics["accuracy"])
    assert metrics["gap"] == float("inf")
    assert metrics["loss"] == 0.5


def test_labels_survive_closing_and_reopening(tmp_path):
    path = tmp_path / "run.sqlite"
    with new_journal(path) as j:
        j.record_labels([(i, i % 3) for i in range(50)], "initial", 0)
    with Journal.open(path) as j:
        assert j.labels() == {i: (i % 3, "initial", 0) for i in range(50)}


CHILD = textwrap.dedent("""
    import sys
    from alstudio.engine.journal import Journal

    journal = Journal.open(sys.argv[1])
    n_signal = int(sys.argv[2])
    sample = 0
    while True:
        journal.record_labels([(sample, sample % 2)], "oracle", sample)
        sample += 1
        if sample == n_signal:
            print("ready", flush=True)
""")


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_labels_written_before_sigkill_are_all_there(tmp_path):
    path = tmp_path / "run.sqlite"
    new_journal(path).close()
    n = 200
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path), str(n)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = child.stdout.readline()
        assert line.strip() == "ready", child.stderr.read()
    finally:
        child.kill()  # SIGKILL, while the child is still writing
        child.wait(timeout=30)
        child.stdout.close()
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA quick_check").fetchall() == [("ok",)]
    db.close()
    with Journal.open(path) as j:
        labels = j.labels()
    assert all(labels.get(i) == (i % 2, "oracle", i) for i in range(n))
    assert sorted(labels) == list(range(len(labels)))  # no gaps: every write is all or nothing


def test_wal_mode_is_on(journal):
    assert journal._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    other = sqlite3.connect(journal.path)
    assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"  # persisted in the file
    other.close()


def test_recording_the_same_label_again_is_a_no_op(journal):
    journal.record_labels([(1, 0), (2, 1)], "initial", 0)
    journal.record_labels([(2, 1), (3, 0)], "oracle", 1)
    assert journal.labels() == {1: (0, "initial", 0), 2: (1, "initial", 0), 3: (0, "oracle", 1)}


def test_a_conflicting_label_raises_and_keeps_nothing_of_its_batch(journal):
    journal.record_labels([(1, 0)], "initial", 0)
    with pytest.raises(ValueError, match="sample 1"):
        journal.record_labels([(5, 1), (1, 1), (6, 0)], "oracle", 1)
    assert journal.labels() == {1: (0, "initial", 0)}
    with pytest.raises(ValueError, match="sample 8"):
        journal.record_labels([(8, 1), (8, 0)], "oracle", 1)
    assert 8 not in journal.labels()


def test_an_unknown_label_source_raises(journal):
    with pytest.raises(ValueError, match="source"):
        journal.record_labels([(1, 0)], "guess", 0)
    assert journal.labels() == {}


def test_the_same_query_again_is_a_no_op_and_another_raises(journal):
    journal.record_query(0, [4, 2, 9], [3.0, 2.0, float("nan")])
    journal.record_query(0, [4, 2, 9], None)
    assert journal.query(0) == [4, 2, 9]
    assert journal.query_scores(0) == [3.0, 2.0, None]
    with pytest.raises(ValueError, match="cycle 0"):
        journal.record_query(0, [4, 9, 2], None)
    assert journal.query(0) == [4, 2, 9]


def test_a_cycle_cannot_be_recorded_twice(journal):
    journal.record_cycle(0, 10, {"accuracy": 0.5}, 1.0, 1.0)
    with pytest.raises(ValueError, match="cycle 0"):
        journal.record_cycle(0, 20, {"accuracy": 0.9}, 1.0, 1.0)
    assert journal.cycles()[0]["metrics"] == {"accuracy": 0.5}


def test_status_is_checked_and_kept(tmp_path, journal):
    journal.set_status("finished")
    assert journal.status == "finished"
    with pytest.raises(ValueError, match="status"):
        journal.set_status("paused")
    assert journal.status == "finished"


def test_create_refuses_an_existing_file(tmp_path):
    path = tmp_path / "run.sqlite"
    path.write_bytes(b"keep me")
    with pytest.raises(JournalError) as err:
        new_journal(path)
    assert isinstance(err.value, UserInputError)
    assert str(path) in str(err.value)
    assert path.read_bytes() == b"keep me"

    other = tmp_path / "other.sqlite"
    new_journal(other).close()
    with pytest.raises(JournalError, match="already exists"):
        new_journal(other)


def _real_journal_cut_in_half(tmp_path):
    source = tmp_path / "real.sqlite"
    with new_journal(source) as j:
        j.record_labels([(i, i % 2) for i in range(3000)], "initial", 0)
        for i in range(200):
            j.log_event("tick", {"i": i, "text": "x" * 50})
        j.record_cycle(0, 3000, {"accuracy": 0.5}, 1.0, 1.0)
    assert not (tmp_path / "real.sqlite-wal").exists()  # closing folded the WAL into the file
    data = source.read_bytes()
    assert len(data) > 8 * 4096
    cut = tmp_path / "cut.sqlite"
    cut.write_bytes(data[: len(data) // 2])
    return cut


def _real_journal_with_a_damaged_page(tmp_path):
    # Only the labels' pages are hit: the schema and meta still read fine, so quick_check must catch it.
    path = tmp_path / "damaged.sqlite"
    with new_journal(path) as j:
        j.record_labels([(i, i % 2) for i in range(3000)], "initial", 0)
    db = sqlite3.connect(path)
    page_size, n_pages = (db.execute(f"PRAGMA {p}").fetchone()[0] for p in ("page_size", "page_count"))
    first_free = 1 + max(r[0] for r in db.execute("SELECT rootpage FROM sqlite_master"))
    db.close()
    middle = n_pages // 2
    assert middle > first_free
    data = bytearray(path.read_bytes())
    data[middle * page_size:(middle + 1) * page_size] = b"\xab" * page_size
    path.write_bytes(bytes(data))
    return path


def _text_file(tmp_path):
    path = tmp_path / "notes.sqlite"
    path.write_text("these are notes\nnot a database\n" * 100)
    return path


def _plain_sqlite(tmp_path):
    path = tmp_path / "plain.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE things(x)")
    db.commit()
    db.close()
    return path


def _other_schema_version(tmp_path):
    path = tmp_path / "future.sqlite"
    new_journal(path).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    db.commit()
    db.close()
    return path


@pytest.mark.parametrize("make", [
    lambda tmp_path: tmp_path / "missing.sqlite",
    lambda tmp_path: tmp_path,
    _text_file,
    _real_journal_cut_in_half,
    _real_journal_with_a_damaged_page,
    _plain_sqlite,
    _other_schema_version,
], ids=["missing", "directory", "text", "truncated", "damaged-page", "plain-sqlite", "schema-version"])
def test_open_refuses_what_is_not_a_sound_journal(tmp_path, make):
    path = make(tmp_path)
    with pytest.raises(JournalError) as err:
        Journal.open(path)
    message = str(err.value)
    assert str(path) in message
    assert "\n" not in message
    assert "Traceback" not in message
    assert not (tmp_path / "missing.sqlite").exists()  # open never creates a file


def test_open_accepts_a_copy_of_a_sound_journal(tmp_path):
    # The counterpart of the truncated case: the whole copy opens fine.
    source = tmp_path / "real.sqlite"
    with new_journal(source) as j:
        j.record_labels([(i, 0) for i in range(3000)], "initial", 0)
    shutil.copy(source, tmp_path / "copy.sqlite")
    with Journal.open(tmp_path / "copy.sqlite") as j:
        assert len(j.labels()) == 3000


def test_the_connection_belongs_to_one_thread_unless_asked(tmp_path):
    errors = []

    def use(j):
        try:
            j.record_labels([(len(errors) + 100, 0)], "oracle", 0)
        except sqlite3.ProgrammingError as err:
            errors.append(err)

    with new_journal(tmp_path / "a.sqlite") as j:
        thread = threading.Thread(target=use, args=(j,))
        thread.start()
        thread.join()
    assert len(errors) == 1

    with new_journal(tmp_path / "b.sqlite", check_same_thread=False) as j:
        thread = threading.Thread(target=use, args=(j,))
        thread.start()
        thread.join()
        assert len(errors) == 1
        assert j.labeled_samples().tolist() == [101]

    with Journal.open(tmp_path / "b.sqlite") as j:
        thread = threading.Thread(target=use, args=(j,))
        thread.start()
        thread.join()
    assert len(errors) == 2

    with Journal.open(tmp_path / "b.sqlite", check_same_thread=False) as j:
        thread = threading.Thread(target=use, args=(j,))
        thread.start()
        thread.join()
        assert len(errors) == 2
        assert j.labeled_samples().tolist() == [101, 102]


def test_fingerprint_names_versions_device_and_seeds():
    import alstudio

    fp = fingerprint("cuda:0", {"active": 1, "dataset": 2})
    assert fp["device"] == "cuda:0"
    assert fp["seeds"] == {"active": 1, "dataset": 2}
    assert fp["numpy"] == np.__version__
    assert fp["alstudio"] == alstudio.__version__
    assert fp["python"] == ".".join(map(str, sys.version_info[:3]))
    assert fp["platform"]
    assert "torch" in fp


def _tamper(path, sql, *args):
    db = sqlite3.connect(path)
    db.execute(sql, args)
    db.commit()
    db.close()


@pytest.mark.parametrize("key, value, read", [
    ("seed", "xyz", lambda j: j.seed),
    ("seed", "3.5", lambda j: j.seed),
    ("config", "{not json", lambda j: j.config),
    ("config", "[1, 2]", lambda j: j.config),
    ("config", '{"dataset": {"pool_size": "many"}}', lambda j: j.config),
    ("fingerprint", "{not json", lambda j: j.fingerprint),
    ("fingerprint", "[1, 2]", lambda j: j.fingerprint),
    ("fingerprint", '{"trunk": 5}', lambda j: j.record_input("trunk", {"sha256": "ab" * 32}, "pretrained trunk")),
    ("strategy", b"\x00\x01", lambda j: j.strategy),
    ("status", "paused", lambda j: j.status),
    ("created", b"\x00", lambda j: j.created),
    ("state.llm", "{not json", lambda j: j.get_state("llm")),
    ("state.llm", "7", lambda j: j.get_state("llm")),
], ids=["seed-text", "seed-float", "config-not-json", "config-list", "config-invalid", "fingerprint-not-json",
        "fingerprint-list", "fingerprint-trunk", "strategy-blob", "status-unknown", "created-blob", "state-not-json",
        "state-number"])
def test_a_tampered_meta_value_is_one_sentence_naming_the_journal_and_the_key(tmp_path, key, value, read):
    path = tmp_path / "run.sqlite"
    new_journal(path).close()
    _tamper(path, "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", key, value)
    with Journal.open(path) as j:
        with pytest.raises(JournalError) as err:
            read(j)
    message = str(err.value)
    assert str(path) in message
    assert repr(key) in message
    assert "\n" not in message
    assert message.endswith(".")


@pytest.mark.parametrize("sql, read, names", [
    ("UPDATE cycles SET metrics = '{oops' WHERE cycle = 0", lambda j: j.cycles(), "cycle 0"),
    ("UPDATE events SET payload = '{oops'", lambda j: j.events(), "event 1"),
], ids=["cycle-metrics", "event-payload"])
def test_a_tampered_row_is_one_sentence_naming_the_journal_and_the_row(tmp_path, sql, read, names):
    path = tmp_path / "run.sqlite"
    with new_journal(path) as j:
        j.record_cycle(0, 1, {"accuracy": 1.0}, None, None)
        j.log_event("started", {"workers": 1})
    _tamper(path, sql)
    with Journal.open(path) as j:
        with pytest.raises(JournalError) as err:
            read(j)
    assert str(path) in str(err.value)
    assert names in str(err.value)
    assert "\n" not in str(err.value)


def test_cycles_journaled_with_the_old_spelling_read_with_the_current_one(tmp_path):
    import json as json_module

    path = tmp_path / "old.sqlite"
    with new_journal(path) as journal:
        journal.record_cycle(0, 10, {"accuracy": 0.5}, 1.0, 1.0)
    db = sqlite3.connect(path)
    old = {"accuracy": 0.5, "labelled_share": [0.9, 0.1], "labelled_count": [[5, 0], [4, 1]]}
    db.execute("UPDATE cycles SET metrics = ? WHERE cycle = 0", (json_module.dumps(old),))
    db.commit()
    db.close()
    with Journal.open(path) as journal:
        metrics = journal.cycles()[0]["metrics"]
    assert metrics["labeled_share"] == [0.9, 0.1] and metrics["labeled_count"] == [[5, 0], [4, 1]]
    assert "labelled_share" not in metrics
