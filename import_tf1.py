"""Import a model trained by the original TF1 pipeline (a tf.train.Saver checkpoint) as a run of this port.

See ``python import_tf1.py --help``; the command line is :mod:`resnet_tf.commands.import_tf1`.
"""

from resnet_tf.commands.import_tf1 import main, run

__all__ = ["main", "run"]  # import_tf1.main(argv) returns the status (in-process use); run() is the process

if __name__ == "__main__":
    run()
