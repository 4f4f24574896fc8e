"""Helpers for the notebooks of "Optimising feed-forward neural networks".

DTU, Deep learning hands-on, Lecture 2 (Ole Winther). The package is grouped by role; this is
its one module map (a test checks that it lists every module).

The network and its functions (``network``):

- ``network.functions``: relu, tanh, softmax, cross-entropy, one-hot, and the table of activations
- ``network.mlp``: the numpy network, its backward pass written by hand (the functions of
  notebook 04's exercises), and its torch twin
- ``network.initialisers``: weight initialisers and the variance each is built to have

Optimisers, schedules and training (``optim``):

- ``optim.optimizers``: one ``step(params, grads)`` for gradient descent, momentum, Adam, Newton,
...
- ``optim.schedules``: step-size schedules η_k = schedule(k)
- ``optim.trajectories``: cost surfaces (``Quadratic``) and an optimiser's trajectory on them
- ``optim.training``: mini-batches, the numpy training loop, ``History``, ``evaluate``
- ``optim.torch_training``: the torch training loop and the ``torch.optim`` twins (the one
  module that needs torch to import: every other module imports without it)

Analysis tools (``analysis``):

- ``analysis.tiny``: the lecture's small cost functions of two weights, with gradient and Hessian
- ``analysis.likelihood``: the likelihood criterion of a categorical model (notebook 01)
- ``analysis.gradcheck``: centred finite differences, relative errors, torch autograd side by side
- ``analysis.hessian``: critical points and their kind, exact network Hessians, random-matrix
saddles
- ``analysis.paths``: the gradient as a sum over paths against backprop's dynamic programming
- ``analysis.propagation``: forward signals and backward gradients layer by layer in a deep net
- ``analysis.gradient_noise``: how noisy a mini-batch gradient is (notebook 05)

Figures and widgets (``figures``):

- ``figures.plots``: the plot style, and the figures of cost surfaces and trajectories
- ``figures.likelihood_plots``: the figures of notebook 01: cross-entropy as entropy + KL, digits
- ``figures.propagation_plots``: the figures of notebook 07: signal profiles and layer histograms
- ``figures.training_plots``: the figures of training (04, 05): learning curves, schedules, noise
- ``figures.graph_figure``: a computational graph with forward values and backward gradients
- ``figures.explorer``: the optimiser explorer of notebook 03: pure figure and readout
- ``figures.live_figure``: one figure that follows its controls: the mechanism behind every slider
- ``figures.widgets``: thin ipywidgets wrappers around the pure figures

Data (``data``):

- ``data.mnist``: MNIST: verified IDX files, the cache folder, seeded train/validation/test splits
- ``data.idx``: the IDX file format of MNIST, parsed with every check spelled out

The exercises (``exercises``): coding exercises per notebook (``exercises.nbNN``) and the checks
that grade them (``exercises.core``).

Course tooling (``course``), apart from the lecture's mathematics:

- ``course.editions``: the student edition, generated from the complete notebooks
- ``course.browser_edition``: the browser edition (JupyterLite, no torch): the student edition
  with each cell tagged ``needs-torch`` shown (code and output) instead of run
- ``course.colab``: the Colab setup cell, the first code cell of every notebook
- ``course.environment``: the environment check of notebook 00 and ``python -m lecture_utils check``
- ``course.notebook``: what every notebook calls: ``setup`` (seeds, threads, style), ``show``
- ``course.threads``: the threads of numpy's BLAS and torch, from the CPUs the process may use
"""

__version__ = "0.1.0"
