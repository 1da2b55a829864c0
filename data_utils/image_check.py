"""The check of the image files a CSV lists: each one's signature and end read (or, asked for, a full
decode), on several threads, without reopening the files a previous check passed and that have not changed
since (same size and modification time, kept in a cache file).

Files in object storage (``gs://...``), where each opening is a network round trip, are checked from one
listing per folder (the file is there); their contents are checked as the pipeline decodes
them, with the same ``--skip-bad-rows`` rules as a file that is damaged during training."""

from __future__ import annotations

import json
import os
import posixpath
from concurrent.futures import ThreadPoolExecutor

from tqdm import tqdm

from data_utils.errors import RowProblem
from data_utils.images.opencv import decode_image
from data_utils.images.signatures import quick_check
from resnet_tf.console import files
from resnet_tf.console.logs import progress_bars_on

CHECK_CHUNK = 1024  # rows per task of the file check: one task per row costs more than the check itself
CHECK_THREADS = 8  # file-system latency (network disks) hides behind more threads than cores


def _load_check_cache(path: str | None) -> dict[str, list[int]]:
    """Files a previous check passed: path -> [size, modification time in ns]. Empty if none or unreadable."""
    if not path or not files.isfile(path):
        return {}
    try:
        known = json.loads(files.read_bytes(path))
        return known if isinstance(known, dict) else {}
    except (OSError, ValueError):
        return {}  # a damaged cache only costs a full check


def _save_check_cache(path: str | None, passed: dict[str, list[int]]) -> None:
    if not path:
        return
    try:
        files.write_atomic(path, json.dumps(passed, separators=(",", ":")))
    except OSError:
        pass  # the cache is an optimization: a read-only folder only costs a full check next time


def _check_one(path: str, verify: str, known: dict) -> tuple[str | None, list[int] | None]:
    """(problem or None, [size, mtime] of a file that passed)."""
    try:
        key = list(files.size_and_mtime(path))
    except FileNotFoundError:
        return "image file not found", None
    except OSError:
        key = None  # the quick check names the problem
    if key and verify == "quick" and known.get(path) == key:
        return None, key  # unchanged since it last passed
    reason = quick_check(path, key[0] if key else None)
    if reason is None and verify == "full":
        try:
            decode_image(path)
        except ValueError as err:
            reason = str(err).replace(f" {path}", "")
    return reason, (key if reason is None else None)


def _listing(folder: str) -> set[str] | None:
    """The file names in a remote folder (None: no such folder)."""
    try:
        return set(files.listdir(folder))
    except OSError:
        return None


def _check_listed(table_rows: list[tuple[int, str, str]], csv_path: str) -> list[RowProblem]:
    """Remote image files checked for presence from one listing per folder, listed on several threads."""
    folders = sorted({posixpath.dirname(path) for _, _, path in table_rows})
    with ThreadPoolExecutor(max_workers=CHECK_THREADS) as pool:
        listings = dict(zip(folders, pool.map(_listing, folders)))
    problems = []
    for line, raw, path in table_rows:
        listing = listings[posixpath.dirname(path)]
        if listing is None or posixpath.basename(path) not in listing:
            problems.append(RowProblem(csv_path, line, raw, "image file not found"))
    return problems


def check_images(
    table_rows: list[tuple[int, str, str]], csv_path: str, verify: str, check_cache: str | None = None
) -> list[RowProblem]:
    """The problems of the images of ``table_rows`` (line, path as written, resolved path): the quick check
    (:func:`data_utils.images.signatures.quick_check`, or a full decode with ``verify="full"``) on every file,
    in chunks on a thread pool (the file system calls release the GIL). With ``check_cache``, files unchanged
    since they last passed (same size and modification time) are not opened again, and the files that pass
    are recorded there."""
    problems = []
    if verify == "quick" and any(files.is_remote(row[2]) for row in table_rows):
        problems = _check_listed([row for row in table_rows if files.is_remote(row[2])], csv_path)
        table_rows = [row for row in table_rows if not files.is_remote(row[2])]
    known = _load_check_cache(check_cache)

    def check(chunk):
        return [_check_one(path, verify, known) for _, _, path in chunk]

    chunks = [table_rows[i : i + CHECK_CHUNK] for i in range(0, len(table_rows), CHECK_CHUNK)]
    passed = {}
    with (
        ThreadPoolExecutor(max_workers=CHECK_THREADS) as pool,
        tqdm(
            total=len(table_rows),
            desc=f"checking {os.path.basename(csv_path)}",
            unit="img",
            leave=False,
            disable=len(table_rows) < 5000 or not progress_bars_on(),
        ) as bar,
    ):
        for chunk, results in zip(chunks, pool.map(check, chunks)):
            for (line, raw, path), (reason, key) in zip(chunk, results):
                if reason:
                    problems.append(RowProblem(csv_path, line, raw, reason))
                elif key:
                    passed[path] = key
            bar.update(len(chunk))
    if any(known.get(path) != key for path, key in passed.items()):
        _save_check_cache(check_cache, {**known, **passed})
    return problems
