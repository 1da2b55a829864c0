"""Tests of the training convolutions in resnet_tf.convolutions: the same convolution, its gradients the same
sums in another order, and the way chosen per shape and dtype."""

import numpy as np
import pytest
import tensorflow as tf

from resnet_tf.convolutions import onednn_enabled, pointwise_conv, small_map_conv, split_grouped_conv
from resnet_tf.kernels import KernelPolicy
from tests.helpers import reference_conv_gradients


def gradients(conv, x, kernel, dy):
    """``(y, dx, dkernel)`` of ``sum(conv(x, kernel) * dy)``."""
    with tf.GradientTape() as tape:
        tape.watch([x, kernel])
        y = conv(x, kernel)
    return (y, *tape.gradient(y, [x, kernel], dy))


def within_float32_reorder(ours, native, magnitudes, terms) -> bool:
    """Two float32 orders of a k-term sum differ by at most 2 gamma_k sum|terms| (gamma_k = (k-1)u / (1-(k-1)u),
    u = 2^-24); ``magnitudes`` is the same gradient of |x|, |kernel|, |dy| (sum|terms|)."""
    gamma = (terms - 1) * 2.0**-24 / (1 - (terms - 1) * 2.0**-24)
    return bool(np.all(np.abs(ours.numpy() - native.numpy()) <= 2 * gamma * magnitudes.numpy()))


def random_inputs(n, h, w, n_in, n_out, k, out_h, out_w, seed=0):
    rng = np.random.default_rng(seed)
    return (
        tf.constant(rng.normal(size=(n, h, w, n_in)).astype(np.float32)),
        tf.constant(rng.normal(size=(k, k, n_in, n_out)).astype(np.float32)),
        tf.constant(rng.normal(size=(n, out_h, out_w, n_out)).astype(np.float32)),
    )


@pytest.mark.parametrize("shape", [(2, 5, 7, 6, 3), (4, 3, 3, 64, 128)])
def test_pointwise_conv_is_the_convolution_and_its_gradients_are_the_same_sums(shape):
    n, h, w, n_in, n_out = shape
    x, kernel, dy = random_inputs(n, h, w, n_in, n_out, 1, h, w)
    native_conv = lambda x, k: tf.nn.conv2d(x, k, 1, "VALID")
    ours, native = gradients(pointwise_conv, x, kernel, dy), gradients(native_conv, x, kernel, dy)
    np.testing.assert_array_equal(ours[0].numpy(), native[0].numpy())  # the same op: the same bits
    magnitudes = gradients(native_conv, tf.abs(x), tf.abs(kernel), tf.abs(dy))
    for ours_grad, native_grad, magnitude, terms in zip(ours[1:], native[1:], magnitudes[1:], (n_out, n * h * w)):
        assert within_float32_reorder(ours_grad, native_grad, magnitude, terms)


@pytest.mark.parametrize("size,stride", [(2, 1), (7, 1), (5, 1), (5, 2), (9, 2), (15, 2), (8, 2)])
def test_small_map_conv_is_the_convolution_and_its_gradients_are_the_same_sums(size, stride):
    # stride 2 takes an input padded already (VALID), of odd or even size
    padding = "SAME" if stride == 1 else "VALID"
    out = size if stride == 1 else (size - 3) // stride + 1
    x, kernel, dy = random_inputs(3, size, size, 16, 8, 3, out, out, seed=size + stride)
    native_conv = lambda x, k: tf.nn.conv2d(x, k, stride, padding)
    ours = gradients(lambda x, k: small_map_conv(x, k, stride), x, kernel, dy)
    native = gradients(native_conv, x, kernel, dy)
    np.testing.assert_array_equal(ours[0].numpy(), native[0].numpy())
    magnitudes = gradients(native_conv, tf.abs(x), tf.abs(kernel), tf.abs(dy))
    for ours_grad, native_grad, magnitude, terms in zip(ours[1:], native[1:], magnitudes[1:], (9 * 8, 3 * out * out)):
        assert within_float32_reorder(ours_grad, native_grad, magnitude, terms)


@pytest.mark.parametrize("size,stride", [(6, 1), (7, 2), (14, 2)])
def test_bfloat16_gradients_in_training_match_a_float64_reference(size, stride):
    from resnet_tf.ops import ConvOp

    rng = np.random.default_rng(size)
    cpu = KernelPolicy("cpu", onednn_enabled())  # the CPU's way on any machine
    conv = ConvOp(
        16, 8, 3, stride, use_bn=False, activation=None, rng=tf.random.Generator.from_seed(0), kernel_policy=cpu
    )
    conv.w.assign(tf.cast(tf.cast(conv.w, tf.bfloat16), tf.float32))  # representable: the reference sees the same
    x = tf.cast(tf.constant(rng.normal(size=(4, size, size, 16)).astype(np.float32)), tf.bfloat16)
    out = -(-size // stride)
    dy = tf.cast(tf.constant(rng.normal(size=(4, out, out, 8)).astype(np.float32)), tf.bfloat16)

    def gradients(training):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = conv(x, training=training)
        return tape.gradient(y, [x, conv.w], dy)

    (dx, dw), (native_dx, _) = gradients(True), gradients(False)
    # at stride 1 the input's gradient is TensorFlow's own op on the same values in both forms: the same bits
    # (its bfloat16 accuracy is the kernel's: oneDNN sums in float32, TensorFlow's own kernels round more
    # often). At stride 2 the training form pads first: tested against float64 in float32 (test_ops.py).
    if stride == 1:
        np.testing.assert_array_equal(dx.numpy(), native_dx.numpy())
    xf, dyf = x.numpy().astype(np.float64), dy.numpy().astype(np.float64)
    want_dw = reference_conv_gradients(xf, conv.w.numpy(), dyf, stride)[1]
    sums = reference_conv_gradients(np.abs(xf), np.abs(conv.w.numpy()), np.abs(dyf), stride)[1]
    # the kernel's gradient, computed here: bfloat16 products summed in float32 and rounded once (2^-9
    # relative); 2^-7 of sum|terms| bounds it
    assert np.all(np.abs(dw.numpy() - want_dw) <= 2.0**-7 * sums)


def block_diagonal(kernel: tf.Tensor, groups: int) -> tf.Tensor:
    """A grouped kernel ``[k, k, C_in / groups, C_out]`` as the dense kernel with zeros between groups."""
    k, _, per_group, n_out = kernel.shape
    out_per_group = n_out // groups
    dense = np.zeros((k, k, per_group * groups, n_out), np.float32)
    for g in range(groups):
        rows, cols = slice(g * per_group, (g + 1) * per_group), slice(g * out_per_group, (g + 1) * out_per_group)
        dense[:, :, rows, cols] = kernel.numpy()[:, :, :, cols]
    return tf.constant(dense)


@pytest.mark.parametrize("stride,padding", [(1, "SAME"), (2, "VALID")])
def test_a_grouped_convolution_split_by_group_is_the_dense_block_diagonal_one(stride, padding):
    groups, n_in, n_out = 4, 8, 12
    x, kernel, _ = random_inputs(2, 9, 9, n_in, n_out, 3, 1, 1)
    kernel = kernel[:, :, : n_in // groups, :]
    out = 9 if stride == 1 else 4
    dy = tf.constant(np.random.default_rng(1).normal(size=(2, out, out, n_out)).astype(np.float32))
    y, dx, dw = gradients(lambda a, b: split_grouped_conv(a, b, stride, padding), x, kernel, dy)

    def dense(a, b):
        return tf.nn.conv2d(a, block_diagonal(b, groups) if b.shape[2] != a.shape[-1] else b, stride, padding)

    ry, rdx, _ = gradients(dense, x, kernel, dy)
    my, mdx, _ = gradients(dense, tf.abs(x), tf.abs(kernel), tf.abs(dy))
    terms = 9 * n_in  # the dense sums (zeros between groups add exactly)
    assert within_float32_reorder(y, ry, my, terms) and within_float32_reorder(dx, rdx, mdx, terms)
    # the kernel's gradient: each group's block of the dense kernel's gradient
    _, _, rdw_dense = gradients(lambda a, b: tf.nn.conv2d(a, b, stride, padding), x, block_diagonal(kernel, groups), dy)
    _, _, mdw_dense = gradients(
        lambda a, b: tf.nn.conv2d(a, b, stride, padding), tf.abs(x), block_diagonal(tf.abs(kernel), groups), tf.abs(dy)
    )
    per, cols = n_in // groups, n_out // groups
    blocks = [(slice(g * per, (g + 1) * per), slice(g * cols, (g + 1) * cols)) for g in range(groups)]
    rdw = tf.concat([rdw_dense[:, :, r, c] for r, c in blocks], axis=-1)
    mdw = tf.concat([mdw_dense[:, :, r, c] for r, c in blocks], axis=-1)
    assert within_float32_reorder(dw, rdw, mdw, 2 * out * out)
