"""Tests of the lifelong demo: the object set's 12 tasks by factor and level, rendered."""

import csv

import cv2
import numpy as np
import pytest

from data_utils.demo import Condition, class_table, render
from data_utils.lifelong_demo import main, make_lifelong_demo, task_conditions, task_seed
from resnet_tf.console.errors import ConfigError


def test_twelve_tasks_four_factors_at_three_levels_in_the_object_sets_order():
    tasks = task_conditions()
    assert [f"{factor} {level}" for factor, level, _ in tasks[::3]] == [
        "illumination weak",
        "occlusion 0%",
        "size small",
        "clutter simple",
    ]
    assert len(tasks) == 12 and len({c for _, _, c in tasks}) == 9  # every factor's "normal" is one condition
    normal = tasks[1][2]
    assert tasks[4][2].occlusion == 0.25 and tasks[4][2].gain == normal.gain  # one factor changes at a time
    assert len({task_seed(0, t) for t in range(12)}) == 12


def mean_brightness(condition: Condition, n: int = 8) -> float:
    cls = class_table(3)[1]
    return float(np.mean([render(cls, 32, np.random.default_rng(i), condition).mean() for i in range(n)]))


def red_share(condition: Condition, n: int = 12) -> float:
    """The share of pixels of a red solid circle's colour, over ``n`` images."""
    cls = class_table(1)[0]  # red_circle, solid
    shares = []
    for i in range(n):
        b, g, r = np.moveaxis(render(cls, 48, np.random.default_rng(i), condition).astype(float), -1, 0)
        shares.append(np.mean((r > 80) & (r > 1.6 * g) & (r > 1.6 * b)))
    return float(np.mean(shares))


def test_each_factor_changes_the_images_as_its_levels_say():
    tasks = {f"{factor} {level}": c for factor, level, c in task_conditions()}
    weak, strong = mean_brightness(tasks["illumination weak"]), mean_brightness(tasks["illumination strong"])
    assert weak < 0.5 * mean_brightness(tasks["illumination normal"]) < strong
    assert red_share(tasks["occlusion 50%"]) < 0.7 * red_share(tasks["occlusion 0%"])  # half of it hidden
    cls, rng = class_table(1)[0], np.random.default_rng
    plain = render(cls, 48, rng(1), tasks["clutter simple"]).astype(float)
    busy = render(cls, 48, rng(1), tasks["clutter complex"]).astype(float)
    assert cv2.Laplacian(busy, cv2.CV_64F).var() > cv2.Laplacian(plain, cv2.CV_64F).var()


def test_the_default_condition_is_the_demos_own():
    cls = class_table(2)[1]
    assert np.array_equal(
        render(cls, 32, np.random.default_rng(5)), render(cls, 32, np.random.default_rng(5), Condition())
    )


def test_the_demo_writes_a_tasks_csv_that_train_reads_and_refuses_to_overwrite_it(tmp_path):
    tasks_csv = make_lifelong_demo(str(tmp_path), num_classes=2, per_class=5, size=24, show_progress=False)
    rows = list(csv.DictReader(open(tasks_csv)))
    assert [r["task"] for r in rows][:2] == ["illumination weak", "illumination normal"] and len(rows) == 12
    assert all((tmp_path / r["train_csv"]).is_file() and (tmp_path / r["val_csv"]).is_file() for r in rows)
    assert len(list(csv.reader(open(tmp_path / rows[0]["train_csv"])))) == 1 + 2 * 4
    with pytest.raises(ConfigError, match="already exists"):
        make_lifelong_demo(str(tmp_path), num_classes=2, per_class=5, size=24, show_progress=False)
    assert main(["--out", str(tmp_path)]) == 2
