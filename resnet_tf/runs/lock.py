"""The run lock: one process trains in a run folder at a time.

On a local or NFS folder it is a kernel ``flock``, which the kernel drops when its holder dies. Object stores
(``gs://``...) have no locks: there the lock is a small object, ``LOGDIR/run.lock``, naming its owner and
rewritten every ``heartbeat`` seconds. A second trainer refuses while the heartbeat is fresh; a lock whose
heartbeat is older than ``stale_after`` (a holder that crashed or lost its network) is taken over, with a
warning; so is, at once, the lock of a process of this machine that has ended (a run the store's outage
stopped could not delete its lock: the rerun need not wait the stale time). An owner that finds its lock
taken over (it stalled longer than ``stale_after``) stops at once, without saving, since the run now belongs
to the other trainer.
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import socket
import threading
import time
import uuid

from resnet_tf.console import files
from resnet_tf.console.errors import OutputError, UserError

LOG = logging.getLogger(__name__)
LOCK_OBJECT = "run.lock"
HEARTBEAT_SECONDS = 30.0
STALE_AFTER_SECONDS = 180.0  # six missed heartbeats: a slow store is not a dead owner
SETTLE_SECONDS = 2.0  # wait after writing the lock, then read it back: the later of two writers wins
TAKEN_OVER_STATUS = 75  # the process ends at once with this status when another trainer took the run


class RunLocked(UserError):
    """Another live process is training in this logdir."""


def run_lock(logdir: str) -> FileLock | HeartbeatLock:
    """The lock of ``logdir``: :class:`FileLock` for local paths, :class:`HeartbeatLock` for object stores."""
    return HeartbeatLock(logdir) if files.is_remote(logdir) else FileLock(logdir)


class FileLock:
    """An exclusive ``flock`` on ``LOGDIR/.lock``. The kernel drops it when the holder dies (even kill -9),
    so a crashed run never leaves the logdir locked."""

    def __init__(self, logdir: str):
        self.logdir = logdir
        self.path = os.path.join(logdir, ".lock")
        self._file = None

    def __enter__(self) -> FileLock:
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
                raise RunLocked(
                    f"{os.path.dirname(self.path)} is in use by {holder}; wait for it to finish or use another --logdir"
                ) from None
            raise
        self._file.seek(0)
        self._file.truncate()
        self._file.write(f"pid {os.getpid()}")
        self._file.flush()
        return self

    def __exit__(self, *exc) -> None:
        fcntl.flock(self._file, fcntl.LOCK_UN)
        self._file.close()


def process_space() -> str | None:
    """This kernel's boot and this process's pid namespace, which together say whether a pid written by another
    process means the same process here (not in another container or after a reboot); None when unknown."""
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as boot:
            return f"{boot.read().strip()} {os.readlink('/proc/self/ns/pid')}"
    except OSError:
        return None


class HeartbeatLock:
    """The lock object ``LOGDIR/run.lock`` of a run folder in object storage (see the module's docstring)."""

    def __init__(
        self, logdir: str, heartbeat: float | None = None, stale_after: float | None = None, settle: float | None = None
    ):
        self.logdir, self.path = logdir, files.join(logdir, LOCK_OBJECT)
        self.heartbeat = heartbeat or HEARTBEAT_SECONDS
        self.stale_after = stale_after or STALE_AFTER_SECONDS
        self.settle = SETTLE_SECONDS if settle is None else settle
        self.owner = f"{socket.gethostname()} pid {os.getpid()}"
        self.processes = process_space()
        self.token = uuid.uuid4().hex
        self._stop = threading.Event()
        self._thread = None

    def read(self, attempts: int = 3) -> dict | None:
        """The lock object's content, or None when there is none. An object being rewritten by its owner's
        heartbeat can be read half old, half new (a store checks the size, then reads): it is read again; one
        that stays unreadable counts as held, its heartbeat the object's modification time, so that a damaged
        one goes stale as a dead owner's does."""
        for attempt in range(attempts):
            try:
                held = json.loads(files.read_bytes(self.path))
                if isinstance(held, dict):
                    return held
            except FileNotFoundError:
                return None
            except (OSError, ValueError):
                pass
            time.sleep(0.1 * (attempt + 1))
        try:
            modified = files.size_and_mtime(self.path)[1] / 1e9 or time.time()  # ram:// keeps no times
        except FileNotFoundError:
            return None
        except OSError:
            modified = time.time()
        return {"owner": "another trainer (its lock object cannot be read)", "heartbeat": modified}

    def _write(self) -> None:
        files.write_atomic(
            self.path,
            json.dumps(
                {
                    "owner": self.owner,
                    "token": self.token,
                    "heartbeat": time.time(),
                    "stale_after": self.stale_after,
                    "processes": self.processes,
                    "pid": os.getpid(),
                }
            ),
        )

    def __enter__(self) -> HeartbeatLock:
        held = self.read()
        if held and self._owner_ended(held):
            LOG.warning(
                "%s: taking over the lock of %s, a process of this machine that has ended", self.path, held["owner"]
            )
        elif held:
            age = time.time() - float(held.get("heartbeat", 0))
            if age < self.stale_after:
                raise self._locked(held)
            LOG.warning(
                "%s: taking over the lock of %s, whose last heartbeat is %.0f s old (more than %.0f s)",
                self.path,
                held.get("owner", "another trainer"),
                age,
                self.stale_after,
            )
        try:
            self._write()
            time.sleep(self.settle)
        except OSError as err:
            raise OutputError(f"cannot use --logdir {self.logdir}: {err.strerror or err}") from None
        held = self.read()
        if not held or held.get("token") != self.token:
            raise self._locked(held or {})
        self._thread = threading.Thread(target=self._beat, name="run-lock-heartbeat", daemon=True)
        self._thread.start()
        return self

    def _owner_ended(self, held: dict) -> bool:
        """Whether the lock's owner was a process of this machine's process space that no longer runs."""
        if not self.processes or held.get("processes") != self.processes or not isinstance(held.get("pid"), int):
            return False
        try:
            os.kill(held["pid"], 0)
        except ProcessLookupError:
            return True
        except OSError:  # it exists but is not ours to signal
            return False
        return False

    def _locked(self, held: dict) -> RunLocked:
        return RunLocked(
            f"{self.logdir} is in use by {held.get('owner', 'another trainer')} (lock object "
            f"{self.path}, heartbeat every {self.heartbeat:.0f} s); wait for it to finish or use "
            f"another --logdir. A lock whose heartbeat stopped is taken over after "
            f"{self.stale_after:.0f} s"
        )

    def _beat(self) -> None:
        while not self._stop.wait(self.heartbeat):
            held = self.read()
            if held is not None and "token" in held and held["token"] != self.token:
                LOG.error(
                    "%s was taken over by %s (this process missed its heartbeats for over %.0f s); "
                    "stopping without saving: the run is theirs now",
                    self.path,
                    held.get("owner"),
                    self.stale_after,
                )
                logging.shutdown()
                os._exit(TAKEN_OVER_STATUS)
            try:
                self._write()
            except OSError as err:
                LOG.warning("cannot renew the run lock %s (%s); retrying in %.0f s", self.path, err, self.heartbeat)

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        held = self.read()
        if held and held.get("token") == self.token:
            files.remove(self.path)
