"""resnet_tf.evaluation: a network scored on a table of images: the predictions of every row
(``predictions``), what they score (``metrics``), the reports and plots a validation shows (``val_report``,
``plots``), and the work behind ``evaluate.py`` (``evaluate_run``; for a sequence of tasks
``sequence_results``)."""
