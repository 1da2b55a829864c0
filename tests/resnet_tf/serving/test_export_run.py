"""Tests of export.py: the SavedModel's signatures, its use without this project, TFLite, and errors."""

import json
import os
import subprocess
import sys

import cv2
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

import evaluate
import export
from data_utils.csv_table import read_image_csv
from data_utils.images.opencv import decode_image
from data_utils.pipeline import eval_dataset
from resnet_tf.evaluation.predictions import make_predict_step
from resnet_tf.losses import probabilities
from resnet_tf.runs import config_file
from resnet_tf.runs.builders import build_model, load_model, pipeline_settings
from resnet_tf.runs.checkpoints import managers, save_checkpoint, training_state
from resnet_tf.runs.config_file import load_run
from resnet_tf.serving import export_run
from tests.helpers import quadrants_bgr, settled_config, with_exif_orientation

# Runs in a fresh interpreter (-I: no PYTHONPATH, no current folder on sys.path) where OpenCV cannot be
# imported either: only TensorFlow is there.
CLIENT = r"""
import importlib.util, json, sys
sys.modules["cv2"] = None  # "import cv2" now raises ImportError
import tensorflow as tf
serve = tf.saved_model.load(sys.argv[1]).signatures["serving_default"]
paths = json.loads(sys.argv[2])
out = serve(image_bytes=tf.constant([open(p, "rb").read() for p in paths]))
print(json.dumps({"top1": [n.decode() for n in out["class_names"].numpy()[:, 0]],
                  "probabilities": out["probabilities"].numpy().tolist(),
                  "project_importable": importlib.util.find_spec("data_utils") is not None}))
"""


def validation_pixels(run, csv_path):
    table = read_image_csv(csv_path, mapping=run.mapping)
    batch = next(iter(eval_dataset(table, pipeline_settings(run.config, training=False, batch_size=len(table)))))
    return table, batch["image"]


def test_saved_model_cli_lists_both_signatures(exported_run, trained_run):
    cli = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
    shown = subprocess.run(
        [cli, "show", "--dir", str(exported_run), "--all"], capture_output=True, text=True, check=True
    ).stdout
    for text in (
        "signature_def['serving_default']",
        "inputs['image_bytes']",
        "outputs['class_names']",
        "outputs['class_ids']",
        "outputs['scores']",
        "signature_def['predict_images']",
        "inputs['images']",
        "shape: (-1, 32, 32, 3)",
        "outputs['logits']",
    ):
        assert text in shown, text
    info = json.loads((exported_run / "export.json").read_text())
    assert info["image_size"] == 32 and info["normalization"] == "imagenet" and info["top_k"] == 5
    assert info["tta"] == json.loads((trained_run / "config.json").read_text())["config"]["data"]["tta"]
    assert (exported_run / "class_names.txt").read_text().splitlines() == info["class_names"]


@pytest.mark.slow  # a process of its own
def test_export_runs_without_the_project_and_agrees_with_evaluate(exported_run, trained_run, demo_data, tmp_path):
    out = tmp_path / "eval"
    assert evaluate.main(["--logdir", str(trained_run), "--csv", demo_data[1], "--out", str(out)]) == 0
    expected = pd.read_csv(out / "predictions.csv")
    expected = expected[expected["path"].str.endswith(".jpg")]  # JPEG files written by OpenCV
    client = subprocess.run(
        [sys.executable, "-I", "-c", CLIENT, str(exported_run), json.dumps(expected["path"].tolist())],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )
    assert client.returncode == 0, client.stderr[-2000:]
    answer = json.loads(client.stdout.strip().splitlines()[-1])
    assert not answer["project_importable"]
    assert len(answer["top1"]) == len(expected) > 10
    assert answer["top1"] == expected["predicted"].tolist()
    np.testing.assert_allclose(np.max(answer["probabilities"], axis=1), expected["probability"], atol=2e-3)


def test_predict_images_equals_what_evaluate_computes(exported_run, trained_run, demo_data):
    run = load_run(str(trained_run))
    _, pixels = validation_pixels(run, demo_data[1])
    model, _, _ = load_model(run, "best")
    expected = probabilities(
        make_predict_step(model, run.config.data.normalization, test_time=run.config.data.tta)(pixels),
        run.config.optimization.loss,
    ).numpy()
    served = tf.saved_model.load(str(exported_run)).signatures["predict_images"](images=pixels)
    np.testing.assert_allclose(served["probabilities"].numpy(), expected, atol=1e-5)
    assert served["logits"].dtype == tf.float32


def test_tflite_gives_the_saved_models_top1(exported_run, trained_run, demo_data):
    run = load_run(str(trained_run))
    _, pixels = validation_pixels(run, demo_data[1])
    reference = tf.saved_model.load(str(exported_run)).signatures["predict_images"](images=pixels)["probabilities"]
    interpreter = tf.lite.Interpreter(model_path=str(exported_run / "model.tflite"))
    interpreter.allocate_tensors()
    (source,), (target,) = interpreter.get_input_details(), interpreter.get_output_details()
    assert list(source["shape"]) == [1, 32, 32, 3] and source["dtype"] == np.uint8
    tflite = []
    for image in pixels.numpy():
        interpreter.set_tensor(source["index"], image[None])
        interpreter.invoke()
        tflite.append(interpreter.get_tensor(target["index"])[0])
    np.testing.assert_array_equal(np.argmax(tflite, 1), np.argmax(reference.numpy(), 1))
    np.testing.assert_allclose(tflite, reference.numpy(), atol=1e-4)


def test_bad_input_is_an_op_error_and_the_model_keeps_serving(exported_run, demo_data):
    serve = tf.saved_model.load(str(exported_run)).signatures["serving_default"]
    with pytest.raises(tf.errors.InvalidArgumentError, match="empty string, not an image"):
        serve(image_bytes=tf.constant([b""]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="Unknown image file format"):
        serve(image_bytes=tf.constant([b"GIF? no: plain text"]))
    image = os.path.join(os.path.dirname(demo_data[1]), pd.read_csv(demo_data[1])["path"][0])
    with open(image, "rb") as f:
        good = f.read()
    assert serve(image_bytes=tf.constant([good]))["scores"].shape == (1, 5)
    # one bad image fails the whole request, as TF Serving answers INVALID_ARGUMENT for it; the next one is served
    with pytest.raises(tf.errors.InvalidArgumentError, match="Unknown image file format"):
        serve(image_bytes=tf.constant([good, b"not an image", good]))
    assert serve(image_bytes=tf.constant([good, good]))["scores"].shape == (2, 5)
    assert serve(image_bytes=tf.constant([], tf.string))["scores"].shape == (0, 5)  # an empty request: no answers
    for undeclared in ({"images": tf.zeros([1, 32, 32, 3], tf.uint8)}, {"image_bytes": tf.constant([good]), "k": 1}):
        with pytest.raises(TypeError):  # a signature takes the inputs it declares, and only those
            serve(**undeclared)


def fresh_run(logdir, checkpoint: bool = True, **settings) -> None:
    """A run folder with an untrained checkpoint (or none yet), as train.py would write it."""
    cfg = settled_config(logdir=str(logdir), image_size=32, num_classes=3, **settings)
    config_file.save(cfg.to_json(), {"names": ["x", "y", "z"], "kind": "name"}, {}, str(logdir))
    if checkpoint:
        model = build_model(cfg)
        optimizer = tf.keras.optimizers.SGD(0.1)
        optimizer.build(model.trainable_variables)
        state = training_state(model, optimizer)
        save_checkpoint(managers(state, str(logdir), keep=1)[0], state)


@pytest.mark.parametrize(
    "settings",
    [
        pytest.param(
            # the stage table is the network's only difference to export: the shallowest one of basic blocks
            {"arch": "resnet10", "width": 4, "use_shortcut": False, "precision": "mixed_bfloat16", "loss": "sigmoid"},
            marks=pytest.mark.slow,
        ),
        # bottleneck blocks, grouped convolutions (in TFLite too) and float16 in one
        pytest.param({"arch": "resnext50_32x4d", "width": 16, "precision": "mixed_float16"}, marks=pytest.mark.slow),
        {
            "arch": "resnet10",
            "width": 4,
            "layout": "original",
            "resize": "cubic",
            "normalization": "rgb_minus_bgr_means",
            "loss": "sigmoid",
        },
    ],
)
def test_every_network_and_precision_exports_in_float32(tmp_path, settings):
    fresh_run(tmp_path / "run", **settings)
    assert (
        export.main(["--logdir", str(tmp_path / "run"), "--out", str(tmp_path / "out"), "--tflite", "--top-k", "2"])
        == 0
    )
    run = load_run(str(tmp_path / "run"))
    model, _, _ = load_model(run, "latest", precision="float32")
    pixels = tf.constant(np.random.default_rng(0).integers(0, 256, (2, 32, 32, 3), dtype=np.uint8))
    expected = probabilities(
        make_predict_step(model, run.config.data.normalization, test_time=run.config.data.tta)(pixels),
        run.config.optimization.loss,
    ).numpy()
    served = tf.saved_model.load(str(tmp_path / "out")).signatures["predict_images"](images=pixels)
    np.testing.assert_allclose(served["probabilities"].numpy(), expected, atol=1e-5)
    assert (tmp_path / "out" / "model.tflite").stat().st_size > 10_000


def test_export_errors_leave_nothing_behind(trained_run, tmp_path, capsys, monkeypatch):
    (tmp_path / "empty_run").mkdir()
    assert export.main(["--logdir", str(tmp_path / "empty_run"), "--out", str(tmp_path / "a")]) == 2
    assert "is not a training run" in capsys.readouterr().err and not (tmp_path / "a").exists()
    fresh_run(tmp_path / "no_ckpt", checkpoint=False)
    assert export.main(["--logdir", str(tmp_path / "no_ckpt"), "--out", str(tmp_path / "b")]) == 2
    assert "checkpoint not found" in capsys.readouterr().err and not (tmp_path / "b").exists()
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "keep.txt").write_text("mine")
    assert export.main(["--logdir", str(trained_run), "--out", str(tmp_path / "taken")]) == 2
    assert "exists and is not empty" in capsys.readouterr().err
    assert os.listdir(tmp_path / "taken") == ["keep.txt"]

    def converter_fails(_):
        raise RuntimeError("converter crashed")

    monkeypatch.setattr(export_run, "tflite_bytes", converter_fails)
    with pytest.raises(RuntimeError, match="converter crashed"):
        export.main(["--logdir", str(trained_run), "--out", str(tmp_path / "c"), "--tflite"])
    assert sorted(os.listdir(tmp_path)) == ["empty_run", "no_ckpt", "taken"]  # no staging folder left


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_served_exif_jpeg_equals_the_pipelines_upright_pixels(exported_run, tmp_path, orientation):
    data = with_exif_orientation(cv2.imencode(".jpg", quadrants_bgr(32, 32))[1].tobytes(), orientation)
    (tmp_path / "tagged.jpg").write_bytes(data)
    loaded = tf.saved_model.load(str(exported_run))
    served = loaded.signatures["serving_default"](image_bytes=tf.constant([data]))["probabilities"]
    upright = tf.constant(decode_image(str(tmp_path / "tagged.jpg"))[None])
    expected = loaded.signatures["predict_images"](images=upright)["probabilities"]
    np.testing.assert_allclose(served.numpy(), expected.numpy(), atol=1e-6)
