"""Export a trained run as a SavedModel (and a TFLite file) that needs neither this project nor OpenCV.

See ``python export.py --help``; the command line is :mod:`resnet_tf.commands.export`.
"""

import sys

from resnet_tf.commands.export import main

if __name__ == "__main__":
    sys.exit(main())
