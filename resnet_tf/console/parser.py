"""The form of every script's command line: its docstring as description, real defaults shown in ``--help``,
and the options of the scripts that open a run folder."""

from __future__ import annotations

import argparse


class DefaultsHelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows an option's default in ``--help`` when it has one (not for None or flags: the help says)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        if action.default is None or isinstance(action.default, bool) or "(default:" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


def script_parser(doc: str) -> argparse.ArgumentParser:
    """A script's parser: its docstring's first paragraph as description, defaults shown in ``--help``."""
    return argparse.ArgumentParser(description=doc.split("\n\n")[0], formatter_class=DefaultsHelpFormatter)


def add_run_options(parser: argparse.ArgumentParser, required: bool = True) -> None:
    """``--logdir`` and ``--checkpoint``: which run, and which of its checkpoints."""
    parser.add_argument("--logdir", required=required, help="the training run's folder (holds config.json)")
    parser.add_argument(
        "--checkpoint",
        help="best (the default; for a sequence of tasks, latest), latest, or a checkpoint path prefix",
    )
