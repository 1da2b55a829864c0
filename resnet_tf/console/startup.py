"""How every script starts: its log channel, then TensorFlow with the port's environment and without its
start-up noise, its thread settings, then the script's work (:func:`run_script`). TensorFlow is imported
only inside these functions, so that this module can run before it.

The port turns on TensorFlow's oneDNN CPU kernels. TensorFlow enables them by default only on CPUs with
AVX-512 VNNI/BF16 or AMX; elsewhere (this project's 2-core AVX2 EPYC, most AMD and older Intel servers)
it runs its Eigen kernels, which train ResNet-50 about 1.5x slower (bench/RESULTS.md). GPUs are not
affected. It also reads files in a bucket through 8 MB buffers instead of 64 (``GCS_BLOCK``). A value the user
has already set (``TF_ENABLE_ONEDNN_OPTS=0``) is kept.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import threading
import traceback
import warnings
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NoReturn

from resnet_tf.console.errors import exit_status
from resnet_tf.console.logs import setup_logging

ONEDNN = "TF_ENABLE_ONEDNN_OPTS"
PORT_MARK = "RESNET_TF_SET_ONEDNN"  # "1" when the port set ONEDNN, not the user (child processes inherit it)
# TensorFlow's gs:// client reads a file through a buffer of this many MB, allocated and zeroed for every file it
# opens: 64 by default, which made each small image read from a bucket cost about 40 ms of CPU (3 ms at 8).
GCS_BLOCK = "GCS_READ_CACHE_BLOCK_SIZE_MB"
PORT_DEFAULTS = {ONEDNN: "1", GCS_BLOCK: "8"}


def runtime_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` with the port's defaults added where the user has not set them."""
    return {**PORT_DEFAULTS, **environ}


def apply_runtime_environment() -> None:
    """Sets the port's defaults in ``os.environ``; warns if TensorFlow is already imported in this process,
    when they can no longer take effect."""
    if all(name in os.environ for name in PORT_DEFAULTS):
        return  # already applied, or chosen by the user
    if "tensorflow" in sys.modules:
        warnings.warn(
            "TensorFlow was imported before resnet-tf's runtime settings; "
            f"{', '.join(PORT_DEFAULTS)} are left as TensorFlow read them",
            RuntimeWarning,
            stacklevel=2,
        )
        return
    if ONEDNN not in os.environ:
        os.environ[PORT_MARK] = "1"
    os.environ.update(runtime_environment(os.environ))


# What TensorFlow prints while it starts that tells a user nothing: absl's notice about its own logging,
# and the build's CPU-instruction notice (a fact about the wheel, with nothing to act on).
STARTUP_NOISE = (
    "All log messages before absl::InitializeLog() is called are written to STDERR",
    "This TensorFlow binary is optimized to use available CPU instructions",
    "To enable the following instructions:",
)
# CUDA probing: noise on a machine without an NVIDIA driver, a diagnosis on one that has it.
CUDA_PROBING = (
    "cudart_stub.cc",
    "cuda_platform.cc",
    "cuda_executor.cc",
    "cuda_dnn.cc",
    "cuda_fft.cc",
    "cuda_blas.cc",
    "Unable to register cu",
    "TF-TRT Warning",
    "computation_placer.cc",
)
ONEDNN_NOTICE = "oneDNN custom operations are on"  # the port turned them on (see above)
NVIDIA_DRIVER = "/dev/nvidiactl"
LOG_LEVEL = "TF_CPP_MIN_LOG_LEVEL"


def startup_line_dropped(line: str, environ: Mapping[str, str], has_nvidia_driver: bool) -> bool:
    """Whether a line TensorFlow wrote to stderr while starting is left out of the console: the notices in
    ``STARTUP_NOISE``, CUDA probing without an NVIDIA driver, the oneDNN notice when the port (not the
    user) turned oneDNN on. Nothing is dropped when the user set ``TF_CPP_MIN_LOG_LEVEL``: they chose."""
    if LOG_LEVEL in environ:
        return False
    if any(text in line for text in STARTUP_NOISE):
        return True
    if not has_nvidia_driver and any(text in line for text in CUDA_PROBING):
        return True
    return ONEDNN_NOTICE in line and environ.get(PORT_MARK) == "1"


# What TensorFlow logs while a script works that tells its user nothing: the TFLite converter's progress
# (export.py --tflite), grappler skipping an optimization of the exported model's decoding loop, and oneDNN
# falling back to TensorFlow's kernels for uint8 ops (logged as an error even on CPUs that have AVX-512).
RUNTIME_NOISE = (
    "tf_tfl_flatbuffer_helpers.cc",
    "] Reading SavedModel",
    "] Reading meta graph with tags",
    "mlir_graph_optimization_pass.cc",
    "] Restoring SavedModel bundle",
    "] Running initialization op",
    "] SavedModel load for tags",
    "dump_mlir_util.cc",
    "flatbuffer_export.cc",
    "Skipping loop optimization for Merge node",
    "oneDNN supports DT_UINT8 only on platforms",
    # XLA's start (the compiled update of long runs, --jit): a notice of each part, none of them a problem
    "] XLA service 0x",
    "]   StreamExecutor [",
    "] Compiled cluster using XLA!",
    "assert_op.cc:39] Ignoring Assert operator",
)


def runtime_line_dropped(line: str, environ: Mapping[str, str]) -> bool:
    """Whether a line TensorFlow wrote to stderr while a script works is left out of the console: the
    notices in ``RUNTIME_NOISE``; nothing when the user set ``TF_CPP_MIN_LOG_LEVEL``."""
    return LOG_LEVEL not in environ and any(text in line for text in RUNTIME_NOISE)


def _forward(source: int, target: int, dropped: Callable[[str], bool]) -> None:
    """Copies what arrives on ``source`` to ``target`` as it arrives, a line (or a progress bar's ``\\r``
    update) at a time, leaving out the lines ``dropped`` names."""
    pending = b""
    while chunk := os.read(source, 65536):
        pending += chunk
        *complete, pending = re.split(rb"(?<=[\r\n])", pending)
        kept = b"".join(seg for seg in complete if not dropped(seg.decode(errors="replace")))
        if kept:
            os.write(target, kept)
    if pending and not dropped(pending.decode(errors="replace")):
        os.write(target, pending)


@contextlib.contextmanager
def filtered_stderr(dropped: Callable[[str], bool]) -> Iterator[None]:
    """Inside the block, what is written to file descriptor 2 (TensorFlow's C++ logging writes there, below
    Python) reaches the console as it is written, but for the lines ``dropped`` names."""
    sys.stderr.flush()
    saved = os.dup(2)
    read_end, write_end = os.pipe()
    os.dup2(write_end, 2)
    os.close(write_end)
    forwarder = threading.Thread(target=_forward, args=(read_end, saved, dropped), daemon=True)
    forwarder.start()
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)  # the pipe's last writer closes: the forwarder reads what is left and ends
        forwarder.join()
        os.close(read_end)
        os.close(saved)


def start_tensorflow() -> None:
    """Imports TensorFlow with the port's environment and probes its devices (where CUDA reports on a
    machine without GPU), leaving TensorFlow's start-up noise out of the console (:func:`startup_line_dropped`),
    so that a script's first lines are its own. Once per process; a no-op if TensorFlow is already imported."""
    if "tensorflow" in sys.modules:
        return
    apply_runtime_environment()
    has_driver = os.path.exists(NVIDIA_DRIVER)
    with filtered_stderr(lambda line: startup_line_dropped(line, os.environ, has_driver)):
        import tensorflow as tf

        tf.config.list_physical_devices()


def configure_threads() -> None:
    """Without a GPU, runs one op at a time (inter-op parallelism 1), each op using every core.

    TF's default runs several ops at once, each with its own intra-op threads, which oversubscribes a
    small CPU: measured on 2 cores (bench/RESULTS.md), ResNet-50 inference gets about 20% faster, training
    is unchanged. The input pipeline is not affected: it decodes on its own thread pool
    (data_utils.pipeline). Must run before TF executes anything; does nothing when it is too late.
    """
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        return
    with contextlib.suppress(RuntimeError):  # TF already started in this process: its settings stay
        tf.config.threading.set_inter_op_parallelism_threads(1)


def run_script(
    script: str, work: Callable[..., int], level: int = logging.INFO, prepare: Callable[[], Any] | None = None
) -> int:
    """What every script's ``main`` does after parsing its command line: logging to the console at ``level``,
    then ``prepare`` when given (what can be checked without TensorFlow, such as reading a run folder: a
    mistake there is answered at once), TensorFlow started without its start-up noise
    (:func:`start_tensorflow`), the runtime's thread settings, then ``work`` (given what ``prepare``
    returned, if any). User errors become status 2 (see :func:`resnet_tf.console.errors.exit_status`); what
    TensorFlow logs that says nothing to the user (``RUNTIME_NOISE``) is left out all along."""
    setup_logging(script, level)
    has_driver = os.path.exists(NVIDIA_DRIVER)

    def noise(line: str) -> bool:
        return startup_line_dropped(line, os.environ, has_driver) or runtime_line_dropped(line, os.environ)

    def started() -> int:
        apply_runtime_environment()  # before prepare, which imports TensorFlow for a path in a bucket
        prepared = () if prepare is None else (prepare(),)
        start_tensorflow()
        configure_threads()
        return work(*prepared)

    with filtered_stderr(noise):
        return exit_status(logging.getLogger(script), started)


def exit_process(main: Callable[[], int]) -> NoReturn:
    """Runs a script's ``main`` as the whole process and ends the process with its status at once: a bug's
    traceback is printed (status 1), Ctrl-C before training started is status 130. The process then ends
    without waiting for TensorFlow's threads (``os._exit``): an input pipeline still decoding when an error
    stopped the script would otherwise hold the interpreter's shutdown for good. Every file the script
    writes is closed or flushed by then; the streams and log files are flushed here."""
    try:
        status = main()
    except SystemExit as done:  # argparse's usage errors and --help
        status = done.code if isinstance(done.code, int) else (0 if done.code is None else 2)
        if done.code is not None and not isinstance(done.code, int):
            print(done.code, file=sys.stderr)
    except KeyboardInterrupt:
        status = 130
    except BaseException:  # noqa: BLE001  a bug: its traceback, as Python would print it, then exit
        traceback.print_exc()
        status = 1
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
