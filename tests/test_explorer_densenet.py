"""d2lhelpers.explorers.densenet: channel growth of a dense block, without a UI."""
import matplotlib
matplotlib.use('Agg')

import d2lhelpers  # noqa: F401  (sets OMP_NUM_THREADS before mxnet loads)

import ipywidgets as widgets
import pytest
from matplotlib.figure import Figure
from mxnet import nd

from d2lhelpers.explorers.densenet import (dense_block_explorer, dense_block_steps,
                                           growth_chart)
from d2lhelpers.models import DenseBlock, transition_block
from d2lhelpers.shapes import param_count
from d2lhelpers.widgets import Explorer


def conv_block_params(c_in, g):
    return 2 * c_in + c_in * g * 3 * 3 + g  # BatchNorm gamma/beta, 3x3 conv, bias


def test_the_notes_example():
    table = dense_block_steps(2, 10, 3)
    assert list(table.index) == ['输入', '卷积块 1', '卷积块 2']
    assert list(table.columns) == ['通道数', '新增通道数', '输出形状', '参数数量']
    assert list(table['通道数']) == [3, 13, 23]
    assert list(table['新增通道数']) == [0, 10, 10]
    assert table['输出形状'].iloc[-1] == (4, 23, 8, 8)
    assert list(table['参数数量']) == [0, conv_block_params(3, 10),
                                     conv_block_params(13, 10)]


def test_matches_a_real_dense_block():
    blk = DenseBlock(3, 7)
    blk.initialize()
    Y = blk(nd.zeros((2, 5, 6, 6)))
    table = dense_block_steps(3, 7, 5, batch_size=2, size=6)
    assert table['输出形状'].iloc[-1] == Y.shape
    assert table['参数数量'].sum() == param_count(blk)


def test_transition_halves_channels_and_size():
    table = dense_block_steps(4, 32, 64, transition=True)
    assert list(table['通道数']) == [64, 96, 128, 160, 192, 96]
    row = table.loc['过渡层']
    assert row['输出形状'] == (4, 96, 4, 4)
    assert row['新增通道数'] == -96
    trans = transition_block(96)
    trans.initialize()
    trans(nd.zeros((1, 192, 8, 8)))
    assert row['参数数量'] == param_count(trans) == 2 * 192 + 192 * 96 + 96


def test_odd_sizes_round_down():
    table = dense_block_steps(1, 3, 1, transition=True, size=7)
    # 1 + 3 = 4 channels -> 2; 7 x 7 -> 3 x 3
    assert table.loc['过渡层', '输出形状'] == (4, 2, 3, 3)


def test_summary_text_and_chart():
    result = dense_block_explorer(2, 10, 3)
    text, table, fig = result.text, result.table, result.figure
    assert text.splitlines() == [
        'DenseBlock(2, 10)：输入 (4, 3, 8, 8) → 输出 (4, 23, 8, 8)',
        '通道数：3 + 2 × 10 = 23（每个卷积块增加 growth_rate = 10 个通道）',
        '稠密块的参数数量：1,492',
    ]
    assert table['参数数量'].sum() == 1492
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert ax.get_title() == 'DenseBlock(2, 10)：3 + 2 × 10 = 23 个通道'
    assert ax.get_ylabel() == '通道数'
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ['输入的通道', '卷积块新增的通道']
    assert [t.get_text() for t in ax.get_xticklabels()] == ['输入', '卷积块 1', '卷积块 2']
    assert [t.get_text() for t in ax.texts] == ['3', '13', '23']
    # input bar + (input + 1 growth) + (input + 2 growths)
    assert len(ax.patches) == 1 + 2 + 3


def test_summary_with_transition():
    result = dense_block_explorer(4, 32, 64, True)
    text, table, fig = result.text, result.table, result.figure
    lines = text.splitlines()
    assert lines[-2] == ('transition_block(96) → 输出 (4, 96, 4, 4)：通道数减半'
                         '（192 // 2 = 96），高和宽减半（8 // 2 = 4）')
    assert lines[-1] == '过渡层的参数数量：18,912；合计：148,960'
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()][-1] == '过渡层'
    assert isinstance(growth_chart(table), Figure)


def test_deterministic():
    assert dense_block_explorer().text == dense_block_explorer().text
    assert dense_block_explorer().table.equals(dense_block_explorer().table)


@pytest.mark.parametrize('kwargs, message', [
    (dict(num_convs=0), 'num_convs 应在 1 到 16 之间，收到的是 0；没有卷积块的稠密块原样返回输入'),
    (dict(growth_rate=0), 'growth_rate 应在 1 到 64 之间'),
    (dict(in_channels=-2), 'in_channels 应在 1 到 256 之间'),
    (dict(num_convs=2.5), 'num_convs 应是整数'),
    (dict(transition=True, size=1), '过渡层做 2×2 的平均池化'),
    (dict(transition='yes'), 'transition 应是 True 或 False'),
    # issue 17: over 90 s before this
    (dict(num_convs=300), 'num_convs 应在 1 到 16 之间，收到的是 300'),
    (dict(batch_size=10 ** 5), 'batch_size 应在 1 到 8 之间'),
])
def test_bad_values_are_sentences(kwargs, message):
    with pytest.raises(ValueError, match=message):
        dense_block_explorer(**kwargs)


def test_wired_to_an_explorer():
    ex = Explorer(dense_block_explorer,
                  num_convs=widgets.IntSlider(2, 0, 8),
                  growth_rate=widgets.IntSlider(10, 1, 64),
                  in_channels=widgets.IntSlider(3, 1, 256),
                  transition=widgets.Checkbox(False))
    assert ex.result.table['通道数'].iloc[-1] == 23
    ex.controls['transition'].value = True
    assert ex.result.table.loc['过渡层', '输出形状'] == (4, 11, 4, 4)
    ex.controls['num_convs'].value = 0
    assert ex.result is None and 'num_convs 应在 1 到 16 之间' in ex.error
