"""Numerical parity with tf.keras.applications.ResNet50 and importing its weight files."""

import h5py
import numpy as np
import pytest
import tensorflow as tf

from resnet_tf.model import ResNet
from resnet_tf.weights.keras_h5 import copy_from_keras_model, load_keras_weights


@pytest.fixture(scope="session")
def keras_resnet50():
    """Keras' ResNet50 (logits out) with every weight randomized, batch-norm statistics included, so that
    parity depends on each of them."""
    model = tf.keras.applications.ResNet50(weights=None, classifier_activation=None)
    rng = np.random.default_rng(0)
    for layer in model.layers:
        weights = layer.get_weights()
        if isinstance(layer, tf.keras.layers.BatchNormalization):
            gamma, beta, mean, var = (w.shape for w in weights)
            weights = [
                rng.uniform(0.5, 1.5, gamma),
                rng.normal(0, 0.1, beta),
                rng.normal(0, 0.1, mean),
                rng.uniform(0.5, 2.0, var),
            ]
        elif weights:
            weights = [weights[0], rng.normal(0, 0.05, weights[1].shape)]
        layer.set_weights([w.astype(np.float32) for w in weights])
    return model


@pytest.fixture(scope="session")
def batch():
    return np.random.default_rng(1).uniform(-1, 1, (2, 224, 224, 3)).astype(np.float32)


def test_logits_equal_keras_within_1e4(keras_resnet50, batch):
    model = ResNet(50, 1000, seed=5)
    result = copy_from_keras_model(model, keras_resnet50)
    assert result.layers_copied == 54 and result.head_copied
    expected = keras_resnet50(batch, training=False).numpy()
    actual = model(batch, training=False).numpy()
    assert np.abs(expected).max() > 0.1  # a meaningful comparison, not two zero vectors
    np.testing.assert_allclose(actual, expected, atol=1e-4)


def test_load_keras_weights_file_with_and_without_top(keras_resnet50, batch, tmp_path):
    path = str(tmp_path / "resnet50.weights.h5")
    keras_resnet50.save_weights(path)
    model = ResNet(50, 1000, seed=7)
    assert load_keras_weights(model, path).head_copied
    np.testing.assert_allclose(model(batch).numpy(), keras_resnet50(batch, training=False).numpy(), atol=1e-4)

    other_head = ResNet(50, 51, seed=7)
    head_before = other_head.logits.w.numpy().copy()
    result = load_keras_weights(other_head, path)
    assert not result.head_copied and "keeps its own initialization" in result.message
    np.testing.assert_array_equal(other_head.logits.w.numpy(), head_before)
    np.testing.assert_array_equal(other_head.stem.conv.w.numpy(), model.stem.conv.w.numpy())


def test_load_legacy_h5_like_keras_imagenet_file(keras_resnet50, batch, tmp_path):
    # The layout of resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5: Keras 2 HDF5 weights, no top.
    from keras.src.legacy.saving import legacy_h5_format

    notop = tf.keras.applications.ResNet50(weights=None, include_top=False)
    for layer in notop.layers:
        if layer.weights:
            layer.set_weights(keras_resnet50.get_layer(layer.name).get_weights())
    path = str(tmp_path / "resnet50_notop.h5")
    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, notop)
    model = ResNet(50, 1000, seed=9)
    result = load_keras_weights(model, path)
    assert result.layers_copied == 53 and not result.head_copied
    np.testing.assert_array_equal(
        model.stages[3][2].convs[2].bn.moving_variance.numpy(),
        keras_resnet50.get_layer("conv5_block3_3_bn").moving_variance.numpy(),
    )


def test_file_that_does_not_fit_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        load_keras_weights(ResNet(50, 10), str(tmp_path / "missing.h5"))
    small = tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(2)])
    path = str(tmp_path / "other.weights.h5")
    small.save_weights(path)
    with pytest.raises(ValueError, match="does not fit"):
        load_keras_weights(ResNet(50, 10), path)
    with pytest.raises(ValueError, match="width 64"):
        load_keras_weights(ResNet(50, 10, width=16), path)
