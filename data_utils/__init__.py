"""data_utils: the CSV-driven image input pipeline (OpenCV decode, tf.data) and the demo data set."""

from data_utils.csv_table import ClassMapping, ImageTable, build_mapping, read_image_csv
from data_utils.errors import DataError, RowProblem, UserError
from data_utils.images import CHANNEL_ORDER, NORMALIZATIONS, decode_image, normalize
from data_utils.pipeline import PipelineConfig, epoch_order, eval_dataset, steps_per_epoch, train_dataset

__all__ = ["ClassMapping", "ImageTable", "build_mapping", "read_image_csv", "DataError", "RowProblem", "UserError",
           "CHANNEL_ORDER", "NORMALIZATIONS", "decode_image", "normalize", "PipelineConfig", "epoch_order",
           "eval_dataset", "steps_per_epoch", "train_dataset"]
