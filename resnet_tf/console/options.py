"""The numeric options every script shares, each defined once: its kind, its bounds and the one sentence that
refuses a value outside them, whether argparse reads it from a command line or a run's ``config.json`` holds
it. ``train.py`` (through its configuration), ``evaluate.py``, ``export.py``, ``predict.py``, ``import_tf1.py``,
``make_csv`` and the demo take their options of these names from here, so ``--seed -5`` or ``--batch-size 0``
is refused by each with the same words."""

from __future__ import annotations

import argparse
import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Any

MAX_SEED = 2**31 - 1  # the largest seed tf.random and numpy take alike


@dataclasses.dataclass(frozen=True)
class Number:
    """A number option's kind (``int`` or ``float``) and bounds (``None``: none that side); ``open_low`` and
    ``open_high`` leave the bound itself out. Floats must be finite."""

    kind: type
    low: float | None = None
    high: float | None = None
    open_low: bool = False
    open_high: bool = False

    def describe(self) -> str:
        """The values allowed, as the end of "must be ..."."""
        noun = "an integer" if self.kind is int else "a number"
        if self.low is not None and self.high is not None:
            if not (self.open_low or self.open_high):
                return f"{noun} from {_text(self.low)} to {_text(self.high)}"
            return f"{noun} in {'(' if self.open_low else '['}{_text(self.low)}, {_text(self.high)}{')' if self.open_high else ']'}"
        if self.low is not None:
            return f"{noun} {'above' if self.open_low else 'of at least'} {_text(self.low)}"
        if self.high is not None:
            return f"{noun} {'below' if self.open_high else 'of at most'} {_text(self.high)}"
        return f"a finite {noun[2:]}" if self.kind is float else noun

    def allows(self, value: float) -> bool:
        """Whether ``value`` is of this kind and within the bounds."""
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        if self.kind is int and not isinstance(value, int):
            return False
        if not math.isfinite(value):
            return False
        low_ok = self.low is None or (value > self.low if self.open_low else value >= self.low)
        high_ok = self.high is None or (value < self.high if self.open_high else value <= self.high)
        return low_ok and high_ok

    def problem(self, option: str, value: object) -> str | None:
        """The sentence refusing ``value`` for ``option`` (``--seed``), or None when it is allowed."""
        return None if self.allows(value) else f"{option} must be {self.describe()}, got {value!r}"

    def parser_type(self) -> Callable[[str], float]:
        """An argparse ``type`` reading this option's text; its error is :meth:`problem`'s sentence, after
        argparse's ``argument --name:``."""

        def parse(text: str) -> float:
            try:
                value = self.kind(text)
            except ValueError:
                raise argparse.ArgumentTypeError(f"must be {self.describe()}, got {text!r}") from None
            if not self.allows(value):
                raise argparse.ArgumentTypeError(f"must be {self.describe()}, got {value!r}")
            return value

        parse.__name__ = self.kind.__name__  # argparse names the type in its messages
        return parse


def _text(bound: float) -> str:
    return str(int(bound)) if float(bound).is_integer() else f"{bound:g}"


# The options of these names, wherever they appear.
SHARED = {
    "batch_size": Number(int, 1),
    "threads": Number(int, 1),
    "seed": Number(int, 0, MAX_SEED),
    "val_fraction": Number(float, 0, 1, open_low=True, open_high=True),
    "num_classes": Number(int, 1),
    "width": Number(int, 1),
    "top_k": Number(int, 1),
}


DURATION_UNITS = {"s": 1, "m": 60, "min": 60, "h": 3600}


def parse_duration(text: str) -> float:
    """Seconds in a duration written with its unit: ``90s``, ``10m`` (or ``10min``), ``1.5h``. ValueError with
    the sentence that refuses anything else."""
    number, unit = text.strip(), ""
    while number and number[-1].isalpha():
        number, unit = number[:-1], number[-1] + unit
    try:
        seconds = float(number) * DURATION_UNITS[unit.lower()]
    except (ValueError, KeyError):
        seconds = -1.0
    if not 0 < seconds < float("inf"):
        raise ValueError(f"must be a duration with its unit, such as 90s, 10m or 1.5h, got {text!r}")
    return seconds


def duration_text(seconds: float) -> str:
    """A duration for people: ``38 s``, ``9 min 41 s``, ``1 h 05 min``."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def add_shared(parser: argparse.ArgumentParser, name: str, **kwargs) -> None:
    """Adds the shared option ``name`` (``batch_size`` -> ``--batch-size``) to ``parser`` with its type and
    bounds; ``kwargs`` go to ``add_argument`` (default, help, required)."""
    flag = "--" + name.replace("_", "-")
    parser.add_argument(flag, type=SHARED[name].parser_type(), **kwargs)


def option(
    default: Any,
    help: str,  # noqa: A002  argparse's name
    choices: Sequence[str] | None = None,
    flag: str | None = None,
    aliases: dict[str, Any] | None = None,
    const: Any = None,
) -> Any:
    """A config field: its default, its ``--help`` text, its allowed values, for a boolean the flag that
    sets it when that is not ``--name`` (default False) or ``--no-name`` (default True), extra flags
    that set it to a value (``{"--no-augment": "none"}``), and the value of the flag given without one
    (``--demo`` alone: ``objects``)."""
    return dataclasses.field(
        default=default,
        metadata={"help": help, "choices": choices, "flag": flag, "aliases": aliases or {}, "const": const},
    )
