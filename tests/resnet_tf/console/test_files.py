"""Tests of the file layer: local paths and paths in a store behave alike (TensorFlow's in-memory ``ram://``
and a real GCS server on 127.0.0.1 reached through TensorFlow's own ``gs://`` client, ``tests/gcs_server.py``),
and a whole workflow runs in a bucket."""

import io
import os
import time

import cv2
import numpy as np
import pandas as pd
import pytest

import evaluate
import export
import predict
import train
from data_utils import make_csv
from resnet_tf.console import files
from resnet_tf.console.errors import ConfigError, UserError
from resnet_tf.evaluation.evaluate_run import RESULT_FILES
from tests.helpers import TINY, start_trainer


@pytest.fixture(params=["local", "ram", "gs"])
def base(request, tmp_path):
    if request.param == "gs":
        request.getfixturevalue("gcs")
        return f"gs://test-bucket/files-test-{time.monotonic_ns()}"
    return str(tmp_path) if request.param == "local" else f"ram://files-test-{time.monotonic_ns()}"


def test_local_and_store_paths_are_written_read_and_listed_alike(base):
    target = files.join(base, "a", "b.txt")
    files.write_atomic(target, "line 1\nline 2\n")
    files.write_atomic(target, "new, whole\n")  # written over as a whole
    assert files.read_bytes(target) == b"new, whole\n" and files.isfile(target) and not files.isdir(target)
    assert files.isdir(files.join(base, "a")) and files.listdir(files.join(base, "a")) == ["b.txt"]
    assert files.size_and_mtime(target)[0] == 11
    files.copy(target, files.join(base, "c.txt"))
    with files.open_file(files.join(base, "c.txt"), "r", encoding="utf-8") as f:
        assert list(f) == ["new, whole\n"]
    walked = {root: sorted(names) for root, _, names in files.walk(base)}
    assert walked == {base: ["c.txt"], files.join(base, "a"): ["b.txt"]}
    files.remove(files.join(base, "c.txt"))
    files.rmtree(files.join(base, "a"))
    assert not files.exists(files.join(base, "c.txt")) and not files.exists(target)
    for call in (files.read_bytes, files.size_and_mtime, files.listdir):
        with pytest.raises(FileNotFoundError):  # one except clause for both kinds of path
            call(files.join(base, "missing"))


def test_a_walk_through_a_bucket_lists_each_folder_once_and_asks_nothing_per_file(gcs):
    """``tf.io.gfile.walk`` asks of every file whether it is a folder (two requests each); a Cloud Storage
    listing already says (folders end with "/"): two requests per folder (TensorFlow checks that it is one,
    then lists it), whatever the number of files."""
    root = f"gs://test-bucket/walk-{time.monotonic_ns()}"
    photos(root, gcs.upload)
    gcs.forget()
    walked = list(files.walk(root))
    assert [(r.removeprefix(root), d, len(f)) for r, d, f in walked] == [
        ("", ["class0", "class1", "class2"], 0),
        ("/class0", [], 10),
        ("/class1", [], 10),
        ("/class2", [], 10),
    ]
    assert len(gcs.requests) == 2 * 4


def test_paths_with_a_scheme_keep_it():
    assert files.normalize("gs://b/x/../y/./z.jpg") == "gs://b/y/z.jpg"
    assert files.absolute("gs://b/run") == "gs://b/run" and files.join("gs://b", "run") == "gs://b/run"
    assert files.relative("gs://b/photos/cat/1.jpg", "gs://b/data") == "../photos/cat/1.jpg"
    assert files.relative("gs://other/1.jpg", "gs://b/data") == "gs://other/1.jpg"  # another bucket
    assert files.relative("/local/1.jpg", "gs://b/data") == "/local/1.jpg"
    assert files.is_remote("s3://b/x") and not files.is_remote("/data/x.jpg")
    assert files.in_process_memory("ram://run") and not files.in_process_memory("gs://b/ram://x")
    assert not files.in_process_memory("/tmp/ram")


def test_write_atomic_leaves_the_old_file_when_writing_fails(tmp_path):
    target = str(tmp_path / "config.json")
    files.write_atomic(target, "old")
    with pytest.raises(TypeError):
        files.write_atomic(target, 12345)  # neither text nor bytes
    assert open(target).read() == "old" and os.listdir(tmp_path) == ["config.json"]


def photos(root: str, write=files.write_atomic) -> None:
    """Three classes of ten 40 px PNG files under ``root``, written by ``write(path, data)``."""
    for c in range(3):
        for i in range(10):
            _, data = cv2.imencode(".png", np.full((40, 40, 3), (80 * c, 255 - 80 * c, 20 * i), np.uint8))
            write(f"{root}/class{c}/{i}.png", data.tobytes())


# TensorFlow's GCS client retries a failed request this many times, 0.1 s apart (plus up to 1 s of its own
# jitter; its defaults: 10 times, from 1 s up to 32 s apart, about three minutes); read when the process starts.
SHORT_RETRIES = {"GCS_RETRY_CONFIG_MAX_RETRIES": "1", "GCS_RETRY_CONFIG_INIT_DELAY_TIME_US": "100000"}


@pytest.mark.slow
def test_a_whole_workflow_runs_in_a_bucket_and_survives_the_store_stopping_mid_run(gcs, capsys):
    """make_csv -> train, stopped by the store answering 503 to everything from the step after a checkpoint,
    resumed when it is back -> evaluate -> export -> predict -> a run from the folder of images started from the
    first run (--image-dir, --init-from): every path in a bucket of a real GCS server reached through
    TensorFlow's own gs:// client, the same command lines as on local paths. The images are uploaded as
    ``gsutil cp`` would, without folder objects. The stopped trainer ends with an ``error:`` line giving the
    store's answer once TensorFlow's retries are spent; nothing saved is lost."""
    store = f"gs://test-bucket/workflow-{time.monotonic_ns()}"
    photos(f"{store}/photos", gcs.upload)
    assert all(name.endswith(".png") for name in gcs.objects(f"{store}/photos"))  # no folder objects
    assert make_csv.main([f"{store}/photos", "--out", f"{store}/data"]) == 0
    assert pd.read_csv(io.BytesIO(files.read_bytes(f"{store}/data/train.csv")))["path"][0] == "../photos/class0/1.png"
    run = f"{store}/runs/a"
    args = [
        "--train-csv",
        f"{store}/data/train.csv",
        "--val-csv",
        f"{store}/data/val.csv",
        "--logdir",
        run,
        *TINY,
        "--batch-size",
        "8",
        "--max-steps",
        "12",
        "--ckpt-every",
        "4",
        "--eval-every",
        "12",
    ]
    trainer = start_trainer(args, env=dict(os.environ, **SHORT_RETRIES))
    try:
        deadline = time.monotonic() + 120
        while not files.exists(f"{run}/checkpoints/ckpt-4.index") and time.monotonic() < deadline:
            time.sleep(0.25)
        gcs.available = False
        out, _ = trainer.communicate(timeout=300)
    finally:
        trainer.kill()
    gcs.available = True
    assert trainer.returncode == 2 and "Traceback" not in out
    error = [line for line in out.splitlines() if line.startswith("error: ")]
    assert len(error) == 1 and f"{run}/" in error[0] and "HTTP 503 Backend Error, after 1 retry" in error[0]
    saved = sorted(int(name[5:-6]) for name in files.listdir(f"{run}/checkpoints") if name.endswith(".index"))
    assert saved and saved[0] >= 4  # nothing saved before the outage is lost
    assert train.main(args) == 0
    assert f"tensorboard --logdir {store}/runs" in capsys.readouterr().out
    history = pd.read_csv(io.BytesIO(files.read_bytes(f"{run}/history.csv")))
    assert list(history["step"]) == sorted(set(history["step"])) and history["step"].iloc[-1] == 12
    log = files.read_bytes(f"{run}/train.log").decode()
    assert f"resuming from {run}/checkpoints/ckpt-{saved[-1]}" in log and "done: 12 steps" in log
    assert not files.exists(f"{run}/run.lock")  # taken over from the stopped trainer, released at the end
    assert not [name for name in files.listdir(f"{run}/checkpoints") if "_temp" in name or ".tmp" in name]

    assert evaluate.main(["--logdir", run, "--csv", f"{store}/data/val.csv", "--out", f"{store}/eval"]) == 0
    assert files.listdir(f"{store}/eval") == sorted(RESULT_FILES)
    assert export.main(["--logdir", run, "--out", f"{store}/export"]) == 0
    assert (
        predict.main(
            ["--saved-model", f"{store}/export", f"{store}/photos/class1", "--out", f"{store}/predictions.csv"]
        )
        == 0
    )
    table = pd.read_csv(io.BytesIO(files.read_bytes(f"{store}/predictions.csv")))
    assert (
        len(table) == 10 and table["error"].isna().all() and set(table["predicted"]) <= {"class0", "class1", "class2"}
    )
    # a second run from a folder of class folders, started from the first run's weights
    assert (
        train.main(
            [
                "--image-dir",
                f"{store}/photos",
                "--init-from",
                run,
                "--logdir",
                f"{store}/runs/b",
                *TINY,
                "--batch-size",
                "8",
                "--max-steps",
                "2",
            ]
        )
        == 0
    )
    assert "initialized from" in files.read_bytes(f"{store}/runs/b/train.log").decode()
    assert files.exists(f"{store}/runs/b/data/train.csv") and files.exists(f"{store}/runs/b/best/checkpoint")
    assert {request.host for request in gcs.requests} == {"www.googleapis.com", "storage.googleapis.com"}


def test_a_scheme_no_file_system_serves_is_a_clear_error(demo_data, capsys):
    with pytest.raises(
        ConfigError, match="has no file system for nosuchfs:// .*tensorflow-io.*up to 2.16.*mounted as a local folder"
    ):
        files.exists("nosuchfs://bucket/x")
    with pytest.raises(ConfigError, match="has no file system for s3:// "):
        files.exists("s3://bucket/x")  # no plugin that loads in this TensorFlow (docs/storage.md)
    assert (
        train.main(
            [
                "--train-csv",
                "nosuchfs://bucket/train.csv",
                "--val-csv",
                demo_data[1],
                "--logdir",
                "nosuchfs://bucket/run",
            ]
        )
        == 2
    )
    assert "error: nosuchfs://bucket/run/config.json: TensorFlow 2." in capsys.readouterr().err


def test_a_store_that_fails_is_an_error_line_naming_the_path(demo_data, monkeypatch, capsys):
    import tensorflow as tf

    class Unreachable:  # what tf.io.gfile does when the store cannot be reached or refuses the credentials
        def __getattr__(self, name):
            def fail(*args, **kwargs):
                raise tf.errors.UnavailableError(None, None, "Could not resolve host: storage.example")

            return fail

    monkeypatch.setattr(files, "_gfile", lambda path: Unreachable())
    with pytest.raises(OSError) as raised:  # an OSError, as a local file call's, for the code that handles them
        files.read_bytes("ram://down/x")
    assert isinstance(raised.value, UserError)
    assert train.main(["--train-csv", demo_data[0], "--val-csv", demo_data[1], "--logdir", "ram://down/run"]) == 2
    assert (
        "error: cannot use ram://down/run/config.json: Could not resolve host: storage.example"
        in capsys.readouterr().err
    )


def test_a_store_that_cannot_be_reached_is_not_taken_for_a_missing_folder(monkeypatch, capsys):
    import tensorflow as tf

    from data_utils import make_csv

    class Unreachable:  # TensorFlow's GCS client: isdir answers False when the store cannot be reached, exists raises
        def isdir(self, path):
            return False

        def exists(self, path):
            raise tf.errors.UnavailableError(None, None, "Could not resolve host: www.googleapis.com")

    monkeypatch.setattr(files, "_gfile", lambda path: Unreachable())
    assert make_csv.main(["gs://unreachable-bucket/photos", "--out", "gs://unreachable-bucket/csv"]) == 2
    err = capsys.readouterr().err
    assert "cannot use gs://unreachable-bucket/photos: Could not resolve host: www.googleapis.com" in err
    assert "not a folder" not in err


def test_a_store_answer_is_told_in_one_short_line():
    tensorflow_said = (
        "All 3 retry attempts failed. The last failure: Error executing an HTTP request: HTTP response code 503 "
        'with body \'{"error": {"code": 503, "message": "Backend Error", "errors": [{"reason": "backendError"}]}}\'\n'
        "\t when reading metadata of gs://b/run/x"
    )
    assert files.store_answer(tensorflow_said) == (
        "HTTP 503 Backend Error, after 3 retries, when reading metadata of gs://b/run/x"
    )
    assert files.store_answer("HTTP response code 403 with body 'Forbidden'") == "HTTP 403"
    assert files.store_answer("Could not resolve host:\n storage.example") == "Could not resolve host: storage.example"
    assert files.what_to_check("gs://b/run") != files.what_to_check("/data/run") == "disk full or not writable?"
