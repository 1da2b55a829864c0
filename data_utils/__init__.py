"""data_utils: the CSV-driven image input pipeline (OpenCV decode, tf.data) and the demo data set.

The names below are imported on first use (PEP 562), so that the TensorFlow-free submodules
(:mod:`data_utils.choices`, :mod:`data_utils.console`, :mod:`data_utils.errors`, for a script's ``--help``)
load without OpenCV and TensorFlow.
"""

from __future__ import annotations

import importlib
from typing import Any

_HOMES = {"ClassMapping": "csv_table", "ImageTable": "csv_table", "build_mapping": "csv_table",
          "read_image_csv": "csv_table", "DataError": "errors", "RowProblem": "errors", "UserError": "errors",
          "CHANNEL_ORDER": "images", "NORMALIZATIONS": "choices", "decode_image": "images", "normalize": "images",
          "PipelineConfig": "pipeline", "epoch_order": "pipeline", "eval_dataset": "pipeline",
          "steps_per_epoch": "pipeline", "train_dataset": "pipeline"}
__all__ = list(_HOMES)


def __getattr__(name: str) -> Any:
    """The public name ``name``, from the submodule that defines it."""
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
