"""``LOGDIR/config.json``: a run's settled configuration, its class mapping and what its starts asked for.

``config`` is the configuration the run trains with (every ``auto`` decided; a tree of sections:
network, data, optimization, run, runtime), ``classes`` the class mapping of its training CSV,
``requested`` the options given to its starts by their flat names (``auto`` still open), which a
run that has no checkpoint yet is settled from again. Files of earlier versions are read as those runs
trained (:func:`upgraded`).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from typing import Any

from data_utils.csv_table import ClassMapping
from resnet_tf.console import files
from resnet_tf.console.errors import ConfigError, write_failure
from resnet_tf.runs.config import TrainConfig, check, flattened, section_of_options
from resnet_tf.specs import LAYOUTS

FILE_NAME = "config.json"
# Settings added after runs were saved without them, with what those runs did (and the stem: the layout's
# own); and values since renamed.
ADDED_SINCE = {"augment": "standard", "tta": "none"}
RENAMED_AUGMENT = {True: "standard", False: "none"}
LOG = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class SavedConfig:
    """What ``config.json`` holds (``config`` upgraded to this version's settings)."""

    config: dict[str, Any]
    classes: dict[str, Any]
    requested: dict[str, Any]


def config_path(logdir: str) -> str:
    """Where a run's configuration is saved."""
    return os.path.join(logdir, FILE_NAME)


def upgraded(stored: dict[str, Any]) -> dict[str, Any]:
    """A saved configuration as this version reads it, by flat option name: the tree of sections flattened
    (earlier versions saved it flat), settings added since filled in with what the run did (``ADDED_SINCE``,
    the layout's own stem), the boolean ``augment`` and ``demo`` of early versions named."""
    stored = flattened(stored)
    values = {**ADDED_SINCE, "stem": LAYOUTS[stored.get("layout", "standard")].stem, **stored}
    if isinstance(values["augment"], bool):
        values["augment"] = RENAMED_AUGMENT[values["augment"]]
    return renamed_demo(values)


def renamed_demo(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with ``demo`` named as this version names it: ``--demo`` was a flag (True/False) before it
    named a data set."""
    if isinstance(values.get("demo"), bool):
        return {**values, "demo": "objects" if values["demo"] else None}
    return values


def load_saved(logdir: str) -> SavedConfig | None:
    """The saved ``config.json`` of a run, or None for a folder without one. Raises ConfigError when it
    cannot be read or is not a run configuration."""
    path = config_path(logdir)
    if not files.isfile(path):
        return None
    try:
        saved = json.loads(files.read_bytes(path))
    except (OSError, ValueError) as err:
        raise ConfigError(f"cannot read {path} ({err}); restore it or start a new --logdir") from None
    if not isinstance(saved, dict) or not isinstance(saved.get("config"), dict) or "classes" not in saved:
        raise ConfigError(f"{path} is not a run configuration (expected 'config' and 'classes')")
    config = upgraded(saved["config"])
    requested = saved.get("requested")
    return SavedConfig(config, saved["classes"], renamed_demo(requested) if isinstance(requested, dict) else config)


def save(config: dict[str, Any], classes: dict, requested: dict[str, Any], logdir: str) -> None:
    """Writes ``config.json`` atomically (a temporary file renamed); an OutputError when it cannot."""
    path = config_path(logdir)
    try:
        files.write_atomic(path, json.dumps({"config": config, "classes": classes, "requested": requested}, indent=2))
    except OSError as err:
        advice = f"{files.what_to_check(path)} Earlier checkpoints are intact: fix it and rerun the same command."
        raise write_failure(path, err, advice) from None


def known_settings(values: dict[str, Any], where: str) -> dict[str, Any]:
    """``values`` without the settings this version does not know (a warning names them and ``where``)."""
    names = set(section_of_options())
    unknown = sorted(set(values) - names)
    if unknown:
        LOG.warning("ignoring unknown settings in %s: %s", where, ", ".join(unknown))
    return {k: v for k, v in values.items() if k in names}


def saved_run_config(saved: SavedConfig, logdir: str) -> TrainConfig:
    """The settled configuration of a saved run, found in ``logdir`` (wherever the run was made), checked as
    train.py checks its own."""
    cfg = TrainConfig.from_options({**known_settings(saved.config, config_path(logdir)), "logdir": logdir})
    check(cfg)
    return cfg


@dataclasses.dataclass
class SavedRun:
    """A run folder's configuration and class mapping, as training saved them."""

    config: TrainConfig
    mapping: ClassMapping


def load_run(logdir: str) -> SavedRun:
    """Reads ``LOGDIR/config.json`` with the same checks as train.py (settings this version does not know
    are ignored with a warning; ``logdir`` is the folder given, wherever the run was made)."""
    saved = load_saved(logdir)
    if saved is None:
        raise ConfigError(f"{logdir} is not a training run (no config.json)")
    cfg = saved_run_config(saved, logdir)
    mapping = ClassMapping.from_json(saved.classes)
    if cfg.network.num_classes != mapping.num_classes:
        raise ConfigError(
            f"{config_path(logdir)}: num_classes={cfg.network.num_classes} but {mapping.num_classes} class names"
        )
    return SavedRun(cfg, mapping)
