"""Tests of the synthetic demo data set."""

import csv
import os

import numpy as np

from data_utils.csv_table import read_image_csv
from data_utils.demo import class_table, main, make_demo_dataset, render


def test_demo_set_is_complete_and_readable(demo_data):
    train_csv, val_csv = demo_data
    train, val = read_image_csv(train_csv), read_image_csv(val_csv, mapping=read_image_csv(train_csv).mapping)
    assert train.mapping.kind == "name" and train.mapping.num_classes == 6
    assert (train.class_counts() == 16).all() and (val.class_counts() == 4).all()
    assert {os.path.splitext(p)[1] for p in train.paths} == {".jpg", ".png"}


def test_deterministic_from_seed(tmp_path):
    a = make_demo_dataset(str(tmp_path / "a"), 3, 5, 32, seed=1, show_progress=False)
    b = make_demo_dataset(str(tmp_path / "b"), 3, 5, 32, seed=1, show_progress=False)
    for rel in ("images/red_circle/0000.jpg", "images/red_triangle/0004.png"):
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes()
    with open(a[0]) as fa, open(b[0]) as fb:
        assert fa.read() == fb.read()


def test_classes_are_distinct_and_views_vary():
    classes = class_table(51)
    assert len({c.name for c in classes}) == 51
    assert len({(c.shape, c.hue, c.texture) for c in classes}) == 51
    images = [render(classes[0], 48, np.random.default_rng(i)).astype(float) for i in range(2)]
    assert np.abs(images[0] - images[1]).mean() > 10  # lighting, viewpoint and background change


def test_cli_rejects_bad_options_and_an_output_that_is_a_file(tmp_path, capsys):
    assert main(["--out", str(tmp_path), "--classes", "99"]) == 2
    assert "error: --classes must be in 1..54" in capsys.readouterr().err
    (tmp_path / "a_file").write_text("x")
    assert main(["--out", str(tmp_path / "a_file"), "--classes", "2", "--per-class", "3", "--size", "24"]) == 2
    assert f"error: cannot write {tmp_path / 'a_file'}" in capsys.readouterr().err
    assert main(["--out", str(tmp_path / "ok"), "--classes", "2", "--per-class", "3", "--size", "24"]) == 0
    with open(tmp_path / "ok" / "train.csv") as f:
        assert next(csv.reader(f)) == ["path", "label"]


def test_a_folder_holding_csvs_is_never_written_over(tmp_path, capsys):
    (tmp_path / "train.csv").write_text("path,label\nmine.jpg,cat\n")
    assert main(["--out", str(tmp_path), "--classes", "2", "--per-class", "3", "--size", "24"]) == 2
    assert "train.csv already exists; the demo writes only new files" in capsys.readouterr().err
    assert (tmp_path / "train.csv").read_text() == "path,label\nmine.jpg,cat\n" and not (tmp_path / "images").exists()
