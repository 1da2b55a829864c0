"""Tests of CSV reading and checking: every bad-input case is reported with its line and reason."""

import os

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data_utils.csv_table import ClassMapping, CsvColumns, RowChecks, read_image_csv
from data_utils.errors import DataError
from tests.helpers import label_image, logged, make_labelled_set, write_csv


def only_problem(err: DataError):
    assert len(err.problems) == 1, err.problems
    return err.problems[0]


def test_reads_header_relative_paths_and_integer_labels(labelled_csv):
    table = read_image_csv(labelled_csv)
    assert len(table) == 12 and table.mapping.kind == "index" and table.mapping.num_classes == 3
    assert all(os.path.isabs(p) and os.path.isfile(p) for p in table.paths)
    assert table.labels.tolist() == [0] * 4 + [1] * 4 + [2] * 4
    assert table.lines[0] == 2  # line 1 is the header
    np.testing.assert_array_equal(table.class_counts(), [4, 4, 4])


def test_headerless_two_columns_class_names_sorted_and_unicode_paths(tmp_path):
    folder = tmp_path / "données"
    folder.mkdir()
    for name in ("tasse rouge.png", "cuillère.png"):
        cv2.imencode(".png", label_image(1))[1].tofile(str(folder / name))
    csv_path = write_csv(
        str(tmp_path / "t.csv"),
        [("données/tasse rouge.png", "cup"), ("données/cuillère.png", "spoon"), ("données/tasse rouge.png", "cup")],
        header=None,
    )
    table = read_image_csv(csv_path)
    assert table.mapping == ClassMapping(["cup", "spoon"], "name")
    assert table.labels.tolist() == [0, 1, 0]


def test_custom_column_names_and_image_root(tmp_path, labelled_csv):
    root = os.path.dirname(labelled_csv)
    csv_path = write_csv(str(tmp_path / "sub.csv"), [("x", "img/0_0.png", "2")], header=("id", "file", "cls"))
    os.makedirs(tmp_path / "elsewhere", exist_ok=True)
    moved = str(tmp_path / "elsewhere" / "sub.csv")
    os.replace(csv_path, moved)
    table = read_image_csv(moved, columns=CsvColumns("file", "cls", root), num_classes=5)
    assert table.labels.tolist() == [2] and table.mapping.num_classes == 5


@pytest.mark.parametrize(
    "content,line,reason",
    [
        ("", 0, "empty"),
        ("path,label\n", 0, "header but no rows"),
        ("file,class\na.png,1\n", 1, "missing columns"),
        ("path,kind\na.png,1\n", 1, "missing column 'label'"),
        ('path,label\n"a.png,1\n', 2, "malformed CSV"),
    ],
)
def test_file_level_problems(tmp_path, content, line, reason):
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataError) as info:
        read_image_csv(str(path))
    problem = info.value.problems[0]
    assert (problem.line, reason in problem.reason) == (line, True), problem
    assert str(path) in str(info.value)


def test_missing_csv_and_bad_encoding(tmp_path):
    with pytest.raises(DataError, match="CSV file not found"):
        read_image_csv(str(tmp_path / "nope.csv"))
    path = tmp_path / "latin1.csv"
    path.write_bytes(b"path,label\nok.png,1\ncaf\xe9.png,2\n")
    with pytest.raises(DataError) as info:
        read_image_csv(str(path))
    assert (info.value.problems[0].line, info.value.problems[0].reason) == (3, "not valid UTF-8 text")


def corrupt_files(folder: str) -> dict:
    """One file per corruption the quick check must catch, by name."""
    good = cv2.imencode(".jpg", label_image(1, 64))[1].tobytes()
    files = {
        "truncated.jpg": good[: len(good) // 2],
        "text.jpg": b"this is not an image\n",
        "zero.jpg": b"",
        "truncated.png": cv2.imencode(".png", label_image(2))[1].tobytes()[:60],
    }
    for name, data in files.items():
        with open(os.path.join(folder, "img", name), "wb") as f:
            f.write(data)
    return files


def test_every_bad_row_reported_with_line_and_reason(tmp_path):
    csv_path = make_labelled_set(str(tmp_path))
    corrupt_files(str(tmp_path))
    with open(csv_path, "a", encoding="utf-8") as f:
        f.write(
            "img/missing.png,1\n,2\nimg/0_0.png,seven\nimg/0_0.png,3\nimg/0_0.png,-1\n"
            "img/truncated.jpg,0\nimg/text.jpg,0\nimg/zero.jpg,0\nimg/truncated.png,0\nimg/0_0.png\n"
        )
    with pytest.raises(DataError) as info:
        read_image_csv(csv_path, num_classes=3)
    found = {p.line: p.reason for p in info.value.problems}
    expected = {
        14: "image file not found",
        15: "empty image path",
        16: "label 'seven' is not an integer",
        17: "label 3 out of range 0..2",
        18: "label -1 out of range 0..2",
        19: "truncated JPEG",
        20: "unknown file signature",
        21: "empty image file",
        22: "truncated PNG",
        23: "expected at least 2 columns",
    }
    assert sorted(found) == sorted(expected)
    for line, reason in expected.items():
        assert reason in found[line], (line, found[line])
    message = str(info.value)
    assert "10 problems" in message and f"{csv_path}:14" in message and "missing.png" in message


def test_report_is_capped_but_complete(tmp_path):
    rows = [(f"img/missing_{i}.png", 0) for i in range(30)]
    csv_path = write_csv(str(tmp_path / "t.csv"), rows)
    with pytest.raises(DataError) as info:
        read_image_csv(csv_path)
    assert len(info.value.problems) == 30
    assert "... and 10 more" in str(info.value)


def test_skip_bad_rows_keeps_every_good_row_and_lists_the_bad(tmp_path):
    csv_path = make_labelled_set(str(tmp_path))
    corrupt_files(str(tmp_path))
    with open(csv_path, "a", encoding="utf-8") as f:
        f.write("img/missing.png,1\nimg/text.jpg,2\nimg/1_1.png,99\n")
    bad_file = str(tmp_path / "bad_rows.csv")
    table = read_image_csv(csv_path, num_classes=3, checks=RowChecks(skip_bad_rows=True, bad_rows_file=bad_file))
    assert len(table) == 12 and table.labels.tolist() == [0] * 4 + [1] * 4 + [2] * 4
    assert [p.line for p in table.skipped] == [14, 15, 16]
    with open(bad_file, encoding="utf-8") as f:
        lines = f.read().splitlines()
    assert lines[0] == "csv,line,path,reason" and len(lines) == 4 and "missing.png" in lines[1]


def test_validation_labels_must_be_known_to_training_mapping(tmp_path):
    cv2.imwrite(str(tmp_path / "a.png"), label_image(0))
    train = write_csv(str(tmp_path / "train.csv"), [("a.png", "cup"), ("a.png", "spoon")])
    val = write_csv(str(tmp_path / "val.csv"), [("a.png", "cup"), ("a.png", "knife")])
    mapping = read_image_csv(train).mapping
    with pytest.raises(DataError) as info:
        read_image_csv(val, mapping=mapping)
    problem = only_problem(info.value)
    assert problem.line == 3 and "unknown class 'knife'" in problem.reason


def test_full_verification_decodes(tmp_path):
    csv_path = make_labelled_set(str(tmp_path), per_class=1)
    # A JPEG with intact start and end markers but garbage inside passes the quick check only.
    good = bytearray(cv2.imencode(".jpg", label_image(1, 64))[1].tobytes())
    broken = bytes(good[:4]) + b"\x00" * (len(good) - 6) + bytes(good[-2:])
    (tmp_path / "img" / "garbage.jpg").write_bytes(broken)
    with open(csv_path, "a", encoding="utf-8") as f:
        f.write("img/garbage.jpg,1\n")
    assert len(read_image_csv(csv_path)) == 4
    with pytest.raises(DataError) as info:
        read_image_csv(csv_path, checks=RowChecks(verify="full"))
    assert only_problem(info.value).line == 5 and "cannot decode" in only_problem(info.value).reason


def test_class_counts_include_empty_classes(labelled_csv):
    table = read_image_csv(labelled_csv, num_classes=4)
    assert table.class_counts().tolist() == [4, 4, 4, 0]


def test_predictions_only_csv_without_labels(tmp_path, labelled_csv):
    csv_path = write_csv(str(tmp_path / "p.csv"), [("img/0_0.png",)], header=("path",))
    table = read_image_csv(csv_path, mapping=read_image_csv(labelled_csv).mapping, require_labels=False)
    assert table.labels is None and len(table) == 1


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    content=st.one_of(
        st.binary(max_size=300),
        st.lists(st.lists(st.text(max_size=30), max_size=4), max_size=6)
        .map(lambda rows: "\n".join(",".join(r) for r in rows))
        .map(lambda t: t.encode("utf-8")),
        st.text(max_size=200).map(lambda t: t.encode("utf-16")),
        st.integers(5000, 200_000).map(lambda n: b"path,label\n" + b"x" * n + b",1\n"),
    )
)
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


def test_rows_that_repeat_an_image_are_reported_and_used_as_listed(tmp_path):
    make_labelled_set(str(tmp_path))
    rows = [("img/0_0.png", 0), ("img/1_0.png", 1), ("img/0_0.png", 0), ("./img/0_0.png", 0), ("img/1_0.png", 1)]
    csv_path = write_csv(str(tmp_path / "dup.csv"), rows)
    with logged("data_utils.csv_table") as messages:
        table = read_image_csv(csv_path, num_classes=3)
    assert len(table) == 5  # trained on as listed
    assert messages == [
        f"{csv_path}: 3 rows list an image an earlier row lists (they are used as listed, so it "
        "counts more): line 4 (img/0_0.png) repeats line 2; line 5 (./img/0_0.png) repeats line 2; "
        "line 6 (img/1_0.png) repeats line 3"
    ]
    with logged("data_utils.csv_table") as messages:
        read_image_csv(write_csv(str(tmp_path / "once.csv"), rows[:2]), num_classes=3)
    assert messages == []
