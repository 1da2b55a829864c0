"""Import weights from Keras' ``tf.keras.applications`` ResNet50/101/152 into a :class:`ResNet`.

The port's layout is the standard one, so every Keras layer has exactly one counterpart:
``conv1_conv``/``conv1_bn`` is the stem, ``convS_blockB_I_conv``/``_bn`` (I = 1..3) is
``stage_{S-1}/block_B/conv_{I-1}``, ``convS_blockB_0_*`` is that block's projection shortcut, and
``predictions`` is the ``logits`` head.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import warnings

import tensorflow as tf

from resnet_tf.console import files
from resnet_tf.model import ResNet
from resnet_tf.ops import ConvOp

KERAS_CLASSES = 1000
LOG = logging.getLogger(__name__)


@dataclasses.dataclass
class KerasImport:
    """What :func:`load_keras_weights` did: layers copied, and whether the head was among them."""

    layers_copied: int
    head_copied: bool
    message: str


def _check_importable(model: ResNet) -> None:
    if (
        model.spec.keras_application is None
        or model.width != 64
        or not model.use_shortcut
        or model.layout != "standard"
    ):
        raise ValueError(
            f"Keras weights exist for the standard ResNet-50/101/152 (width 64, with shortcuts); this model is "
            f"{model.arch}, width {model.width}, use_shortcut={model.use_shortcut}, layout {model.layout}"
        )


def keras_layer_names(model: ResNet) -> dict[str, ConvOp]:
    """Maps each Keras convolution layer name (``conv2_block1_1_conv`` ...) to the port's ``ConvOp``."""
    names = {"conv1": model.stem.conv}
    for s, stage in enumerate(model.stages):
        for b, block in enumerate(stage):
            prefix = f"conv{s + 2}_block{b + 1}"
            for i, conv in enumerate(block.convs):
                names[f"{prefix}_{i + 1}"] = conv
            if block.shortcut is not None:
                names[f"{prefix}_0"] = block.shortcut
    return names


def copy_from_keras_model(model: ResNet, keras_model: tf.keras.Model) -> KerasImport:
    """Copies the weights of a built Keras ResNet application (with or without its top) into ``model``.

    The head is copied only when the Keras model has one with ``model.num_classes`` outputs; otherwise
    the port's head keeps its own initialization and the returned message says so.
    """
    _check_importable(model)
    copied = 0
    for name, conv in keras_layer_names(model).items():
        kernel, bias = keras_model.get_layer(f"{name}_conv").get_weights()
        gamma, beta, mean, variance = keras_model.get_layer(f"{name}_bn").get_weights()
        for var, value in (
            (conv.w, kernel),
            (conv.b, bias),
            (conv.bn.gamma, gamma),
            (conv.bn.beta, beta),
            (conv.bn.moving_mean, mean),
            (conv.bn.moving_variance, variance),
        ):
            var.assign(value)
        copied += 1
    layer_names = {layer.name for layer in keras_model.layers}
    head_copied = False
    if "predictions" in layer_names:
        kernel, bias = keras_model.get_layer("predictions").get_weights()
        if kernel.shape == tuple(model.logits.w.shape):
            model.logits.w.assign(kernel)
            model.logits.b.assign(bias)
            head_copied, copied = True, copied + 1
            message = f"imported {copied} layers including the {model.num_classes}-class head"
        else:
            message = (
                f"imported {copied} layers; the file's head has {kernel.shape[1]} classes, the model "
                f"{model.num_classes}: the head keeps its own initialization"
            )
    else:
        message = f"imported {copied} layers; the file has no head: the model's head keeps its own initialization"
    return KerasImport(copied, head_copied, message)


def _build_keras(application: str, path: str, include_top: bool, classes: int) -> tf.keras.Model:
    builder = getattr(tf.keras.applications, application)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = builder(weights=path, include_top=include_top, classes=classes, input_shape=(224, 224, 3))
    # Keras 3 loads a partly matching .weights.h5 with only a warning; here that is a file that does not fit.
    skipped = [
        str(w.message) for w in caught if "freshly-initialized" in str(w.message) or "Skipping" in str(w.message)
    ]
    if skipped:
        raise ValueError(f"{len(skipped)} parts of the model found no weights in the file ({skipped[0][:120]}...)")
    return model


def load_keras_weights(model: ResNet, path: str | os.PathLike) -> KerasImport:
    """Loads a Keras ResNet weights file (``resnet50_weights_tf_dim_ordering_tf_kernels.h5``, its
    ``_notop`` variant, or any file ``tf.keras.applications.ResNet50(weights=path)`` accepts) into
    ``model``. Raises ``FileNotFoundError`` for a missing file and ``ValueError`` when the file does not
    fit the model.
    """
    _check_importable(model)
    path = os.fspath(path)
    if not files.isfile(path):
        raise FileNotFoundError(f"Keras weights file not found: {path}")
    with files.local_copy(path) as local:
        return _load_file(model, path, local)


def _load_file(model: ResNet, path: str, local: str) -> KerasImport:
    attempts = [(True, KERAS_CLASSES), (True, model.num_classes), (False, KERAS_CLASSES)]
    errors = []
    for include_top, classes in dict.fromkeys(attempts):
        try:
            keras_model = _build_keras(model.spec.keras_application, local, include_top, classes)
        except (ValueError, KeyError, OSError, TypeError) as err:
            errors.append(f"include_top={include_top}, classes={classes}: {err}")
            continue
        result = copy_from_keras_model(model, keras_model)
        LOG.info("%s: %s", path, result.message)
        return result
    raise ValueError(f"{path} does not fit a Keras {model.spec.keras_application}:\n  " + "\n  ".join(errors))
