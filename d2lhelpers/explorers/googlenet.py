"""GoogLeNet: notebook 01's explorers, and the numbers the notes state read off
a built network. Blocks are recognised by their children (``p1_1`` ...
``p4_2``), not by class: the notebook defines its own ``Inception`` class.
"""
import fractions
import functools
import math

import pandas as pd
from matplotlib.figure import Figure
from mxnet import init, nd
from mxnet.gluon import nn

from . import LARGEST_INPUT, image, recording, smallest_input
from .. import _gluon, diagram
from ..checks import check_choice, check_int
from ..models.googlenet import Inception, googlenet
from ..shapes import param_count
from ..widgets import ExplorerResult

__all__ = ['inception_channels', 'channel_ratio', 'reduction', 'describe_inception',
           'inception_explorer', 'channel_share_figure', 'module_shapes',
           'b5_larger_than_1x1', 'resolution_explorer', 'inception_blocks',
           'inception_table']

PATH_LAYERS = diagram.INCEPTION_PATHS
PATH_NAMES = ('线路 1：1×1', '线路 2：1×1、3×3', '线路 3：1×1、5×5', '线路 4：池化、1×1')
PATH_COLORS = ('#3b6c9e', '#b9770e', '#4f8a3c', '#a1456e')
MODULES = ('b1', 'b2', 'b3', 'b4', 'b5')
OUTPUT_LAYER = '全连接层'
MAX_CHANNELS = 1024  # the sliders go to 512; this keeps a block within a laptop's memory
MAX_SIDE = 128


# ------------------------------------------------------------ one block
def _is_inception(block):
    return all(hasattr(block, n) for names in PATH_LAYERS for n in names)


def inception_channels(blk):
    """``(c1, (c2[0], c2[1]), (c3[0], c3[1]), c4)`` of an Inception block, read off its layers."""
    if not _is_inception(blk):
        raise ValueError('%s 不是 Inception 块：它应有子层 p1_1、p2_1、p2_2、p3_1、'
                         'p3_2、p4_1 和 p4_2。' % type(blk).__name__)
    c1, c2, c3 = [tuple(_gluon.conv_channels(getattr(blk, n)) for n in p)
                  for p in PATH_LAYERS[:3]]
    return c1[0], c2, c3, _gluon.conv_channels(blk.p4_2)


def _in_channels(blk):
    """Input channels of an Inception block, known after one forward pass."""
    n = blk.p1_1.weight.shape[1]
    if not n:
        raise ValueError('这个 Inception 块的输入通道数还不知道：请先做一次前向计算'
                         '（例如 net(X)）。')
    return int(n)


def channel_ratio(channels):
    """``'64:128:32:32 = 2:4:1:1'``: channel counts and their ratio in lowest terms."""
    channels = [check_int('channels', c, 1) for c in channels]
    raw = ':'.join(str(c) for c in channels)
    g = functools.reduce(math.gcd, channels)
    if g <= 1:
        return raw + '（没有公因数）'
    return '%s = %s' % (raw, ':'.join(str(c // g) for c in channels))


def reduction(reduced, in_channels):
    """``'96/192 = 1/2'``: a 1×1 convolution's output channels as a fraction of its input's."""
    reduced = check_int('reduced', reduced, 1)
    in_channels = check_int('in_channels', in_channels, 1)
    f = fractions.Fraction(reduced, in_channels)
    return '%d/%d = %s' % (reduced, in_channels, f.numerator if f.denominator == 1 else f)


def _reduction_sentence(path, kernel, reduced, in_channels):
    frac = reduction(reduced, in_channels)
    head = '线路 %d 在 %s 卷积之前' % (path, kernel)
    if reduced < in_channels:
        return '%s把 %d 个输入通道减到 %d 个（%s）' % (head, in_channels, reduced, frac)
    if reduced == in_channels:
        return '%s保持 %d 个输入通道（%s），没有节省' % (head, in_channels, frac)
    return ('%s把 %d 个输入通道增加到 %d 个（%s）：1×1 卷积也能增加通道，但这样'
            '不但不节省，反而更费计算' % (head, in_channels, reduced, frac))


def describe_inception(blk):
    """``'64 + 128 + 32 + 32 = 256 个输出通道；比例 ...；线路 2 ...'``: output
    channels, ratio and reductions of a block that has seen one forward pass."""
    c1, c2, c3, c4 = inception_channels(blk)
    in_channels = _in_channels(blk)
    outs = (c1, c2[1], c3[1], c4)
    return '%s = %d 个输出通道；比例 %s；%s；%s。' % (
        ' + '.join(str(c) for c in outs), sum(outs), channel_ratio(outs),
        _reduction_sentence(2, '3×3', c2[0], in_channels),
        _reduction_sentence(3, '5×5', c3[0], in_channels))


def channel_share_figure(c1, c2, c3, c4):
    """A small horizontal bar chart: output channels of each path and their share."""
    outs = [check_int(name, c, 1, 4 * MAX_CHANNELS)
            for name, c in (('c1', c1), ('c2', c2), ('c3', c3), ('c4', c4))]
    total = sum(outs)
    fig = Figure(figsize=(6.0, 2.2))
    ax = fig.add_subplot()
    ys = list(range(len(outs)))[::-1]
    ax.barh(ys, outs, color=PATH_COLORS, height=0.6)
    for y, c in zip(ys, outs):
        ax.text(c + total * 0.01, y, '%d（%.1f%%）' % (c, 100 * c / total),
                va='center', fontsize=9)
    ax.set_yticks(ys)
    ax.set_yticklabels(PATH_NAMES, fontsize=9)
    ax.set_xlim(0, max(outs) * 1.3)
    ax.set_xlabel('输出通道数（连结后共 %d 个）' % total, fontsize=9)
    ax.set_title('%d 个输出通道在四条线路之间的分配' % total, fontsize=10)
    ax.spines[['top', 'right']].set_visible(False)
    fig.subplots_adjust(left=0.27, right=0.97, bottom=0.22, top=0.86)
    return fig


def inception_explorer(c1=64, c2_0=96, c2_1=128, c3_0=16, c3_1=32, c4=32,
                       in_channels=192, height=12, width=12):
    """Run ``Inception(c1, (c2_0, c2_1), (c3_0, c3_1), c4)`` on one input.

    Defaults: b3's first block (a 192-channel 12×12 map for a 96×96 image).
    ``table``: one row per path and one for the concatenation; ``text``: channel
    sum, ratio, reductions, parameters; ``figure``: channel shares; ``diagram``.
    """
    why = ('Inception 块里每个卷积层至少输出 1 个通道（去掉一条线路要改 Inception 的代码），'
           '上限 %d 让一次计算在笔记本电脑上很快完成。' % MAX_CHANNELS)
    c1, c2_0, c2_1, c3_0, c3_1, c4 = [
        check_int(name, value, 1, MAX_CHANNELS, why) for name, value in (
            ('c1', c1), ('c2[0]', c2_0), ('c2[1]', c2_1), ('c3[0]', c3_0),
            ('c3[1]', c3_1), ('c4', c4))]
    in_channels = check_int('in_channels', in_channels, 1, MAX_CHANNELS)
    height = check_int('height', height, 1, MAX_SIDE)
    width = check_int('width', width, 1, MAX_SIDE)

    blk = Inception(c1, (c2_0, c2_1), (c3_0, c3_1), c4)
    blk.initialize(init.Zero())  # values do not matter here; leaves the RNG alone
    X = nd.zeros((1, in_channels, height, width))
    with recording({p[-1]: getattr(blk, p[-1]) for p in PATH_LAYERS}) as seen:
        out_shape = tuple(blk(X).shape)
    outs = (c1, c2_1, c3_1, c4)
    rows = []
    for children, channels in zip(PATH_LAYERS, outs):
        layers = [getattr(blk, n) for n in children]
        rows.append((' → '.join(diagram.layer_label(l) for l in layers), seen[children[-1]][1],
                     sum(param_count(l) for l in layers),
                     '%.1f%%' % (100 * channels / sum(outs))))
    rows.append(('在通道维上连结', out_shape, param_count(blk), '100.0%'))
    table = pd.DataFrame(rows, columns=['层', '输出形状', '参数数量', '通道占比'],
                         index=pd.Index(list(PATH_NAMES) + ['连结'], name='线路'))
    text = '\n'.join([
        '输出：%s = %d 个通道，形状 %s（高和宽不变：%d×%d）'
        % (' + '.join(str(c) for c in outs), sum(outs), out_shape, height, width),
        '通道比例 c1 : c2[1] : c3[1] : c4 = %s' % channel_ratio(outs),
        _reduction_sentence(2, '3×3', c2_0, in_channels),
        _reduction_sentence(3, '5×5', c3_0, in_channels),
        '参数数量：%d' % param_count(blk),
    ])
    title = 'Inception(%d, (%d, %d), (%d, %d), %d)，输入 %d 个通道' % (
        c1, c2_0, c2_1, c3_0, c3_1, c4, in_channels)
    spec = diagram.inception_paths(blk)
    spec.update(input_label='输入 %d×%d×%d' % (in_channels, height, width),
                output_label='输出 %d×%d×%d' % out_shape[1:])
    return ExplorerResult(text=text, table=table,
                          figure=channel_share_figure(*outs),
                          diagram=diagram.draw_paths(title=title, **spec))


# ------------------------------------------------------- whole network
@functools.lru_cache(maxsize=None)
def _googlenet():
    """One GoogLeNet (1 input channel, 10 classes), shared by the size functions."""
    net = googlenet()
    net.initialize(init.Zero())
    return net


def _hw(shape):
    return '%d×%d' % tuple(shape[-2:])


def module_shapes(size):
    """Input/output shapes and parameters of b1 ... b5 and the output layer for one
    ``size``×``size`` one-channel image (padded pooling: never below 1×1)."""
    size = check_int('size', size, 1, LARGEST_INPUT)
    X, rows = nd.zeros((1, 1, size, size)), []
    for module in _googlenet():
        Y = module(X)
        rows.append((tuple(X.shape), tuple(Y.shape), param_count(module)))
        X = Y
    return pd.DataFrame(rows, columns=['输入形状', '输出形状', '参数数量'],
                        index=pd.Index(list(MODULES) + [OUTPUT_LAYER], name='模块'))


def _halvings():
    """Number of stride-2 layers in b1 ... b4 (each halves height and width)."""
    return sum(1 for module in list(_googlenet())[:4] for layer in module
               if tuple(_gluon.layer_config(layer).get('stride', ())) == (2, 2))


def b5_larger_than_1x1(net, size):
    """Whether b5 gets a map larger than 1×1 (else its 3×3 and 5×5 convolutions
    see one value and padding zeros); a ``fits=`` for :func:`smallest_input`."""
    X = image(net, size)
    for module in list(net)[:4]:
        X = module(X)
    return min(X.shape[-2:]) > 1


def resolution_explorer(size=96):
    """:func:`module_shapes` and a sentence; ValueError below the smallest input
    for which b5 gets more than 1×1."""
    table = module_shapes(size)
    inputs = '、'.join('%s %s' % (m, _hw(table.loc[m, '输入形状'])) for m in MODULES)
    smallest = smallest_input(_googlenet(), fits=b5_larger_than_1x1)
    if size < smallest:
        first = next(m for m in MODULES if max(table.loc[m, '输入形状'][-2:]) == 1)
        raise ValueError(
            '输入为 %d×%d 时，特征图在 %s 的输入处已经只有 1×1（各模块的输入：%s）：'
            'GoogLeNet 在 b5 之前把高和宽减半了 %d 次，b5 的 3×3 和 5×5 卷积只能看到'
            '一个值和周围填充的 0。网络照样能算，但要让 b5 收到大于 1×1 的特征图，'
            '输入至少要 %d×%d。' % (size, size, first, inputs, _halvings(),
                                 smallest, smallest))
    text = ('输入为 %d×%d 时，各模块的输入：%s；b5 末尾的全局平均池化把 %s 变成 1×1，'
            '所以全连接层总是得到 %d 个特征。b5 收到大于 1×1 的特征图所需的最小输入：%d×%d。'
            % (size, size, inputs, _hw(table.loc['b5', '输入形状']),
               table.loc['b5', '输出形状'][1], smallest, smallest))
    return ExplorerResult(text=text, table=table)


# ------------------------------------------------- every Inception block
def inception_blocks(net, module=None):
    """``[('b3.1', blk), ...]``: the Inception blocks of a GoogLeNet (of ``module``)."""
    check_choice('module', module, (None,) + MODULES)
    found = []
    for name, child in zip(MODULES, net):
        blocks = [b for b in (child if isinstance(child, nn.Sequential) else [])
                  if _is_inception(b)]
        if module in (None, name):
            found += [('%s.%d' % (name, k), b) for k, b in enumerate(blocks, 1)]
    return found


def inception_table(net, X, variant=None):
    """Channels and parameters of every Inception block of the initialized
    ``net`` run on ``X`` (NDArray or shape), one row each, beside a single 3×3
    convolution with the same channels. ``variant``: a block class taking
    ``(c1, c2, c3, c4)`` with the same output shape (e.g. without the 1×1
    reductions); adds its parameters as ``变体参数数量``."""
    X = X if isinstance(X, nd.NDArray) else nd.zeros(tuple(X))
    blocks = inception_blocks(net)
    with recording(dict(blocks)) as shapes, _gluon.imperative(net):
        net(X)
    rows = []
    for name, blk in blocks:
        c1, c2, c3, c4 = inception_channels(blk)
        in_shape, out_shape = shapes[name]
        plain = nn.Conv2D(out_shape[1], kernel_size=3, padding=1)
        plain.initialize(init.Zero())
        plain(nd.zeros(in_shape))
        row = {'输入': '%d×%s' % (in_shape[1], _hw(in_shape)),
               'c1': c1, 'c2': c2, 'c3': c3, 'c4': c4, '输出通道数': out_shape[1],
               '比例': channel_ratio((c1, c2[1], c3[1], c4)).split(' = ')[-1],
               '参数数量': param_count(blk), '单个3×3卷积参数数量': param_count(plain)}
        if variant is not None:
            other = variant(c1, c2, c3, c4)
            other.initialize(init.Zero())
            other_out = tuple(other(nd.zeros(in_shape)).shape)
            if other_out != out_shape:
                raise ValueError('%s%s 输出 %s，而 Inception 块 %s 输出 %s：变体必须保持'
                                 '输出形状不变。' % (type(other).__name__, (c1, c2, c3, c4),
                                                   other_out, name, out_shape))
            row['变体参数数量'] = param_count(other)
        rows.append(row)
    return pd.DataFrame(rows, index=pd.Index([n for n, _ in blocks], name='块'))
