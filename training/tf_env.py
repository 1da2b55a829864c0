"""Environment variables TensorFlow reads once, when it is first imported (so: no TensorFlow import here).

The port turns on TensorFlow's oneDNN CPU kernels. TensorFlow enables them by default only on CPUs with
AVX-512 VNNI/BF16 or AMX; elsewhere (this project's 2-core AVX2 EPYC, most AMD and older Intel servers)
it runs its Eigen kernels, which train ResNet-50 about 1.5x slower (bench/RESULTS.md). GPUs are not
affected. A value the user has already set (``TF_ENABLE_ONEDNN_OPTS=0``) is kept.
"""

from __future__ import annotations

import os
import sys
import warnings
from typing import Mapping

ONEDNN = "TF_ENABLE_ONEDNN_OPTS"
PORT_DEFAULTS = {ONEDNN: "1"}


def runtime_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` with the port's defaults added where the user has not set them."""
    return {**PORT_DEFAULTS, **environ}


def apply_runtime_environment() -> bool:
    """Sets the port's defaults in ``os.environ``; returns False (and warns) if TensorFlow is already
    imported in this process, when they can no longer take effect."""
    if all(name in os.environ for name in PORT_DEFAULTS):
        return True  # already applied, or chosen by the user
    if "tensorflow" in sys.modules:
        warnings.warn("TensorFlow was imported before resnet-tf's runtime settings; "
                      f"{', '.join(PORT_DEFAULTS)} are left as TensorFlow read them", RuntimeWarning, stacklevel=2)
        return False
    os.environ.update(runtime_environment(os.environ))
    return True
