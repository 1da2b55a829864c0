"""resnet_tf.runs: a run folder and what every script makes of it: the configuration, settled in one place
(``settle``; a sequence's own part, ``sequence_settings``) from the options (``config``, ``choices``) and saved as ``config.json`` (``config_file``); its
checkpoints (``checkpoints``) and lock (``lock``); the one way from a run to its network, input settings and
checked tables (``builders``); and output folders written all at once (``staging``)."""
