"""Folders written all at once: built in a temporary folder beside their place and moved there at the end,
so a failure (an error, Ctrl-C, a full disk) leaves nothing half-written. Object stores cannot rename a
folder: there the folder is built on the local disk and then copied file by file, and a failed copy is
deleted."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator

from resnet_tf.console import files
from resnet_tf.console.errors import ConfigError, write_failure


def check_new_folder(path: str, option: str) -> None:
    """Output never mixes with other files: ``path`` (given as ``option``) must not exist, or be an empty
    folder; a ConfigError names the option otherwise."""
    if files.exists(path) and not files.isdir(path):
        raise ConfigError(f"{option} {path} is a file; choose a new folder")
    if files.isdir(path) and files.listdir(path):
        raise ConfigError(f"{option} {path} exists and is not empty; choose a new folder")


def folder_mode() -> int:
    """The mode ``os.makedirs`` gives a new folder: 0777 less this process's umask."""
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o777 & ~umask


@contextlib.contextmanager
def staged_folder(out: str, option: str) -> Iterator[str]:
    """Yields a temporary folder beside ``out`` to write into; when the block ends normally it becomes
    ``out``, otherwise it is deleted. ``out`` (given as ``option``) must not exist, or be empty."""
    out = files.absolute(out)
    check_new_folder(out, option)
    if files.is_remote(out):
        with _uploaded_folder(out, option) as staging:
            yield staging
        return
    try:
        os.makedirs(os.path.dirname(out), exist_ok=True)
        staging = tempfile.mkdtemp(prefix=f".{os.path.basename(out)}.", dir=os.path.dirname(out))
        os.chmod(staging, folder_mode())  # mkdtemp's 0700 would hide the folder from a serving process's user
    except OSError as err:
        raise write_failure(out, err, f"choose another {option}") from None
    try:
        yield staging
        if os.path.isdir(out):
            os.rmdir(out)  # empty, checked above
        os.rename(staging, out)
    except OSError as err:
        shutil.rmtree(staging, ignore_errors=True)
        raise write_failure(out, err, "disk full or not writable? Nothing was written.") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def copy_tree(source: str, target: str) -> None:
    """Copies the local folder ``source`` to ``target`` (any file system), file by file."""
    for root, _, names in os.walk(source):
        relative = os.path.relpath(root, source)
        folder = target if relative == "." else files.join(target, *relative.split(os.sep))
        files.makedirs(folder)
        for name in names:
            files.copy(os.path.join(root, name), files.join(folder, name))


@contextlib.contextmanager
def _uploaded_folder(out: str, option: str) -> Iterator[str]:
    """:func:`staged_folder` for object stores: a local temporary folder, copied to ``out`` at the end."""
    with tempfile.TemporaryDirectory(prefix="resnet-tf-staging-") as staging:
        yield staging
        try:
            copy_tree(staging, out)
        except BaseException as err:
            files.rmtree(out)
            if isinstance(err, OSError):
                raise write_failure(out, err, "is the bucket writable? Nothing was left there.") from None
            raise
