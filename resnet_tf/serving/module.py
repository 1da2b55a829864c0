"""A trained run as a self-contained ``tf.Module`` for SavedModel and TFLite: preprocessing, network,
probabilities and class names in TensorFlow ops only (no OpenCV, no code of this project at run time).

Serving decodes images with TensorFlow instead of OpenCV, by the same contract as the training pipeline
(:mod:`data_utils.images`; its TensorFlow implementation is :mod:`data_utils.images.tf_ops`).
"""

from __future__ import annotations

import tensorflow as tf

from data_utils.images.normalization import normalize
from data_utils.images.tf_ops import decode_like_training
from resnet_tf.losses import probabilities
from resnet_tf.model import ResNet
from resnet_tf.tta import tta


class ServingModel(tf.Module):
    """The exported model. Signatures (their names and tensor names are what serving clients use):

    - ``serving_default(image_bytes: string [N])`` -> ``probabilities [N, C]``, ``class_ids int32 [N, K]``,
      ``class_names string [N, K]``, ``scores [N, K]`` (top-K, best first);
    - ``predict_images(images: uint8 [N, S, S, 3])`` -> ``logits``, ``probabilities`` ``[N, C]``;
    - :meth:`tflite_probabilities` (``uint8 [1, S, S, 3]`` -> probabilities), for the TFLite file.
    """

    def __init__(
        self,
        model: ResNet,
        class_names: list[str],
        image_size: int,
        normalization: str,
        loss: str,
        top_k: int,
        resize: str = "auto",
        crop: float = 1.0,
        test_time: str = "none",
    ):
        super().__init__(name="serving")
        if not 1 <= top_k <= len(class_names):
            raise ValueError(f"top_k must be in 1..{len(class_names)}, got {top_k}")
        self.model = model
        self.class_names = tf.constant(class_names)
        self.image_size, self.normalization, self.loss, self.top_k = image_size, normalization, loss, top_k
        self.resize, self.crop, self.test_time = resize, crop, tta(test_time)
        images = tf.TensorSpec([None, image_size, image_size, 3], tf.uint8)
        # autograph off: the preprocessing's control flow is written with TensorFlow's own (cond, while_loop)
        self.predict_images = tf.function(self._predict_images, input_signature=[images], autograph=False)
        self.serving_default = tf.function(
            self._serve_bytes, input_signature=[tf.TensorSpec([None], tf.string)], autograph=False
        )
        one_image = tf.TensorSpec([1, image_size, image_size, 3], tf.uint8)
        self.tflite_probabilities = tf.function(
            self._tflite_probabilities, input_signature=[one_image], autograph=False
        )

    def _logits(self, images: tf.Tensor) -> tf.Tensor:
        return self.test_time.scored(
            lambda view: self.model(normalize(view, self.normalization), training=False), images
        )

    def _batch_logits(self, images: tf.Tensor) -> tf.Tensor:
        """The logits of a batch of any size, an empty one included (which TensorFlow's oneDNN convolutions
        refuse: "input depth must be evenly divisible by filter depth")."""
        return tf.cond(
            tf.shape(images)[0] > 0,
            lambda: self._logits(images),
            lambda: tf.zeros([0, self.model.num_classes], tf.float32),
        )

    def _predict_images(self, images: tf.Tensor) -> dict[str, tf.Tensor]:
        logits = self._batch_logits(images)
        return {"logits": logits, "probabilities": probabilities(logits, self.loss)}

    def _serve_bytes(self, image_bytes: tf.Tensor) -> dict[str, tf.Tensor]:
        size = self.image_size
        images = tf.map_fn(
            lambda b: decode_like_training(b, size, self.resize, self.crop),
            image_bytes,
            fn_output_signature=tf.TensorSpec([size, size, 3], tf.uint8),
        )
        probs = probabilities(self._batch_logits(images), self.loss)
        scores, ids = tf.math.top_k(probs, k=self.top_k)
        return {
            "probabilities": probs,
            "class_ids": ids,
            "class_names": tf.gather(self.class_names, ids),
            "scores": scores,
        }

    def _tflite_probabilities(self, image: tf.Tensor) -> dict[str, tf.Tensor]:
        return {"probabilities": probabilities(self._logits(image), self.loss)}

    def signatures(self) -> dict:
        """The concrete functions to save as the SavedModel's signatures."""
        return {
            "serving_default": self.serving_default.get_concrete_function(),
            "predict_images": self.predict_images.get_concrete_function(),
        }
