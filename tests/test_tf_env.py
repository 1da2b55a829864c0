"""Tests of the environment the port gives TensorFlow (training/tf_env.py)."""

import os
import subprocess
import sys

from conftest import ROOT
from training.tf_env import ONEDNN, runtime_environment

PROBE = "import {module}; from tensorflow.python.util import _pywrap_util_port as p; print(p.IsMklEnabled())"


def onednn_in(module: str, environ: dict) -> str:
    """Whether TensorFlow runs its oneDNN kernels in a fresh process that imports ``module``."""
    result = subprocess.run([sys.executable, "-c", PROBE.format(module=module)], cwd=ROOT, env=environ,
                            capture_output=True, text=True, check=True)
    return result.stdout.strip().splitlines()[-1]


def test_runtime_environment_adds_onednn_and_keeps_a_users_choice():
    assert runtime_environment({"PATH": "/bin"}) == {"PATH": "/bin", ONEDNN: "1"}
    assert runtime_environment({ONEDNN: "0"})[ONEDNN] == "0"


def test_train_and_evaluate_turn_onednn_on_unless_the_user_turned_it_off():
    clean = {k: v for k, v in os.environ.items() if k != ONEDNN}
    assert onednn_in("train", clean) == "True"
    assert onednn_in("evaluate", clean) == "True"
    assert onednn_in("train", {**clean, ONEDNN: "0"}) == "False"
