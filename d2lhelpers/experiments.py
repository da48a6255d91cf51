"""The notebooks' training experiments, next to the training loop they use:
with and without batch normalization (02), why depth hurts without shortcuts
and ResNet v1 against v2 (03). They train with
:func:`d2lhelpers.train.training_steps` (``train_ch5``'s update, one
mini-batch at a time, on one device). Figures are ``Figure`` objects (shown
once as a cell's value) with Chinese titles and axes; legends are the labels
the caller passes.
"""
import itertools
import re

import pandas as pd
from matplotlib.figure import Figure
from mxnet import autograd, gluon
from mxnet.gluon import nn

from . import _gluon
from .checks import check_int, check_number
from .context import devices
from .train import evaluate_accuracy, training_steps

__all__ = ['convergence_curves', 'plot_convergence', 'conv_grad_norms',
           'train_losses', 'plot_grad_norms', 'plot_losses', 'depth_figure']

MAX_STEPS = 100000  # a few hours on a laptop CPU for the notebooks' networks

_COLORS = ('#c0392b', '#2e6da4', '#27ae60', '#8e44ad')  # red, blue, green, purple


# ------------------------------------------------- with / without BN
def convergence_curves(net, train_iter, test_iter, lr, num_steps, eval_every,
                       ctx=None, recorder=None):
    """Train ``net`` with plain SGD for ``num_steps`` mini-batches.

    The network must be initialized. Returns a DataFrame indexed by ``step``
    (1 .. num_steps) with the mini-batch's training ``loss`` and the
    ``test_acc`` on ``test_iter``, measured every ``eval_every`` steps and
    after the last one (NaN elsewhere). Starting again from ``train_iter``'s
    beginning when it runs out. ``recorder``: None or a callable
    ``recorder(step, net)``, called with step 0 before the first update and
    after each step's update, to look at the network while it trains (e.g.
    ``explorers.inside_batchnorm.PreactivationRecorder``).
    """
    check_number('lr', lr, 0)
    check_int('num_steps', num_steps, 1, MAX_STEPS)
    check_int('eval_every', eval_every, 1, MAX_STEPS)
    if recorder is not None and not callable(recorder):
        raise ValueError('recorder 应是 None 或一个函数 recorder(step, net)，收到的是 %s。'
                         % type(recorder).__name__)
    trainer = gluon.Trainer(net.collect_params(), 'sgd', {'learning_rate': lr})
    losses, accs = [], {}
    if recorder is not None:
        recorder(0, net)
    for step, l in itertools.islice(training_steps(net, train_iter, trainer, ctx),
                                    num_steps):
        losses.append(l)
        if recorder is not None:
            recorder(step, net)
        if step % eval_every == 0 or step == num_steps:
            accs[step] = evaluate_accuracy(test_iter, net, ctx)
    curves = pd.DataFrame({'loss': [l.asscalar() for l in losses]},
                          index=pd.RangeIndex(1, num_steps + 1, name='step'))
    curves['test_acc'] = pd.Series(accs, dtype=float)
    return curves


def plot_convergence(curves, smooth=10):
    """Loss (left) and test accuracy (right) of several runs against the step.

    ``curves``: ``{label: DataFrame from convergence_curves}``. The loss is
    drawn as it is (thin) and as a running mean over ``smooth`` steps.
    """
    smooth = check_int('smooth', smooth, 1, MAX_STEPS)
    fig = Figure(figsize=(10, 3.6))
    ax_loss, ax_acc = fig.subplots(1, 2, sharex=True)
    for (label, c), color in zip(curves.items(), itertools.cycle(_COLORS)):
        _curve(ax_loss, c['loss'], smooth, color, label)
        acc = c['test_acc'].dropna()
        ax_acc.plot(acc.index, acc.values, 'o-', color=color, label=label)
    ax_loss.set_title('训练损失（小批量，最近 %d 步的平均）' % smooth)
    ax_acc.set_title('测试准确率')
    ax_acc.set_ylim(0, 1)
    for ax in (ax_loss, ax_acc):
        ax.set_xlabel('迭代步数（小批量随机梯度下降）')
        ax.grid(True, alpha=0.3)
        ax.legend()
    fig.tight_layout()
    return fig


# ------------------------------------------------ depth and training curves
def conv_grad_norms(net, X, y, ctx=None):
    """L2 norm of the gradient of every convolution's weight, input side first.

    One forward and backward pass of the mean softmax cross-entropy loss on
    the fixed batch ``(X, y)`` in training mode (which also moves BatchNorm's
    running statistics a little); the parameters are not changed. Returns a
    pandas Series indexed 1, 2, ... in the order the forward pass runs the
    convolutions (1 = nearest the input).
    """
    ctx, = devices(ctx, one=True)
    X, y = X.as_in_context(ctx), y.as_in_context(ctx)
    convs = []

    def hook(block, inputs, output):
        if all(block is not c for c in convs):
            convs.append(block)

    handles = [b.register_forward_hook(hook)
               for b in [net] + [b for _, b in _gluon.walk(net)]
               if isinstance(b, nn.Conv2D)]
    loss = gluon.loss.SoftmaxCrossEntropyLoss()
    try:
        with autograd.record():
            l = loss(net(X), y).mean()
        l.backward()
    finally:
        for h in handles:
            h.detach()
    if not convs:
        raise ValueError('这个网络没有 Conv2D 层，没有卷积层的梯度可以测量。')
    norms = [c.weight.grad(ctx).norm().asscalar() for c in convs]
    return pd.Series(norms, index=pd.RangeIndex(1, len(norms) + 1, name='层'),
                     name='梯度范数')


def train_losses(net, train_iter, trainer, ctx=None, num_epochs=1,
                 max_steps=None):
    """Train ``net`` with softmax cross-entropy; return every batch's mean loss.

    ``num_epochs`` passes over ``train_iter`` (fewer if ``max_steps`` is
    given), through :func:`d2lhelpers.train.training_steps`. Returns a list
    of floats.
    """
    check_int('num_epochs', num_epochs, 1, 1000)
    num_steps = num_epochs * len(train_iter)
    if max_steps is not None:
        num_steps = min(num_steps, check_int('max_steps', max_steps, 1, MAX_STEPS))
    steps = itertools.islice(training_steps(net, train_iter, trainer, ctx), num_steps)
    return [l.asscalar() for _, l in steps]


def _curve(ax, values, window, color, label):
    """``values`` (by step, from 1) drawn faint, their running mean on top."""
    if not isinstance(values, pd.Series):
        values = pd.Series(list(values), index=range(1, len(values) + 1), dtype=float)
    ax.plot(values.index, values.values, color=color, alpha=0.25, lw=0.8)
    ax.plot(values.index, values.rolling(window, min_periods=1).mean().values,
            color=color, lw=2, label=label)


def _axes(ax, figsize=(5.5, 3.6)):
    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=figsize)  # not pyplot: shown once as a cell's value
    return fig, fig.add_subplot()


def plot_grad_norms(norms, ax=None, title='每个卷积层的梯度范数'):
    """Plot gradient norms per layer on a log scale; returns the Figure.

    ``norms``: ``{label: sequence or Series}``. Labels whose first word
    (before a space or a bracket) is the same share a colour; the first
    curve of each colour is solid, later ones dashed (``'普通网络 初始化时'``,
    ``'普通网络 训练后'``).
    """
    fig, ax = _axes(ax)
    colors = {}
    for label, values in norms.items():
        if not isinstance(values, pd.Series):
            values = pd.Series(list(values), index=range(1, len(values) + 1))
        key = re.split(r'[\s(（]', label, maxsplit=1)[0]
        style = '--' if key in colors else '-'
        color = colors.setdefault(key, _COLORS[len(colors) % len(_COLORS)])
        ax.semilogy(list(values.index), values.values, style, marker='.', color=color,
                    label=label)
    ax.set_xlabel('卷积层（1 = 离输入最近）')
    ax.set_ylabel('梯度范数（对数刻度）')
    ax.set_title(title)
    ax.grid(True, which='both', alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def plot_losses(losses, ax=None, title='训练损失', window=5, logy=False):
    """Plot per-batch training losses; returns the Figure.

    ``losses``: ``{label: list of floats}``, drawn faint, with their running
    mean over ``window`` batches on top. ``logy`` uses a
    log scale, so an early spike does not flatten the rest of the curves.
    """
    window = check_int('window', window, 1, MAX_STEPS)
    fig, ax = _axes(ax)
    for (label, values), color in zip(losses.items(), itertools.cycle(_COLORS)):
        _curve(ax, values, window, color, label)
    if logy:
        ax.set_yscale('log')
    ax.set_xlabel('迭代步数（小批量）')
    ax.set_ylabel('训练损失（对数刻度）' if logy else '训练损失')
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def depth_figure(norms, losses):
    """Gradient norms per layer (left) and training losses (right) in one Figure."""
    fig = Figure(figsize=(11, 3.8))
    left, right = fig.subplots(1, 2)
    plot_grad_norms(norms, ax=left)
    plot_losses(losses, ax=right)
    fig.tight_layout()
    return fig
