"""Train a ResNet on images listed in CSV files, with TensorBoard logs, checkpoints and resume.

See ``python train.py --help``; the command line is :mod:`resnet_tf.commands.train`.
"""

import sys

from resnet_tf.commands.train import main

if __name__ == "__main__":
    sys.exit(main())
