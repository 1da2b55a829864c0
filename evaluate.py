"""Score a trained run's checkpoint on a CSV: loss, top-1/top-5, per-class accuracy, confusion matrix.

See ``python evaluate.py --help``; the command line is :mod:`resnet_tf.commands.evaluate`.
"""

import sys

from resnet_tf.commands.evaluate import main

if __name__ == "__main__":
    sys.exit(main())
