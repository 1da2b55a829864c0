"""resnet_tf: the ResNet family on low-level ``tf.nn`` ops, the TF2 port of a TF1 pipeline.

This folder's modules are the network: ``ops`` (the layers on ``tf.nn``), ``convolutions`` (how a convolution
is computed on each device), ``model`` (the family), ``networks`` (its registered members), ``specs`` (stems and
layouts; both without TensorFlow), ``losses`` (what the logits mean) and ``tta`` (the views of an image scored
at test time). Each subpackage has one job around it; listed from the lowest layer up, each imports only from
the network, from ``data_utils`` (the input pipeline) and from the packages before it:

- ``console``: what every command-line tool shares (parser form, log channel, errors, start-up);
- ``weights``: weights made elsewhere (Keras ``.h5`` files, TF1 checkpoints, the ImageNet download);
- ``runs``: a run folder: its configuration settled once, its checkpoints, the objects built from it;
- ``evaluation``: a network scored on a table, and the reports of it;
- ``training``: the training loop and its state;
- ``serving``: export (SavedModel, TFLite) and prediction on image files;
- ``commands``: the command line of every script.

The names below are imported on first use (PEP 562), so that a TensorFlow-free module (``specs``, a
script's ``--help``) loads without TensorFlow.
"""

from __future__ import annotations

import importlib
from typing import Any

_HOMES = {
    "ResNet": "model",
    "NetworkSpec": "networks",
    "network_names": "networks",
    "network_spec": "networks",
    "register_network": "networks",
    "LAYOUTS": "specs",
    "probabilities": "losses",
    "load_keras_weights": "weights.keras_h5",
    "load_tf1_checkpoint": "weights.tf1",
    "BatchNorm": "ops",
    "ConvOp": "ops",
    "FcOp": "ops",
    "avg_pool_op": "ops",
    "max_pool_op": "ops",
    "global_avg_pool": "ops",
}
__all__ = list(_HOMES)


def __getattr__(name: str) -> Any:
    """The public name ``name``, from the submodule that defines it."""
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
