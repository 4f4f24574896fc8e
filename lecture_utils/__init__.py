"""Helpers for the notebooks of "Optimising feed-forward neural networks".

DTU, Deep learning hands-on, Lecture 2 (Ole Winther). One module per idea:

- ``data``: MNIST: verified IDX files, the cache folder, seeded train/validation/test splits
- ``idx``: the IDX file format of MNIST, parsed with every check spelled out
- ``functions``: relu, tanh, softmax, cross-entropy, one-hot, and the table of activations
- ``likelihood``: the likelihood criterion of a categorical model (notebook 01)
- ``gradcheck``: centred finite differences, relative errors, torch autograd side by side
- ``tiny``: the lecture's small cost functions of two weights, with gradient and Hessian
- ``optimizers``: one ``step(params, grads)`` for gradient descent, momentum, Adam, Newton, ...
- ``trajectories``: cost surfaces (``Quadratic``) and an optimiser's trajectory on them
- ``explorer``: the optimiser explorer of notebook 03: pure figure and readout
- ``hessian``: critical points and their kind, exact network Hessians, random-matrix saddles
- ``mlp``: the numpy network with backprop written by hand, and its torch twin
- ``blas``: ``out += a @ b`` in one call of the BLAS numpy uses (the fused gradient step)
- ``initialisers``: weight initialisers and the variance each is built to have (the one He draw)
- ``schedules``: step-size schedules η_k = schedule(k)
- ``training``: mini-batches, the loop both trainers share, ``History``, ``evaluate`` (no torch)
- ``torch_training``: that loop for torch models, and the ``torch.optim`` twins of the optimisers
- ``gradient_noise``: how noisy a mini-batch gradient is (notebook 05)
- ``paths``: the gradient as a sum over paths against backprop's dynamic programming
- ``propagation``: forward signals and backward gradients layer by layer in a deep net
- ``graph_figure``: a computational graph with forward values and backward gradients
- ``plots``: the plot style, and the figures of cost surfaces and trajectories
- ``likelihood_plots``: the figures of notebook 01: cross-entropy as entropy + KL, digits
- ``propagation_plots``: the figures of notebook 07: signal profiles and layer histograms
- ``training_plots``: the figures of training (04, 05): learning curves, schedules, errors, noise
- ``live_figure``: one figure that follows its controls: the mechanism behind every slider
- ``widgets``: thin ipywidgets wrappers around the pure figures
- ``exercises``: coding exercises and the checks that grade them
- ``editions``: the student edition, generated from the complete notebooks
- ``colab``: the Colab setup cell, the first code cell of every notebook
- ``environment``: the environment check of notebook 00 and ``python -m lecture_utils check``
- ``notebook``: what every notebook calls: ``setup`` (seeds, plot style), ``show`` (alt text)
"""

__version__ = "0.1.0"
