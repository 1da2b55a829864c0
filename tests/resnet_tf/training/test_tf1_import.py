"""import_tf1.py: a TF1 checkpoint becomes a run that evaluate.py scores as the original session did and that
train.py starts from."""

import json
import os
import pathlib

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

import evaluate
import export
import import_tf1
import train
from resnet_tf.runs.builders import load_model
from resnet_tf.runs.config import flattened
from resnet_tf.runs.config_file import load_run


def import_args(ckpt, logdir, *extra) -> list[str]:
    return [
        "--checkpoint",
        ckpt.prefix,
        "--logdir",
        str(logdir),
        "--image-size",
        str(ckpt.image_size),
        "--num-classes",
        str(ckpt.num_classes),
        *extra,
    ]  # depth and width: read from the checkpoint


@pytest.fixture(scope="session")
def imported_run(original_checkpoint, tmp_path_factory):
    logdir = tmp_path_factory.mktemp("imported") / "run"
    assert import_tf1.main(import_args(original_checkpoint, logdir, "--train-csv", original_checkpoint.csv)) == 0
    return logdir


def test_imported_run_records_the_originals_network_and_preprocessing(imported_run):
    saved = json.loads((imported_run / "config.json").read_text())
    cfg = flattened(saved["config"])
    assert (cfg["layout"], cfg["normalization"], cfg["resize"], cfg["loss"]) == (
        "original",
        "rgb_minus_bgr_means",
        "cubic",
        "sigmoid",
    )
    assert (cfg["arch"], cfg["width"], cfg["image_size"], cfg["num_classes"]) == ("resnet50", 8, 40, 5)
    assert saved["classes"] == {"names": ["0", "1", "2", "3", "4"], "kind": "index"}
    assert tf.train.latest_checkpoint(str(imported_run / "checkpoints")).endswith("ckpt-0")


def test_evaluate_scores_jpegs_as_the_original_session(imported_run, original_checkpoint, tmp_path):
    session_top1 = original_checkpoint.logits.argmax(axis=1)
    assert len(set(session_top1)) >= 3  # the images do not all land in one class: preprocessing matters
    out = tmp_path / "eval"
    assert evaluate.main(["--logdir", str(imported_run), "--csv", original_checkpoint.csv, "--out", str(out)]) == 0
    preds = pd.read_csv(out / "predictions.csv")
    np.testing.assert_array_equal(preds["predicted"].astype(int), session_top1)
    sigmoid_top = 1 / (1 + np.exp(-original_checkpoint.logits.max(axis=1)))
    np.testing.assert_allclose(preds["probability"], sigmoid_top, rtol=1e-4, atol=1e-6)


def test_exported_import_serves_jpegs_as_the_original_session(imported_run, original_checkpoint, tmp_path):
    out = tmp_path / "export"
    assert export.main(["--logdir", str(imported_run), "--out", str(out), "--top-k", "1"]) == 0
    paths = pd.read_csv(original_checkpoint.csv)["path"]
    folder = os.path.dirname(original_checkpoint.csv)
    encoded = [pathlib.Path(folder, p).read_bytes() for p in paths]
    served = tf.saved_model.load(str(out)).signatures["serving_default"](image_bytes=tf.constant(encoded))
    np.testing.assert_array_equal(served["class_ids"].numpy()[:, 0], original_checkpoint.logits.argmax(axis=1))


def test_bad_imports_exit_with_the_reason_and_write_nothing(original_checkpoint, imported_run, tmp_path, capsys):
    logdir = tmp_path / "runs" / "wrong"
    args = import_args(original_checkpoint, logdir)
    args[args.index("--num-classes") + 1] = "7"
    assert import_tf1.main(args) == 2
    err = capsys.readouterr().err
    assert "wrong shape: fc1/b (checkpoint [5], model [7])" in err and "Traceback" not in err
    assert not os.path.exists(tmp_path / "runs") or os.listdir(tmp_path / "runs") == []
    assert import_tf1.main(import_args(original_checkpoint, imported_run)) == 2
    assert "exists and is not empty" in capsys.readouterr().err


@pytest.mark.slow
def test_training_from_the_import_with_frozen_batch_norm_keeps_its_statistics(
    imported_run, original_checkpoint, tmp_path, capsys
):
    logdir = tmp_path / "finetuned"
    csv = original_checkpoint.csv
    assert (
        train.main(
            [
                "--init-from",
                str(imported_run),
                "--logdir",
                str(logdir),
                "--train-csv",
                csv,
                "--val-csv",
                csv,
                "--freeze-bn",
                "--max-steps",
                "2",
                "--batch-size",
                "4",
                "--no-augment",
            ]
        )
        == 0
    )
    assert "layout=original" in capsys.readouterr().out  # taken from the imported run
    cfg = flattened(json.loads((logdir / "config.json").read_text())["config"])
    assert (cfg["layout"], cfg["image_size"], cfg["normalization"], cfg["resize"]) == (
        "original",
        40,
        "rgb_minus_bgr_means",
        "cubic",
    )
    imported, _, _ = load_model(load_run(str(imported_run)), "latest")
    tuned, step, _ = load_model(load_run(str(logdir)), "latest")
    assert step == 2
    statistics = [(a, b) for a, b in zip(imported.variables, tuned.variables) if "moving_" in a.name]
    assert len(statistics) == 2 * 53
    for a, b in statistics:
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    changed = [
        a.name
        for a, b in zip(imported.trainable_variables, tuned.trainable_variables)
        if not np.array_equal(a.numpy(), b.numpy())
    ]
    assert "resnet/stem/conv/bn/gamma:0" in changed and "resnet/logits/w:0" in changed
