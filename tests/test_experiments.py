"""d2lhelpers.experiments: the training experiments of 02 and 03, without a UI."""
import matplotlib
matplotlib.use('Agg')

import d2lhelpers  # noqa: F401  (sets OMP_NUM_THREADS before mxnet loads)

import re

import mxnet as mx
import numpy as np
import pytest
from matplotlib.figure import Figure
from mxnet import gluon, init, nd
from mxnet.gluon import nn

from d2lhelpers import experiments as E
from d2lhelpers.models import PlainBlock, Residual, deep_cnn, lenet_gluon_bn


def tiny_data():
    rng = np.random.RandomState(0)
    X = rng.uniform(size=(48, 1, 28, 28)).astype(np.float32)
    y = rng.randint(0, 10, size=48).astype(np.int32)
    data = gluon.data.ArrayDataset(nd.array(X), nd.array(y, dtype='int32'))
    return (gluon.data.DataLoader(data, batch_size=16, shuffle=False),
            gluon.data.DataLoader(data, batch_size=16))


def small_net(block, num_blocks=3):
    mx.random.seed(0)
    net = deep_cnn(block, num_blocks, num_channels=4)
    net.initialize(init.Xavier())
    return net


def batch(n=8, seed=0):
    rng = np.random.RandomState(seed)
    return (nd.array(rng.uniform(size=(n, 1, 12, 12))),
            nd.array(rng.randint(0, 10, size=n)))


# ------------------------------------------------------- with/without BN
def test_convergence_curves_and_plot():
    train_iter, test_iter = tiny_data()
    net = lenet_gluon_bn()
    net.initialize(init=init.Xavier())
    curves = E.convergence_curves(net, train_iter, test_iter, lr=0.5,
                                  num_steps=7, eval_every=3)
    assert list(curves.index) == list(range(1, 8)) and curves.index.name == 'step'
    assert np.isfinite(curves['loss']).all()
    assert list(curves['test_acc'].dropna().index) == [3, 6, 7]  # 3 batches/epoch, cycled
    assert curves['test_acc'].dropna().between(0, 1).all()
    fig = E.plot_convergence({'有批量归一化': curves, '再一次': curves})
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    assert [l.get_text() for l in fig.axes[1].get_legend().get_texts()] == ['有批量归一化', '再一次']
    assert fig.axes[1].get_title() == '测试准确率'
    assert fig.axes[0].get_xlabel().startswith('迭代步数')


@pytest.mark.parametrize('kwargs, words', [
    (dict(num_steps=0), 'num_steps 应在 1 到 100000 之间'),
    (dict(eval_every=0), 'eval_every 应在'),
    (dict(num_steps=1.5), 'num_steps 应是整数'),
    (dict(num_steps=10 ** 6), 'num_steps 应在 1 到 100000 之间'),
    (dict(lr=float('nan')), 'lr 应是有限的数'),
    (dict(ctx=[]), 'ctx 是空的列表'),
    (dict(ctx=mx.gpu(3)), '这台机器上没有设备 gpu(3)，只有 cpu(0)'),
    (dict(ctx='cpu'), "ctx 应是 MXNet 的设备"),
])
def test_convergence_curves_rejects_bad_arguments(kwargs, words):
    train_iter, test_iter = tiny_data()
    net = lenet_gluon_bn()
    net.initialize()
    args = dict(lr=0.1, num_steps=2, eval_every=1)
    args.update(kwargs)
    with pytest.raises(ValueError, match=re.escape(words)):
        E.convergence_curves(net, train_iter, test_iter, **args)


# ------------------------------------------------ depth and training curves
def test_conv_grad_norms_one_per_conv_in_forward_order():
    net = small_net(Residual)
    X, y = batch()
    norms = E.conv_grad_norms(net, X, y)
    assert list(norms.index) == list(range(1, 1 + 1 + 2 * 3))
    assert (norms > 0).all()
    # the first entry is the stem convolution's gradient
    stem = net[0].weight.grad().norm().asscalar()
    assert norms.iloc[0] == pytest.approx(stem)
    last = net[-3].conv2.weight.grad().norm().asscalar()  # last block
    assert norms.iloc[-1] == pytest.approx(last)


def test_conv_grad_norms_do_not_change_the_weights():
    net = small_net(PlainBlock)
    X, y = batch()
    net(X)  # shapes are known after one forward pass
    before = net[0].weight.data().copy()
    E.conv_grad_norms(net, X, y)
    assert np.array_equal(before.asnumpy(), net[0].weight.data().asnumpy())


def test_conv_grad_norms_needs_a_conv_and_an_existing_device():
    net = nn.Sequential()
    net.add(nn.Dense(10))
    net.initialize()
    with pytest.raises(ValueError, match='没有 Conv2D 层'):
        E.conv_grad_norms(net, nd.zeros((2, 3)), nd.zeros((2,)))
    with pytest.raises(ValueError, match='没有设备 gpu'):
        E.conv_grad_norms(net, nd.zeros((2, 3)), nd.zeros((2,)), ctx=mx.gpu(3))


def test_train_losses_learns_a_fixed_batch_and_stops():
    net = small_net(Residual, num_blocks=1)
    trainer = gluon.Trainer(net.collect_params(), 'sgd', {'learning_rate': 0.1})
    batches = [batch()] * 30
    losses = E.train_losses(net, batches, trainer)
    assert len(losses) == 30 and all(np.isfinite(losses))
    assert np.mean(losses[-5:]) < np.mean(losses[:5])
    assert len(E.train_losses(net, batches, trainer, num_epochs=2, max_steps=7)) == 7
    assert len(E.train_losses(net, batches[:3], trainer, num_epochs=2)) == 6
    with pytest.raises(ValueError, match='max_steps 应在'):
        E.train_losses(net, batches, trainer, max_steps=0)


def test_plots_are_figures_with_chinese_labels():
    norms = {'普通网络 初始化时': [3.0, 2.0, 1.0], '普通网络 训练 5 步后': [1, 1, 1],
             '残差网络（初始化时）': [1.0, 1.0, 1.0]}
    fig = E.plot_grad_norms(norms)
    assert isinstance(fig, Figure)
    lines = fig.axes[0].get_lines()
    # One colour per network; its first curve solid, later ones dashed.
    assert lines[0].get_color() == lines[1].get_color() != lines[2].get_color()
    assert [l.get_linestyle() for l in lines] == ['-', '--', '-']
    assert fig.axes[0].get_ylabel() == '梯度范数（对数刻度）'
    assert isinstance(E.plot_losses({'a': list(np.linspace(2, 1, 20)), 'b': [2.0]}),
                      Figure)
    ax = E.plot_losses({'a': [3.0, 1.0]}, logy=True).axes[0]
    assert ax.get_yscale() == 'log' and ax.get_title() == '训练损失'
    fig = E.depth_figure(norms, {'普通网络': [2.3] * 10, '残差网络': [2.0] * 10})
    assert len(fig.axes) == 2
