"""How a training run ends: completed, stopped early, or stopped by a signal (its own, or another worker's),
and the exit status each gives the process."""

from __future__ import annotations

import dataclasses
import signal

from resnet_tf.training.signals import EXIT_SIGNAL
from resnet_tf.training.state import Run

COMPLETED, EARLY_STOP, SIGNALLED, PEER_SIGNALLED = "completed", "early stop", "signal", "another worker's signal"


@dataclasses.dataclass(frozen=True)
class Ending:
    """How training ended: ``reason`` (one of the constants above), at ``step``; ``signum`` for a signal."""

    reason: str
    step: int
    signum: int = 0


def exit_status(ending: Ending) -> int:
    """The process's exit status for how training ended: 0 when it completed or stopped early, 128 + the
    signal's number when a signal stopped it (130 for Ctrl-C, 143 for SIGTERM; a worker stopped with another
    worker's signal exits as SIGTERM would)."""
    if ending.reason == SIGNALLED:
        return EXIT_SIGNAL + ending.signum
    if ending.reason == PEER_SIGNALLED:
        return EXIT_SIGNAL + signal.SIGTERM
    return 0


def early_stop_due(run: Run) -> bool:
    """Whether --early-stop-patience validations in a row have not improved the best top-1."""
    patience, stale = run.cfg.optimization.early_stop_patience, int(run.network.state.stale_validations)
    return bool(patience) and stale >= patience
