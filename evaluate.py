"""Score a trained run's checkpoint on a CSV: loss, top-1/top-5, per-class accuracy, confusion matrix.

See ``python evaluate.py --help``; the command line is :mod:`resnet_tf.commands.evaluate`.
"""

from resnet_tf.commands.evaluate import main, run

__all__ = ["main", "run"]  # evaluate.main(argv) returns the status (in-process use); run() is the process

if __name__ == "__main__":
    run()
