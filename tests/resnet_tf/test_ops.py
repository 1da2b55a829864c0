"""Tests of the low-level layers in resnet_tf.ops."""

import numpy as np
import pytest
import tensorflow as tf

from resnet_tf.ops import (
    BatchNorm,
    ConvOp,
    FcOp,
    avg_pool_op,
    fixed_padding,
    max_pool_op,
    symmetric_max_pool,
)
from tests.helpers import reference_conv_gradients


def test_conv_op_variables_and_shapes():
    rng = tf.random.Generator.from_seed(1)
    conv = ConvOp(3, 8, kernel_size=3, stride=2, rng=rng, name="c")
    assert sorted(v.name for v in conv.variables) == [
        "c/b:0",
        "c/bn/beta:0",
        "c/bn/gamma:0",
        "c/bn/moving_mean:0",
        "c/bn/moving_variance:0",
        "c/w:0",
    ]
    assert conv(tf.zeros([2, 33, 33, 3])).shape == (2, 17, 17, 8)
    np.testing.assert_allclose(conv.b.numpy(), 0.01)
    limit = np.sqrt(6 / (9 * 3 + 9 * 8))
    assert np.abs(conv.w.numpy()).max() <= limit and np.abs(conv.w.numpy()).max() > 0.5 * limit


def test_conv_op_without_bn_adds_bias_and_activation():
    conv = ConvOp(1, 1, kernel_size=1, use_bn=False, activation=tf.nn.relu, name="c")
    conv.w.assign([[[[2.0]]]])
    conv.b.assign([-1.0])
    out = conv(tf.constant([[[[0.25]], [[3.0]]]]))
    np.testing.assert_allclose(out.numpy().ravel(), [0.0, 5.0])


def test_strided_same_padding_is_symmetric():
    x = tf.reshape(tf.range(1, 26, dtype=tf.float32), [1, 5, 5, 1])
    padded = fixed_padding(x, 3)
    assert padded.shape == (1, 7, 7, 1)
    assert padded[0, 0, 0, 0] == 0 and padded[0, 6, 6, 0] == 0 and padded[0, 1, 1, 0] == 1


@pytest.mark.parametrize("training", [False, True])
@pytest.mark.parametrize("n_in", [3, 4, 16])
@pytest.mark.parametrize("kernel_size,stride", [(1, 1), (1, 2), (3, 1), (3, 2), (7, 2)])
def test_conv_op_gradients_match_a_float64_reference(n_in, kernel_size, stride, training):
    # TF 2.21's oneDNN kernels (on for the port) got the kernel gradient of strided 1x1 convolutions with
    # 1-5 input channels wrong by 30-100% on AVX2 CPUs; narrow networks have such shortcuts.
    rng = np.random.default_rng(kernel_size * 10 + stride + n_in)
    conv = ConvOp(n_in, 8, kernel_size, stride, use_bn=False, activation=None, rng=tf.random.Generator.from_seed(0))
    x = tf.constant(rng.normal(size=(8, 14, 14, n_in)).astype(np.float32))
    out = -(-14 // stride)
    dy = rng.normal(size=(8, out, out, 8)).astype(np.float32)

    @tf.function
    def gradients(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = conv(x, training=training)  # training: padded strided convolutions, 1x1 as matrix products
            loss = tf.reduce_sum(y * dy)
        return (y.shape[1],) + tuple(tape.gradient(loss, [x, conv.w]))

    size, dx, dw = gradients(x)
    want_dx, want_dw = reference_conv_gradients(x.numpy(), conv.w.numpy(), dy, stride)
    assert size == out
    np.testing.assert_allclose(dw.numpy(), want_dw, rtol=1e-4, atol=1e-4 * np.abs(want_dw).max())
    np.testing.assert_allclose(dx.numpy(), want_dx, rtol=1e-4, atol=1e-4 * np.abs(want_dx).max())


def test_pool_ops_defaults_and_bad_padding():
    x = tf.reshape(tf.range(16, dtype=tf.float32), [1, 4, 4, 1])
    np.testing.assert_allclose(max_pool_op(x).numpy().ravel(), [5, 7, 13, 15])
    np.testing.assert_allclose(avg_pool_op(x).numpy().ravel(), [2.5, 4.5, 10.5, 12.5])
    with pytest.raises(ValueError, match="padding"):
        max_pool_op(x, padding="same")


@pytest.mark.parametrize("jit", [False, True])
def test_symmetric_max_pool_equals_pad_then_pool_with_its_gradient(jit):
    x = tf.nn.relu(np.random.default_rng(0).normal(size=(2, 10, 10, 3)).astype(np.float32))
    dy = tf.constant(np.random.default_rng(1).normal(size=(2, 5, 5, 3)).astype(np.float32))

    @tf.function(jit_compile=jit)
    def both(x):
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(x)
            ours = symmetric_max_pool(x, 3, 2)
            reference = max_pool_op(fixed_padding(x, 3), kh=3, kw=3, dh=2, dw=2, padding="VALID")
        return ours, reference, tape.gradient(ours, x, dy), tape.gradient(reference, x, dy)

    ours, reference, grad, reference_grad = both(x)
    np.testing.assert_array_equal(ours.numpy(), reference.numpy())  # a maximum selects: the same bits
    # Each input's gradient is a sum of the dy of the windows it is the maximum of: at most
    # ceil(3/2)^2 = 4 overlapping 3x3/2 windows. Kernels may add them in another order (oneDNN on AVX-512
    # does, by 1 ulp). Each order of a k-term float32 sum is within gamma = (k-1)u / (1-(k-1)u) sum|dy| of
    # the exact sum (u = 2^-24), so two orders differ by at most twice that. sum|dy| is the gradient of |dy|,
    # routed to the same maxima.
    terms, unit = 4, 2.0**-24
    gamma = (terms - 1) * unit / (1 - (terms - 1) * unit)
    with tf.GradientTape() as tape:
        tape.watch(x)
        routed = max_pool_op(fixed_padding(x, 3), kh=3, kw=3, dh=2, dw=2, padding="VALID")
    abs_sum = tape.gradient(routed, x, tf.abs(dy)).numpy()
    bound = 2 * gamma * abs_sum
    assert np.all(np.abs(grad.numpy() - reference_grad.numpy()) <= bound)
    assert np.count_nonzero(grad.numpy()) > 0


def test_fc_op_returns_logits():
    fc = FcOp(4, 3, name="fc")
    x = tf.ones([2, 4])
    np.testing.assert_allclose(fc(x).numpy(), x.numpy() @ fc.w.numpy() + 0.01, rtol=1e-6)


def test_batch_norm_training_uses_batch_statistics_and_updates_moving_averages():
    bn = BatchNorm(2, momentum=0.9)
    x = tf.random.stateless_normal([8, 4, 4, 2], seed=[1, 2]) * [3.0, 0.5] + [5.0, -2.0]
    y = bn(x, training=True).numpy()
    np.testing.assert_allclose(y.mean(axis=(0, 1, 2)), 0.0, atol=1e-4)
    np.testing.assert_allclose(y.std(axis=(0, 1, 2)), 1.0, atol=1e-3)
    batch_mean = x.numpy().mean(axis=(0, 1, 2))
    batch_var = x.numpy().var(axis=(0, 1, 2), ddof=1)  # moving variance uses the unbiased estimate
    np.testing.assert_allclose(bn.moving_mean.numpy(), 0.1 * batch_mean, rtol=1e-4)
    np.testing.assert_allclose(bn.moving_variance.numpy(), 0.9 + 0.1 * batch_var, rtol=1e-4)


def test_batch_norm_inference_uses_moving_averages_and_does_not_update():
    bn = BatchNorm(2)
    bn.moving_mean.assign([1.0, -1.0])
    bn.moving_variance.assign([4.0, 0.25])
    bn.gamma.assign([2.0, 1.0])
    bn.beta.assign([0.5, 0.0])
    x = tf.fill([1, 1, 1, 2], 3.0)
    y = bn(x, training=False).numpy().ravel()
    eps = bn.epsilon
    np.testing.assert_allclose(y, [2 * 2 / np.sqrt(4 + eps) + 0.5, 4 / np.sqrt(0.25 + eps)], rtol=1e-5)
    np.testing.assert_allclose(bn.moving_mean.numpy(), [1.0, -1.0])


def test_batch_norm_folds_conv_bias_exactly():
    """Folding the bias into the mean equals adding it first, in both modes, moving stats included."""
    x = tf.random.stateless_normal([4, 3, 3, 2], seed=[3, 4])
    bias = tf.constant([0.7, -0.3])
    folded, explicit = BatchNorm(2), BatchNorm(2)
    for training in (True, False):
        a = folded(x, training, bias=bias)
        b = explicit(x + bias, training)
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-5)
    np.testing.assert_allclose(folded.moving_mean.numpy(), explicit.moving_mean.numpy(), atol=1e-6)


def test_invalid_settings_raise():
    with pytest.raises(ValueError):
        ConvOp(3, 0)
    with pytest.raises(ValueError):
        BatchNorm(4, momentum=1.5)
