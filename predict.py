"""Predict the classes of image files with a trained run or with its export.

See ``python predict.py --help``; the command line is :mod:`resnet_tf.commands.predict`.
"""

from resnet_tf.commands.predict import main, run

__all__ = ["main", "run"]  # predict.main(argv) returns the status (in-process use); run() is the process

if __name__ == "__main__":
    run()
