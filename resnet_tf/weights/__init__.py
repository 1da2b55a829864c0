"""resnet_tf.weights: weights made elsewhere, loaded into the network: Keras' ResNet ``.h5`` files
(``keras_h5``), checkpoints of the TF1 original (``tf1``), and Keras' ImageNet weights fetched once into
its cache (``imagenet``)."""
