"""What an export folder holds besides the SavedModel, and how many classes its answers name: the files
``export.py`` writes beside the model and ``predict.py`` reads, without TensorFlow (``--help`` shows the
default). ``export.json`` holds the class names as a JSON list, so that any name reads back as it is;
``class_names.txt`` lists them for a person, one per line (a control character in a name shown as its
escape, as on the console)."""

from __future__ import annotations

import json
import os

from resnet_tf.console import files
from resnet_tf.console.errors import ConfigError, writing
from resnet_tf.console.logs import printable

CLASS_NAMES_FILE = "class_names.txt"  # one class name per line, in class-index order
EXPORT_INFO_FILE = "export.json"  # image size, channel order, normalization, loss, checkpoint, class names
TFLITE_FILE = "model.tflite"
DEFAULT_TOP_K = 5  # classes serving_default and predict.py name per image, at most, unless --top-k


def write_export_files(folder: str, info: dict) -> None:
    """``export.json`` (``info``, its ``class_names`` included) and ``class_names.txt`` in ``folder``."""
    texts = {
        CLASS_NAMES_FILE: "".join(f"{printable(name)}\n" for name in info["class_names"]),
        EXPORT_INFO_FILE: json.dumps(info, indent=2, ensure_ascii=False),
    }
    for name, text in texts.items():
        path = os.path.join(folder, name)
        with writing(path):
            files.write_atomic(path, text)


def read_class_names(folder: str) -> list[str]:
    """The class names of an export folder, in class-index order; a ConfigError when ``folder`` is not an
    export of this project."""
    path = os.path.join(folder, EXPORT_INFO_FILE)
    try:
        names = json.loads(files.read_bytes(path))["class_names"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ConfigError(
            f"{folder} is not an export of this project ({EXPORT_INFO_FILE}: {type(err).__name__}: {err})"
        ) from None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ConfigError(f"{path}: class_names is not a list of names")
    return names
