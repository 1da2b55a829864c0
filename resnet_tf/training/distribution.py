"""What a run of several workers needs besides the strategy (:mod:`resnet_tf.runs.placement`): private
folders for the workers that do not write the run folder, the check that all resumed the same step, the
agreement on a stop signal, and the error when a worker is lost.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator

import tensorflow as tf

from resnet_tf.runs.placement import ClusterError, Placement

WORKER_FOLDER = "resnet-tf-worker-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_worker_folders(root: str) -> None:
    """Removes the private folders of workers that died without cleaning up (kill -9, a crashed machine)."""
    for path in glob.glob(os.path.join(root, WORKER_FOLDER + "*-*")):
        pid = os.path.basename(path)[len(WORKER_FOLDER) :].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def output_folder(logdir: str, is_chief: bool) -> Iterator[str]:
    """Where this process writes: the run folder for the chief. Every worker of a multi-worker run must
    save checkpoints with the chief (the strategy's rule); the others write theirs, and their events, to a
    private temporary folder that is removed at the end (or by the next worker started on the machine, if
    this one is killed), so the user sees only the chief's."""
    if is_chief:
        yield logdir
        return
    remove_stale_worker_folders(tempfile.gettempdir())
    folder = tempfile.mkdtemp(prefix=f"{WORKER_FOLDER}{os.getpid()}-")
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def check_same_step(placement: Placement, step: int) -> None:
    """Raises ClusterError when the workers restored different steps: their run folders differ (each must
    read the chief's checkpoints, so the logdir must be on a file system they share)."""
    if placement.num_workers == 1:
        return
    strategy = placement.strategy

    @tf.function(autograph=False)
    def gather(value):
        return strategy.gather(strategy.run(lambda: tf.identity(value)), axis=0)

    steps = gather(tf.constant([step], tf.float64)).numpy()
    if (steps != step).any():
        raise ClusterError(
            f"the workers resumed from different steps ({', '.join(str(int(s)) for s in sorted(set(steps)))}; "
            f"this one: {step}): every worker must see the chief's --logdir, on a file system they all "
            "share"
        )


class Interrupted(Exception):
    """Raised on every worker after a stop signal on any of them, once all have saved the same step."""


def preemption_handler(
    placement: Placement, stop_requested: Callable[[], bool], save: Callable[[], None]
) -> tf.distribute.experimental.PreemptionCheckpointHandler | None:
    """TF's preemption handler for a multi-worker run (None otherwise): when ``stop_requested()`` turns true
    on any worker (SIGTERM, Ctrl-C), all workers agree on a step, each calls ``save()`` after it, and
    :class:`Interrupted` is raised from ``save_checkpoint_if_preempted()`` on all of them."""
    if placement.num_workers == 1:
        return None

    def leave():
        raise Interrupted()

    # TF's own save path reads its deprecated run counter, which warns on every stop; the counter is not ours
    tf.get_logger().addFilter(lambda record: "total_run_calls" not in record.getMessage())
    config = tf.distribute.experimental.TerminationConfig(
        termination_watcher_fn=stop_requested, exit_fn=leave, save_fn=save, grace_period=0
    )
    # The handler restores from, and tracks its own counter in, a checkpoint: an empty one, in a folder of its
    # own, so that the run's checkpoints keep exactly the training state.
    unused = tempfile.mkdtemp(prefix="resnet-tf-preemption-")
    try:
        return tf.distribute.experimental.PreemptionCheckpointHandler(
            placement.strategy.cluster_resolver,
            tf.train.CheckpointManager(tf.train.Checkpoint(), unused, 1),
            termination_config=config,
        )
    finally:
        shutil.rmtree(unused, ignore_errors=True)


# Errors of a collective or of the coordination service when a peer process is gone or unreachable...
LOST_WORKER_ERRORS = (
    tf.errors.UnavailableError,
    tf.errors.AbortedError,
    tf.errors.CancelledError,
    tf.errors.DeadlineExceededError,
)
# ...which say so: a cancelled input pipeline or an aborted op of this process is not a lost worker.
PEER_MARKERS = ("ollective", "oordination", "heartbeat", "/job:worker", "/job:chief")


def lost_peer(err: tf.errors.OpError) -> bool:
    """Whether an error of a multi-worker run says that another worker is gone or unreachable."""
    return isinstance(err, LOST_WORKER_ERRORS) and any(mark in (err.message or "") for mark in PEER_MARKERS)


def lost_worker(err: tf.errors.OpError, step: int, newest: str | None) -> ClusterError:
    """The message for a multi-worker run that lost a peer."""
    skipped = ("Graph execution error", "Detected at node", 'File "', "Additional GRPC")  # and the stack's frames
    lines = [line.strip() for line in (err.message or "").splitlines() if line.strip()]
    lines = [line for line in lines if not line.startswith(skipped)]
    detail = re.sub(r"\{\{.*?\}\}\s*", "", lines[0])[:200] if lines else ""
    return ClusterError(
        f"lost contact with another worker at step {step} ({type(err).__name__}: {detail}); every "
        "worker stops. Restart all of them with the same command to resume from the newest "
        f"checkpoint ({newest or 'none yet: from the start'})"
    )
