"""ResNet: the plain functions behind the notebook's explorer and experiments.

* :func:`residual_explorer` builds one ``Residual`` block from slider values
  and returns the output shape of every step (conv1, bn1, conv2, bn2, the
  shortcut, the block) with its diagram; when the main path and the shortcut
  cannot be added it raises ValueError with the notes' reason: a 1×1
  convolution is needed to change the shape of the shortcut.
* :func:`conv_grad_norms`, :func:`train_losses` and the two plotting
  functions run and show the experiment "why depth hurts without shortcuts"
  and the comparison of ResNet v1 and v2.
* :func:`residual_v2_paths` and :func:`draw_v1_vs_v2` draw a ResNet v2 block
  next to a v1 block with :mod:`d2lhelpers.diagram`.

Blocks are recognised by their children (``conv1``, ``bn1``, ``conv2``,
``bn2``, ``conv3``), not by class: the notebook defines its own ``Residual``
(the same code as ``d2lhelpers.models.Residual``, but a different class).
"""
import itertools

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from mxnet import autograd, gluon, nd
from mxnet.base import MXNetError
from mxnet.gluon import nn

from .. import diagram
from ..models.resnet import Residual
from ..shapes import param_count
from ..train import training_steps

__all__ = ['NEEDS_1X1', 'residual_steps', 'residual_explorer',
           'residual_v2_paths', 'draw_v1_vs_v2', 'conv_grad_norms',
           'train_losses', 'plot_grad_norms', 'plot_losses', 'depth_figure']

NEEDS_1X1 = ('a 1×1 convolution is needed to change the shape of the shortcut '
             '(use_1x1conv=True). 如果想改变通道数或高和宽，就需要引入一个额外的'
             '1×1卷积层来将输入变换成需要的形状后再做相加运算。')

STEPS = ('X (input)', 'conv1', 'bn1', 'conv2', 'bn2', 'shortcut', 'block')
COLUMNS = ['layer', 'output shape', 'params']


def _check_int(value, name, minimum=1):
    if isinstance(value, (bool, np.bool_)) or not isinstance(
            value, (int, np.integer)) or value < minimum:
        raise ValueError('%s must be a whole number of at least %d, got %r.'
                         % (name, minimum, value))


def _shape(x):
    return tuple(int(d) for d in x.shape)


def residual_steps(blk, X):
    """Output shape of every step of the residual block ``blk`` for input ``X``.

    ``blk`` is an initialized ``Residual`` (any block with children ``conv1``,
    ``bn1``, ``conv2``, ``bn2`` and ``conv3``, which may be None). The real
    ``blk.forward`` runs, with hooks recording what each layer returns.

    Returns a DataFrame indexed by step (``X (input)``, ``conv1``, ``bn1``,
    ``conv2``, ``bn2``, ``shortcut``, ``block``) with columns ``layer`` (a
    short label), ``output shape`` and ``params``. Raises ValueError, with
    the notes' reason, when the main path (``bn2``) and the shortcut do not
    have the same shape, so they cannot be added (NDArray broadcasting would
    sometimes add them anyway, e.g. 1 channel to 3 channels, and hide the
    mistake).
    """
    missing = [n for n in ('conv1', 'bn1', 'conv2', 'bn2', 'conv3')
               if not hasattr(blk, n)]
    if missing:
        raise ValueError('%s is not a residual block: it has no %s.'
                         % (type(blk).__name__, ', '.join(missing)))
    layers = {'conv1': blk.conv1, 'bn1': blk.bn1, 'conv2': blk.conv2,
              'bn2': blk.bn2}
    if blk.conv3 is not None:
        layers['shortcut'] = blk.conv3
    shapes, handles = {}, []
    for step, layer in layers.items():
        def hook(block, inputs, output, step=step):
            shapes[step] = _shape(output)
        handles.append(layer.register_forward_hook(hook))
    out, error = None, None
    try:
        with autograd.pause(train_mode=False):
            out = blk(X)
    except MXNetError as err:  # the addition failed; the shapes say why
        error = err
    finally:
        for h in handles:
            h.detach()
    shapes['X (input)'] = _shape(X)
    shapes.setdefault('shortcut', _shape(X))
    main, shortcut = shapes.get('bn2'), shapes['shortcut']
    if main != shortcut:
        raise ValueError(
            'The main path gives %s but the shortcut carries %s, so they '
            'cannot be added: %s' % (main, shortcut, NEEDS_1X1)) from error
    if error is not None:
        raise error
    shapes['block'] = _shape(out)
    labels = {step: diagram.layer_label(layer) for step, layer in layers.items()}
    labels.update({'X (input)': 'input', 'bn1': 'BatchNorm, ReLU',
                   'block': 'ReLU(Y + X)'})
    labels.setdefault('shortcut', 'identity')
    params = {step: param_count(layer) for step, layer in layers.items()}
    rows = [(labels[s], shapes[s], params.get(s, 0)) for s in STEPS]
    table = pd.DataFrame(rows, columns=COLUMNS,
                         index=pd.Index(STEPS, name='step'))
    table['params'] = table['params'].astype('int64')
    return table


def residual_explorer(num_channels=6, use_1x1conv=True, strides=2,
                      in_channels=3, size=6, batch_size=4, draw=True):
    """Build ``Residual(num_channels, use_1x1conv, strides)`` and show its steps.

    The input is a ``(batch_size, in_channels, size, size)`` batch. Returns
    ``(table, sentence)`` and, with ``draw``, the block's diagram as a third
    item: the table is :func:`residual_steps`, the sentence sums it up. Raises
    ValueError with a sentence for impossible combinations (channels or size
    change without the 1×1 convolution) and for values that are not positive
    whole numbers.
    """
    for name, value in (('num_channels', num_channels), ('strides', strides),
                        ('in_channels', in_channels), ('size', size),
                        ('batch_size', batch_size)):
        _check_int(value, name)
    blk = Residual(num_channels, use_1x1conv=bool(use_1x1conv), strides=strides)
    blk.initialize()
    X = nd.zeros((batch_size, in_channels, size, size))  # only shapes matter
    table = residual_steps(blk, X)
    sentence = ('Residual(%d, use_1x1conv=%s, strides=%d) maps %s to %s with '
                '%d parameters; the shortcut is %s.'
                % (num_channels, bool(use_1x1conv), strides,
                   table.loc['X (input)', 'output shape'],
                   table.loc['block', 'output shape'], param_count(blk),
                   'a 1×1 convolution' if blk.conv3 is not None else
                   'the identity'))
    if not draw:
        return table, sentence
    fig = diagram.draw_paths(title='Residual block', **diagram.residual_paths(blk))
    return table, sentence, fig


# ------------------------------------------------------------- ResNet v2
def residual_v2_paths(blk):
    """Diagram spec of a ``ResidualV2`` block (full pre-activation).

    Main path: ``bn1``, ReLU, ``conv1``, ``bn2``, ReLU, ``conv2``; shortcut:
    ``conv3`` or identity; then ``+`` and nothing after it, as in
    ``ResidualV2.forward``. Use with :func:`d2lhelpers.diagram.draw_paths`
    (``draw_paths(**spec)``) or ``draw_side_by_side``.
    """
    missing = [n for n in ('bn1', 'conv1', 'bn2', 'conv2', 'conv3')
               if not hasattr(blk, n)]
    if missing:
        raise ValueError('%s is not a ResidualV2 block: it has no %s.'
                         % (type(blk).__name__, ', '.join(missing)))
    label = diagram.layer_label
    main = [label(blk.bn1), 'ReLU', label(blk.conv1), label(blk.bn2), 'ReLU',
            label(blk.conv2)]
    shortcut = [label(blk.conv3)] if blk.conv3 is not None else []
    return dict(paths=[main, shortcut], merge='+', input_label='x',
                output_label='x + F(x)', frame='pre-activation\nresidual path',
                align='center')


def draw_v1_vs_v2(blk_v1, blk_v2):
    """A ``Residual`` block (left) next to a ``ResidualV2`` block (right)."""
    return diagram.draw_side_by_side([
        ('ResNet v1 block', diagram.residual_paths(blk_v1)),
        ('ResNet v2 block (pre-activation)', residual_v2_paths(blk_v2))])


# ------------------------------------------------ depth and training curves
def _as_ctx(ctx):
    return ctx[0] if isinstance(ctx, (list, tuple)) else ctx


def conv_grad_norms(net, X, y, ctx=None):
    """L2 norm of the gradient of every convolution's weight, input side first.

    One forward and backward pass of the mean softmax cross-entropy loss on
    the fixed batch ``(X, y)`` in training mode (which also moves BatchNorm's
    running statistics a little); the parameters are not changed. Returns a
    pandas Series indexed 1, 2, ... in the order the forward pass runs the
    convolutions (1 = nearest the input).
    """
    ctx = _as_ctx(ctx)
    if ctx is not None:
        X, y = X.as_in_context(ctx), y.as_in_context(ctx)
    convs, handles = [], []

    def hook(block, inputs, output):
        if all(block is not c for c in convs):
            convs.append(block)

    stack = [net]
    while stack:
        block = stack.pop()
        if isinstance(block, nn.Conv2D):
            handles.append(block.register_forward_hook(hook))
        stack.extend(block._children.values())
    loss = gluon.loss.SoftmaxCrossEntropyLoss()
    try:
        with autograd.record():
            l = loss(net(X), y).mean()
        l.backward()
    finally:
        for h in handles:
            h.detach()
    if not convs:
        raise ValueError('The network has no Conv2D layer whose gradient '
                         'could be measured.')
    norms = [c.weight.grad(X.context).norm().asscalar() for c in convs]
    return pd.Series(norms, index=pd.RangeIndex(1, len(norms) + 1, name='layer'),
                     name='gradient norm')


def train_losses(net, train_iter, trainer, ctx=None, num_epochs=1,
                 max_steps=None):
    """Train ``net`` with softmax cross-entropy; return every batch's mean loss.

    ``num_epochs`` passes over ``train_iter`` (fewer if ``max_steps`` is
    given), through ``d2lhelpers.train.training_steps``. Returns a list of floats.
    """
    num_steps = num_epochs * len(train_iter)
    if max_steps is not None:
        num_steps = min(num_steps, max_steps)
    steps = itertools.islice(training_steps(net, train_iter, trainer, _as_ctx(ctx)),
                             num_steps)
    return [l.asscalar() for _, l in steps]


_COLORS = ('#c0392b', '#2e6da4', '#27ae60', '#8e44ad')


def _axes(ax, figsize=(5.5, 3.6)):
    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=figsize)  # not pyplot: shown once as a cell's value
    return fig, fig.add_subplot()


def plot_grad_norms(norms, ax=None, title='Gradient norm per layer'):
    """Plot gradient norms per layer on a log scale; returns the Figure.

    ``norms``: ``{label: sequence or Series}``. Labels that end in
    ``'(init)'`` are drawn solid, others dashed, and labels starting with
    the same word share a colour (``'plain (init)'``, ``'plain (trained)'``).
    """
    fig, ax = _axes(ax)
    colors = {}
    for label, values in norms.items():
        if isinstance(values, pd.Series):
            index, values = list(values.index), values.values
        else:
            index = range(1, len(values) + 1)
        key = label.split()[0]
        color = colors.setdefault(key, _COLORS[len(colors) % len(_COLORS)])
        style = '-' if label.endswith('(init)') else '--'
        ax.semilogy(list(index), values, style, marker='.', color=color,
                    label=label)
    ax.set_xlabel('conv layer (1 = nearest the input)')
    ax.set_ylabel('gradient norm')
    ax.set_title(title)
    ax.grid(True, which='both', alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def _smooth(values, window):
    values = np.asarray(values, dtype=float)
    if window <= 1 or len(values) < window:
        return np.arange(1, len(values) + 1), values
    kernel = np.ones(window) / window
    return np.arange(window, len(values) + 1), np.convolve(values, kernel, 'valid')


def plot_losses(losses, ax=None, title='Training loss', window=5, logy=False):
    """Plot per-batch training losses; returns the Figure.

    ``losses``: ``{label: list of floats}``. The raw values are drawn faint
    and their moving average over ``window`` batches on top. ``logy`` uses a
    log scale, so an early spike does not flatten the rest of the curves.
    """
    fig, ax = _axes(ax)
    for i, (label, values) in enumerate(losses.items()):
        color = _COLORS[i % len(_COLORS)]
        ax.plot(range(1, len(values) + 1), values, color=color, alpha=0.25, lw=1)
        x, y = _smooth(values, window)
        ax.plot(x, y, color=color, lw=2, label=label)
    if logy:
        ax.set_yscale('log')
    ax.set_xlabel('batch')
    ax.set_ylabel('loss (log scale)' if logy else 'loss')
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
