"""Predict the classes of image files with a trained run or with its export.

See ``python predict.py --help``; the command line is :mod:`resnet_tf.commands.predict`.
"""

import sys

from resnet_tf.commands.predict import main

if __name__ == "__main__":
    sys.exit(main())
