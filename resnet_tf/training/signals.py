"""Ctrl-C and SIGTERM as a flag: the training loop finishes its step, saves a checkpoint and exits."""

from __future__ import annotations

import signal
from types import FrameType

EXIT_SIGNAL = 128  # exit status on SIGINT/SIGTERM is 128 + signal number, as shells report it


class StopSignal:
    """Within ``with StopSignal() as stop:``, SIGINT and SIGTERM set ``stop.signum`` instead of stopping the
    process; the previous handlers come back on exit."""

    def __init__(self):
        self.signum = 0
        self._previous = {}

    def __enter__(self) -> StopSignal:
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        self.signum = signum

    def __exit__(self, *exc) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    @property
    def name(self) -> str:
        """The signal's name (``SIGTERM``), or an empty string when none arrived."""
        return signal.Signals(self.signum).name if self.signum else ""

    @property
    def exit_status(self) -> int:
        """The process exit status for the signal received (130 for SIGINT, 143 for SIGTERM)."""
        return EXIT_SIGNAL + self.signum
