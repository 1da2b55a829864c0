"""What every script that opens a run shares besides the console (:mod:`data_utils.console`): the run
options, and the order in which a script starts (log channel, TensorFlow's thread settings, its work)."""

from __future__ import annotations

import argparse
import logging
from typing import Callable

from data_utils.console import exit_status, setup_logging
from training.tf_env import start_tensorflow


def add_run_options(parser: argparse.ArgumentParser, required: bool = True) -> None:
    """``--logdir`` and ``--checkpoint``: which run, and which of its checkpoints."""
    parser.add_argument("--logdir", required=required, help="the training run's folder (holds config.json)")
    parser.add_argument("--checkpoint", default="best", help="best, latest, or a checkpoint path prefix")


def run_script(script: str, work: Callable[[], int], level: int = logging.INFO) -> int:
    """What every script's ``main`` does after parsing its command line: logging to the console at ``level``,
    TensorFlow started without its start-up noise (:func:`training.tf_env.start_tensorflow`), the runtime's
    thread settings, then ``work``, whose user errors become status 2 (see
    :func:`data_utils.console.exit_status`)."""
    setup_logging(script, level)
    start_tensorflow()
    from training.runtime import configure_threads  # TensorFlow: imported only once a script runs

    configure_threads()
    return exit_status(logging.getLogger(script), work)
