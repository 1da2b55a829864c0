"""Convolutions for training whose gradients are computed the fastest way measured for their shape and dtype.

The forward op is always ``tf.nn.conv2d``; only how the gradients are summed changes, under
``tf.custom_gradient`` (the same sums in another order). Measured on a 2-core Xeon with AMX-BF16
(bench/RESULTS.md):

- 1x1 convolutions, stride 1 (:func:`pointwise_conv`): both gradients as matrix products; oneDNN computes
  the kernel's gradient 2.5x slower in bfloat16 (a few percent in float32).
- 3x3 convolutions in bfloat16 with output maps of at most 7x7 (:func:`small_map_conv`): the kernel's
  gradient as a matrix product of the input's nine shifted views (stride 1) or as a forward convolution of
  the input by the output gradient (stride 2), 1.4-3.4x faster than oneDNN's kernel on those maps and
  slower on larger ones (and in float32).

:mod:`resnet_tf.kernels` decides where each is used (the run's kernel policy); a grouped convolution (ResNeXt)
is computed as one convolution per group (:func:`split_grouped_conv`) where TensorFlow cannot differentiate it.
"""

from __future__ import annotations

import tensorflow as tf

Padding = str | list
SMALL_MAP = 7 * 7  # output positions up to which the 3x3 bfloat16 kernel gradient is computed here


@tf.custom_gradient
def pointwise_conv(x: tf.Tensor, w: tf.Tensor) -> tf.Tensor:
    """A 1x1 convolution of stride 1 (``w``: ``[1, 1, C_in, C_out]``) whose gradients are matrix products."""
    n_in, n_out = w.shape[2], w.shape[3]

    def grad(dy: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        rows = tf.reshape(dy, [-1, n_out])
        dx = tf.matmul(rows, tf.reshape(w, [n_in, n_out]), transpose_b=True)
        dw = tf.matmul(tf.reshape(x, [-1, n_in]), rows, transpose_a=True)
        return tf.reshape(dx, tf.shape(x)), tf.reshape(dw, tf.shape(w))

    return tf.nn.conv2d(x, w, strides=1, padding="VALID"), grad


def _shifted_views(padded: tf.Tensor, kernel_size: int, out_h: int, out_w: int) -> tf.Tensor:
    """``[N*out_h*out_w, k*k*C]``: every output position's input window (the patches of a stride-1 VALID
    convolution of ``padded``), in the kernel's ``[kh, kw, C]`` order."""
    views = [padded[:, i : i + out_h, j : j + out_w, :] for i in range(kernel_size) for j in range(kernel_size)]
    return tf.reshape(tf.concat(views, axis=-1), [-1, kernel_size * kernel_size * padded.shape[-1]])


def _kernel_gradient(padded: tf.Tensor, dy: tf.Tensor, kernel_shape: tf.TensorShape, stride: int) -> tf.Tensor:
    """The gradient of a VALID convolution's kernel from its (padded) input and its output's gradient."""
    k, _, _, n_out = kernel_shape
    if stride == 1:
        views = _shifted_views(padded, k, dy.shape[1], dy.shape[2])
        return tf.reshape(tf.matmul(views, tf.reshape(dy, [-1, n_out]), transpose_a=True), kernel_shape)
    # Channels as the batch, the batch as channels: the output's gradient is then the kernel of a forward
    # convolution (dilated by the stride) whose k x k output is the kernel's gradient.
    crop = (dy.shape[1] - 1) * stride + k, (dy.shape[2] - 1) * stride + k
    images = tf.transpose(padded[:, : crop[0], : crop[1], :], [3, 1, 2, 0])
    dw = tf.nn.conv2d(images, tf.transpose(dy, [1, 2, 0, 3]), strides=1, padding="VALID", dilations=stride)
    return tf.transpose(dw, [1, 2, 0, 3])


def small_map_padding(stride: int) -> str:
    """The padding :func:`small_map_conv` takes: ``SAME`` at stride 1, ``VALID`` (an input padded already)
    at other strides."""
    return "SAME" if stride == 1 else "VALID"


def small_map_conv(x: tf.Tensor, w: tf.Tensor, stride: int) -> tf.Tensor:
    """A convolution with a square odd kernel and :func:`small_map_padding`, whose kernel gradient is
    :func:`_kernel_gradient`."""
    k = w.shape[0]
    padding = small_map_padding(stride)

    @tf.custom_gradient
    def conv(x: tf.Tensor, w: tf.Tensor) -> tf.Tensor:
        def grad(dy: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
            dx = tf.compat.v1.nn.conv2d_backprop_input(tf.shape(x), w, dy, [1, stride, stride, 1], padding)
            padded = tf.pad(x, [[0, 0], [k // 2, k // 2], [k // 2, k // 2], [0, 0]]) if stride == 1 else x
            return dx, _kernel_gradient(padded, dy, w.shape, stride)

        return tf.nn.conv2d(x, w, strides=stride, padding=padding), grad

    return conv(x, w)


def gpu_visible() -> bool:
    """Whether TensorFlow sees a GPU: the plain ops then, whose gradients cuDNN computes well."""
    return bool(tf.config.list_logical_devices("GPU"))


def onednn_enabled() -> bool:
    """Whether TensorFlow's CPU ops run on oneDNN in this process (``TF_ENABLE_ONEDNN_OPTS`` and the build)."""
    try:
        from tensorflow.python.util import _pywrap_util_port
    except ImportError:  # the private module moved: assume the default of x86 builds
        return True
    return bool(_pywrap_util_port.IsMklEnabled())


def split_grouped_conv(x: tf.Tensor, w: tf.Tensor, stride: int, padding: Padding) -> tf.Tensor:
    """A grouped convolution (``w``: ``[k, k, C_in / groups, C_out]``) as one plain convolution per group, their
    outputs concatenated: the same sums, in a form every kernel set differentiates."""
    groups = x.shape[-1] // w.shape[2]
    inputs, kernels = tf.split(x, groups, axis=-1), tf.split(w, groups, axis=-1)
    outputs = [tf.nn.conv2d(xi, wi, strides=stride, padding=padding) for xi, wi in zip(inputs, kernels)]
    return tf.concat(outputs, axis=-1)
