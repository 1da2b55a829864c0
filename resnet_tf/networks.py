"""The networks of the family by name: each is one registered entry, without TensorFlow.

The name a user types (``--arch resnext50_32x4d``) is the registry key that the configuration, the checkpoint
check on resume and the weight loaders use; the entry carries everything that identifies the network. As in
timm, a variant is a small function under :func:`register_network` returning its :class:`NetworkSpec`;
:class:`resnet_tf.model.ResNet` builds any of them, and nothing else needs to change to add one
(``docs/extending.md``)::

    @register_network
    def resnet26d() -> NetworkSpec:
        return NetworkSpec("bottleneck", (2, 2, 2, 2), deep_stem=True, avg_down=True, stride_in_3x3=True)

:func:`network_names` lists what is registered (``--help``, ``docs/options.md``); :func:`network_spec` finds
one; :func:`identify` names the network a checkpoint's variable shapes describe.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from resnet_tf.console.registry import Registry

# Output channels of a block per inner channel of its stage.
EXPANSION = {"basic": 1, "bottleneck": 4}
BASE_WIDTH = 64  # the inner width per group that `base_width` is counted against (timm, torchvision)


@dataclasses.dataclass(frozen=True)
class NetworkSpec:
    """One network of the family, around a stem, four stages and a dense head.

    ``block``: ``basic`` (3x3, 3x3) or ``bottleneck`` (1x1, 3x3, 1x1); ``blocks``: blocks per stage.
    Stage S (0-based) of a network of ``width`` base channels has ``width * 2**S * EXPANSION`` outputs; a
    bottleneck's inner convolutions have ``floor(width * 2**S * base_width / 64) * groups`` channels, its 3x3
    convolution in ``groups`` groups (ResNeXt's cardinality; a wide ResNet doubles ``base_width``).
    ``deep_stem``: three 3x3 convolutions (``width/2``, ``width/2``, ``width`` channels) instead of one large
    one (ResNet-C). ``avg_down``: a shortcut that changes resolution average-pools 2x2, then projects at stride
    1 (ResNet-D). ``stride_in_3x3``: a bottleneck strides in its 3x3 convolution (ResNet v1.5, timm and
    torchvision), not its first 1x1 (Keras' ResNet50, whose weights the standard entries load).
    ``keras_application``: the ``tf.keras.applications`` model with the same variables, if any.
    """

    block: str
    blocks: tuple[int, ...]
    groups: int = 1
    base_width: int = BASE_WIDTH
    deep_stem: bool = False
    avg_down: bool = False
    stride_in_3x3: bool = False
    keras_application: str | None = None

    def __post_init__(self) -> None:
        if self.block not in EXPANSION:
            raise ValueError(f"block must be one of {', '.join(EXPANSION)}, got {self.block!r}")
        if len(self.blocks) != 4 or min(self.blocks) < 1:
            raise ValueError(f"blocks must give at least one block to each of 4 stages, got {self.blocks}")
        if self.block == "basic" and (self.groups, self.base_width) != (1, BASE_WIDTH):
            raise ValueError("groups and base_width apply to bottleneck blocks only")

    @property
    def expansion(self) -> int:
        """Output channels of a block per inner channel of its stage."""
        return EXPANSION[self.block]

    def stage_channels(self, width: int, stage: int) -> tuple[int, int]:
        """``(inner, output)`` channels of stage ``stage`` (0-based) at ``width`` base channels."""
        planes = width * 2**stage
        inner = planes * self.base_width // BASE_WIDTH * self.groups if self.block == "bottleneck" else planes
        return inner, planes * self.expansion

    def stem_channels(self, width: int) -> tuple[int, ...]:
        """Output channels of each convolution of the stem."""
        return (max(1, width // 2), max(1, width // 2), width) if self.deep_stem else (width,)

    def check_width(self, width: int) -> None:
        """Raises ValueError when ``width`` cannot build this network: every grouped convolution needs at least
        one channel per group."""
        inner = self.stage_channels(width, 0)[0]
        if width < 1 or inner < self.groups:
            raise ValueError(
                f"width {width} gives {inner} inner channels in the first stage, fewer than its {self.groups} "
                f"groups; the smallest width for this network is {self.smallest_width()}"
            )

    def smallest_width(self) -> int:
        """The smallest ``width`` that builds this network."""
        return next(w for w in range(1, 1 << 16) if self.stage_channels(w, 0)[0] >= self.groups)


NETWORKS: Registry[NetworkSpec] = Registry("network")
register_network = NETWORKS.register


def network_names() -> tuple[str, ...]:
    """The names ``--arch`` takes."""
    return NETWORKS.names()


def network_spec(name: str) -> NetworkSpec:
    """The registered network ``name``."""
    return NETWORKS.get(name)


def identify(block: str, blocks: Sequence[int], deep_stem: bool, width: int, inner: int, group_in: int) -> str | None:
    """The registered network that a checkpoint's shapes describe: its block kind, blocks per stage, stem,
    ``width``, the first stage's ``inner`` channels and the input channels of each group of its first 3x3
    convolution (``group_in``). None when no entry matches; of entries that differ only where shapes cannot
    tell (``avg_down``, the stride's place), the first registered."""
    for name in network_names():
        spec = network_spec(name)
        first_inner = spec.stage_channels(width, 0)[0]
        mid_in = first_inner // spec.groups if spec.block == "bottleneck" else width
        if (spec.block, tuple(spec.blocks), spec.deep_stem, first_inner, mid_in) == (
            block,
            tuple(blocks),
            deep_stem,
            inner,
            group_in,
        ):
            return name
    return None


# ResNet-10, one basic block a stage (MONAI's and Med3D's resnet10): the smallest of the family, for the time a
# CPU has and small data sets.
@register_network
def resnet10() -> NetworkSpec:
    return NetworkSpec("basic", (1, 1, 1, 1))


# The standard family: Keras' ResNet50/101/152 and the basic-block ResNet-18/34 of He et al.
@register_network
def resnet18() -> NetworkSpec:
    return NetworkSpec("basic", (2, 2, 2, 2))


@register_network
def resnet34() -> NetworkSpec:
    return NetworkSpec("basic", (3, 4, 6, 3))


@register_network
def resnet50() -> NetworkSpec:
    return NetworkSpec("bottleneck", (3, 4, 6, 3), keras_application="ResNet50")


@register_network
def resnet101() -> NetworkSpec:
    return NetworkSpec("bottleneck", (3, 4, 23, 3), keras_application="ResNet101")


@register_network
def resnet152() -> NetworkSpec:
    return NetworkSpec("bottleneck", (3, 8, 36, 3), keras_application="ResNet152")


# Bag of Tricks' ResNet-D (He et al. 2019), as timm's resnet50d.
@register_network
def resnet50d() -> NetworkSpec:
    return NetworkSpec("bottleneck", (3, 4, 6, 3), deep_stem=True, avg_down=True, stride_in_3x3=True)


# Wide ResNet-50-2 (Zagoruyko and Komodakis), as torchvision's: twice the bottleneck's inner channels.
@register_network
def wide_resnet50_2() -> NetworkSpec:
    return NetworkSpec("bottleneck", (3, 4, 6, 3), base_width=128, stride_in_3x3=True)


# ResNeXt-50 32x4d (Xie et al.), as torchvision's: 32 groups of 4 channels at the first stage.
@register_network
def resnext50_32x4d() -> NetworkSpec:
    return NetworkSpec("bottleneck", (3, 4, 6, 3), groups=32, base_width=4, stride_in_3x3=True)
