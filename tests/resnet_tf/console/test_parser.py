"""Tests of the form of every script's command line."""

import argparse

import pytest

from resnet_tf.console.parser import add_run_options, script_parser, seed_value


def test_help_shows_real_defaults_only():
    parser = script_parser("Does a thing.\n\nDetails.")
    add_run_options(parser)
    parser.add_argument("--threads", type=int, default=None, help="decode threads (default: all cores)")
    parser.add_argument("--warmup", type=int, default=0, help="warmup steps")
    parser.add_argument("--fraction", type=float, default=0.2, help="a fraction (default: 0.2)")
    parser.add_argument("--jit", action="store_true", help="compile")
    text = " ".join(parser.format_help().split())
    assert "Does a thing." in text and "Details." not in text
    assert "warmup steps (default: 0)" in text and "(default: best)" in text
    assert "(default: None)" not in text and "(default: False)" not in text and text.count("(default: 0.2)") == 1


@pytest.mark.parametrize(
    "text,accepted",
    [("0", True), ("2147483647", True), ("-5", False), ("2147483648", False), ("1.5", False), ("nan", False)],
)
def test_a_seed_is_an_integer_every_generator_takes(text, accepted):
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=seed_value)
    if accepted:
        assert parser.parse_args(["--seed", text]).seed == int(text)
    else:
        with pytest.raises(SystemExit):
            parser.parse_args(["--seed", text])
