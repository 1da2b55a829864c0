"""Image files under a folder, found by their names (symlinks followed, each real folder once), without
opening them: what ``make_csv`` needs, so its ``--help`` loads neither OpenCV nor TensorFlow."""

from __future__ import annotations

import os

from resnet_tf.console import files as file_layer

# Endings of the files a folder walk picks up (case-insensitive): what OpenCV and TensorFlow both decode,
# plus TIFF and WebP, which OpenCV reads.
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp")


def is_image_name(path: str) -> bool:
    """Whether a file name ends like an image file."""
    return path.lower().endswith(IMAGE_EXTENSIONS)


def walk_folder(folder: str) -> tuple[list[str], int]:
    """The image files under ``folder`` (following symbolic links, each real folder and each real file once,
    so a link to a parent folder does not loop), sorted, and how many other files there are."""
    found, others, seen, seen_files = [], 0, set(), set()
    for root, dirs, files in file_layer.walk(folder):
        real_root = real_path(root)
        if real_root in seen:
            dirs[:] = []
            continue
        seen.add(real_root)
        dirs.sort()
        images = [file_layer.join(root, name) for name in sorted(files) if is_image_name(name)]
        for path in images:  # a file linked under a second name: once
            real = real_path(path)
            if real not in seen_files:
                seen_files.add(real)
                found.append(path)
        others += len(files) - len(images)
    return found, others


def real_path(path: str) -> str:
    """The path with every symbolic link resolved (a store's paths as they are: stores have no links)."""
    return path if file_layer.is_remote(path) else os.path.realpath(path)


def walk_images(folder: str) -> list[str]:
    """Image files under ``folder`` (following symbolic links), sorted."""
    return walk_folder(folder)[0]
