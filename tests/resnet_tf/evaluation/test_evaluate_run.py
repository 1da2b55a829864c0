"""Tests of evaluate.py's work: a run's checkpoint scored on a CSV, the files it writes, its errors."""

import json
import os

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

import evaluate
from data_utils.csv_table import ClassMapping, ImageTable
from resnet_tf.evaluation.evaluate_run import output_folder, write_predictions


def test_checkpoints_config_and_evaluate(trained_run, demo_data, capsys):
    assert tf.train.latest_checkpoint(str(trained_run / "checkpoints")).endswith("ckpt-8")
    assert tf.train.latest_checkpoint(str(trained_run / "best")) is not None
    saved = json.loads((trained_run / "config.json").read_text())
    assert saved["config"]["network"]["arch"] == "resnet10" and saved["classes"]["kind"] == "name"
    assert len(saved["classes"]["names"]) == 6

    out = trained_run / "eval_out"
    assert (
        evaluate.main(
            ["--logdir", str(trained_run), "--csv", demo_data[1], "--checkpoint", "latest", "--out", str(out)]
        )
        == 0
    )
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
    pd.DataFrame({"path": [os.path.join(os.path.dirname(demo_data[1]), p) for p in rows["path"][:5]]}).to_csv(
        unlabeled, index=False
    )
    assert evaluate.main(["--logdir", str(trained_run), "--csv", str(unlabeled), "--out", str(tmp_path / "o")]) == 0
    assert len(pd.read_csv(tmp_path / "o" / "predictions.csv")) == 5 and not (tmp_path / "o" / "metrics.json").exists()


def test_predictions_csv_lists_any_class_name_so_that_it_reads_back(tmp_path):
    names = ["cup, red", "knife|steel", 'say "hi"', "two\nlines", "<b>bold</b>", "Tasse à café"]
    table = ImageTable(
        "v.csv", [f"img/{i}.png" for i in range(3)], [2, 3, 4], np.array([0, 3, 1]), ClassMapping(names, "name")
    )
    probs = np.eye(6, dtype=np.float32)[[3, 1, 0]] * 0.5 + 0.05
    write_predictions(str(tmp_path / "predictions.csv"), table, table.mapping, probs, np.array([True, True, False]))
    rows = pd.read_csv(tmp_path / "predictions.csv", keep_default_na=False)
    assert rows["label"].tolist() == ["cup, red", "two\nlines", "knife|steel"]
    assert rows["predicted"].tolist() == ["two\nlines", "knife|steel", ""]
    assert json.loads(rows["top5"][0])[0] == "two\nlines" and len(json.loads(rows["top5"][1])) == 5
    assert set(json.loads(rows["top5"][0])) <= set(names) and rows["top5"][2] == ""


def test_results_are_never_written_over(tmp_path, trained_run, demo_data, capsys):
    first = output_folder(None, str(tmp_path), 8)
    assert first == str(tmp_path / "eval" / "8") and output_folder(None, str(tmp_path), 8) == first  # still empty
    (tmp_path / "eval" / "8" / "metrics.json").write_text("{}")
    second = output_folder(None, str(tmp_path), 8)
    assert second == str(tmp_path / "eval" / "8-2") and os.path.isdir(second)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    args = ["--logdir", str(trained_run), "--csv", demo_data[1], "--out", str(tmp_path / "mine")]
    assert evaluate.main(args) == 2
    assert "--out" in capsys.readouterr().err and (tmp_path / "mine" / "notes.txt").read_text() == "keep"
    assert os.listdir(tmp_path / "mine") == ["notes.txt"]


def test_evaluate_scores_with_the_runs_tta_or_the_one_given(trained_run, demo_data, tmp_path, capsys):
    own = json.loads((trained_run / "config.json").read_text())["config"]["data"]["tta"]
    other = {"none": "flip", "flip": "none"}[own]
    results = {}
    for tta in (None, other):
        out = tmp_path / str(tta)
        given = ["--tta", tta] if tta else []
        assert evaluate.main(["--logdir", str(trained_run), "--csv", demo_data[1], "--out", str(out), *given]) == 0
        metrics = json.loads((out / "metrics.json").read_text())
        predictions = pd.read_csv(out / "predictions.csv")
        assert metrics["top1"] == pytest.approx((predictions["label"] == predictions["predicted"]).mean())
        results[metrics["tta"]] = predictions["probability"].to_numpy()
        assert ("flip test-time augmentation" in capsys.readouterr().out) == ((tta or own) == "flip")
    assert set(results) == {"none", "flip"}  # the run's own, and the one given
    assert np.abs(results["none"] - results["flip"]).max() > 1e-4
