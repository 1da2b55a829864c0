"""A synthetic stand-in for the 51-class object data set: one drawn object per image under random
lighting, viewpoint and background.

Each class is a shape with a colour and a surface texture. Some pairs of classes differ only by a close
hue (``red_*`` / ``crimson_*``), as the real set has near-identical classes (two kinds of cup).
Everything is deterministic from the seed.

    python -m data_utils.demo --out DIR [--classes 51] [--per-class N] [--size S] [--seed 0]

writes ``DIR/images/<class>/<n>.jpg|png``, ``DIR/train.csv`` and ``DIR/val.csv`` (``path,label``,
paths relative to DIR, labels are class names).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import math
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
from tqdm import tqdm

from data_utils.choices import VAL_FRACTION
from resnet_tf.console import files
from resnet_tf.console.errors import ConfigError, exit_status, write_failure
from resnet_tf.console.logs import progress_bars_on, setup_logging
from resnet_tf.console.options import add_shared
from resnet_tf.console.parser import script_parser

SHAPES = ("circle", "square", "triangle", "diamond", "star", "cross", "ring", "hexagon", "crescent")
# (name, hue in OpenCV's 0..179 scale). red/crimson and blue/navy are the deliberately close pairs.
HUES = (("red", 0), ("yellow", 28), ("green", 60), ("blue", 115), ("purple", 140), ("crimson", 172))
TEXTURES = ("solid", "striped", "dotted")
# The demo data set train.py --demo makes: the real set's 51 classes, 80 images of 64 px each.
DEMO_CLASSES, DEMO_PER_CLASS, DEMO_SIZE = 51, 80, 64
RENDER_SCALE = 2  # draw at twice the size, then shrink: smooth edges
LOG = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Condition:
    """The conditions an object is recorded under: the range of its scale and of the light's gain, the share of
    its box hidden behind an occluder, a plain or a gradient background, and distracting shapes behind it.
    The defaults are the demo's own (a random scale and light, nothing hidden, no clutter)."""

    scale: tuple[float, float] = (0.7, 1.25)
    gain: tuple[float, float] = (0.55, 1.35)
    occlusion: float = 0.0
    background: str = "gradient"
    clutter: int = 0


@dataclasses.dataclass(frozen=True)
class ObjectClass:
    """How one class looks: shape, hue and surface texture."""

    name: str
    shape: str
    hue: int
    texture: str


def class_table(num_classes: int) -> list[ObjectClass]:
    """The first ``num_classes`` classes: every shape in every hue, textures cycling across hues."""
    limit = len(SHAPES) * len(HUES)
    if not 1 <= num_classes <= limit:
        raise ConfigError(f"--classes must be in 1..{limit}, got {num_classes}")
    classes = []
    for c in range(num_classes):
        shape, (hue_name, hue) = SHAPES[c % len(SHAPES)], HUES[c // len(SHAPES)]
        texture = TEXTURES[(c + c // len(SHAPES)) % len(TEXTURES)]
        classes.append(ObjectClass(f"{hue_name}_{shape}", shape, hue, texture))
    return classes


def _polygon(shape: str, r: float) -> list[np.ndarray]:
    """Outline(s) of a shape of radius ``r`` centred at the origin (holes as extra outlines)."""

    def regular(n, radius, phase=0.0):
        a = phase + np.arange(n) * 2 * math.pi / n
        return np.stack([radius * np.cos(a), radius * np.sin(a)], 1)

    if shape == "circle":
        return [regular(48, r)]
    if shape == "square":
        return [regular(4, r, math.pi / 4)]
    if shape == "triangle":
        return [regular(3, r, -math.pi / 2)]
    if shape == "diamond":
        return [regular(4, r) * [0.65, 1.0]]
    if shape == "hexagon":
        return [regular(6, r)]
    if shape == "star":
        outer, inner = regular(5, r, -math.pi / 2), regular(5, r * 0.45, -math.pi / 2 + math.pi / 5)
        return [np.stack([outer, inner], 1).reshape(-1, 2)]
    if shape == "cross":
        t = r * 0.33
        return [
            np.array(
                [
                    [-t, -r],
                    [t, -r],
                    [t, -t],
                    [r, -t],
                    [r, t],
                    [t, t],
                    [t, r],
                    [-t, r],
                    [-t, t],
                    [-r, t],
                    [-r, -t],
                    [-t, -t],
                ]
            )
        ]
    if shape == "ring":
        return [regular(48, r), regular(48, r * 0.55)]
    if shape == "crescent":
        a = np.linspace(-math.pi / 2, math.pi / 2, 24)
        outer = np.stack([r * np.cos(a), r * np.sin(a)], 1)
        inner = np.stack([r * 0.35 * np.cos(a[::-1]), r * np.sin(a[::-1])], 1)
        return [np.concatenate([outer, inner]) - [r * 0.3, 0]]
    raise ValueError(f"unknown shape {shape!r}")


def _object_layer(cls: ObjectClass, size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The object in colour (BGR) and its mask, centred, before the viewpoint transform."""
    mask = np.zeros((size, size), np.uint8)
    outlines = [np.round(p + size / 2).astype(np.int32) for p in _polygon(cls.shape, size * 0.3)]
    cv2.fillPoly(mask, outlines[:1], 255, lineType=cv2.LINE_AA)
    for hole in outlines[1:]:
        cv2.fillPoly(mask, [hole], 0, lineType=cv2.LINE_AA)
    hue = (cls.hue + rng.integers(-3, 4)) % 180
    base = np.array([hue, rng.integers(170, 256), rng.integers(170, 256)], np.uint8)
    colour = np.empty((size, size, 3), np.uint8)
    colour[:] = cv2.cvtColor(base.reshape(1, 1, 3), cv2.COLOR_HSV2BGR)[0, 0]
    dark = (colour[0, 0] * 0.45).astype(np.uint8)
    period = max(4, size // 8)
    yy, xx = np.mgrid[:size, :size]
    if cls.texture == "striped":
        colour[((xx + yy) // period) % 2 == 1] = dark
    elif cls.texture == "dotted":
        colour[((xx % period - period / 2) ** 2 + (yy % period - period / 2) ** 2) < (period / 4) ** 2] = dark
    return colour, mask


def _viewpoint(size: int, rng: np.random.Generator, scale: tuple[float, float]) -> np.ndarray:
    """A random perspective transform: rotation, scale (in the range ``scale``), shift and tilt of the object."""
    angle = rng.uniform(0, 2 * math.pi)
    scale = rng.uniform(*scale)
    shift = rng.uniform(-0.15, 0.15, 2) * size
    corners = np.array([[0, 0], [size, 0], [size, size], [0, size]], np.float32) - size / 2
    rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    moved = corners @ rot.T * scale + rng.uniform(-0.08, 0.08, (4, 2)) * size + shift + size / 2
    return cv2.getPerspectiveTransform(corners + size / 2, moved.astype(np.float32))


def _background(size: int, rng: np.random.Generator, kind: str = "gradient") -> np.ndarray:
    """A muted two-colour gradient with noise, or (``plain``) the first colour alone, with noise."""
    c0, c1 = rng.uniform(40, 200, 3), rng.uniform(40, 200, 3)
    direction = rng.uniform(-1, 1, 2)
    yy, xx = np.mgrid[:size, :size] / size
    t = np.clip((xx * direction[0] + yy * direction[1]) * 0.5 + 0.5, 0, 1)[..., None]
    image = c0 * (1 - t) + c1 * t if kind == "gradient" else np.broadcast_to(c0, (size, size, 3))
    return image + rng.normal(0, 6, image.shape)


def _clutter(image: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` distracting shapes drawn on the background: ellipses and bars of random colours."""
    size = image.shape[0]
    image = np.ascontiguousarray(image, np.float64)
    for _ in range(count):
        colour = tuple(float(v) for v in rng.uniform(20, 235, 3))
        centre = tuple(int(v) for v in rng.integers(0, size, 2))
        axes = tuple(int(v) for v in rng.integers(size // 16, size // 5, 2))
        if rng.random() < 0.5:
            cv2.ellipse(image, centre, axes, float(rng.uniform(0, 180)), 0, 360, colour, -1, cv2.LINE_AA)
        else:
            end = tuple(int(v) for v in rng.integers(0, size, 2))
            cv2.line(image, centre, end, colour, int(axes[0] // 2) + 1, cv2.LINE_AA)
    return image


def _occluded(image: np.ndarray, alpha: np.ndarray, share: float, rng: np.random.Generator) -> np.ndarray:
    """A flat grey box over ``share`` of the object's bounding box (from one of its sides), as an object in
    front of it would hide it."""
    ys, xs = np.nonzero(alpha[..., 0] > 0.5)
    if not len(ys):
        return image
    top, bottom, left, right = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    image = image.copy()
    grey = rng.uniform(60, 190)
    side = rng.integers(4)
    if side < 2:  # from the left or the right
        cut = round(float(right - left) * share)
        cols = slice(left, left + cut) if side == 0 else slice(right - cut, right)
        image[top:bottom, cols] = grey
    else:  # from the top or the bottom
        cut = round(float(bottom - top) * share)
        rows = slice(top, top + cut) if side == 2 else slice(bottom - cut, bottom)
        image[rows, left:right] = grey
    return image


def _lighting(image: np.ndarray, rng: np.random.Generator, gain: tuple[float, float] = (0.55, 1.35)) -> np.ndarray:
    """Global gain and gamma plus a directional light falloff."""
    size = image.shape[0]
    yy, xx = np.mgrid[:size, :size] / size - 0.5
    direction = rng.uniform(-1, 1, 2)
    falloff = 1 + rng.uniform(0, 0.6) * (xx * direction[0] + yy * direction[1])
    lit = image * rng.uniform(*gain) * falloff[..., None]
    lit = 255 * (np.clip(lit, 0, 255) / 255) ** rng.uniform(0.7, 1.4)
    return np.clip(lit, 0, 255).astype(np.uint8)


def render(cls: ObjectClass, size: int, rng: np.random.Generator, condition: Condition = Condition()) -> np.ndarray:
    """One ``size x size`` BGR image of an object of class ``cls``, recorded under ``condition``."""
    big = size * RENDER_SCALE
    colour, mask = _object_layer(cls, big, rng)
    warp = _viewpoint(big, rng, condition.scale)
    colour = cv2.warpPerspective(colour, warp, (big, big), flags=cv2.INTER_LINEAR)
    alpha = cv2.warpPerspective(mask, warp, (big, big), flags=cv2.INTER_LINEAR)[..., None] / 255.0
    background = _background(big, rng, condition.background)
    if condition.clutter:
        background = _clutter(background, condition.clutter, rng)
    image = background * (1 - alpha) + colour * alpha
    if condition.occlusion:
        image = _occluded(image, alpha, condition.occlusion, rng)
    return cv2.resize(_lighting(image, rng, condition.gain), (size, size), interpolation=cv2.INTER_AREA)


def _write(item: tuple[str, ObjectClass, int, int, int, Condition]) -> None:
    path, cls, size, seed, n, condition = item
    rng = np.random.default_rng([seed, n])
    image = render(cls, size, rng, condition)
    params = [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(80, 96))] if path.endswith(".jpg") else []
    ok, data = cv2.imencode(os.path.splitext(path)[1], image, params)
    if not ok:
        raise RuntimeError(f"OpenCV could not encode {path}")
    if files.is_remote(path):
        files.write_atomic(path, data.tobytes())
    else:
        data.tofile(path)


def make_demo_dataset(
    out: str,
    num_classes: int = DEMO_CLASSES,
    per_class: int = DEMO_PER_CLASS,
    size: int = DEMO_SIZE,
    seed: int = 0,
    show_progress: bool = True,
    condition: Condition = Condition(),
) -> tuple[str, str]:
    """Writes the demo data set under ``out`` (every object recorded under ``condition``) and returns the paths
    of ``train.csv`` and ``val.csv``; a ConfigError for a size it cannot draw, or where ``out`` holds either CSV
    already (the user's, perhaps)."""
    if per_class < 2 or size < 16:
        raise ConfigError(f"need --per-class >= 2 and --size >= 16, got {per_class} and {size}")
    existing = [p for p in (files.join(out, "train.csv"), files.join(out, "val.csv")) if files.exists(p)]
    if existing:
        raise ConfigError(f"{', '.join(existing)} already exists; the demo writes only new files: choose another --out")
    classes = class_table(num_classes)
    try:
        return _write_dataset(out, classes, per_class, size, seed, show_progress, condition)
    except OSError as err:
        raise write_failure(err.filename or out, err, "choose another --out") from None


def _write_dataset(
    out: str,
    classes: list[ObjectClass],
    per_class: int,
    size: int,
    seed: int,
    show_progress: bool,
    condition: Condition,
) -> tuple[str, str]:
    jobs, rows = [], {"train": [], "val": []}
    n_val = max(1, round(per_class * VAL_FRACTION))
    for c, cls in enumerate(classes):
        files.makedirs(files.join(out, "images", cls.name))
        for i in range(per_class):
            rel = f"images/{cls.name}/{i:04d}." + ("png" if i % 5 == 4 else "jpg")
            jobs.append((files.join(out, rel), cls, size, seed, c * 100_000 + i, condition))
            rows["val" if i < n_val else "train"].append((rel, cls.name))
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        list(
            tqdm(
                pool.map(_write, jobs),
                total=len(jobs),
                desc="demo images",
                unit="img",
                disable=not (show_progress and progress_bars_on()),
            )
        )
    paths = []
    for split, split_rows in rows.items():
        path = files.join(out, f"{split}.csv")
        files.write_csv(path, ["path", "label"], split_rows)
        paths.append(path)
    return paths[0], paths[1]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = script_parser(__doc__)
    parser.add_argument("--out", required=True, help="folder to write the data set to")
    parser.add_argument(
        "--classes", type=int, default=DEMO_CLASSES, help=f"number of classes (1..{len(SHAPES) * len(HUES)})"
    )
    parser.add_argument(
        "--per-class",
        type=int,
        default=DEMO_PER_CLASS,
        help=f"images per class ({round(VAL_FRACTION * 100)}%% go to val.csv)",
    )
    parser.add_argument("--size", type=int, default=DEMO_SIZE, help="image side in pixels")
    add_shared(parser, "seed", default=0, help="random seed")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    args = parse_args(argv)
    setup_logging("demo")

    def work() -> int:
        train_csv, val_csv = make_demo_dataset(args.out, args.classes, args.per_class, args.size, args.seed)
        LOG.info("wrote %s and %s", train_csv, val_csv)
        return 0

    return exit_status(LOG, work)


if __name__ == "__main__":  # python -m data_utils.demo: run as the module itself, so it logs by its name
    from data_utils.demo import main as module_main

    raise SystemExit(module_main())
