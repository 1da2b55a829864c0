"""Checkpoints of the whole training state, and the best-so-far copy.

Resume order (train.py): the newest readable checkpoint in ``LOGDIR/checkpoints``; else ``--init-from``
(weights only); else a fresh start. A checkpoint that cannot be read (truncated, corrupt) is reported
and the previous one is used instead.
"""

from __future__ import annotations

import logging
import os
import re

import tensorflow as tf

from resnet_tf.console import files
from resnet_tf.console.errors import OutputError, UserError, condensed
from resnet_tf.model import ResNet
from resnet_tf.networks import identify
from resnet_tf.weights.keras_h5 import load_keras_weights

LOG = logging.getLogger(__name__)
TEMPORARY_PATTERN = re.compile(r"^ckpt-\d+_temp$")  # TensorFlow's folder for the parts of a save under way
LIST_TEMPORARY_PATTERN = re.compile(r"^checkpoint\.tmp[0-9a-f]{32}$")  # its checkpoint list before the rename
WHICH = ("best", "latest")  # named checkpoints of a run folder; anything else is a path
CHECKPOINT_FOLDER, BEST_FOLDER = "checkpoints", "best"  # a run folder's newest checkpoints, and its best


class CheckpointError(UserError):
    """A checkpoint that cannot be found or read, that does not hold the network, or that would hold
    non-finite weights."""


class CheckpointWriteError(OutputError):
    """A checkpoint that cannot be written (disk full, permissions)."""


def training_state(
    model: ResNet, optimizer: tf.keras.optimizers.Optimizer, average: ResNet | None = None
) -> tf.train.Checkpoint:
    """The checkpointed state: step, model, optimizer (its iteration count positions the learning-rate
    schedule), best validation accuracy, validations since it improved (early stopping) and, with
    ``--ema-decay``, the weight ``average``. The data position follows from the step and the seed."""
    extra = {"average": average} if average is not None else {}
    return tf.train.Checkpoint(
        step=tf.Variable(0, dtype=tf.int64, name="step"),
        model=model,
        optimizer=optimizer,
        best_accuracy=tf.Variable(-1.0, name="best_accuracy"),
        stale_validations=tf.Variable(0, dtype=tf.int64, name="stale_validations"),
        **extra,
    )


def has_average(prefix: str) -> bool:
    """Whether a training checkpoint holds a weight average (a run with ``--ema-decay``)."""
    return variable_key(prefix, ["average", "logits", "w"]) is not None


def network_root(prefix: str) -> str:
    """Where the network to use is in a checkpoint: its weight ``average`` when it has one, else ``model``."""
    return "average" if has_average(prefix) else "model"


def managers(
    state: tf.train.Checkpoint, logdir: str, keep: int
) -> tuple[tf.train.CheckpointManager, tf.train.CheckpointManager]:
    """Managers for ``LOGDIR/checkpoints`` (newest ``keep``) and ``LOGDIR/best`` (one)."""
    latest = tf.train.CheckpointManager(
        state, os.path.join(logdir, CHECKPOINT_FOLDER), max_to_keep=keep, step_counter=state.step
    )
    best = tf.train.CheckpointManager(state, os.path.join(logdir, BEST_FOLDER), max_to_keep=1, step_counter=state.step)
    return latest, best


def find_checkpoint(which: str, logdir: str | None = None) -> str:
    """The checkpoint prefix that ``which`` names.

    ``best`` or ``latest`` look in the run folder ``logdir`` (best falls back to latest, for a run that has
    not validated yet). Anything else is a path: a checkpoint prefix, a folder of checkpoints, or a run
    folder (its newest checkpoint). Raises CheckpointError when there is none.
    """
    if which in WHICH:
        if logdir is None:
            raise ValueError(f"{which!r} needs the run folder")
        folders = [os.path.join(logdir, BEST_FOLDER)] * (which == "best") + [os.path.join(logdir, CHECKPOINT_FOLDER)]
    else:
        if tf.io.gfile.exists(which + ".index"):
            return which
        folders = [which, os.path.join(which, CHECKPOINT_FOLDER)]
    for folder in folders:
        path = tf.io.gfile.isdir(folder) and tf.train.latest_checkpoint(folder)
        if path:
            return path
    where = " or ".join(folders) if which in WHICH else which
    raise CheckpointError(
        f"checkpoint not found: {where} (expected a checkpoint prefix such as "
        "LOGDIR/checkpoints/ckpt-1000, a folder of checkpoints, or a run folder)"
    )


def restore_weights(model: ResNet, prefix: str) -> int:
    """Loads the network of a training checkpoint into ``model`` (its weight average if it has one, see
    :func:`network_root`); returns the checkpoint's step. Raises CheckpointError when the checkpoint does
    not hold this network."""
    step = tf.Variable(0, dtype=tf.int64)
    try:
        roots = {network_root(prefix): model, "step": step}
        tf.train.Checkpoint(**roots).restore(prefix).expect_partial().assert_existing_objects_matched()
    except (AssertionError, ValueError, tf.errors.OpError) as err:
        raise CheckpointError(
            f"{prefix} does not hold this network ({condensed(err)}); was it written by another run?"
        ) from None
    return int(step)


def variable_keys(prefix: str, root: str) -> dict[str, str]:
    """The key under which a checkpoint stores each variable below the object ``root`` (``model``), by its
    object path (``stages/0/1/convs/0/w``). A variable reachable from several objects (the model and the
    optimizer) is stored once, under whichever path TF met first, so keys cannot be guessed from names."""
    from tensorflow.core.protobuf import trackable_object_graph_pb2

    graph = trackable_object_graph_pb2.TrackableObjectGraph()
    # the reader itself, not tf.train.load_checkpoint, which takes a prefix for a folder where any start of a
    # name counts as one (ram://)
    graph.ParseFromString(tf.compat.v1.train.NewCheckpointReader(prefix).get_tensor("_CHECKPOINTABLE_OBJECT_GRAPH"))
    start = next((c.node_id for c in graph.nodes[0].children if c.local_name == root), None)
    keys, pending, seen = {}, [("", start)] if start is not None else [], set()
    while pending:
        path, node_id = pending.pop()
        if node_id in seen:
            continue
        seen.add(node_id)
        node = graph.nodes[node_id]
        value = next((a.checkpoint_key for a in node.attributes if a.name == "VARIABLE_VALUE"), None)
        if value is not None:
            keys[path] = value
        pending.extend((f"{path}/{c.local_name}" if path else c.local_name, c.node_id) for c in node.children)
    return keys


def network_in(prefix: str, root: str = "model") -> dict[str, object]:
    """What the network of a training checkpoint is, read from its variables' shapes: ``arch``, ``width``,
    ``stem`` (its kernel, ``7x7`` or ``3x3``) and ``num_classes``; the keys it cannot tell are left out."""
    shapes = tf.compat.v1.train.NewCheckpointReader(prefix).get_variable_to_shape_map()
    keys = variable_keys(prefix, root)

    def shape(*path: str) -> list[int] | None:
        key = keys.get("/".join(path))
        return shapes.get(key) if key else None

    facts: dict[str, object] = {}
    stem, deep, head = shape("stem", "conv", "w"), shape("stem", "deep", "1", "w"), shape("logits", "w")
    if stem:
        facts.update(width=(deep or stem)[3], stem=f"{stem[0]}x{stem[1]}")
    if head:
        facts["num_classes"] = head[1]
    blocks = tuple(_count(lambda b, s=s: shape("stages", str(s), str(b), "convs", "0", "w")) for s in range(4))
    kind = "bottleneck" if shape("stages", "0", "0", "convs", "2", "w") else "basic"
    first, middle = shape("stages", "0", "0", "convs", "0", "w"), shape("stages", "0", "0", "convs", "1", "w")
    if stem and first and middle:
        group_in = middle[2] if kind == "bottleneck" else facts["width"]
        arch = identify(kind, blocks, deep is not None, facts["width"], first[3], group_in)
        if arch:
            facts["arch"] = arch
    return facts


def _count(found) -> int:
    n = 0
    while found(n):
        n += 1
    return n


def network_difference(model: ResNet, prefix: str, root: str = "model", keys: tuple[str, ...] = ()) -> str:
    """What differs between ``model`` and the network the checkpoint at ``prefix`` holds below ``root``, as
    ``"arch resnet18 there, resnet34 here; ..."`` (empty when nothing that :func:`network_in` reads differs);
    ``keys``: only these facts (default: all)."""
    here = {
        "arch": model.arch,
        "width": model.width,
        "num_classes": model.num_classes,
        "stem": f"{model.stem.conv.kernel_size}x{model.stem.conv.kernel_size}",
    }
    there = network_in(prefix, root)
    compared = [k for k in here if k in there and (not keys or k in keys)]
    return "; ".join(f"{k} {there[k]} there, {here[k]} here" for k in compared if there[k] != here[k])


def variable_key(prefix: str, path: list[str]) -> str | None:
    """The key under which a checkpoint stores the variable at ``path`` of its object graph (for example
    ``["model", "logits", "w"]``), or None (see :func:`variable_keys`)."""
    return variable_keys(prefix, path[0]).get("/".join(path[1:]))


def init_model_from(model: ResNet, where: str) -> str:
    """Initializes ``model`` from a checkpoint (its weight average if it has one) or a Keras ``.h5`` weights
    file; a head of another class count keeps its initialization. Returns a one-line description of what
    was loaded."""
    try:
        if where.endswith(".h5"):
            return load_keras_weights(model, where).message
        prefix = find_checkpoint(where)
        root = network_root(prefix)
        differ = network_difference(model, prefix, root, ("arch", "width", "stem"))
        if differ:  # refused before a restore is tried, which would leave TensorFlow's warnings of every variable
            raise CheckpointError(f"--init-from {where}: another network ({differ})")
        source = f"{prefix} (its weight average)" if root == "average" else prefix
        shapes = tf.compat.v1.train.NewCheckpointReader(prefix).get_variable_to_shape_map()
        head_key = variable_key(prefix, [root, "logits", "w"])
        if head_key in shapes and list(shapes[head_key]) != list(model.logits.w.shape):
            body = tf.train.Checkpoint(**{root: tf.train.Checkpoint(stem=model.stem, stages=model.stages)})
            body.restore(prefix).expect_partial().assert_existing_objects_matched()
            return (
                f"initialized from {source} except the head ({shapes[head_key][1]} classes there, "
                f"{model.num_classes} here: re-initialized)"
            )
        tf.train.Checkpoint(**{root: model}).restore(prefix).expect_partial().assert_existing_objects_matched()
        return f"initialized from {source}"
    except (FileNotFoundError, ValueError, AssertionError, tf.errors.OpError) as err:
        raise CheckpointError(f"--init-from {where}: {condensed(err)}") from None


def save_checkpoint(manager: tf.train.CheckpointManager, state: tf.train.Checkpoint) -> str:
    """Saves ``state`` at its step through ``manager``; refuses non-finite weights and turns write errors
    (disk full, read-only folder) into a clear CheckpointError. A failed save leaves the earlier
    checkpoints as they were: TF writes to a temporary name and updates the index file last.

    A step already saved through ``manager`` (a stop or the end right after a periodic checkpoint) is not
    written again: the state is the same, and rewriting the only copy of that step in place would open a
    window in which an interruption leaves it damaged (in TensorFlow's ``ram://`` file system a rewrite even
    appends to the old files)."""
    step = int(state.step)
    if manager.latest_checkpoint and manager.latest_checkpoint.endswith(f"-{step}"):
        return manager.latest_checkpoint
    bad = [v.name for v in state.model.variables if not bool(tf.reduce_all(tf.math.is_finite(v)))]
    if bad:
        raise CheckpointError(f"refusing to save step {step}: non-finite values in {', '.join(bad[:5])}")
    try:
        saved = manager.save(checkpoint_number=step)
    except (tf.errors.OpError, OSError) as err:
        remove_temporary(manager.directory)
        detail = files.store_answer(str(err)) if files.is_remote(manager.directory) else condensed(err)
        raise CheckpointWriteError(
            f"could not write the checkpoint of step {step} to {manager.directory} ({detail}); "
            f"{files.what_to_check(manager.directory)} Earlier checkpoints are intact: fix it and rerun "
            "the same command to resume."
        ) from None
    return saved


def remove_temporary(folder: str) -> None:
    """Deletes the ``ckpt-N_temp`` folders TensorFlow writes a checkpoint's parts into before it renames them,
    and the ``checkpoint.tmp...`` files it writes the list into: a save that failed (a full disk, a store that
    stopped answering) or was killed leaves them behind (removed when the run starts again), and nothing else
    ever removes them."""
    if not files.isdir(folder):
        return
    for name in files.listdir(folder):
        if TEMPORARY_PATTERN.match(name):
            files.rmtree(files.join(folder, name))
        elif LIST_TEMPORARY_PATTERN.match(name):
            files.remove(files.join(folder, name))
