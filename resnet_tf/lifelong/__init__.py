"""resnet_tf.lifelong: the lifelong-learning protocol, without TensorFlow: a sequence of tasks read from a tasks CSV, the strategies
that decide what each task trains on (one registered entry each), the replay memory, and the accuracy matrix
with the figures drawn from it (ACC, BWT, FWT)."""
