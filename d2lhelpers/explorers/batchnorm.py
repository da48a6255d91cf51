"""Batch normalization: how noisy mini-batch statistics are, and how the
moving averages used in prediction mode follow them.

The explorer treats Fashion-MNIST images as the input of a one-channel
batch-normalization layer: each mini-batch of ``m`` images gives one mean and
one variance over its ``m x 28 x 28`` pixels (the convolutional case of the
notes with ``p = q = 28``). The moving averages follow the update rule of the
notes' ``batch_norm`` in training mode, starting at 0 like the from-scratch
layer (``tests/test_explorer_batchnorm.py`` checks that the numbers agree with
``BatchNorm`` fed the same batches). The statistics come from per-image sums
of pixels and squared pixels (exact for uint8 images), so a redraw takes a
fraction of a second even for the 60,000 training images.

``convergence_curves`` and ``plot_convergence`` back the with/without-BN
comparison of the notebook.
"""
import collections
import itertools
import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from mxnet import autograd, gluon, nd

from ..train import evaluate_accuracy, training_steps

__all__ = ['pixel_statistics', 'shuffled_batches', 'batch_statistics', 'relative_gaps',
           'plot_batch_statistics', 'momentum_summary', 'batch_statistics_view',
           'convergence_curves', 'plot_convergence']

BatchStatistics = collections.namedtuple(
    'BatchStatistics', ['table', 'data_mean', 'data_var', 'batch_size',
                        'momentum', 'pixels_per_batch'])
BatchStatistics.__doc__ = """What :func:`batch_statistics` measured.

``table`` has one row per mini-batch (index ``batch`` = 1, 2, ...) and the
columns ``batch_mean``, ``batch_var`` (that mini-batch's statistics) and
``moving_mean``, ``moving_var`` (the moving averages after it).
``data_mean`` and ``data_var`` are the statistics of all pixels of the data
set; ``pixels_per_batch`` is ``m x H x W``."""


def _as_images(images):
    """``images`` as ``(N, H, W)`` and the factor that scales them: 1/255 for
    uint8 pixels (kept as uint8), 1 for anything else (as float64)."""
    if isinstance(images, nd.NDArray):
        images = images.asnumpy()
    images = np.asarray(images)
    if images.ndim == 4 and images.shape[1] == 1:
        images = images[:, 0]
    if images.ndim != 3 or images.shape[0] == 0:
        raise ValueError('images must be a non-empty array of shape (N, H, W) '
                         'or (N, 1, H, W), got shape %s.' % (images.shape,))
    if images.dtype == np.uint8:
        return images, 1 / 255
    return images.astype(np.float64, copy=False), 1.0


def _image_sums(images):
    """Per-image sums of pixels and of squared pixels (float64, [0, 1] scale),
    and the number of pixels per image. From uint8 the sums are exact."""
    images, scale = _as_images(images)
    flat = images.reshape(images.shape[0], -1)
    if images.dtype == np.uint8:
        s1 = flat.sum(axis=1, dtype=np.int64).astype(np.float64) * scale
        sq = flat.astype(np.int32)
        s2 = np.einsum('ij,ij->i', sq, sq, dtype=np.int64).astype(np.float64) * scale ** 2
    else:
        flat = flat.astype(np.float64)
        s1, s2 = flat.sum(axis=1), np.einsum('ij,ij->i', flat, flat)
    return s1, s2, flat.shape[1]


def _mean_var(s1, s2, count):
    mean = s1.sum() / count
    return float(mean), float(max(s2.sum() / count - mean ** 2, 0.0))


def pixel_statistics(images):
    """Mean and variance of all pixels of ``images`` (two floats).

    uint8 images are scaled to [0, 1] first, as the data loader does.
    """
    s1, s2, pixels = _image_sums(images)
    return _mean_var(s1, s2, len(s1) * pixels)


def _check_batch_settings(n, batch_size, momentum, num_batches):
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
        raise ValueError('batch_size must be a whole number, got %r.' % (batch_size,))
    if not 1 <= batch_size <= n:
        raise ValueError('batch_size must be between 1 and %d (the number of '
                         'images), got %d.' % (n, batch_size))
    if isinstance(num_batches, bool) or not isinstance(num_batches, (int, np.integer)) \
            or num_batches < 1:
        raise ValueError('num_batches must be a whole number of at least 1, '
                         'got %r.' % (num_batches,))
    if not 0 <= momentum < 1:
        raise ValueError(
            'momentum must be at least 0 and below 1, got %g: with momentum 1 '
            'the moving averages would keep their initial values forever, and '
            'above 1 or below 0 they are not averages.' % momentum)


def shuffled_batches(n, batch_size, num_batches, seed=0):
    """``num_batches`` sorted index arrays of ``batch_size`` out of ``range(n)``.

    Shuffled epochs: each index at most once per epoch; when fewer than
    ``batch_size`` are left, a new shuffled epoch starts. Fixed by ``seed``.
    """
    rng = np.random.RandomState(seed)
    order, start = rng.permutation(n), 0
    for _ in range(num_batches):
        if start + batch_size > n:  # drop the short rest, start a new epoch
            order, start = rng.permutation(n), 0
        yield np.sort(order[start:start + batch_size])
        start += batch_size


def batch_statistics(images, batch_size=64, momentum=0.9, num_batches=100,
                     seed=0):
    """Per-batch pixel statistics of random mini-batches of ``images`` and the
    moving averages that the notes' ``batch_norm`` would keep.

    Parameters
    ----------
    images : array (N, H, W) or (N, 1, H, W)
        uint8 pixels (scaled to [0, 1]) or floats, e.g. Fashion-MNIST's
        training images.
    batch_size : int
        ``m``, images per mini-batch.
    momentum : float in [0, 1)
        As in ``batch_norm``: ``moving = momentum * moving + (1 - momentum) *
        batch statistic``. The moving averages start at 0, like the
        from-scratch ``BatchNorm`` (Gluon's ``nn.BatchNorm`` starts its moving
        variance at 1).
    num_batches : int
        How many mini-batches to feed. Batches are drawn without replacement
        within an epoch; when the images run out a new shuffled epoch starts.
    seed : int
        Fixes the batches.

    Returns
    -------
    BatchStatistics
    """
    s1, s2, pixels = _image_sums(images)
    n = len(s1)
    _check_batch_settings(n, batch_size, momentum, num_batches)
    data_mean, data_var = _mean_var(s1, s2, n * pixels)
    moving_mean = moving_var = 0.0  # as in the from-scratch BatchNorm
    rows = []
    for idx in shuffled_batches(n, batch_size, num_batches, seed):
        mean, var = _mean_var(s1[idx], s2[idx], len(idx) * pixels)
        # The update of batch_norm in training mode (the tests check they agree).
        moving_mean = momentum * moving_mean + (1.0 - momentum) * mean
        moving_var = momentum * moving_var + (1.0 - momentum) * var
        rows.append((mean, var, moving_mean, moving_var))
    table = pd.DataFrame(rows, columns=['batch_mean', 'batch_var',
                                        'moving_mean', 'moving_var'],
                         index=pd.RangeIndex(1, num_batches + 1, name='batch'))
    return BatchStatistics(table, data_mean, data_var, int(batch_size),
                           float(momentum), int(batch_size) * pixels)


def relative_gaps(stats):
    """DataFrame ``mean_gap``, ``var_gap``: ``|moving - data| / data`` after
    each batch (0.05 = the moving average is 5% away from the data set's)."""
    t = stats.table
    return pd.DataFrame({
        'mean_gap': (t['moving_mean'] - stats.data_mean).abs() / abs(stats.data_mean),
        'var_gap': (t['moving_var'] - stats.data_var).abs() / abs(stats.data_var),
    }, index=t.index)


def plot_batch_statistics(stats):
    """Two panels (mean, variance): each batch's estimate, the moving average
    and the data set's value, against the number of batches fed.

    The vertical axes run from 0 to twice the data set's value whatever the
    batch size, so the noise of different batch sizes can be compared."""
    t = stats.table
    fig = Figure(figsize=(10, 3.6))
    axes = fig.subplots(1, 2)
    for ax, what, true in ((axes[0], 'mean', stats.data_mean),
                           (axes[1], 'var', stats.data_var)):
        noise = t['batch_' + what].std() if len(t) > 1 else 0.0
        ax.plot(t.index, t['batch_' + what], '.', color='#999999', markersize=4,
                label='batch estimate (std %.4f)' % noise)
        ax.plot(t.index, t['moving_' + what], '-', color='#1f77b4', lw=2,
                label='moving average')
        ax.axhline(true, color='#d62728', ls='--', lw=1.5,
                   label='data set %s %.4f' % (what, true))
        # Fixed limits, whatever the sliders say, so that the spread of the
        # batch estimates can be compared between batch sizes.
        ax.set_ylim(0, 2 * true if true > 0 else 1)
        ax.set_xlabel('mini-batches fed (training mode)')
        ax.set_title('pixel %s' % ('mean' if what == 'mean' else 'variance'))
        ax.grid(True, alpha=0.3)
        ax.legend(loc='upper right', fontsize=8)
    fig.suptitle('batch size %d, momentum %g' % (stats.batch_size, stats.momentum))
    fig.tight_layout()
    return fig


def momentum_summary(batch_size, momentum, pixels_per_batch=None):
    """A few sentences on what ``batch_size`` and ``momentum`` mean for the
    estimates; depends only on its arguments."""
    lines = []
    if pixels_per_batch is not None:
        lines.append('batch size %d: each batch estimate averages %s pixel values.'
                     % (batch_size, format(pixels_per_batch, ',')))
    if momentum == 0:
        lines.append('momentum 0: the moving averages are just the last '
                     "batch's statistics, as noisy as they are.")
    else:
        k95 = math.ceil(math.log(0.05) / math.log(momentum))
        lines.append(
            'momentum %g: moving = %g x moving + %g x batch statistic. Starting '
            'from 0 it has covered 1 - %g^k of the way after k batches (95%% '
            'after %d batches), then averages roughly the last 1/(1 - %g) = %s '
            'batches.' % (momentum, momentum, round(1 - momentum, 10), momentum,
                          k95, momentum, '%.3g' % (1 / (1 - momentum))))
    return '\n'.join(lines)


def batch_statistics_view(images, batch_size=64, momentum=0.9, num_batches=100,
                          seed=0):
    """The explorer: ``(figure, text)`` for one batch size and momentum."""
    stats = batch_statistics(images, batch_size, momentum, num_batches, seed)
    return (plot_batch_statistics(stats),
            momentum_summary(batch_size, momentum, stats.pixels_per_batch))


# ------------------------------------------------- with / without BN
def convergence_curves(net, train_iter, test_iter, lr, num_steps, eval_every,
                       ctx=None):
    """Train ``net`` with plain SGD for ``num_steps`` mini-batches.

    The network must be initialized. Returns a DataFrame indexed by ``step``
    (1 .. num_steps) with the mini-batch's training ``loss`` and the
    ``test_acc`` on ``test_iter``, measured every ``eval_every`` steps and
    after the last one (NaN elsewhere). Starting again from ``train_iter``'s
    beginning when it runs out.
    """
    for name, value in (('num_steps', num_steps), ('eval_every', eval_every)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) \
                or value < 1:
            raise ValueError('%s must be a whole number of at least 1, got %r.'
                             % (name, value))
    trainer = gluon.Trainer(net.collect_params(), 'sgd', {'learning_rate': lr})
    losses, accs = [], {}
    steps = itertools.islice(training_steps(net, train_iter, trainer, ctx), num_steps)
    for step, l in steps:
        losses.append(l)
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
    fig = Figure(figsize=(10, 3.6))
    ax_loss, ax_acc = fig.subplots(1, 2, sharex=True)
    for (label, c), color in zip(curves.items(), ('#1f77b4', '#d62728',
                                                  '#2ca02c', '#9467bd')):
        ax_loss.plot(c.index, c['loss'], color=color, alpha=0.25, lw=0.8)
        ax_loss.plot(c.index, c['loss'].rolling(smooth, min_periods=1).mean(),
                     color=color, lw=2, label=label)
        acc = c['test_acc'].dropna()
        ax_acc.plot(acc.index, acc.values, 'o-', color=color, label=label)
    ax_loss.set_title('training loss (mini-batch, running mean over %d)' % smooth)
    ax_acc.set_title('test accuracy')
    ax_acc.set_ylim(0, 1)
    for ax in (ax_loss, ax_acc):
        ax.set_xlabel('mini-batches (SGD steps)')
        ax.grid(True, alpha=0.3)
        ax.legend()
    fig.tight_layout()
    return fig
