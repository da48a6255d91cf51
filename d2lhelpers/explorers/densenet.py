"""Explorer of the DenseNet section: how a dense block grows the channels.

``dense_block_explorer(num_convs, growth_rate, in_channels, transition)``
builds the real ``DenseBlock`` (and ``transition_block``) of
:mod:`d2lhelpers.models.densenet`, runs one batch through it and reports the
channel count after each convolution's concatenation, the output shape and
the parameters. Nothing is computed from a formula: the numbers are read off
the forward pass, so they match the code the learner reads.
"""
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from mxnet import autograd, nd

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
    """The numbers behind :func:`dense_block_explorer`, as a DataFrame.

    One row for the input, one per convolution of ``DenseBlock(num_convs,
    growth_rate)`` (the shape after concatenating its output to its input)
    and, with ``transition``, one for ``transition_block(channels // 2)``.
    Columns: ``通道数``, ``新增通道数`` (channels this step adds, negative for
    the transition), ``输出形状`` and ``参数数量`` (the step's learned
    parameters). Raises ValueError for counts below 1, a map too small to
    pool, or values beyond what runs in a second or two on a laptop
    (16 convolutions, growth rate 64, 256 input channels, batch 8, size 32).
    """
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
    seen = []  # (input shape, output shape) of every conv_block, in call order

    def record(block, inputs, output):
        seen.append((inputs[0].shape, output.shape))

    handles = [cb.register_forward_hook(record) for cb in blk.net]
    X = nd.zeros((batch_size, in_channels, size, size))
    try:
        with autograd.pause(train_mode=False):
            Y = blk(X)
    finally:
        for h in handles:
            h.detach()

    rows = [(INPUT, in_channels, 0, tuple(X.shape), 0)]
    for i, ((x_shape, y_shape), cb) in enumerate(zip(seen, blk.net), 1):
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
    for col in ('通道数', '新增通道数', '参数数量'):
        table[col] = table[col].astype('int64')
    return table


def growth_chart(table, title=None):
    """A bar chart of ``table['通道数']`` (a :func:`dense_block_steps` table).

    The input's channels are grey; each convolution's ``growth_rate`` new
    channels are stacked in alternating blues; the transition's bar is orange.
    """
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
    """How ``DenseBlock(num_convs, growth_rate)`` grows an input's channels.

    Parameters
    ----------
    num_convs : int
        Convolutions (``conv_block``) in the dense block.
    growth_rate : int
        Output channels of each convolution (``num_channels`` in the notes).
    in_channels : int
        Channels of the input.
    transition : bool
        Follow the block by ``transition_block(channels // 2)``, as DenseNet
        does between its dense blocks.
    batch_size, size : int
        The input is ``(batch_size, in_channels, size, size)``; the notes'
        example uses ``(4, 3, 8, 8)``.

    Returns
    -------
    ExplorerResult
        ``text``: the output shape, ``in + num_convs × growth = out`` and the
        parameters; ``table``: :func:`dense_block_steps`; ``figure``: its
        bar chart.
    """
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
