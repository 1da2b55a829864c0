"""Tests of a run's data: the CSVs a run makes from a folder of class folders, read again on resume."""

import json

import cv2
import pandas as pd
import pytest

import train
from tests.helpers import TINY, label_image


@pytest.mark.slow
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
