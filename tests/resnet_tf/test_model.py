"""Tests of the ResNet family: parameter counts, shapes, names, gradients, checkpoints."""

import numpy as np
import pytest
import tensorflow as tf

from resnet_tf.model import ResNet
from resnet_tf.networks import network_spec
from resnet_tf.ops import ConvOp
from resnet_tf.runs.defaults import default_stem
from resnet_tf.specs import head_size


def count(model) -> int:
    return sum(int(np.prod(v.shape)) for v in model.variables)


@pytest.mark.parametrize("depth,expected", [(50, 25_636_712), (101, 44_707_176), (152, 60_419_944)])
def test_bottleneck_parameter_counts_equal_keras(depth, expected):
    # Keras' ResNet50/101/152 with 1000 classes, counting batch-norm moving statistics.
    assert count(ResNet(depth, 1000)) == expected


def basic_resnet_count(blocks, num_classes=1000):
    """Derivation for ResNet-18/34 with the port's layout (conv kernel + bias, BN with 4 vectors)."""
    conv = lambda k, i, o: k * k * i * o + o + 4 * o
    total = conv(7, 3, 64)  # stem
    n_in = 64
    for s, n in enumerate(blocks):
        width = 64 * 2**s
        for b in range(n):
            total += conv(3, n_in, width) + conv(3, width, width)
            if n_in != width or (b == 0 and s > 0):
                total += conv(1, n_in, width)  # projection shortcut
            n_in = width
    return total + 512 * num_classes + num_classes


@pytest.mark.parametrize("depth", [18, 34])
def test_basic_parameter_counts_match_derivation(depth):
    assert count(ResNet(depth, 1000)) == basic_resnet_count(network_spec(f"resnet{depth}").blocks)
    assert basic_resnet_count((2, 2, 2, 2)) == 11_703_912  # ResNet-18: 11,689,512 torchvision + biases/BN stats


def test_shapes_after_every_stage_at_224():
    model = ResNet(50, 10)
    features = model.features(tf.zeros([1, 224, 224, 3]))
    shapes = [tuple(features[k].shape[1:]) for k in ("stem", "stage_1", "stage_2", "stage_3", "stage_4")]
    assert shapes == [(112, 112, 64), (56, 56, 256), (28, 28, 512), (14, 14, 1024), (7, 7, 2048)]
    assert model(tf.zeros([1, 224, 224, 3])).shape == (1, 10)


@pytest.mark.parametrize("size", [32, 45, 64])
def test_any_input_size_from_32(size):
    assert ResNet(18, 7, width=8)(tf.zeros([2, size, size, 3])).shape == (2, 7)


def test_variable_names_are_stable():
    names = sorted(v.name for v in ResNet(18, 5, width=4).variables)
    assert len(names) == 6 * (1 + 8 * 2 + 3) + 2
    expected = {
        "resnet/stem/conv/w:0",
        "resnet/stem/conv/b:0",
        "resnet/stem/conv/bn/gamma:0",
        "resnet/stem/conv/bn/moving_variance:0",
        "resnet/stage_1/block_1/conv_0/w:0",
        "resnet/stage_1/block_2/conv_1/bn/beta:0",
        "resnet/stage_2/block_1/shortcut/w:0",
        "resnet/stage_2/block_1/shortcut/bn/moving_mean:0",
        "resnet/stage_4/block_2/conv_1/w:0",
        "resnet/logits/w:0",
        "resnet/logits/b:0",
    }
    assert expected <= set(names)
    assert not any("stage_1/block_1/shortcut" in n for n in names)  # same shape: identity shortcut
    bottleneck = {v.name for v in ResNet(50, 5, width=4).variables}
    assert "resnet/stage_1/block_1/shortcut/w:0" in bottleneck and "resnet/stage_3/block_6/conv_2/w:0" in bottleneck


def test_eager_equals_tf_function():
    model = ResNet(18, 4, width=8)
    x = tf.random.stateless_uniform([2, 40, 40, 3], seed=[0, 1])
    eager = model(x, training=False)
    traced = tf.function(lambda t: model(t, training=False))(x)
    np.testing.assert_allclose(eager.numpy(), traced.numpy(), atol=1e-5)


def first_layer_gradient_norm(use_shortcut: bool, training: bool) -> float:
    model = ResNet(50, 10, use_shortcut=use_shortcut, width=8, seed=3)
    x = tf.random.stateless_normal([4, 64, 64, 3], seed=[5, 6])
    labels = tf.constant([1, 2, 3, 4])
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, model(x, training=training)))
    grads = tape.gradient(loss, model.trainable_variables)
    for var, grad in zip(model.trainable_variables, grads):
        if var.name.endswith("/b:0") and "logits" not in var.name:
            # Biases in front of batch norm: in training they cancel against the batch mean (zero gradient
            # by design); in inference mode they are folded into the moving mean, where the fused kernel
            # passes no gradient.
            continue
        assert grad is not None and np.any(grad.numpy() != 0), var.name
    return float(tf.norm(grads[[v.name for v in model.trainable_variables].index("resnet/stem/conv/w:0")]))


def test_gradients_reach_every_variable_and_shortcuts_keep_the_first_layer_gradient():
    # With normalization by fixed statistics (inference mode at initialization: batch norm is the identity,
    # which is how the TF1 original always ran), 50 plain layers shrink the signal at every ReLU and the
    # first layer's gradient vanishes; the identity shortcuts carry it back intact.
    assert first_layer_gradient_norm(False, training=False) < 1e-3 * first_layer_gradient_norm(True, training=False)
    # With batch statistics the plain network's gradient goes the other way: it explodes (the known
    # batch-norm gradient explosion in deep plain nets). Either way, shortcuts keep it in a sane range.
    assert first_layer_gradient_norm(False, training=True) > 10 * first_layer_gradient_norm(True, training=True)


def test_plain_network_has_no_shortcut_variables():
    names = [v.name for v in ResNet(50, 3, use_shortcut=False, width=4).variables]
    assert not any("shortcut" in n for n in names)


def test_checkpoint_round_trip(tmp_path):
    model = ResNet(18, 6, width=8, seed=1)
    x = tf.random.stateless_uniform([2, 32, 32, 3], seed=[2, 3])
    model(x, training=True)  # move the batch-norm statistics away from their initial values
    path = tf.train.Checkpoint(model=model).save(str(tmp_path / "ckpt"))
    fresh = ResNet(18, 6, width=8, seed=2)
    assert not np.allclose(fresh(x).numpy(), model(x).numpy())
    tf.train.Checkpoint(model=fresh).restore(path).assert_consumed()
    np.testing.assert_allclose(fresh(x).numpy(), model(x).numpy(), atol=1e-6)


def test_bad_arguments_raise():
    with pytest.raises(
        ValueError, match="unknown network 'resnet20'; registered: resnet10, resnet18, resnet34, resnet50,"
    ):
        ResNet(20, 10)
    with pytest.raises(ValueError, match="width 8 gives 0 inner channels in the first stage, fewer than its 32 groups"):
        ResNet("resnext50_32x4d", 10, width=8)
    with pytest.raises(ValueError, match="num_classes and width must be positive"):
        ResNet(18, 0)
    with pytest.raises(TypeError):
        ResNet(18)  # no data set's class count is a default


def test_original_layout():
    model = ResNet(50, 51, layout="original", image_size=224)
    assert model.stem.conv.w.shape == (3, 3, 3, 64) and model.stem.conv.stride == 1
    assert [stage[0].shortcut is not None for stage in model.stages] == [True] * 4  # stage 1 projects too
    assert all(block.shortcut is None for stage in model.stages for block in stage[1:])
    assert {conv.bn.epsilon for conv in model.submodules if isinstance(conv, ConvOp)} == {1e-3}
    assert model.logits.w.shape == (14 * 14 * 2048, 51)  # the flattened 14x14 map (defect 6 of the original)
    small = ResNet(18, 3, width=4, layout="original", image_size=40)
    assert small.stages[0][0].shortcut is not None  # a projection even where basic blocks keep the shape
    x = tf.random.stateless_uniform([2, 40, 40, 3], seed=[1, 2])
    assert [f.shape[1] for f in small.features(x).values()] == [40, 20, 10, 5, 3]  # SAME: ceil at every stride
    assert small(x).shape == (2, 3)
    with pytest.raises(ValueError, match="takes 40x40 images"):
        small(tf.zeros([1, 64, 64, 3]))
    with pytest.raises(ValueError, match="needs image_size"):
        ResNet(50, 3, layout="original")
    with pytest.raises(ValueError, match="layout must be one of standard, original"):
        ResNet(50, 3, layout="tf1")


def test_original_layout_pads_like_tf_same():
    """Strided convolutions and the stem pool pad as tf.nn's SAME (more at the bottom/right), as the original."""
    model = ResNet(18, 3, width=4, layout="original", image_size=40)
    conv = model.stages[1][0].convs[0]  # a strided 3x3
    x = tf.random.stateless_uniform([1, 10, 10, 4], seed=[3, 4])
    same = tf.nn.conv2d(x, conv.w, 2, "SAME")
    y = conv.bn(same, training=False, bias=conv.b)
    np.testing.assert_allclose(conv(x).numpy(), tf.nn.relu(y).numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(model.stem.pool(x).numpy(), tf.nn.max_pool2d(x, 3, 2, "SAME").numpy())


def test_kernels_are_convolution_and_dense_weights_only():
    model = ResNet(18, 3, width=4)
    kernels = model.kernels()
    assert len(kernels) == 1 + 16 + 3 + 1
    assert all(k.name.endswith("/w:0") for k in kernels)


@pytest.mark.parametrize("stem,final_map,stage_1", [("standard", 1, 8), ("small", 2, 16), ("cifar", 4, 32)])
def test_stems_set_the_resolution_of_every_stage(stem, final_map, stage_1):
    model = ResNet(18, 3, width=4, stem=stem)
    maps = model.features(tf.zeros([1, 32, 32, 3]))
    assert maps["stage_1"].shape[1] == stage_1 and maps["stage_4"].shape[1] == final_map
    assert model(tf.zeros([2, 32, 32, 3])).shape == (2, 3)
    kernel = 7 if stem == "standard" else 3
    assert model.stem.conv.w.shape == (kernel, kernel, 3, 4)
    # the same variable names whatever the stem: checkpoints and tools see one network family
    cifar = ResNet(18, 3, width=4, stem="cifar")
    assert sorted(v.name for v in model.variables) == sorted(v.name for v in cifar.variables)


def test_default_stem_by_image_size_and_the_original_layouts_own_stem():
    assert [default_stem(s) for s in (32, 64, 127, 128, 224)] == ["small", "small", "small", "standard", "standard"]
    assert [head_size(default_stem(s), s) for s in (32, 64, 128, 224)] == [2, 4, 4, 7]
    assert ResNet(18, 3, width=4, layout="original", image_size=32).stem_name == "original"
    with pytest.raises(ValueError, match="the original layout takes the stem original"):
        ResNet(18, 3, width=4, layout="original", image_size=32, stem="small")
    with pytest.raises(ValueError, match="standard layout takes the stem standard, small, cifar"):
        ResNet(18, 3, width=4, stem="original")


def test_frozen_stages_are_not_trained_and_keep_their_batch_norm_statistics():
    model = ResNet(18, 3, width=4)
    model.freeze(2)
    trained = {v.name for v in model.trained_variables()}
    assert not any(n.startswith(("resnet/stem/", "resnet/stage_1/", "resnet/stage_2/")) for n in trained)
    assert any(n.startswith("resnet/stage_3/") for n in trained) and "resnet/logits/w:0" in trained
    assert {k.name for k in model.kernels(trained_only=True)} <= trained
    before = {v.name: v.numpy() for v in model.variables if "moving" in v.name}
    model(tf.random.uniform([4, 32, 32, 3]), training=True)
    after = {v.name: v.numpy() for v in model.variables if "moving" in v.name}
    changed = {n for n in before if not np.array_equal(before[n], after[n])}
    assert changed and all(n.startswith(("resnet/stage_3/", "resnet/stage_4/")) for n in changed)
    with pytest.raises(ValueError, match="0 to 4"):
        model.freeze(5)


@pytest.mark.parametrize(
    "arch,timm_count",
    [
        ("resnet50", 25_557_032),
        ("resnet50d", 25_576_264),
        ("wide_resnet50_2", 68_883_240),
        ("resnext50_32x4d", 25_028_904),
    ],
)
def test_registered_networks_have_timms_parameters_besides_the_convolution_biases(arch, timm_count):
    model = ResNet(arch, 1000)
    biases = sum(int(m.b.shape[0]) for m in model.submodules if isinstance(m, ConvOp))
    assert sum(int(np.prod(v.shape)) for v in model.trainable_variables) - biases == timm_count


def test_resnet_d_strides_in_its_3x3_and_pools_before_its_projection():
    model = ResNet("resnet50d", 3, width=16)
    block = model.stages[1][0]
    assert [c.stride for c in block.convs] == [1, 2, 1] and block.shortcut.stride == 1 and block.pool_first
    assert [c.stride for c in ResNet(50, 3, width=16).stages[1][0].convs] == [2, 1, 1]  # Keras' ResNet50
    names = {v.name for v in model.stem.variables}
    assert {"resnet/stem/conv_1/w:0", "resnet/stem/conv_2/w:0"} <= names
    assert model.features(tf.zeros([1, 64, 64, 3]))["stem"].shape == (1, 32, 32, 16)


@pytest.mark.parametrize("arch", ["resnet50d", "wide_resnet50_2", "resnext50_32x4d"])
def test_every_new_network_trains_every_variable_at_32_px(arch):
    model = ResNet(arch, 4, width=16, seed=0)
    images = tf.random.stateless_uniform([4, 32, 32, 3], seed=[1, 2])
    with tf.GradientTape() as tape:
        logits = model(images, training=True)
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits([0, 1, 2, 3], logits))
    grads = tape.gradient(loss, model.trainable_variables)
    assert logits.shape == (4, 4) and np.isfinite(loss.numpy())
    kernels = [g for g, v in zip(grads, model.trainable_variables) if v.name.endswith("/w:0")]
    assert all(g is not None and float(tf.reduce_max(tf.abs(g))) > 0 for g in kernels)


@pytest.mark.parametrize("arch", ["resnet18", "resnet50"])
def test_zero_init_residual_starts_every_block_as_its_shortcut(arch):
    model = ResNet(arch, 5, width=8, zero_init_residual=True)
    blocks = [block for stage in model.stages for block in stage]
    assert all(not np.any(block.convs[-1].bn.gamma.numpy()) for block in blocks)
    assert all(np.all(conv.bn.gamma.numpy() == 1) for block in blocks for conv in block.convs[:-1])
    first = model.stages[0][0] if model.stages[0][0].shortcut is None else model.stages[0][1]
    x = tf.random.stateless_normal([2, 8, 8, first.n_out], seed=[1, 2])
    # the residual branch ends in 0 * (normalised) + 0: the block is relu(x) exactly, in training and inference
    for training in (True, False):
        np.testing.assert_array_equal(first(x, training=training).numpy(), tf.nn.relu(x).numpy())


def test_zero_init_residual_leaves_the_plain_network_alone():
    model = ResNet("resnet18", 5, width=8, use_shortcut=False, zero_init_residual=True)
    assert all(np.all(block.convs[-1].bn.gamma.numpy() == 1) for stage in model.stages for block in stage)
