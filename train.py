"""Train a ResNet on images listed in CSV files, with TensorBoard logs, checkpoints and resume.

See ``python train.py --help``; the command line is :mod:`resnet_tf.commands.train`.
"""

from resnet_tf.commands.train import main, run

__all__ = ["main", "run"]  # train.main(argv) returns the status (in-process use); run() is the process

if __name__ == "__main__":
    run()
