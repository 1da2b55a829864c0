"""Which checkpoint a run resumes from, and what it refuses to resume.

- The checkpoint list (``checkpoints/checkpoint``, which TensorFlow writes last) is rebuilt from the
  ``ckpt-N`` files present when it is missing or damaged, with a warning.
- The candidates are the run's checkpoints and its best one (which holds the whole training state too, and
  may be newer: a validation can come before the first periodic checkpoint).
- Each candidate, newest first, is compared with the network before it is restored. One whose variables
  do not fit (another architecture, width, stem or class count: an edited ``config.json``, or code whose
  network changed) stops the run with a :class:`CheckpointMismatch` naming the settings that differ;
  nothing is written.
- One that cannot be read (a truncated or corrupt file) is reported and the previous one is tried. When
  none can be read, the run stops rather than start again over them (:class:`NoReadableCheckpoint`).
"""

from __future__ import annotations

import logging
import os
import re

import tensorflow as tf

from resnet_tf.console import files
from resnet_tf.console.errors import UserError, condensed, writing
from resnet_tf.model import ResNet
from resnet_tf.runs.checkpoints import (
    BEST_FOLDER,
    CHECKPOINT_FOLDER,
    CheckpointError,
    network_difference,
    variable_keys,
)

LOG = logging.getLogger(__name__)
INDEX_FILE = "checkpoint"  # TensorFlow's list of a folder's checkpoints
PREFIX_PATTERN = re.compile(r"^ckpt-(\d+)\.index$")


class CheckpointMismatch(CheckpointError):
    """A checkpoint of the run holds another network than the run's configuration builds."""


class NoReadableCheckpoint(UserError):
    """A run folder has checkpoints, and none of them can be read."""


def present_checkpoints(folder: str) -> list[str]:
    """The prefixes of the ``ckpt-N`` checkpoints in ``folder`` (those with an index file), oldest first."""
    if not files.isdir(folder):
        return []
    numbers = sorted(int(m.group(1)) for m in map(PREFIX_PATTERN.match, files.listdir(folder)) if m)
    return [files.join(folder, f"ckpt-{n}") for n in numbers]


def _index_is_valid(folder: str) -> bool:
    try:
        with files.open_file(files.join(folder, INDEX_FILE), "rb") as f:
            return f.read(64).decode("utf-8").startswith('model_checkpoint_path: "')
    except (OSError, UnicodeDecodeError):
        return False


def repair_index(folder: str) -> None:
    """Rebuilds ``folder``'s checkpoint list from the checkpoints present when it is missing or damaged."""
    present = present_checkpoints(folder)
    if not present or _index_is_valid(folder):
        return
    LOG.warning(
        "the checkpoint list %s is missing or damaged; rebuilt from the %d checkpoints present (%s)",
        files.join(folder, INDEX_FILE),
        len(present),
        ", ".join(os.path.basename(p) for p in present),
    )
    # TensorFlow's own text format of the list, each checkpoint with the time it was written. A manager lists
    # only the entries written after the last preserved time (strictly): that time is set before the oldest.
    names = [os.path.basename(p) for p in present]
    times = [files.size_and_mtime(p + ".index")[1] / 1e9 for p in present]
    lines = [f'model_checkpoint_path: "{names[-1]}"'] + [f'all_model_checkpoint_paths: "{n}"' for n in names]
    lines += [f"all_model_checkpoint_timestamps: {t!r}" for t in times]
    lines += [f"last_preserved_timestamp: {min(times) - 1.0!r}"]
    path = files.join(folder, INDEX_FILE)
    with writing(path):
        files.write_atomic(path, "\n".join(lines) + "\n")


def _model_variables(model: ResNet) -> list[tuple[list[str], tf.Variable]]:
    # The object path of every variable, as the checkpoint's object graph names it (stages/0/1/convs/0/w).
    return [
        ([str(p) for p in path], v)
        for path, v in model._flatten(  # noqa: SLF001  tf.Module's own walk
            predicate=lambda x: isinstance(x, tf.Variable), with_path=True
        )
    ]


def mismatches(model: ResNet, prefix: str, root: str = "model") -> list[str]:
    """The variables of ``model`` that the checkpoint at ``prefix`` does not hold with their shape (empty
    when it fits). Raises ``tf.errors.OpError``, ``ValueError`` or ``IndexError`` when the checkpoint cannot be
    read."""
    shapes = tf.compat.v1.train.NewCheckpointReader(prefix).get_variable_to_shape_map()
    keys = variable_keys(prefix, root)
    found = []
    for path, variable in _model_variables(model):
        key = keys.get("/".join(path))
        if key is None:
            found.append(f"{'/'.join(path)} missing")
        elif list(shapes[key]) != variable.shape.as_list():
            found.append(f"{'/'.join(path)}: {list(shapes[key])} there, {variable.shape.as_list()} here")
    return found


def _mismatch_error(prefix: str, model: ResNet, problems: list[str]) -> CheckpointMismatch:
    detail = network_difference(model, prefix) or "; ".join(problems[:3])
    return CheckpointMismatch(
        f"checkpoint {prefix} does not hold the network this run's configuration builds ({detail}; "
        f"{len(problems)} variables differ). Nothing was written. Restore the run's config.json, or train "
        "another network in another --logdir."
    )


def checkpoint_step(prefix: str) -> int:
    """The step a ``ckpt-N`` prefix was saved at."""
    return int(prefix.rsplit("-", 1)[1])


def has_checkpoints(logdir: str) -> bool:
    """Whether a run folder has a checkpoint to resume (in ``checkpoints/`` or ``best/``)."""
    return any(present_checkpoints(os.path.join(logdir, folder)) for folder in (CHECKPOINT_FOLDER, BEST_FOLDER))


def restore_newest(state: tf.train.Checkpoint, managers: list[tf.train.CheckpointManager]) -> str | None:
    """Restores the newest checkpoint listed by ``managers`` that can be read into ``state`` (see the
    module's docstring); returns its path, or None when there is none."""
    # newest first; of two at one step, the first manager's (the run's checkpoints before its best copy)
    ranked = {p: (checkpoint_step(p), -i) for i, m in reversed(list(enumerate(managers))) for p in m.checkpoints}
    candidates = sorted(ranked, key=ranked.get)
    for path in reversed(candidates):
        try:
            problems = mismatches(state.model, path)
        except (tf.errors.OpError, ValueError, IndexError) as err:  # what TF raises for a truncated or corrupt file
            _unreadable(path, err)
            continue
        if problems:
            raise _mismatch_error(path, state.model, problems)
        try:
            state.restore(path).assert_existing_objects_matched()
            return path
        except (tf.errors.OpError, ValueError, AssertionError, IndexError) as err:
            _unreadable(path, err)
    if candidates:
        folders = " and ".join(sorted({m.directory for m in managers}))
        raise NoReadableCheckpoint(
            f"none of the {len(candidates)} checkpoints in {folders} can be read (see the "
            "warnings above); nothing was written. Move them away to start the run again, "
            "or use another --logdir."
        )
    return None


def _unreadable(path: str, err: Exception) -> None:
    LOG.warning(
        "checkpoint %s cannot be read (%s: %s); trying the previous one",
        path,
        type(err).__name__,
        condensed(err),
    )
