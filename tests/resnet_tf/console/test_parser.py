"""Tests of the form of every script's command line."""

from resnet_tf.console.parser import add_run_options, script_parser


def test_help_shows_real_defaults_only():
    parser = script_parser("Does a thing.\n\nDetails.")
    add_run_options(parser)
    parser.add_argument("--threads", type=int, default=None, help="decode threads (default: all cores)")
    parser.add_argument("--warmup", type=int, default=0, help="warmup steps")
    parser.add_argument("--fraction", type=float, default=0.2, help="a fraction (default: 0.2)")
    parser.add_argument("--jit", action="store_true", help="compile")
    text = " ".join(parser.format_help().split())
    assert "Does a thing." in text and "Details." not in text
    assert "warmup steps (default: 0)" in text and "best (the default; for a sequence of tasks, latest)" in text
    assert "(default: None)" not in text and "(default: False)" not in text and text.count("(default: 0.2)") == 1
