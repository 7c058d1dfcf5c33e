"""A SIGKILL injected right before or right after each step that writes an experiment folder: the
config, the manifest, a journal's creation, a label, a checkpoint, metrics.csv and summary.json. Then
`alstudio resume` (or, where the creation never finished, `alstudio run` again without --force)
completes the experiment, and it equals the uninterrupted reference."""

import signal
import textwrap

import pytest

from .support import differences, one_line

CYCLES = 3

# Runs the CLI with one function wrapped so that the process SIGKILLs itself before or after its Nth
# call. The wrapper replaces the name where its callers look it up.
DRIVER = textwrap.dedent("""
    import importlib, os, signal, sys

    module_name, attribute, when, nth = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    owner = importlib.import_module(module_name)
    *path, name = attribute.split(".")
    for part in path:
        owner = getattr(owner, part)
    original = getattr(owner, name)  # bound already, for a classmethod
    calls = 0

    def wrapper(*args, **kwargs):
        global calls
        calls += 1
        if calls == nth and when == "before":
            os.kill(os.getpid(), signal.SIGKILL)
        result = original(*args, **kwargs)
        if calls == nth and when == "after":
            os.kill(os.getpid(), signal.SIGKILL)
        return result

    is_classmethod = isinstance(owner, type) and isinstance(vars(owner).get(name), classmethod)
    setattr(owner, name, staticmethod(wrapper) if is_classmethod else wrapper)
    from alstudio.cli import main
    sys.exit(main(sys.argv[5:]))
""")

CONFIG = ("alstudio.engine.config", "save")  # experiment.toml
MANIFEST = ("alstudio.engine.experiment", "write_json")  # experiment.json (results.py has its own binding)
JOURNAL = ("alstudio.engine.journal", "Journal.create")
LABELS = ("alstudio.engine.journal", "Journal.record_labels")
CHECKPOINT = ("alstudio.engine.loop", "_Run.save_model")
METRICS = ("alstudio.engine.results", "write_metrics_csv")
SUMMARY = ("alstudio.engine.results", "write_json")  # summary.json

# With 3 cycles and 2 runs: record_labels is called once for the initial labels, then once per queried
# sample (13 calls per run); save_model 4 times per run; the results are written after each run.
STEPS = [
    # (target, before/after, nth call, how the experiment is finished, what `resume` says meanwhile)
    (CONFIG, "before", 1, "run", "not an alstudio experiment folder"),
    (CONFIG, "after", 1, "run", "creation was interrupted"),
    (MANIFEST, "before", 1, "run", "creation was interrupted"),
    (MANIFEST, "after", 1, "resume", None),
    (JOURNAL, "before", 1, "resume", None),
    (JOURNAL, "after", 2, "resume", None),
    (LABELS, "after", 1, "resume", None),  # the initial labels
    (LABELS, "after", 3, "resume", None),  # half of the first queried batch
    (LABELS, "before", 16, "resume", None),  # the second run, inside its first queried batch
    (CHECKPOINT, "before", 2, "resume", None),
    (CHECKPOINT, "after", 4, "resume", None),  # the first run's last model
    (METRICS, "before", 1, "resume", None),
    (METRICS, "after", 2, "resume", None),  # every run finished, summary.json not yet rewritten
    (SUMMARY, "before", 1, "resume", None),
    (SUMMARY, "after", 2, "resume", None),
]


def _id(step) -> str:
    (module, attribute), when, nth, _, _ = step
    return f"{when}-{attribute}-{nth}" if module != "alstudio.engine.experiment" else f"{when}-manifest-{nth}"


@pytest.mark.parametrize("step", STEPS, ids=[_id(step) for step in STEPS])
def test_a_kill_at_a_write_step_resumes_to_the_reference(cli, reference, tmp_path, step):
    (module, attribute), when, nth, finish, resume_says = step
    good = reference(CYCLES)
    folder = tmp_path / "exp"
    command = cli.run_args(CYCLES, folder)
    killed = cli.run(*command, python=["-c", DRIVER, module, attribute, when, str(nth)])
    assert killed.returncode == -signal.SIGKILL, f"the step was never reached: {killed}"
    if resume_says is not None:
        refused = cli.run("resume", str(folder))
        assert refused.returncode == 2 and resume_says in one_line(refused.stderr), refused
    done = cli.run(*command) if finish == "run" else cli.run("resume", str(folder))
    assert done.returncode == 0, done
    assert differences(folder, good) == []
