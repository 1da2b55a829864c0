"""resnet_tf.commands: the command line of every script (``train``, ``evaluate``, ``export``, ``predict``,
``import_tf1``): its usage, its options, parsed without TensorFlow so that ``--help`` prints at once, and
the room whose module does the work. The scripts at the project's top (``train.py``, ...) and the installed
commands (``resnet-tf-train``, ...) call the ``main`` of these modules; data tools that need no network
(``python -m data_utils.make_csv``, ``python -m data_utils.demo``) have theirs in ``data_utils``."""
