"""Tests of the registered networks (without TensorFlow): their channels, stems and identification."""

import pytest

from resnet_tf.networks import NetworkSpec, identify, network_names, network_spec


def test_the_standard_family_and_its_variants_are_registered_by_the_names_timm_uses():
    assert network_names() == (
        "resnet10",
        "resnet18",
        "resnet34",
        "resnet50",
        "resnet101",
        "resnet152",
        "resnet50d",
        "wide_resnet50_2",
        "resnext50_32x4d",
    )
    assert [n for n in network_names() if network_spec(n).keras_application] == ["resnet50", "resnet101", "resnet152"]


@pytest.mark.parametrize(
    "arch,stage_1,stage_4",
    [
        ("resnet10", (64, 64), (512, 512)),
        ("resnet18", (64, 64), (512, 512)),
        ("resnet50", (64, 256), (512, 2048)),
        ("wide_resnet50_2", (128, 256), (1024, 2048)),  # torchvision: twice the inner channels
        ("resnext50_32x4d", (128, 256), (1024, 2048)),  # 32 groups x 4 channels
    ],
)
def test_inner_and_output_channels_per_stage_at_width_64(arch, stage_1, stage_4):
    spec = network_spec(arch)
    assert (spec.stage_channels(64, 0), spec.stage_channels(64, 3)) == (stage_1, stage_4)


def test_the_deep_stem_has_half_width_then_full_width_convolutions():
    assert network_spec("resnet50d").stem_channels(64) == (32, 32, 64)
    assert network_spec("resnet50").stem_channels(16) == (16,)


def test_a_grouped_network_names_its_smallest_width():
    spec = network_spec("resnext50_32x4d")
    assert spec.smallest_width() == 16
    spec.check_width(16)
    with pytest.raises(ValueError, match="the smallest width for this network is 16"):
        spec.check_width(15)


def test_a_spec_that_cannot_build_a_network_is_refused():
    with pytest.raises(ValueError, match="block must be one of basic, bottleneck"):
        NetworkSpec("plain", (2, 2, 2, 2))
    with pytest.raises(ValueError, match="at least one block to each of 4 stages"):
        NetworkSpec("basic", (2, 2, 2))
    with pytest.raises(ValueError, match="bottleneck blocks only"):
        NetworkSpec("basic", (2, 2, 2, 2), groups=2)


def test_shapes_identify_the_registered_network():
    assert identify("bottleneck", (3, 4, 6, 3), False, 64, 64, 64) == "resnet50"
    assert identify("bottleneck", (3, 4, 6, 3), True, 64, 64, 64) == "resnet50d"
    assert identify("bottleneck", (3, 4, 6, 3), False, 64, 128, 128) == "wide_resnet50_2"
    assert identify("bottleneck", (3, 4, 6, 3), False, 64, 128, 4) == "resnext50_32x4d"
    assert identify("basic", (2, 2, 2, 2), False, 8, 8, 8) == "resnet18"
    assert identify("basic", (1, 1, 1, 1), False, 8, 8, 8) == "resnet10"
    assert identify("bottleneck", (1, 1, 1, 1), False, 64, 64, 64) is None
