"""Tests of the commands printed for the user to paste: spelled the way this process was started."""

import os
import subprocess
import sys

from resnet_tf.console.invocation import (
    quoted,
    script_command,
    shown_path,
    tool_command,
)


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
