"""Tests of the validation report: the mistakes shown, the per-class table."""

import html
import re

import numpy as np

from resnet_tf.evaluation.metrics import per_class_frame
from resnet_tf.evaluation.val_report import markdown_table, mistakes


def test_the_most_confident_mistakes_come_first_and_undecoded_images_are_left_out():
    labels = np.array([0, 1, 2, 0, 1])
    probs = np.array(
        [
            [0.9, 0.1, 0.0],  # right
            [0.6, 0.4, 0.0],  # wrong, 0.6
            [0.05, 0.95, 0.0],  # wrong, 0.95
            [0.2, 0.8, 0.0],  # wrong, 0.8, but its image did not decode
            [0.1, 0.3, 0.6],
        ]
    )  # wrong, 0.6
    mask = np.array([True, True, True, False, True])
    assert mistakes(labels, probs, mask).tolist() == [2, 1, 4]
    assert mistakes(labels, probs, mask, limit=1).tolist() == [2]


def test_the_per_class_table_is_markdown_worst_first():
    matrix = np.array([[3, 1, 0], [0, 2, 0], [0, 0, 0]])
    text = markdown_table(per_class_frame(matrix, ["cup", "knife", "spoon"]))
    lines = text.splitlines()
    assert lines[:2] == ["| class | images | accuracy |", "|---|---:|---:|"]
    assert lines[2:] == ["| cup | 4 | 0.750 |", "| knife | 2 | 1.000 |", "| spoon | 0 |  |"]
    assert markdown_table(per_class_frame(matrix, ["cup", "knife", "spoon"]), rows=1).endswith(
        "| ... 2 more classes | | |"
    )


def test_any_class_name_stays_in_its_cell_and_row():
    names = ["cup, red", "knife|steel", 'say "hi"', "two\nlines", "<b>bold</b>", "a_b*c`d\\e"]
    frame = per_class_frame(np.diag([1, 2, 3, 4, 5, 6]), names)
    lines = markdown_table(frame).splitlines()
    assert len(lines) == 2 + len(names)  # no name breaks a row
    cells = [re.split(r"(?<!\\)\|", line)[1:-1] for line in lines[2:]]
    assert all(len(row) == 3 for row in cells)  # nor a cell
    unescaped = {html.unescape(re.sub(r"\\(.)", r"\1", row[0].strip())) for row in cells}
    assert unescaped == {name.replace("\n", "\\n") for name in names}
