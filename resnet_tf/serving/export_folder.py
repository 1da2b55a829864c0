"""What an export folder holds besides the SavedModel, and how many classes its answers name: the names
``export.py`` writes and ``predict.py`` reads, without TensorFlow (``--help`` shows the default)."""

from __future__ import annotations

CLASS_NAMES_FILE = "class_names.txt"  # one class name per line, in class-index order
EXPORT_INFO_FILE = "export.json"      # image size, channel order, normalization, loss, checkpoint
TFLITE_FILE = "model.tflite"
DEFAULT_TOP_K = 5  # classes serving_default and predict.py name per image, at most, unless --top-k
