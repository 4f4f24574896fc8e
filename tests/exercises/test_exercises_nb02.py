"""Notebook 02's exercises: the check's inputs reach the slides' slips, the references agree.

The shared harness (``test_exercise_checks.py``) runs the notebook's solutions, stubs and
mutants; these tests pin what it cannot see: that the inputs of ``tiny_i_gradient`` separate
the slide's indicator from the correct one, and that the recursion step composes to backprop.
"""

from __future__ import annotations

import numpy as np

from lecture_utils.analysis import paths, tiny
from lecture_utils.exercises import get, nb02


def test_the_tiny_i_inputs_catch_both_slips_of_the_slide() -> None:
    """Twice the slide's gradient is right for x > 0, wrong on the input with x < 0, w1 < 0."""
    wrong = []
    for case in get("tiny_i_gradient").inputs():
        w1, w2, x, y = case.args
        cost = tiny.TinyExampleI(x=x, y=y)
        want = nb02.tiny_i_gradient(*case.args)
        np.testing.assert_allclose(want, [-2 * (y - w2 * max(w1 * x, 0)) * w2 * (w1 * x > 0) * x,
                                          -2 * (y - w2 * max(w1 * x, 0)) * max(w1 * x, 0)])
        if not np.allclose(2 * cost.slide_grad(np.array([w1, w2])), want):
            wrong.append((x < 0, w1 < 0))
    assert wrong == [(True, True)]


def test_the_recursion_step_composes_to_backprop() -> None:
    """Chaining backprop_step from w_out down to x gives paths.backprop_gradient's ∂y/∂x."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=3)
    net = paths.random_net(3, [5, 4, 2], rng)
    h = [x]
    for W in net[:-1]:
        h.append(np.tanh(W @ h[-1]))
    delta = net[-1][0]
    for W, h_below in zip(reversed(net[:-1]), reversed(h[:-1]), strict=True):
        delta = nb02.backprop_step(delta, W, h_below)
    np.testing.assert_allclose(delta, paths.backprop_gradient(net, x, "tanh"), rtol=1e-12)


def test_the_weight_gradient_is_an_outer_product_with_off_diagonal_entries() -> None:
    rng = np.random.default_rng(4)
    W, h_prev, dC_dh = rng.normal(size=(3, 3)), rng.normal(size=3), rng.normal(size=3)
    grad = nb02.weight_gradient(dC_dh, W, h_prev)
    assert np.linalg.matrix_rank(grad) == 1 and np.all(grad[~np.eye(3, dtype=bool)] != 0)


def test_the_path_count_is_the_dynamic_programming_count() -> None:
    assert nb02.mnist_paths() == paths.count_paths_dp([256, 256]) == 256**2
