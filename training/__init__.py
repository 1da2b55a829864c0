"""training: the pieces behind ``train.py`` and ``evaluate.py`` (config, step, checkpoints, metrics)."""
