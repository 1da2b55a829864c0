"""resnet_tf.training: the training loop and what it owns: the step (``step``), the learning-rate schedule
(``schedule``), the weight average (``averaging``), the trained and checkpointed state (``state``), the loop
and its decision to stop (``loop``), what it watches and writes (``monitor``, ``events``, ``history``,
``profiling``), signals and several workers (``signals``, ``distribution``), the work behind ``train.py``
(``run``, ``data``; for a sequence of tasks ``sequence``, ``task_run``, ``sequence_report``) and
``import_tf1.py`` (``tf1_import``)."""
