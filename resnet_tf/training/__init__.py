"""resnet_tf.training: the training loop and what it owns: the step (``step``), the learning-rate schedule
(``schedule``), the weight average (``averaging``), the trained and checkpointed state (``state``), the loop
and its decision to stop (``loop``), what it watches and writes (``monitor``, ``events``, ``history``,
``profiling``), signals and several workers (``signals``, ``distribution``), and the work behind ``train.py``
(``run``, ``data``) and ``import_tf1.py`` (``tf1_import``)."""
