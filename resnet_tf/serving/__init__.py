"""resnet_tf.serving: a trained run shipped and used on image files: the SavedModel module (``module``),
``export.py``'s work (``export_run``: SavedModel, TFLite and the files beside them, ``export_folder``) and
``predict.py``'s (``prediction``: files, folders and CSVs scored by a run or by its export)."""
