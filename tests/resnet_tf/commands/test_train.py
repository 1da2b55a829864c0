"""Tests of train.py as a process and a command line: bad options, signals, kill -9 at random moments."""

import os
import signal
import subprocess
import time

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

import train
from tests.helpers import (
    TINY,
    assert_same_weights,
    final_weights,
    help_without_heavy_imports,
    scalars,
    start_trainer,
    tensor_values,
    train_args,
)


def test_bad_options_and_bad_csv_are_clear_errors(demo_data, tmp_path, capsys):
    with pytest.raises(SystemExit):
        train.main(train_args(demo_data, tmp_path / "a", "--image-size", "16"))
    assert "argument --image-size: must be an integer of at least 32, got 16" in capsys.readouterr().err
    assert train.main(train_args(demo_data, tmp_path / "a", "--deterministic", "--jit")) == 2
    assert "cannot be combined with --jit" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    bad.write_text("path,label\nnothere.png,red_circle\n")
    assert train.main(["--train-csv", demo_data[0], "--val-csv", str(bad), "--logdir", str(tmp_path / "b"), *TINY]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:2: image file not found (nothere.png)" in err
    with pytest.raises(SystemExit):
        train.main(["--arch", "resnet20"])
    with pytest.raises(SystemExit):
        train.main(train_args(demo_data, tmp_path / "c", "--profile-steps", "5,2"))
    assert "--profile-steps: expected FIRST,LAST step numbers with 1 <= FIRST <= LAST" in capsys.readouterr().err


def test_a_nan_option_is_refused_before_training(demo_data, tmp_path, capsys):
    with pytest.raises(SystemExit):
        train.main(train_args(demo_data, tmp_path / "nan_lr", "--lr", "nan"))
    assert "argument --lr: must be a number above 0, got nan" in capsys.readouterr().err
    assert not (tmp_path / "nan_lr").exists()


def test_help_loads_no_tensorflow_opencv_or_pandas():
    text = help_without_heavy_imports("train.py")
    assert "--image-dir" in text and "--profile-steps" in text


def test_a_run_folder_that_is_a_file_is_an_error_line(demo_data, tmp_path, capsys):
    (tmp_path / "a_file").write_text("mine")
    assert train.main(train_args(demo_data, tmp_path / "a_file", "--max-steps", "1")) == 2
    assert "error:" in capsys.readouterr().err and (tmp_path / "a_file").read_text() == "mine"


def newest_data_file(folder):
    """The data file of the newest checkpoint in ``folder``, from the files present (not from the checkpoint
    list, which an earlier fault may have overwritten with random bytes)."""
    data = [p for p in folder.iterdir() if p.name.startswith("ckpt-") and ".data-" in p.name]
    return max(data, key=lambda p: int(p.name.split(".")[0].split("-")[1]))


@pytest.mark.slow
def test_random_faults_on_one_run_folder_lose_nothing_saved(demo_data, tmp_path):
    seed = int.from_bytes(os.urandom(2), "little")
    rng = np.random.default_rng(seed)
    logdir = tmp_path / "run"
    recipe = ("--ckpt-every", "3", "--eval-every", "4", "--lr-schedule", "constant", "--deterministic")
    args = train_args(demo_data, logdir, "--max-steps", "24", *recipe)
    assert train.main(train_args(demo_data, logdir, "--max-steps", "5", *recipe)) == 0, seed  # a first part
    for fault in rng.permutation(["kill", "index", "truncate", "config", "kill"]):
        if fault == "kill":  # kill -9 somewhere in start-up, a step, a validation or a checkpoint write
            proc = start_trainer(args)
            try:
                proc.wait(timeout=rng.uniform(4, 9))
            except subprocess.TimeoutExpired:
                proc.kill()
            proc.communicate(timeout=60)
        elif fault == "index":
            (logdir / "checkpoints" / "checkpoint").write_bytes(rng.bytes(40))
        elif fault == "truncate":
            data = newest_data_file(logdir / "checkpoints")
            data.write_bytes(data.read_bytes()[: int(rng.integers(1, 200))])
        else:  # config.json edited to another network: refused, nothing written
            saved = (logdir / "config.json").read_text()
            (logdir / "config.json").write_text(saved.replace('"arch": "resnet10"', '"arch": "resnet34"'))
            assert train.main(["--logdir", str(logdir)]) == 2, seed
            (logdir / "config.json").write_text(saved)
    # the same command again, as after any interruption (with --logdir alone, a run whose every --max-steps 24
    # start was killed before it recorded anything continues the first part's --max-steps 5, already done)
    assert train.main(args) == 0, seed
    history = pd.read_csv(logdir / "history.csv")
    steps = history["step"].tolist()
    # every 4 steps, and the last step of the first part (5) unless a fault sent the run back before it
    assert steps == sorted(set(steps)) and {4, 8, 12, 16, 20, 24} <= set(steps) <= {4, 5, 8, 12, 16, 20, 24}, (
        seed,
        steps,
    )
    best_prefix = tf.train.latest_checkpoint(str(logdir / "best"))
    best = tf.train.load_checkpoint(best_prefix)
    top = history.loc[history["val_top1"].idxmax()]  # the first of the best: a later equal one is no better
    assert int(best_prefix.rsplit("-", 1)[1]) == top["step"], seed
    assert best.get_tensor("best_accuracy/.ATTRIBUTES/VARIABLE_VALUE") == pytest.approx(top["val_top1"], abs=1e-6)


# One deterministic recipe for the interruption tests, and the run it gives uninterrupted (checkpoints every 3
# steps, validations every 10, a loss for every step), with the default optimizer, whose two slots a weight a
# resumed run must restore.
INTERRUPTED = (
    "--optimizer",
    "adam",
    "--max-steps",
    "60",
    "--ckpt-every",
    "3",
    "--eval-every",
    "10",
    "--deterministic",
    "--log-every",
    "1",
)


@pytest.fixture(scope="session")
def straight(demo_data, tmp_path_factory):
    """The recipe run without interruption."""
    logdir = tmp_path_factory.mktemp("straight") / "run"
    assert train.main(train_args(demo_data, logdir, *INTERRUPTED)) == 0
    return logdir


def losses(logdir) -> dict[int, float]:
    """The training loss of every step of a run, from its TensorBoard events (all its processes')."""
    return dict(tensor_values(scalars(str(logdir / "train")), "loss"))


def start_and_wait_for_training(args, logdir, starts: int):
    """train.py in a process of its own, returned once it has begun its ``starts``-th start of the run (its
    first lines are in train.log: past TensorFlow's start-up, restoring or starting)."""
    proc = start_trainer(args)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        log = logdir / "train.log"
        text = log.read_text() if log.exists() else ""
        if text.count("resuming from") + text.count("starting a new run") >= starts:
            break
        time.sleep(0.05)
    return proc


@pytest.mark.slow
def test_sigterm_saves_the_current_step_and_the_resumed_run_matches_the_uninterrupted_one_step_for_step(
    straight, demo_data, tmp_path
):
    logdir = tmp_path / "resumed"
    proc = start_and_wait_for_training(train_args(demo_data, logdir, *INTERRUPTED), logdir, starts=1)
    time.sleep(1.0)  # some steps into training
    proc.send_signal(signal.SIGTERM)
    output, _ = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM, output
    stopped_at = int(output.split("interrupted by SIGTERM at step ")[1].split(":")[0])
    assert 0 < stopped_at < 60
    assert tf.train.latest_checkpoint(str(logdir / "checkpoints")).endswith(f"ckpt-{stopped_at}")
    assert train.main(["--logdir", str(logdir)]) == 0
    reference, resumed = final_weights(straight), final_weights(logdir)
    assert (
        reference.keys() == resumed.keys() and len(reference) > 2 * 74
    )  # 74 weights and BN statistics, Adam's 2 slots a weight
    assert_same_weights(reference, resumed)
    # --seed with --deterministic: the same loss at every step, before and after the interruption
    assert len(losses(straight)) == 60 and losses(logdir) == losses(straight)


@pytest.mark.slow
def test_kill9_at_random_moments_resumes_and_ends_with_the_uninterrupted_weights(straight, demo_data, tmp_path):
    # Each kill lands at a random moment of training: in a step, a validation or a checkpoint write (one
    # every 3 steps, each a few percent of the time). The property checked (a checkpoint is never used
    # half-written, a resumed run is exact) holds at every moment, so a few random kills a run, drawn anew
    # in every run of the suite, test it as well as many; the fault test of the same folder adds more.
    logdir = tmp_path / "killed"
    args = train_args(demo_data, logdir, *INTERRUPTED)
    rng = np.random.default_rng()
    steps_seen, kills = [], 0
    for trial in range(3):
        proc = start_and_wait_for_training(args, logdir, starts=trial + 1)
        try:
            proc.wait(timeout=rng.uniform(0.2, 2.0))
        except subprocess.TimeoutExpired:
            proc.kill()  # SIGKILL: no handler runs
            kills += 1
        proc.communicate(timeout=60)
        latest = tf.train.latest_checkpoint(str(logdir / "checkpoints"))
        steps_seen.append(int(latest.rsplit("-", 1)[1]) if latest else 0)
    assert kills >= 2 and steps_seen == sorted(steps_seen), (kills, steps_seen)
    assert train.main(["--logdir", str(logdir)]) == 0
    assert_same_weights(final_weights(straight), final_weights(logdir))
