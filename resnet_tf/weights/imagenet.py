"""``--pretrained imagenet``: Keras' ImageNet weights for ResNet-50/101/152, fetched once into Keras' cache.

The files are the ones ``tf.keras.applications.ResNet50(weights="imagenet", include_top=False)`` uses,
fetched the same way (``keras.utils.get_file`` into ``$KERAS_HOME/models``, default ``~/.keras/models``,
checked against Keras' published MD5). A file already in the cache is used as it is, so a machine
without internet can be given the file by hand. The ``_notop`` files hold no classifier: the head starts
from its own initialization, sized for the run's classes.
"""

from __future__ import annotations

import os

from resnet_tf.console.errors import UserError

BASE_URL = "https://storage.googleapis.com/tensorflow/keras-applications/resnet/"
# network -> MD5 of {network}_weights_tf_dim_ordering_tf_kernels_notop.h5, as keras.applications lists them
NOTOP_MD5 = {
    "resnet50": "4d473c1dd8becc155b73f8504c6f6626",
    "resnet101": "88cf7a10940856eca736dc7b7e228a21",
    "resnet152": "ee4c566cf9a93f14d82f913c2dc6dd0c",
}


class PretrainedUnavailable(UserError):
    """The pretrained weights are not in the cache and cannot be downloaded."""


def weights_file_name(arch: str) -> str:
    """The file name of Keras' ImageNet weights without the classifier for the network ``arch``."""
    return f"{arch}_weights_tf_dim_ordering_tf_kernels_notop.h5"


def cache_folder() -> str:
    """Where ``keras.utils.get_file`` keeps model files: ``$KERAS_HOME/models`` or ``~/.keras/models``."""
    return os.path.join(os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras"), "models")


def pretrained_weights(source: str, arch: str) -> str:
    """The local path of the ``source`` (``imagenet``) weights for the network ``arch``, downloading them into
    Keras' cache if they are not there. Raises PretrainedUnavailable, naming the file to put in the cache
    (or to pass to ``--init-from``), when the download fails."""
    if source != "imagenet" or arch not in NOTOP_MD5:
        raise PretrainedUnavailable(
            f"--pretrained {source}: there are ImageNet weights for {', '.join(NOTOP_MD5)} only, not for {arch}"
        )
    name = weights_file_name(arch)
    cached = os.path.join(cache_folder(), name)
    if os.path.isfile(cached):
        return cached
    import keras

    try:
        return keras.utils.get_file(name, BASE_URL + name, cache_subdir="models", file_hash=NOTOP_MD5[arch])
    except Exception as err:  # noqa: BLE001  get_file raises plain Exception for network errors
        raise PretrainedUnavailable(
            f"--pretrained {source}: cannot download {BASE_URL + name} ({str(err).splitlines()[0][:200]}). "
            f"Offline? Copy that file to {cached} (Keras' cache), or pass it as --init-from PATH.h5 "
            "with --normalization caffe"
        ) from None
