"""Low-level layers on ``tf.nn``: the TF2 port of the original ``conv_op``, ``fc_op`` and pooling helpers.

Each layer with weights is a small ``tf.Module`` that creates its ``tf.Variable``s once, in
``__init__``, with short fixed names (``w``, ``b``, ``gamma``, ``beta``, ``moving_mean``,
``moving_variance``). Stateless ops (pooling, padding) are plain functions. Variables are always
float32; a layer casts them to the dtype of its input, so the same weights serve float32,
float16 and bfloat16 computation.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import tensorflow as tf

from resnet_tf.kernels import KernelPolicy, detect_policy
from resnet_tf.specs import BN_EPSILON, BN_MOMENTUM

Activation = Callable[[tf.Tensor], tf.Tensor] | None

# The original initialized every bias to 0.01 (tf.constant_initializer(0.01)); kept for continuity.
BIAS_INIT = 0.01
PADDINGS = ("SAME", "VALID")


def glorot_uniform(shape: tuple[int, ...], fan_in: int, fan_out: int, rng: tf.random.Generator) -> tf.Tensor:
    """Xavier/Glorot uniform values (the original's ``xavier_initializer``) drawn from ``rng``."""
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(shape, minval=-limit, maxval=limit, dtype=tf.float32)


def symmetric_paddings(kernel_size: int) -> list[list[int]]:
    """Explicit NHWC paddings of ``kernel_size - 1`` in total on height and width, split evenly (one more
    at the end if odd): Keras' ResNet50 and TF-Slim pad so, where a strided ``SAME`` op in TF would pad
    more at the bottom/right than at the top/left."""
    pad_total = kernel_size - 1
    pad_beg = pad_total // 2
    pad_end = pad_total - pad_beg
    return [[0, 0], [pad_beg, pad_end], [pad_beg, pad_end], [0, 0]]


def fixed_padding(x: tf.Tensor, kernel_size: int, pad_value: float = 0.0) -> tf.Tensor:
    """``x`` padded by :func:`symmetric_paddings` with ``pad_value``."""
    return tf.pad(x, symmetric_paddings(kernel_size), constant_values=pad_value)


def _check_padding(padding: str) -> str:
    if padding not in PADDINGS:
        raise ValueError(f"padding must be one of {PADDINGS}, got {padding!r}")
    return padding


def _pool(pool_fn, x: tf.Tensor, kh: int, kw: int, dh: int, dw: int, padding: str, name: str) -> tf.Tensor:
    _check_padding(padding)
    return pool_fn(x, ksize=[1, kh, kw, 1], strides=[1, dh, dw, 1], padding=padding, name=name)


def max_pool_op(
    x: tf.Tensor, name: str = "max_pool", kh: int = 2, kw: int = 2, dh: int = 2, dw: int = 2, padding: str = "SAME"
) -> tf.Tensor:
    """Max pooling over NHWC ``x`` with the original's 2x2/2 defaults."""
    return _pool(tf.nn.max_pool2d, x, kh, kw, dh, dw, padding, name)


def avg_pool_op(
    x: tf.Tensor, name: str = "avg_pool", kh: int = 2, kw: int = 2, dh: int = 2, dw: int = 2, padding: str = "SAME"
) -> tf.Tensor:
    """Average pooling over NHWC ``x`` with the original's 2x2/2 defaults."""
    return _pool(tf.nn.avg_pool2d, x, kh, kw, dh, dw, padding, name)


def symmetric_max_pool(x: tf.Tensor, kernel_size: int = 3, stride: int = 2) -> tf.Tensor:
    """Max pooling after zero padding by :func:`symmetric_paddings` (Keras' ResNet50 stem pool): ``x`` padded,
    then pooled (VALID), a form with a multi-threaded gradient that XLA and TFLite also take. The padded
    positions count as zeros, the same for the non-negative (post-ReLU) inputs of the stem as ignoring them."""
    return tf.nn.max_pool2d(tf.pad(x, symmetric_paddings(kernel_size)), kernel_size, stride, "VALID")


def global_avg_pool(x: tf.Tensor) -> tf.Tensor:
    """Mean over height and width: ``[N, H, W, C] -> [N, C]`` (the standard ResNet head)."""
    return tf.reduce_mean(x, axis=[1, 2])


class BatchNorm(tf.Module):
    """Batch normalization over the channel axis of NHWC inputs, on TF's fused kernel.

    In training it normalizes with the batch's statistics and updates ``moving_mean`` and
    ``moving_variance`` in the same op; at inference it normalizes with the moving statistics.
    (The original called batch norm without a ``training`` flag and so never normalized at all.)

    With ``sync=True`` and several ``tf.distribute`` replicas, the training statistics are those of the
    global batch: every replica's sums are all-reduced (one collective per layer), as Keras'
    ``SyncBatchNormalization`` does. On one replica it is the fused op either way.
    """

    def __init__(
        self,
        channels: int,
        momentum: float = BN_MOMENTUM,
        epsilon: float = BN_EPSILON,
        sync: bool = False,
        name: str = "bn",
    ):
        super().__init__(name=name)
        if channels <= 0:
            raise ValueError(f"channels must be positive, got {channels}")
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum}")
        self.momentum = momentum
        self.epsilon = epsilon
        self.sync = sync
        with self.name_scope:
            self.gamma = tf.Variable(tf.ones([channels]), name="gamma")
            self.beta = tf.Variable(tf.zeros([channels]), name="beta")
            self.moving_mean = tf.Variable(tf.zeros([channels]), trainable=False, name="moving_mean")
            self.moving_variance = tf.Variable(tf.ones([channels]), trainable=False, name="moving_variance")

    @tf.Module.with_name_scope
    def __call__(self, x: tf.Tensor, training: bool, bias: tf.Variable | None = None) -> tf.Tensor:
        """Normalizes ``x``; ``bias``, when given, is a per-channel term to treat as added to ``x`` first.

        Folding a preceding convolution's bias in here costs a vector subtraction instead of a full
        ``bias_add`` over the feature map: in training the bias cancels against the batch mean, at
        inference it shifts the moving mean. The moving statistics stay those of ``x + bias``.
        """
        if not training:
            mean_in = self.moving_mean if bias is None else self.moving_mean - bias
            y, _, _ = tf.compat.v1.nn.fused_batch_norm(
                x,
                self.gamma,
                self.beta,
                mean=mean_in,
                variance=self.moving_variance,
                epsilon=self.epsilon,
                is_training=False,
            )
            return y
        replicas = tf.distribute.get_replica_context()
        if self.sync and replicas is not None and replicas.num_replicas_in_sync > 1:
            y, mean, variance = self._global_batch_norm(x, replicas)
        else:
            y, mean, variance = tf.compat.v1.nn.fused_batch_norm(
                x, self.gamma, self.beta, epsilon=self.epsilon, is_training=True
            )
        self._update_moving(mean if bias is None else mean + bias, variance)
        return y

    def _global_batch_norm(
        self, x: tf.Tensor, replicas: tf.distribute.ReplicaContext
    ) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        """Normalizes with the statistics of all replicas' batches; returns ``(y, mean, unbiased variance)``
        like the fused op."""
        xf = tf.cast(x, tf.float32)
        count = tf.cast(tf.reduce_prod(tf.shape(xf)[:-1]), tf.float32)
        total, squares, count = replicas.all_reduce(
            tf.distribute.ReduceOp.SUM, [tf.reduce_sum(xf, [0, 1, 2]), tf.reduce_sum(tf.square(xf), [0, 1, 2]), count]
        )
        mean = total / count
        variance = tf.maximum(squares / count - tf.square(mean), 0.0)
        y = tf.nn.batch_normalization(xf, mean, variance, self.beta, self.gamma, self.epsilon)
        return tf.cast(y, x.dtype), mean, variance * count / tf.maximum(count - 1.0, 1.0)

    def _update_moving(self, mean: tf.Tensor, variance: tf.Tensor) -> None:
        # A non-finite batch (a diverging step, a broken image) must not poison the moving averages
        # for good: such channels keep their previous statistics.
        for moving, batch in ((self.moving_mean, mean), (self.moving_variance, variance)):
            new = self.momentum * moving + (1.0 - self.momentum) * batch
            moving.assign(tf.where(tf.math.is_finite(new), new, moving))


class ConvOp(tf.Module):
    """The port of ``conv_op``: a 2-D convolution with kernel ``w`` and bias ``b``, then optional
    batch norm (sub-module ``bn``) and activation.

    ``padding="SAME"`` with a stride above 1 pads symmetrically (see :func:`fixed_padding`), as
    Keras' ResNet50 does, so that weights imported from Keras give the same outputs; with
    ``symmetric_padding=False`` it pads as ``tf.nn.conv2d``'s ``SAME`` (more at the bottom/right), as the
    original did. ``kernel_policy``: how the convolution is computed on this device (default: the process's,
    :func:`resnet_tf.kernels.detect_policy`).
    """

    def __init__(
        self,
        n_in: int,
        n_out: int,
        kernel_size: int = 3,
        stride: int = 1,
        padding: str = "SAME",
        use_bn: bool = True,
        activation: Activation = tf.nn.relu,
        rng: tf.random.Generator | None = None,
        bn_momentum: float = BN_MOMENTUM,
        bn_epsilon: float = BN_EPSILON,
        sync_bn: bool = False,
        symmetric_padding: bool = True,
        groups: int = 1,
        kernel_policy: KernelPolicy | None = None,
        name: str = "conv",
    ):
        super().__init__(name=name)
        if min(n_in, n_out, kernel_size, stride, groups) <= 0:
            raise ValueError(
                f"n_in, n_out, kernel_size, stride and groups must be positive, got {n_in}, {n_out}, {kernel_size}, "
                f"{stride}, {groups}"
            )
        if n_in % groups or n_out % groups:
            raise ValueError(f"n_in and n_out must be multiples of groups, got {n_in}, {n_out} and {groups} groups")
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = _check_padding(padding)
        self.symmetric_padding = symmetric_padding
        self.kernel_policy = kernel_policy or detect_policy()
        self.activation = activation
        rng = rng or tf.random.Generator.from_non_deterministic_state()
        # a grouped kernel holds each group's input channels only (tf.nn.conv2d's form): [k, k, n_in / groups, n_out]
        fan_in, fan_out = kernel_size * kernel_size * n_in // groups, kernel_size * kernel_size * n_out
        with self.name_scope:
            self.w = tf.Variable(
                glorot_uniform((kernel_size, kernel_size, n_in // groups, n_out), fan_in, fan_out, rng), name="w"
            )
            self.b = tf.Variable(tf.fill([n_out], BIAS_INIT), name="b")
            self.bn = (
                BatchNorm(n_out, momentum=bn_momentum, epsilon=bn_epsilon, sync=sync_bn, name="bn") if use_bn else None
            )

    def _convolve(self, x: tf.Tensor, training: bool) -> tf.Tensor:
        padding = self.padding
        if padding == "SAME" and self.stride > 1 and self.symmetric_padding:
            padding = symmetric_paddings(self.kernel_size)
        return self.kernel_policy.conv2d(x, tf.cast(self.w, x.dtype), self.stride, padding, training)

    @tf.Module.with_name_scope
    def __call__(self, x: tf.Tensor, training: bool = False, batch_statistics: bool | None = None) -> tf.Tensor:
        """Convolves NHWC ``x``. ``training``: a training step's convolution (computed as the layer's kernel
        policy says, :mod:`resnet_tf.kernels`) and batch statistics in the batch norm, unless
        ``batch_statistics`` is False (batch norm as at inference while training: ``--freeze-bn``)."""
        z = self._convolve(x, training)
        if self.bn is not None:
            batch = training if batch_statistics is None else batch_statistics
            z = self.bn(z, batch, bias=self.b)  # batch-norm statistics stay float32
        else:
            z = tf.nn.bias_add(z, tf.cast(self.b, z.dtype))
        if self.activation is not None:
            z = self.activation(z)
        return z


class FcOp(tf.Module):
    """The port of ``fc_op``: a fully connected layer with weights ``w`` and bias ``b``.

    Returns logits only; probabilities are a separate step (:func:`resnet_tf.probabilities`) so that
    the loss is never fed activations by mistake.
    """

    def __init__(self, n_in: int, n_out: int, rng: tf.random.Generator | None = None, name: str = "fc"):
        super().__init__(name=name)
        if min(n_in, n_out) <= 0:
            raise ValueError(f"n_in and n_out must be positive, got {n_in}, {n_out}")
        rng = rng or tf.random.Generator.from_non_deterministic_state()
        with self.name_scope:
            self.w = tf.Variable(glorot_uniform((n_in, n_out), n_in, n_out, rng), name="w")
            self.b = tf.Variable(tf.fill([n_out], BIAS_INIT), name="b")

    @tf.Module.with_name_scope
    def __call__(self, x: tf.Tensor) -> tf.Tensor:
        """``x @ w + b`` for ``x`` of shape ``[N, n_in]``."""
        return tf.matmul(x, tf.cast(self.w, x.dtype)) + tf.cast(self.b, x.dtype)
