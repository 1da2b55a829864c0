"""Tests of predict.py: the same answer from a run and from its export, unreadable files listed."""

import json
import os
import shutil

import numpy as np
import pandas as pd
import pytest

import predict
from resnet_tf.console.logs import setup_logging
from resnet_tf.serving.prediction import Scored, log_table, top_k_table
from tests.helpers import write_csv


def image_folder(demo_data, folder):
    """Ten validation images of the demo set, a broken JPEG and a text file."""
    os.makedirs(folder / "sub")
    rows = pd.read_csv(demo_data[1])
    for rel in rows["path"][:10]:
        shutil.copy(os.path.join(os.path.dirname(demo_data[1]), rel), folder / "sub" / rel.replace("/", "_"))
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff not really a JPEG \xff\xd9")
    (folder / "readme.txt").write_text("not an image")
    return folder


def test_run_and_export_give_the_same_predictions(trained_run, exported_run, demo_data, tmp_path, capsys):
    folder = image_folder(demo_data, tmp_path / "images")
    answers = {}
    for name, source in (("run", ["--logdir", str(trained_run)]), ("export", ["--saved-model", str(exported_run)])):
        out = tmp_path / f"{name}.csv"
        assert predict.main([*source, str(folder), "--top-k", "3", "--out", str(out)]) == 0
        answers[name] = pd.read_csv(out, keep_default_na=False)
        printed = capsys.readouterr()
        assert "top classes (probability)" in printed.out and "1 files could not be used" in printed.out
        assert "broken.jpg" in printed.out and "readme.txt" not in printed.out + printed.err
    run, export = answers["run"], answers["export"]
    assert len(run) == len(export) == 11 and run["path"].tolist() == export["path"].tolist()
    decoded = run["error"] == ""
    assert decoded.sum() == 10 and (export["error"] != "").tolist() == (~decoded).tolist()
    assert run["predicted"].tolist() == export["predicted"].tolist()
    assert all(len(json.loads(k)) == 3 for k in run.loc[decoded, "top_k"])
    assert (
        run.loc[decoded, "probability"].astype(float) - export.loc[decoded, "probability"].astype(float)
    ).abs().max() < 1e-4


def test_csv_input_and_errors(trained_run, demo_data, tmp_path, capsys):
    folder = os.path.dirname(demo_data[1])
    rows = [(os.path.join(folder, p),) for p in pd.read_csv(demo_data[1])["path"][:3]] + [("nowhere.png",)]
    listing = write_csv(str(tmp_path / "list.csv"), rows, header=("path",))
    out = tmp_path / "p.csv"
    assert predict.main(["--logdir", str(trained_run), listing, "--out", str(out)]) == 0
    table = pd.read_csv(out, keep_default_na=False)
    assert table["predicted"].tolist()[:3] != ["", "", ""] and "image file not found" in table["error"].iloc[3]
    capsys.readouterr()
    assert predict.main(["--logdir", str(trained_run), str(tmp_path / "nothing_here.jpg")]) == 2
    assert "no image files found" in capsys.readouterr().err


def test_the_top_k_columns_read_back_any_class_name_and_the_console_escapes_it(capsys):
    names = ["cup, red", "knife|steel", "two\nlines"]
    scored = Scored(names, np.array([[0.2, 0.1, 0.7], [np.nan] * 3], np.float32), {"b.png": "cannot read"})
    table = top_k_table(["a.png", "b.png"], scored, 2)
    assert json.loads(table["top_k"][0]) == ["two\nlines", "cup, red"] and table["predicted"][0] == "two\nlines"
    assert json.loads(table["top_k_probabilities"][0]) == pytest.approx([0.7, 0.2])
    assert table["top_k"][1] == "" and table["error"][1] == "cannot read"
    setup_logging("predict")
    log_table(table, [])
    out = capsys.readouterr().out
    assert "two\\nlines 0.700  cup, red 0.200" in out and "two\nlines" not in out
