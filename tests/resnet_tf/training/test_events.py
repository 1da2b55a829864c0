"""Tests of the run's TensorBoard event files: what is written, and a failed write reported as such."""

import json
import subprocess
import sys
import time
import urllib

import pytest
import tensorflow as tf

from resnet_tf.console.errors import UserError
from resnet_tf.training.events import COMPARED_SETTINGS, EventLog, EventWriteError, compared_settings
from tests.helpers import scalars, tensor_values


def test_scalars_land_in_their_split(tmp_path):
    events = EventLog(str(tmp_path))
    events.scalars("val", 7, {"accuracy": 0.25, "loss": 1.5})
    with events.writing("train", 3):
        tf.summary.scalar("learning_rate", 0.1)
    events.flush()
    assert tensor_values(scalars(str(tmp_path / "val")), "accuracy") == [(7, 0.25)]
    assert tensor_values(scalars(str(tmp_path / "train")), "learning_rate") == [(3, pytest.approx(0.1))]


def test_unwritable_event_folder_is_a_clear_error(tmp_path):
    (tmp_path / "train").write_text("a file where the events folder should be")
    with pytest.raises(EventWriteError, match="could not write TensorBoard events to .*train.*not writable") as info:
        EventLog(str(tmp_path))
    assert isinstance(info.value, UserError)


@pytest.mark.slow  # a tensorboard process
def test_tensorboard_serves_the_curves_reports_and_hparams_of_the_runs_folder(trained_run):
    # As a user starts it: on the folder of runs, so the run is "e2e" and its parts "e2e/train", "e2e/val".
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tensorboard.main",
            "--logdir",
            str(trained_run.parent),
            "--port",
            "0",
            "--host",
            "127.0.0.1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url = None
        deadline = time.time() + 90
        while url is None and time.time() < deadline:
            line = proc.stdout.readline()
            if "http://" in line:
                url = line[line.index("http://") :].split()[0].rstrip("/")
        assert url, "tensorboard did not start"
        data = None
        while time.time() < deadline:
            with urllib.request.urlopen(f"{url}/data/plugin/scalars/tags", timeout=10) as response:
                data = json.loads(response.read())
            if "loss" in data.get("e2e/val", {}):
                break
            time.sleep(1)
        assert {"loss", "accuracy"} <= set(data["e2e/train"]) and {"loss", "accuracy", "top5_accuracy"} <= set(
            data["e2e/val"]
        )
        with urllib.request.urlopen(
            f"{url}/data/plugin/scalars/scalars?run=e2e/val&tag=accuracy", timeout=10
        ) as response:
            points = json.loads(response.read())
        assert [p[1] for p in points] == [6, 8]
        with urllib.request.urlopen(f"{url}/data/plugin/images/tags", timeout=10) as response:
            assert {"confusion_matrix", "misclassified"} <= set(json.loads(response.read())["e2e/val"])
        with urllib.request.urlopen(f"{url}/data/plugin/text/tags", timeout=10) as response:
            assert "per_class_accuracy" in json.loads(response.read())["e2e/val"]
        request = urllib.request.Request(
            f"{url}/data/plugin/hparams/experiment",
            data=b'{"experimentName": ""}',
            headers={"Content-Type": "application/json", "X-XSRF-Protected": "1"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            experiment = json.loads(response.read())
        assert {"arch", "width", "stem", "lr"} <= {h["name"] for h in experiment["hparamInfos"]}
        assert {"group": "val", "tag": "accuracy"} in [m["name"] for m in experiment["metricInfos"]]
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_the_hparams_tab_compares_a_budgeted_run_by_its_budget_not_by_epochs():
    from resnet_tf.runs.config import TrainConfig

    by_epochs = compared_settings(TrainConfig.from_options(epochs=8).options())
    by_time = compared_settings(TrainConfig.from_options(time_budget="10m").options())
    assert list(by_epochs) == list(COMPARED_SETTINGS) == list(by_time)
    assert (by_epochs["epochs"], by_epochs["time_budget"]) == (8, None)
    assert (by_time["epochs"], by_time["time_budget"]) == (None, "10m")  # None: left out of the tab
