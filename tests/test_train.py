import math
import re

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
    # lr 0.2, not 0.5: on the embedded subset (a machine without the full
    # set: D2L_NO_SYSTEM_DATA=1) lr 0.5 kills the ReLUs and stays at chance.
    history, test_iter = fit(net, mx.cpu(), lr=0.2)
    assert [h['epoch'] for h in history] == [1, 2]
    assert history[-1]['loss'] < history[0]['loss']
    # Ten classes: chance is 0.1. Two epochs on 2,000 images reach ~0.63
    # (subset) to ~0.66 (full set).
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
    history, test_iter = fit(net, ctxs, lr=0.2, num_epochs=2)  # lr: as above
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
    assert '训练在第 1 个迭代周期的第 2 个批量停止' in message
    assert '网络已经发散。学习率（1e+12）很可能太大' in message
    assert err.value.history == [] and train.last_history == []


def test_a_loss_that_explodes_stops_before_it_is_nan():
    """lr 1e12 used to train on with losses of 5e12: finite, yet diverged."""
    with pytest.raises(train.TrainingDiverged) as err:
        fit(small_net(), mx.cpu(), lr=1e12, num_epochs=2, check_every=1)
    assert '超过了 10 × ln(类别数) = 23.0' in str(err.value)


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


def test_stop_raises_again_keeps_weights_and_history(capsys):
    """Stop during Run All must stop the run: the interrupt is raised again
    (so no later cell runs on a missing result) once the sentence is out."""
    mx.random.seed(0)
    train_iter, test_iter = load_data_fashion_mnist(100, subset=2000, test_subset=500)
    net = small_net()
    net.initialize(init=init.Xavier())
    trainer = gluon.Trainer(net.collect_params(), 'sgd', {'learning_rate': 0.1})
    with pytest.raises(KeyboardInterrupt):
        train.train_ch5(net, InterruptingIter(train_iter, at_epoch=3), test_iter,
                        100, trainer, mx.cpu(), 5, progress='text')
    assert '训练在第 3 个迭代周期（第 2/20 个批量，计划的第 42/100 步）被中断' in capsys.readouterr().out
    assert [h['epoch'] for h in train.last_history] == [1, 2]
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
    with pytest.raises(ValueError, match='数据迭代器是空的'):
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
    with pytest.raises(ValueError, match='训练数据迭代器 train_iter 里没有任何批量'):
        next(train.training_steps(net, [], trainer))


# ---------------------------------------------------- refused before training
def batches(labels, n=4):
    X = nd.random.uniform(shape=(len(labels), 1, 28, 28))
    return [(X, nd.array(labels))] * n


def net_with_outputs(k):
    net = nn.Sequential()
    net.add(nn.Conv2D(4, kernel_size=3), nn.Dense(k))
    net.initialize(init=init.Xavier())
    return net


@pytest.mark.parametrize('outputs, labels, words', [
    (5, list(range(10)), '网络输出 5 个类别的分数（类别 0 到 4），但第一个批量的标签在 0 到 9 '
                         '之间，说明数据至少有 10 个类别'),
    (1, list(range(10)), '网络输出 1 个类别的分数（类别 0 到 0），但第一个批量的标签在 0 到 9 '
                         '之间，说明数据至少有 10 个类别'),
    (10, [0, 3, -1, 2], '但第一个批量的标签在 -1 到 3 之间'),
])
def test_labels_outside_the_outputs_are_refused_on_the_first_batch(outputs, labels, words):
    net = net_with_outputs(outputs)
    data = batches(labels)
    net(data[0][0])
    before = net[1].weight.data().copy()
    trainer = gluon.Trainer(net.collect_params(), 'sgd', {'learning_rate': 0.1})
    with pytest.raises(ValueError, match=re.escape(words)):
        train.train_ch5(net, data, data, 10, trainer, mx.cpu(), 1, progress='off')
    assert (net[1].weight.data() == before).min().asscalar() == 1  # no step taken


def trainer_for(net, lr=0.1):
    return gluon.Trainer(net.collect_params(), 'sgd', {'learning_rate': lr})


@pytest.mark.parametrize('kwargs, words', [
    (dict(num_epochs=0), 'num_epochs 应在.*1.*收到的是 0'),
    (dict(num_epochs=-1), 'num_epochs 应在.*1.*收到的是 -1'),
    (dict(num_epochs=2.5), 'num_epochs 应是整数'),
    (dict(num_epochs='2'), 'num_epochs 应是整数'),
    (dict(num_epochs=None), '请给出 num_epochs（训练几个迭代周期）或 plan'),
    (dict(ctx=[]), 'ctx 是空的列表'),
    (dict(ctx='cpu'), r"ctx 应是 MXNet 的设备，例如 mx\.cpu\(\)"),
    (dict(ctx=mx.gpu(3)), r'这台机器上没有设备 gpu\(3\)，只有 cpu\(0\)'),
    (dict(lr=float('nan')), '学习率 trainer.learning_rate 应是有限的数，收到的是 nan'),
    (dict(lr=float('inf')), '学习率 trainer.learning_rate 应是有限的数，收到的是 inf'),
    (dict(train_iter=[]), '训练数据迭代器 train_iter 里没有任何批量'),
    (dict(progress='bar'), 'progress 应是'),
])
def test_bad_arguments_are_sentences(kwargs, words):
    net = net_with_outputs(10)
    data = batches(list(range(10)))
    args = dict(train_iter=data, ctx=mx.cpu(), num_epochs=1, lr=0.1, progress='off')
    args.update(kwargs)
    with pytest.raises(ValueError, match=words):
        train.train_ch5(net, args['train_iter'], data, 10, trainer_for(net, args['lr']),
                        args['ctx'], args['num_epochs'], progress=args['progress'])


def test_evaluate_accuracy_names_a_missing_device():
    net = net_with_outputs(10)
    with pytest.raises(ValueError, match=re.escape('没有设备 gpu(3)')):
        train.evaluate_accuracy(batches([0, 1]), net, mx.gpu(3))


def test_progress_tells_elapsed_and_remaining_time(monkeypatch, capsys):
    clock = [1000.0]
    monkeypatch.setattr(train.time, 'time', lambda: clock[0])
    progress = train.Progress('text', 20, 10)  # 20 steps, 10 batches an epoch
    clock[0] += 30  # 5 of 20 batches in 30 s: 90 s to go
    progress.batch(1, 5, 10, 5, 0.5, 0.8)
    line = capsys.readouterr().out
    assert line.startswith('  迭代周期 1/2：第 5/10 个批量，训练损失 0.5000，训练准确率 0.800')
    assert line.rstrip().endswith('已用 0:30，预计还需 1:30')
    clock[0] += 3600
    assert progress.times(15) == '已用 1:00:30，预计还需 20:10'


def test_notebook_bar_tells_the_times_too(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(train.time, 'time', lambda: clock[0])
    progress = train.Progress('notebook', 4, 4)
    shown = []
    monkeypatch.setattr(progress, '_bar', lambda done, text: shown.append((done, text)))
    clock[0] += 10
    progress.batch(1, 1, 4, 1, 2.3, 0.1)
    assert shown == [(0.25, '迭代周期 1/1：第 1/4 个批量，训练损失 2.3000，训练准确率 0.100，'
                            '已用 0:10，预计还需 0:30')]
    assert progress.points['训练损失'] == [(0.25, 2.3)]
    assert progress.ax.get_xlabel() == '迭代周期'


def test_live_plot_redraws_at_most_every_two_seconds(monkeypatch):
    """A redraw renders a PNG: 10-batch checks on a fast network must not
    redraw each time; every point is kept, and each epoch's end redraws."""
    clock = [1000.0]
    monkeypatch.setattr(train.time, 'time', lambda: clock[0])
    progress = train.Progress('notebook', 100, 100)
    draws = []
    monkeypatch.setattr(progress, '_draw', lambda: draws.append(clock[0]))
    for batch in range(10, 101, 10):  # ten checks, 0.3 s apart
        clock[0] += 0.3
        progress.batch(1, batch, 100, batch, 1.0, 0.5)
    assert len(progress.points['训练损失']) == 10
    assert draws == [pytest.approx(1002.1)]  # the first check 2 s after the start
    progress.epoch(dict(steps=100, test_acc=0.8))
    assert len(draws) == 2
