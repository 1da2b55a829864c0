"""Tests of finding image files under a folder by their names: sorted, links followed once, others counted."""

import os

from data_utils.folders import is_image_name, walk_folder, walk_images


def test_image_files_are_found_by_their_ending_sorted_and_the_rest_counted(tmp_path):
    for name in ("b/2.PNG", "b/1.jpg", "a/x.jpeg", "a/notes.txt", "a/deep/y.webp", "c.gif", "d.csv"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    images, others = walk_folder(str(tmp_path))
    assert [os.path.relpath(p, tmp_path) for p in images] == [
        "c.gif",
        "a/x.jpeg",
        "a/deep/y.webp",
        "b/1.jpg",
        "b/2.PNG",
    ]
    assert others == 2 and walk_images(str(tmp_path)) == images
    assert is_image_name("X.TIFF") and not is_image_name("x.jpg.txt")


def test_a_link_to_a_parent_folder_is_followed_once(tmp_path):
    (tmp_path / "cls").mkdir()
    (tmp_path / "cls" / "1.png").write_bytes(b"")
    os.symlink(tmp_path, tmp_path / "cls" / "loop")  # a link back up: walking it again would never end
    os.symlink(tmp_path / "cls", tmp_path / "alias")  # another name for a folder already walked
    images, _ = walk_folder(str(tmp_path))
    assert len(images) == 1
