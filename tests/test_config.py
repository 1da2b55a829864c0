"""Tests of the run configuration: option parsing from the dataclass, checks, merging with a saved run."""

import dataclasses
import json
import logging

import pytest

from data_utils import NORMALIZATIONS, UserError
from data_utils.images import RESIZES
from resnet_tf import LAYOUTS, STAGES
from training import config as run_config
from training.config import ARCHS, ConfigError, TrainConfig, check, inherited_settings, merge, save
from training.schedule import SCHEDULES
from training.step import PRECISION_DTYPES


def parsed(*argv):
    return run_config.parse(list(argv), "test")[0]


def test_option_types_come_from_the_annotations():
    given = parsed("--max-steps", "5", "--lr", "0.5", "--num-classes", "7", "--threads", "3", "--arch", "resnet18",
                   "--image-root", "imgs")
    assert given == {"max_steps": 5, "lr": 0.5, "num_classes": 7, "threads": 3, "arch": "resnet18",
                     "image_root": "imgs"}
    assert type(given["max_steps"]) is int and type(given["lr"]) is float
    with pytest.raises(SystemExit):
        parsed("--max-steps", "five")


def test_boolean_options_are_flags_that_flip_the_default():
    assert parsed("--no-shortcut", "--no-augment", "--deterministic", "--skip-bad-rows", "--jit") == {
        "use_shortcut": False, "augment": "none", "deterministic": True, "skip_bad_rows": True, "jit": True}
    assert parsed() == {}  # only options given are set: a resumed run keeps its saved values


def test_every_field_is_an_option_and_help_shows_defaults():
    parser = run_config.build_parser("test")
    assert {a.dest for a in parser._actions} == {f.name for f in dataclasses.fields(TrainConfig)} | {"help", *run_config.INVOCATION_OPTIONS}
    text = parser.format_help()
    assert "linear warmup from 0 to --lr (default: 0)" in " ".join(text.split())  # a default of 0 is shown too
    assert "(default: None)" not in text


def test_choices_come_from_their_owners():
    assert ARCHS == tuple(f"resnet{d}" for d in STAGES)
    fields = {f.name: f.metadata["choices"] for f in dataclasses.fields(TrainConfig)}
    assert fields["normalization"] == NORMALIZATIONS and fields["lr_schedule"] == SCHEDULES
    assert fields["resize"] == RESIZES and fields["layout"] == tuple(LAYOUTS)
    assert fields["precision"] == tuple(PRECISION_DTYPES)  # the table --help reads names every dtype the step has


@pytest.mark.parametrize("changes,message", [
    ({"width": 0}, "--width must be at least 1, got 0"),
    ({"max_steps": 0}, "--max-steps must be at least 1"),
    ({"image_size": 16}, "--image-size must be at least 32, got 16"),
    ({"lr": float("nan")}, "--lr must be a finite number"),
    ({"weight_decay": float("inf")}, "--weight-decay must be a finite number"),
    ({"lr": -1.0}, "--lr must be positive"),
    ({"label_smoothing": 1.0}, "--label-smoothing must be in [0, 1)"),
    ({"arch": "resnet20"}, "--arch must be one of resnet18, resnet34, resnet50, resnet101, resnet152, got 'resnet20'"),
    ({"normalization": "zscore"}, "--normalization must be one of imagenet, caffe"),
    ({"deterministic": True, "jit": True}, "cannot be combined with --jit"),
    ({"ema_decay": 1.0}, "--ema-decay must be in [0, 1)"),
    ({"early_stop_patience": -1}, "--early-stop-patience must be 0 (never) or more"),
    ({"freeze_stages": 5}, "--freeze-stages must be 0 to 4"),
    ({"stem": "small", "layout": "original"}, "--stem small does not go with --layout original"),
    ({"stem": "original"}, "--stem original does not go with --layout standard"),
    ({"pretrained": "imagenet", "arch": "resnet18"}, "--pretrained imagenet needs the networks Keras has weights for"),
    ({"pretrained": "imagenet", "arch": "resnet50", "stem": "small"}, "stem small"),
    ({"pretrained": "imagenet", "init_from": "w.h5"}, "--pretrained and --init-from both choose"),
    ({"augment": "heavy"}, "--augment must be one of auto, none, light, standard"),
    ({"eval_crop": 0.0}, "--eval-crop must be in (0, 1]"),
])
def test_check_names_the_option(changes, message):
    with pytest.raises(ConfigError) as info:
        check(TrainConfig(**changes))
    assert message in str(info.value)
    assert isinstance(info.value, UserError)


def test_merge_order_defaults_saved_given(tmp_path):
    saved = {"config": {**TrainConfig(arch="resnet18", epochs=3, lr=0.1).to_json()}, "classes": {}}
    cfg = merge({"epochs": 5, "logdir": str(tmp_path)}, saved)
    assert (cfg.arch, cfg.epochs, cfg.lr, cfg.batch_size) == ("resnet18", 5, 0.1, 32)
    with pytest.raises(ConfigError, match="--arch=resnet34 conflicts with the saved run"):
        merge({"arch": "resnet34", "logdir": str(tmp_path)}, saved)
    assert merge({"arch": "resnet34"}, None).arch == "resnet34"  # a new run has nothing to conflict with


def test_image_size_is_structural_in_the_original_layout(tmp_path):
    standard = {"config": TrainConfig(image_size=64).to_json(), "classes": {}}
    assert merge({"image_size": 96, "logdir": str(tmp_path)}, standard).image_size == 96
    original = {"config": TrainConfig(image_size=64, layout="original").to_json(), "classes": {}}
    with pytest.raises(ConfigError, match="--image-size=96 conflicts with the saved run"):
        merge({"image_size": 96, "logdir": str(tmp_path)}, original)


def test_a_run_started_from_a_run_folder_inherits_its_network_and_preprocessing(tmp_path):
    cfg = TrainConfig(arch="resnet18", width=8, layout="original", image_size=48, normalization="rgb_minus_bgr_means",
                      resize="cubic", loss="sigmoid", num_classes=5, lr=0.5, epochs=2)
    save(cfg, {"names": [str(i) for i in range(5)], "kind": "index"}, str(tmp_path / "run"))
    assert inherited_settings(str(tmp_path / "run")) == {
        "arch": "resnet18", "use_shortcut": True, "width": 8, "layout": "original", "stem": "auto", "loss": "sigmoid",
        "normalization": "rgb_minus_bgr_means", "resize": "cubic", "image_size": 48}  # not lr, epochs, classes
    assert inherited_settings(str(tmp_path / "run" / "checkpoints" / "ckpt-1")) == {}
    assert inherited_settings("weights.h5") == {} and inherited_settings(None) == {}


def test_unknown_saved_settings_are_ignored_with_a_warning(tmp_path, caplog):
    saved = {"config": {"arch": "resnet18", "future_option": 3}, "classes": {}}
    logger = logging.getLogger("training.config")
    logger.addHandler(caplog.handler)
    try:
        cfg = merge({"logdir": str(tmp_path)}, saved)
    finally:
        logger.removeHandler(caplog.handler)
    assert cfg.arch == "resnet18"
    assert "ignoring unknown settings" in caplog.text and "future_option" in caplog.text


def test_save_and_load_round_trip_and_damaged_files(tmp_path):
    cfg = TrainConfig(arch="resnet34", num_classes=4)
    run_config.save(cfg, {"names": list("abcd"), "kind": "name"}, str(tmp_path))
    saved = run_config.load_saved(str(tmp_path))
    assert merge({}, saved) == cfg and saved["classes"]["names"] == list("abcd")
    assert run_config.load_saved(str(tmp_path / "new")) is None
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ConfigError, match="cannot read .*config.json"):
        run_config.load_saved(str(tmp_path))
    (tmp_path / "config.json").write_text(json.dumps([1, 2]))
    with pytest.raises(ConfigError, match="is not a run configuration"):
        run_config.load_saved(str(tmp_path))


def test_unwritable_run_folder_is_a_config_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ConfigError, match="cannot write .*config.json"):
        run_config.save(TrainConfig(), {}, str(blocker / "run"))


def test_auto_stem_and_augmentation_are_resolved_once_and_named():
    cfg = TrainConfig(image_size=32)
    made = run_config.resolve_auto(cfg)
    assert (cfg.stem, cfg.augment) == ("small", "none")
    assert made == ["stem small for 32 px images (final map 2x2, the standard stem's 1x1; --stem to choose)",
                    "no augmentation for 32 px images (--augment to choose)",
                    "weight decay 0.0005 for 32 px images (--weight-decay to choose)"]
    large = TrainConfig(image_size=224, augment="none", weight_decay=0.0)
    assert run_config.resolve_auto(large) == ["stem standard for 224 px images (final map 7x7; --stem to choose)"]
    assert (large.stem, large.augment, large.weight_decay) == ("standard", "none", 0.0)
    resolved = TrainConfig(image_size=224)
    run_config.resolve_auto(resolved)
    assert resolved.weight_decay == 1e-4 and resolved.label_smoothing == 0.1
    assert run_config.resolve_auto(TrainConfig(layout="original", image_size=64))[0].startswith(
        "stem original for the original layout")
    pretrained = TrainConfig(arch="resnet50", pretrained="imagenet", image_size=64)
    assert run_config.resolve_auto(pretrained)[0] == "stem standard for --pretrained imagenet (final map 2x2; --stem to choose)"
    assert parsed("--augment", "light", "--stem", "cifar") == {"augment": "light", "stem": "cifar"}


def test_runs_saved_before_stems_and_augmentation_strengths_keep_what_they_did(tmp_path):
    old = {k: v for k, v in TrainConfig(arch="resnet18").to_json().items() if k != "stem"}
    for flag, strength in ((True, "standard"), (False, "none")):
        cfg = merge({"logdir": str(tmp_path)}, {"config": {**old, "augment": flag}, "classes": {}})
        assert (cfg.stem, cfg.augment) == ("standard", strength)
    original = {**old, "layout": "original", "image_size": 64}
    assert merge({}, {"config": original, "classes": {}}).stem == "original"
    saved = {"config": {**old, "stem": "cifar", "augment": "light"}, "classes": {}}
    # "auto" given again on resume keeps the saved choice; another stem is a conflict (another network)
    assert merge({"stem": "auto", "augment": "auto", "logdir": str(tmp_path)}, saved).stem == "cifar"
    assert merge({"augment": "none", "logdir": str(tmp_path)}, saved).augment == "none"
    with pytest.raises(ConfigError, match="--stem=small conflicts with the saved run"):
        merge({"stem": "small", "logdir": str(tmp_path)}, saved)
