"""resnet_tf.console: what every command-line tool of the project shares, whatever it does: the parser's
form, the one log channel and its progress bars, the errors a user can fix and their exit status, and how
TensorFlow is started; and the file layer every path a user gives goes through, local or in object storage
(``files``); and the registries of named entries every room extends (``registry``). Imports nothing else of the project, and no TensorFlow until a script runs or a path names a
store."""
