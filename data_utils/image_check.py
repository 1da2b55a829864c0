"""The check of the image files a CSV lists: each one's signature and end read (or, asked for, a full
decode), on several threads, without reopening the files a previous check passed and that have not changed
since (same size and modification time, kept in a cache file)."""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Optional

from tqdm import tqdm

from data_utils.errors import RowProblem
from data_utils.images.opencv import decode_image
from data_utils.images.signatures import quick_check
from resnet_tf.console.logs import progress_bars_on

CHECK_CHUNK = 1024   # rows per task of the file check: one task per row costs more than the check itself
CHECK_THREADS = 8    # file-system latency (network disks) hides behind more threads than cores


def _load_check_cache(path: Optional[str]) -> dict[str, list[int]]:
    """Files a previous check passed: path -> [size, modification time in ns]. Empty if none or unreadable."""
    if not path or not os.path.isfile(path):
        return {}
    try:
        with open(path, encoding="utf-8") as f:
            known = json.load(f)
        return known if isinstance(known, dict) else {}
    except (OSError, ValueError):
        return {}  # a damaged cache only costs a full check


def _save_check_cache(path: Optional[str], passed: dict[str, list[int]]) -> None:
    if not path:
        return
    try:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            json.dump(passed, f, separators=(",", ":"))
        os.replace(path + ".tmp", path)
    except OSError:
        pass  # the cache is an optimization: a read-only folder only costs a full check next time


def _check_one(path: str, verify: str, known: dict) -> tuple[Optional[str], Optional[list[int]]]:
    """(problem or None, [size, mtime] of a file that passed)."""
    try:
        stat = os.stat(path)
    except OSError:
        stat = None
    key = [stat.st_size, stat.st_mtime_ns] if stat else None
    if key and verify == "quick" and known.get(path) == key:
        return None, key  # unchanged since it last passed
    reason = quick_check(path)
    if reason is None and verify == "full":
        try:
            decode_image(path)
        except ValueError as err:
            reason = str(err).replace(f" {path}", "")
    return reason, (key if reason is None else None)


def check_images(table_rows: list[tuple[int, str, str]], csv_path: str, verify: str,
                  check_cache: Optional[str] = None) -> list[RowProblem]:
    """The problems of the images of ``table_rows`` (line, path as written, resolved path): the quick check
    (:func:`data_utils.images.signatures.quick_check`, or a full decode with ``verify="full"``) on every file,
    in chunks on a thread pool (the file system calls release the GIL). With ``check_cache``, files unchanged
    since they last passed (same size and modification time) are not opened again, and the files that pass
    are recorded there."""
    known = _load_check_cache(check_cache)

    def check(chunk):
        return [_check_one(path, verify, known) for _, _, path in chunk]

    chunks = [table_rows[i:i + CHECK_CHUNK] for i in range(0, len(table_rows), CHECK_CHUNK)]
    problems, passed = [], {}
    with ThreadPoolExecutor(max_workers=CHECK_THREADS) as pool, \
            tqdm(total=len(table_rows), desc=f"checking {os.path.basename(csv_path)}", unit="img", leave=False,
                 disable=len(table_rows) < 5000 or not progress_bars_on()) as bar:
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
