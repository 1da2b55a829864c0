"""Tests of the kernel policies: which implementation each computes a convolution with, on any machine (the
graphs are built, and only the CPU's forms run), and that the policy is chosen once for a network."""

import numpy as np
import pytest
import tensorflow as tf

from resnet_tf.convolutions import gpu_visible, onednn_enabled
from resnet_tf.kernels import KernelPolicy, detect_policy
from resnet_tf.model import ResNet

GPU, ONEDNN, OWN = KernelPolicy("gpu"), KernelPolicy("cpu", True), KernelPolicy("cpu", False)


def training_graph_ops(policy: KernelPolicy, x: tf.Tensor, w: tf.Tensor, stride: int, padding) -> list:
    """The op types of a training convolution's forward and kernel-gradient graph under ``policy``."""

    @tf.function
    def grad(x, w):
        with tf.GradientTape() as tape:
            tape.watch(w)
            y = policy.conv2d(x, w, stride, padding, training=True)
        return tape.gradient(y, w)

    return [op.type for op in grad.get_concrete_function(x, w).graph.get_operations()]


@pytest.mark.parametrize(
    "dtype,size,k,stride,padding,computed_here",
    [
        (tf.bfloat16, 7, 3, 1, "SAME", True),  # 49 output positions: the small-map way
        (tf.bfloat16, 8, 3, 1, "SAME", False),  # 64: oneDNN's kernel gradient
        (tf.bfloat16, 15, 3, 2, "VALID", True),  # padded input of a stride-2 layer, 7x7 out
        (tf.bfloat16, 17, 3, 2, "VALID", False),  # 8x8 out
        (tf.float32, 4, 3, 1, "SAME", False),  # float32: oneDNN's kernel is faster at every size measured
        (tf.bfloat16, 4, 3, 2, "SAME", False),  # asymmetric SAME padding (the original layout): the plain op
        (tf.float32, 32, 1, 1, "VALID", True),  # 1x1: matrix products at every size and dtype
    ],
)
def test_a_cpu_computes_the_kernel_gradient_itself_only_where_it_was_measured_faster(
    dtype, size, k, stride, padding, computed_here
):
    x, w = tf.zeros([2, size, size, 8], dtype), tf.zeros([k, k, 8, 4], dtype)
    for policy in (ONEDNN, OWN):
        assert ("Conv2DBackpropFilter" not in training_graph_ops(policy, x, w, stride, padding)) == computed_here
    assert "Conv2DBackpropFilter" in training_graph_ops(GPU, x, w, stride, padding)  # cuDNN's own, always


@pytest.mark.parametrize("policy,convolutions", [(GPU, 1), (ONEDNN, 1), (OWN, 4)])
def test_a_grouped_convolution_is_split_only_where_tensorflow_cannot_differentiate_it(policy, convolutions):
    ops = training_graph_ops(policy, tf.zeros([2, 8, 8, 8]), tf.zeros([3, 3, 2, 8]), 1, "SAME")
    assert ops.count("Conv2D") == convolutions


@pytest.mark.parametrize("policy", [GPU, ONEDNN, OWN])
def test_every_policy_pads_strided_training_convolutions_and_keeps_explicit_padding_at_inference(policy):
    x, w, padding = tf.zeros([2, 9, 9, 4]), tf.zeros([3, 3, 4, 4]), [[0, 0], [1, 1], [1, 1], [0, 0]]
    training = training_graph_ops(policy, x, w, 2, padding)
    inference = tf.function(lambda x, w: policy.conv2d(x, w, 2, padding, training=False))
    graph = inference.get_concrete_function(x, w).graph
    paddings = [op.get_attr("padding") for op in graph.get_operations() if op.type == "Conv2D"]
    assert "Pad" in training and paddings == [b"EXPLICIT"]


def test_the_process_policy_follows_its_devices_and_a_network_uses_one_policy_throughout():
    expected = "gpu" if gpu_visible() else ("cpu-onednn" if onednn_enabled() else "cpu")
    assert detect_policy().name == expected
    model = ResNet("resnext50_32x4d", 3, width=16, kernel_policy=OWN)
    convs = [m for m in model.submodules if hasattr(m, "kernel_policy")]
    assert {m.kernel_policy for m in convs} == {OWN} and "one convolution per group" in OWN.describe()


def test_a_grouped_network_trains_with_the_split_form_on_any_machine():
    model = ResNet("resnext50_32x4d", 3, width=16, seed=0, kernel_policy=OWN)
    images = tf.random.stateless_uniform([2, 32, 32, 3], seed=[3, 4])
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(model(images, training=True))
    kernels = model.kernels()
    grads = tape.gradient(loss, kernels)
    assert all(np.all(np.isfinite(g.numpy())) and np.any(g.numpy() != 0) for g in grads)
