"""lecture_utils.network.mlp: hand-written backprop against torch autograd and finite
differences."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from lecture_utils.analysis.gradcheck import max_relative_error
from lecture_utils.network.functions import one_hot
from lecture_utils.network.mlp import MLP
from lecture_utils.optim.optimizers import GradientDescent

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
    grads = [g.copy() for g in model.loss_and_grads(x, y)[1]]
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


def test_one_hot_targets_give_the_same_gradients_as_labels() -> None:
    model = MLP([6, 5, 4], rng=2, dtype=np.float64)
    x, y = batch(model, n=7)
    by_label = [g.copy() for g in model.loss_and_grads(x, y)[1]]
    targets = one_hot(y, 4, dtype=np.float64)
    loss, by_one_hot = model.loss_and_grads(x, targets)
    assert loss == pytest.approx(model.loss(x, y), rel=1e-13)
    by_torch = model.autograd_loss_and_grads(x, targets)[1]
    for a, b, c in zip(by_label, by_one_hot, by_torch, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-16)
        np.testing.assert_allclose(a, c, rtol=1e-10, atol=1e-16)


def test_fused_output_gradient_is_softmax_minus_one_hot_over_n() -> None:
    model = MLP([3, 4], rng=0, dtype=np.float64)
    x, y = batch(model, n=5)
    logits = model.forward(x)
    g_w, g_b = model.backward(y)
    delta = (model.predict_proba(x) - one_hot(y, 4, dtype=np.float64)) / 5
    np.testing.assert_allclose(g_b, delta.sum(axis=0), atol=1e-15)
    np.testing.assert_allclose(g_w, delta.T @ x, atol=1e-15)
    assert logits.shape == (5, 4)


@pytest.mark.parametrize("sizes", ARCHITECTURES)
@pytest.mark.parametrize("lr", [0.3, 0.0])
@pytest.mark.parametrize("targets", ["labels", "one-hot"])
def test_sgd_step_is_loss_and_grads_then_gradient_descent(sizes: list[int], lr: float,
                                                         targets: str) -> None:
    fused = MLP(sizes, rng=4, dtype=np.float64)
    plain = fused.copy()
    x, y = batch(fused, n=11)
    if targets == "one-hot":
        y = one_hot(y, sizes[-1], dtype=np.float64)
    grads_before = [g.copy() for g in fused.grads]
    loss = fused.sgd_step(x, y, lr)
    plain_loss, grads = plain.loss_and_grads(x, y)
    opt = GradientDescent(1.0)
    opt.lr = lr  # a schedule may set η = 0; the constructor asks for η > 0
    opt.step(plain.params, grads)
    assert loss == pytest.approx(plain_loss, rel=1e-14)
    for name, a, b in zip(fused.names, fused.params, plain.params, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15, err_msg=name)
    for before, after in zip(grads_before, fused.grads, strict=True):
        np.testing.assert_array_equal(before, after)  # sgd_step leaves grads alone


def test_sgd_step_updates_a_replaced_parameter_array() -> None:
    model = MLP([4, 3, 2], rng=0, dtype=np.float64)
    plain = model.copy()
    model.params[0] = model.params[0].copy()  # no longer a view of theta
    x, y = batch(model, n=6)
    model.sgd_step(x, y, 0.5)
    GradientDescent(0.5).step(plain.params, plain.loss_and_grads(x, y)[1])
    for a, b in zip(model.params, plain.params, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-13)


def test_params_are_views_of_theta_and_grads_lie_apart() -> None:
    model = MLP([5, 4, 3, 2], rng=0)
    assert model.theta.shape == (model.n_params,)
    flat = np.concatenate([p.ravel(order="K") for p in model.params])
    np.testing.assert_array_equal(flat, model.theta)
    assert all(np.shares_memory(p, model.theta) for p in model.params)
    assert not any(np.shares_memory(g, model.theta) for g in model.grads)
    model.theta[:] = 0
    assert all(not p.any() for p in model.params)


def test_forward_is_the_slides_model_and_matches_torch() -> None:
    model = MLP([5, 4, 3, 2], rng=1, dtype=np.float64)
    x, _ = batch(model, n=3)
    w1, b1, w2, b2, w3, b3 = model.params
    h1 = np.maximum(w1 @ x.T + b1[:, None], 0)  # h(1) = relu(W(1) x + b(1)), one column per x
    h2 = np.maximum(w2 @ h1 + b2[:, None], 0)
    np.testing.assert_allclose(model.forward(x), (w3 @ h2 + b3[:, None]).T, rtol=1e-14)
    with torch.no_grad():
        np.testing.assert_allclose(model.to_torch()(torch.from_numpy(x)).numpy(), model.forward(x))


def test_activations_are_the_read_only_cache_of_the_last_forward() -> None:
    model = MLP([4, 3, 3, 2], rng=0)
    with pytest.raises(RuntimeError, match="call forward"):
        model.activations  # noqa: B018
    x, _ = batch(model, n=5)
    logits = model.forward(x)
    acts = model.activations
    assert [a.shape for a in acts] == [(5, 4), (5, 3), (5, 3), (5, 2)]
    np.testing.assert_array_equal(acts[-1], logits)
    assert np.all(acts[1] >= 0) and np.all(acts[2] >= 0)  # after the ReLU
    with pytest.raises(ValueError, match="read-only"):
        acts[1][0, 0] = 1.0


def test_forward_returns_a_fresh_array_and_float32_stays_float32() -> None:
    model = MLP([4, 3, 2])
    x, _ = batch(model, n=2)
    first = model.forward(x)
    model.forward(2 * x)
    np.testing.assert_array_equal(first, model.forward(x))
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


def test_torch_round_trip_keeps_weights_and_dtype() -> None:
    for dtype, torch_dtype in [(np.float32, torch.float32), (np.float64, torch.float64)]:
        model = MLP([6, 5, 4, 3], rng=0, dtype=dtype)
        net = model.to_torch()
        assert [type(m).__name__ for m in net] == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]
        assert all(p.dtype == torch_dtype for p in net.parameters())
        back = MLP.from_torch(net)
        assert back.sizes == model.sizes and back.dtype == model.dtype
        for p, q in zip(model.params, back.params, strict=True):
            np.testing.assert_array_equal(p, q)
        net[0].weight.data += 1  # the copies are independent
        assert not np.array_equal(MLP.from_torch(net).params[0], model.params[0])


def test_from_torch_rejects_other_architectures() -> None:
    with pytest.raises(ValueError, match="Sequential"):
        MLP.from_torch(torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Tanh(),
                                           torch.nn.Linear(2, 2)))
    with pytest.raises(ValueError, match="do not connect"):
        MLP.from_torch(torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.ReLU(),
                                           torch.nn.Linear(4, 2)))
    with pytest.raises(ValueError, match="bias"):
        MLP.from_torch(torch.nn.Sequential(torch.nn.Linear(3, 2, bias=False)))


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
    with pytest.raises(ValueError, match="must hold 2 arrays"):
        model.load_state([np.ones((2, 3))])
    with pytest.raises(ValueError, match=r"b1 must have shape \(2,\)"):
        model.load_state([np.ones((2, 3)), np.ones(3)])
    twin = model.copy()
    twin.params[0][:] = 0
    assert np.all(model.params[0] == 1)


def test_predict_accuracy_and_probabilities() -> None:
    model = MLP([5, 7, 3], rng=0, dtype=np.float64)
    x, _ = batch(model, n=25)
    proba = model.predict_proba(x, batch_size=4)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-12)
    np.testing.assert_array_equal(model.predict(x, batch_size=7), proba.argmax(axis=1))
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
    theta = model.theta.copy()
    with pytest.raises(ValueError, match=r"lr must be finite and >= 0, got -0\.1"):
        model.sgd_step(np.zeros((2, 4)), np.array([0, 1]), -0.1)
    np.testing.assert_array_equal(model.theta, theta)


def test_repr() -> None:
    assert repr(MLP([3, 2])) == "MLP(sizes=[3, 2], dtype=float32, n_params=8)"
