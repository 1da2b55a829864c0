"""resnet_tf: ResNet-18/34/50/101/152 on low-level ``tf.nn`` ops, the TF2 port of a TF1 pipeline.

The names below are imported on first use (PEP 562), so that importing one TensorFlow-free submodule
(:mod:`resnet_tf.specs`, for a script's ``--help``) does not load TensorFlow.
"""

from __future__ import annotations

import importlib
from typing import Any

_HOMES = {"ResNet": "model", "STAGES": "specs", "LAYOUTS": "specs", "probabilities": "model",
          "load_keras_weights": "keras_weights", "load_tf1_checkpoint": "tf1_checkpoint", "BatchNorm": "ops",
          "ConvOp": "ops", "FcOp": "ops", "avg_pool_op": "ops", "max_pool_op": "ops", "global_avg_pool": "ops"}
__all__ = list(_HOMES)


def __getattr__(name: str) -> Any:
    """The public name ``name``, from the submodule that defines it."""
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
