"""Explorer of the DenseNet section: how a dense block grows the channels.

The real ``DenseBlock`` (and ``transition_block``) runs one batch; the numbers
are read off the forward pass, not a formula, so they match the notes' code.
"""
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from mxnet import autograd, nd

from . import recording
from ..checks import check_bool, check_int
from ..models.densenet import DenseBlock, transition_block
from ..shapes import param_count
from ..widgets import ExplorerResult

__all__ = ['dense_block_explorer', 'dense_block_steps', 'growth_chart']

INPUT_COLOR = '#b8b8b8'
GROWTH_COLORS = ('#3b6c9e', '#6c9fd0')  # alternate, so each conv's share shows
TRANSITION_COLOR = '#b9770e'
INPUT, TRANSITION = '输入', '过渡层'
COLUMNS = ['通道数', '新增通道数', '输出形状', '参数数量']


def dense_block_steps(num_convs=2, growth_rate=10, in_channels=3,
                      transition=False, batch_size=4, size=8):
    """A row for the input, one per convolution of ``DenseBlock(num_convs,
    growth_rate)`` (after the concatenation) and, with ``transition``, one for
    ``transition_block(channels // 2)``: channels, channels added, output
    shape, the step's parameters. Bounds keep it within a second or two."""
    num_convs = check_int('num_convs', num_convs, 1, 16,
                          '没有卷积块的稠密块原样返回输入；上限 16 让计算很快完成。')
    growth_rate = check_int('growth_rate', growth_rate, 1, 64,
                            '每个卷积块增加 growth_rate 个通道，至少 1 个。')
    in_channels = check_int('in_channels', in_channels, 1, 256)
    transition = check_bool('transition', transition)
    batch_size = check_int('batch_size', batch_size, 1, 8)
    size = check_int('size', size, 2 if transition else 1, 32,
                     '过渡层做 2×2 的平均池化，输入的高和宽至少要 2。' if transition else None)

    blk = DenseBlock(num_convs, growth_rate)
    blk.initialize()
    X = nd.zeros((batch_size, in_channels, size, size))
    with recording(dict(enumerate(blk.net))) as seen, autograd.pause(train_mode=False):
        Y = blk(X)
    rows = [(INPUT, in_channels, 0, tuple(X.shape), 0)]
    for i, cb in enumerate(blk.net, 1):
        x_shape, y_shape = seen[i - 1]
        # DenseBlock.forward concatenates the conv's output to its input
        channels = x_shape[1] + y_shape[1]
        rows.append(('卷积块 %d' % i, channels, y_shape[1],
                     (x_shape[0], channels) + tuple(x_shape[2:]), param_count(cb)))
    if tuple(Y.shape) != rows[-1][3]:  # the hooks must agree with the block
        raise RuntimeError('DenseBlock output %s differs from the recorded '
                           'steps %s.' % (Y.shape, rows[-1][3]))
    if transition:
        trans = transition_block(Y.shape[1] // 2)
        trans.initialize()
        with autograd.pause(train_mode=False):
            Z = trans(Y)
        rows.append((TRANSITION, Z.shape[1], Z.shape[1] - Y.shape[1],
                     tuple(Z.shape), param_count(trans)))
    table = pd.DataFrame([r[1:] for r in rows], columns=COLUMNS,
                         index=pd.Index([r[0] for r in rows], name='步骤'))
    return table.astype({c: 'int64' for c in ('通道数', '新增通道数', '参数数量')})


def growth_chart(table, title=None):
    """Bars of a :func:`dense_block_steps` table's channels: the input's grey, each
    convolution's new ones stacked in alternating blues, the transition orange."""
    fig = Figure(figsize=(max(4.0, 0.75 * len(table) + 1.5), 3.0))
    ax = fig.add_subplot(1, 1, 1)
    steps = list(table.index)
    in_channels = int(table['通道数'].iloc[0])
    for x, step in enumerate(steps):
        channels = int(table.loc[step, '通道数'])
        if step == TRANSITION:
            ax.bar(x, channels, color=TRANSITION_COLOR, width=0.7)
        else:
            ax.bar(x, in_channels, color=INPUT_COLOR, width=0.7)
            bottom = in_channels
            for k in range(x):  # conv k+1 adds its channels on top
                added = int(table['新增通道数'].iloc[k + 1])
                ax.bar(x, added, bottom=bottom, width=0.7, color=GROWTH_COLORS[k % 2])
                bottom += added
        ax.text(x, channels, str(channels), ha='center', va='bottom', fontsize=9)
    handles = [Patch(color=INPUT_COLOR, label='输入的通道'),
               Patch(color=GROWTH_COLORS[0], label='卷积块新增的通道')]
    if TRANSITION in steps:
        handles.append(Patch(color=TRANSITION_COLOR, label='过渡层之后'))
    ax.legend(handles=handles, loc='upper left', fontsize=8, frameon=False)
    ax.set_xticks(range(len(steps)))
    ax.set_xticklabels(steps, fontsize=9)
    ax.set_ylabel('通道数')
    ax.set_ylim(0, table['通道数'].max() * 1.3)
    ax.spines[['top', 'right']].set_visible(False)
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def dense_block_explorer(num_convs=2, growth_rate=10, in_channels=3,
                         transition=False, batch_size=4, size=8):
    """How ``DenseBlock(num_convs, growth_rate)`` (``growth_rate`` is the notes'
    ``num_channels``), optionally followed by ``transition_block``, grows a
    ``(batch_size, in_channels, size, size)`` input: ``text`` (output shape,
    ``in + num_convs × growth = out``, parameters), ``table``
    (:func:`dense_block_steps`) and ``figure`` (:func:`growth_chart`)."""
    table = dense_block_steps(num_convs, growth_rate, in_channels, transition,
                              batch_size, size)
    block_rows = table.drop(index=TRANSITION, errors='ignore')
    block_out = block_rows['输出形状'].iloc[-1]
    block_params = int(block_rows['参数数量'].sum())
    lines = [
        'DenseBlock(%d, %d)：输入 %s → 输出 %s'
        % (num_convs, growth_rate, table['输出形状'].iloc[0], block_out),
        '通道数：%d + %d × %d = %d（每个卷积块增加 growth_rate = %d 个通道）'
        % (in_channels, num_convs, growth_rate, block_out[1], growth_rate),
        '稠密块的参数数量：{:,}'.format(block_params),
    ]
    title = 'DenseBlock(%d, %d)：%d + %d × %d = %d 个通道' % (
        num_convs, growth_rate, in_channels, num_convs, growth_rate, block_out[1])
    if transition:
        row = table.loc[TRANSITION]
        lines += [
            'transition_block(%d) → 输出 %s：通道数减半（%d // 2 = %d），高和宽减半'
            '（%d // 2 = %d）' % (row['通道数'], row['输出形状'], block_out[1],
                                row['通道数'], size, row['输出形状'][2]),
            '过渡层的参数数量：{:,}；合计：{:,}'.format(
                int(row['参数数量']), int(table['参数数量'].sum())),
        ]
        title += '，过渡层之后 %d 个' % row['通道数']
    return ExplorerResult(text='\n'.join(lines), table=table,
                          figure=growth_chart(table, title))
