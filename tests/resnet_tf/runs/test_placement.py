"""Tests of choosing where a run computes: the strategy from --strategy and TF_CONFIG, the batch split."""

import json
import types

import pytest

from resnet_tf.runs.placement import ClusterError, Placement, cluster_size, resolve


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
