"""The command lines made from the configuration tree: ``train.py``'s parser (one option per leaf, grouped
by section in ``--help``), the same options for the other scripts that take some of them, and the options
table of ``docs/options.md``."""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Sequence
from typing import Any

from resnet_tf.runs.config import BOUNDS, option_fields, option_name, option_types
from resnet_tf.tta import TTAS

# Options of one invocation of train.py, not settings of the run (never saved in config.json).
INVOCATION_OPTIONS = ("quiet", "profile_steps")
SECTION_TITLES = {
    "network": "network: which network, its shape, where its weights start",
    "data": "data: the images, their size, batches and augmentation",
    "optimization": "optimization: length, optimizer, schedule, loss, regularisation",
    "run": "run: the run folder, how often it logs, validates and saves, its seed",
    "runtime": "runtime: precision, XLA, devices, threads, bad input",
    "lifelong": "lifelong: a sequence of tasks, and what is done against forgetting",
}


def _flags(field: dataclasses.Field, kind: type) -> str:
    """A field's own flag: ``--name``; for a boolean ``--name`` (default False) or ``--no-name`` (default
    True) unless the field names another."""
    if kind is not bool:
        return option_name(field.name)
    return field.metadata["flag"] or ("--no-" if field.default else "--") + field.name.replace("_", "-")


def add_option(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup, field: dataclasses.Field, kind: type, **default: Any
) -> None:
    """One leaf of the tree as an option: its flag, type and bounds, choices, help with its default;
    ``default`` (``default=32``) is the value when not given, else the parser's own."""
    meta = field.metadata
    help_text = meta["help"].replace("%", "%%")  # argparse formats help with %
    if kind is bool:
        parser.add_argument(
            _flags(field, kind),
            dest=field.name,
            action="store_const",
            const=not field.default,
            help=help_text,
            **default,
        )
        return
    for flag, value in meta["aliases"].items():
        parser.add_argument(
            flag, dest=field.name, action="store_const", const=value, help=f"same as {option_name(field.name)} {value}"
        )
    default_text = "" if field.default is None else f" (default: {field.default})"
    bounds = BOUNDS.get(field.name)
    optional_value = {"nargs": "?", "const": meta["const"]} if meta["const"] is not None else {}
    parser.add_argument(
        option_name(field.name),
        dest=field.name,
        type=bounds.parser_type() if bounds else kind,
        choices=meta["choices"],
        help=help_text + default_text,
        **optional_value,
        **default,
    )


def add_config_options(parser: argparse.ArgumentParser, names: Sequence[str]) -> None:
    """The options ``names`` of the tree for a script that takes them too (evaluate.py's ``--precision``):
    flag, type, bounds, choices, help and default as ``train.py`` has them."""
    types = option_types()
    for _, field in option_fields():
        if field.name in names:
            add_option(parser, field, types[field.name], default=field.default)


def parse_profile_steps(text: str) -> tuple[int, int]:
    """``"A,B"`` (or ``"A"``) -> ``(A, B)``, the first and last step profiled, counted from 1; raises
    ``argparse.ArgumentTypeError`` with the expected form otherwise (argparse turns it into a usage error)."""
    parts = text.split(",")
    try:
        first, last = (int(parts[0]), int(parts[-1])) if len(parts) <= 2 else (0, -1)
    except ValueError:
        first, last = 0, -1
    if not 1 <= first <= last:
        raise argparse.ArgumentTypeError(
            f"expected FIRST,LAST step numbers with 1 <= FIRST <= LAST (e.g. 10,15), got {text!r}"
        )
    return first, last


def build_parser(description: str) -> argparse.ArgumentParser:
    """``train.py``'s parser: one option per leaf of the tree, in a group per section; only options actually
    given are set."""
    parser = argparse.ArgumentParser(
        description=description,
        argument_default=argparse.SUPPRESS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    types, groups = option_types(), {}
    for section, field in option_fields():
        if section not in groups:
            groups[section] = parser.add_argument_group(SECTION_TITLES[section])
        add_option(groups[section], field, types[field.name])
    invocation = parser.add_argument_group("this invocation (not settings of the run)")
    invocation.add_argument(
        "--quiet",
        action="store_true",
        help="print only warnings, errors and the final summary (LOGDIR/train.log still gets everything)",
    )
    invocation.add_argument(
        "--profile-steps",
        type=parse_profile_steps,
        metavar="FIRST,LAST",
        help="write a TensorFlow profiler trace of these training steps (counted from 1; leave out "
        "the first, which builds the graph) to LOGDIR/train, for TensorBoard's Profile tab",
    )
    return parser


def parse(argv: Sequence[str] | None, description: str) -> tuple[dict[str, Any], argparse.ArgumentParser]:
    """Options given on the command line (only those), and the parser for error messages."""
    parser = build_parser(description)
    return vars(parser.parse_args(argv)), parser


def add_tta_option(parser: argparse.ArgumentParser) -> None:
    """``--tta``: the test-time augmentation of a script that scores a run's network, the run's own by default."""
    parser.add_argument(
        "--tta",
        choices=TTAS.names(),
        help=f"test-time augmentation (default: the run's, in its config.json); {TTAS.describe()}",
    )


def options_markdown() -> str:
    """The options of ``train.py`` as Markdown tables, one per section of the tree (``docs/options.md`` is
    this text)."""
    types, rows, current = option_types(), [], None
    for section, field in option_fields():
        if section != current:
            current = section
            rows += [""] * bool(rows) + [
                f"### {SECTION_TITLES[section]}",
                "",
                "| option | default | meaning |",
                "|---|---|---|",
            ]
        meta, kind = field.metadata, types[field.name]
        flags = ", ".join(f"`{f}`" for f in (_flags(field, kind), *meta["aliases"]))
        default = "" if kind is bool or field.default is None else f"`{field.default}`"
        choices = f" One of: {', '.join(meta['choices'])}." if meta["choices"] else ""
        meaning = meta["help"].replace("|", "/").rstrip(".") + "."
        rows.append(f"| {flags} | {default} | {meaning}{choices} |")
    return "\n".join(rows) + "\n"
