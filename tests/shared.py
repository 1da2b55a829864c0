"""Session fixtures made once for all the test processes of a run (pytest-xdist), not once per process."""

from __future__ import annotations

import fcntl
import os
import pickle
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

T = TypeVar("T")


def made_once(tmp_path_factory: pytest.TempPathFactory, name: str, make: Callable[[Path], T]) -> T:
    """``make(folder)``'s result, made by the first test process that asks in a folder all of them share; the
    others wait for it, then read it (pickled). Only for what the tests read and never change: a process
    that changed it would change it under the others' tests."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the run's folder above each process's own (popen-gw0, ...)
    folder, result = root / f"shared-{name}", root / f"shared-{name}.pickle"
    with open(root / f"shared-{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, or when a process dies holding it
        if result.exists():
            return pickle.loads(result.read_bytes())
        shutil.rmtree(folder, ignore_errors=True)  # what a process that failed to make it left
        folder.mkdir()
        made = make(folder)
        result.write_bytes(pickle.dumps(made))
        return made
