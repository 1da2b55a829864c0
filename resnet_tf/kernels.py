"""How the network's convolutions are computed on the device a run trains on: a policy chosen once per run,
as Keras' mixed-precision policy is, never a branch inside a layer. A layer asks for a convolution (input,
kernel, stride, padding, training or not); the policy picks the implementation by device, dtype and shape.

- ``gpu``: the plain ops, whose gradients cuDNN computes well.
- ``cpu-onednn`` (TensorFlow's x86 default) and ``cpu`` (its own kernels, ``TF_ENABLE_ONEDNN_OPTS=0``): in a
  training step, 1x1 gradients as matrix products and 3x3 bfloat16 kernel gradients on small maps the way
  measured faster (:mod:`resnet_tf.convolutions`); a grouped convolution natively with oneDNN, one convolution
  per group with TensorFlow's own kernels, which cannot differentiate it.

Every policy computes a strided 1x1 convolution as a subsampling and a 1x1 convolution (TF 2.21's oneDNN on
AVX2 returns wrong kernel gradients for the strided form with 1-5 input channels), and trains a strided
convolution with symmetric padding as a padded copy and a VALID convolution (oneDNN has no backward kernels for
explicit padding; TensorFlow's own ran one thread). Inference keeps the explicit padding, which oneDNN
computes without a copy, and the plain op (SavedModel, TFLite).
"""

from __future__ import annotations

import dataclasses

import tensorflow as tf

from resnet_tf.convolutions import (
    SMALL_MAP,
    Padding,
    gpu_visible,
    onednn_enabled,
    pointwise_conv,
    small_map_conv,
    small_map_padding,
    split_grouped_conv,
)


@dataclasses.dataclass(frozen=True)
class KernelPolicy:
    """Where convolutions run: ``device`` (``gpu`` or ``cpu``) and, on a CPU, whether TensorFlow's ops run
    on oneDNN."""

    device: str
    onednn: bool = True

    @property
    def name(self) -> str:
        """``gpu``, ``cpu-onednn`` or ``cpu``."""
        return "gpu" if self.device == "gpu" else "cpu-onednn" if self.onednn else "cpu"

    def describe(self) -> str:
        """One line for the run's first lines."""
        if self.device == "gpu":
            return "convolution kernels for a GPU: TensorFlow's own ops throughout"
        grouped = "natively" if self.onednn else "one convolution per group (TensorFlow's own CPU kernels)"
        kernels = "oneDNN" if self.onednn else "TensorFlow's own kernels"
        return (
            f"convolution kernels for a CPU ({kernels}): 1x1 gradients as matrix products, 3x3 bfloat16 kernel "
            f"gradients on maps up to 7x7 as shifted views, grouped convolutions {grouped}"
        )

    def conv2d(self, x: tf.Tensor, w: tf.Tensor, stride: int, padding: Padding, training: bool) -> tf.Tensor:
        """``tf.nn.conv2d(x, w, stride, padding)`` (``padding``: ``SAME``, ``VALID`` or explicit NHWC pairs);
        ``training``: in a training step, whose gradients this policy computes its way."""
        k = w.shape[0]
        if stride > 1 and k == 1:  # a subsampling, then a 1x1 convolution (for either padding)
            x, stride, padding = tf.nn.avg_pool2d(x, ksize=1, strides=stride, padding="VALID"), 1, "VALID"
        if not training:
            return tf.nn.conv2d(x, w, strides=stride, padding=padding)
        if isinstance(padding, list):
            x, padding = tf.pad(x, padding), "VALID"
        return self._training_conv(x, w, stride, padding)

    def _training_conv(self, x: tf.Tensor, w: tf.Tensor, stride: int, padding: str) -> tf.Tensor:
        k = w.shape[0]
        if self.device == "gpu":
            return tf.nn.conv2d(x, w, strides=stride, padding=padding)
        if w.shape[2] != x.shape[-1]:  # grouped
            return (tf.nn.conv2d if self.onednn else split_grouped_conv)(x, w, stride, padding)
        if k == 1 and stride == 1:
            return pointwise_conv(x, w)
        if self._small_map(x, k, stride, padding):
            return small_map_conv(x, w, stride)
        return tf.nn.conv2d(x, w, strides=stride, padding=padding)

    @staticmethod
    def _small_map(x: tf.Tensor, k: int, stride: int, padding: str) -> bool:
        """A 3x3 bfloat16 convolution whose output map has at most ``SMALL_MAP`` positions."""
        if x.dtype != tf.bfloat16 or k != 3 or padding != small_map_padding(stride):
            return False
        if not x.shape[1:3].is_fully_defined():
            return False
        out_h, out_w = (
            (x.shape[1], x.shape[2])
            if stride == 1
            else ((x.shape[1] - k) // stride + 1, (x.shape[2] - k) // stride + 1)
        )
        return out_h * out_w <= SMALL_MAP


def detect_policy() -> KernelPolicy:
    """The policy for this process's devices: ``gpu`` when TensorFlow sees a GPU, else the CPU's with or without
    oneDNN."""
    return KernelPolicy("gpu") if gpu_visible() else KernelPolicy("cpu", onednn_enabled())
