"""End-to-end tests of train.py and evaluate.py on a tiny generated data set."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import cv2
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

import evaluate
import train
from resnet_tf.evaluation import evaluate_run
from resnet_tf.runs import config_file
from resnet_tf.training import run as run_module
from resnet_tf.runs.builders import build_model
from tests.helpers import (final_weights, label_image, make_labelled_set, scalars, start_trainer, tensor_values,
                      train_args, TINY)
from resnet_tf.runs.checkpoints import variable_key


def test_event_files_hold_train_and_val_curves(trained_run):
    train_events = scalars(str(trained_run / "train"))
    for tag in ("loss", "accuracy", "learning_rate", "images_per_sec"):
        values = tensor_values(train_events, tag)
        assert [s for s, _ in values] == [2, 4, 6, 8], tag
        assert all(np.isfinite(v) for _, v in values)
    assert "input_images" in train_events.Tags()["tensors"]
    assert train_events.SummaryMetadata("train_step").plugin_data.plugin_name == "graph_run_metadata_graph"
    val_events = scalars(str(trained_run / "val"))
    for tag in ("loss", "accuracy", "top5_accuracy"):
        values = tensor_values(val_events, tag)
        assert [s for s, _ in values] == [6, 8] and all(0 <= v < 100 for _, v in values), tag  # every epoch, the end


def test_every_validation_shows_the_confusion_matrix_mistakes_and_per_class_accuracy(trained_run):
    val = scalars(str(trained_run / "val"))
    for tag in ("confusion_matrix", "misclassified"):
        events = val.Tensors(tag)
        assert [e.step for e in events] == [6, 8], tag
        width, height, png = tf.make_ndarray(events[-1].tensor_proto)
        image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
        assert image.shape == (int(height), int(width), 3) and min(image.shape[:2]) > 100, tag
        assert image.std() > 10  # a picture, not a blank
    table = tf.make_ndarray(val.Tensors("per_class_accuracy")[-1].tensor_proto).item().decode()
    assert table.startswith("| class | images | accuracy |") and len(table.splitlines()) == 2 + 6
    assert sum(int(line.split("|")[2]) for line in table.splitlines()[2:]) == 24  # every validation image
    best = tensor_values(val, "best_accuracy")
    assert best[-1][1] == max(v for _, v in tensor_values(val, "accuracy"))


def test_the_run_records_its_settings_for_the_hparams_tab(trained_run):
    from tensorboard.plugins.hparams import metadata
    run = scalars(str(trained_run))  # the run folder itself: one HParams session per run
    plugin = run.SummaryMetadata(metadata.SESSION_START_INFO_TAG).plugin_data
    assert plugin.plugin_name == metadata.PLUGIN_NAME
    hparams = metadata.parse_session_start_info_plugin_data(plugin.content).hparams
    assert hparams["arch"].string_value == "resnet18" and hparams["width"].number_value == 4
    assert hparams["stem"].string_value == "standard" and hparams["augment"].string_value == "none"
    assert "logdir" not in hparams and "num_classes" in hparams


def test_the_profiled_steps_leave_a_trace_for_the_profile_tab(trained_run):
    from tensorflow.tsl.profiler.protobuf import xplane_pb2
    traces = list((trained_run / "train" / "plugins" / "profile").glob("*/*.xplane.pb"))
    assert len(traces) == 1  # where TensorBoard's Profile tab looks for the run "train"
    space = xplane_pb2.XSpace.FromString(traces[0].read_bytes())
    steps = []
    for plane in space.planes:
        stat_names = {k: v.name for k, v in plane.stat_metadata.items()}
        for line in plane.lines:
            for event in line.events:
                if plane.event_metadata[event.metadata_id].name == "train":
                    steps += [s.int64_value for s in event.stats if stat_names[s.metadata_id] == "step_num"]
    assert steps == [3, 4]
    assert "profiled steps 3-4 into" in (trained_run / "train.log").read_text()


def test_history_has_a_row_per_validation(trained_run):
    history = pd.read_csv(trained_run / "history.csv")
    assert list(history.columns) == ["step", "epoch", "train_loss", "train_accuracy", "val_loss", "val_top1",
                                     "val_top5", "learning_rate", "time"]
    assert history["step"].tolist() == [6, 8] and history["epoch"].tolist() == pytest.approx([1.0, 8 / 6], abs=1e-5)
    val = scalars(str(trained_run / "val"))
    for column, tag in (("val_loss", "loss"), ("val_top1", "accuracy"), ("val_top5", "top5_accuracy")):
        assert history[column].tolist() == pytest.approx([v for _, v in tensor_values(val, tag)], rel=1e-5)
    # the training columns cover the steps since the previous validation: here the mean of the logged intervals
    logged = dict(tensor_values(scalars(str(trained_run / "train")), "loss"))
    assert history["train_loss"][1] == pytest.approx(logged[8], rel=1e-5)  # steps 7-8: one log interval (2 steps)
    assert history["learning_rate"].tolist() == pytest.approx(
        [v for s, v in tensor_values(scalars(str(trained_run / "train")), "learning_rate") if s in (6, 8)], rel=1e-5)
    assert pd.to_datetime(history["time"]).is_monotonic_increasing


def test_checkpoints_config_and_evaluate(trained_run, demo_data, capsys):
    assert tf.train.latest_checkpoint(str(trained_run / "checkpoints")).endswith("ckpt-8")
    assert tf.train.latest_checkpoint(str(trained_run / "best")) is not None
    saved = json.loads((trained_run / "config.json").read_text())
    assert saved["config"]["arch"] == "resnet18" and saved["classes"]["kind"] == "name"
    assert len(saved["classes"]["names"]) == 6

    out = trained_run / "eval_out"
    assert evaluate.main(["--logdir", str(trained_run), "--csv", demo_data[1], "--checkpoint", "latest",
                          "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    predictions = pd.read_csv(out / "predictions.csv")
    assert metrics["num_examples"] == len(predictions) == 24 and metrics["step"] == 8
    assert metrics["top1"] == pytest.approx((predictions["label"] == predictions["predicted"]).mean())
    top5_hit = [label in json.loads(top5) for label, top5 in zip(predictions["label"], predictions["top5"])]
    assert metrics["top5"] == pytest.approx(np.mean(top5_hit))
    matrix = pd.read_csv(out / "confusion_matrix.csv", index_col=0)
    assert matrix.values.sum() == 24 and np.trace(matrix.values) == round(metrics["top1"] * 24)
    assert (out / "confusion_matrix.png").stat().st_size > 10_000
    assert len(pd.read_csv(out / "per_class.csv")) == 6
    assert "top-1" in capsys.readouterr().out


def test_evaluate_errors_and_prediction_only(trained_run, demo_data, tmp_path, capsys):
    assert evaluate.main(["--logdir", str(tmp_path), "--csv", demo_data[1]]) == 2
    assert "no config.json" in capsys.readouterr().err
    assert evaluate.main(["--logdir", str(trained_run), "--csv", demo_data[1], "--checkpoint", "/nope/ckpt-1"]) == 2
    assert "checkpoint not found" in capsys.readouterr().err
    unknown = tmp_path / "unknown.csv"
    first = pd.read_csv(demo_data[1])["path"][0]
    unknown.write_text(f"path,label\n{os.path.join(os.path.dirname(demo_data[1]), first)},purple_blob\n")
    assert evaluate.main(["--logdir", str(trained_run), "--csv", str(unknown)]) == 2
    err = capsys.readouterr().err
    assert "unknown class 'purple_blob'" in err and "pass --skip-bad-rows to skip them" in err and "train" not in err
    unlabeled = tmp_path / "paths.csv"
    rows = pd.read_csv(demo_data[1])
    pd.DataFrame({"path": [os.path.join(os.path.dirname(demo_data[1]), p) for p in rows["path"][:5]]}).to_csv(unlabeled, index=False)
    assert evaluate.main(["--logdir", str(trained_run), "--csv", str(unlabeled), "--out", str(tmp_path / "o")]) == 0
    assert len(pd.read_csv(tmp_path / "o" / "predictions.csv")) == 5 and not (tmp_path / "o" / "metrics.json").exists()


def test_the_log_file_holds_the_console_and_piped_output_gets_step_lines(trained_run):
    log = (trained_run / "train.log").read_text()
    first_start = log.split("done: 8 steps")[0]
    for line in ("INFO chose no augmentation for 32 px images", "INFO resnet18 width 4, standard stem",
                 "INFO step 2/8: loss", "INFO step 6: val loss", "INFO step 8/8: loss"):
        assert line in first_start  # the lines before the log file opened, and one line per --log-every
    assert "SUMMARY done: 8 steps" in log and "\r" not in log and "step/s" not in log  # no progress bars


def test_finished_run_says_complete_and_conflicts_are_errors(trained_run, capsys):
    assert train.main(["--logdir", str(trained_run)]) == 0
    assert "run complete: step 8/8" in capsys.readouterr().out
    assert train.main(["--logdir", str(trained_run), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("run complete: step 8/8") and out.count("\n") == 1  # only the summary
    assert (trained_run / "train.log").read_text().count("run complete: step 8/8") >= 2  # the file gets it all
    assert train.main(["--logdir", str(trained_run), "--arch", "resnet34"]) == 2
    assert "conflicts with the saved run" in capsys.readouterr().err


def test_bad_options_and_bad_csv_are_clear_errors(demo_data, tmp_path, capsys):
    assert train.main(train_args(demo_data, tmp_path / "a", "--image-size", "16")) == 2
    assert "--image-size must be at least 32" in capsys.readouterr().err
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


def test_sigterm_saves_the_current_step_and_resume_matches_uninterrupted_run(demo_data, tmp_path):
    args = train_args(demo_data, tmp_path / "straight", "--max-steps", "30", "--ckpt-every", "100",
                      "--eval-every", "100", "--deterministic", "--log-every", "1")
    assert train.main(args) == 0
    resumed_dir = tmp_path / "resumed"
    resumed_args = [a if a != str(tmp_path / "straight") else str(resumed_dir) for a in args]
    proc = start_trainer(resumed_args)
    deadline = time.time() + 120
    while time.time() < deadline and not (resumed_dir / "train").is_dir():
        time.sleep(0.2)
    time.sleep(1.5)  # a few steps into training
    proc.send_signal(signal.SIGTERM)
    output, _ = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM, output
    assert "interrupted by SIGTERM at step" in output
    stopped_at = int(output.split("interrupted by SIGTERM at step ")[1].split(":")[0])
    assert 0 < stopped_at < 30
    assert tf.train.latest_checkpoint(str(resumed_dir / "checkpoints")).endswith(f"ckpt-{stopped_at}")
    assert train.main(["--logdir", str(resumed_dir)]) == 0
    straight, resumed = final_weights(tmp_path / "straight"), final_weights(resumed_dir)
    assert straight.keys() == resumed.keys() and len(straight) > 2 * 122  # weights, BN stats, Adam slots
    for key in straight:
        np.testing.assert_array_equal(straight[key], resumed[key], err_msg=key)


def test_nan_loss_stops_with_the_step_named(demo_data, tmp_path, capsys):
    assert train.main(train_args(demo_data, tmp_path / "nan", "--max-steps", "20", "--lr", "1e12",
                                 "--optimizer", "sgd")) == 2
    err = capsys.readouterr().err
    assert "became NaN/Inf at step" in err


def test_tensorboard_serves_the_curves_reports_and_hparams_of_the_runs_folder(trained_run):
    # As a user starts it: on the folder of runs, so the run is "e2e" and its parts "e2e/train", "e2e/val".
    proc = subprocess.Popen([sys.executable, "-m", "tensorboard.main", "--logdir", str(trained_run.parent), "--port", "0",
                             "--host", "127.0.0.1"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        url = None
        deadline = time.time() + 90
        while url is None and time.time() < deadline:
            line = proc.stdout.readline()
            if "http://" in line:
                url = line[line.index("http://"):].split()[0].rstrip("/")
        assert url, "tensorboard did not start"
        data = None
        while time.time() < deadline:
            with urllib.request.urlopen(f"{url}/data/plugin/scalars/tags", timeout=10) as response:
                data = json.loads(response.read())
            if "loss" in data.get("e2e/val", {}):
                break
            time.sleep(1)
        assert {"loss", "accuracy"} <= set(data["e2e/train"]) and {"loss", "accuracy", "top5_accuracy"} <= set(data["e2e/val"])
        with urllib.request.urlopen(f"{url}/data/plugin/scalars/scalars?run=e2e/val&tag=accuracy", timeout=10) as response:
            points = json.loads(response.read())
        assert [p[1] for p in points] == [6, 8]
        with urllib.request.urlopen(f"{url}/data/plugin/images/tags", timeout=10) as response:
            assert {"confusion_matrix", "misclassified"} <= set(json.loads(response.read())["e2e/val"])
        with urllib.request.urlopen(f"{url}/data/plugin/text/tags", timeout=10) as response:
            assert "per_class_accuracy" in json.loads(response.read())["e2e/val"]
        request = urllib.request.Request(f"{url}/data/plugin/hparams/experiment", data=b'{"experimentName": ""}',
                                         headers={"Content-Type": "application/json", "X-XSRF-Protected": "1"})
        with urllib.request.urlopen(request, timeout=30) as response:
            experiment = json.loads(response.read())
        assert {"arch", "width", "stem", "lr"} <= {h["name"] for h in experiment["hparamInfos"]}
        assert {"group": "val", "tag": "accuracy"} in [m["name"] for m in experiment["metricInfos"]]
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_init_from_checkpoint_reinitializes_a_head_of_another_size(tmp_path, capsys):
    train_csv = make_labelled_set(str(tmp_path), num_classes=3, per_class=6, size=40)
    base = ["--train-csv", train_csv, "--val-csv", train_csv, *TINY, "--batch-size", "6", "--max-steps", "2"]
    assert train.main([*base, "--logdir", str(tmp_path / "a")]) == 0
    def model_variable(run, *path):
        prefix = tf.train.latest_checkpoint(str(tmp_path / run / "checkpoints"))
        return tf.train.load_checkpoint(prefix).get_tensor(variable_key(prefix, ["model", *path]))

    stem = model_variable("a", "stem", "conv", "w")
    capsys.readouterr()
    assert train.main([*base, "--logdir", str(tmp_path / "b"), "--num-classes", "5", "--init-from",
                       str(tmp_path / "a"), "--lr", "1e-9", "--max-steps", "1"]) == 0
    out = capsys.readouterr().out
    assert "except the head (3 classes there, 5 here: re-initialized)" in out
    assert "warning: 2 classes have no training images: 3, 4" in out and "3: 0/0 (EMPTY)" in out
    np.testing.assert_allclose(model_variable("b", "stem", "conv", "w"), stem, atol=1e-6)
    assert model_variable("b", "logits", "w").shape == (32, 5)


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


def test_a_nan_option_is_refused_before_training(demo_data, tmp_path, capsys):
    assert train.main(train_args(demo_data, tmp_path / "nan_lr", "--lr", "nan")) == 2
    assert "error: --lr must be a finite number, got nan" in capsys.readouterr().err
    assert not (tmp_path / "nan_lr").exists()


def test_weight_average_validates_and_frozen_stages_stay_fixed(tmp_path, capsys):
    train_csv = make_labelled_set(str(tmp_path), num_classes=3, per_class=6, size=40)
    logdir = tmp_path / "ema"
    assert train.main(["--train-csv", train_csv, "--val-csv", train_csv, "--logdir", str(logdir), *TINY,
                       "--batch-size", "6", "--max-steps", "6", "--eval-every", "3", "--optimizer", "sgd",
                       "--lr", "0.05", "--ema-decay", "0.5", "--freeze-stages", "1"]) == 0
    out = capsys.readouterr().out
    assert "weight average 0.5, stem and 1 stages frozen" in out
    assert "step 6: val loss" in out and out.split("step 6: val loss")[1].splitlines()[0].endswith("weight average")
    prefix = tf.train.latest_checkpoint(str(logdir / "checkpoints"))
    reader = tf.train.load_checkpoint(prefix)
    value = lambda *path: reader.get_tensor(variable_key(prefix, list(path)))  # noqa: E731
    initial = build_model(config_file.saved_run_config(config_file.load_saved(str(logdir)), str(logdir)))
    # the stem and stage 1 are frozen: as initialized, batch-norm statistics included
    np.testing.assert_array_equal(value("model", "stem", "conv", "w"), initial.stem.conv.w.numpy())
    np.testing.assert_array_equal(value("model", "stages", "0", "0", "convs", "0", "bn", "moving_mean"),
                                  initial.stages[0][0].convs[0].bn.moving_mean.numpy())
    assert not np.array_equal(value("model", "logits", "w"), initial.logits.w.numpy())
    # the average lags the weights; evaluate.py scores it (the checkpoint's network)
    assert not np.array_equal(value("average", "logits", "w"), value("model", "logits", "w"))
    assert evaluate.main(["--logdir", str(logdir), "--csv", train_csv, "--checkpoint", "latest",
                          "--out", str(tmp_path / "eval")]) == 0
    # validation scored the same network as evaluate.py: the same loss (a chance-level top-1 would not tell)
    val = {tag: tensor_values(scalars(str(logdir / "val")), tag)[-1] for tag in ("accuracy", "loss")}
    metrics = json.load(open(tmp_path / "eval" / "metrics.json"))
    assert val["loss"][0] == 6 and metrics["loss"] == pytest.approx(val["loss"][1], rel=1e-5)
    assert metrics["top1"] == pytest.approx(val["accuracy"][1], abs=1e-6)


def test_early_stopping_names_the_reason_and_a_rerun_does_not_continue(tmp_path, capsys):
    train_csv = make_labelled_set(str(tmp_path), num_classes=3, per_class=6, size=40)
    # everything frozen but the head, which a learning rate of 1e-9 leaves as it is: no validation improves
    args = ["--train-csv", train_csv, "--val-csv", train_csv, "--logdir", str(tmp_path / "run"), *TINY,
            "--batch-size", "6", "--max-steps", "20", "--eval-every", "2", "--lr", "1e-9", "--freeze-stages", "4",
            "--early-stop-patience", "1"]
    assert train.main(args) == 0
    out = capsys.readouterr().out
    assert "stopped early at step 4/20: no better val accuracy in the last 1 validations" in out
    assert tf.train.latest_checkpoint(str(tmp_path / "run" / "checkpoints")).endswith("ckpt-4")
    assert train.main(args) == 0
    assert "run complete: stopped early at step 4" in capsys.readouterr().out


def test_a_folder_of_class_folders_trains_and_resumes_on_the_same_split(tmp_path, capsys):
    root = tmp_path / "photos"
    for label, name in enumerate(("cup", "knife", "spoon")):
        (root / name).mkdir(parents=True)
        for i in range(8):
            cv2.imwrite(str(root / name / f"{i}.png"), label_image(label, 40))
    logdir = tmp_path / "run"
    args = ["--image-dir", str(root), "--logdir", str(logdir), *TINY, "--batch-size", "6", "--eval-every", "100"]
    assert train.main([*args, "--max-steps", "2", "--val-fraction", "0.25"]) == 0
    out = capsys.readouterr().out
    assert "photos: 3 classes (split each class)" in out and "cup: 6/2" in out
    split = {s: pd.read_csv(logdir / "data" / f"{s}.csv") for s in ("train", "val")}
    assert split["train"]["label"].value_counts().to_dict() == {"cup": 6, "knife": 6, "spoon": 6}
    assert json.load(open(logdir / "config.json"))["classes"]["names"] == ["cup", "knife", "spoon"]
    (root / "cup" / "new.png").write_bytes((root / "cup" / "0.png").read_bytes())
    before = (logdir / "data" / "train.csv").read_text()
    assert train.main(["--logdir", str(logdir), "--max-steps", "3"]) == 0  # resumes on the data it started with
    assert "ckpt-2 at step 2/3" in capsys.readouterr().out
    assert (logdir / "data" / "train.csv").read_text() == before
    assert train.main([*args, "--logdir", str(tmp_path / "both"), "--train-csv", "x.csv", "--val-csv", "y.csv"]) == 2
    assert "--image-dir makes the CSVs" in capsys.readouterr().err
