"""Tests of the options every script shares: one definition, the same bounds and the same refusal in each."""

import argparse

import pytest

from data_utils import demo, make_csv
from resnet_tf.commands import evaluate, export, import_tf1, predict
from resnet_tf.console.options import SHARED, Number, duration_text, parse_duration
from resnet_tf.runs.command_line import build_parser

# Each script's parse of a command line holding its required options besides the one probed.
SCRIPTS = {
    "train": lambda extra: vars(build_parser("train").parse_args(["--demo", *extra])),
    "evaluate": lambda extra: vars(evaluate.parse_args(["--logdir", "run", "--csv", "val.csv", *extra])),
    "export": lambda extra: vars(export.parse_args(["--logdir", "run", "--out", "exported", *extra])),
    "predict": lambda extra: vars(predict.parse_args(["--logdir", "run", "photo.jpg", *extra])),
    "import_tf1": lambda extra: vars(
        import_tf1.parse_args(
            ["--checkpoint", "c", "--logdir", "r", "--image-size", "64", "--num-classes", "3", *extra]
        )
    ),
    "make_csv": lambda extra: vars(make_csv.parse_args(["photos", "--out", "data", *extra])),
    "demo": lambda extra: vars(demo.parse_args(["--out", "data", *extra])),
}
HAS = {
    "batch_size": ("train", "evaluate", "predict"),
    "threads": ("train", "evaluate", "predict"),
    "seed": ("train", "make_csv", "demo"),
    "val_fraction": ("train", "make_csv"),
    "num_classes": ("train", "import_tf1"),
    "width": ("train", "import_tf1"),
    "top_k": ("export", "predict"),
}
PROBES = ("0", "-1", "1", "0.5", "1e30", "99999999999", "nan", "inf", "abc", "")


def outcome(script: str, option: str, text: str, capsys) -> str:
    """What the script makes of ``--option text``: the value read, or the error argparse printed."""
    try:
        return repr(SCRIPTS[script](["--" + option.replace("_", "-"), text])[option])
    except SystemExit:
        return capsys.readouterr().err.strip().splitlines()[-1].split("error: ", 1)[1]


def test_every_shared_option_is_declared_where_the_scripts_have_it():
    assert set(HAS) == set(SHARED)


@pytest.mark.parametrize("option", sorted(HAS))
def test_a_shared_option_is_accepted_or_refused_alike_by_every_script_at_its_bounds(option, capsys):
    for text in PROBES:
        seen = {script: outcome(script, option, text, capsys) for script in HAS[option]}
        assert len(set(seen.values())) == 1, (option, text, seen)


def test_refusals_name_the_option_and_the_values_it_takes(capsys):
    assert outcome("make_csv", "seed", "-5", capsys) == (
        "argument --seed: must be an integer from 0 to 2147483647, got -5"
    )
    assert outcome("evaluate", "batch_size", "0", capsys) == (
        "argument --batch-size: must be an integer of at least 1, got 0"
    )
    assert outcome("make_csv", "val_fraction", "nan", capsys) == (
        "argument --val-fraction: must be a number in (0, 1), got nan"
    )
    assert outcome("predict", "top_k", "abc", capsys) == (
        "argument --top-k: must be an integer of at least 1, got 'abc'"
    )


@pytest.mark.parametrize(
    "bounds,allowed,refused",
    [
        (Number(int, 1), [1, 10**12], [0, -1, 1.5, True, float("nan"), "1"]),
        (Number(float, 0, 1, open_low=True, open_high=True), [0.5, 1e-9], [0.0, 1.0, float("nan"), float("inf")]),
        (Number(float, 0, 1, open_low=True), [1.0, 1], [0.0, 1.01]),
        (Number(int, 0, 4), [0, 4], [-1, 5]),
    ],
)
def test_bounds_allow_what_they_say(bounds, allowed, refused):
    assert all(bounds.allows(v) for v in allowed) and not any(bounds.allows(v) for v in refused)
    parse = bounds.parser_type()
    with pytest.raises(argparse.ArgumentTypeError) as raised:
        parse("nan" if bounds.kind is float else "1.5")
    assert str(raised.value).startswith(f"must be {bounds.describe()}, got ")


def test_a_duration_is_read_with_its_unit_and_refused_without_one():
    assert [parse_duration(t) for t in ("90s", "10m", "10min", "1.5h", " 2M ")] == [90, 600, 600, 5400, 120]
    for text in ("10", "m", "-5m", "0s", "10 days", "infm", "nanh", ""):
        with pytest.raises(
            ValueError, match=f"must be a duration with its unit, such as 90s, 10m or 1.5h, got {text!r}"
        ):
            parse_duration(text)
    assert [duration_text(s) for s in (38.4, 59.6, 581, 3600 + 5 * 60 + 20)] == [
        "38 s",
        "1 min 00 s",
        "9 min 41 s",
        "1 h 05 min",
    ]
