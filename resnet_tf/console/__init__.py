"""resnet_tf.console: what every command-line tool of the project shares, whatever it does: the parser's
form, the one log channel and its progress bars, the errors a user can fix and their exit status, and how
TensorFlow is started. Imports nothing else of the project, and no TensorFlow until a script runs."""
