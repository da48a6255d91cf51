"""Batch normalization: how noisy mini-batch statistics are, and how the moving
averages used in prediction mode follow them. Each mini-batch of ``m`` images
gives one mean and variance over its ``m x 28 x 28`` pixels (the notes'
convolutional case); the moving averages follow the notes' ``batch_norm``
from 0. Per-image sums (exact for uint8) make a redraw fast on 60,000 images.
"""
import collections
import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from mxnet import nd

from ..checks import check_int, check_number
from ..widgets import ExplorerResult

__all__ = ['pixel_statistics', 'shuffled_batches', 'batch_statistics',
           'plot_batch_statistics', 'momentum_summary', 'batch_statistics_explorer']

MAX_BATCHES = 2000  # the slider goes to 500; each batch is one row of a table

BatchStatistics = collections.namedtuple(
    'BatchStatistics', ['table', 'data_mean', 'data_var', 'batch_size',
                        'momentum', 'pixels_per_batch'])
BatchStatistics.__doc__ = """``table``: per mini-batch (``batch`` = 1, 2, ...) its
``batch_mean``, ``batch_var`` and the ``moving_mean``, ``moving_var`` after it;
``data_mean``, ``data_var``: over all pixels; ``pixels_per_batch``: m x H x W."""


def _as_images(images):
    """``images`` as ``(N, H, W)`` and the factor that scales them: 1/255 for
    uint8 pixels (kept as uint8), 1 for anything else (as float64)."""
    if isinstance(images, nd.NDArray):
        images = images.asnumpy()
    images = np.asarray(images)
    if images.ndim == 4 and images.shape[1] == 1:
        images = images[:, 0]
    if images.ndim != 3 or images.shape[0] == 0:
        raise ValueError('images 应是形状为 (N, H, W) 或 (N, 1, H, W) 的非空数组，'
                         '收到的形状是 %s。' % (images.shape,))
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
    """Mean and variance of all pixels (uint8 scaled to [0, 1], as the loader does)."""
    s1, s2, pixels = _image_sums(images)
    return _mean_var(s1, s2, len(s1) * pixels)


def shuffled_batches(n, batch_size, num_batches, seed=0):
    """``num_batches`` sorted index arrays of ``batch_size`` out of ``range(n)``,
    each index once per shuffled epoch (the short rest is dropped)."""
    rng = np.random.RandomState(seed)
    order, start = rng.permutation(n), 0
    for _ in range(num_batches):
        if start + batch_size > n:  # drop the short rest, start a new epoch
            order, start = rng.permutation(n), 0
        yield np.sort(order[start:start + batch_size])
        start += batch_size


def _check_momentum(momentum):
    momentum = check_number('momentum', momentum, 0, 1)
    if momentum == 1:
        raise ValueError('momentum 应在 0 到 1 之间且小于 1，收到的是 1：动量为 1 时移动平均'
                         '会永远停在初值；请取小于 1 的值，例如 0.9。')
    return momentum


def batch_statistics(images, batch_size=64, momentum=0.9, num_batches=100,
                     seed=0):
    """:class:`BatchStatistics` of ``num_batches`` random mini-batches of ``images``
    (``(N, H, W)`` or ``(N, 1, H, W)``, uint8 or float) and the moving averages
    the notes' ``batch_norm`` keeps with ``momentum`` in [0, 1), starting at 0
    like the from-scratch ``BatchNorm`` (Gluon's starts the variance at 1).
    """
    momentum = _check_momentum(momentum)
    num_batches = check_int('num_batches', num_batches, 1, MAX_BATCHES)
    seed = check_int('seed', seed, 0, 2 ** 32 - 1)
    s1, s2, pixels = _image_sums(images)
    n = len(s1)
    batch_size = check_int('batch_size', batch_size, 1, n,
                           '一个小批量至少 1 张图像，至多是全部 %d 张图像。' % n)
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
    return BatchStatistics(table, data_mean, data_var, batch_size, momentum,
                           batch_size * pixels)


def plot_batch_statistics(stats):
    """Mean and variance panels: each batch's estimate, the moving average and
    the data set's value, against the number of batches fed."""
    t = stats.table
    fig = Figure(figsize=(10, 3.6))
    axes = fig.subplots(1, 2)
    for ax, what, word, true in ((axes[0], 'mean', '均值', stats.data_mean),
                                 (axes[1], 'var', '方差', stats.data_var)):
        noise = t['batch_' + what].std() if len(t) > 1 else 0.0
        ax.plot(t.index, t['batch_' + what], '.', color='#999999', markersize=4,
                label='小批量的估计（标准差 %.4f）' % noise)
        ax.plot(t.index, t['moving_' + what], '-', color='#1f77b4', lw=2,
                label='移动平均')
        ax.axhline(true, color='#d62728', ls='--', lw=1.5,
                   label='数据集的%s %.4f' % (word, true))
        # Fixed limits, so that the noise of different batch sizes compares.
        ax.set_ylim(0, 2 * true if true > 0 else 1)
        ax.set_xlabel('喂入的小批量个数（训练模式）')
        ax.set_title('像素' + word)
        ax.grid(True, alpha=0.3)
        ax.legend(loc='upper right', fontsize=8)
    fig.suptitle('批量大小 %d，动量 %g' % (stats.batch_size, stats.momentum))
    fig.tight_layout()
    return fig


def momentum_summary(batch_size, momentum, pixels_per_batch=None):
    """A few sentences on what ``batch_size`` and ``momentum`` mean for the
    estimates; depends only on its arguments."""
    batch_size = check_int('batch_size', batch_size, 1)
    momentum = _check_momentum(momentum)
    lines = []
    if pixels_per_batch is not None:
        lines.append('批量大小 %d：每个小批量的估计是 %s 个像素值的平均。'
                     % (batch_size, format(check_int('pixels_per_batch',
                                                     pixels_per_batch, 1), ',')))
    if momentum == 0:
        lines.append('动量 0：移动平均就是上一个小批量的统计量，和它一样吵。')
    else:
        k95 = math.ceil(math.log(0.05) / math.log(momentum))
        lines.append(
            '动量 %g：移动平均 = %g × 移动平均 + %g × 小批量的统计量。从 0 出发，'
            'k 个小批量之后走完了 1 - %g^k 的路程（%d 个小批量之后走完 95%%），'
            '此后大约是最近 1/(1 - %g) = %s 个小批量的平均。'
            % (momentum, momentum, round(1 - momentum, 10), momentum, k95,
               momentum, '%.3g' % (1 / (1 - momentum))))
    return '\n'.join(lines)


def batch_statistics_explorer(images, batch_size=64, momentum=0.9, num_batches=100,
                              seed=0):
    """The explorer: ``text`` and ``figure`` for one batch size and momentum."""
    stats = batch_statistics(images, batch_size, momentum, num_batches, seed)
    return ExplorerResult(
        text=momentum_summary(batch_size, momentum, stats.pixels_per_batch),
        figure=plot_batch_statistics(stats))
