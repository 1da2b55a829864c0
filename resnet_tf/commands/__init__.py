"""resnet_tf.commands: the command line of every script (``train``, ``evaluate``, ``export``, ``predict``,
``import_tf1``): its usage, its options, parsed without TensorFlow so that ``--help`` prints at once, and
the room whose module does the work. The scripts at the project's top (``train.py``, ...) and the installed
commands (``resnet-tf-train``, ...) call the ``main`` of these modules; data tools that need no network
(``python -m data_utils.make_csv``, ``python -m data_utils.demo``) have theirs in ``data_utils``."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from resnet_tf.runs.config_file import SavedRun


def read_run_folder(logdir: str | None) -> SavedRun | None:
    """The run folder ``--logdir`` names, read with the checks train.py makes
    (:func:`resnet_tf.runs.config_file.load_run`), or None without one. evaluate, export and predict give it
    to ``run_script`` as its ``prepare`` step, so a folder that is not a run is answered before TensorFlow
    starts; imported when called, so that ``--help`` loads neither OpenCV nor pandas."""
    if logdir is None:
        return None
    from resnet_tf.runs.config_file import load_run

    return load_run(logdir)
