"""Tests of the exported module's preprocessing and outputs against the training path."""

import cv2
import numpy as np
import pytest
import tensorflow as tf

from resnet_tf.model import ResNet
from resnet_tf.serving.module import ServingModel
from tests.helpers import photo_like


def test_outputs_and_bad_input():
    serving = ServingModel(ResNet(18, 4, width=4), ["a", "b", "c", "d"], 32, "imagenet", "sigmoid", top_k=2)
    images = tf.constant(photo_like(32, 32)[None])
    out = serving.predict_images(images)
    np.testing.assert_allclose(out["probabilities"], tf.sigmoid(out["logits"]), rtol=1e-6)
    encoded = tf.constant([cv2.imencode(".png", photo_like(32, 32))[1].tobytes()])
    served = serving.serving_default(encoded)
    assert served["class_names"].shape == (1, 2) and served["class_ids"].dtype == tf.int32
    ids = served["class_ids"].numpy()[0]
    assert [n.decode() for n in served["class_names"].numpy()[0]] == [["a", "b", "c", "d"][i] for i in ids]
    assert served["scores"].numpy()[0, 0] >= served["scores"].numpy()[0, 1]
    with pytest.raises(tf.errors.InvalidArgumentError, match="empty string, not an image"):
        serving.serving_default(tf.constant([b""]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="Unknown image file format"):
        serving.serving_default(tf.constant([b"plain text, not an image"]))
    with pytest.raises(ValueError, match="top_k must be in 1..4"):
        ServingModel(ResNet(18, 4, width=4), ["a", "b", "c", "d"], 32, "imagenet", "softmax", top_k=5)


def test_an_empty_batch_returns_empty_outputs_from_every_signature():
    serving = ServingModel(ResNet(18, 4, width=4), ["a", "b", "c", "d"], 32, "imagenet", "softmax", top_k=2)
    served = serving.serving_default(tf.constant([], tf.string))
    assert {k: tuple(v.shape) for k, v in served.items()} == {
        "probabilities": (0, 4),
        "class_ids": (0, 2),
        "class_names": (0, 2),
        "scores": (0, 2),
    }
    out = serving.predict_images(tf.zeros([0, 32, 32, 3], tf.uint8))
    assert out["logits"].shape == (0, 4) and out["probabilities"].shape == (0, 4)


def test_flip_tta_serves_the_mean_of_the_logits_of_an_image_and_its_mirror_image():
    model, names = ResNet(18, 4, width=4), ["a", "b", "c", "d"]
    one_view = ServingModel(model, names, 32, "imagenet", "softmax", top_k=2)
    both = ServingModel(model, names, 32, "imagenet", "softmax", top_k=2, test_time="flip")
    images = tf.constant(np.stack([photo_like(32, 32, seed) for seed in range(2)]))
    expected = (one_view.predict_images(images)["logits"] + one_view.predict_images(images[:, :, ::-1])["logits"]) / 2
    np.testing.assert_allclose(both.predict_images(images)["logits"], expected, rtol=1e-5, atol=1e-5)
    encoded = tf.constant([cv2.imencode(".png", image[..., ::-1])[1].tobytes() for image in images.numpy()])  # BGR
    np.testing.assert_allclose(
        both.serving_default(encoded)["probabilities"], tf.nn.softmax(expected), rtol=1e-5, atol=1e-5
    )
