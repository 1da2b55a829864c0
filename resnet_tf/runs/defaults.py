"""What every ``auto`` of a run's configuration becomes, and the sentence that says why (the run's first lines):
the stem, the augmentation and the weight decay by the image size, the test-time augmentation by the training
augmentation, the precision by the hardware. Each default has its one owner here: :func:`default_stem`,
:func:`default_augment`, :func:`default_weight_decay`, :func:`default_tta`, :func:`precision_for`;
:func:`decisions` applies them to a requested configuration (``resnet_tf.runs.settle``).
"""

from __future__ import annotations

from typing import Any

from data_utils.augment import AUGMENTATIONS
from resnet_tf.runs.config import TrainConfig
from resnet_tf.runs.hardware import Bfloat16Support, bfloat16_support
from resnet_tf.specs import LAYOUTS, head_size


def default_stem(image_size: int) -> str:
    """The stem for an image size: ``standard`` from 128 px (a final map of 4x4 or more, 7x7 at 224), else
    ``small``, which keeps twice the resolution at every stage (2x2 at 32 px, 4x4 at 64 px) for about 1.2x
    the training time. The CIFAR stem's 4x4 at 32 px costs 2.5x the time of the small one and was not more
    accurate on short runs (bench/ACCURACY.md); it stays available as ``--stem cifar``."""
    return "standard" if image_size >= 128 else "small"


def default_augment(image_size: int) -> str:
    """The augmentation for an image size: ``flip`` below 64 px (a shift of a few pixels is a large change of
    such an image, and the short runs small images get lost 1.5-2.3 points top-1 with ``light`` on 32 px
    Fashion-MNIST; a mirror image moves no pixel off its place, and with ``--tta auto``'s flip at test time it
    gained on Fashion-MNIST and CIFAR-10 at every length measured, bench/ACCURACY.md), ``light`` from 64 px,
    ``standard`` from 128 px. Images whose mirror image is another class (digits, text) need ``--augment none``.
    """
    if image_size < 64:
        return "flip"
    return "light" if image_size < 128 else "standard"


def default_tta(augment: str) -> str:
    """The test-time augmentation for a training augmentation: ``flip`` when it mirrors images (the network has
    learnt both views as one class: the mean of their logits gained 0.1-0.3 points top-1 on Fashion-MNIST and
    1.3-1.5 on CIFAR-10 over the image alone, bench/ACCURACY.md), else ``none`` (networks trained without
    mirror images lost 1.3-6.4 points with it on Fashion-MNIST)."""
    return "flip" if AUGMENTATIONS.get(augment).flips else "none"


def default_weight_decay(image_size: int) -> float:
    """The L2 penalty on kernels when ``--weight-decay`` is not given: 5e-4 below 128 px, what ResNets on
    CIFAR-size images are trained with, 1e-4 from 128 px, the ImageNet value (He et al.; TF Model Garden,
    torchvision). On 32 px Fashion-MNIST, label smoothing 0.1 and this decay together gave +0.6 points
    top-1 over neither (bench/ACCURACY.md)."""
    return 5e-4 if image_size < 128 else 1e-4


def precision_for(precision: str, support: Bfloat16Support | None = None) -> tuple[str, str]:
    """``precision`` with ``auto`` decided, and the sentence that says why: ``mixed_bfloat16`` where the
    hardware computes bfloat16 natively (``support``, default: this machine's), else ``float32``."""
    if precision != "auto":
        return precision, f"precision {precision}"
    support = support or bfloat16_support()
    chosen = "mixed_bfloat16" if support.native else "float32"
    return chosen, f"precision {chosen}: {support.reason} (--precision to choose)"


def stem_for(cfg: TrainConfig) -> str:
    """The run's stem, ``auto`` decided: the original layout's own, the standard one for ``--pretrained``
    weights (made for it), else :func:`default_stem` of the image size."""
    if cfg.network.stem != "auto":
        return cfg.network.stem
    if cfg.network.layout != "standard" or cfg.network.pretrained:
        return LAYOUTS[cfg.network.layout].stem
    return default_stem(cfg.data.image_size)


def _stem_sentence(cfg: TrainConfig, stem: str) -> str:
    reason = (
        f"--pretrained {cfg.network.pretrained}"
        if cfg.network.pretrained
        else f"the {cfg.network.layout} layout"
        if cfg.network.layout != "standard"
        else f"{cfg.data.image_size} px images"
    )
    maps = [f"final map {head_size(stem, cfg.data.image_size)}x{head_size(stem, cfg.data.image_size)}"]
    if stem != "standard" and cfg.network.layout == "standard":
        side = head_size("standard", cfg.data.image_size)
        maps.append(f"the standard stem's {side}x{side}")
    return f"stem {stem} for {reason} ({', '.join(maps)}; --stem to choose)"


def decisions(cfg: TrainConfig) -> tuple[dict[str, Any], list[str]]:
    """The settings ``auto`` leaves open, decided, and a sentence for each."""
    decided, sentences = {}, []
    if cfg.network.stem == "auto":
        decided["stem"] = stem_for(cfg)
        sentences.append(_stem_sentence(cfg, decided["stem"]))
    if cfg.data.augment == "auto":
        decided["augment"] = default_augment(cfg.data.image_size)
        kind = "no" if decided["augment"] == "none" else decided["augment"]
        sentences.append(f"{kind} augmentation for {cfg.data.image_size} px images (--augment to choose)")
    if cfg.data.tta == "auto":
        augment = decided.get("augment", cfg.data.augment)
        decided["tta"] = default_tta(augment)
        mirrors = "mirrors" if decided["tta"] == "flip" else "does not mirror"
        kind = "no" if decided["tta"] == "none" else decided["tta"]
        sentences.append(
            f"{kind} test-time augmentation, as the training augmentation ({augment}) {mirrors} images "
            "(--tta to choose)"
        )
    if cfg.optimization.weight_decay is None:
        decided["weight_decay"] = default_weight_decay(cfg.data.image_size)
        sentences.append(
            f"weight decay {decided['weight_decay']:g} for {cfg.data.image_size} px images (--weight-decay to choose)"
        )
    if cfg.runtime.precision == "auto":
        decided["precision"], sentence = precision_for(cfg.runtime.precision)
        sentences.append(sentence)
    return decided, sentences
