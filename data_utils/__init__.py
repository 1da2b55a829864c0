"""data_utils: the CSV-driven image loader: image lists checked row by row (``csv_table``), decoded by one
contract (``images``), augmented (``augment``) and fed through ``tf.data`` (``pipeline``); and the tools
that make such lists: class folders to CSVs (``make_csv``), the synthetic demo data set (``demo``) and the same
objects as a sequence of tasks (``lifelong_demo``).

The submodules are imported by their own names (``from data_utils.csv_table import read_image_csv``); the
TensorFlow-free ones (``choices``, ``folders``, ``make_csv``) load without OpenCV or TensorFlow.
"""
