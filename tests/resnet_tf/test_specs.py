"""Tests of the tables the family is built from, and the sizes they give (without TensorFlow)."""

import pytest

from resnet_tf.specs import (
    LAYOUTS,
    MIN_IMAGE_SIZE,
    STEMS,
    head_size,
    stage_name,
)


@pytest.mark.parametrize(
    "stem,sizes",
    [
        ("standard", {32: 1, 64: 2, 128: 4, 224: 7}),
        ("small", {32: 2, 64: 4, 224: 14}),
        ("cifar", {32: 4, 64: 8}),
        ("original", {40: 3, 224: 14}),
    ],
)
def test_the_final_map_follows_every_stride_of_the_stem_and_stages(stem, sizes):
    for image_size, side in sizes.items():
        assert head_size(stem, image_size) == side
    assert head_size(stem, MIN_IMAGE_SIZE) >= 1


def test_the_tables_agree_with_each_other():
    assert all(layout.stem in STEMS for layout in LAYOUTS.values())
    assert [STEMS[s].reduction for s in ("standard", "small", "cifar")] == [4, 2, 1]
    assert [stage_name(i) for i in range(4)] == ["stage_1", "stage_2", "stage_3", "stage_4"]
