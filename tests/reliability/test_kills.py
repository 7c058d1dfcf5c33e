"""SIGKILL at random points of `alstudio run` and `alstudio resume`, then resume until done: nothing is
lost, nothing is labeled twice, and the experiment equals one that was never interrupted.

The delays are seeded; where a kill lands still depends on the machine's speed, so each kill is
classified afterwards from what the journals hold. `pytest -s` prints the tally (docs/reliability.md).
"""

import random
import signal
import time
from collections import Counter

from .support import (
    QUERY_SIZE,
    RUNS,
    differences,
    experiment_state,
    label_count,
    progress,
    wait_for_progress,
)

CYCLES = 12  # 2 runs x 13 cycles: long enough to be cut several times, short enough for ~90 s in all
MIN_KILLS = 10
KILLS_PER_EXPERIMENT = 6
MAX_EXPERIMENTS = 5
LONGEST_DELAY = 0.15  # seconds after the awaited progress; a cycle takes ~0.05-0.2 s here


def _where(state: dict) -> str:
    """Where a kill landed, from the journals it left: inside a run (with a queried batch only partly
    labeled, or elsewhere in a cycle), or between runs (before the next, or after the last)."""
    for run in RUNS:
        journal = state[run]
        if not journal["exists"] or journal["status"] == "finished":
            continue
        if journal["cycles"]:
            last = journal["cycles"][-1][0]
            queried = journal["queries"].get(last, [])
            labeled = sum(1 for _, _, cycle in journal["labels"].values() if cycle == last + 1)
            if queried and labeled < len(queried):
                return "mid-cycle, batch partly labeled"
        return "mid-cycle"
    return "between runs"


def test_random_kills_lose_no_label_and_resume_to_the_reference(cli, reference, tmp_path):
    rng = random.Random(20261130)
    good = reference(CYCLES)
    tally = Counter()
    differing = []
    process = None
    try:
        for number in range(1, MAX_EXPERIMENTS + 1):
            if tally["kills"] >= MIN_KILLS:
                break
            folder = tmp_path / f"exp{number}"
            tally["experiments"] += 1
            seen: dict[str, dict] = {run: {} for run in RUNS}  # labels present at some kill
            command, trigger = cli.run_args(CYCLES, folder), "journal"
            for _ in range(KILLS_PER_EXPERIMENT):
                since = progress(folder)
                process = cli.start(*command)
                delay = rng.uniform(0.0, LONGEST_DELAY)
                if not wait_for_progress(folder, process, since, trigger):
                    break  # it finished before the awaited progress: nothing left to cut
                time.sleep(delay)
                process.kill()
                if process.poll() != -signal.SIGKILL:
                    assert process.poll() == 0, process.finished()
                    break  # finished during the delay
                tally["kills"] += 1
                tally["run" if command[0] == "run" else "resume"] += 1
                state = experiment_state(folder)
                tally[_where(state)] += 1
                for run in RUNS:
                    seen[run].update(state[run]["labels"])
                command, trigger = ["resume", str(folder)], rng.choice(["labels", "cycle", "labels"])
            done = cli.run("resume", str(folder))
            assert done.returncode == 0, done
            final = experiment_state(folder)
            for run in RUNS:
                labels = final[run]["labels"]
                tally["labels lost"] += sum(1 for s, value in seen[run].items() if labels.get(s) != value)
                tally["labels duplicated"] += max(0, len(labels) - label_count(CYCLES))
                queried = [s for batch in final[run]["queries"].values() for s, _, _ in batch]
                tally["samples queried twice"] += len(queried) - len(set(queried))
                assert len(queried) == CYCLES * QUERY_SIZE, run
            problems = differences(folder, good)
            if problems:
                differing.append((folder.name, problems))
    finally:
        if process is not None:
            process.kill()
    mid_cycle = tally["mid-cycle"] + tally["mid-cycle, batch partly labeled"]
    print(f"\nreliability kills: {tally['kills']} SIGKILLs ({tally['run']} of `run`, {tally['resume']} of `resume`) "
          f"over {tally['experiments']} experiments; mid-cycle {mid_cycle} (of which with a queried batch partly "
          f"labeled {tally['mid-cycle, batch partly labeled']}), between runs {tally['between runs']}; labels "
          f"lost {tally['labels lost']}, duplicated {tally['labels duplicated']}, samples queried twice "
          f"{tally['samples queried twice']}; experiments differing from the reference {len(differing)} of "
          f"{tally['experiments']}")
    assert tally["kills"] >= MIN_KILLS and tally["run"] and tally["resume"], tally
    assert tally["labels lost"] == 0 and tally["labels duplicated"] == 0 and tally["samples queried twice"] == 0
    assert not differing, differing
