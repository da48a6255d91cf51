"""ResNet, trained: for one test image, a residual block's shortcut x (or
``conv3(x)``), its residual branch f(x) − x (the output of ``bn2``, as in the
notes' ``Y = bn2(conv2(relu(bn1(conv1(X)))))``) and its output
``relu(f(x))``; and for every block the ratio ‖f(x) − x‖ / ‖shortcut‖, how far
the block is from passing its input on unchanged.

Blocks are recognised by their children (``conv1``, ``bn1``, ``conv2``,
``bn2`` and the attribute ``conv3``, None without the 1×1 convolution), not
by class: the notebook defines its own ``Residual``.
"""
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from mxnet import nd

from .. import _gluon
from ..checks import check_elements, check_int
from ..featuremaps import feature_map_grid
from ..widgets import ExplorerResult
from .inside import capture, channel_range, check_shown, check_trained, net_context

__all__ = ['residual_blocks', 'residual_parts', 'branch_ratios',
           'residual_maps_explorer', 'residual_ratio_explorer', 'MAX_RATIO_IMAGES']

PARTS = ('conv1', 'bn1', 'conv2', 'bn2')
MAX_RATIO_IMAGES = 256  # one forward pass of this many images stays under a second at 28x28
CHUNK = 64              # images per forward pass when measuring ratios


def residual_blocks(net):
    """``[(position, blk), ...]`` of every residual block of ``net`` in the order
    of its children (position as ``'4.0'``: ``net[4][0]``)."""
    found = [(path, blk) for path, blk in _gluon.walk(net)
             if all(hasattr(blk, n) for n in PARTS) and hasattr(blk, 'conv3')]
    if not found:
        raise ValueError('这个网络里没有残差块（有子层 conv1、bn1、conv2、bn2 和 conv3 的块）；'
                         '请传入训练好的 ResNet。')
    return found


def _hooked(blocks):
    """Per block k: the block itself (x and output), bn2 (branch), conv3 (shortcut)."""
    hooked = {}
    for k, (_, blk) in enumerate(blocks):
        hooked[(k, 'block')], hooked[(k, 'branch')] = blk, blk.bn2
        if blk.conv3 is not None:
            hooked[(k, 'shortcut')] = blk.conv3
    return hooked


def _parts(seen, k, pick):
    """``x, branch, shortcut, output`` of block ``k`` from a :func:`capture`."""
    x, output = pick(seen[(k, 'block')])
    branch = pick(seen[(k, 'branch')])[1]
    shortcut = pick(seen[(k, 'shortcut')])[1] if (k, 'shortcut') in seen else x
    return x, branch, shortcut, output


def residual_parts(net, X):
    """For each residual block of ``net`` run on ``X`` (one image, ``(1, C, H,
    W)``): a dict of numpy arrays ``x``, ``branch`` (f(x) − x), ``shortcut``
    (x or conv3(x)) and ``output``, each ``(C, H, W)``."""
    blocks = residual_blocks(net)
    _, seen = capture(net, X, _hooked(blocks))
    missing = [path for k, (path, _) in enumerate(blocks) if (k, 'block') not in seen]
    if missing:
        raise ValueError('残差块 %s 在前向计算中没有被调用。' % '、'.join(missing))
    first = lambda pair: (pair[0][0], pair[1][0])  # noqa: E731  (drop the batch axis)
    return [dict(zip(('x', 'branch', 'shortcut', 'output'), _parts(seen, k, first)))
            for k in range(len(blocks))]


def _norm(a):
    return float(np.sqrt(np.square(np.asarray(a, dtype=np.float64)).sum()))


def branch_ratios(parts):
    """‖f(x) − x‖ / ‖shortcut‖ per block from :func:`residual_parts` (NaN when the
    shortcut is all 0)."""
    ratios = []
    for p in parts:
        s = _norm(p['shortcut'])
        ratios.append(_norm(p['branch']) / s if s else np.nan)
    return np.array(ratios)


def _label(k, path, blk):
    return '残差块 %d（net[%s]%s）' % (k + 1, ']['.join(path.split('.')),
                                     '，1×1 卷积' if blk.conv3 is not None else '')


def residual_maps_explorer(trained, index=0, block=1, channels=6, first_channel=0):
    """On test image ``index``, residual block ``block`` (1 = nearest the
    input): feature maps of its shortcut, residual branch f(x) − x and output
    (one colour scale), and ``table``: the ratio ‖f(x) − x‖ / ‖shortcut‖ of
    every block on this image."""
    trained = check_trained(trained)
    blocks = residual_blocks(trained.net)
    block = check_int('block', block, 1, len(blocks),
                      why='这个网络有 %d 个残差块（1 = 离输入最近）。' % len(blocks))
    index = trained.check_index(index)
    channels, first_channel = check_shown(channels, first_channel)
    seen = trained.refresh().recorded(index, 'residual parts',
                            lambda net, X: {'parts': residual_parts(net, X)})
    parts = seen['parts']
    path, blk = blocks[block - 1]
    p = parts[block - 1]
    shown = list(channel_range([len(p['branch'])], channels, first_channel,
                               '残差块 %d' % block))
    shown = [c for c in shown if c < len(p['branch'])]
    shortcut = ('conv3(x)：跨层连接上的 1×1 卷积' if blk.conv3 is not None
                else 'x：块的输入，经跨层连接原样送到加法')
    ratios = branch_ratios(parts)
    groups = [(shortcut, p['shortcut'][shown], shown),
              ('f(x) − x：残差分支（bn2 的输出，可正可负）', p['branch'][shown], shown),
              ('块的输出 relu(f(x))，f(x) = (f(x) − x) + 跨层连接', p['output'][shown], shown)]
    title = '%s\n%s，%d 个通道、%d×%d' % (trained.describe(index), _label(block - 1, path, blk),
                                      *p['output'].shape)
    figure = feature_map_grid(groups, image=seen['image'], shared_scale=True, title=title)
    table = pd.DataFrame({
        '输出形状': ['%d×%d×%d' % q['output'].shape for q in parts],
        '‖f(x) − x‖': [round(_norm(q['branch']), 3) for q in parts],
        '‖跨层连接‖': [round(_norm(q['shortcut']), 3) for q in parts],
        '比值': np.round(ratios, 3),
    }, index=pd.Index([_label(k, path_k, b) for k, (path_k, b) in enumerate(blocks)],
                      name='残差块'))
    text = ('%s。残差块 %d 上，‖f(x) − x‖ / ‖跨层连接‖ = %.3f：%s' % (
        trained.describe(index), block, ratios[block - 1],
        '残差分支比跨层连接小，块的输出主要是把输入传下去。' if ratios[block - 1] < 1
        else '残差分支不比跨层连接小，这个块对输入改动很大。'))
    return ExplorerResult(text=text, table=table, figure=figure)


def _norms(inputs, output):
    """Per-image L2 norms of a layer's input and output (numpy, one per image)."""
    n = output.shape[0]
    return (inputs.reshape((n, -1)).norm(axis=1).asnumpy(),
            output.reshape((n, -1)).norm(axis=1).asnumpy())


def _measure_ratios(trained, num_images):
    blocks = residual_blocks(trained.net)
    images = trained.images(range(num_images))
    check_elements('一次前向计算的输入', (CHUNK,) + images.shape[1:])
    per_chunk = []
    for start in range(0, num_images, CHUNK):
        X = nd.array(images[start:start + CHUNK], ctx=net_context(trained.net))
        _, seen = capture(trained.net, X, _hooked(blocks), keep=_norms)
        rows = []
        for k in range(len(blocks)):
            _, branch, shortcut, _ = _parts(seen, k, lambda pair: pair)  # norms per image
            rows.append(branch / np.where(shortcut > 0, shortcut, np.nan))
        per_chunk.append(np.stack(rows))
    return np.concatenate(per_chunk, axis=1)  # rows: blocks, columns: images


def residual_ratio_explorer(trained, num_images=100):
    """‖f(x) − x‖ / ‖shortcut‖ for every residual block over the first
    ``num_images`` test images: ``figure`` (median per block, bars from the
    25th to the 75th percentile), ``table`` and ``text``."""
    trained = check_trained(trained)
    blocks = residual_blocks(trained.net)
    num_images = check_int('num_images', num_images, 1,
                           min(MAX_RATIO_IMAGES, trained.num_images),
                           why='最多取测试集的前 %d 张图像（一次计算不超过一秒）。'
                               % min(MAX_RATIO_IMAGES, trained.num_images))
    ratios = trained.refresh().cached(('ratios', num_images),
                                      lambda: _measure_ratios(trained, num_images))
    q25, median, q75 = np.nanpercentile(ratios, [25, 50, 75], axis=1)
    labels = [_label(k, path, blk) for k, (path, blk) in enumerate(blocks)]
    table = pd.DataFrame({'比值的中位数': np.round(median, 3),
                          '25% 分位数': np.round(q25, 3), '75% 分位数': np.round(q75, 3)},
                         index=pd.Index(labels, name='残差块'))
    fig = Figure(figsize=(7.5, 3.4))
    ax = fig.add_subplot()
    xs = np.arange(1, len(blocks) + 1)
    colors = ['#b9770e' if blk.conv3 is not None else '#3b6c9e' for _, blk in blocks]
    ax.bar(xs, median, color=colors, width=0.6)
    ax.errorbar(xs, median, yerr=[median - q25, q75 - median], fmt='none', ecolor='#333333',
                capsize=3, lw=1)
    ax.axhline(1, color='#a4161a', ls='--', lw=1)
    ax.set_xticks(xs)
    ax.set_xlabel('残差块（1 = 离输入最近；橙色：跨层连接上有 1×1 卷积）')
    ax.set_ylabel('‖f(x) − x‖ / ‖跨层连接‖')
    ax.set_title('残差分支与跨层连接的大小之比（测试集前 %d 张图像的中位数，'
                 '竖线：25%%–75%%）' % num_images, fontsize=10)
    ax.grid(True, axis='y', alpha=0.3)
    fig.tight_layout()
    small = int(np.argmin(median))
    text = ('比值小于 1（红色虚线以下）的块，输出主要是跨层连接送来的输入，残差分支只做小的修正；'
            '比值最小的是%s，中位数 %.3f；最大的是%s，中位数 %.3f。' % (
                labels[small], median[small], labels[int(np.argmax(median))], median.max()))
    return ExplorerResult(text=text, table=table, figure=fig)
