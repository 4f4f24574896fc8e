"""The torch training loop (same batches and steps as numpy), its figures and its widget."""

from __future__ import annotations

import copy
from functools import partial

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from lecture_utils.data.mnist import load_mnist
from lecture_utils.figures import training_plots, widgets
from lecture_utils.network.mlp import MLP
from lecture_utils.optim import optimizers
from lecture_utils.optim.schedules import Constant
from lecture_utils.optim.torch_training import (
    DEFAULT_LR,
    LECTURE_OPTIMIZERS,
    torch_optimizers,
    train_many,
    train_torch,
)
from lecture_utils.optim.training import evaluate, train

N, D, K, B = 70, 12, 4, 16  # 16 does not divide 70: the last batch of an epoch holds 6


@pytest.fixture
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    return rng.normal(size=(N, D)), rng.integers(0, K, size=N)


@pytest.mark.parametrize("name", list(LECTURE_OPTIMIZERS))
def test_numpy_optimiser_and_its_torch_twin_take_the_same_steps(data, name):
    x, y = data
    key = LECTURE_OPTIMIZERS[name]
    lr = DEFAULT_LR[key] / 10 if key == "gd" else DEFAULT_LR[key]
    model = MLP([D, 8, K], rng=3, dtype=np.float64)
    net = model.to_torch()
    opt = optimizers.make_optimizer(key, lr=lr)
    history = train_torch(net, opt.to_torch(net.parameters()), x, y, epochs=3,
                          batch_size=B, seed=5, schedule=Constant(lr))
    expected = train(model, opt, x, y, epochs=3, batch_size=B, seed=5, progress=False)
    assert len(history.step_loss) == 3 * 5
    np.testing.assert_allclose(history.step_loss, expected.step_loss, rtol=1e-9)
    np.testing.assert_allclose(history.train_loss, expected.train_loss, rtol=1e-9)
    assert history.lr == expected.lr == [lr] * 15
    trained = [p.detach().numpy() for p in net.parameters()]
    for got, want in zip(trained, model.params, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-12)


def test_history_layout(data):
    x, y = data
    net = MLP([D, 8, K], rng=0, dtype=np.float64).to_torch()
    h = train_torch(net, torch.optim.SGD(net.parameters(), lr=0.05), x, y, epochs=2,
                    batch_size=B, x_val=x[:20], y_val=y[:20], eval_every=3)
    assert len(h.step_loss) == len(h.lr) == 10 and h.steps_per_epoch == 5
    np.testing.assert_allclose(h.epoch_loss, [np.mean(h.step_loss[:5]), np.mean(h.step_loss[5:])])
    assert h.eval_step == [0, 3, 5, 6, 9, 10]  # every 3 updates and at each epoch's end
    assert len(h.train_loss) == len(h.val_accuracy) == len(h.eval_step)
    assert h.train_loss[-1] == pytest.approx(evaluate(net, x, y)[0])
    assert h.val_accuracy[-1] == pytest.approx(evaluate(net, x[:20], y[:20])[1])
    assert h.seconds > 0


def test_evaluate_matches_the_numpy_model(data):
    x, y = data
    model = MLP([D, 8, K], rng=2, dtype=np.float64)
    loss, acc = evaluate(model.to_torch(), x, y, chunk=7)
    assert loss == pytest.approx(model.loss(x, y), rel=1e-12)
    assert acc == pytest.approx(model.accuracy(x, y))


def test_schedule_sets_every_step_size(data):
    x, y = data
    net = MLP([D, 8, K], rng=0, dtype=np.float64).to_torch()
    before = copy.deepcopy(net)
    h = train_torch(net, torch.optim.SGD(net.parameters(), lr=0.1), x, y, epochs=1,
                    batch_size=B, schedule=lambda k: 0.0)
    assert h.lr == [0.0] * 5
    for p, q in zip(net.parameters(), before.parameters(), strict=True):
        assert torch.equal(p, q)  # η = 0 freezes θ
    h = train_torch(net, torch.optim.SGD(net.parameters(), lr=0.1), x, y, epochs=2,
                    batch_size=B, schedule=lambda k: 0.1 / (1 + k))
    np.testing.assert_allclose(h.lr, [0.1 / (1 + k) for k in range(10)])


def test_train_many_starts_every_optimiser_from_the_same_weights(data):
    x, y = data
    net = MLP([D, 8, K], rng=0, dtype=np.float64).to_torch()
    before = copy.deepcopy(net)
    sgd = partial(torch.optim.SGD, lr=0.05)
    runs = train_many(net, {"a": sgd, "b": sgd, "adam": torch_optimizers(["Adam"])["Adam"]},
                      x, y, epochs=1, batch_size=B)
    for p, q in zip(net.parameters(), before.parameters(), strict=True):
        assert torch.equal(p, q)  # the given model is left untouched
    assert runs["a"].history.step_loss == runs["b"].history.step_loss
    assert runs["a"].history.step_loss[0] == runs["adam"].history.step_loss[0]
    assert runs["a"].history.step_loss[1:] != runs["adam"].history.step_loss[1:]
    assert runs["a"].model is not net and runs["a"].model is not runs["b"].model


def test_torch_optimizers_bind_scaled_step_sizes():
    facs = torch_optimizers(lr_scale=2.0, lr={"Adam": 0.5})
    assert list(facs) == list(LECTURE_OPTIMIZERS)
    assert facs["gradient descent"].keywords == {"lr": 2 * DEFAULT_LR["gd"]}
    assert facs["Adam"].keywords["lr"] == 0.5
    assert facs["Nesterov momentum"].keywords["nesterov"] is True
    params = [torch.zeros(3, requires_grad=True)]
    assert isinstance(facs["Adadelta"](params), torch.optim.Adadelta)


@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda: torch_optimizers(["adam"]), ValueError, "unknown optimiser"),
    (lambda: torch_optimizers(["momentum"], lr={"Adam": 1.0}), ValueError, "unknown optimiser"),
    (lambda: torch_optimizers(lr_scale=0), ValueError, "lr_scale must be > 0"),
    (lambda: optimizers.Newton().torch_twin(), TypeError, "got Newton"),
    (lambda: train_many(torch.nn.Linear(2, 2), {}, None, None), ValueError, "at least one"),
])
def test_bad_arguments_are_named(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"epochs": 0}, ValueError, "epochs must be an integer >= 1, got 0"),
    ({"batch_size": 2.5}, TypeError, "batch_size must be an integer >= 1, got 2.5"),
    ({"eval_every": 0}, ValueError, "eval_every must be an integer >= 1, got 0"),
    ({"x_val": np.zeros((2, D))}, ValueError, "x_val and y_val must be given together"),
    ({"y": np.zeros(N)}, ValueError, "one integer label per row"),
    ({"y": np.zeros(N - 1, dtype=int)}, ValueError, "one integer label per row"),
])
def test_bad_training_arguments_are_named(data, kwargs, error, match):
    x, y = data
    net = torch.nn.Linear(D, K)
    args = {"x": x, "y": y} | kwargs
    x, y = args.pop("x"), args.pop("y")
    with pytest.raises(error, match=match):
        train_torch(net, torch.optim.SGD(net.parameters(), lr=0.1), x, y, **args)


def test_adam_learns_mnist_in_one_epoch(mnist_dir):
    mnist = load_mnist(mnist_dir, validation=2000)
    net = MLP([784, 32, 10], rng=0).to_torch()
    h = train_torch(net, torch_optimizers(["Adam"])["Adam"](net.parameters()),
                    mnist.x_train[:10_000], mnist.y_train[:10_000], epochs=1,
                    x_val=mnist.x_val, y_val=mnist.y_val)
    assert h.val_accuracy[0] < 0.3 < 0.84 < h.val_accuracy[-1]
    assert h.train_loss[-1] < h.train_loss[0] / 4


def test_epoch_cost_and_annealing_figures(data):
    x, y = data
    net = MLP([D, 8, K], rng=0, dtype=np.float64).to_torch()
    runs = {b: train_many(net, {"SGD": partial(torch.optim.SGD, lr=0.1)}, x, y, batch_size=b,
                          eval_every=2)["SGD"].history for b in (5, 70)}
    fig = training_plots.plot_epoch_cost(runs)
    ax_loss, ax_time = fig.axes
    assert ax_loss.get_xscale() == "log" and ax_loss.texts[0].get_text() == "14 updates"
    np.testing.assert_allclose(ax_time.lines[0].get_ydata(), [h.seconds for h in runs.values()])
    np.testing.assert_allclose(ax_loss.lines[0].get_ydata(), [h.train_loss[-1] for h in
                                                              runs.values()])
    fig = training_plots.plot_loss_near_end({"a": runs[5]}, zoom=0.5, smooth=3)
    assert [line.get_label() for line in fig.axes[1].lines if not line.get_label().startswith(
        "_")] == ["a"]
    with pytest.raises(ValueError, match="zoom must be in"):
        training_plots.plot_loss_near_end({"a": runs[5]}, zoom=0)
    plt.close("all")


def test_comparison_widget_trains_on_button_press(data):
    x, y = data
    net = MLP([D, 8, K], rng=0, dtype=np.float64).to_torch()
    fig = widgets.optimizer_comparison_figure(net, x, y, x[:20], y[:20],
                                              names=["gradient descent", "Adam"],
                                              lr_scale=0.5, batch_size=B, epochs=2)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels[0].startswith("gradient descent (η = 0.05)")
    assert labels[1].startswith("Adam (η = 0.0005)")
    with pytest.raises(ValueError, match="names must list"):
        widgets.optimizer_comparison_figure(net, x, y, x, y, names=[])
    box = widgets.optimizer_comparison(net, x, y, x[:20], y[:20])
    names, controls = box.children[0].children
    button, status = controls.children[-1].children
    names.value = ("Nesterov momentum",)
    button.click()
    assert status.value == "done." and not button.disabled
    names.value = ()
    button.click()
    assert status.value.startswith("cannot run: names must list")
    plt.close("all")
