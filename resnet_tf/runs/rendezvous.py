"""The workers of a multi-worker run meeting before TensorFlow's strategy starts, in Python.

TensorFlow's ``MultiWorkerMirroredStrategy`` blocks in its constructor until every worker has started, holding
the interpreter (no Python signal handler runs) and with no limit of its own. So each worker first meets the
others here: it listens on its own ``TF_CONFIG`` address (so that the others can see it is there) and connects
to each of theirs until all answer, saying whom it waits for, within a time limit
(``RESNET_TF_PEER_TIMEOUT`` seconds, default :data:`PEER_TIMEOUT`), Ctrl-C and SIGTERM ending the wait. Then it
frees its address for TensorFlow's server, and the strategy's own wait is short. A worker that already
entered TensorFlow answers on the same address, so the others' checks pass whichever comes first.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import socket
import threading
import time
from collections.abc import Iterator, Mapping

from resnet_tf.console.errors import UserError

LOG = logging.getLogger(__name__)
PEER_TIMEOUT_VARIABLE = "RESNET_TF_PEER_TIMEOUT"
PEER_TIMEOUT = 600.0  # seconds: the machines of a cluster can start minutes apart
RETRY_SECONDS = 0.5  # between two rounds of connections to the workers not yet seen
REPORT_SECONDS = 30.0  # between two lines saying who is still awaited


class PeersMissing(UserError):
    """Other workers of the run did not start within the time allowed."""


def peer_timeout(environ: Mapping[str, str]) -> float:
    """Seconds a worker waits for the others: ``RESNET_TF_PEER_TIMEOUT``, default :data:`PEER_TIMEOUT`."""
    text = environ.get(PEER_TIMEOUT_VARIABLE, "")
    try:
        seconds = float(text) if text else PEER_TIMEOUT
    except ValueError:
        seconds = -1.0
    if not 0 < seconds < float("inf"):
        raise PeersMissing(f"{PEER_TIMEOUT_VARIABLE} must be a positive number of seconds, got {text!r}")
    return seconds


def split_address(address: str) -> tuple[str, int]:
    """``"host:port"`` -> ``(host, port)``."""
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)


@contextlib.contextmanager
def _listening(address: str) -> Iterator[None]:
    """A socket listening on ``address``'s port while the block runs (none when the port is taken: another
    program's, or TensorFlow's server of this run already)."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        server.bind(("", split_address(address)[1]))
        server.listen(16)
    except OSError:
        server.close()
        server = None
    try:
        yield
    finally:
        if server is not None:
            server.close()


def _answers(address: str) -> bool:
    host, port = split_address(address)
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def _stop_on_sigterm(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()  # signal handlers are set there only


@contextlib.contextmanager
def _sigterm_stops() -> Iterator[None]:
    """SIGTERM ends the process (status 143) inside the block, as Ctrl-C does (130)."""
    if not _in_main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def interrupt_stops_at_once() -> Iterator[None]:
    """Ctrl-C ends the process at once inside the block (the operating system's default action), for code that
    holds the interpreter, where Python's own handler would never run."""
    if not _in_main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_DFL)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def meet(own: str, peers: list[str], timeout: float) -> None:
    """Listens on ``own`` and waits until every address of ``peers`` accepts a connection; PeersMissing
    naming those that did not within ``timeout`` seconds."""
    LOG.info(
        "waiting for the other workers of TF_CONFIG to start (%s), up to %.0f s (%s)",
        ", ".join(peers),
        timeout,
        PEER_TIMEOUT_VARIABLE,
    )
    start = last_report = time.monotonic()
    missing = list(peers)
    with _listening(own), _sigterm_stops():
        while missing:
            missing = [address for address in missing if not _answers(address)]
            now = time.monotonic()
            if missing and now - start > timeout:
                raise PeersMissing(
                    f"the workers at {', '.join(missing)} did not start within {timeout:.0f} s; start them with the "
                    f"same TF_CONFIG cluster and their own task index, or give them longer ({PEER_TIMEOUT_VARIABLE})"
                )
            if missing and now - last_report > REPORT_SECONDS:
                LOG.info("still waiting for %s (%.0f s)", ", ".join(missing), now - start)
                last_report = now
            if missing:
                time.sleep(RETRY_SECONDS)
    LOG.info("all %d workers are up", len(peers) + 1)
