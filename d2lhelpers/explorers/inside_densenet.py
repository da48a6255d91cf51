"""DenseNet, trained: a dense block's output is the concatenation of its input
and each convolution block's new channels; on one test image these groups are
drawn one row each (the channel growth made visible), and the following
transition layer's 1×1 convolution shows how strongly it draws on each group
(the norm of its weights per input group).

Blocks are recognised by their children, not by class (the notebook defines
its own ``DenseBlock``): a dense block has a child ``net``, a ``Sequential``
of convolution blocks each holding a ``Conv2D``; a transition layer is a
``Sequential`` holding a 1×1 ``Conv2D`` and a pooling layer, right after it.
"""
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from mxnet.gluon import nn

from .. import _gluon
from ..checks import check_int
from ..featuremaps import feature_map_grid
from ..widgets import ExplorerResult
from .inside import capture, channel_range, check_shown, check_trained

__all__ = ['dense_blocks', 'group_widths', 'group_labels', 'transition_group_norms',
           'dense_maps_explorer', 'transition_weights_explorer']

GROUP_COLORS = ('#7f7f7f', '#3b6c9e', '#b9770e', '#4f8a3c', '#a1456e', '#8c564b',
                '#17becf', '#bcbd22')


def _conv_of(block):
    """The ``Conv2D`` of a convolution block (a Sequential), else None."""
    if isinstance(block, nn.Conv2D):
        return block
    if isinstance(block, nn.Sequential):
        convs = [layer for layer in block if isinstance(layer, nn.Conv2D)]
        return convs[-1] if convs else None
    return None


def _is_dense(block):
    inner = getattr(block, 'net', None)
    return (isinstance(inner, nn.Sequential) and len(inner) > 0
            and all(_conv_of(b) is not None for b in inner))


def _is_transition(block):
    if not isinstance(block, nn.Sequential):
        return False
    conv = _conv_of(block)
    return (conv is not None and tuple(_gluon.layer_config(conv).get('kernel', ())) == (1, 1)
            and any(_gluon.is_pooling(layer) for layer in block))


def dense_blocks(net):
    """``[(position, dense block, transition layer or None), ...]`` in forward
    order; the transition is the next layer of the same ``Sequential``."""
    paths = {id(b): p for p, b in _gluon.walk(net)}
    found = []
    for seq in [net] + [b for _, b in _gluon.walk(net)]:
        if not isinstance(seq, nn.Sequential):
            continue
        layers = list(seq)
        for i, blk in enumerate(layers):
            if _is_dense(blk):
                after = layers[i + 1] if i + 1 < len(layers) else None
                found.append((paths[id(blk)], blk, after if _is_transition(after) else None))
    if not found:
        raise ValueError('这个网络里没有稠密块（有子层 net、里面是若干含 Conv2D 的卷积块）；'
                         '请传入训练好的 DenseNet。')
    return found


def group_widths(blk, in_channels):
    """Channels of each group of the dense block's output: its input, then each
    convolution block's new channels (the growth rate)."""
    in_channels = check_int('in_channels', in_channels, 1)
    return [in_channels] + [_gluon.conv_channels(_conv_of(b)) for b in blk.net]


def group_labels(widths):
    """``'块的输入（通道 0–63）'``, ``'卷积块 1 的输出（通道 64–95）'``, ..."""
    starts = np.cumsum([0] + list(widths))
    names = ['块的输入'] + ['卷积块 %d 的输出' % k for k in range(1, len(widths))]
    return ['%s（通道 %d–%d）' % (n, a, b - 1) for n, a, b in zip(names, starts, starts[1:])]


def transition_group_norms(transition, widths):
    """The transition's 1×1 convolution weight ``(out, in, 1, 1)`` split along
    its input channels into ``widths``: per group the Frobenius ``权重范数``
    and ``每通道平均范数`` (norm / sqrt(channels): groups of different width
    compared per channel). A DataFrame, one row per group."""
    conv = _conv_of(transition)
    W = conv.weight.data().asnumpy().astype(np.float64)
    if W.shape[1] != sum(widths):
        raise ValueError('过渡层的 1×1 卷积有 %d 个输入通道，稠密块却输出 %d（%s）个；'
                         '它们应当相同。' % (W.shape[1], sum(widths),
                                           ' + '.join(str(w) for w in widths)))
    starts = np.cumsum([0] + list(widths))
    norms = np.array([np.sqrt(np.square(W[:, a:b]).sum()) for a, b in zip(starts, starts[1:])])
    return pd.DataFrame({'通道数': list(widths), '权重范数': norms,
                         '每通道平均范数': norms / np.sqrt(widths)},
                        index=pd.Index(group_labels(widths), name='输入通道组'))


def _check_block(blocks, block):
    return check_int('block', block, 1, len(blocks),
                     why='这个网络有 %d 个稠密块（1 = 离输入最近）。' % len(blocks))


def _record_dense(blocks):
    hooked = {k: blk for k, (_, blk, _) in enumerate(blocks)}

    def record(net, X):
        _, seen = capture(net, X, hooked)
        return {k: (x[0], out[0]) for k, (x, out) in seen.items()}
    return record


def dense_maps_explorer(trained, index=0, block=1, channels=4, first_channel=0):
    """Dense block ``block`` on test image ``index``: its output (the
    concatenation) split into its input and each convolution block's channels,
    one row per group (channels ``first_channel`` ... of each group, each row
    its own colour scale); ``table``: per group its channels, mean absolute
    value and, when a transition layer follows, its weight norms."""
    trained = check_trained(trained)
    blocks = dense_blocks(trained.net)
    block = _check_block(blocks, block)
    index = trained.check_index(index)
    channels, first_channel = check_shown(channels, first_channel)
    seen = trained.refresh().recorded(index, 'dense blocks', _record_dense(blocks))
    if block - 1 not in seen:
        raise ValueError('稠密块 %d 在前向计算中没有被调用。' % block)
    x, out = seen[block - 1]
    path, blk, transition = blocks[block - 1]
    widths = group_widths(blk, len(x))
    if sum(widths) != len(out):
        raise ValueError('稠密块 %d 输出 %d 个通道，而输入与各卷积块的通道数之和是 %d；'
                         '它的 forward 应当在通道维上连结输入和每个卷积块的输出。'
                         % (block, len(out), sum(widths)))
    shown = channel_range(widths, channels, first_channel, '稠密块 %d 的各组' % block)
    starts = np.cumsum([0] + widths)
    labels = group_labels(widths)
    groups, mean_abs = [], []
    for label, a, b in zip(labels, starts, starts[1:]):
        picked = [c for c in shown if c < b - a]
        groups.append((label, out[a:b][picked], [a + c for c in picked]))
        mean_abs.append(float(np.abs(out[a:b]).mean()))
    title = '%s\n稠密块 %d（net[%s]）的输出：%s = %d 个通道，%d×%d' % (
        trained.describe(index), block, ']['.join(path.split('.')),
        ' + '.join(str(w) for w in widths), len(out), out.shape[1], out.shape[2])
    figure = feature_map_grid(groups, image=seen['image'], title=title)
    table = pd.DataFrame({'通道数': widths, '平均绝对值': np.round(mean_abs, 4)},
                         index=pd.Index(labels, name='输出的通道组'))
    if transition is not None:
        weights = transition_group_norms(transition, widths)
        table['过渡层权重范数'] = weights['权重范数'].round(4).values
        table['每通道平均范数'] = weights['每通道平均范数'].round(4).values
        after = '后面的过渡层用 1×1 卷积把这 %d 个通道压缩到 %d 个' % (
            len(out), _gluon.conv_channels(_conv_of(transition)))
    else:
        after = '这是最后一个稠密块，后面没有过渡层'
    text = ('%s。稠密块 %d 的输出在通道维上连结了块的输入（%d 个通道）和 %d 个卷积块各自新增的 '
            '%s 个通道；%s。' % (trained.describe(index), block, widths[0], len(widths) - 1,
                            '、'.join(str(w) for w in widths[1:]), after))
    return ExplorerResult(text=text, table=table, figure=figure)


def transition_weights_explorer(net, block=1):
    """How the transition layer after dense block ``block`` weighs the groups
    of its input: ``figure`` (the norm of the 1×1 weights per input channel,
    coloured by group, and each group's per-channel average), ``table``, ``text``."""
    blocks = dense_blocks(net)
    block = _check_block(blocks, block)
    path, blk, transition = blocks[block - 1]
    if transition is None:
        raise ValueError('稠密块 %d 后面没有过渡层（最后一个稠密块之后接的是批量归一化、'
                         '全局平均池化和全连接层）；请选前面的稠密块。' % block)
    W = _conv_of(transition).weight.data().asnumpy().astype(np.float64)
    growth = sum(_gluon.conv_channels(_conv_of(b)) for b in blk.net)
    if W.shape[1] <= growth:
        raise ValueError('过渡层的权重形状 %s 与稠密块对不上；请先用一张图像做一次前向计算。'
                         % (W.shape,))
    widths = group_widths(blk, W.shape[1] - growth)
    table = transition_group_norms(transition, widths)
    per_channel = np.sqrt(np.square(W).sum(axis=(0, 2, 3)))
    starts = np.cumsum([0] + widths)
    fig = Figure(figsize=(8, 3.4))
    ax = fig.add_subplot()
    for g, (label, a, b) in enumerate(zip(table.index, starts, starts[1:])):
        color = GROUP_COLORS[g % len(GROUP_COLORS)]
        ax.bar(np.arange(a, b), per_channel[a:b], width=1.0, color=color, alpha=0.55,
               label=label)
        rms = table['每通道平均范数'].iloc[g]
        ax.plot([a - 0.5, b - 0.5], [rms, rms], color=color, lw=2.5)
    ax.set_xlim(-0.5, W.shape[1] - 0.5)
    ax.set_xlabel('过渡层 1×1 卷积的输入通道（= 稠密块输出的通道）')
    ax.set_ylabel('这个输入通道的权重范数')
    ax.set_title('稠密块 %d 之后的过渡层：%d 个输入通道 → %d 个输出通道（粗线：每组的每通道平均范数）'
                 % (block, W.shape[1], W.shape[0]), fontsize=10)
    ax.legend(fontsize=7, ncol=2)
    ax.grid(True, axis='y', alpha=0.3)
    fig.tight_layout()
    strongest = table['每通道平均范数'].idxmax()
    text = ('过渡层按每个输入通道的平均权重范数，最看重“%s”（%.3f），最不看重“%s”（%.3f）。'
            '刚初始化时各组大致相同；训练后差别说明哪一组特征对后面的层更有用。'
            % (strongest, table['每通道平均范数'].max(), table['每通道平均范数'].idxmin(),
               table['每通道平均范数'].min()))
    return ExplorerResult(text=text, table=table.round(4), figure=fig)
