"""Tests of what every ``auto`` becomes: the defaults by image size, by training augmentation and by hardware."""

import pytest

from resnet_tf.runs import defaults, settle
from resnet_tf.runs.choices import PRECISIONS
from resnet_tf.runs.config import TrainConfig
from resnet_tf.runs.hardware import Bfloat16Support
from tests.helpers import logged

CSVS = {"train_csv": "t.csv", "val_csv": "v.csv"}


def test_the_defaults_by_image_size_and_by_training_augmentation():
    assert [defaults.default_stem(s) for s in (32, 127, 128)] == ["small", "small", "standard"]
    assert [defaults.default_augment(s) for s in (32, 63, 64, 127, 128)] == [
        "flip",
        "flip",
        "light",
        "light",
        "standard",
    ]
    assert [defaults.default_weight_decay(s) for s in (32, 127, 128)] == [5e-4, 5e-4, 1e-4]
    tta = [defaults.default_tta(a) for a in ("none", "flip", "light", "standard")]
    assert tta == ["none", "flip", "flip", "flip"]  # flip wherever training mirrors images


@pytest.mark.parametrize("native,chosen", [(True, "mixed_bfloat16"), (False, "float32")])
def test_auto_precision_is_bfloat16_only_where_the_hardware_computes_it_and_the_choice_is_named(
    monkeypatch, native, chosen
):
    support = Bfloat16Support(native, "what the machine has")
    monkeypatch.setattr(defaults, "bfloat16_support", lambda: support)
    with logged("resnet_tf.runs.settle") as messages:
        cfg = settle.settle(TrainConfig.from_options(image_size=32, precision="auto", **CSVS), num_classes=3)
    assert cfg.runtime.precision == chosen and cfg.runtime.precision in PRECISIONS
    assert f"chose precision {chosen}: what the machine has (--precision to choose)" in messages
    assert (
        settle.settle(TrainConfig.from_options(precision="mixed_float16", **CSVS), num_classes=3).runtime.precision
        == "mixed_float16"
    )
    assert defaults.precision_for("float32") == ("float32", "precision float32")
