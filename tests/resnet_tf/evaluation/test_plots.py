"""Tests of the plots: the confusion matrix as a PNG file a person opens, and figures as RGB arrays."""

import cv2
import matplotlib.pyplot as plt
import numpy as np

from resnet_tf.evaluation.plots import (
    accuracy_matrix_figure,
    confusion_figure,
    confusion_thumbnail,
    figure_rgb,
    image_grid,
    most_confused,
    plot_confusion_matrix,
    shortened,
)


def test_the_confusion_matrix_png_is_an_image_that_grows_with_the_classes(tmp_path):
    small = np.array([[3, 1], [0, 4]])
    plot_confusion_matrix(small, ["cup", "knife"], str(tmp_path / "small.png"), title="step 8")
    many = np.diag(np.arange(1, 52))
    plot_confusion_matrix(many, [f"class_{i}" for i in range(51)], str(tmp_path / "many.png"))
    small_png, many_png = (cv2.imread(str(tmp_path / name)) for name in ("small.png", "many.png"))
    assert small_png is not None and many_png.shape[0] > small_png.shape[0]
    assert (small_png < 200).any()  # something is drawn on the white page


def test_figures_become_rgb_arrays_and_the_grid_has_a_cell_per_image():
    rgb = figure_rgb(confusion_figure(np.eye(3, dtype=int), ["a", "b", "c"]))
    assert rgb.dtype == np.uint8 and rgb.ndim == 3 and rgb.shape[2] == 3
    images = [np.full((16, 16, 3), v, np.uint8) for v in (0, 128, 255)]
    grid = image_grid(images, ["x\n-> 0.90 y", "a long class name " * 5, "z"], columns=2, cell_width=100)
    assert grid.dtype == np.uint8 and grid.shape[1] == 2 * 108 + 8  # two cells of 100 px and their gaps
    assert (grid[8:24, 8:24] == 0).all() and (grid[8:24, 116:132] == 128).all()  # the pixels as they are
    assert 2 * 16 < grid.shape[0] < 2 * 16 + 2 * 60  # two rows, each with a two-line caption band
    assert shortened("a long class name", 8) == "a long \u2026" and shortened("short", 8) == "short"


def test_the_thumbnail_fits_tensorboards_card_and_keeps_the_most_confused_classes():
    matrix = np.diag(np.full(51, 10))
    matrix[3, 7] = matrix[7, 3] = 5  # the two classes mistaken for each other
    matrix[20, 40] = 2
    assert most_confused(matrix, 3).tolist() == [3, 7, 20]  # of two as confused, the first
    thumbnail = confusion_thumbnail(matrix, [f"class_{i}" for i in range(51)], "step 9")
    assert thumbnail.shape[1] <= 420 and thumbnail.dtype == np.uint8  # shown one pixel per pixel
    small = confusion_thumbnail(np.eye(4, dtype=int) * 3, list("abcd"))
    assert small.shape[1] <= 420


def test_the_accuracy_matrix_names_every_task_apart_even_when_their_names_share_a_long_start():
    tasks = ["illumination weak", "illumination normal", "illumination strong", "clutter complex"]
    labels = ["before training"] + [f"task {i + 1} {t}" for i, t in enumerate(tasks)]
    fig = accuracy_matrix_figure(np.full((5, 4), 0.5), labels, tasks)
    columns = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    rows = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert columns == ["1 illumination weak", "2 illumination normal", "3 illumination strong", "4 clutter complex"]
    assert rows == labels
    plt.close(fig)
