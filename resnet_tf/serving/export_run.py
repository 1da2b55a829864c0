"""The work behind ``export.py``: a run's checkpoint written as a SavedModel (and TFLite) with its class names.

``export.py`` parses the command line without TensorFlow and calls :func:`export_run`.
"""

from __future__ import annotations

import argparse
import logging
import os

import tensorflow as tf

from resnet_tf.console import files
from resnet_tf.console.errors import ConfigError
from resnet_tf.console.invocation import quoted, script_command, tool_command
from resnet_tf.evaluation.sequence_results import final_network
from resnet_tf.runs.builders import load_model, pipeline_settings
from resnet_tf.runs.config_file import SavedRun
from resnet_tf.runs.staging import check_new_folder, staged_folder
from resnet_tf.serving.export_folder import DEFAULT_TOP_K, TFLITE_FILE, write_export_files
from resnet_tf.serving.module import ServingModel

LOG = logging.getLogger(__name__)


def tflite_bytes(serving: ServingModel) -> bytes:
    """The float32 TFLite model of ``serving.tflite_probabilities`` (built-in TFLite ops only)."""
    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [serving.tflite_probabilities.get_concrete_function()], serving
    )
    return converter.convert()


def write_export(serving: ServingModel, folder: str, info: dict, tflite: bool) -> None:
    """Writes the SavedModel and the files beside it into ``folder``."""
    tf.saved_model.save(serving, folder, signatures=serving.signatures())
    write_export_files(folder, info)
    if tflite:
        files.write_atomic(os.path.join(folder, TFLITE_FILE), tflite_bytes(serving))


def export_info(run: SavedRun, step: int, prefix: str, top_k: int, test_time: str) -> dict:
    """What export.json records: enough to feed the model correctly without this project."""
    cfg = run.config
    return {
        "image_size": cfg.data.image_size,
        "channel_order": "RGB",
        "input_dtype": "uint8",
        "normalization": cfg.data.normalization,
        "resize": cfg.data.resize,
        "center_crop": pipeline_settings(cfg, training=False).crop,
        "tta": test_time,
        "loss": cfg.optimization.loss,
        "layout": cfg.network.layout,
        "stem": cfg.network.stem,
        "outputs": "softmax probabilities" if cfg.optimization.loss == "softmax" else "per-class sigmoid probabilities",
        "top_k": top_k,
        "arch": cfg.network.arch,
        "width": cfg.network.width,
        "checkpoint": prefix,
        "step": step,
        "class_names": list(run.mapping.names),
    }


def export_run(args: argparse.Namespace, run: SavedRun) -> int:
    """Exports ``run`` (the run folder ``args.logdir``, read); the export is written to a temporary folder
    beside --out and moved into place, so a failed export leaves nothing behind. A sequence of tasks exports the
    network at the end of its last task learnt."""
    args, run = final_network(args, run)
    out = files.absolute(args.out)
    check_new_folder(out, "--out")  # before the slow part
    classes = run.config.network.num_classes
    top_k = args.top_k or min(DEFAULT_TOP_K, classes)
    if not 1 <= top_k <= classes:
        raise ConfigError(f"--top-k must be in 1..{classes} (the run's classes), got {top_k}")
    model, step, prefix = load_model(run, args.checkpoint or "best", precision="float32")  # mixed-precision runs too
    test_time = args.tta or run.config.data.tta
    serving = ServingModel(
        model,
        run.mapping.names,
        run.config.data.image_size,
        run.config.data.normalization,
        run.config.optimization.loss,
        top_k,
        resize=run.config.data.resize,
        crop=pipeline_settings(run.config, training=False).crop,
        test_time=test_time,
    )
    with staged_folder(out, "--out") as staging:
        write_export(serving, staging, export_info(run, step, prefix, top_k, test_time), args.tflite)
    LOG.info(
        "exported %s (step %d) to %s: SavedModel with serving_default (image_bytes -> top-%d) and "
        "predict_images (uint8 [N, %d, %d, 3])%s",
        prefix,
        step,
        out,
        top_k,
        run.config.data.image_size,
        run.config.data.image_size,
        f", {TFLITE_FILE}" if args.tflite else "",
    )
    LOG.info("  %s", quoted(tool_command("saved_model_cli") + ["show", "--dir", out, "--all"]))
    LOG.info("  %s", quoted(script_command("predict") + ["--saved-model", out, "IMAGE_OR_FOLDER"]))
    return 0
