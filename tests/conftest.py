"""Shared fixtures and helpers: small real image files written with OpenCV, CSVs listing them, tiny
training runs, and readers of what a run wrote (TensorBoard events, checkpoints)."""

from __future__ import annotations

import csv
import dataclasses
import os
import subprocess
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
from training.tf_env import apply_runtime_environment  # noqa: E402

apply_runtime_environment()  # the tests run TensorFlow as train.py and evaluate.py do

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# A network that trains in well under a second a step on 2 cores (the standard stem: a quarter of the
# activations of the one 32 px images get by default; the stems are tested in test_model.py).
TINY = ["--arch", "resnet18", "--width", "4", "--image-size", "32", "--stem", "standard", "--batch-size", "16",
        "--log-every", "2"]


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


def make_labelled_set(folder: str, num_classes: int = 3, per_class: int = 4, size: int = 40,
                      name: str = "train.csv") -> str:
    """Images under ``folder/img`` whose pixels encode the label, and a CSV listing them."""
    os.makedirs(os.path.join(folder, "img"), exist_ok=True)
    rows = []
    for label in range(num_classes):
        for i in range(per_class):
            rel = f"img/{label}_{i}.png"
            cv2.imwrite(os.path.join(folder, rel), label_image(label, size))
            rows.append((rel, label))
    return write_csv(os.path.join(folder, name), rows)


def train_args(demo_data, logdir, *extra) -> list[str]:
    """train.py options for a tiny run on the demo set in ``logdir``."""
    return ["--train-csv", demo_data[0], "--val-csv", demo_data[1], "--logdir", str(logdir), *TINY, *extra]


def start_trainer(args, **kwargs) -> subprocess.Popen:
    """train.py in a process of its own (output merged into ``stdout``)."""
    return subprocess.Popen([sys.executable, "train.py", *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, **kwargs)


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


@pytest.fixture
def labelled_csv(tmp_path) -> str:
    """A 3-class, 12-image CSV of PNGs whose pixels encode the label."""
    return make_labelled_set(str(tmp_path))


@pytest.fixture(scope="session")
def demo_data(tmp_path_factory) -> tuple[str, str]:
    """A small demo data set (6 classes, 32 px), generated once per test session."""
    from data_utils.demo import make_demo_dataset
    out = str(tmp_path_factory.mktemp("demo"))
    return make_demo_dataset(out, num_classes=6, per_class=20, size=32, show_progress=False)


@pytest.fixture(scope="session")
def trained_run(demo_data, tmp_path_factory):
    """A tiny run of 8 steps, validated after its first epoch (6 steps) and at the end, checkpointed at steps 4
    and 8, steps 3-4 profiled; shared by the tests that read it."""
    import train
    logdir = tmp_path_factory.mktemp("runs") / "e2e"
    assert train.main(train_args(demo_data, logdir, "--max-steps", "8", "--ckpt-every", "4",
                                 "--profile-steps", "3,4")) == 0
    return logdir


@pytest.fixture(scope="session")
def exported_run(trained_run, tmp_path_factory):
    """``trained_run``'s best checkpoint exported by export.py, with its TFLite file."""
    import export
    out = tmp_path_factory.mktemp("exports") / "model"
    assert export.main(["--logdir", str(trained_run), "--out", str(out), "--tflite"]) == 0
    return out


@dataclasses.dataclass
class OriginalCheckpoint:
    """A checkpoint of the original TF1 graph and what its session computed before saving it."""

    prefix: str            # tf.train.Saver prefix (model_1202/resnet50.model-60)
    csv: str               # the JPEG files it trained on (several sizes), integer labels
    image_size: int
    num_classes: int
    width: int
    inputs: np.ndarray     # those files through the original's preprocessing, in CSV order
    logits: np.ndarray     # the session's logits for ``inputs``


@pytest.fixture(scope="session")
def original_checkpoint(tmp_path_factory) -> OriginalCheckpoint:
    """The original TF1 graph (ResNet-50 layout, width 8, 5 classes at 40 px), given non-trivial batch-norm
    statistics and biases, trained with its session for a few steps on real JPEG files of several sizes, and
    saved with ``tf.train.Saver`` as the original did."""
    from tf1_original import OriginalGraph, original_preprocessing
    folder = tmp_path_factory.mktemp("original")
    rng = np.random.default_rng(3)
    rows = []
    for i, (h, w) in enumerate([(40, 40), (64, 48), (30, 52), (120, 90), (33, 33), (75, 100), (48, 64), (90, 90)]):
        colour = rng.integers(40, 216, 3)  # a colour of its own under blurred noise
        noise = cv2.GaussianBlur(rng.integers(0, 81, (h, w, 3), dtype=np.uint8), (5, 5), 0)
        image = (colour + noise.astype(int) - 40).clip(0, 255).astype(np.uint8)
        cv2.imwrite(str(folder / f"{i}.jpg"), image, [cv2.IMWRITE_JPEG_QUALITY, 90])
        rows.append((f"{i}.jpg", i % 5))
    csv_path = write_csv(str(folder / "train.csv"), rows)
    inputs = np.stack([original_preprocessing(str(folder / path), 40) for path, _ in rows])
    graph = OriginalGraph(num_classes=5, image_size=40, width=8)
    graph.randomize_statistics_and_biases(seed=1)  # before training, which then fits the head around them
    graph.train(inputs, np.array([label for _, label in rows]), steps=60)
    prefix = graph.save(str(folder / "model_1202" / "resnet50.model"), step=60)
    logits = graph.logits_of(inputs)
    graph.session.close()
    return OriginalCheckpoint(prefix, csv_path, 40, 5, 8, inputs, logits)


def with_exif_orientation(jpeg: bytes, orientation: int, byte_order: str = "II") -> bytes:
    """JPEG bytes with an EXIF APP1 segment whose IFD0 holds one entry: the orientation tag."""
    import struct
    e = "<" if byte_order == "II" else ">"
    tiff = byte_order.encode() + struct.pack(e + "HI", 42, 8) + struct.pack(e + "H", 1) \
        + struct.pack(e + "HHIHH", 0x0112, 3, 1, orientation, 0) + struct.pack(e + "I", 0)
    app1 = b"Exif\x00\x00" + tiff
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + jpeg[2:]


# What a viewer shows for each EXIF orientation, as a function of the stored pixels (rows, columns).
UPRIGHT = {1: lambda x: x, 2: lambda x: x[:, ::-1], 3: lambda x: x[::-1, ::-1], 4: lambda x: x[::-1],
           5: lambda x: np.transpose(x, (1, 0, 2)), 6: lambda x: np.rot90(x, 3), 7: lambda x: np.rot90(x, 3)[::-1],
           8: lambda x: np.rot90(x, 1)}


def quadrants_bgr(h: int = 40, w: int = 80) -> np.ndarray:
    """A BGR picture whose four quadrants have different colours: any turn or mirror changes it."""
    image = np.zeros((h, w, 3), np.uint8)
    image[:h // 2, :w // 2] = (0, 0, 255)
    image[:h // 2, w // 2:] = (0, 255, 0)
    image[h // 2:, :w // 2] = (255, 0, 0)
    image[h // 2:, w // 2:] = (255, 255, 255)
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
    return {"cmyk.jpg": pil_bytes(picture.convert("CMYK"), "JPEG", quality=95),
            "palette.png": pil_bytes(picture.quantize(4), "PNG", transparency=0),
            "animated.gif": pil_bytes(picture.quantize(4), "GIF", save_all=True, append_images=[inverse.quantize(4)]),
            "gray.jpg": cv2.imencode(".jpg", rgb[..., 0])[1].tobytes(),
            "alpha.png": cv2.imencode(".png", np.dstack([bgr, np.full(rgb.shape[:2], 7, np.uint8)]))[1].tobytes(),
            "deep.png": cv2.imencode(".png", bgr.astype(np.uint16) * 257 + 100)[1].tobytes()}
