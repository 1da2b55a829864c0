"""resnet_tf: ResNet-18/34/50/101/152 on low-level ``tf.nn`` ops, the TF2 port of a TF1 pipeline."""

from resnet_tf.keras_weights import load_keras_weights
from resnet_tf.model import LAYOUTS, STAGES, ResNet, probabilities
from resnet_tf.ops import BatchNorm, ConvOp, FcOp, avg_pool_op, global_avg_pool, max_pool_op
from resnet_tf.tf1_checkpoint import load_tf1_checkpoint

__all__ = ["ResNet", "STAGES", "LAYOUTS", "probabilities", "load_keras_weights", "load_tf1_checkpoint",
           "BatchNorm", "ConvOp", "FcOp", "avg_pool_op", "max_pool_op", "global_avg_pool"]
