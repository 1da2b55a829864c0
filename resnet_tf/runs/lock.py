"""The run lock: one process trains in a run folder at a time."""

from __future__ import annotations

import errno
import fcntl
import os

from resnet_tf.console.errors import OutputError, UserError


class RunLocked(UserError):
    """Another live process is training in this logdir."""


class RunLock:
    """An exclusive ``flock`` on ``LOGDIR/.lock``. The kernel drops it when the holder dies (even kill -9),
    so a crashed run never leaves the logdir locked."""

    def __init__(self, logdir: str):
        self.logdir = logdir
        self.path = os.path.join(logdir, ".lock")
        self._file = None

    def __enter__(self) -> "RunLock":
        try:
            os.makedirs(self.logdir, exist_ok=True)
            self._file = open(self.path, "a+")
        except OSError as err:
            raise OutputError(f"cannot use --logdir {self.logdir}: {err.strerror or err}") from None
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            self._file.seek(0)
            holder = self._file.read().strip() or "another process"
            self._file.close()
            if err.errno in (errno.EAGAIN, errno.EACCES):
                raise RunLocked(f"{os.path.dirname(self.path)} is in use by {holder}; "
                                "wait for it to finish or use another --logdir") from None
            raise
        self._file.seek(0)
        self._file.truncate()
        self._file.write(f"pid {os.getpid()}")
        self._file.flush()
        return self

    def __exit__(self, *exc) -> None:
        fcntl.flock(self._file, fcntl.LOCK_UN)
        self._file.close()
