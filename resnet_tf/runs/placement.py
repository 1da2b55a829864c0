"""Where a run computes: TensorFlow's distribution strategy, chosen from ``--strategy``, ``TF_CONFIG`` and the
visible devices, and this process's place in it (which process of a multi-worker run writes the run
folder).

- ``default``: one device (TensorFlow's default strategy).
- ``mirrored``: ``MirroredStrategy`` over every GPU of this machine (every logical CPU device when it has
  no GPU: see ``RESNET_TF_CPU_REPLICAS``).
- ``multi-worker``: ``MultiWorkerMirroredStrategy`` over the processes that ``TF_CONFIG`` lists, one per
  machine, each using all of its GPUs.
- ``auto``: ``multi-worker`` when ``TF_CONFIG`` lists more than one process, ``mirrored`` when more than
  one GPU (or ``RESNET_TF_CPU_REPLICAS`` CPU device) is visible, else ``default``.

``RESNET_TF_CPU_REPLICAS=N`` splits the CPU into N logical devices, so that a machine without GPUs can
run (and test) several replicas; it is not a way to train faster.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from collections.abc import Mapping

import tensorflow as tf

from resnet_tf.console.errors import UserError
from resnet_tf.runs.choices import STRATEGIES
from resnet_tf.runs.rendezvous import interrupt_stops_at_once, meet, peer_timeout

LOG = logging.getLogger(__name__)

CPU_REPLICAS = "RESNET_TF_CPU_REPLICAS"


class ClusterError(UserError):
    """A strategy that cannot be set up as asked (TF_CONFIG, devices, batch split), or a worker lost."""


TF_CONFIG_FORM = '{"cluster": {"worker": ["host1:port", ...]}, "task": {"type": "worker", "index": 0}}'


def cluster_size(environ: Mapping[str, str]) -> int:
    """Processes (``chief`` and ``worker`` tasks) in ``TF_CONFIG``'s cluster; 0 without ``TF_CONFIG``. Raises
    ClusterError, before TensorFlow reads it, for a ``TF_CONFIG`` that is not a cluster with this process's task
    in it."""
    cluster = cluster_addresses(environ)
    return len(cluster[0]) if cluster else 0


def cluster_addresses(environ: Mapping[str, str]) -> tuple[dict[tuple[str, int], str], tuple[str, int]] | None:
    """``TF_CONFIG``'s ``{(job, index): address}`` for its chief and workers, and this process's ``(job,
    index)``; None without ``TF_CONFIG``; ClusterError for one that is not a cluster with this process in it."""
    text = environ.get("TF_CONFIG", "").strip()
    if not text:
        return None
    try:
        config = json.loads(text)
        cluster, task = config["cluster"], config.get("task")
        jobs = {job: list(cluster.get(job, [])) for job in ("chief", "worker")}
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise ClusterError(
            f"TF_CONFIG is not a cluster description ({type(err).__name__}: {err}); expected {TF_CONFIG_FORM}"
        ) from None
    _check_task(task, jobs)
    addresses = {(job, i): address for job, hosts in jobs.items() for i, address in enumerate(hosts)}
    return addresses, (task["type"], task.get("index", 0))


def _check_task(task: object, jobs: dict[str, list]) -> None:
    """ClusterError unless ``task`` names this process's place among ``jobs``."""
    if not isinstance(task, dict) or "type" not in task:
        raise ClusterError(f"TF_CONFIG has no task (this process's type and index); expected {TF_CONFIG_FORM}")
    kind, index = task["type"], task.get("index", 0)
    if kind not in jobs or not jobs[kind]:
        listed = ", ".join(j for j, hosts in jobs.items() if hosts) or "none"
        raise ClusterError(f"TF_CONFIG's task type {kind!r} is not a job of its cluster (jobs: {listed})")
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(jobs[kind]):
        raise ClusterError(
            f"TF_CONFIG's task index {index!r} is out of range: its cluster lists {len(jobs[kind])} {kind} "
            f"address{'es' * (len(jobs[kind]) > 1)} (index 0 to {len(jobs[kind]) - 1})"
        )


def split_cpu(environ: Mapping[str, str]) -> None:
    """Makes ``RESNET_TF_CPU_REPLICAS`` logical CPU devices (before TensorFlow's runtime starts)."""
    text = environ.get(CPU_REPLICAS, "")
    if not text:
        return
    if not text.isdigit() or int(text) < 1:
        raise ClusterError(f"{CPU_REPLICAS} must be a positive number of devices, got {text!r}")
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * int(text))


def resolve(name: str, environ: Mapping[str, str]) -> str:
    """The strategy ``--strategy name`` means on this machine (``auto`` decided)."""
    if name not in STRATEGIES:
        raise ClusterError(f"--strategy must be one of {', '.join(STRATEGIES)}, got {name!r}")
    workers = cluster_size(environ)
    if name == "multi-worker" and workers == 0:
        raise ClusterError(
            "--strategy multi-worker needs the TF_CONFIG environment variable (the cluster's "
            "workers and this process's index); see the README, 'Several GPUs, several machines'"
        )
    if name != "auto":
        return name
    if workers > 1:
        return "multi-worker"
    return "mirrored" if len(_mirrored_devices()) > 1 else "default"


def _mirrored_devices() -> list[str]:
    gpus = tf.config.list_logical_devices("GPU")
    return [d.name for d in (gpus or tf.config.list_logical_devices("CPU"))]


@dataclasses.dataclass
class Placement:
    """The strategy of a run and this process's place in it."""

    strategy: tf.distribute.Strategy
    kind: str  # one of STRATEGIES except auto
    worker: int = 0  # this process's index among the workers
    num_workers: int = 1

    @property
    def replicas(self) -> int:
        """Replicas in sync over all workers (devices that each compute a slice of the global batch)."""
        return self.strategy.num_replicas_in_sync

    @property
    def is_chief(self) -> bool:
        """Whether this process writes the run folder (events, checkpoints, config): worker 0."""
        return self.strategy.extended.should_checkpoint

    def per_replica_batch(self, global_batch: int) -> int:
        """``global_batch`` split between the replicas; ClusterError when it does not divide."""
        if global_batch % self.replicas:
            raise ClusterError(
                f"--batch-size {global_batch} is the global batch and must divide by the {self.replicas} "
                f"replicas of the {self.kind} strategy; try {max(1, global_batch // self.replicas) * self.replicas}"
            )
        return global_batch // self.replicas

    def check_jit(self, jit: bool) -> None:
        """XLA compiles the step for one device only here: with replicas on several devices, the compiled
        function reads the other replicas' variables across devices, which XLA refuses."""
        if jit and self.replicas > 1:
            raise ClusterError(
                f"--jit works on one device; the {self.kind} strategy has {self.replicas} replicas "
                "(leave --jit out, or train with --strategy default)"
            )

    def describe(self, global_batch: int) -> str:
        """One line for the run's start: strategy, replicas, per-replica batch."""
        where = f"worker {self.worker} of {self.num_workers}, " if self.num_workers > 1 else ""
        if self.kind == "default":
            devices = "one device"
        else:  # this worker's devices, short: CPU:0, GPU:1
            devices = ", ".join(d.rsplit("device:", 1)[-1] for d in self.strategy.extended.worker_devices)
        return (
            f"{self.kind} strategy: {where}{self.replicas} replica{'s' * (self.replicas > 1)} ({devices}"
            f"{' on this worker' if self.num_workers > 1 else ''}), global batch {global_batch} = "
            f"{self.per_replica_batch(global_batch)} per replica"
        )


def make_placement(name: str, environ: Mapping[str, str] | None = None) -> Placement:
    """Creates the strategy ``--strategy name`` asks for. Call it before any other TensorFlow work: a
    multi-worker strategy connects to its peers and the logical devices are fixed when the runtime starts."""
    environ = os.environ if environ is None else environ
    split_cpu(environ)
    kind = resolve(name, environ)
    if kind == "multi-worker" and cluster_size(environ) == 1:
        LOG.info("TF_CONFIG lists one worker: training on it with the default strategy (nothing to synchronize)")
        kind = "default"
    if kind == "mirrored" and len(_mirrored_devices()) == 1:
        LOG.info("--strategy mirrored on one device: training with the default strategy (nothing to mirror)")
        kind = "default"
    if kind == "multi-worker":
        strategy = start_multi_worker(environ)
        resolver = strategy.cluster_resolver
        after_chief = resolver.task_type == "worker" and "chief" in resolver.cluster_spec().jobs
        return Placement(strategy, kind, resolver.task_id + int(after_chief), cluster_size(environ))
    if kind == "mirrored":
        return Placement(tf.distribute.MirroredStrategy(_mirrored_devices()), kind)
    return Placement(tf.distribute.get_strategy(), kind)


def start_multi_worker(environ: Mapping[str, str]) -> tf.distribute.MultiWorkerMirroredStrategy:
    """``MultiWorkerMirroredStrategy`` over TF_CONFIG's workers, after they have met
    (:func:`resnet_tf.runs.rendezvous.meet`: whom it waits for, a time limit, Ctrl-C and SIGTERM heard).
    TensorFlow's constructor then holds the interpreter for its own short wait; Ctrl-C inside it ends the
    process at once (the operating system's default action: nothing has been written yet)."""
    addresses, own = cluster_addresses(environ)
    meet(addresses[own], [a for key, a in addresses.items() if key != own], peer_timeout(environ))
    with interrupt_stops_at_once():
        return tf.distribute.MultiWorkerMirroredStrategy()


def input_options(strategy: tf.distribute.Strategy) -> tf.distribute.InputOptions:
    """How a strategy's replicas get their batches: prefetched onto each GPU when they compute there; kept where
    the input pipeline made them when every replica is a CPU device (``RESNET_TF_CPU_REPLICAS``). There the
    copy is no use, and the multi-device iterator that makes it took seconds to shut down at the end of every
    mirrored run. The default strategy (one device) reads the dataset as it is."""
    devices = strategy.extended.worker_devices if strategy.num_replicas_in_sync > 1 else ()
    on_gpus = any("GPU" in device.upper() for device in devices)
    return tf.distribute.InputOptions(experimental_fetch_to_device=on_gpus)


def local_placement() -> Placement:
    """For one process scoring or predicting: ``mirrored`` over this machine's GPUs when there are several
    (or ``RESNET_TF_CPU_REPLICAS`` CPU devices), else ``default``; ``TF_CONFIG`` does not apply."""
    return make_placement("auto", {k: v for k, v in os.environ.items() if k != "TF_CONFIG"})
