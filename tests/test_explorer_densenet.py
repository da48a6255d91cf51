"""d2lhelpers.explorers.densenet: channel growth of a dense block, without a UI."""
import matplotlib
matplotlib.use('Agg')

import d2lhelpers  # noqa: F401  (sets OMP_NUM_THREADS before mxnet loads)

import ipywidgets as widgets
import pytest
from matplotlib.figure import Figure
from mxnet import nd

from d2lhelpers.explorers.densenet import (dense_block_growth, dense_block_steps,
                                           growth_chart)
from d2lhelpers.models import DenseBlock, transition_block
from d2lhelpers.shapes import param_count
from d2lhelpers.widgets import Explorer


def conv_block_params(c_in, g):
    return 2 * c_in + c_in * g * 3 * 3 + g  # BatchNorm gamma/beta, 3x3 conv, bias


def test_the_notes_example():
    table = dense_block_steps(2, 10, 3)
    assert list(table.index) == ['input', 'conv 1', 'conv 2']
    assert list(table['channels']) == [3, 13, 23]
    assert list(table['added']) == [0, 10, 10]
    assert table['output shape'].iloc[-1] == (4, 23, 8, 8)
    assert list(table['params']) == [0, conv_block_params(3, 10),
                                     conv_block_params(13, 10)]


def test_matches_a_real_dense_block():
    blk = DenseBlock(3, 7)
    blk.initialize()
    Y = blk(nd.zeros((2, 5, 6, 6)))
    table = dense_block_steps(3, 7, 5, batch_size=2, size=6)
    assert table['output shape'].iloc[-1] == Y.shape
    assert table['params'].sum() == param_count(blk)


def test_transition_halves_channels_and_size():
    table = dense_block_steps(4, 32, 64, transition=True)
    assert list(table['channels']) == [64, 96, 128, 160, 192, 96]
    row = table.loc['transition']
    assert row['output shape'] == (4, 96, 4, 4)
    assert row['added'] == -96
    trans = transition_block(96)
    trans.initialize()
    trans(nd.zeros((1, 192, 8, 8)))
    assert row['params'] == param_count(trans) == 2 * 192 + 192 * 96 + 96


def test_odd_sizes_round_down():
    table = dense_block_steps(1, 3, 1, transition=True, size=7)
    # 1 + 3 = 4 channels -> 2; 7 x 7 -> 3 x 3
    assert table.loc['transition', 'output shape'] == (4, 2, 3, 3)


def test_summary_text_and_chart():
    text, table, fig = dense_block_growth(2, 10, 3)
    assert text.splitlines() == [
        'DenseBlock(2, 10) on input (4, 3, 8, 8) -> output (4, 23, 8, 8)',
        'channels: 3 + 2 × 10 = 23 (each conv adds growth_rate = 10)',
        'parameters of the dense block: 1,492',
    ]
    assert table['params'].sum() == 1492
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ['input', 'conv 1', 'conv 2']
    assert [t.get_text() for t in ax.texts] == ['3', '13', '23']
    # input bar + (input + 1 growth) + (input + 2 growths)
    assert len(ax.patches) == 1 + 2 + 3


def test_summary_with_transition():
    text, table, fig = dense_block_growth(4, 32, 64, True)
    lines = text.splitlines()
    assert lines[-2] == ('transition_block(96) -> output (4, 96, 4, 4): channels halved '
                         '(192 // 2 = 96), height and width halved (8 // 2 = 4)')
    assert lines[-1] == 'parameters of the transition layer: 18,912; total: 148,960'
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()][-1] == 'transition'
    assert isinstance(growth_chart(table), Figure)


def test_deterministic():
    assert dense_block_growth()[0] == dense_block_growth()[0]
    assert dense_block_growth()[1].equals(dense_block_growth()[1])


@pytest.mark.parametrize('kwargs, message', [
    (dict(num_convs=0), 'num_convs must be at least 1'),
    (dict(growth_rate=0), 'growth_rate must be at least 1'),
    (dict(in_channels=-2), 'in_channels must be at least 1'),
    (dict(num_convs=2.5), 'num_convs must be a whole number'),
    (dict(transition=True, size=1), 'pools 2×2 windows'),
])
def test_bad_values_are_sentences(kwargs, message):
    with pytest.raises(ValueError, match=message):
        dense_block_growth(**kwargs)


def test_wired_to_an_explorer():
    ex = Explorer(dense_block_growth,
                  num_convs=widgets.IntSlider(2, 0, 8),
                  growth_rate=widgets.IntSlider(10, 1, 64),
                  in_channels=widgets.IntSlider(3, 1, 256),
                  transition=widgets.Checkbox(False))
    assert ex.result[1]['channels'].iloc[-1] == 23
    ex.controls['transition'].value = True
    assert ex.result[1].loc['transition', 'output shape'] == (4, 11, 4, 4)
    ex.controls['num_convs'].value = 0
    assert ex.result is None and 'num_convs must be at least 1' in ex.error
