"""Helpers the tests share: small real image files written with OpenCV, CSVs listing them, the options of
tiny training runs, readers of what a run wrote (TensorBoard events, checkpoints), encoded test pictures."""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import logging
import os
import subprocess
import sys
from collections.abc import Iterator

import cv2
import numpy as np
import tensorflow as tf
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from resnet_tf.model import ResNet
from resnet_tf.runs.checkpoints import managers, save_checkpoint, training_state
from resnet_tf.runs.config import TrainConfig
from resnet_tf.runs.settle import settle

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# A network that trains in well under a second a step on 2 cores (the standard stem: a quarter of the
# activations of the one 32 px images get by default; the stems are tested in test_model.py). SGD: its update
# builds in about a second less than Adam's (one slot a weight, not two, and no bias correction), in every run a
# test starts; the tests about resuming Adam's state exactly ask for it (tests/resnet_tf/commands/test_train.py).
# No augmentation, hence one view at validation: the flips that 32 px images get by default double the
# validation step to trace (a sixth of a short run's time); the tests of flips and the choice ask for them.
TINY = [
    "--arch",
    "resnet10",
    "--width",
    "4",
    "--image-size",
    "32",
    "--stem",
    "standard",
    "--batch-size",
    "16",
    "--log-every",
    "2",
    "--optimizer",
    "sgd",
    "--augment",
    "none",
]


def label_image(label: int, size: int = 40) -> np.ndarray:
    """A BGR image whose label is readable from its pixels: the red channel is 20 * label + 10."""
    image = np.zeros((size, size, 3), np.uint8)
    image[..., 2] = 20 * label + 10
    image[..., 1] = 100
    return image


def write_csv(path: str, rows: list, header=("path", "label")) -> str:
    """Writes rows (and a header unless None) as UTF-8 CSV."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        if header:
            writer.writerow(header)
        writer.writerows(rows)
    return path


def make_labelled_set(
    folder: str, num_classes: int = 3, per_class: int = 4, size: int = 40, name: str = "train.csv"
) -> str:
    """Images under ``folder/img`` whose pixels encode the label, and a CSV listing them."""
    os.makedirs(os.path.join(folder, "img"), exist_ok=True)
    rows = []
    for label in range(num_classes):
        for i in range(per_class):
            rel = f"img/{label}_{i}.png"
            cv2.imwrite(os.path.join(folder, rel), label_image(label, size))
            rows.append((rel, label))
    return write_csv(os.path.join(folder, name), rows)


def class_tasks(demo_data, folder: str, per_task: int = 2) -> str:
    """A class-incremental tasks CSV made from the demo set: its classes ``per_task`` at a time, in their order
    (train and val CSVs of each task in ``folder``, paths as the demo's CSVs resolve them)."""
    tables = {}
    for split, path in zip(("train", "val"), demo_data):
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))[1:]
        tables[split] = [(os.path.join(os.path.dirname(path), p), label) for p, label in rows]
    names = sorted({label for _, label in tables["train"]})
    tasks = []
    for t in range(0, len(names), per_task):
        kept, name = names[t : t + per_task], f"classes {t + 1}-{t + per_task}"
        paths = [os.path.join(folder, f"task{t}_{split}.csv") for split in ("train", "val")]
        for split, path in zip(("train", "val"), paths):
            write_csv(path, [row for row in tables[split] if row[1] in kept])
        tasks.append((name, *paths))
    return write_csv(os.path.join(folder, "tasks.csv"), tasks, header=("task", "train_csv", "val_csv"))


def train_args(demo_data, logdir, *extra) -> list[str]:
    """train.py options for a tiny run on the demo set in ``logdir``."""
    return ["--train-csv", demo_data[0], "--val-csv", demo_data[1], "--logdir", str(logdir), *TINY, *extra]


def start_trainer(args, **kwargs) -> subprocess.Popen:
    """train.py in a process of its own (output merged into ``stdout``)."""
    return subprocess.Popen(
        [sys.executable, "train.py", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        **kwargs,
    )


def scalars(folder: str) -> EventAccumulator:
    """TensorBoard's own reader over the event files of ``folder``."""
    acc = EventAccumulator(folder, size_guidance={"tensors": 0, "images": 0})
    acc.Reload()
    return acc


def tensor_values(acc: EventAccumulator, tag: str) -> list:
    """``(step, value)`` of every scalar summary ``tag``."""
    return [(e.step, float(tf.make_ndarray(e.tensor_proto))) for e in acc.Tensors(tag)]


def final_weights(logdir) -> dict:
    """Every value of the newest checkpoint of a run, by key."""
    reader = tf.train.load_checkpoint(tf.train.latest_checkpoint(os.path.join(logdir, "checkpoints")))
    skip = ("_CHECKPOINTABLE_OBJECT_GRAPH", "save_counter/.ATTRIBUTES/VARIABLE_VALUE")
    return {k: reader.get_tensor(k) for k in reader.get_variable_to_shape_map() if k not in skip}


def assert_same_weights(a: dict, b: dict) -> None:
    """Bit-equal checkpoints."""
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


@dataclasses.dataclass
class OriginalCheckpoint:
    """A checkpoint of the original TF1 graph and what its session computed before saving it."""

    prefix: str  # tf.train.Saver prefix (model_1202/resnet50.model-60)
    csv: str  # the JPEG files it trained on (several sizes), integer labels
    image_size: int
    num_classes: int
    width: int
    inputs: np.ndarray  # those files through the original's preprocessing, in CSV order
    logits: np.ndarray  # the session's logits for ``inputs``


def with_exif_orientation(jpeg: bytes, orientation: int, byte_order: str = "II") -> bytes:
    """JPEG bytes with an EXIF APP1 segment whose IFD0 holds one entry: the orientation tag."""
    import struct

    e = "<" if byte_order == "II" else ">"
    tiff = (
        byte_order.encode()
        + struct.pack(e + "HI", 42, 8)
        + struct.pack(e + "H", 1)
        + struct.pack(e + "HHIHH", 0x0112, 3, 1, orientation, 0)
        + struct.pack(e + "I", 0)
    )
    app1 = b"Exif\x00\x00" + tiff
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + jpeg[2:]


# What a viewer shows for each EXIF orientation, as a function of the stored pixels (rows, columns).
UPRIGHT = {
    1: lambda x: x,
    2: lambda x: x[:, ::-1],
    3: lambda x: x[::-1, ::-1],
    4: lambda x: x[::-1],
    5: lambda x: np.transpose(x, (1, 0, 2)),
    6: lambda x: np.rot90(x, 3),
    7: lambda x: np.rot90(x, 3)[::-1],
    8: lambda x: np.rot90(x, 1),
}


def quadrants_bgr(h: int = 40, w: int = 80) -> np.ndarray:
    """A BGR picture whose four quadrants have different colours: any turn or mirror changes it."""
    image = np.zeros((h, w, 3), np.uint8)
    image[: h // 2, : w // 2] = (0, 0, 255)
    image[: h // 2, w // 2 :] = (0, 255, 0)
    image[h // 2 :, : w // 2] = (255, 0, 0)
    image[h // 2 :, w // 2 :] = (255, 255, 255)
    return image


def pil_bytes(image, fmt: str, **options) -> bytes:
    """An image encoded by Pillow (installed with matplotlib), which writes what OpenCV cannot."""
    import io

    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def contract_cases(rgb: np.ndarray) -> dict[str, bytes]:
    """``rgb`` encoded in the kinds the decoding contract names, by file name."""
    from PIL import Image

    picture, inverse = Image.fromarray(rgb), Image.fromarray(255 - rgb)
    bgr = np.ascontiguousarray(rgb[..., ::-1])
    return {
        "cmyk.jpg": pil_bytes(picture.convert("CMYK"), "JPEG", quality=95),
        "palette.png": pil_bytes(picture.quantize(4), "PNG", transparency=0),
        "animated.gif": pil_bytes(picture.quantize(4), "GIF", save_all=True, append_images=[inverse.quantize(4)]),
        "gray.jpg": cv2.imencode(".jpg", rgb[..., 0])[1].tobytes(),
        "alpha.png": cv2.imencode(".png", np.dstack([bgr, np.full(rgb.shape[:2], 7, np.uint8)]))[1].tobytes(),
        "deep.png": cv2.imencode(".png", bgr.astype(np.uint16) * 257 + 100)[1].tobytes(),
    }


@contextlib.contextmanager
def logged(name: str) -> Iterator[list[str]]:
    """The messages the logger ``name`` (and its children) logs from INFO up inside the block, whatever the
    console set-up of earlier tests."""
    messages: list[str] = []
    handler = logging.Handler(logging.INFO)
    handler.emit = lambda record: messages.append(record.getMessage())
    logger = logging.getLogger(name)
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield messages
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def settled_config(**settings) -> TrainConfig:
    """A run configuration as training settles it (every ``auto`` decided; 3 classes unless given)."""
    return settle(TrainConfig.from_options(settings), settings.get("num_classes") or 3)


def small_state(seed: int = 0, classes: int = 3) -> tf.train.Checkpoint:
    """The training state of a tiny ResNet-18 (width 4) with an SGD optimizer."""
    model = ResNet(18, classes, width=4, seed=seed)
    optimizer = tf.keras.optimizers.SGD(0.1)
    optimizer.build(model.trainable_variables)
    return training_state(model, optimizer)


def saved_run(logdir, steps=(2, 4)) -> tf.train.Checkpoint:
    """A run folder with checkpoints at ``steps`` (the head's bias holds the step) and a best copy at the first
    one."""
    state = small_state()
    latest, best = managers(state, str(logdir), keep=5)
    for i, step in enumerate(steps):
        state.step.assign(step)
        state.model.logits.b.assign(tf.fill([3], float(step)))
        save_checkpoint(latest, state)
        if i == 0:
            save_checkpoint(best, state)
    return state


def photo_like(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A smooth RGB image with some texture (resampling differences show on edges and noise)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    image = np.stack([128 + 100 * np.sin(xx / 7.0), 128 + 100 * np.cos(yy / 5.0), (xx + yy) % 256], -1)
    return np.clip(image + rng.normal(0, 12, image.shape), 0, 255).astype(np.uint8)


HELP_PROBE = """
import os, runpy, sys
os._exit = sys.exit  # the scripts end their process with os._exit: here, an exception this probe catches
sys.argv = [{script!r}, *{args!r}]
try:
    runpy.{runner}({target!r}, run_name="__main__")
except SystemExit as done:
    print("exit", done.code)
print("loaded:", *sorted(m for m in ("tensorflow", "cv2", "pandas", "matplotlib") if m in sys.modules))
"""


def probe_imports(script: str, *args: str) -> subprocess.CompletedProcess:
    """A script (``train.py``) or module (``data_utils.make_csv``) run with ``args`` in a fresh process; its
    output ends with its exit status and the heavy libraries it loaded (``exit 2\nloaded: tensorflow``)."""
    runner, target = ("run_path", script) if script.endswith(".py") else ("run_module", script)
    return subprocess.run(
        [sys.executable, "-c", HELP_PROBE.format(script=script, args=list(args), runner=runner, target=target)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )


def help_without_heavy_imports(script: str) -> str:
    """``--help`` of a script (``train.py``) or module (``data_utils.make_csv``) in a fresh process; asserts
    it printed usage and loaded none of TensorFlow, OpenCV, pandas or matplotlib; returns the help text."""
    done = probe_imports(script, "--help")
    assert done.stdout.startswith("usage: ") and "options:" in done.stdout, done.stderr[-2000:]
    assert done.stdout.rstrip().endswith("exit 0\nloaded:"), done.stdout[-300:]  # none of them: at once
    return done.stdout


def reference_conv_gradients(x: np.ndarray, w: np.ndarray, dy: np.ndarray, stride: int) -> tuple:
    """Gradients of sum(conv(x, w) * dy) with respect to x and w, in float64 loops (symmetric padding)."""
    k = w.shape[0]
    beg = (k - 1) // 2
    xp = np.pad(x.astype(np.float64), [(0, 0), (beg, k - 1 - beg), (beg, k - 1 - beg), (0, 0)])
    dxp, dw = np.zeros_like(xp), np.zeros(w.shape)
    out = dy.shape[1]
    for a in range(k):
        for b in range(k):
            window = (slice(None), slice(a, a + stride * out, stride), slice(b, b + stride * out, stride))
            dw[a, b] = np.einsum("nhwc,nhwd->cd", xp[window], dy)
            dxp[window] += np.einsum("nhwd,cd->nhwc", dy, w[a, b])
    return dxp[:, beg : beg + x.shape[1], beg : beg + x.shape[2]], dw
