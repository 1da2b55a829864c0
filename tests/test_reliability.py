"""Reliability: interrupted, fed bad data or diverging, training loses nothing and says what happened."""

import os
import resource
import subprocess
import time

import numpy as np
import tensorflow as tf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import train
from tests.helpers import (TINY, assert_same_weights, final_weights, make_labelled_set, scalars, start_trainer,
                      tensor_values, train_args)
from data_utils.csv_table import read_image_csv
from data_utils.errors import DataError


def test_kill9_at_random_moments_resumes_and_ends_with_the_uninterrupted_weights(demo_data, tmp_path):
    extra = ("--max-steps", "90", "--ckpt-every", "3", "--eval-every", "10", "--deterministic", "--log-every", "5")
    assert train.main(train_args(demo_data, tmp_path / "straight", *extra)) == 0
    logdir = tmp_path / "killed"
    args = train_args(demo_data, logdir, *extra)
    rng = np.random.default_rng(2026)
    steps_seen, kills = [], 0
    for trial in range(10):
        proc = start_trainer(args)
        try:
            proc.wait(timeout=rng.uniform(3.5, 7.5))  # lands in start-up, steps, evaluation or a checkpoint write
        except subprocess.TimeoutExpired:
            proc.kill()  # SIGKILL: no handler runs
            kills += 1
        proc.communicate(timeout=60)
        latest = tf.train.latest_checkpoint(str(logdir / "checkpoints"))
        steps_seen.append(int(latest.rsplit("-", 1)[1]) if latest else 0)
    assert kills >= 5 and steps_seen == sorted(steps_seen)
    final = start_trainer(args)
    output, _ = final.communicate(timeout=300)
    assert final.returncode == 0, output
    assert_same_weights(final_weights(tmp_path / "straight"), final_weights(logdir))


def test_corrupted_newest_checkpoint_falls_back_to_the_previous(demo_data, tmp_path, capsys):
    logdir = tmp_path / "run"
    assert train.main(train_args(demo_data, logdir, "--max-steps", "6", "--ckpt-every", "2", "--eval-every", "100",
                                 "--lr-schedule", "constant")) == 0
    for folder in ("checkpoints", "best"):  # the last step's checkpoint and its validated copy
        data_file = next(p for p in (logdir / folder).iterdir() if p.name.startswith("ckpt-6.data"))
        data_file.write_bytes(data_file.read_bytes()[:100])  # truncated
    capsys.readouterr()
    assert train.main(["--logdir", str(logdir), "--max-steps", "8"]) == 0
    out = capsys.readouterr().out
    assert "checkpoints/ckpt-6 cannot be read" in out and "best/ckpt-6 cannot be read" in out
    assert "resuming from" in out and "ckpt-4 at step 4/8" in out
    assert tf.train.latest_checkpoint(str(logdir / "checkpoints")).endswith("ckpt-8")


def test_nonfinite_loss_skip_option_counts_steps_and_saves_only_finite_weights(demo_data, tmp_path, capsys):
    logdir = tmp_path / "skip"
    assert train.main(train_args(demo_data, logdir, "--max-steps", "6", "--lr", "1e12", "--optimizer", "sgd",
                                 "--skip-nonfinite", "--ckpt-every", "3", "--eval-every", "100")) == 0
    out = capsys.readouterr().out
    assert "update skipped" in out and "steps with NaN/Inf loss or gradients" in out
    skipped = tensor_values(scalars(str(logdir / "train")), "skipped_nonfinite_steps")
    assert skipped[-1][1] >= 1
    for value in final_weights(logdir).values():
        if np.issubdtype(np.asarray(value).dtype, np.floating):
            assert np.isfinite(value).all()


def test_image_corrupted_mid_training_stops_with_a_checkpoint_or_is_skipped(tmp_path, capsys):
    train_csv = make_labelled_set(str(tmp_path), num_classes=3, per_class=6, size=40)
    val_csv = make_labelled_set(str(tmp_path / "v"), num_classes=3, per_class=2, size=40, name="val.csv")
    table = read_image_csv(train_csv)  # passes the checks now...
    with open(table.paths[4], "wb") as f:  # ...then breaks, as a disk or a sync job might
        f.write(b"\x89PNG\r\n\x1a\n" + bytes(64) + b"IEND\xaeB`\x82")
    base = ["--train-csv", train_csv, "--val-csv", val_csv, *TINY, "--batch-size", "6", "--eval-every", "100"]
    # The broken file passes the quick check (valid signature and end), so it is met during training.
    assert train.main([*base, "--logdir", str(tmp_path / "stop"), "--max-steps", "6"]) == 2
    err = capsys.readouterr().err
    assert "cannot decode training images at step" in err and "0 problems" not in err
    assert f"{train_csv}:{table.lines[4]}: OpenCV cannot decode the image ({table.paths[4]})" in err
    assert tf.train.latest_checkpoint(str(tmp_path / "stop" / "checkpoints")) is not None
    assert train.main([*base, "--logdir", str(tmp_path / "skip"), "--max-steps", "6", "--skip-bad-rows"]) == 0
    out = capsys.readouterr().out
    assert f"skipping undecodable image {table.paths[4]}" in out and "skipped 2 undecodable training images" in out


def test_checkpoint_write_error_is_clear_and_earlier_checkpoints_survive(demo_data, tmp_path):
    logdir = tmp_path / "full"
    args = train_args(demo_data, logdir, "--ckpt-every", "2", "--eval-every", "100", "--lr-schedule", "constant")
    assert train.main([*args, "--max-steps", "2"]) == 0
    ckpt_bytes = sum(p.stat().st_size for p in (logdir / "checkpoints").iterdir() if "ckpt-2.data" in p.name)

    def small_disk():  # files may not grow past half a checkpoint: the next save fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (ckpt_bytes // 2, ckpt_bytes // 2))

    proc = start_trainer([*args, "--max-steps", "6"], preexec_fn=small_disk)
    output, _ = proc.communicate(timeout=300)
    assert proc.returncode == 2, output
    assert "disk full or not writable? Earlier checkpoints are intact" in output and "Traceback" not in output
    assert tf.train.latest_checkpoint(str(logdir / "checkpoints")).endswith("ckpt-2")
    assert train.main([*args, "--max-steps", "6"]) == 0
    assert tf.train.latest_checkpoint(str(logdir / "checkpoints")).endswith("ckpt-6")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.one_of(
    st.binary(max_size=300),
    st.lists(st.lists(st.text(max_size=30), max_size=4), max_size=6).map(
        lambda rows: "\n".join(",".join(r) for r in rows)).map(lambda t: t.encode("utf-8")),
    st.text(max_size=200).map(lambda t: t.encode("utf-16")),
    st.integers(5000, 200_000).map(lambda n: b"path,label\n" + b"x" * n + b",1\n"),
))
def test_fuzzed_csv_gives_a_clear_error_or_a_valid_table(tmp_path, content):
    path = tmp_path / "fuzz.csv"
    path.write_bytes(content)
    try:
        table = read_image_csv(str(path))
    except DataError as err:
        assert err.problems and all(p.csv_path == str(path) for p in err.problems)
        assert str(path) in str(err)
    else:
        assert len(table) > 0 and all(os.path.isfile(p) for p in table.paths)


def test_second_trainer_on_the_same_logdir_refuses(demo_data, tmp_path, capsys):
    args = train_args(demo_data, tmp_path / "busy", "--max-steps", "100000", "--eval-every", "100000")
    first = start_trainer(args)
    try:
        deadline = time.time() + 120
        while time.time() < deadline and not (tmp_path / "busy" / "train").is_dir():
            time.sleep(0.2)
        assert train.main(args) == 2
        assert "is in use by pid" in capsys.readouterr().err
    finally:
        first.kill()
        first.communicate(timeout=60)
    assert train.main([*args[:-4], "--max-steps", "2", "--eval-every", "100"]) == 0  # kill -9 left no stale lock


def test_same_seed_deterministic_runs_match_step_for_step(demo_data, tmp_path):
    extra = ("--max-steps", "8", "--log-every", "1", "--deterministic", "--eval-every", "100")
    losses = []
    for name in ("a", "b"):
        assert train.main(train_args(demo_data, tmp_path / name, *extra)) == 0
        losses.append(tensor_values(scalars(str(tmp_path / name / "train")), "loss"))
    assert len(losses[0]) == 8 and losses[0] == losses[1]
    assert_same_weights(final_weights(tmp_path / "a"), final_weights(tmp_path / "b"))
