"""Tests of the commands printed for the user to paste: spelled the way this process was started."""

import os
import re
import signal
import subprocess
import sys
import time
import urllib
import urllib.request

import pytest

from resnet_tf.console.invocation import (
    quoted,
    script_command,
    shown_path,
    tool_command,
)
from resnet_tf.console.startup import LOG_LEVEL, ONEDNN, PORT_MARK
from tests.helpers import ROOT, train_args
from tests.ports import free_port


def test_a_program_is_bare_when_path_finds_it_relative_below_the_folder_else_absolute(tmp_path, monkeypatch):
    tools = tmp_path / "venv" / "bin"
    tools.mkdir(parents=True)
    (tools / "tensorboard").write_text("#!/bin/sh\n")
    (tools / "tensorboard").chmod(0o755)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    assert shown_path(str(tools / "tensorboard"), cwd=str(tmp_path)) == "venv/bin/tensorboard"
    assert shown_path(str(tools / "tensorboard"), cwd=str(tmp_path / "elsewhere")) == str(tools / "tensorboard")
    monkeypatch.setenv("PATH", f"{tools}:/usr/bin:/bin")  # an activated environment
    assert shown_path(str(tools / "tensorboard"), cwd=str(tmp_path)) == "tensorboard"


def test_scripts_follow_how_this_process_was_started(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.chdir(tmp_path)
    installed = str(tmp_path / "venv" / "bin" / "resnet-tf-train")
    assert script_command("evaluate", installed) == ["venv/bin/resnet-tf-evaluate"]
    assert script_command("import_tf1", installed) == ["venv/bin/resnet-tf-import-tf1"]
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "evaluate.py").write_text("")
    python, script = script_command("evaluate", str(tmp_path / "src" / "train.py"))
    assert script == "src/evaluate.py" and os.path.samefile(python, sys.executable)
    assert script_command("evaluate", str(tmp_path / "other" / "pytest"))[1:] == ["-m", "resnet_tf.commands.evaluate"]
    assert tool_command("tensorboard")[0].endswith("tensorboard")


def test_a_printed_command_runs_when_pasted_into_a_shell(tmp_path):
    odd = tmp_path / "a folder with 'quotes' and $dollars"
    line = quoted([sys.executable, "-c", "import sys; print(sys.argv[1])", str(odd)])
    done = subprocess.run(line, shell=True, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == str(odd)


TF_ERROR_LINE = re.compile(r"^[EF]\d{4} ", re.M)  # TensorFlow's C++ log lines of level ERROR or FATAL


def run_script(args: list[str]) -> subprocess.CompletedProcess:
    """A script of the project in its own process, as a user starts it from the project's folder with the
    virtual environment not activated (asserting it succeeded)."""
    done = subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=300, env=user_environment()
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done


def printed(done: subprocess.CompletedProcess, word: str) -> str:
    """The command a script printed for the user that contains ``word``."""
    return next(line.strip() for line in done.stdout.splitlines() if line.startswith("  ") and word in line)


def paste(line: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """A printed command run by a shell as the user would paste it (PATH without the virtual environment)."""
    return subprocess.run(
        line, shell=True, cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=user_environment()
    )


def serves(line: str) -> bool:
    """Whether the pasted ``tensorboard`` command starts a server that answers (on a port of its own)."""
    port = free_port()
    proc = subprocess.Popen(
        f"{line} --host 127.0.0.1 --port {port}",
        shell=True,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=user_environment(),
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                return bool(urllib.request.urlopen(f"http://127.0.0.1:{port}/data/runs", timeout=5).read())
            except OSError:
                time.sleep(0.5)
        return False
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


USER_PATH = "/usr/local/bin:/usr/bin:/bin"  # a shell whose PATH has no virtual environment


def user_environment() -> dict[str, str]:
    """The environment of a user's shell: no virtual environment on the PATH, none of the variables the test
    process set for TensorFlow."""
    return {**{k: v for k, v in os.environ.items() if k not in (LOG_LEVEL, ONEDNN, PORT_MARK)}, "PATH": USER_PATH}


@pytest.mark.slow
def test_the_printed_commands_work_when_pasted_and_no_script_logs_a_tensorflow_error(demo_data, tmp_path):
    logdir = tmp_path / "runs" / "tiny"
    trained = run_script(["train.py", *train_args(demo_data, logdir, "--max-steps", "2")])
    assert serves(printed(trained, "tensorboard --logdir"))
    evaluated = paste(printed(trained, "evaluate"))
    assert evaluated.returncode == 0 and "top-1" in evaluated.stdout, evaluated.stderr[-2000:]
    exported = run_script(["export.py", "--logdir", str(logdir), "--out", str(tmp_path / "export"), "--tflite"])
    assert paste(printed(exported, "saved_model_cli")).returncode == 0
    images = os.path.join(os.path.dirname(demo_data[1]), "images")
    folder = os.path.join(images, sorted(os.listdir(images))[0])
    predicted = paste(printed(exported, "predict").replace("IMAGE_OR_FOLDER", folder))
    assert predicted.returncode == 0 and "top classes (probability)" in predicted.stdout, predicted.stderr[-2000:]
    for done in (trained, evaluated, exported, predicted):
        assert not TF_ERROR_LINE.search(done.stdout + done.stderr), TF_ERROR_LINE.findall(done.stderr)
