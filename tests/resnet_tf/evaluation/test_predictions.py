"""Tests of inference over a whole table: the rows whose image did not decode are named by file and line."""

import numpy as np
import pytest

from data_utils.csv_table import read_image_csv
from data_utils.errors import DataError
from resnet_tf.evaluation.predictions import Predictions, check_decoded, undecodable


def test_undecodable_rows_are_reported_by_line_and_path(labelled_csv):
    table = read_image_csv(labelled_csv)
    preds = Predictions(np.zeros((len(table), 3)), np.array([i not in (1, 5) for i in range(len(table))]))
    problems = undecodable(table, np.array([1, 5]))
    assert [(p.line, p.path) for p in problems] == [(3, table.paths[1]), (7, table.paths[5])]
    with pytest.raises(DataError) as info:
        check_decoded(table, preds, skip=False)
    assert f"{labelled_csv}:3: OpenCV cannot decode the image ({table.paths[1]})" in str(info.value)
    assert check_decoded(table, preds, skip=True).sum() == len(table) - 2
