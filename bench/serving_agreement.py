"""How closely an export's TensorFlow decoding follows the training pipeline's OpenCV decoding.

    python bench/serving_agreement.py --logdir RUN --export DIR --csv VAL.csv [--sizes 48 200] [--quality 90]

Re-encodes every image of the CSV as JPEG at each size (width x 3/4 height: the resize is not square, as
real photos), scores the files with the run's checkpoint the way evaluate.py does (OpenCV) and with the
export's ``serving_default`` (TensorFlow ops), and prints the top-1 agreement and the largest probability
difference per size. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import cv2
import numpy as np
import tensorflow as tf

from data_utils.csv_table import ImageTable
from data_utils.images.opencv import decode_image
from resnet_tf.evaluation.predictions import make_predict_step, predict_table
from resnet_tf.losses import probabilities
from resnet_tf.runs.builders import load_model, pipeline_settings, read_table
from resnet_tf.runs.config_file import load_run


def reencode(paths: list[str], folder: str, width: int, quality: int) -> list[str]:
    """Each image as a JPEG of ``width`` x ``3/4 width`` pixels, written by OpenCV."""
    out = []
    for i, path in enumerate(paths):
        image = cv2.resize(decode_image(path), (width, width * 3 // 4), interpolation=cv2.INTER_AREA)
        target = os.path.join(folder, f"{i:05d}.jpg")
        cv2.imwrite(target, cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
        out.append(target)
    return out


def main(argv=None) -> int:
    """Measures and prints the agreement."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--logdir", required=True)
    parser.add_argument("--export", required=True)
    parser.add_argument("--csv", required=True)
    parser.add_argument("--sizes", type=int, nargs="+", default=[48, 200])
    parser.add_argument("--quality", type=int, default=90)
    args = parser.parse_args(argv)
    run = load_run(args.logdir)
    model, step, _ = load_model(run, "best")
    predict = make_predict_step(model, run.config.data.normalization)
    serve = tf.saved_model.load(args.export).signatures["serving_default"]
    source = read_table(run.config, args.csv, mapping=run.mapping)
    results = {}
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as folder:
            files = reencode(source.paths, folder, size, args.quality)
            table = ImageTable(args.csv, files, source.lines, source.labels, run.mapping)
            opencv = probabilities(
                predict_table(
                    predict, table, pipeline_settings(run.config, training=False), show_progress=False
                ).logits,
                run.config.optimization.loss,
            ).numpy()
            served = np.concatenate(
                [
                    serve(image_bytes=tf.constant([open(f, "rb").read() for f in files[i : i + 64]]))[
                        "probabilities"
                    ].numpy()
                    for i in range(0, len(files), 64)
                ]
            )
        agree = float((opencv.argmax(1) == served.argmax(1)).mean())
        results[f"{size}x{size * 3 // 4}"] = {
            "top1_agreement": round(agree, 4),
            "max_prob_diff": round(float(np.abs(opencv - served).max()), 4),
            "top1_opencv": round(float((opencv.argmax(1) == table.labels).mean()), 4),
            "top1_served": round(float((served.argmax(1) == table.labels).mean()), 4),
        }
        print(
            f"{size}x{size * 3 // 4} JPEG -> {run.config.data.image_size}px: {results[f'{size}x{size * 3 // 4}']}",
            flush=True,
        )
    print(json.dumps({"images": len(source), "run_image_size": run.config.data.image_size, "step": step, **results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
