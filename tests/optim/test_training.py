"""lecture_utils.optim.training: the numpy training loop, its torch twin, evaluation helpers."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from lecture_utils.data.mnist import load_mnist
from lecture_utils.figures import training_plots
from lecture_utils.network.mlp import MLP, backprop
from lecture_utils.optim import training
from lecture_utils.optim.optimizers import GradientDescent, Momentum
from lecture_utils.optim.schedules import Constant, Exponential, Linear, StepDecay
from lecture_utils.optim.torch_training import train_torch
from lecture_utils.optim.training import (
    confusion_matrix,
    evaluate,
    minibatches,
    most_confident_errors,
    train,
)


@pytest.fixture(scope="module")
def small_mnist(mnist_dir: Path) -> tuple[np.ndarray, ...]:
    """5,000 training and 2,000 validation images of the 50k/10k split, the 10k test images."""
    d = load_mnist(mnist_dir, validation=10_000)
    return d.x_train[:5000], d.y_train[:5000], d.x_val[:2000], d.y_val[:2000], d.x_test, d.y_test


def toy_data(n: int = 300, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    return x, (x[:, 0] + x[:, 1] > 0).astype(np.int64)


def test_a_few_thousand_mnist_images_reach_93_percent(small_mnist: tuple) -> None:
    x, y, x_val, y_val, x_test, y_test = small_mnist
    model = MLP([784, 128, 10], rng=0)
    history = train(model, Momentum(0.2, 0.9), x, y, epochs=8, x_val=x_val, y_val=y_val,
                    schedule=Exponential(0.2, 0.5, every=400), progress=False)
    assert len(history.step_loss) == 8 * 50 and len(history.epoch_loss) == 8
    assert history.eval_step == list(range(0, 401, 50))
    assert history.train_loss[-1] < 0.05 < 2.0 < history.train_loss[0]
    assert history.val_accuracy[-1] > 0.92
    assert model.accuracy(x_test, y_test) > 0.93


def test_numpy_and_torch_loops_take_identical_steps(small_mnist: tuple) -> None:
    x, y, x_val, y_val, *_ = small_mnist
    model = MLP([784, 32, 10], rng=1, dtype=np.float64)
    net = model.to_torch()
    schedule = StepDecay(0.1, 0.5, every=30)
    ours = train(model, GradientDescent(0.1), x[:2000], y[:2000], epochs=2, schedule=schedule,
                 x_val=x_val, y_val=y_val, progress=False)
    theirs = train_torch(net, torch.optim.SGD(net.parameters(), lr=0.1), x[:2000], y[:2000],
                         epochs=2, schedule=schedule, x_val=x_val, y_val=y_val)
    np.testing.assert_allclose(ours.step_loss, theirs.step_loss, rtol=1e-10)
    np.testing.assert_allclose(ours.train_loss, theirs.train_loss, rtol=1e-10)
    assert ours.val_accuracy == theirs.val_accuracy
    assert ours.lr == theirs.lr == [schedule(k) for k in range(40)]


@pytest.mark.parametrize("optimizer", [GradientDescent(0.3), Momentum(0.3, 0.0)],
                         ids=["gradient descent", "momentum 0"])
def test_train_is_loss_and_grads_then_the_optimisers_step(optimizer: object) -> None:
    x, y = toy_data()
    model = MLP([4, 8, 2], rng=0, dtype=np.float64)
    start = model.copy()
    history = train(model, optimizer, x, y, epochs=2, batch_size=32, progress=False)
    replay, losses = start.copy(), []  # the same loop by hand: loss_and_grads, then θ - η g
    rng = np.random.default_rng(0)
    for _ in range(2):
        for xb, yb in minibatches(x.astype(np.float64), y, 32, rng=rng):
            loss, grads = replay.loss_and_grads(xb, yb)
            replay.params = [p - 0.3 * g for p, g in zip(replay.params, grads, strict=True)]
            losses.append(loss)
    np.testing.assert_allclose(history.step_loss, losses, rtol=1e-12)
    for a, b in zip(model.params, replay.params, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_train_leaves_the_callers_data_alone_and_trains_the_given_backward_pass() -> None:
    x, y = toy_data()
    x_before, y_before = x.copy(), y.copy()
    calls = []

    def counted(weights, activations, labels):
        calls.append(len(labels))
        return backprop(weights, activations, labels)

    train(MLP([4, 8, 2], rng=0, backward=counted), GradientDescent(0.3), x, y, batch_size=100,
          progress=False)
    assert calls == [100, 100, 100]
    np.testing.assert_array_equal(x, x_before)
    np.testing.assert_array_equal(y, y_before)


def test_same_seed_same_run_and_eval_every() -> None:
    x, y = toy_data()
    runs = [train(MLP([4, 8, 2], rng=0), GradientDescent(0.5), x, y, epochs=2, batch_size=32,
                  seed=3, eval_every=5, progress=False) for _ in range(2)]
    assert runs[0].step_loss == runs[1].step_loss
    assert runs[0].eval_step == [0, 5, 10, 15, 20]  # 10 batches per epoch, the last of 12
    assert runs[0].val_accuracy == []  # no validation set given
    other = train(MLP([4, 8, 2], rng=0), GradientDescent(0.5), x, y, epochs=2, batch_size=32,
                  seed=4, progress=False)
    assert other.step_loss != runs[0].step_loss


@pytest.mark.parametrize("loop", ["numpy", "torch"])
def test_seconds_count_the_updates_not_the_evaluations(loop: str,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """``History.seconds`` means the same in both loops: updates only, evaluations excluded."""
    real_evaluate, clock = training.evaluate, [0.0]

    def fake_perf_counter() -> float:  # a deterministic clock: 1 ms per reading
        clock[0] += 1e-3
        return clock[0]

    def slow_evaluate(*args, **kwargs):  # an evaluation takes 100 s on that clock
        clock[0] += 100.0
        return real_evaluate(*args, **kwargs)

    monkeypatch.setattr(training.time, "perf_counter", fake_perf_counter)  # both loops
    monkeypatch.setattr(training, "evaluate", slow_evaluate)
    x, y = toy_data(n=100)
    model = MLP([4, 8, 2], rng=0)
    if loop == "numpy":
        h = train(model, GradientDescent(0.1), x, y, batch_size=10, eval_every=1, progress=False)
    else:
        net = model.to_torch()
        h = train_torch(net, torch.optim.SGD(net.parameters(), lr=0.1), x, y, batch_size=10,
                        eval_every=1)
    assert len(h.eval_step) == 11
    assert 0 < h.seconds < 1  # 11 evaluations would add 1,100 s


def test_progress_bar_shows_running_loss(capsys: pytest.CaptureFixture[str]) -> None:
    x, y = toy_data()
    train(MLP([4, 3, 2]), GradientDescent(0.1), x, y, epochs=1, batch_size=10, progress=True)
    err = capsys.readouterr().err
    assert "epoch 1/1" in err and "loss=" in err and "30/30" in err


def test_evaluate_matches_model_loss_and_accuracy() -> None:
    x, y = toy_data(50)
    model = MLP([4, 6, 2], rng=2, dtype=np.float64)
    loss, acc = evaluate(model, x, y, chunk=7)
    assert loss == pytest.approx(model.loss(x, y), rel=1e-12)
    assert acc == model.accuracy(x, y)


def test_confusion_matrix_and_confident_errors() -> None:
    m = confusion_matrix(np.array([0, 0, 1, 2, 2]), np.array([0, 1, 1, 2, 0]), n_classes=3)
    np.testing.assert_array_equal(m, [[1, 1, 0], [0, 1, 0], [1, 0, 1]])
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.45, 0.55]])
    np.testing.assert_array_equal(most_confident_errors(probs, np.array([1, 1, 1, 0]), n=5),
                                  [0, 2, 3])


def test_bad_arguments() -> None:
    x, y = toy_data(20)
    model, opt = MLP([4, 2]), GradientDescent(0.1)
    with pytest.raises(ValueError, match="epochs must be an integer >= 1, got 0"):
        train(model, opt, x, y, epochs=0)
    with pytest.raises(ValueError, match="x_val and y_val must be given together"):
        train(model, opt, x, y, x_val=x)
    with pytest.raises(ValueError, match="one integer label per row"):
        train(model, opt, x, y[:5])
    with pytest.raises(ValueError, match="one integer label per row"):
        evaluate(model, x, y[:5])
    with pytest.raises(ValueError, match="same length"):
        confusion_matrix(y, y[:3])
    with pytest.raises(ValueError, match=r"labels must lie in 0..1"):
        confusion_matrix(y, y + 1, n_classes=2)


# ------------------------------------------------------------------ figures of a training run
def test_training_figures_have_titles_and_labels() -> None:
    x, y = toy_data()
    model = MLP([4, 8, 2], rng=0)
    history = train(model, GradientDescent(0.5), x, y, epochs=2, batch_size=50, x_val=x, y_val=y,
                    progress=False)
    figures = [
        training_plots.plot_learning_curves({"GD": history}, steps_per_epoch=6),
        training_plots.plot_schedules({"constant": Constant(0.1),
                                       "linear": Linear(0.1, 0.01, 10)}, 20, steps_per_epoch=5),
        training_plots.plot_weight_gallery({"init": np.zeros((5, 16)), "trained": np.ones((5, 16))},
                                  n_units=5, cols=3, image_shape=(4, 4)),
        training_plots.plot_confusion_matrix(confusion_matrix(y, model.predict(x), n_classes=2)),
        training_plots.plot_digits(x[:3, :4], ["a", "b", "c"], cols=2, title="digits"),
    ]
    for fig in figures[:2] + figures[3:4]:
        assert fig.axes[0].get_title() and fig.axes[0].get_ylabel()
        assert any(ax.get_xlabel() for ax in fig.axes)   # stacked panels: the bottom one's
    assert len(figures[2].axes) == 4            # two panels of tiles, each with its colour bar
    plt.close("all")


def test_weight_gallery_tiles_units_and_scales_each_as_asked() -> None:
    w = np.outer(np.arange(1.0, 71.0), np.linspace(-1, 1, 16))     # unit j: (j + 1) × a ramp
    w[0, 0] = 1e3                                                      # one outlier weight
    robust = training_plots.plot_weight_gallery({"W": w}, image_shape=(4, 4))
    image = robust.axes[0].images[0]
    assert image.get_array().shape == (4 * 4 + 3 * 2, 16 * 4 + 15 * 2)  # 64 units, 16 per row
    assert image.norm.vmax == -image.norm.vmin < 100                   # the outlier saturates
    unit = training_plots.plot_weight_gallery({"ΔW": w}, n_units=70, cols=10, image_shape=(4, 4),
                                              scale="unit", labels={"ΔW": "change ΔW"})
    tiles = unit.axes[0].images[0].get_array()
    assert tiles.shape == (7 * 4 + 6 * 2, 10 * 4 + 9 * 2)
    assert np.nanmax(np.abs(tiles[:4, 6:10])) == 1.0                  # unit 2 scaled to its max
    assert unit.axes[1].get_ylabel().startswith("change ΔW")
    with pytest.raises(ValueError, match="scale must be"):
        training_plots.plot_weight_gallery({"W": w}, image_shape=(4, 4), scale="max")
    plt.close("all")


def test_figure_helpers_reject_bad_input() -> None:
    with pytest.raises(ValueError, match=r"must have shape \(n_hidden, 784\)"):
        training_plots.plot_weight_gallery({"W": np.zeros((3, 10))})
    with pytest.raises(ValueError, match="square"):
        training_plots.plot_confusion_matrix(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="steps_per_epoch must be >= 1"):
        training_plots.plot_learning_curves({"run": object()}, steps_per_epoch=0)
    with pytest.raises(ValueError, match="same length"):
        training_plots.plot_digits(np.zeros((2, 784)), ["only one"])


# ----------------------------------------------------------------------------- mini-batches


def test_minibatches_600_of_100_new_permutation_each_epoch() -> None:
    x = np.arange(60000)
    rng = np.random.default_rng(0)
    epochs = [list(minibatches(x, x, rng=rng)) for _ in range(2)]
    for batches in epochs:
        assert len(batches) == 600 and all(len(bx) == 100 for bx, _ in batches)
        order = np.concatenate([bx for bx, _ in batches])
        np.testing.assert_array_equal(np.sort(order), x)
        assert all(np.array_equal(bx, by) for bx, by in batches)  # x and y stay paired
    assert not np.array_equal(epochs[0][0][0], epochs[1][0][0])


def test_minibatches_int_seed_is_reproducible() -> None:
    x = np.arange(10)
    first = [b for b, _ in minibatches(x, x, 3, rng=7)]
    again = [b for b, _ in minibatches(x, x, 3, rng=7)]
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))


@pytest.mark.parametrize(("drop_last", "sizes"), [(False, [100, 100, 50]), (True, [100, 100])])
def test_minibatches_last_partial_batch(drop_last: bool, sizes: list[int]) -> None:
    x = np.zeros((250, 784), np.float32)
    batches = list(minibatches(x, np.zeros(250), rng=0, drop_last=drop_last))
    assert [len(bx) for bx, _ in batches] == sizes and batches[0][0].shape == (100, 784)


def test_minibatches_without_shuffle_are_views_in_order() -> None:
    x = np.arange(7)
    batches = list(minibatches(x, x, 3, shuffle=False))
    assert [b.tolist() for b, _ in batches] == [[0, 1, 2], [3, 4, 5], [6]]
    assert np.shares_memory(batches[0][0], x)


@pytest.mark.parametrize(("args", "kwargs", "error", "message"), [
    ((np.zeros(5), np.zeros(4)), {"rng": 0}, ValueError, "same first dimension"),
    ((np.zeros(5), np.zeros(5), 0), {"rng": 0}, ValueError,
     "batch_size must be an integer >= 1, got 0"),
    ((np.zeros(5), np.zeros(5), 2.0), {"rng": 0}, TypeError, "batch_size must be an int"),
    ((np.zeros(5), np.zeros(5)), {}, ValueError, "rng is required when shuffle=True"),
    ((np.zeros(5), np.zeros(5)), {"rng": np.random.RandomState(0)}, TypeError,
     "rng must be a numpy.random.Generator or an int seed, got RandomState"),
])
def test_minibatches_errors_are_raised_at_call(args: tuple[object, ...], kwargs: dict[str, object],
                                               error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        minibatches(*args, **kwargs)  # type: ignore[arg-type]
