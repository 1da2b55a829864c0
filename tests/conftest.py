"""Fixtures the tests share: a small demo data set, one tiny trained run (and its export) that the tests of
evaluation, export, prediction and reports read, and a checkpoint of the TF1 original. Helpers are in
``tests/helpers.py``."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
from resnet_tf.console.startup import apply_runtime_environment

apply_runtime_environment()  # the tests run TensorFlow as the scripts do

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from tensorflow.python.framework import config as tf_config  # noqa: E402

from tests.gcs_server import LocalGcs, local_gcs  # noqa: E402
from tests.helpers import TINY, OriginalCheckpoint, class_tasks, make_labelled_set, train_args, write_csv  # noqa: E402
from tests.shared import made_once  # noqa: E402


def pytest_xdist_auto_num_workers(config) -> int | None:
    """``-n auto``: one test process more than the cores this process may use. Many tests wait on processes
    they started (TensorFlow starting, workers meeting, a run killed and resumed); with one process per core, a
    core then idles. On 2 cores, 3 processes ran the suite about a tenth faster than 2 (and 4 no faster)."""
    if config.option.numprocesses != "auto":
        return None
    return len(os.sched_getaffinity(0)) + 1 if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1) + 1


def pytest_collection_modifyitems(config, items):
    """The files with the most slow tests (processes started, runs trained and killed) go first, the quick
    files last: the two test processes, which take whole files (pytest.ini), then finish together instead
    of one waiting on a long file drawn at the end. A file's tests keep their order (the sort is stable)."""
    weight = {}
    for item in items:
        weight[item.path] = weight.get(item.path, 0) + (item.get_closest_marker("slow") is not None)
    items.sort(key=lambda item: -weight[item.path])


@pytest.fixture
def labelled_csv(tmp_path) -> str:
    """A 3-class, 12-image CSV of PNGs whose pixels encode the label."""
    return make_labelled_set(str(tmp_path))


@pytest.fixture(scope="session")
def demo_data(tmp_path_factory) -> tuple[str, str]:
    """A small demo data set (6 classes, 32 px), generated once per test session."""
    from data_utils.demo import make_demo_dataset

    out = str(tmp_path_factory.mktemp("demo"))
    return make_demo_dataset(out, num_classes=6, per_class=20, size=32, show_progress=False)


@pytest.fixture(scope="session")
def trained_run(demo_data, tmp_path_factory):
    """A tiny run of 8 steps, validated after its first epoch (6 steps) and at the end, checkpointed at steps 4
    and 8, steps 3-4 profiled, with the augmentation 32 px images get by default (flips, and flips at test);
    trained once for all the test processes, each of which gets a copy of its own (a few tests write into it: a
    finished run's rerun logs a line, evaluate.py's output may go inside)."""
    import train

    def make(folder: Path) -> Path:
        logdir = folder / "e2e"
        recipe = ("--max-steps", "8", "--ckpt-every", "4", "--profile-steps", "3,4", "--augment", "auto")
        assert train.main(train_args(demo_data, logdir, *recipe)) == 0
        return logdir

    copy = tmp_path_factory.mktemp("runs") / "e2e"
    shutil.copytree(made_once(tmp_path_factory, "trained_run", make), copy)
    return copy


# A deterministic recipe of three class-incremental tasks with replay: 4 steps per task, checkpoints every 2 steps,
# a validation at each task's end, a loss logged for every step.
SEQUENCE = (
    "--lifelong-strategy",
    "replay",
    "--max-steps",
    "4",
    "--ckpt-every",
    "2",
    "--eval-every",
    "4",
    "--log-every",
    "1",
    "--deterministic",
    "--memory-per-class",
    "4",
)


@pytest.fixture(scope="session")
def class_tasks_csv(demo_data, tmp_path_factory) -> str:
    """A tasks CSV of three class-incremental tasks: the demo set's classes, two by two."""
    return class_tasks(demo_data, str(tmp_path_factory.mktemp("tasks")))


@pytest.fixture(scope="session")
def class_sequence(class_tasks_csv, tmp_path_factory):
    """``(tasks CSV, run folder)`` of the SEQUENCE recipe run to its end on ``class_tasks_csv``."""
    import train

    tasks, logdir = class_tasks_csv, tmp_path_factory.mktemp("sequence") / "run"
    args = ["--tasks", tasks, "--logdir", str(logdir), *TINY, *SEQUENCE]
    assert train.main(args) == 0
    return tasks, logdir


@pytest.fixture(scope="session")
def six_step_run(demo_data, tmp_path_factory):
    """A tiny run of 6 steps at a constant rate, checkpointed and validated every 2 steps: the run folder the
    resume tests copy and damage."""
    import train

    def make(folder: Path) -> Path:
        logdir = folder / "six_steps"
        recipe = ("--max-steps", "6", "--ckpt-every", "2", "--eval-every", "2", "--lr-schedule", "constant")
        assert train.main(train_args(demo_data, logdir, *recipe)) == 0
        return logdir

    return made_once(tmp_path_factory, "six_steps", make)


@pytest.fixture(scope="session")
def exported_run(request, tmp_path_factory):
    """``trained_run``'s best checkpoint exported by export.py, with its TFLite file (made once for all the test
    processes, from the copy of ``trained_run`` of the process that makes it)."""
    import export

    def make(folder: Path) -> Path:
        trained_run = request.getfixturevalue("trained_run")
        assert export.main(["--logdir", str(trained_run), "--out", str(folder / "model"), "--tflite"]) == 0
        return folder / "model"

    return made_once(tmp_path_factory, "exported", make)


def make_original_checkpoint(folder: Path) -> OriginalCheckpoint:
    """The original TF1 graph (ResNet-50 layout, width 8, 5 classes at 40 px), given non-trivial batch-norm
    statistics and biases, trained with its session for a few steps on real JPEG files of several sizes, and
    saved with ``tf.train.Saver`` as the original did."""
    from tests.tf1_original import OriginalGraph, original_preprocessing

    rng = np.random.default_rng(3)
    rows = []
    for i, (h, w) in enumerate([(40, 40), (64, 48), (30, 52), (120, 90), (33, 33), (75, 100), (48, 64), (90, 90)]):
        colour = rng.integers(40, 216, 3)  # a colour of its own under blurred noise
        noise = cv2.GaussianBlur(rng.integers(0, 81, (h, w, 3), dtype=np.uint8), (5, 5), 0)
        image = (colour + noise.astype(int) - 40).clip(0, 255).astype(np.uint8)
        cv2.imwrite(str(folder / f"{i}.jpg"), image, [cv2.IMWRITE_JPEG_QUALITY, 90])
        rows.append((f"{i}.jpg", i % 5))
    csv_path = write_csv(str(folder / "train.csv"), rows)
    inputs = np.stack([original_preprocessing(str(folder / path), 40) for path, _ in rows])
    graph = OriginalGraph(num_classes=5, image_size=40, width=8)
    graph.randomize_statistics_and_biases(seed=1)  # before training, which then fits the head around them
    graph.train(inputs, np.array([label for _, label in rows]), steps=60)
    prefix = graph.save(str(folder / "model_1202" / "resnet50.model"), step=60)
    logits = graph.logits_of(inputs)
    graph.session.close()
    return OriginalCheckpoint(prefix, csv_path, 40, 5, 8, inputs, logits)


@pytest.fixture(scope="session")
def original_checkpoint(tmp_path_factory) -> OriginalCheckpoint:
    """:func:`make_original_checkpoint`'s, made once for all the test processes."""
    return made_once(tmp_path_factory, "original", make_original_checkpoint)


@pytest.fixture(scope="session")
def gcs_server(tmp_path_factory) -> Iterator[LocalGcs]:
    """A real Google Cloud Storage server on 127.0.0.1 with the bucket ``test-bucket`` (``tests/gcs_server.py``),
    started once per test process that needs it."""
    with local_gcs(str(tmp_path_factory.mktemp("gcs")), "test-bucket") as store:
        yield store


@pytest.fixture
def gcs(gcs_server, monkeypatch) -> LocalGcs:
    """``gcs_server`` with TensorFlow's ``gs://`` client sent to it for this test (a subprocess started with
    ``os.environ`` goes there too), its request log emptied and the store available."""
    for name, value in gcs_server.env.items():
        monkeypatch.setenv(name, value)
    gcs_server.forget()
    gcs_server.available = True
    yield gcs_server
    gcs_server.available = True


@pytest.fixture(autouse=True)
def op_determinism_off():
    """A --deterministic run inside the test process switches op determinism on for the whole process (as
    train.py does in its own); every test starts as a fresh process would, with it off (XLA's max-pool
    gradient, for one, has no deterministic version)."""
    tf_config.disable_op_determinism()
    yield
    tf_config.disable_op_determinism()
