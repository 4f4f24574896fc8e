"""lecture_utils.network.mlp: hand-written backprop against torch autograd and finite
differences; returned arrays belong to the caller."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from lecture_utils.analysis.gradcheck import max_relative_error
from lecture_utils.network.functions import one_hot, softmax
from lecture_utils.network.mlp import (
    MLP,
    backprop,
    bias_grad,
    output_delta,
    relu_backward,
    weight_grad,
)

ARCHITECTURES = [[3, 2], [5, 4, 3], [7, 6, 5, 4], [10, 1, 3], [4, 8, 8, 8, 2], [784, 32, 10]]


def batch(model: MLP, n: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, model.sizes[0])).astype(model.dtype)
    return x, rng.integers(0, model.sizes[-1], size=n)


@pytest.mark.parametrize("sizes", ARCHITECTURES)
@pytest.mark.parametrize("seed", [0, 1])
def test_gradients_match_torch_autograd_float64(sizes: list[int], seed: int) -> None:
    model = MLP(sizes, rng=seed, dtype=np.float64)
    for p in model.params[1::2]:  # nonzero biases, so their gradients are tested too
        p[:] = np.random.default_rng(seed).normal(size=p.shape)
    x, y = batch(model, n=9, seed=seed)
    loss, grads = model.loss_and_grads(x, y)
    torch_loss, torch_grads = model.autograd_loss_and_grads(x, y)
    assert loss == pytest.approx(torch_loss, rel=1e-12)
    for name, g, tg in zip(model.names, grads, torch_grads, strict=True):
        assert g.dtype == np.float64
        np.testing.assert_allclose(g, tg, rtol=1e-10, atol=1e-14, err_msg=name)


def test_gradients_match_torch_float32_full_network() -> None:
    model = MLP([784, 256, 256, 10], rng=3)
    x, y = batch(model, n=100)
    loss, grads = model.loss_and_grads(x, y)
    torch_loss, torch_grads = model.autograd_loss_and_grads(x, y)
    assert loss == pytest.approx(torch_loss, rel=1e-5)
    for name, g, tg in zip(model.names, grads, torch_grads, strict=True):
        assert g.dtype == np.float32, name
        np.testing.assert_allclose(g, tg, rtol=1e-3, atol=1e-6, err_msg=name)


def test_gradients_match_centred_finite_differences() -> None:
    model = MLP([4, 5, 3, 3], rng=0, dtype=np.float64)
    for p in model.params[1::2]:  # zero biases put a unit exactly on the ReLU kink if all its
        p[:] = 0.1                # inputs are 0; finite differences are wrong there
    x, y = batch(model, n=6)
    grads = model.loss_and_grads(x, y)[1]
    eps = 1e-5  # balances truncation O(eps²) and rounding O(1e-16 / eps)
    for name, p, g in zip(model.names, model.params, grads, strict=True):
        numeric = np.empty_like(p)
        for i in np.ndindex(p.shape):
            old = p[i]
            p[i] = old + eps
            up = model.loss(x, y)
            p[i] = old - eps
            down = model.loss(x, y)
            p[i] = old
            numeric[i] = (up - down) / (2 * eps)
        assert max_relative_error(g, numeric) < 1e-7, name


def test_backward_is_the_four_functions_of_the_slide() -> None:
    model = MLP([6, 5, 4, 3], rng=2, dtype=np.float64)
    x, y = batch(model, n=7)
    model.forward(x)
    x0, h1, h2, z = model.activations
    _, W2, W3 = model.weights
    d3 = (softmax(z) - one_hot(y, 3, dtype=np.float64)) / 7   # δ(3) = (softmax(z) − Y)/N
    d2 = (d3 @ W3) * (h2 > 0)                                  # δ(2) = (δ(3) W(3)) ⊙ 1(h > 0)
    d1 = (d2 @ W2) * (h1 > 0)
    by_hand = [d1.T @ x0, d1.sum(0), d2.T @ h1, d2.sum(0), d3.T @ h2, d3.sum(0)]
    np.testing.assert_allclose(output_delta(z, y), d3, rtol=1e-15)
    np.testing.assert_allclose(relu_backward(d3, W3, h2), d2, rtol=1e-15)
    np.testing.assert_allclose(weight_grad(d2, h1), d2.T @ h1, rtol=1e-15)
    np.testing.assert_allclose(bias_grad(d2), d2.sum(0), rtol=1e-15)
    for name, a, b in zip(model.names, model.backward(y), by_hand, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-16, err_msg=name)


def test_fused_output_gradient_is_softmax_minus_one_hot_over_n() -> None:
    model = MLP([3, 4], rng=0, dtype=np.float64)
    x, y = batch(model, n=5)
    logits = model.forward(x)
    g_w, g_b = model.backward(y)
    delta = (model.predict_proba(x) - one_hot(y, 4, dtype=np.float64)) / 5
    np.testing.assert_allclose(g_b, delta.sum(axis=0), atol=1e-15)
    np.testing.assert_allclose(g_w, delta.T @ x, atol=1e-15)
    assert logits.shape == (5, 4)


def test_the_network_trains_on_the_backward_pass_it_is_given() -> None:
    calls = []

    def students_backprop(weights, activations, y):  # any function with backprop's signature
        calls.append(len(weights))
        return backprop(weights, activations, y)

    model = MLP([4, 3, 2], rng=0, dtype=np.float64, backward=students_backprop)
    x, y = batch(model, n=6)
    _, grads = model.loss_and_grads(x, y)
    assert calls == [2] and model.copy().backward_pass is students_backprop
    reference = MLP([4, 3, 2], rng=0, dtype=np.float64).loss_and_grads(x, y)[1]
    for a, b in zip(grads, reference, strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(TypeError, match="backward must be a function like backprop"):
        MLP([4, 3, 2], backward="mine")  # type: ignore[arg-type]


@pytest.mark.parametrize("sizes", ARCHITECTURES)
def test_returned_arrays_are_the_callers(sizes: list[int]) -> None:
    """A second call returns new arrays: gradients and activations kept from the first stay."""
    model = MLP(sizes, rng=4, dtype=np.float64)
    x, y = batch(model, n=11)
    _, grads = model.loss_and_grads(x, y)
    kept = [g.copy() for g in grads]
    acts, kept_acts = model.activations, [a.copy() for a in model.activations]
    logits = model.forward(x)
    kept_logits = logits.copy()
    x2, y2 = batch(model, n=11, seed=9)
    model.loss_and_grads(x2, y2)
    model.backward(y2)
    for a, b in [*zip(grads, kept, strict=True), *zip(acts, kept_acts, strict=True),
                 (logits, kept_logits)]:
        np.testing.assert_array_equal(a, b)


def test_no_function_changes_its_arguments() -> None:
    model = MLP([5, 4, 3, 2], rng=1, dtype=np.float64)
    x, y = batch(model, n=6)
    x_before, y_before = x.copy(), y.copy()
    params_before = [p.copy() for p in model.params]
    model.loss_and_grads(x, y)
    model.predict_proba(x)
    np.testing.assert_array_equal(x, x_before)
    np.testing.assert_array_equal(y, y_before)
    for p, q in zip(model.params, params_before, strict=True):
        np.testing.assert_array_equal(p, q)
    acts, weights = model.activations, model.weights
    args = [[a.copy() for a in acts], [w.copy() for w in weights], y.copy()]
    backprop(args[1], args[0], args[2])
    delta = output_delta(acts[-1].copy(), y)
    kept_delta = delta.copy()
    weight_grad(delta, acts[2]), bias_grad(delta), relu_backward(delta, weights[2], acts[2])
    np.testing.assert_array_equal(delta, kept_delta)
    for a, b in [*zip(args[0], acts, strict=True), *zip(args[1], weights, strict=True)]:
        np.testing.assert_array_equal(a, b)


def test_params_are_the_models_arrays_and_can_be_replaced() -> None:
    model = MLP([5, 4, 3, 2], rng=0)
    assert all(p is q for p, q in zip(model.params[0::2], model.weights, strict=True))
    assert all(p is q for p, q in zip(model.params[1::2], model.biases, strict=True))
    new = [np.full(p.shape, 0.5) for p in model.params]
    model.params = new  # what a training loop does with an optimiser's θ_{k+1}
    assert all(p.dtype == np.float32 and np.all(p == 0.5) for p in model.params)
    with pytest.raises(ValueError, match=r"W2 must have shape \(3, 4\)"):
        model.params = [new[0], new[1], new[0], new[3], new[4], new[5]]
    with pytest.raises(ValueError, match="list of 6 arrays"):
        model.params = new[:2]


def test_forward_is_the_slides_model_and_matches_torch() -> None:
    model = MLP([5, 4, 3, 2], rng=1, dtype=np.float64)
    x, _ = batch(model, n=3)
    w1, b1, w2, b2, w3, b3 = model.params
    h1 = np.maximum(w1 @ x.T + b1[:, None], 0)  # h(1) = relu(W(1) x + b(1)), one column per x
    h2 = np.maximum(w2 @ h1 + b2[:, None], 0)
    np.testing.assert_allclose(model.forward(x), (w3 @ h2 + b3[:, None]).T, rtol=1e-14)
    with torch.no_grad():
        np.testing.assert_allclose(model.to_torch()(torch.from_numpy(x)).numpy(), model.forward(x))


def test_activations_are_what_the_last_forward_computed() -> None:
    model = MLP([4, 3, 3, 2], rng=0)
    assert model.activations == []
    x, _ = batch(model, n=5)
    logits = model.forward(x)
    acts = model.activations
    assert [a.shape for a in acts] == [(5, 4), (5, 3), (5, 3), (5, 2)]
    assert acts[-1] is logits and acts[0] is x  # float32 input: the caller's own array
    assert np.all(acts[1] >= 0) and np.all(acts[2] >= 0)  # after the ReLU


def test_forward_returns_a_fresh_array_and_float32_stays_float32() -> None:
    model = MLP([4, 3, 2])
    x, _ = batch(model, n=2)
    first = model.forward(x)
    model.forward(2 * x)
    np.testing.assert_array_equal(first, model.forward(x))
    assert first is not model.forward(x)
    assert first.dtype == np.float32
    assert all(p.dtype == np.float32 for p in model.params)
    assert model.forward(x.astype(np.float64)).dtype == np.float32


def test_initialisation_shapes_names_and_scale() -> None:
    model = MLP([784, 256, 256, 10], rng=0)
    assert model.names == ["W1", "b1", "W2", "b2", "W3", "b3"]
    assert [p.shape for p in model.params] == [(256, 784), (256,), (256, 256), (256,), (10, 256),
                                               (10,)]
    assert model.n_params == 784 * 256 + 256 + 256 * 256 + 256 + 256 * 10 + 10
    assert model.weights[0] is model.params[0]
    assert np.std(model.params[0]) == pytest.approx(np.sqrt(2 / 784), rel=0.01)  # He
    glorot = MLP([784, 256, 10], init="glorot")
    assert np.abs(glorot.params[0]).max() <= np.sqrt(6 / (784 + 256))
    assert not np.any(model.params[1])
    np.testing.assert_array_equal(MLP([3, 2], rng=5).params[0],
                                  MLP([3, 2], rng=np.random.default_rng(5)).params[0])


def test_torch_twin_keeps_weights_and_dtype() -> None:
    for dtype, torch_dtype in [(np.float32, torch.float32), (np.float64, torch.float64)]:
        model = MLP([6, 5, 4, 3], rng=0, dtype=dtype)
        net = model.to_torch()
        assert [type(m).__name__ for m in net] == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]
        assert all(p.dtype == torch_dtype for p in net.parameters())
        back = MLP([6, 5, 4, 3], dtype=dtype).load_state([p.detach().numpy()
                                                         for p in net.parameters()])
        for p, q in zip(model.params, back.params, strict=True):
            np.testing.assert_array_equal(p, q)
        net[0].weight.data += 1  # the copies are independent
        assert not np.array_equal(net[0].weight.detach().numpy(), model.params[0])


def test_save_load_round_trip(tmp_path: Path) -> None:
    model = MLP([8, 6, 4], rng=4, dtype=np.float64)
    model.params[1][:] = 0.5
    path = tmp_path / "model.npz"
    model.save(path)
    with np.load(path, allow_pickle=False) as f:  # plain arrays only
        assert set(f.files) == {"format", "sizes", "W1", "b1", "W2", "b2"}
    loaded = MLP.load(path)
    assert loaded.sizes == (8, 6, 4) and loaded.dtype == np.float64
    for p, q in zip(model.params, loaded.params, strict=True):
        np.testing.assert_array_equal(p, q)
    x, _ = batch(model, n=3)
    np.testing.assert_array_equal(model.forward(x), loaded.forward(x))
    model.save(tmp_path / "no_suffix")  # written under exactly the name given
    assert MLP.load(tmp_path / "no_suffix").sizes == (8, 6, 4)
    assert sorted(q.name for q in tmp_path.iterdir()) == ["model.npz", "no_suffix"]


def test_failed_save_keeps_the_previous_model(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "model.npz"
    MLP([8, 6, 4], rng=1).save(path)
    before = path.read_bytes()

    def broken_savez(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        MLP([8, 6, 4], rng=2).save(path)
    assert path.read_bytes() == before
    assert [q.name for q in tmp_path.iterdir()] == ["model.npz"]  # no half-written leftovers


def test_load_rejects_inconsistent_files(tmp_path: Path) -> None:
    path = tmp_path / "bad.npz"
    np.savez(path, format=np.array(1), sizes=np.array([3, 2]), W1=np.zeros((2, 4)),
             b1=np.zeros(2))
    with pytest.raises(ValueError, match=r"W1 must have shape \(2, 3\)"):
        MLP.load(path)
    np.savez(path, format=np.array(1), sizes=np.array([3, 2]), W1=np.zeros((2, 3)))
    with pytest.raises(ValueError, match="lacks"):
        MLP.load(path)
    np.savez(path, weights=np.zeros(3))
    with pytest.raises(ValueError, match="not an MLP file"):
        MLP.load(path)


def test_load_state_copies_in_place_and_checks_shapes() -> None:
    model = MLP([3, 2])
    w = model.params[0]
    model.load_state([np.ones((2, 3)), np.ones(2)])
    assert model.params[0] is w and w.dtype == np.float32 and np.all(w == 1)
    with pytest.raises(ValueError, match="list of 2 arrays"):
        model.load_state([np.ones((2, 3))])
    with pytest.raises(ValueError, match=r"b1 must have shape \(2,\)"):
        model.load_state([np.ones((2, 3)), np.ones(3)])
    twin = model.copy()
    twin.params[0][:] = 0
    assert np.all(model.params[0] == 1)


def test_predict_accuracy_and_probabilities() -> None:
    model = MLP([5, 7, 3], rng=0, dtype=np.float64)
    x, _ = batch(model, n=25)
    proba = model.predict_proba(x)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-12)
    np.testing.assert_array_equal(model.predict(x), proba.argmax(axis=1))
    assert model.accuracy(x, proba.argmax(axis=1)) == 1.0
    assert model.accuracy(x, (proba.argmax(axis=1) + 1) % 3) == 0.0


@pytest.mark.parametrize(("sizes", "error", "match"), [
    ([784], ValueError, "at least an input and an output"),
    ([784, 0, 10], ValueError, r"sizes\[1\] must be >= 1, got 0"),
    ([784, 2.5, 10], TypeError, r"sizes\[1\] must be an int"),
    ("784-10", TypeError, "sequence of ints"),
])
def test_bad_sizes(sizes: object, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        MLP(sizes)  # type: ignore[arg-type]


def test_bad_arguments_name_the_parameter() -> None:
    with pytest.raises(ValueError, match="dtype must be float32 or float64"):
        MLP([3, 2], dtype=np.int32)
    with pytest.raises(ValueError, match="init must be"):
        MLP([3, 2], init="zeros")  # type: ignore[arg-type]
    model = MLP([4, 3, 2])
    with pytest.raises(RuntimeError, match="call forward"):
        model.backward(np.array([0]))
    with pytest.raises(ValueError, match=r"x must have shape \(N, 4\).*got shape \(2, 5\)"):
        model.forward(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="flatten"):
        model.forward(np.zeros((2, 2, 2)))
    model.forward(np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"y must have shape \(2,\)"):
        model.backward(np.array([0, 1, 1]))
    with pytest.raises(ValueError, match=r"labels in 0..1"):
        model.backward(np.array([0, 2]))
    with pytest.raises(TypeError, match="integer class labels"):
        model.backward(np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="one label per row"):
        model.accuracy(np.zeros((2, 4)), np.array([0]))


def test_repr() -> None:
    assert repr(MLP([3, 2])) == "MLP(sizes=[3, 2], dtype=float32, n_params=8)"
