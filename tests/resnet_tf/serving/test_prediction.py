"""Tests of predict.py: the same answer from a run and from its export, unreadable files listed."""

import json
import os
import shutil

import pandas as pd

import predict
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
    assert (run.loc[decoded, "probability"].astype(float) - export.loc[decoded, "probability"].astype(float)).abs().max() < 1e-4


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
