"""Tests of Ctrl-C/SIGTERM handling: a flag instead of an exit, handlers restored afterwards."""

import os
import signal

from resnet_tf.training.signals import StopSignal


def test_signals_set_the_flag_and_handlers_come_back():
    before = signal.getsignal(signal.SIGTERM)
    with StopSignal() as stop:
        assert stop.signum == 0 and stop.name == ""
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.signum == signal.SIGTERM and stop.name == "SIGTERM" and stop.exit_status == 143
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C: no KeyboardInterrupt inside the block
        assert stop.name == "SIGINT" and stop.exit_status == 130
    assert signal.getsignal(signal.SIGTERM) is before
