"""Tests of the one place that settles a run: what is requested (defaults, recipe, saved run, given options),
then every ``auto`` decided by the image size and the data, and how the settings go together."""

import pytest

from resnet_tf.console.errors import ConfigError, UserError
from resnet_tf.runs import config_file, settle
from resnet_tf.runs.config import OptimizationConfig, TrainConfig, section_of_options
from tests.helpers import logged

CSVS = {"train_csv": "t.csv", "val_csv": "v.csv"}


def saved_run(cfg: TrainConfig, requested: dict | None = None) -> config_file.SavedConfig:
    """What config.json holds for ``cfg`` (as read back)."""
    config = config_file.upgraded(cfg.to_json())
    return config_file.SavedConfig(config, {"names": ["a", "b"], "kind": "name"}, requested or config)


def test_order_defaults_saved_given_and_a_resumed_run_keeps_its_network(tmp_path):
    # batch 32: the default when this run started, not today's
    saved = saved_run(TrainConfig.from_options(arch="resnet18", epochs=3, lr=0.1, stem="small", batch_size=32, **CSVS))
    cfg = settle.requested({"epochs": 5, "logdir": str(tmp_path)}, saved, resuming=True)
    assert (cfg.network.arch, cfg.optimization.epochs, cfg.optimization.lr, cfg.data.batch_size) == (
        "resnet18",
        5,
        0.1,
        32,
    )
    with pytest.raises(ConfigError, match="--arch=resnet34 conflicts with the saved run"):
        settle.requested({"arch": "resnet34", "logdir": str(tmp_path)}, saved, resuming=True)
    assert settle.requested({"arch": "resnet34", **CSVS}, None, resuming=False).network.arch == "resnet34"


def test_image_size_is_structural_in_the_original_layout(tmp_path):
    given = {"image_size": 96, "logdir": str(tmp_path)}
    standard = saved_run(TrainConfig.from_options(image_size=64, stem="small", **CSVS))
    assert settle.requested(given, standard, resuming=True).data.image_size == 96
    original = saved_run(TrainConfig.from_options(image_size=64, layout="original", stem="original", **CSVS))
    with pytest.raises(ConfigError, match="--image-size=96 conflicts with the saved run"):
        settle.requested(given, original, resuming=True)


def test_a_start_that_saved_no_checkpoint_is_settled_again_from_what_it_was_asked(tmp_path):
    first = {"logdir": str(tmp_path), "image_size": 100_000, "batch_size": 1, **CSVS}
    failed = settle.settle(
        TrainConfig.from_options({**first, "image_size": 512}), num_classes=2
    )  # settled for a large size
    saved = saved_run(failed, requested=first)
    again = settle.settle(settle.requested({"image_size": 32}, saved, resuming=False), num_classes=2)
    fresh = settle.settle(settle.requested({**first, "image_size": 32}, None, resuming=False), num_classes=2)
    assert (again.network.stem, again.data.augment, again.optimization.weight_decay) == ("small", "flip", 5e-4)
    assert again == fresh  # what a new run folder gets


def original_run_config(**extra) -> TrainConfig:
    """A saved run of the original layout, whose network and preprocessing a run started from it inherits."""
    return TrainConfig.from_options(
        arch="resnet18",
        width=8,
        layout="original",
        stem="original",
        image_size=48,
        normalization="rgb_minus_bgr_means",
        resize="cubic",
        loss="sigmoid",
        num_classes=5,
        lr=0.5,
        **extra,
    )


def test_the_lifelong_demo_is_a_sequence_of_the_tasks_it_makes_with_its_own_recipe(tmp_path):
    cfg = settle.requested({"demo": "lifelong", "logdir": str(tmp_path / "l")}, None, resuming=False)
    assert cfg.lifelong.tasks == str(tmp_path / "l" / "data" / "tasks.csv") and cfg.data.train_csv is None
    assert (cfg.network.arch, cfg.network.width, cfg.data.image_size, cfg.optimization.epochs) == (
        "resnet18",
        16,
        48,
        4,
    )
    assert (
        settle.requested({"demo": "lifelong", "epochs": 2, "logdir": "x"}, None, resuming=False).optimization.epochs
        == 2
    )


def test_a_new_run_takes_the_demo_recipe_pretrained_normalization_and_an_init_from_runs_network(tmp_path):
    demo = settle.requested({"demo": "objects", "logdir": str(tmp_path / "d")}, None, resuming=False)
    assert (demo.network.arch, demo.network.width, demo.data.image_size) == ("resnet18", 16, 64)
    assert (demo.data.train_csv, demo.data.val_csv) == settle.generated_csvs(str(tmp_path / "d"))
    assert (
        settle.requested({"demo": "objects", "width": 8, **CSVS}, None, resuming=False).network.width == 8
    )  # given wins
    pretrained = settle.settle(
        settle.requested({"pretrained": "imagenet", "image_size": 160, **CSVS}, None, resuming=False), num_classes=3
    )
    assert (pretrained.data.normalization, pretrained.network.stem) == ("caffe", "standard")
    given = settle.requested({"pretrained": "imagenet", "normalization": "imagenet", **CSVS}, None, resuming=False)
    assert given.data.normalization == "imagenet"  # given explicitly: the user's choice
    source = original_run_config()
    config_file.save(source.to_json(), {"names": list("abcde"), "kind": "name"}, source.options(), str(tmp_path / "r"))
    started = settle.requested({"init_from": str(tmp_path / "r"), "width": 16, **CSVS}, None, resuming=False)
    assert (
        started.network.arch,
        started.network.width,
        started.network.layout,
        started.data.image_size,
        started.optimization.lr,
    ) == (
        "resnet18",
        16,
        "original",
        48,
        OptimizationConfig.lr,
    )


def test_a_run_started_from_a_run_folder_inherits_its_network_and_preprocessing(tmp_path):
    cfg = original_run_config(epochs=2)
    config_file.save(cfg.to_json(), {"names": [str(i) for i in range(5)], "kind": "index"}, {}, str(tmp_path / "run"))
    assert settle.inherited_settings(str(tmp_path / "run")) == {
        "arch": "resnet18",
        "use_shortcut": True,
        "width": 8,
        "layout": "original",
        "stem": "original",
        "loss": "sigmoid",
        "normalization": "rgb_minus_bgr_means",
        "resize": "cubic",
        "image_size": 48,
    }
    assert settle.inherited_settings(str(tmp_path / "run" / "checkpoints" / "ckpt-1")) == {}
    assert settle.inherited_settings("weights.h5") == {} and settle.inherited_settings(None) == {}


def test_auto_stem_augmentation_tta_and_decay_are_decided_once_and_named():
    with logged("resnet_tf.runs.settle") as messages:
        cfg = settle.settle(TrainConfig.from_options(image_size=32, **CSVS), num_classes=3)
    assert (
        cfg.network.stem,
        cfg.data.augment,
        cfg.data.tta,
        cfg.optimization.weight_decay,
        cfg.network.num_classes,
    ) == ("small", "flip", "flip", 5e-4, 3)
    assert messages == [
        "chose stem small for 32 px images (final map 2x2, the standard stem's 1x1; --stem to choose)",
        "chose flip augmentation for 32 px images (--augment to choose)",
        "chose flip test-time augmentation, as the training augmentation (flip) mirrors images (--tta to choose)",
        "chose weight decay 0.0005 for 32 px images (--weight-decay to choose)",
    ]
    with logged("resnet_tf.runs.settle") as messages:
        plain = settle.settle(TrainConfig.from_options(image_size=32, augment="none", **CSVS), num_classes=3)
    assert plain.data.tta == "none"
    assert (
        "chose no test-time augmentation, as the training augmentation (none) does not mirror images (--tta to choose)"
        in messages
    )
    kept = TrainConfig.from_options(image_size=96, tta="none", **CSVS)
    assert settle.settle(kept, num_classes=3).data.tta == "none"  # light augmentation, but --tta given
    large = settle.settle(
        TrainConfig.from_options(image_size=224, augment="none", weight_decay=0.0, **CSVS), num_classes=3
    )
    assert (large.network.stem, large.data.augment, large.optimization.weight_decay) == ("standard", "none", 0.0)
    assert settle.settle(TrainConfig.from_options(image_size=224, **CSVS), 3).optimization.weight_decay == 1e-4
    assert (
        settle.settle(TrainConfig.from_options(layout="original", image_size=64, **CSVS), 3).network.stem == "original"
    )
    assert (
        settle.settle(
            TrainConfig.from_options(arch="resnet50", pretrained="imagenet", image_size=64, **CSVS), 3
        ).network.stem
        == "standard"
    )


def test_the_class_count_comes_from_the_data_and_a_given_one_must_agree():
    assert settle.settle(TrainConfig.from_options(CSVS), num_classes=7).network.num_classes == 7
    with pytest.raises(ConfigError, match="--num-classes=5 but t.csv has 7 classes"):
        settle.settle(TrainConfig.from_options(num_classes=5, **CSVS), num_classes=7)


def test_runs_saved_before_stems_and_augmentation_strengths_keep_what_they_did(tmp_path):
    old = {k: v for k, v in TrainConfig.from_options(arch="resnet18", **CSVS).options().items() if k != "stem"}
    for flag, strength in ((True, "standard"), (False, "none")):
        saved = config_file.SavedConfig(config_file.upgraded({**old, "augment": flag}), {}, {})
        cfg = settle.requested({"logdir": str(tmp_path)}, saved, resuming=True)
        assert (cfg.network.stem, cfg.data.augment) == ("standard", strength)
    original = config_file.SavedConfig(config_file.upgraded({**old, "layout": "original", "image_size": 64}), {}, {})
    assert settle.requested({}, original, resuming=True).network.stem == "original"
    saved = config_file.SavedConfig(config_file.upgraded({**old, "stem": "cifar", "augment": "light"}), {}, {})
    # "auto" given again on resume keeps the saved choice; another stem is a conflict (another network)
    assert (
        settle.requested({"stem": "auto", "augment": "auto", "logdir": str(tmp_path)}, saved, True).network.stem
        == "cifar"
    )
    assert settle.requested({"augment": "none", "logdir": str(tmp_path)}, saved, True).data.augment == "none"
    with pytest.raises(ConfigError, match="--stem=small conflicts with the saved run"):
        settle.requested({"stem": "small", "logdir": str(tmp_path)}, saved, True)


@pytest.mark.parametrize(
    "changes,message",
    [
        ({"stem": "small", "layout": "original"}, "--stem small does not go with --layout original"),
        ({"stem": "original"}, "--stem original does not go with --layout standard"),
        (
            {"pretrained": "imagenet", "arch": "resnet18"},
            "--pretrained imagenet needs the networks Keras has weights for",
        ),
        ({"pretrained": "imagenet", "arch": "resnet50", "stem": "small"}, "stem small"),
        (
            {"pretrained": "imagenet", "arch": "resnet50", "init_from": "w.h5"},
            "--pretrained and --init-from both choose",
        ),
    ],
)
def test_settings_that_do_not_go_together_are_named(changes, message):
    with pytest.raises(ConfigError) as info:
        settle.settle(TrainConfig.from_options(changes, **CSVS), num_classes=3)
    assert message in str(info.value) and isinstance(info.value, UserError)


def test_data_options_go_together():
    with pytest.raises(ConfigError, match="--image-dir and --demo both choose the data"):
        settle.requested({"demo": "objects", "image_dir": "x"}, None, resuming=False)
    with pytest.raises(ConfigError, match="--image-dir makes the CSVs"):
        settle.requested({"image_dir": "x", **CSVS}, None, resuming=False)
    with pytest.raises(ConfigError, match="--train-csv and --val-csv are required"):
        settle.requested({"train_csv": "t.csv"}, None, resuming=False)


def test_an_image_size_no_batch_fits_in_memory_is_refused_before_any_image_is_decoded():
    with pytest.raises(
        ConfigError,
        match=r"--image-size 100000 with --batch-size 64 needs at least [\d,.]+ GiB for "
        r"one batch .* more than this machine's [\d,.]+ GiB",
    ):
        settle.requested({"image_size": 100_000, **CSVS}, None, resuming=False)
    cfg = TrainConfig.from_options(image_size=1024, batch_size=8, stem="standard", **CSVS)
    assert settle.batch_memory(cfg) == 4 * 8 * 1024**2 * 3 + 8 * 512**2 * 64 * 4
    settle.check_memory(cfg, available=settle.batch_memory(cfg))  # just fits
    with pytest.raises(ConfigError):
        settle.check_memory(cfg, available=settle.batch_memory(cfg) - 1)


@pytest.mark.parametrize("source", [{"demo": "objects"}, {"image_dir": "photos"}])
def test_runs_that_make_their_own_csvs_have_their_options_checked_too(tmp_path, source):
    with pytest.raises(ConfigError, match="--seed must be an integer from 0 to 2147483647, got -5"):
        settle.requested({**source, "seed": -5, "logdir": str(tmp_path / "run")}, None, resuming=False)


def test_a_training_set_of_one_class_is_refused():
    with pytest.raises(ConfigError, match="t.csv has 1 class: a classifier learns nothing from one"):
        settle.settle(settle.requested(dict(CSVS), None, resuming=False), num_classes=1)


def test_a_run_has_one_length_a_budget_or_a_number_of_steps_whichever_was_given_last(tmp_path):
    with pytest.raises(ConfigError, match="--time-budget and --epochs both set the training length; give one"):
        settle.requested({"time_budget": "10m", "epochs": 3, **CSVS}, None, resuming=False)
    new = settle.requested({"time_budget": "10m", **CSVS}, None, resuming=False)
    assert (new.optimization.time_budget, new.optimization.max_steps) == ("10m", None)
    # a budgeted run whose length was measured (config.json's max_steps)
    measured = saved_run(TrainConfig.from_options(time_budget="10m", max_steps=812, **CSVS))
    logdir = {"logdir": str(tmp_path)}
    same = settle.requested({"time_budget": "10m", **logdir}, measured, resuming=True).optimization
    assert (same.time_budget, same.max_steps) == ("10m", 812)  # the same command: the same last step
    longer = settle.requested({"time_budget": "20m", **logdir}, measured, resuming=True).optimization
    assert (longer.time_budget, longer.max_steps) == ("20m", None)  # measured anew
    epochs = settle.requested({"epochs": 4, **logdir}, measured, resuming=True).optimization
    assert (epochs.time_budget, epochs.max_steps, epochs.epochs) == (None, None, 4)
    steps = settle.requested({"max_steps": 900, **logdir}, measured, resuming=True).optimization
    assert (steps.time_budget, steps.max_steps) == (None, 900)
    # a start that saved no checkpoint is asked again: its budget gives way to a length given now
    asked = config_file.SavedConfig({}, {}, {"time_budget": "10m", **CSVS})
    again = settle.requested({"max_steps": 50, **logdir}, asked, resuming=False).optimization
    assert (again.time_budget, again.max_steps) == (None, 50)
    with pytest.raises(ConfigError, match="--time-budget must be a duration with its unit"):
        settle.requested({"time_budget": "10", **CSVS}, None, resuming=False)


# A changed value for every option of train.py, and whether a resumed run refuses it (the rest apply, and are
# said): a new option must be added here, where its behaviour on a resume is decided.
CHANGED_ON_RESUME = {
    "train_csv": ("other.csv", False),
    "val_csv": ("other_val.csv", False),
    "arch": ("resnet34", True),
    "use_shortcut": (False, True),
    "width": (8, True),
    "layout": ("original", True),
    "stem": ("cifar", True),
    "num_classes": (7, True),
    "image_size": (96, False),
    "batch_size": (4, True),
    "epochs": (20, False),
    "max_steps": (500, False),
    "time_budget": ("20m", False),
    "optimizer": ("sgd", True),
    "lr": (0.01, False),
    "lr_schedule": ("constant", False),
    "warmup_steps": (10, False),
    "weight_decay": (0.001, False),
    "loss": ("sigmoid", True),
    "label_smoothing": (0.0, False),
    "class_weights": ("balanced", False),
    "batch_augment": ("mixup", False),
    "mix_alpha": (0.4, False),
    "augment": ("light", False),
    "eval_crop": (0.875, False),
    "tta": ("flip", False),
    "ema_decay": (0.99, True),
    "early_stop_patience": (3, False),
    "pretrained": ("imagenet", True),
    "freeze_stages": (1, False),
    "freeze_bn": (True, False),
    "log_every": (7, False),
    "eval_every": (11, False),
    "ckpt_every": (13, False),
    "keep_checkpoints": (2, False),
    "seed": (3, False),
    "deterministic": (True, False),
    "skip_bad_rows": (True, False),
    "skip_nonfinite": (True, False),
    "init_from": ("runs/other", True),
    "zero_init_residual": (True, True),
    "demo": ("objects", True),
    "image_dir": ("photos", True),
    "val_fraction": (0.3, True),
    "precision": ("mixed_bfloat16", True),
    "jit": (True, False),
    "strategy": ("default", False),
    "sync_bn": (True, False),
    "threads": (1, False),
    "normalization": ("caffe", True),
    "resize": ("cubic", True),
    "path_column": ("file", False),
    "label_column": ("class", False),
    "image_root": ("/images", False),
    "tasks": ("other_tasks.csv", True),
    "lifelong_strategy": ("replay", True),
    "scenario": ("class", True),
    "memory_per_class": (50, False),
    "replay_ratio": (0.25, False),
    "distill_weight": (2.0, False),
    "distill_temperature": (1.0, False),
}


def test_every_option_has_its_behaviour_on_a_resume_decided():
    assert set(CHANGED_ON_RESUME) == set(section_of_options()) - {"logdir"}


@pytest.mark.parametrize("option", sorted(CHANGED_ON_RESUME))
def test_an_option_changed_on_a_resume_is_applied_and_said_or_refused_by_name(tmp_path, option):
    value, refused = CHANGED_ON_RESUME[option]
    saved = saved_run(TrainConfig.from_options(arch="resnet18", stem="small", augment="none", num_classes=5, **CSVS))
    given = {option: value, "logdir": str(tmp_path)}
    if refused:
        with pytest.raises(ConfigError, match=f"--{option.replace('_', '-')}={value} conflicts with the saved run"):
            settle.requested(given, saved, resuming=True)
        return
    with logged("resnet_tf.runs.settle") as messages:
        cfg = settle.requested(given, saved, resuming=True)
    assert cfg.options()[option] == value
    assert f"--{option.replace('_', '-')} " in " ".join(messages) and "applied from here on" in " ".join(messages)
