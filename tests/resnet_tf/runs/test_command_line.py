"""Tests of the command lines made from the configuration tree: types from the annotations, groups by
section in --help, the same options in the other scripts, the options document."""

import os

import pytest

from data_utils.augment import AUGMENTATIONS
from resnet_tf.commands import evaluate, predict
from resnet_tf.lifelong.strategies import STRATEGIES
from resnet_tf.losses import LOSSES
from resnet_tf.mixing import BATCH_AUGMENTS
from resnet_tf.runs.command_line import INVOCATION_OPTIONS, SECTION_TITLES, build_parser, options_markdown, parse
from resnet_tf.runs.config import SECTIONS, DataConfig, RuntimeConfig, option_fields
from resnet_tf.schedules import SCHEDULES
from tests.helpers import ROOT


def parsed(*argv):
    return parse(list(argv), "test")[0]


def test_option_types_come_from_the_annotations():
    given = parsed(
        "--max-steps",
        "5",
        "--lr",
        "0.5",
        "--num-classes",
        "7",
        "--threads",
        "3",
        "--arch",
        "resnet18",
        "--image-root",
        "imgs",
    )
    assert given == {
        "max_steps": 5,
        "lr": 0.5,
        "num_classes": 7,
        "threads": 3,
        "arch": "resnet18",
        "image_root": "imgs",
    }
    assert type(given["max_steps"]) is int and type(given["lr"]) is float
    with pytest.raises(SystemExit):
        parsed("--max-steps", "five")


def test_boolean_options_are_flags_that_flip_the_default():
    assert parsed("--no-shortcut", "--no-augment", "--deterministic", "--skip-bad-rows", "--jit") == {
        "use_shortcut": False,
        "augment": "none",
        "deterministic": True,
        "skip_bad_rows": True,
        "jit": True,
    }
    assert parsed() == {}  # only options given are set: a resumed run keeps its saved values


def test_demo_alone_is_the_objects_demo_and_takes_the_name_of_another():
    assert parsed("--demo") == {"demo": "objects"}
    assert parsed("--demo", "lifelong", "--width", "8") == {"demo": "lifelong", "width": 8}
    with pytest.raises(SystemExit):
        parsed("--demo", "faces")


def test_every_field_is_an_option_and_help_shows_defaults():
    parser = build_parser("test")
    assert {a.dest for a in parser._actions} == {f.name for _, f in option_fields()} | {
        "help",
        *INVOCATION_OPTIONS,
    }
    text = parser.format_help()
    assert "linear warmup from 0 to --lr (default: 0)" in " ".join(text.split())  # a default of 0 is shown too
    assert "(default: None)" not in text


def test_the_help_of_a_registered_kind_is_made_from_its_entries_descriptions(monkeypatch):
    monkeypatch.setenv("COLUMNS", "100000")  # no line wrapped (argparse breaks lines at hyphens)
    text = build_parser("test").format_help()
    kinds = (
        ("--augment", AUGMENTATIONS),
        ("--lr-schedule", SCHEDULES),
        ("--loss", LOSSES),
        ("--batch-augment", BATCH_AUGMENTS),
        ("--lifelong-strategy", STRATEGIES),
    )
    for flag, registry in kinds:
        entry = text[text.rindex(f"\n  {flag} {{") :].split("\n  --")[1]  # the option's entry, not the usage
        for name in registry.names():
            assert f"{name}: {registry.get(name).description}" in entry, (flag, name)
    assert "35-100% of the area" in text  # a % in a description is shown as written


def test_the_options_document_is_the_table_made_from_the_configuration():
    with open(os.path.join(ROOT, "docs", "options.md"), encoding="utf-8") as f:
        document = f.read()
    table = options_markdown()
    assert document.endswith(table) and table.count("\n") == len(option_fields()) + 5 * len(SECTIONS) - 1
    assert "| `--no-augment` |" not in table and "`--augment`, `--no-augment`" in table


def test_help_groups_the_options_by_section():
    text = build_parser("test").format_help()
    positions = [text.index(SECTION_TITLES[name]) for name in SECTIONS]
    assert positions == sorted(positions)
    network, data = text.index(SECTION_TITLES["network"]), text.index(SECTION_TITLES["data"])
    assert network < text.index("\n  --arch {") < data < text.index("\n  --image-size IMAGE_SIZE")


def help_text(parse_args, capsys) -> str:
    with pytest.raises(SystemExit):
        parse_args(["--help"])
    return " ".join(capsys.readouterr().out.split())


def test_scripts_take_the_shared_options_as_train_py_defines_them(capsys):
    args = evaluate.parse_args(["--logdir", "r", "--csv", "v.csv"])
    assert (args.batch_size, args.precision, args.jit, args.skip_bad_rows, args.threads) == (
        DataConfig.batch_size,
        RuntimeConfig.precision,
        False,
        False,
        None,
    )
    assert predict.parse_args(["--logdir", "r", "x.png"]).batch_size == DataConfig.batch_size
    given = evaluate.parse_args(["--logdir", "r", "--csv", "v.csv", "--jit", "--precision", "auto"])
    assert (given.jit, given.precision) == (True, "auto")
    for script, argv in ((evaluate, ["--csv", "v"]), (predict, ["x"])):
        with pytest.raises(SystemExit):
            script.parse_args(["--logdir", "r", *argv, "--batch-size", "0"])
        assert "--batch-size: must be an integer of at least 1, got 0" in capsys.readouterr().err
    texts = {
        name: help_text(script.parse_args, capsys) for name, script in (("evaluate", evaluate), ("predict", predict))
    }
    for _, field in option_fields():
        meaning = " ".join(field.metadata["help"].split())
        if field.name in ("batch_size", "precision", "jit", "threads", "skip_bad_rows"):
            assert meaning in texts["evaluate"], field.name
        if field.name in ("batch_size", "threads"):
            assert meaning in texts["predict"], field.name
