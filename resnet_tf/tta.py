"""Test-time augmentation (TTA): the views of each image a network scores at validation, in ``evaluate.py``,
``predict.py`` and the exported model, whose logits are averaged (``--tta``). Each is one registered entry,
without TensorFlow until a batch is scored: a new one is a function under :func:`register_tta` returning a
:class:`TTA`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from resnet_tf.console.registry import Registry


@dataclasses.dataclass(frozen=True)
class TTA:
    """A test-time augmentation: its one-line description (``--help``) and ``views(images)``, the list of
    ``[N, H, W, C]`` batches scored for a batch of images."""

    description: str
    views: Callable[[object], list]

    def scored(self, score: Callable, images):
        """The mean of ``score`` (images -> logits) over the views of ``images``."""
        logits = [score(view) for view in self.views(images)]
        return sum(logits[1:], logits[0]) / len(logits) if len(logits) > 1 else logits[0]


TTAS: Registry[TTA] = Registry("test-time augmentation")
register_tta = TTAS.register


def tta_names() -> tuple[str, ...]:
    """The names ``--tta`` takes (besides ``auto``)."""
    return TTAS.names()


def tta(name: str) -> TTA:
    """The registered test-time augmentation ``name``."""
    return TTAS.get(name)


def _once(images) -> list:
    return [images]


def _mirrored(images) -> list:
    return [images, images[:, :, ::-1]]


@register_tta
def none() -> TTA:
    return TTA("each image once", _once)


@register_tta
def flip() -> TTA:
    return TTA("the mean of the logits of each image and of its mirror image (twice the inference)", _mirrored)
