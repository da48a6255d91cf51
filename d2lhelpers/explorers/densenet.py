"""Explorer of the DenseNet section: how a dense block grows the channels.

``dense_block_growth(num_convs, growth_rate, in_channels, transition)`` builds
the real ``DenseBlock`` (and ``transition_block``) of
:mod:`d2lhelpers.models.densenet`, runs one batch through it and reports the
channel count after each convolution's concatenation, the output shape and
the parameters. Nothing is computed from a formula: the numbers are read off
the forward pass, so they match the code the learner reads.
"""
import numpy as np
from matplotlib.figure import Figure
from mxnet import autograd, nd

from ..models.densenet import DenseBlock, transition_block
from ..shapes import param_count

__all__ = ['dense_block_growth', 'dense_block_steps', 'growth_chart']

INPUT_COLOR = '#b8b8b8'
GROWTH_COLORS = ('#3b6c9e', '#6c9fd0')  # alternate, so each conv's share shows
TRANSITION_COLOR = '#b9770e'


def _check_int(name, value, minimum, why):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError('%s must be a whole number, not %r.' % (name, value))
    if value < minimum:
        raise ValueError('%s must be at least %d (got %d): %s.'
                         % (name, minimum, value, why))


def dense_block_steps(num_convs=2, growth_rate=10, in_channels=3,
                      transition=False, batch_size=4, size=8):
    """The numbers behind :func:`dense_block_growth`, as a DataFrame.

    One row for the input, one per convolution of ``DenseBlock(num_convs,
    growth_rate)`` (the shape after concatenating its output to its input)
    and, with ``transition``, one for ``transition_block(channels // 2)``.
    Columns: ``channels``, ``added`` (channels this step adds, negative for
    the transition), ``output shape`` and ``params`` (the step's learned
    parameters). Raises ValueError for counts below 1 or a map too small to
    pool.
    """
    import pandas as pd

    _check_int('num_convs', num_convs, 1,
               'a dense block with no convolution returns its input unchanged')
    _check_int('growth_rate', growth_rate, 1,
               'each convolution adds growth_rate channels')
    _check_int('in_channels', in_channels, 1, 'an input has at least one channel')
    _check_int('batch_size', batch_size, 1, 'a batch holds at least one example')
    _check_int('size', size, 2 if transition else 1,
               'the transition layer pools 2×2 windows')

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

    rows = [('input', in_channels, 0, tuple(X.shape), 0)]
    for i, ((x_shape, y_shape), cb) in enumerate(zip(seen, blk.net), 1):
        # DenseBlock.forward concatenates the conv's output to its input
        channels = x_shape[1] + y_shape[1]
        rows.append(('conv %d' % i, channels, y_shape[1],
                     (x_shape[0], channels) + tuple(x_shape[2:]),
                     param_count(cb)))
    if tuple(Y.shape) != rows[-1][3]:  # the hooks must agree with the block
        raise RuntimeError('DenseBlock output %s differs from the recorded '
                           'steps %s.' % (Y.shape, rows[-1][3]))
    if transition:
        trans = transition_block(Y.shape[1] // 2)
        trans.initialize()
        with autograd.pause(train_mode=False):
            Z = trans(Y)
        rows.append(('transition', Z.shape[1], Z.shape[1] - Y.shape[1],
                     tuple(Z.shape), param_count(trans)))
    table = pd.DataFrame([r[1:] for r in rows],
                         columns=['channels', 'added', 'output shape', 'params'],
                         index=pd.Index([r[0] for r in rows], name='step'))
    for col in ('channels', 'added', 'params'):
        table[col] = table[col].astype('int64')
    return table


def growth_chart(table, title=None):
    """A bar chart of ``table['channels']`` (a :func:`dense_block_steps` table).

    The input's channels are grey; each convolution's ``growth_rate`` new
    channels are stacked in alternating blues; the transition's bar is orange.
    Labels are English so no CJK font is needed.
    """
    fig = Figure(figsize=(max(4.0, 0.75 * len(table) + 1.5), 3.0))
    ax = fig.add_subplot(1, 1, 1)
    steps = list(table.index)
    in_channels = int(table['channels'].iloc[0])
    for x, step in enumerate(steps):
        channels = int(table.loc[step, 'channels'])
        if step == 'transition':
            ax.bar(x, channels, color=TRANSITION_COLOR, width=0.7)
        else:
            ax.bar(x, in_channels, color=INPUT_COLOR, width=0.7)
            bottom = in_channels
            for k in range(x):  # conv k+1 adds its channels on top
                added = int(table['added'].iloc[k + 1])
                ax.bar(x, added, bottom=bottom, width=0.7,
                       color=GROWTH_COLORS[k % 2])
                bottom += added
        ax.text(x, channels, str(channels), ha='center', va='bottom', fontsize=9)
    from matplotlib.patches import Patch
    handles = [Patch(color=INPUT_COLOR, label='input channels'),
               Patch(color=GROWTH_COLORS[0], label='added by the convs')]
    if 'transition' in steps:
        handles.append(Patch(color=TRANSITION_COLOR, label='after transition'))
    ax.legend(handles=handles, loc='upper left', fontsize=8, frameon=False)
    ax.set_xticks(range(len(steps)))
    ax.set_xticklabels(steps, fontsize=9)
    ax.set_ylabel('channels')
    ax.set_ylim(0, table['channels'].max() * 1.3)
    ax.spines[['top', 'right']].set_visible(False)
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def dense_block_growth(num_convs=2, growth_rate=10, in_channels=3,
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
    (str, pandas.DataFrame, matplotlib.figure.Figure)
        A summary (output shape, ``in + num_convs × growth = out`` and the
        parameter count), the step table of :func:`dense_block_steps` and its
        bar chart.
    """
    table = dense_block_steps(num_convs, growth_rate, in_channels, transition,
                              batch_size, size)
    block_rows = table.drop(index='transition', errors='ignore')
    block_out = block_rows['output shape'].iloc[-1]
    block_params = int(block_rows['params'].sum())
    lines = [
        'DenseBlock(%d, %d) on input %s -> output %s'
        % (num_convs, growth_rate, table['output shape'].iloc[0], block_out),
        'channels: %d + %d × %d = %d (each conv adds growth_rate = %d)'
        % (in_channels, num_convs, growth_rate, block_out[1], growth_rate),
        'parameters of the dense block: {:,}'.format(block_params),
    ]
    title = 'DenseBlock(%d, %d): %d + %d × %d = %d channels' % (
        num_convs, growth_rate, in_channels, num_convs, growth_rate, block_out[1])
    if transition:
        row = table.loc['transition']
        lines += [
            'transition_block(%d) -> output %s: channels halved (%d // 2 = %d), '
            'height and width halved (%d // 2 = %d)'
            % (row['channels'], row['output shape'], block_out[1], row['channels'],
               size, row['output shape'][2]),
            'parameters of the transition layer: {:,}; total: {:,}'.format(
                int(row['params']), int(table['params'].sum())),
        ]
        title += ', then transition -> %d' % row['channels']
    return '\n'.join(lines), table, growth_chart(table, title)
