"""The tables the ResNet family is built around (stems, layouts; the networks themselves are registered in
:mod:`resnet_tf.networks`) and the sizes they give, without TensorFlow: the command lines' choices and checks
read them, and ``--help`` needs no TensorFlow."""

from __future__ import annotations

import dataclasses

# Keras' ResNet50 uses epsilon=1.001e-5 in every batch norm; the same value keeps numerical parity.
BN_EPSILON = 1.001e-5
# Moving averages: new = momentum * old + (1 - momentum) * batch. 0.9 (PyTorch's and Flax's choice)
# lets the statistics settle within a few hundred steps, which short CPU runs need.
BN_MOMENTUM = 0.9

MIN_IMAGE_SIZE = 32  # five halvings (stem convolution, stem pool, stages 2-4) leave at least 1x1 at stage 4


@dataclasses.dataclass(frozen=True)
class StemSpec:
    """The stem: a ``kernel`` x ``kernel`` convolution of stride ``stride``, then a 3x3/2 max pool padded as
    ``pool`` says (``symmetric``: Keras' zero padding of 1; ``same``: ``tf.nn.max_pool``'s SAME), or no pool
    (``pool=None``)."""

    kernel: int
    stride: int
    pool: str | None

    @property
    def reduction(self) -> int:
        """How much smaller the stem's output is than the image (4 for the standard stem)."""
        return self.stride * (2 if self.pool else 1)


# "standard": 7x7/2 + pool, made for 224 px photos (Keras, every model zoo). "small": 3x3/1 + pool, the
# original TF1 network's stem, 4x the stage-1 activations. "cifar": 3x3/1 and no pool, as the ResNets of
# CIFAR papers: stage 1 at the full image size, 16x the standard's activations.
STEMS = {
    "standard": StemSpec(7, 2, "symmetric"),
    "small": StemSpec(3, 1, "symmetric"),
    "cifar": StemSpec(3, 1, None),
    "original": StemSpec(3, 1, "same"),
}


def stage_name(index: int) -> str:
    """The name of stage ``index`` (0-based): its variables' scope and its feature map's key (``stage_1``...)."""
    return f"stage_{index + 1}"


@dataclasses.dataclass(frozen=True)
class Layout:
    """How a network of the family is assembled around its stage table.

    ``stem``: its default stem (a key of :data:`STEMS`); ``project_first``: a projection shortcut
    on the first block of every stage, even where the shape does not change; ``head``: ``global`` average
    pool, or ``flatten`` (7x7 stride-1 SAME average pool, then the whole map into the dense layer, which ties
    the network to one image size); ``symmetric_padding``: how strided SAME convolutions pad (see
    :class:`ConvOp`).
    """

    stem: str
    project_first: bool
    head: str
    bn_epsilon: float
    symmetric_padding: bool


# "standard": Keras' ResNet50 and every model zoo. "original": the TF1 pipeline this project ports
# (3x3/1 stem, SAME pool, a projection opening every stage, flatten head, tf.layers' batch-norm epsilon).
LAYOUTS = {
    "standard": Layout("standard", False, "global", BN_EPSILON, True),
    "original": Layout("original", True, "flatten", 1e-3, False),
}


def head_size(stem: str, image_size: int) -> int:
    """Height (= width) of the last feature map for square ``image_size`` inputs and the given stem: every
    strided op of the family outputs ``ceil(input / stride)`` (stem, stem pool, first blocks of stages 2-4)."""
    spec = STEMS[stem]
    size = image_size
    for stride in (spec.stride, 2 if spec.pool else 1, 2, 2, 2):
        size = -(-size // stride)
    return size
