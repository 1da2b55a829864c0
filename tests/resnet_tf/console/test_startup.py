"""Tests of how every script starts: the environment the port gives TensorFlow, its quiet start."""

import os
import subprocess
import sys
import time

import pytest

from resnet_tf.console.startup import (
    GCS_BLOCK,
    LOG_LEVEL,
    ONEDNN,
    PORT_MARK,
    runtime_environment,
    runtime_line_dropped,
    startup_line_dropped,
)
from tests.helpers import ROOT

# How train.py starts (resnet_tf.console.startup.run_script, then its work imports resnet_tf.training.run): does
# TensorFlow run its oneDNN kernels, as the port's kernel choices see it?
PROBE = """
import sys
from resnet_tf.console.startup import run_script

def work():
    import resnet_tf.training.run
    from resnet_tf.convolutions import onednn_enabled
    print(onednn_enabled(), flush=True)
    return 0

sys.exit(run_script("probe", work))
"""


def started(environ: dict) -> subprocess.CompletedProcess:
    """A fresh process started as the scripts start, with ``environ``."""
    return subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=environ, capture_output=True, text=True, check=True
    )


def test_runtime_environment_adds_onednn_and_the_bucket_read_buffer_and_keeps_a_users_choice():
    assert runtime_environment({"PATH": "/bin"}) == {"PATH": "/bin", ONEDNN: "1", GCS_BLOCK: "8"}
    assert runtime_environment({ONEDNN: "0", GCS_BLOCK: "64"}) == {ONEDNN: "0", GCS_BLOCK: "64"}


# Lines TensorFlow 2.21 printed while starting on the 2-core CPU machine without GPU.
ABSL_NOTICE = "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
CUDA_STUB = (
    "I0000 00:00:1796163635.348131   24178 cudart_stub.cc:31] Could not find cuda drivers on your "
    "machine, GPU will not be used.\n"
)
CPU_GUARD = (
    "I0000 00:00:1796163631.061325   24178 cpu_feature_guard.cc:227] This TensorFlow binary is optimized "
    "to use available CPU instructions in performance-critical operations.\n"
)
ONEDNN_ON = (
    "I0000 00:00:1796163659.866137   24422 port.cc:153] oneDNN custom operations are on. You may see "
    "slightly different numerical results due to floating-point round-off errors.\n"
)


def test_start_up_noise_is_dropped_unless_the_user_chose_a_log_level_or_it_may_explain_a_gpu():
    port = {ONEDNN: "1", PORT_MARK: "1"}
    for line in (ABSL_NOTICE, CUDA_STUB, CPU_GUARD, ONEDNN_ON):
        assert startup_line_dropped(line, port, has_nvidia_driver=False), line
        assert not startup_line_dropped(line, {**port, LOG_LEVEL: "0"}, has_nvidia_driver=False), line
    assert not startup_line_dropped(CUDA_STUB, port, has_nvidia_driver=True)  # a GPU machine: it may matter
    assert not startup_line_dropped(ONEDNN_ON, {ONEDNN: "1"}, has_nvidia_driver=False)  # the user turned it on
    assert not startup_line_dropped("W0000 ... some_op.cc:12] Out of memory\n", port, has_nvidia_driver=False)
    assert not startup_line_dropped("DeprecationWarning: a user's library\n", port, has_nvidia_driver=False)


@pytest.mark.slow
def test_scripts_turn_onednn_on_and_start_quietly_and_a_users_settings_win():
    clean = {k: v for k, v in os.environ.items() if k not in (LOG_LEVEL, ONEDNN, PORT_MARK)}
    quiet = started(clean)
    users = started({**clean, ONEDNN: "0", LOG_LEVEL: "0"})
    assert (quiet.stdout, users.stdout) == ("True\n", "False\n")
    has_driver = os.path.exists("/dev/nvidiactl")
    noise = [
        line
        for line in users.stderr.splitlines(keepends=True)
        if startup_line_dropped(line, {ONEDNN: "1", PORT_MARK: "1"}, has_driver)
    ]
    assert noise  # TensorFlow prints it, and the user who set TF_CPP_MIN_LOG_LEVEL sees it
    assert not [
        line
        for line in quiet.stderr.splitlines(keepends=True)
        if startup_line_dropped(line, {ONEDNN: "1", PORT_MARK: "1"}, has_driver)
    ]


PIPELINE_THAT_RAISES = """
import time
import numpy as np
from resnet_tf.console.startup import exit_process, start_tensorflow

def main():
    start_tensorflow()
    import tensorflow as tf

    def decode(i):
        if i == 0:
            raise ValueError("broken decode")
        time.sleep(5)  # the other decode threads are still busy when the error reaches the script
        return np.int64(i)

    ds = tf.data.Dataset.range(4).map(lambda i: tf.numpy_function(decode, [i], tf.int64), num_parallel_calls=4,
                                      deterministic=False)
    for _ in ds:
        pass
    return 0

exit_process(main)
"""


@pytest.mark.slow
def test_an_error_inside_the_input_pipeline_ends_the_process_at_once_with_its_traceback():
    # Returned from normally, such a process hangs at interpreter shutdown (seen with a failed allocation at
    # an impossible image size: minutes, until killed); exit_process ends it with the error's status once
    # TensorFlow has reported the error (after the busy decode calls, 5 s here).
    done = subprocess.run(
        [sys.executable, "-c", PIPELINE_THAT_RAISES], cwd=ROOT, capture_output=True, text=True, timeout=90
    )  # a hang fails here
    assert done.returncode == 1
    assert "Traceback" in done.stderr and "ValueError: broken decode" in done.stderr


def test_xlas_start_notices_are_dropped_while_a_script_works_and_warnings_are_not():
    notices = (
        "I0000 00:00:1796419192.298167   21210 service.cc:153] XLA service 0x7f5eb80a44a0 initialized for platform "
        "Host (this does not guarantee that XLA will be used). Devices:\n",
        "I0000 00:00:1796419192.298219   21210 service.cc:161]   StreamExecutor [0]: Host, Default Version\n",
        "I0000 00:00:1796419200.599379   21210 device_compiler.h:208] Compiled cluster using XLA!  This line is logged "
        "at most once for the lifetime of the process.\n",
    )
    for line in notices:
        assert runtime_line_dropped(line, {}) and not runtime_line_dropped(line, {LOG_LEVEL: "0"})
    assert not runtime_line_dropped("W0000 00:00:1.0 1 service.cc:99] XLA compilation failed\n", {})


def test_a_file_in_a_bucket_is_read_through_the_ports_buffer(gcs):
    import tensorflow as tf

    url = f"gs://test-bucket/buffer-{time.monotonic_ns()}.png"
    gcs.upload(url, b"x" * 1000)
    gcs.forget()
    assert tf.io.read_file(url).numpy() == b"x" * 1000
    size = int(runtime_environment({})[GCS_BLOCK]) * 2**20  # the tests run TensorFlow as the scripts do
    assert [r.range for r in gcs.requests if r.host == "storage.googleapis.com"] == [f"bytes=0-{size - 1}"]
