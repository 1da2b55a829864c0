"""Tests of the folder-to-CSV tool: stratified seeded split, kept train/val layouts, links, refusals."""

import os

import cv2
import numpy as np
import pandas as pd
import pytest

from data_utils.csv_table import read_image_csv
from data_utils.make_csv import FolderError, main, make_csvs, split_class
from tests.helpers import help_without_heavy_imports


def write_images(folder, names, value: int = 0):
    os.makedirs(folder, exist_ok=True)
    for name in names:
        cv2.imwrite(os.path.join(folder, name), np.full((8, 10, 3), value, np.uint8))


@pytest.fixture
def photos(tmp_path):
    """ROOT/<class>/: cat 10 images (one in a subfolder), dog 5, owl 2, bat 1, and files that are not images."""
    root = tmp_path / "photos"
    write_images(root / "cat", [f"c{i}.jpg" for i in range(9)])
    write_images(root / "cat" / "indoor", ["c9.png"])
    write_images(root / "dog", [f"d{i}.PNG" for i in range(5)], 50)
    write_images(root / "owl", ["o0.bmp", "o1.jpeg"], 100)
    write_images(root / "bat", ["b0.jpg"], 150)
    (root / "cat" / "notes.txt").write_text("not an image")
    (root / ".DS_Store").write_bytes(b"\0")
    write_images(root, ["loose.jpg"])
    return root


def test_each_class_is_split_with_at_least_one_validation_image(photos, tmp_path, capsys):
    out = tmp_path / "csv"
    assert main([str(photos), "--out", str(out), "--val-fraction", "0.2", "--seed", "0"]) == 0
    written = {s: str(out / f"{s}.csv") for s in ("train", "val")}
    train, val = (pd.read_csv(written[s]) for s in ("train", "val"))
    counts = {s: df["label"].value_counts().to_dict() for s, df in (("train", train), ("val", val))}
    assert counts["val"] == {"cat": 2, "dog": 1, "owl": 1}  # 0.2 of 10 and 5; at least one of 2; none of 1
    assert counts["train"] == {"cat": 8, "dog": 4, "owl": 1, "bat": 1}
    assert not set(train["path"]) & set(val["path"])
    assert all(not os.path.isabs(p) for p in train["path"])  # relative to the CSVs' folder
    # the CSVs load as they are: every path resolves, labels are the class names
    table = read_image_csv(written["train"])
    assert sorted(table.mapping.names) == ["bat", "cat", "dog", "owl"] and all(os.path.isfile(p) for p in table.paths)
    assert read_image_csv(written["val"], mapping=table.mapping).labels.tolist()
    out_text = capsys.readouterr().out
    assert "skipped 2 files that are not images" in out_text
    assert "1 images lie directly in" in out_text and "bat" in out_text and "(no validation image)" in out_text


def test_the_split_follows_the_seed_and_each_class_on_its_own():
    paths = [f"p{i}.jpg" for i in range(20)]
    first, again, other = (split_class(paths, 0.25, seed, "cat") for seed in (0, 0, 1))
    assert first == again and first != other and len(first[1]) == 5
    assert split_class(paths, 0.25, 0, "dog") != first  # another class name: another order
    kept = set(first[0])
    assert first[0] == [p for p in paths if p in kept] and kept | set(first[1]) == set(paths)  # order kept


def test_an_existing_train_val_layout_is_kept(tmp_path):
    root = tmp_path / "set"
    write_images(root / "train" / "a", ["1.jpg", "2.jpg"])
    write_images(root / "train" / "b", ["3.jpg"])
    write_images(root / "validation" / "a", ["4.jpg"])
    written = make_csvs(str(root), str(tmp_path / "out"))
    val = pd.read_csv(written["val"])
    assert val["path"].tolist() == [os.path.join("..", "set", "validation", "a", "4.jpg")]
    assert len(pd.read_csv(written["train"])) == 3
    write_images(root / "validation" / "zebra", ["5.jpg"])
    with pytest.raises(FolderError, match="classes with no folder in .*train: zebra"):
        make_csvs(str(root), str(tmp_path / "out2"))


def test_links_are_followed_once_and_csvs_are_never_overwritten(photos, tmp_path, capsys):
    os.symlink(photos / "cat", photos / "cat" / "loop")  # a loop back to the class folder
    os.symlink(photos / "cat" / "c0.jpg", photos / "cat" / "again.jpg")  # one file, two names, one class
    written = make_csvs(str(photos), str(tmp_path / "csv"))
    rows = pd.concat([pd.read_csv(written[s]) for s in ("train", "val")])
    assert (rows["label"] == "cat").sum() == 10
    before = open(written["train"]).read()
    assert main([str(photos), "--out", str(tmp_path / "csv")]) == 2
    assert "already exists; remove it or choose another --out" in capsys.readouterr().err
    assert open(written["train"]).read() == before
    (tmp_path / "a_file").write_text("mine")
    assert main([str(photos), "--out", str(tmp_path / "a_file")]) == 2  # once a traceback
    assert "error: --out " + str(tmp_path / "a_file") + " is a file" in capsys.readouterr().err
    assert (tmp_path / "a_file").read_text() == "mine"


@pytest.mark.parametrize(
    "make,message",
    [
        (lambda root: None, "not a folder"),
        (lambda root: write_images(root / "empty_class", []), "no images in class folders"),
        (lambda root: write_images(root / "cat", ["a.jpg", "b.jpg"]), "images of one class only (cat)"),
    ],
)
def test_folders_that_hold_no_classes_are_clear_errors(tmp_path, make, message, capsys):
    root = tmp_path / "root"
    make(root)
    assert main([str(root), "--out", str(tmp_path / "out")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
    with pytest.raises(FolderError, match="--val-fraction must be a number in \\(0, 1\\)"):
        make_csvs(str(tmp_path), str(tmp_path / "out"), val_fraction=1.0)


def test_help_loads_no_tensorflow_opencv_or_pandas():
    assert "--val-fraction" in help_without_heavy_imports("data_utils.make_csv")


def test_a_file_reachable_under_two_classes_is_refused_naming_both_paths(photos, tmp_path, capsys):
    os.symlink(photos / "dog", photos / "cat" / "dog_link")  # the dogs would also be cats
    assert main([str(photos), "--out", str(tmp_path / "csv")]) == 2
    err = capsys.readouterr().err
    assert "5 image files are in two class folders (symbolic links)" in err
    assert f"{photos / 'cat' / 'dog_link' / 'd0.PNG'} (cat) and {photos / 'dog' / 'd0.PNG'} (dog)" in err
    os.remove(photos / "cat" / "dog_link")
    os.symlink(photos, photos / "bat" / "root")  # every class again under bat
    assert main([str(photos), "--out", str(tmp_path / "csv")]) == 2
    assert "image files are in two class folders" in capsys.readouterr().err and not (tmp_path / "csv").exists()
