"""Tests of inference over a whole table: the rows whose image did not decode are named by file and line; the
prediction step with test-time augmentation."""

import numpy as np
import pytest
import tensorflow as tf

from data_utils.csv_table import read_image_csv
from data_utils.errors import DataError
from resnet_tf.evaluation.predictions import Predictions, check_decoded, make_predict_step, undecodable
from resnet_tf.model import ResNet
from tests.helpers import photo_like


def test_undecodable_rows_are_reported_by_line_and_path(labelled_csv):
    table = read_image_csv(labelled_csv)
    preds = Predictions(np.zeros((len(table), 3)), np.array([i not in (1, 5) for i in range(len(table))]))
    problems = undecodable(table, np.array([1, 5]))
    assert [(p.line, p.path) for p in problems] == [(3, table.paths[1]), (7, table.paths[5])]
    with pytest.raises(DataError) as info:
        check_decoded(table, preds, skip=False)
    assert f"{labelled_csv}:3: OpenCV cannot decode the image ({table.paths[1]})" in str(info.value)
    assert check_decoded(table, preds, skip=True).sum() == len(table) - 2


def test_flip_tta_scores_the_mean_of_an_image_and_its_mirror_image():
    model = ResNet(18, 5, width=4)
    images = tf.constant(np.stack([photo_like(32, 32, seed) for seed in range(3)]))
    plain = make_predict_step(model, "imagenet")
    both = make_predict_step(model, "imagenet", test_time="flip")(images).numpy()
    expected = (plain(images).numpy() + plain(images[:, :, ::-1]).numpy()) / 2
    np.testing.assert_allclose(both, expected, rtol=1e-5, atol=1e-5)
    assert np.abs(both - plain(images).numpy()).max() > 1e-3  # the mirror image changed the logits
    symmetric = tf.concat([images[:, :, :16], images[:, :, :16][:, :, ::-1]], 2)
    np.testing.assert_allclose(
        make_predict_step(model, "imagenet", test_time="flip")(symmetric), plain(symmetric), rtol=1e-5, atol=1e-5
    )
