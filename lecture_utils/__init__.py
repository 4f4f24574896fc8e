"""Helpers for the notebooks of "Optimising feed-forward neural networks".

DTU, Deep learning hands-on, Lecture 2 (Ole Winther). One module per idea:
``data`` (MNIST), ``functions`` (softmax, cross-entropy), ``tiny`` (the lecture's
small cost functions), ``gradcheck``, ``optimizers``, ``mlp``, ``plots``, ``widgets``.
"""

__version__ = "0.1.0"
