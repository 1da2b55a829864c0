"""Files wherever a user keeps them: local paths through the operating system, exactly as fast as before, and
any path with a scheme (``gs://`` built into TensorFlow, ``ram://`` for tests; ``s3://`` and ``hdfs://`` only
where a plugin that loads is installed, none for TensorFlow 2.21: docs/storage.md) through TensorFlow's file
layer, ``tf.io.gfile``, as checkpoints and event files are.

Object stores have no append and no rename of folders, and a reader may see a file only once it is closed:
so a file here is written whole (:func:`write_atomic`: to a temporary name, then renamed over the old one),
never appended to or edited in place.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import io
import os
import posixpath
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterable, Iterator, Sequence
from typing import IO

from resnet_tf.console.errors import ConfigError, UserError


def is_remote(path: str | os.PathLike) -> bool:
    """Whether ``path`` names a file system by a scheme (``gs://bucket/x``), not a local path."""
    return "://" in os.fspath(path)


def in_process_memory(path: str | os.PathLike) -> bool:
    """Whether ``path`` is in TensorFlow's in-memory file system (``ram://``), gone when the process ends."""
    return os.fspath(path).startswith("ram://")


def what_to_check(path: str | os.PathLike) -> str:
    """What to look at when a write to ``path`` fails, for an error line: the disk, or the store."""
    if is_remote(path):
        return "is the store reachable, and may these credentials write there?"
    return "disk full or not writable?"


def store_answer(message: str) -> str:
    """TensorFlow's message for a failed store request, on one line and short: the HTTP status and the store's
    own message in place of the answer's JSON body (``HTTP 503 Backend Error, after 3 retries, when reading
    metadata of gs://b/x``); other messages with their lines joined."""
    text = " ".join(message.split())
    answer = re.search(r"HTTP response code (\d+) with body '(.*?)'(?: (when .*))?$", text)
    if not answer:
        return text
    status, body, when = answer.groups()
    said = re.search(r'"message": "([^"]*)"', body)
    retries = re.search(r"All (\d+) retry attempts failed", text)
    parts = [f"HTTP {status}" + (f" {said.group(1)}" if said else "")]
    parts += [f"after {retries.group(1)} {'retry' if retries.group(1) == '1' else 'retries'}"] if retries else []
    parts += [when] if when else []
    return ", ".join(parts)


BUILT_IN_SCHEMES = ("gs", "ram", "file")  # what TensorFlow itself reads; others need a plugin (docs/storage.md)
# the file systems whose listings end a folder's name with "/"
FOLDERS_MARKED = ("gs://",)


def _gfile(path: str):
    """``tf.io.gfile``, with a plugin's file systems registered when ``path`` needs one and a plugin is
    installed that loads; a ConfigError when no file system serves its scheme."""
    import tensorflow as tf  # only for paths with a scheme: local work never waits for TensorFlow

    scheme = os.fspath(path).split("://", 1)[0]
    if scheme not in BUILT_IN_SCHEMES:
        _register_tensorflow_io()
        if scheme not in tf.io.gfile.get_registered_schemes():
            raise ConfigError(no_file_system(path, scheme, tf.__version__)) from None
    return tf.io.gfile


def no_file_system(path: str, scheme: str, version: str) -> str:
    """The sentence for a path whose scheme no file system serves: what TensorFlow ``version`` has, why
    ``s3://`` and ``hdfs://`` are missing, and what works instead (docs/storage.md)."""
    return (
        f"{path}: TensorFlow {version} has no file system for {scheme}:// (gs:// is built in; tensorflow-io, "
        "which added s3://, hdfs:// and az://, supports TensorFlow up to 2.16 and does not load in later "
        "versions); use a local folder, gs://, or the bucket mounted as a local folder (docs/storage.md)"
    )


@functools.cache
def _register_tensorflow_io() -> None:
    """Imports tensorflow-io where it is installed (with a TensorFlow it supports, it registers s3://,
    hdfs:// and az:// when imported); without it, or where it does not load, nothing happens."""
    try:
        import tensorflow_io  # noqa: F401  registers its file systems with TensorFlow when imported
    except ImportError:
        pass


class StoreError(UserError, OSError):
    """A file system behind a scheme failed (unreachable, no credentials, access denied): an ``OSError``,
    as a local file call's would be, and a user's problem to fix, so a script ends with an ``error:`` line."""

    def __str__(self) -> str:
        return f"cannot use {self.filename}: {self.strerror}"


@contextlib.contextmanager
def _as_oserror(path: str):
    """TensorFlow's file errors raised as the ``OSError`` that local file calls raise, so one ``except``
    serves both (``FileNotFoundError`` for a missing file, :class:`StoreError` for the rest)."""
    import tensorflow as tf

    try:
        yield _gfile(path)
    except tf.errors.NotFoundError as err:
        raise FileNotFoundError(2, err.message or "No such file or directory", path) from None
    except tf.errors.OpError as err:
        raise StoreError(5, store_answer(err.message), path) from None


class _RemoteFile:
    """A ``tf.io.gfile.GFile`` whose errors are ``OSError`` (see :func:`_as_oserror`)."""

    def __init__(self, path: str, mode: str):
        self._path = path
        with _as_oserror(path) as gfile:
            self._file = gfile.GFile(path, mode)

    def __getattr__(self, name):
        attribute = getattr(self._file, name)
        if not callable(attribute):
            return attribute

        def call(*args, **kwargs):
            with _as_oserror(self._path):
                return attribute(*args, **kwargs)

        return call

    def __iter__(self):
        with _as_oserror(self._path):
            yield from self._file

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        with _as_oserror(self._path):
            self._file.close()


def join(path: str, *parts: str) -> str:
    """``os.path.join`` for local paths, ``/``-joined for the others (whatever the operating system)."""
    return posixpath.join(path, *parts) if is_remote(path) else os.path.join(path, *parts)


def absolute(path: str | os.PathLike) -> str:
    """A local path made absolute and normalized; any other returned as it is (``normpath`` would turn
    ``gs://b`` into ``gs:/b``)."""
    path = os.fspath(path)
    return path if is_remote(path) else os.path.abspath(os.path.expanduser(path))


def normalize(path: str) -> str:
    """``os.path.normpath`` for local paths; for the others, ``.`` and ``..`` resolved after the scheme."""
    if not is_remote(path):
        return os.path.normpath(path)
    scheme, rest = path.split("://", 1)
    return f"{scheme}://{posixpath.normpath(rest)}"


def relative(path: str, start: str) -> str:
    """``path`` relative to the folder ``start`` (``os.path.relpath``); for paths with a scheme, relative only
    within the same scheme and bucket, else ``path`` itself."""
    if not is_remote(path) and not is_remote(start):
        return os.path.relpath(path, start)
    (scheme, rest), (start_scheme, start_rest) = (p.split("://", 1) if is_remote(p) else ("", p) for p in (path, start))
    if scheme != start_scheme or rest.split("/")[0] != start_rest.split("/")[0]:
        return path
    return posixpath.relpath("/" + rest, "/" + start_rest)


def open_file(path: str, mode: str = "r", **kwargs) -> IO:
    """The file opened as built-in ``open`` would (``kwargs``: its encoding, newline); a ``tf.io.gfile.GFile``
    for remote paths, whose ``w`` modes publish the file when it is closed."""
    if not is_remote(path):
        return open(path, mode, **kwargs)
    return _RemoteFile(path, mode)


def read_bytes(path: str) -> bytes:
    """The whole file."""
    with open_file(path, "rb") as f:
        return f.read()


def exists(path: str) -> bool:
    """Whether a file or folder is at ``path``."""
    if not is_remote(path):
        return os.path.exists(path)
    with _as_oserror(path) as gfile:
        return gfile.exists(path)


def isfile(path: str) -> bool:
    """Whether a file (not a folder) is at ``path``."""
    if not is_remote(path):
        return os.path.isfile(path)
    with _as_oserror(path) as gfile:
        return gfile.exists(path) and not gfile.isdir(path)


def isdir(path: str) -> bool:
    """Whether a folder is at ``path``. In a store that cannot be reached, a StoreError with its answer (the
    store's own ``isdir`` says only False then; ``exists`` tells)."""
    if not is_remote(path):
        return os.path.isdir(path)
    with _as_oserror(path) as gfile:
        if gfile.isdir(path):
            return True
        gfile.exists(path)  # raises where the store cannot be reached (one request more, only for a False)
        return False


def size_and_mtime(path: str) -> tuple[int, int]:
    """The file's size in bytes and modification time in nanoseconds (``OSError`` if it is missing)."""
    if not is_remote(path):
        stat = os.stat(path)
        return stat.st_size, stat.st_mtime_ns
    with _as_oserror(path) as gfile:
        stat = gfile.stat(path)
    return stat.length, stat.mtime_nsec


def listdir(path: str) -> list[str]:
    """The names in a folder, sorted."""
    if not is_remote(path):
        return sorted(os.listdir(path))
    with _as_oserror(path) as gfile:
        names = gfile.listdir(path)
    return sorted(name.rstrip("/") for name in names)


def walk(path: str) -> Iterator[tuple[str, list[str], list[str]]]:
    """``os.walk`` (symbolic links to folders followed) for local paths; for others the same top-down walk,
    listed whole before the caller sees any (TensorFlow's errors stay inside). A Cloud Storage listing marks
    its folders (``class0/``): one request per folder, where ``tf.io.gfile.walk`` asks whether each file is a
    folder (two requests a file: hours for a million images)."""
    if not is_remote(path):
        yield from os.walk(path, followlinks=True)
        return
    found, pending, marked = [], [path.rstrip("/")], path.startswith(FOLDERS_MARKED)
    with _as_oserror(path) as gfile:
        while pending:
            root = pending.pop()
            names = gfile.listdir(root)
            folder = {n: n.endswith("/") or (not marked and gfile.isdir(join(root, n))) for n in names}
            dirs = [n.rstrip("/") for n in names if folder[n]]
            found.append((root, dirs, [n for n in names if not folder[n]]))
            pending += [join(root, d) for d in reversed(dirs)]  # depth first, in listing order, as os.walk
    yield from found


def makedirs(path: str) -> None:
    """The folder and its parents, if missing."""
    if not path:
        return
    if not is_remote(path):
        os.makedirs(path, exist_ok=True)
    else:
        with _as_oserror(path) as gfile:
            gfile.makedirs(path)


def remove(path: str) -> None:
    """Deletes a file if it is there."""
    if not is_remote(path):
        try:
            os.remove(path)
        except FileNotFoundError:
            pass
    elif exists(path):
        with _as_oserror(path) as gfile:
            gfile.remove(path)


def rmtree(path: str) -> None:
    """Deletes a folder and everything in it, if it is there."""
    if not is_remote(path):
        shutil.rmtree(path, ignore_errors=True)
    elif exists(path):
        with _as_oserror(path) as gfile:
            gfile.rmtree(path)


def replace(source: str, target: str) -> None:
    """Renames the file ``source`` over ``target`` (atomic on local file systems; a copy then a delete on
    object stores, where the new object appears whole)."""
    if not is_remote(source):
        os.replace(source, target)
    else:
        with _as_oserror(target) as gfile:
            gfile.rename(source, target, overwrite=True)


def copy(source: str, target: str) -> None:
    """Copies one file, over ``target`` if it exists."""
    if not is_remote(source) and not is_remote(target):
        shutil.copyfile(source, target)
    else:
        with _as_oserror(target if is_remote(target) else source) as gfile:
            gfile.copy(source, target, overwrite=True)


def write_csv(path: str, header: Sequence[str], rows: Iterable[Sequence]) -> None:
    """A CSV file (``csv`` module's dialect) written whole by :func:`write_atomic`."""
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerows(rows)
    write_atomic(path, text.getvalue())


@contextlib.contextmanager
def local_copy(path: str) -> Iterator[str]:
    """A local path to the file: ``path`` itself, or for a remote file a temporary copy, deleted afterwards
    (for libraries that open local files only, such as h5py)."""
    if not is_remote(path):
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="resnet-tf-") as folder:
        local = os.path.join(folder, posixpath.basename(path))
        copy(path, local)
        yield local


def write_atomic(path: str, data: bytes | str) -> None:
    """Writes the whole file under a temporary name beside it, then renames it over ``path``: a reader (or a
    crash) sees the old file or the new one, never a part."""
    makedirs(os.path.dirname(path) if not is_remote(path) else posixpath.dirname(path))
    temporary = f"{path}.tmp-{uuid.uuid4().hex[:8]}"
    mode = "wb" if isinstance(data, bytes) else "w"
    try:
        with open_file(
            temporary, mode, **({} if isinstance(data, bytes) else {"encoding": "utf-8", "newline": ""})
        ) as f:
            f.write(data)
        replace(temporary, path)
    except BaseException:
        remove(temporary)
        raise
