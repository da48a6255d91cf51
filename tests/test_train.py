import math

import mxnet as mx
import pytest
from mxnet import gluon, init, nd
from mxnet.gluon import nn

from d2lhelpers import train
from d2lhelpers.data import load_data_fashion_mnist


def small_net():
    net = nn.Sequential()
    net.add(nn.Conv2D(8, kernel_size=3, activation='relu'),
            nn.MaxPool2D(pool_size=2, strides=2),
            nn.Dense(64, activation='relu'), nn.Dense(10))
    return net


def fit(net, ctx, lr=0.5, num_epochs=2, subset=2000, progress='text', **kwargs):
    mx.random.seed(0)
    train_iter, test_iter = load_data_fashion_mnist(
        100, subset=subset, test_subset=500)
    net.initialize(init=init.Xavier(), ctx=ctx, force_reinit=True)
    trainer = gluon.Trainer(net.collect_params(), 'sgd', {'learning_rate': lr})
    history = train.train_ch5(net, train_iter, test_iter, 100, trainer, ctx,
                              num_epochs, progress=progress, **kwargs)
    return history, test_iter


def test_tiny_net_learns_on_real_data(capsys):
    net = small_net()
    history, test_iter = fit(net, mx.cpu())
    assert [h['epoch'] for h in history] == [1, 2]
    assert history[-1]['loss'] < history[0]['loss']
    # Ten classes: chance is 0.1. Two epochs on 2,000 images reach ~0.7.
    assert history[-1]['test_acc'] > 0.5
    assert history[-1]['test_acc'] == pytest.approx(
        train.evaluate_accuracy(test_iter, net, mx.cpu()))
    lines = [l for l in capsys.readouterr().out.splitlines() if l.startswith('epoch')]
    assert len(lines) == 2
    # d2lzh's line format.
    assert lines[0].startswith('epoch 1, loss ') and ', train acc ' in lines[0]
    assert ', test acc ' in lines[0] and lines[0].endswith(' sec')


def test_data_parallel_on_two_cpu_contexts():
    ctxs = [mx.cpu(0), mx.cpu(1)]
    net = small_net()
    history, test_iter = fit(net, ctxs, num_epochs=2)
    assert history[-1]['test_acc'] > 0.4  # chance is 0.1
    # Parameters live on both devices and stayed identical.
    w = net[0].weight
    assert w.list_ctx() == ctxs
    assert (w.data(ctxs[0]) - w.data(ctxs[1]).as_in_context(ctxs[0])).abs().max().asscalar() == 0
    assert train.evaluate_accuracy(test_iter, net, ctxs) == pytest.approx(
        history[-1]['test_acc'])


def test_short_last_batch_across_devices():
    net = small_net()
    net.initialize(ctx=[mx.cpu(0), mx.cpu(1)])
    X, y = nd.zeros((1, 1, 28, 28)), nd.zeros((1,), dtype='int32')
    # One example cannot be split over two devices; it goes to the first.
    assert train.evaluate_accuracy([(X, y)], net, [mx.cpu(0), mx.cpu(1)]) in (0.0, 1.0)


def test_divergence_stops_with_a_sentence():
    with pytest.raises(train.TrainingDiverged) as err:
        fit(small_net(), mx.cpu(), lr=1e12, num_epochs=2, check_every=1)
    message = str(err.value)
    assert 'loss became nan' in message or 'loss became inf' in message
    assert 'learning rate (1e+12) is likely too high' in message
    assert err.value.history == []


class InterruptingIter:
    """Yields batches from ``inner`` and presses Ctrl-C in epoch 2."""

    def __init__(self, inner, at_epoch=2, at_batch=3):
        self.inner, self.epoch, self.at = inner, 0, (at_epoch, at_batch)

    def __len__(self):
        return len(self.inner)

    def __iter__(self):
        self.epoch += 1
        for i, batch in enumerate(self.inner, 1):
            if (self.epoch, i) == self.at:
                raise KeyboardInterrupt
            yield batch


def test_ctrl_c_returns_history_and_keeps_weights(capsys):
    mx.random.seed(0)
    train_iter, test_iter = load_data_fashion_mnist(100, subset=2000, test_subset=500)
    net = small_net()
    net.initialize(init=init.Xavier())
    trainer = gluon.Trainer(net.collect_params(), 'sgd', {'learning_rate': 0.5})
    history = train.train_ch5(net, InterruptingIter(train_iter, at_epoch=3), test_iter,
                              100, trainer, mx.cpu(), 5, progress='text')
    assert [h['epoch'] for h in history] == [1, 2]
    assert 'Training interrupted in epoch 3' in capsys.readouterr().out
    # The weights are the trained ones: accuracy is well above chance (0.1).
    assert train.evaluate_accuracy(test_iter, net) > 0.4
    assert math.isfinite(net[0].weight.data().sum().asscalar())


def test_notebook_progress_runs_without_a_browser(monkeypatch):
    # The live plot and bar go through IPython display handles; outside a
    # kernel they print, which is enough to run every line.
    history, _ = fit(small_net(), mx.cpu(), num_epochs=1, subset=500,
                     progress='notebook')
    assert len(history) == 1


def test_sync_points_are_few(monkeypatch):
    calls = []
    real = train._total
    monkeypatch.setattr(train, '_total', lambda sums: calls.append(1) or real(sums))
    train_iter, test_iter = load_data_fashion_mnist(50, subset=1000, test_subset=100)
    net = small_net()
    net.initialize()
    trainer = gluon.Trainer(net.collect_params(), 'sgd', {'learning_rate': 0.1})
    train.train_ch5(net, train_iter, test_iter, 50, trainer, mx.cpu(), 1,
                    progress='text', check_every=5)
    # 20 batches, a check every 5 (2 reads each), 2 at the end, 1 for the test
    # accuracy: far from d2lzh's two per batch.
    assert len(calls) == 4 * 2 + 2 + 1 < 2 * len(train_iter)


def test_empty_iterator_is_a_clear_error():
    net = small_net()
    net.initialize()
    with pytest.raises(ValueError, match='data iterator is empty'):
        train.evaluate_accuracy([], net)


def test_training_steps_cycles_through_epochs():
    import itertools
    train_iter, _ = load_data_fashion_mnist(50, subset=100, test_subset=100)
    net = small_net()
    net.initialize(init=init.Xavier())
    trainer = gluon.Trainer(net.collect_params(), 'sgd', {'learning_rate': 0.1})
    steps = list(itertools.islice(train.training_steps(net, train_iter, trainer), 5))
    # Two batches per epoch: the generator starts a new epoch by itself.
    assert [s for s, _ in steps] == [1, 2, 3, 4, 5]
    assert all(math.isfinite(l.asscalar()) for _, l in steps)


def test_training_steps_on_an_empty_iterator_is_a_clear_error():
    net = small_net()
    net.initialize()
    trainer = gluon.Trainer(net.collect_params(), 'sgd', {'learning_rate': 0.1})
    with pytest.raises(ValueError, match='training iterator is empty'):
        next(train.training_steps(net, [], trainer))
