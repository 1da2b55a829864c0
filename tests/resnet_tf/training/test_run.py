"""Tests of a training run from start to end: its log file, a finished run, errors that keep their traceback,
write errors, reproducibility."""

import json
import resource
import shutil
import time

import pytest
import tensorflow as tf

import evaluate
import train
from resnet_tf.evaluation import evaluate_run
from resnet_tf.training import run as run_module
from tests.helpers import TINY, make_labelled_set, start_trainer, train_args


def test_the_log_file_holds_the_console_and_piped_output_gets_step_lines(trained_run):
    log = (trained_run / "train.log").read_text()
    first_start = log.split("done: 8 steps")[0]
    for line in (
        "INFO chose flip augmentation for 32 px images",
        "INFO resnet10 width 4, standard stem",
        "INFO step 2/8: loss",
        "INFO step 6: val loss",
        "INFO step 8/8: loss",
    ):
        assert line in first_start  # the lines before the log file opened, and one line per --log-every
    assert "SUMMARY done: 8 steps" in log and "\r" not in log and "step/s" not in log  # no progress bars


def test_finished_run_says_complete_and_conflicts_are_errors(trained_run, capsys):
    assert train.main(["--logdir", str(trained_run)]) == 0
    assert "run complete: step 8/8" in capsys.readouterr().out
    assert train.main(["--logdir", str(trained_run), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("run complete: step 8/8") and out.count("\n") == 1  # only the summary
    assert (trained_run / "train.log").read_text().count("run complete: step 8/8") >= 2  # the file gets it all
    config = (trained_run / "config.json").read_text()
    for option in (["--arch", "resnet34"], ["--demo"], ["--image-dir", str(trained_run)], ["--batch-size", "4"]):
        assert train.main(["--logdir", str(trained_run), *option]) == 2
        assert f"error: {option[0]}=" in capsys.readouterr().err
    assert (trained_run / "config.json").read_text() == config  # nothing recorded that did not happen


def test_errors_the_user_cannot_fix_keep_their_traceback(demo_data, trained_run, tmp_path, monkeypatch):
    def out_of_memory(*_):
        raise tf.errors.ResourceExhaustedError(None, None, "OOM when allocating tensor with shape [64,64,112,112]")

    monkeypatch.setattr(run_module, "build_run", out_of_memory)
    with pytest.raises(tf.errors.ResourceExhaustedError):
        train.main(train_args(demo_data, tmp_path / "oom", "--max-steps", "1"))

    def shape_bug(*_, **__):
        raise ValueError("Dimensions must be equal, but are 51 and 6")

    monkeypatch.setattr(evaluate_run, "predict_table", shape_bug)
    with pytest.raises(ValueError, match="Dimensions must be equal"):
        evaluate.main(["--logdir", str(trained_run), "--csv", demo_data[1], "--out", str(tmp_path / "e")])


@pytest.mark.slow
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
    assert not list((logdir / "checkpoints").glob("*_temp"))  # the failed save's folder of parts is gone
    (logdir / "checkpoints" / "ckpt-4_temp").mkdir()  # as one left by a process killed in its save
    (logdir / "checkpoints" / f"checkpoint.tmp{'0' * 32}").write_text("")  # and its list's, before its rename
    assert train.main([*args, "--max-steps", "6"]) == 0
    assert tf.train.latest_checkpoint(str(logdir / "checkpoints")).endswith("ckpt-6")
    assert not list((logdir / "checkpoints").glob("*_temp")) and not list((logdir / "checkpoints").glob("*.tmp*"))


def run_files(logdir) -> dict:
    """Every file of a run folder but its log, with its contents."""
    return {
        p.relative_to(logdir): p.read_bytes()
        for p in sorted(logdir.rglob("*"))
        if p.is_file() and p.name != "train.log"
    }


def test_a_checkpoint_of_another_network_stops_the_run_and_nothing_is_written(six_step_run, tmp_path, capsys):
    logdir = tmp_path / "run"
    shutil.copytree(six_step_run, logdir)
    saved = json.loads((logdir / "config.json").read_text())
    saved["config"]["network"]["arch"] = "resnet50"  # an edited config.json, or code whose network changed
    (logdir / "config.json").write_text(json.dumps(saved))
    before = run_files(logdir)
    capsys.readouterr()
    assert train.main(["--logdir", str(logdir), "--max-steps", "8"]) == 2
    err = capsys.readouterr().err
    assert "ckpt-6 does not hold the network this run's configuration builds (arch resnet10 there, resnet50 here" in err
    assert "Nothing was written" in err and "starting a new run" not in err
    assert run_files(logdir) == before


def test_a_damaged_checkpoint_list_is_rebuilt_and_the_run_continues_with_its_history(six_step_run, tmp_path, capsys):
    logdir = tmp_path / "run"
    shutil.copytree(six_step_run, logdir)
    rows = (logdir / "history.csv").read_text().splitlines()
    (logdir / "checkpoints" / "checkpoint").write_text("\x00 garbage")
    capsys.readouterr()
    assert train.main(["--logdir", str(logdir), "--max-steps", "8"]) == 0
    out = capsys.readouterr().out
    assert "checkpoints/checkpoint is missing or damaged; rebuilt from the 3 checkpoints present" in out
    assert "ckpt-6 at step 6/8" in out and "starting a new run" not in out
    assert (logdir / "history.csv").read_text().splitlines()[: len(rows)] == rows  # its old rows kept


def test_a_start_that_saved_no_checkpoint_is_settled_again(demo_data, tmp_path, capsys):
    logdir = tmp_path / "run"
    args = train_args(demo_data, logdir, "--max-steps", "2")
    pinned = ("--stem", "--augment")  # TINY's choices, left out for the automatic ones: each option and its value
    first = [a for i, a in enumerate(args) if a not in pinned and not (i and args[i - 1] in pinned)]
    # a first start at 64 px that fails before its first checkpoint (NaN at the first step) ...
    assert train.main([*first, "--image-size", "64", "--lr", "1e12", "--optimizer", "sgd"]) == 2
    assert json.loads((logdir / "config.json").read_text())["config"]["data"]["augment"] == "light"
    # ... then the user fixes it: the automatic choices are those of a new run folder at 160 px
    capsys.readouterr()
    assert train.main([*first, "--image-size", "160", "--batch-size", "4", "--max-steps", "1"]) == 0
    config = json.loads((logdir / "config.json").read_text())["config"]
    assert (config["network"]["stem"], config["data"]["augment"], config["optimization"]["weight_decay"]) == (
        "standard",
        "standard",
        1e-4,
    )
    assert "chose stem standard for 160 px images" in capsys.readouterr().out


def test_a_class_without_validation_images_a_warmup_longer_than_the_run_and_a_run_in_memory_are_said(tmp_path, capsys):
    train_csv = make_labelled_set(str(tmp_path), num_classes=3, per_class=4, size=40)
    val_csv = make_labelled_set(str(tmp_path / "v"), num_classes=2, per_class=2, size=40, name="val.csv")
    run = f"ram://memory-run-{time.monotonic_ns()}"  # gone when the process ends
    args = ["--train-csv", train_csv, "--val-csv", val_csv, "--logdir", run, *TINY]
    assert train.main([*args, "--batch-size", "4", "--max-steps", "2", "--warmup-steps", "5"]) == 0
    out, err = capsys.readouterr()
    assert "1 classes have no validation images, so validation cannot tell how well they are learnt: 2" in out + err
    assert "--warmup-steps 5 is as long as the run's 2 steps or longer" in out + err
    warned = [i for i, line in enumerate(out.splitlines()) if line.startswith(f"warning: --logdir {run} is in this")]
    assert warned and warned[0] < 5 and "(ram://)" in out  # among the first lines, beside the run's summary
    assert "tensorboard --logdir" not in out  # no command to open what will be gone
