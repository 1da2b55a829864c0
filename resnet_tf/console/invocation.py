"""Commands a script prints for the user to paste next, spelled the way this process was started, so that
they work in the same shell: the same interpreter (``.venv/bin/python evaluate.py``) or the same installed
command (``resnet-tf-evaluate``), and tools (``tensorboard``) from the same environment. A program is
named bare when the shell finds that very file on its ``PATH``, relative to the current folder when it
lies below it, and by its absolute path otherwise."""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from collections.abc import Sequence

INSTALLED_PREFIX = "resnet-tf-"  # the installed commands: resnet-tf-train, resnet-tf-evaluate, ...


def shown_path(path: str, cwd: str | None = None) -> str:
    """``path`` as the user can type it: bare when ``PATH`` finds this very file, relative to ``cwd`` when it
    lies below it, else absolute."""
    path = os.path.abspath(path)
    found = shutil.which(os.path.basename(path))
    if found and os.path.abspath(found) == path:  # not resolving links: a venv's python links to another
        return os.path.basename(path)
    cwd = os.path.abspath(cwd or os.getcwd())
    relative = os.path.relpath(path, cwd)
    return path if relative.startswith("..") else relative


COMMANDS_FOLDER = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "commands")


def script_command(script: str, program: str | None = None) -> list[str]:
    """How to run the project's ``script`` (``evaluate``) the way this process was started (``program``:
    ``sys.argv[0]``): the installed ``resnet-tf-evaluate`` beside the installed command that runs now; this
    interpreter with ``evaluate.py`` beside the project's script that runs now; else this interpreter with
    ``-m resnet_tf.commands.evaluate``."""
    program = os.path.abspath(program or sys.argv[0])
    if os.path.basename(program).startswith(INSTALLED_PREFIX):
        return [shown_path(os.path.join(os.path.dirname(program), INSTALLED_PREFIX + script.replace("_", "-")))]
    sibling = os.path.join(os.path.dirname(program), f"{script}.py")
    if os.path.dirname(program) != COMMANDS_FOLDER and os.path.isfile(sibling):
        return [shown_path(sys.executable), shown_path(sibling)]
    return [shown_path(sys.executable), "-m", f"resnet_tf.commands.{script}"]


def tool_command(tool: str) -> list[str]:
    """A tool installed beside this interpreter (``tensorboard``, ``saved_model_cli``), as the user can run it."""
    beside = os.path.join(os.path.dirname(sys.executable), tool)
    return [shown_path(beside if os.path.exists(beside) else tool)]


def quoted(words: Sequence[str]) -> str:
    """``words`` as one shell command line (each quoted where the shell needs it)."""
    return " ".join(shlex.quote(str(word)) for word in words)
