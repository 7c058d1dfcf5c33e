"""The experiment's progress: a fraction that never goes back, and an ETA from measured stage times."""

import itertools

import pytest

from alstudio.engine.loop import CycleResult, Failed, Finished, Progress
from alstudio.engine.progress import PREPARATION_SHARE, ExperimentProgress, ProgressReport, eta_text

EPOCHS, CYCLES, INITIAL, QUERY = 3, 2, 10, 10


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def tracker(runs=2):
    clock = Clock()
    return ExperimentProgress(runs, CYCLES, EPOCHS, INITIAL, QUERY, clock=clock), clock


def drive(progress, clock, runs=2, epoch_per_label=0.1, evaluating=1.0, scoring=2.0, waiting=0.0):
    """The events of a whole experiment, as the loop yields them, with the time each stage takes."""
    estimates = []
    for run in range(runs):
        progress.run_started()
        for cycle in range(CYCLES + 1):
            for epoch in range(1, EPOCHS + 1):
                clock.now += epoch_per_label * (INITIAL + cycle * QUERY)
                estimates.append(progress.stage(run, cycle, "training", epoch, EPOCHS))
            estimates.append(progress.stage(run, cycle, "evaluating", 0, 1))
            clock.now += evaluating
            if cycle < CYCLES:
                estimates.append(progress.stage(run, cycle, "scoring", 0, 1))
                clock.now += scoring
            estimates.append(progress.cycle_done(run, cycle))
            if waiting and cycle < CYCLES:
                for _ in range(3):
                    clock.now += waiting / 3
                    estimates.append(progress.stage(run, cycle, "waiting for labels", 0, 4))
        estimates.append(progress.run_done(run))
    return estimates


def test_the_fraction_never_goes_back_and_ends_at_one():
    progress, clock = tracker()
    fractions = [e.fraction for e in drive(progress, clock)]
    assert fractions == sorted(fractions)
    assert fractions[-1] == pytest.approx(1.0)
    # It moves on as each cycle goes: epochs, evaluation, scoring (the bar went backwards at scoring).
    per_cycle = EPOCHS + 3
    first_run = fractions[:CYCLES * per_cycle]
    for start in range(0, len(first_run), per_cycle):
        cycle = first_run[start:start + per_cycle]
        assert all(later > earlier for earlier, later in zip(cycle[:EPOCHS], cycle[1:EPOCHS]))
        assert cycle[EPOCHS + 1] > cycle[EPOCHS] and cycle[EPOCHS + 2] > cycle[EPOCHS + 1]


def test_the_eta_comes_from_measured_stage_times():
    progress, clock = tracker(runs=1)
    progress.run_started()
    clock.now += 0.1 * INITIAL
    assert progress.stage(0, 0, "training", 1, EPOCHS).eta_seconds is None  # evaluation and scoring not timed yet
    for epoch in (2, 3):
        clock.now += 0.1 * INITIAL
        progress.stage(0, 0, "training", epoch, EPOCHS)
    progress.stage(0, 0, "evaluating", 0, 1)
    clock.now += 1.0
    progress.stage(0, 0, "scoring", 0, 1)
    clock.now += 2.0
    estimate = progress.cycle_done(0, 0)
    # Cycles 1 and 2 remain: 3 epochs x 0.1 s x (20 + 30) labels, two evaluations, one scoring.
    assert estimate.eta_seconds == pytest.approx(3 * 0.1 * 50 + 2 * 1.0 + 2.0)


def test_no_eta_while_a_person_labels_and_waiting_is_not_work():
    progress, clock = tracker(runs=1)
    estimates = drive(progress, clock, runs=1, waiting=600.0)
    waiting = [e for e in estimates[:-1] if e.eta_seconds is None]
    assert len(waiting) >= 2 * 3  # every "waiting for labels" event of both labeled batches
    # The ten minutes a person took are not counted as an epoch: the estimate stays at the work left.
    progress2, clock2 = tracker(runs=2)
    drive(progress2, clock2, runs=1, waiting=600.0)
    assert progress2.run_done(0).eta_seconds == pytest.approx(
        EPOCHS * 0.1 * (10 + 20 + 30) + 3 * 1.0 + 2 * 2.0, rel=1e-6)


def test_paused_time_is_not_counted_as_work():
    progress, clock = tracker(runs=1)
    progress.run_started(paused_seconds=0.0)
    clock.now += 0.1 * INITIAL + 300.0  # an epoch, and five minutes paused in the middle of it
    progress.stage(0, 0, "training", 1, EPOCHS, paused_seconds=300.0)
    clock.now += 0.1 * INITIAL
    progress.stage(0, 0, "training", 2, EPOCHS, paused_seconds=300.0)
    progress.stage(0, 0, "evaluating", 0, 1, paused_seconds=300.0)
    clock.now += 1.0
    progress.stage(0, 0, "scoring", 0, 1, paused_seconds=300.0)
    clock.now += 2.0
    estimate = progress.cycle_done(0, 0, paused_seconds=300.0)
    assert estimate.eta_seconds == pytest.approx(3 * 0.1 * 50 + 2 * 1.0 + 2.0)


def test_preparing_dataset_and_trunk_takes_the_first_share_and_the_run_goes_on_from_there():
    progress, clock = tracker()
    shares = [progress.preparing(0, 2, done, 100).fraction for done in (0, 50, 100)]
    shares += [progress.preparing(1, 2, done, 6).fraction for done in (0, 3, 6)]
    assert shares == sorted(shares) and shares[0] == 0.0
    assert shares[1] == pytest.approx(PREPARATION_SHARE / 4) and shares[-1] == pytest.approx(PREPARATION_SHARE)
    fractions = [e.fraction for e in drive(progress, clock)]
    assert fractions[0] >= PREPARATION_SHARE and fractions == sorted(fractions)
    assert fractions[-1] == pytest.approx(1.0)


def test_a_resumed_experiment_starts_where_it_stopped():
    progress, clock = tracker(runs=2)
    progress.run_started()
    clock.now += 1.0
    first = progress.stage(1, 1, "training", 1, EPOCHS)  # run 2, cycle 1: the first run and a cycle are done
    assert 0.5 < first.fraction < 0.75


def loop_events(clock, runs=2, epoch_per_label=0.1, evaluating=1.0, scoring=2.0, setup=0.0):
    """(run, label, event) as runner.run_experiment yields them, the clock moved as drive() moves it;
    a run's set-up takes `setup` seconds before its first epoch."""
    for run in range(runs):
        label = f"bald seed {run + 1}"
        clock.now += setup
        for cycle in range(CYCLES + 1):
            for epoch in range(1, EPOCHS + 1):
                clock.now += epoch_per_label * (INITIAL + cycle * QUERY)
                yield run, label, Progress("training", epoch, EPOCHS, cycle)
            yield run, label, Progress("evaluating", 0, 1, cycle)
            clock.now += evaluating
            if cycle < CYCLES:
                yield run, label, Progress("scoring", 0, 1, cycle)
                clock.now += scoring
            yield run, label, CycleResult(cycle, INITIAL + cycle * QUERY, {}, None, None)
        yield run, label, Finished(CYCLES)


def test_report_turns_the_runners_events_into_the_estimates_and_a_stage_line():
    by_hand, clock = tracker()
    expected = drive(by_hand, clock)
    progress, clock = tracker()
    reports = [progress.report(run, label, event) for run, label, event in loop_events(clock)]
    assert all(isinstance(report, ProgressReport) for report in reports)
    assert [(r.fraction, r.eta_seconds) for r in reports] == [(e.fraction, e.eta_seconds) for e in expected]
    assert reports[0].stage_line() == "bald seed 1, cycle 0: training epoch 1/3"
    assert reports[EPOCHS].stage_line() == "bald seed 1, cycle 0: evaluating"
    assert reports[EPOCHS + 2].stage_line() == "bald seed 1, cycle 0 done"
    assert reports[-1].stage_line() == "bald seed 2: finished" and reports[-1].fraction == pytest.approx(1.0)
    assert progress.report(0, "bald seed 1", Failed("disk full", "")) is None
    assert progress.report_preparing("generating the dataset", 0, 1, 50, 100).stage_line() == \
        "generating the dataset (50 of 100)"


def test_a_runs_first_epoch_is_timed_with_its_set_up_not_as_no_time():
    # The loop's first event of a run ends its first epoch; timing from there would record 0 s.
    first_cycle = EPOCHS + 3  # epochs, evaluating, scoring, cycle done
    etas = []
    for setup in (0.0, 5.0):
        progress, clock = tracker(runs=1)
        events = itertools.islice(loop_events(clock, runs=1, setup=setup), first_cycle)
        etas.append([progress.report(run, label, event).eta_seconds for run, label, event in events][-1])
    assert etas[1] > etas[0] > 0


def test_the_eta_reads_in_minutes_and_seconds():
    assert eta_text(None) == ""
    assert eta_text(42.7) == "about 42 s left"
    assert eta_text(125.0) == "about 2 min 05 s left"
