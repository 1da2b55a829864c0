"""Tests of test-time augmentation: the views of each registered entry and the mean of their logits."""

import numpy as np
import pytest

from resnet_tf.tta import tta, tta_names


def test_the_views_of_each_entry_and_their_mean():
    images = np.arange(2 * 3 * 4 * 1, dtype=float).reshape(2, 3, 4, 1)
    assert tta_names() == ("none", "flip")
    (once,) = tta("none").views(images)
    assert once is images
    plain, mirrored = tta("flip").views(images)
    assert plain is images and np.array_equal(mirrored[:, :, 0], images[:, :, -1])  # columns reversed, rows kept
    first_column = lambda batch: batch[:, 0, 0, 0]
    assert np.array_equal(tta("none").scored(first_column, images), [0, 12])
    assert np.array_equal(tta("flip").scored(first_column, images), [(0 + 3) / 2, (12 + 15) / 2])
    with pytest.raises(ValueError, match="unknown test-time augmentation 'five_crop'; registered: none, flip"):
        tta("five_crop")
