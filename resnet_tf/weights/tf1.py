"""Loading ``tf.train.Saver`` checkpoints of the original TF1 graph into the port's original layout.

The original named its variables by hand: ``conv1/{w,b}`` for the stem, ``blockS_B_ShortcutConv`` and
``blockS_B_lovalConv1..3`` (sic) for the blocks (S, B 1-based) and ``fc1/{w,b}`` for the head. Its batch
norms came from ``tf.layers.batch_normalization`` without a name: a ``tf.layers`` layer without a name is
named after its class, made unique within the current *variable* scope counting from zero
(``batch_normalization``, ``batch_normalization_1``, ...), and the original's ``tf.name_scope`` does not
change the variable scope. So batch norm K is the K-th convolution created (0-based): the stem, then per
block its shortcut (where it has one: ``res_block_layers`` creates it first), then its three convolutions.
"""

from __future__ import annotations

import re

import numpy as np
import tensorflow as tf

from resnet_tf.console.errors import condensed
from resnet_tf.model import ResNet
from resnet_tf.networks import network_names, network_spec
from resnet_tf.ops import ConvOp

BN_PARAMETERS = ("gamma", "beta", "moving_mean", "moving_variance")
# Saved by the original's Adam and Saver but not part of the network.
IGNORED = re.compile(r"(^|/)(beta1_power|beta2_power|global_step)$|/Adam(_1)?$")
SHOWN = 5  # names listed per kind of mismatch
BLOCK = re.compile(r"^block(\d+)_(\d+)_lovalConv(\d)/w$")


class TF1CheckpointError(ValueError):
    """A TF1 checkpoint that cannot be read, or that does not hold the network asked for."""


def original_convolutions(model: ResNet) -> list[tuple[str, ConvOp]]:
    """The model's convolutions with the original's names, in the original graph's creation order."""
    convs = [("conv1", model.stem.conv)]
    for s, stage in enumerate(model.stages, start=1):
        for b, block in enumerate(stage, start=1):
            name = f"block{s}_{b}"
            if block.shortcut is not None:
                convs.append((f"{name}_ShortcutConv", block.shortcut))
            convs += [(f"{name}_lovalConv{i}", conv) for i, conv in enumerate(block.convs, start=1)]
    return convs


def tf1_variable_names(model: ResNet) -> dict[str, tf.Variable]:
    """Every variable of an original-layout ``model`` under the name the TF1 original saved it with."""
    if model.layout != "original" or not model.use_shortcut:
        raise ValueError(
            f"TF1 checkpoints of the original hold its layout with shortcuts; this model has layout "
            f"{model.layout!r}, use_shortcut={model.use_shortcut} (build it with layout='original')"
        )
    names = {}
    for k, (name, conv) in enumerate(original_convolutions(model)):
        names[f"{name}/w"], names[f"{name}/b"] = conv.w, conv.b
        bn = "batch_normalization" + (f"_{k}" if k else "")
        names.update({f"{bn}/{p}": getattr(conv.bn, p) for p in BN_PARAMETERS})
    names["fc1/w"], names["fc1/b"] = model.logits.w, model.logits.b
    return names


def _listing(items: list[str]) -> str:
    more = f" (and {len(items) - SHOWN} more)" if len(items) > SHOWN else ""
    return ", ".join(items[:SHOWN]) + more


def _mismatches(wanted: dict[str, tf.Variable], shapes: dict[str, list[int]]) -> list[str]:
    missing = sorted(set(wanted) - set(shapes))
    extra = sorted(n for n in set(shapes) - set(wanted) if not IGNORED.search(n))
    wrong = [
        f"{n} (checkpoint {list(shapes[n])}, model {wanted[n].shape.as_list()})"
        for n in sorted(set(wanted) & set(shapes))
        if list(shapes[n]) != wanted[n].shape.as_list()
    ]
    problems = [
        f"{label}: {_listing(items)}"
        for label, items in (("missing", missing), ("extra", extra), ("wrong shape", wrong))
        if items
    ]
    if "_CHECKPOINTABLE_OBJECT_GRAPH" in shapes:
        problems.append(
            "this is a TF2 object-based checkpoint (such as this port writes), not a TF1 Saver "
            "checkpoint: pass it to --init-from or evaluate.py instead"
        )
    return problems


def original_structure(shapes: dict[str, list[int]]) -> dict[str, int]:
    """What a checkpoint of the original holds, read from its variable shapes: ``arch`` (from its blocks per
    stage), ``width`` (``conv1/w``), ``num_classes`` (``fc1/b``) and ``head_size`` (the final map's side,
    from ``fc1/w``). Keys that cannot be read are left out."""
    found = {}
    if "conv1/w" in shapes:
        found["width"] = shapes["conv1/w"][-1]
    if "fc1/b" in shapes:
        found["num_classes"] = shapes["fc1/b"][0]
    matches = [m.groups() for m in map(BLOCK.match, shapes) if m]
    per_stage = tuple(len({b for s, b, _ in matches if int(s) == stage}) for stage in range(1, 5))
    kind = "bottleneck" if any(c == "3" for _, _, c in matches) else "basic"
    archs = [n for n in network_names() if _original_kind(n) == (kind, per_stage)]
    if archs:
        found["arch"] = archs[0]
    if "width" in found and "arch" in found and "fc1/w" in shapes:
        channels = network_spec(found["arch"]).stage_channels(found["width"], 3)[1]
        found["head_size"] = round((shapes["fc1/w"][0] / channels) ** 0.5)
    return found


def _original_kind(arch: str) -> tuple[str, tuple[int, ...]] | None:
    """``(block, blocks per stage)`` of a registered network the original could have built (one 3x3 or 7x7 stem
    convolution, plain bottlenecks); None for the others."""
    spec = network_spec(arch)
    plain = not spec.deep_stem and spec.groups == 1 and spec.stage_channels(64, 0)[0] == 64
    return (spec.block, spec.blocks) if plain else None


def _describe(found: dict[str, int]) -> str:
    parts = [
        found.get("arch"),
        f"width {found['width']}" if "width" in found else None,
        f"{found['num_classes']} classes" if "num_classes" in found else None,
    ]
    if "head_size" in found:
        m = found["head_size"]  # the original halves four times, rounding up: sides (m-1)*16+1 .. m*16
        parts.append(f"a {m}x{m} final map (image size {(m - 1) * 16 + 1} to {m * 16})")
    return ", ".join(p for p in parts if p)


def _reader(prefix: str):
    path = tf.train.latest_checkpoint(prefix) if tf.io.gfile.isdir(prefix) else prefix
    try:
        # the reader itself, not tf.train.load_checkpoint: that takes a prefix for a folder on stores where
        # any start of a name counts as one (ram://)
        return path, tf.compat.v1.train.NewCheckpointReader(path or prefix)
    except (tf.errors.OpError, ValueError) as err:
        raise TF1CheckpointError(
            f"cannot read a checkpoint at {prefix} (expected a prefix such as model_1202/"
            f"resnet50.model-10000 beside its .index and .data files, or their folder): "
            f"{condensed(err)}"
        ) from None


def checkpoint_structure(prefix: str) -> dict[str, int]:
    """:func:`original_structure` of the checkpoint at ``prefix`` (a prefix or its folder)."""
    return original_structure(_reader(prefix)[1].get_variable_to_shape_map())


def load_tf1_checkpoint(model: ResNet, prefix: str) -> str:
    """Loads a ``tf.train.Saver`` checkpoint of the original TF1 graph into ``model`` (original layout,
    built for the checkpoint's network, width, class count and image size); returns the prefix read.

    ``prefix`` is a checkpoint prefix or a folder with a ``checkpoint`` file. Adam slots, ``beta1_power``,
    ``beta2_power`` and ``global_step`` are ignored. Every model variable must be found with its shape,
    and nothing else may be there; otherwise :class:`TF1CheckpointError` names what is missing, extra or mis-shaped,
    and nothing is assigned.
    """
    wanted = tf1_variable_names(model)
    path, reader = _reader(prefix)
    shapes = reader.get_variable_to_shape_map()
    problems = _mismatches(wanted, shapes)
    if problems:
        held = _describe(original_structure(shapes))
        raise TF1CheckpointError(
            f"{path} does not fit this network ({model.arch}, original layout, width "
            f"{model.width}, {model.num_classes} classes at {model.image_size} px)"
            + (f"; the checkpoint holds {held}" if held else "")
            + ":\n  "
            + "\n  ".join(problems)
        )
    values = {name: np.asarray(reader.get_tensor(name), dtype=np.float32) for name in wanted}
    for name, variable in wanted.items():
        variable.assign(values[name])
    return path
