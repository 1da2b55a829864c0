"""Tests of workers meeting before TensorFlow's strategy: listening, connecting, the time limit."""

import socket
import threading

import pytest

from resnet_tf.runs.rendezvous import PeersMissing, meet, peer_timeout, split_address
from tests.helpers import logged
from tests.ports import free_port


def test_two_workers_meet_whichever_starts_first():
    a, b = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
    met, a_met, b_met = [], threading.Event(), threading.Event()

    def server_until(address: str, other_met: threading.Event) -> None:
        """TensorFlow's server of a worker that has met the other, up until that one has met it too."""
        with socket.create_server(("127.0.0.1", split_address(address)[1])):
            other_met.wait(20)

    def worker_b():
        met.append(meet(b, [a], 20))
        b_met.set()
        server_until(b, a_met)

    other = threading.Thread(target=worker_b)
    other.start()  # b waits for a, which starts a moment later
    with logged("resnet_tf.runs.rendezvous") as messages:
        meet(a, [b], 20)
    a_met.set()
    server_until(a, b_met)
    other.join(20)
    assert not other.is_alive() and met == [None]
    assert f"waiting for the other workers of TF_CONFIG to start ({b}), up to 20 s" in messages[0]
    assert messages[-1] == "all 2 workers are up"


def test_a_worker_that_never_comes_is_named_after_the_time_limit():
    missing = f"127.0.0.1:{free_port()}"
    with pytest.raises(PeersMissing, match=f"the workers at {missing} did not start within 1 s"):
        meet(f"127.0.0.1:{free_port()}", [missing], 1)


def test_the_time_limit_is_a_positive_number_of_seconds():
    assert peer_timeout({}) == 600 and peer_timeout({"RESNET_TF_PEER_TIMEOUT": "2.5"}) == 2.5
    for bad in ("0", "-3", "soon", "inf"):
        with pytest.raises(PeersMissing, match="RESNET_TF_PEER_TIMEOUT must be a positive number of seconds"):
            peer_timeout({"RESNET_TF_PEER_TIMEOUT": bad})
    assert split_address("host1:12345") == ("host1", 12345) and split_address("[::1]:80") == ("::1", 80)
