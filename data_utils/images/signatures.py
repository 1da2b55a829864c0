"""A cheap check of an image file without decoding it: its signature and, for JPEG and PNG, its end."""

from __future__ import annotations

from resnet_tf.console import files

# Signatures of the formats OpenCV decodes that the cheap check knows (others are decoded lazily).
SIGNATURES = {
    b"\xff\xd8\xff": "jpeg",
    b"\x89PNG\r\n\x1a\n": "png",
    b"BM": "bmp",
    b"GIF8": "gif",
    b"II*\x00": "tiff",
    b"MM\x00*": "tiff",
    b"RIFF": "webp",
}


def quick_check(path: str, size: int | None = None) -> str | None:
    """Cheap test of an image file without decoding it: exists, not empty, a known image signature, and
    for JPEG and PNG the end marker (catches truncated files). Returns the problem, or None if it passes.
    Reads at most 16 bytes from each end of the file; ``size``, when the caller has it, saves asking."""
    try:
        size = files.size_and_mtime(path)[0] if size is None else size
        if size == 0:
            return "empty image file (0 bytes)"
        with files.open_file(path, "rb") as f:
            head = f.read(16)
            f.seek(max(0, size - 16))
            tail = f.read(16)
    except FileNotFoundError:
        return "image file not found"
    except OSError as err:
        return f"cannot read image file: {err.strerror or err}"
    kind = next((k for sig, k in SIGNATURES.items() if head.startswith(sig)), None)
    if kind is None:
        return "not an image file OpenCV can decode (unknown file signature)"
    if kind == "jpeg" and b"\xff\xd9" not in tail:
        return "truncated JPEG (no end-of-image marker)"
    if kind == "png" and b"IEND" not in tail:
        return "truncated PNG (no IEND chunk)"
    return None
