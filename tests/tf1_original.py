"""The original TF1 pipeline (shared/PORTING.md) rebuilt with ``tf.compat.v1`` for the tests: placeholders,
``get_variable`` under ``name_scope`` with the original's names, a ``Session``, Adam on the sigmoid loss,
and a ``tf.train.Saver`` checkpoint. ``tf.compat.v1.layers.batch_normalization`` raises under Keras 3, so
batch norm is written out with the variables ``tf.layers`` would create (``batch_normalization``,
``batch_normalization_1``, ... in creation order) and the original's math: inference mode (moving
statistics, never updated), epsilon 1e-3. Width and image size are parameters so that the tests stay small.
"""

from __future__ import annotations

import cv2
import numpy as np
import tensorflow as tf

v1 = tf.compat.v1
STAGES_50 = (3, 4, 6, 3)


class OriginalGraph:
    """``bulid_resNet`` of the original for ``num_classes`` at ``image_size``, in a graph of its own."""

    def __init__(self, num_classes: int, image_size: int, width: int = 64, seed: int = 0):
        self.graph = tf.Graph()
        self.bn_count = 0
        with self.graph.as_default():
            v1.set_random_seed(seed)
            self.input = v1.placeholder(tf.float32, [None, image_size, image_size, 3], name="input")
            self.output = v1.placeholder(tf.int64, [None], name="output")
            self.logits = self._network(self.input, num_classes, width)
            labels = tf.one_hot(tf.cast(self.output, tf.int32), depth=num_classes)
            self.loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(logits=self.logits, labels=labels))
            self.train_op = v1.train.AdamOptimizer(1e-3).minimize(self.loss)
            self.saver = v1.train.Saver(max_to_keep=10)
            self.session = v1.Session(graph=self.graph)
            self.session.run(v1.global_variables_initializer())

    def _batch_normalization(self, z):
        name = "batch_normalization" + (f"_{self.bn_count}" if self.bn_count else "")
        self.bn_count += 1
        n = z.shape[-1]
        with v1.variable_scope(name):
            gamma = v1.get_variable("gamma", [n], initializer=v1.ones_initializer())
            beta = v1.get_variable("beta", [n], initializer=v1.zeros_initializer())
            mean = v1.get_variable("moving_mean", [n], initializer=v1.zeros_initializer(), trainable=False)
            var = v1.get_variable("moving_variance", [n], initializer=v1.ones_initializer(), trainable=False)
        return tf.nn.batch_normalization(z, mean, var, beta, gamma, 1e-3)

    def _conv_op(self, x, name, n_out, k, stride, activation):
        with tf.name_scope(name) as scope:
            w = v1.get_variable(scope + "w", [k, k, x.shape[-1], n_out], initializer=v1.glorot_uniform_initializer())
            b = v1.get_variable(scope + "b", [n_out], initializer=v1.constant_initializer(0.01))
            z = self._batch_normalization(tf.nn.bias_add(tf.nn.conv2d(x, w, [1, stride, stride, 1], "SAME"), b))
            return activation(z) if activation else z

    def _res_block_layers(self, x, name, n_mid, n_out, change_dimension, stride):
        shortcut = self._conv_op(x, name + "_ShortcutConv", n_out, 1, stride, None) if change_dimension else x
        y = self._conv_op(x, name + "_lovalConv1", n_mid, 1, stride, tf.nn.relu)
        y = self._conv_op(y, name + "_lovalConv2", n_mid, 3, 1, tf.nn.relu)
        y = self._conv_op(y, name + "_lovalConv3", n_out, 1, 1, None)
        return tf.nn.relu(tf.add(shortcut, y))

    def _network(self, x, num_classes, width):
        x = self._conv_op(x, "conv1", width, 3, 1, tf.nn.relu)
        x = tf.nn.max_pool(x, [1, 3, 3, 1], [1, 2, 2, 1], "SAME", name="pool1")
        for s, n_blocks in enumerate(STAGES_50, start=1):
            n_mid = width * 2 ** (s - 1)
            for b in range(1, n_blocks + 1):
                stride = 2 if (b == 1 and s > 1) else 1
                x = self._res_block_layers(x, f"block{s}_{b}", n_mid, 4 * n_mid, b == 1, stride)
        x = tf.nn.avg_pool(x, [1, 7, 7, 1], [1, 1, 1, 1], "SAME", name="pool2")
        x = tf.reshape(x, [-1, x.shape[1] * x.shape[2] * x.shape[3]])
        with tf.name_scope("fc1") as scope:
            w = v1.get_variable(scope + "w", [x.shape[-1], num_classes], initializer=v1.glorot_uniform_initializer())
            b = v1.get_variable(scope + "b", [num_classes], initializer=v1.constant_initializer(0.01))
            return tf.matmul(x, w) + b

    def train(self, images: np.ndarray, labels: np.ndarray, steps: int) -> None:
        """Adam steps on one batch, fed through the placeholders."""
        for _ in range(steps):
            self.session.run(self.train_op, feed_dict={self.input: images, self.output: labels})

    def randomize_statistics_and_biases(self, seed: int) -> None:
        """Non-trivial moving statistics and convolution biases, which a loader that skipped either, or
        mixed up the batch-norm numbering, could not reproduce."""
        rng = np.random.default_rng(seed)
        with self.graph.as_default():
            updates = []
            for v in v1.global_variables():
                name = v.op.name
                if name.endswith(("moving_mean", "/b")) and "Adam" not in name:
                    updates.append(v.assign(rng.normal(0.0, 0.5, v.shape).astype(np.float32)))
                elif name.endswith("moving_variance"):
                    updates.append(v.assign(rng.uniform(0.5, 2.0, v.shape).astype(np.float32)))
            self.session.run(tf.group(*updates))

    def logits_of(self, images: np.ndarray) -> np.ndarray:
        """The session's logits for a float batch."""
        return self.session.run(self.logits, feed_dict={self.input: images})

    def save(self, prefix: str, step: int) -> str:
        """``saver.save`` as the original called it; returns the checkpoint prefix."""
        with self.graph.as_default():
            return self.saver.save(self.session, prefix, global_step=step)


def original_preprocessing(path: str, image_size: int) -> np.ndarray:
    """The original's ``load_train`` for one file: cv2.imread (BGR), INTER_CUBIC resize, float32, then Keras'
    ResNet50 ``preprocess_input`` (caffe mode), which takes its BGR input for RGB."""
    image = cv2.imread(path)
    image = cv2.resize(image, (image_size, image_size), 0.0, interpolation=cv2.INTER_CUBIC).astype(np.float32)
    return tf.keras.applications.resnet50.preprocess_input(image)
