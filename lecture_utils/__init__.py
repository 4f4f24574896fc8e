"""Helpers for the notebooks of "Optimising feed-forward neural networks".

DTU, Deep learning hands-on, Lecture 2 (Ole Winther). One module per idea:
``data`` (MNIST), ``functions`` (softmax, cross-entropy), ``likelihood`` (the training
criterion), ``tiny`` (the lecture's small cost functions), ``gradcheck``, ``optimizers``,
``mlp``, ``schedules``, ``training`` (numpy loop), ``torch_training``, ``gradient_noise``,
``hessian``, ``initialisers``, ``propagation`` (signals through depth),
``plots``, ``widgets``, ``notebook`` (the first cell of every notebook).
"""

__version__ = "0.1.0"
