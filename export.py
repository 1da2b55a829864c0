"""Export a trained run as a SavedModel (and a TFLite file) that needs neither this project nor OpenCV.

See ``python export.py --help``; the command line is :mod:`resnet_tf.commands.export`.
"""

from resnet_tf.commands.export import main, run

__all__ = ["main", "run"]  # export.main(argv) returns the status (in-process use); run() is the process

if __name__ == "__main__":
    run()
