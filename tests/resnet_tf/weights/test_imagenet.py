"""Tests of --pretrained: Keras' cache is used as it is, a failed download names the file to place there."""

import h5py
import numpy as np
import pytest
import tensorflow as tf

from resnet_tf.model import ResNet
from resnet_tf.runs.checkpoints import init_model_from
from resnet_tf.weights import imagenet
from resnet_tf.weights.imagenet import (
    PretrainedUnavailable,
    pretrained_weights,
    weights_file_name,
)


def test_weights_in_keras_cache_are_used_without_downloading(tmp_path, monkeypatch):
    from keras.src.legacy.saving import legacy_h5_format

    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(imagenet, "BASE_URL", "http://127.0.0.1:9/")  # any download attempt would fail
    notop = tf.keras.applications.ResNet50(weights=None, include_top=False)
    (tmp_path / "models").mkdir()
    path = tmp_path / "models" / weights_file_name("resnet50")
    with h5py.File(path, "w") as f:  # the layout of Keras' ImageNet file: Keras 2 HDF5 weights, no top
        legacy_h5_format.save_weights_to_hdf5_group(f, notop)
    assert pretrained_weights("imagenet", "resnet50") == str(path)
    model = ResNet(50, 7)
    message = init_model_from(model, pretrained_weights("imagenet", "resnet50"))
    assert "the file has no head" in message
    kernel = notop.get_layer("conv2_block1_1_conv").get_weights()[0]
    np.testing.assert_array_equal(model.stages[0][0].convs[0].w.numpy(), kernel)


def test_failed_download_names_the_cache_file_and_the_alternative(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(imagenet, "BASE_URL", "http://127.0.0.1:9/")
    with pytest.raises(PretrainedUnavailable) as info:
        pretrained_weights("imagenet", "resnet101")
    text = str(info.value)
    assert str(tmp_path / "models" / weights_file_name("resnet101")) in text and "--init-from PATH.h5" in text
    with pytest.raises(PretrainedUnavailable, match="resnet50, resnet101, resnet152 only, not for resnet18"):
        pretrained_weights("imagenet", "resnet18")
