"""Tests of choosing where a run computes: the strategy from --strategy and TF_CONFIG, the batch split."""

import json
import types

import pytest

from resnet_tf.runs.placement import (
    ClusterError,
    Placement,
    _mirrored_devices,
    cluster_size,
    input_options,
    make_placement,
    resolve,
)
from tests.helpers import logged


def test_strategy_choice_and_batch_split():
    assert cluster_size({}) == 0
    two = json.dumps({"cluster": {"chief": ["a:1"], "worker": ["b:1"]}, "task": {"type": "chief", "index": 0}})
    assert cluster_size({"TF_CONFIG": two}) == 2 and resolve("auto", {"TF_CONFIG": two}) == "multi-worker"
    assert resolve("auto", {}) == "default" and resolve("mirrored", {}) == "mirrored"
    with pytest.raises(ClusterError, match="needs the TF_CONFIG"):
        resolve("multi-worker", {})
    with pytest.raises(ClusterError, match="TF_CONFIG is not a cluster description"):
        cluster_size({"TF_CONFIG": "{cluster: none}"})
    placement = Placement(types.SimpleNamespace(num_replicas_in_sync=4), "mirrored")
    assert placement.per_replica_batch(32) == 8
    with pytest.raises(ClusterError, match="--batch-size 30 is the global batch .* 4 replicas .* try 28"):
        placement.per_replica_batch(30)
    with pytest.raises(ClusterError, match="--jit works on one device"):
        placement.check_jit(True)


@pytest.mark.parametrize(
    "config,message",
    [
        ({"cluster": {"worker": ["a:1", "b:1"]}}, "TF_CONFIG has no task"),
        (
            {"cluster": {"worker": ["a:1", "b:1"]}, "task": {"type": "worker", "index": 2}},
            "task index 2 is out of range",
        ),
        ({"cluster": {"worker": ["a:1", "b:1"]}, "task": {"type": "worker", "index": -1}}, "index 0 to 1"),
        ({"cluster": {"worker": ["a:1"]}, "task": {"type": "ps", "index": 0}}, "task type 'ps' is not a job"),
        ({"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": "0"}}, "task index '0' is out of range"),
    ],
)
def test_a_tf_config_without_this_process_in_it_is_refused_before_tensorflow_reads_it(config, message):
    with pytest.raises(ClusterError, match=message):
        cluster_size({"TF_CONFIG": json.dumps(config)})


def test_one_worker_or_one_device_trains_with_the_default_strategy():
    one = json.dumps({"cluster": {"worker": ["localhost:1"]}, "task": {"type": "worker", "index": 0}})
    with logged("resnet_tf.runs.placement") as messages:
        assert make_placement("multi-worker", {"TF_CONFIG": one}).kind == "default"
    assert "TF_CONFIG lists one worker" in messages[0]
    devices = len(_mirrored_devices())  # what mirrored would span here (GPUs, else CPU devices)
    with logged("resnet_tf.runs.placement") as messages:
        assert make_placement("mirrored", {}).kind == ("default" if devices == 1 else "mirrored")
    assert ("--strategy mirrored on one device" in " ".join(messages)) == (devices == 1)


def test_batches_are_prefetched_onto_gpus_and_left_in_place_for_cpu_devices():
    def strategy(*devices):
        return types.SimpleNamespace(
            extended=types.SimpleNamespace(worker_devices=devices), num_replicas_in_sync=len(devices)
        )

    cpus = strategy("/job:localhost/replica:0/task:0/device:CPU:0", "/job:localhost/replica:0/task:0/device:CPU:1")
    gpus = strategy("/job:worker/replica:0/task:1/device:GPU:0", "/job:worker/replica:0/task:1/device:GPU:1")
    assert not input_options(cpus).experimental_fetch_to_device
    assert input_options(gpus).experimental_fetch_to_device
    assert not input_options(make_placement("default", {}).strategy).experimental_fetch_to_device
