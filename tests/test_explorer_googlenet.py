"""d2lhelpers.explorers.googlenet: the GoogLeNet notebook's explorers without any UI."""
import matplotlib
matplotlib.use('Agg')

import d2lhelpers  # noqa: F401  (sets OMP_NUM_THREADS before mxnet loads)

import math

import ipywidgets as widgets
import numpy as np
import pytest
from matplotlib.figure import Figure
from mxnet import nd
from mxnet.gluon import nn

from d2lhelpers.explorers import googlenet as G
from d2lhelpers.explorers import smallest_input
from d2lhelpers.models import Inception, googlenet
from d2lhelpers.widgets import Explorer


def conv_params(c_in, c_out, k):
    """Weights plus biases of a k×k convolution, counted by hand (the reference)."""
    return c_in * c_out * k * k + c_out


def inception_params(c_in, c1, c2, c3, c4):
    return (conv_params(c_in, c1, 1) + conv_params(c_in, c2[0], 1)
            + conv_params(c2[0], c2[1], 3) + conv_params(c_in, c3[0], 1)
            + conv_params(c3[0], c3[1], 5) + conv_params(c_in, c4, 1))


@pytest.fixture(scope='module')
def net():
    net = googlenet()
    net.initialize()
    net(nd.zeros((1, 1, 96, 96)))
    return net


# ------------------------------------------------------------ strings
@pytest.mark.parametrize('channels, text', [
    ((64, 128, 32, 32), '64:128:32:32 = 2:4:1:1'),
    ((128, 192, 96, 64), '128:192:96:64 = 4:6:3:2'),
    ((3, 5, 7, 11), '3:5:7:11（没有公因数）'),
])
def test_channel_ratio(channels, text):
    assert G.channel_ratio(channels) == text


def test_reduction():
    assert G.reduction(96, 192) == '96/192 = 1/2'
    assert G.reduction(16, 192) == '16/192 = 1/12'
    assert G.reduction(32, 256) == '32/256 = 1/8'
    assert G.reduction(192, 192) == '192/192 = 1'


@pytest.mark.parametrize('args, words', [
    ((96, 0), 'in_channels 应在 不小于 1'), ((0, 96), 'reduced 应在 不小于 1'),
    ((2.5, 96), 'reduced 应是整数')])
def test_reduction_refuses_impossible_counts(args, words):
    with pytest.raises(ValueError, match=words):
        G.reduction(*args)


def test_channel_share_figure_refuses_empty_paths():
    with pytest.raises(ValueError, match='c1 应在 1 到 4096 之间，收到的是 0'):
        G.channel_share_figure(0, 0, 0, 0)
    labels = [t.get_text() for t in G.channel_share_figure(64, 128, 32, 32).axes[0].texts]
    assert labels == ['64（25.0%）', '128（50.0%）', '32（12.5%）', '32（12.5%）']


def test_describe_inception_states_the_notes_numbers(net):
    blocks = dict(G.inception_blocks(net))
    assert list(blocks) == ['b3.1', 'b3.2', 'b4.1', 'b4.2', 'b4.3', 'b4.4', 'b4.5',
                            'b5.1', 'b5.2']
    first = G.describe_inception(blocks['b3.1'])
    assert first == ('64 + 128 + 32 + 32 = 256 个输出通道；比例 64:128:32:32 = 2:4:1:1；'
                     '线路 2 在 3×3 卷积之前把 192 个输入通道减到 96 个（96/192 = 1/2）；'
                     '线路 3 在 5×5 卷积之前把 192 个输入通道减到 16 个（16/192 = 1/12）。')
    second = G.describe_inception(blocks['b3.2'])
    assert '= 480 个输出通道' in second and '4:6:3:2' in second
    assert '128/256 = 1/2' in second and '32/256 = 1/8' in second
    outs = [int(G.describe_inception(b).split(' 个输出')[0].split('= ')[-1])
            for b in blocks.values()]
    assert outs == [256, 480, 512, 512, 512, 528, 832, 832, 1024]


def test_describe_needs_a_forward_pass():
    with pytest.raises(ValueError, match='前向计算'):
        G.describe_inception(Inception(1, (1, 1), (1, 1), 1))
    with pytest.raises(ValueError, match='不是 Inception 块'):
        G.inception_channels(nn.Dense(3))


def test_widening_reduction_is_explained():
    text = G.inception_explorer(c2_0=400, in_channels=192).text
    assert '把 192 个输入通道增加到 400 个（400/192 = 25/12）' in text


# ------------------------------------------------- Inception explorer
def test_inception_explorer_defaults():
    result = G.inception_explorer()
    table, text, share, drawing = result.table, result.text, result.figure, result.diagram
    assert list(table.index) == list(G.PATH_NAMES) + ['连结']
    assert list(table.columns) == ['层', '输出形状', '参数数量', '通道占比']
    assert list(table['输出形状']) == [(1, 64, 12, 12), (1, 128, 12, 12),
                                           (1, 32, 12, 12), (1, 32, 12, 12),
                                           (1, 256, 12, 12)]
    expected = [conv_params(192, 64, 1),
                conv_params(192, 96, 1) + conv_params(96, 128, 3),
                conv_params(192, 16, 1) + conv_params(16, 32, 5),
                conv_params(192, 32, 1)]
    assert list(table['参数数量']) == expected + [sum(expected)]
    assert sum(expected) == inception_params(192, 64, (96, 128), (16, 32), 32)
    assert list(table['通道占比']) == ['25.0%', '50.0%', '12.5%', '12.5%', '100.0%']
    assert '64 + 128 + 32 + 32 = 256 个通道' in text
    assert '2:4:1:1' in text and '96/192 = 1/2' in text and '16/192 = 1/12' in text
    assert '参数数量：%d' % sum(expected) in text
    assert isinstance(share, Figure) and isinstance(drawing, Figure)
    labels = [t.get_text() for ax in drawing.axes for t in ax.texts]
    assert '输入 192×12×12' in labels and '输出 256×12×12' in labels
    assert any('5×5, 32' in l for l in labels)


@pytest.mark.parametrize('kw', [
    dict(c1=5, c2_0=7, c2_1=9, c3_0=2, c3_1=3, c4=1, in_channels=3, height=1, width=1),
    dict(c1=1, c2_0=300, c2_1=2, c3_0=1, c3_1=1, c4=8, in_channels=20, height=7, width=3),
])
def test_inception_explorer_other_values(kw):
    table = G.inception_explorer(**kw).table
    total = kw['c1'] + kw['c2_1'] + kw['c3_1'] + kw['c4']
    assert table.loc['连结', '输出形状'] == (1, total, kw['height'], kw['width'])
    assert table.loc['连结', '参数数量'] == inception_params(
        kw['in_channels'], kw['c1'], (kw['c2_0'], kw['c2_1']),
        (kw['c3_0'], kw['c3_1']), kw['c4'])


@pytest.mark.parametrize('kw, words', [
    (dict(c1=0), 'c1 应在 1 到 1024 之间，收到的是 0；Inception 块里每个卷积层至少输出 1 个通道'),
    (dict(c2_0=0), r'c2\[0\] 应在 1 到 1024 之间，收到的是 0'),
    (dict(c3_1=-3), r'c3\[1\] 应在 1 到 1024 之间，收到的是 -3'),
    (dict(c4=0), 'c4 应在 1 到 1024 之间'),
    (dict(in_channels=0), 'in_channels 应在 1 到 1024 之间'),
    (dict(height=0), 'height 应在 1 到 128 之间'),
    (dict(width=0), 'width 应在 1 到 128 之间'),
    (dict(c1=2.5), 'c1 应是整数'),
    # issue 17: 6.1 GB before failing
    (dict(height=2800, width=2800), 'height 应在 1 到 128 之间，收到的是 2800'),
    (dict(in_channels=15000), 'in_channels 应在 1 到 1024 之间，收到的是 15000'),
])
def test_inception_explorer_rejects_impossible_values(kw, words):
    with pytest.raises(ValueError, match=words):
        G.inception_explorer(**kw)


def test_numpy_integers_are_whole_numbers():
    result = G.inception_explorer(c1=np.int64(8), in_channels=np.int32(16), height=np.int64(5))
    assert result.table.loc['连结', '输出形状'] == (1, 200, 5, 12)


def test_inception_explorer_in_an_explorer_recovers():
    ex = Explorer(G.inception_explorer,
                  c1=widgets.IntSlider(64, 0, 512),
                  height=widgets.IntSlider(12, 1, 64))
    assert ex.error is None
    ex.controls['c1'].value = 0
    assert ex.result is None and 'c1 应在 1 到 1024 之间，收到的是 0' in ex.error
    assert 'Traceback' not in ex.message.value
    ex.controls['c1'].value = 8
    assert ex.error is None
    assert ex.result.table.loc['连结', '输出形状'] == (1, 200, 12, 12)


# ------------------------------------------------- resolution explorer
def halve(n, times):
    for _ in range(times):
        n = math.ceil(n / 2)  # 3×3 pool / 7×7 conv with stride 2 and padding
    return n


def test_smallest_input_matches_five_halvings():
    smallest = smallest_input(googlenet, fits=G.b5_larger_than_1x1)
    assert G._halvings() == 5
    assert halve(smallest, 5) > 1 and halve(smallest - 1, 5) == 1
    assert smallest == 33


@pytest.mark.parametrize('size', [33, 57, 96, 224])
def test_module_shapes(size, net):
    table = G.module_shapes(size)
    assert list(table.index) == ['b1', 'b2', 'b3', 'b4', 'b5', '全连接层']
    assert list(table.columns) == ['输入形状', '输出形状', '参数数量']
    assert table.loc['b1', '输入形状'] == (1, 1, size, size)
    assert [table.loc[m, '输入形状'][2] for m in ['b2', 'b3', 'b4', 'b5']] == \
        [halve(size, k) for k in (2, 3, 4, 5)]
    assert [table.loc[m, '输出形状'][1] for m in table.index] == \
        [64, 192, 480, 832, 1024, 10]
    # each module's input is the previous module's output
    for a, b in zip(table.index[:-1], table.index[1:]):
        assert table.loc[a, '输出形状'] == table.loc[b, '输入形状']
    assert table['参数数量'].sum() == d2lhelpers.param_count(net)


def test_module_shapes_never_fail_for_small_inputs():
    table = G.module_shapes(1)
    assert table.loc['b5', '输入形状'] == (1, 832, 1, 1)
    assert table.loc['全连接层', '输出形状'] == (1, 10)
    with pytest.raises(ValueError, match='size 应在 1 到 512 之间，收到的是 0'):
        G.module_shapes(0)
    with pytest.raises(ValueError, match='size 应在 1 到 512 之间，收到的是 2800'):
        G.resolution_explorer(2800)


def test_resolution_explorer():
    result = G.resolution_explorer(96)
    assert result.table.loc['b5', '输入形状'] == (1, 832, 3, 3)
    assert result.text == (
        '输入为 96×96 时，各模块的输入：b1 96×96、b2 24×24、b3 12×12、b4 6×6、b5 3×3；'
        'b5 末尾的全局平均池化把 3×3 变成 1×1，所以全连接层总是得到 1024 个特征。'
        'b5 收到大于 1×1 的特征图所需的最小输入：33×33。')


@pytest.mark.parametrize('size, first', [(20, 'b5'), (28, 'b5'), (32, 'b5'),
                                         (16, 'b4'), (8, 'b3'), (1, 'b1')])
def test_resolution_explorer_below_the_minimum_is_a_sentence(size, first):
    with pytest.raises(ValueError) as err:
        G.resolution_explorer(size)
    text = str(err.value)
    assert text.startswith('输入为 %d×%d 时，特征图在 %s 的输入处已经只有 1×1'
                           % (size, size, first))
    assert text.endswith('输入至少要 33×33。') and '把高和宽减半了 5 次' in text


def test_resolution_explorer_in_an_explorer_recovers():
    ex = Explorer(G.resolution_explorer, size=widgets.IntSlider(96, 1, 224))
    ex.controls['size'].value = 20
    assert ex.result is None and ex.error.startswith('输入为 20×20 时')
    ex.controls['size'].value = 33
    assert ex.error is None and ex.result.table.loc['b5', '输入形状'] == (1, 832, 2, 2)


# ------------------------------------------------ per-block table
class NoReduction(nn.Block):
    def __init__(self, c1, c2, c3, c4, **kwargs):
        super().__init__(**kwargs)
        self.p1 = nn.Conv2D(c1, kernel_size=1)
        self.p2 = nn.Conv2D(c2[1], kernel_size=3, padding=1)
        self.p3 = nn.Conv2D(c3[1], kernel_size=5, padding=2)
        self.p4_1 = nn.MaxPool2D(pool_size=3, strides=1, padding=1)
        self.p4_2 = nn.Conv2D(c4, kernel_size=1)

    def forward(self, x):
        return nd.concat(self.p1(x), self.p2(x), self.p3(x),
                         self.p4_2(self.p4_1(x)), dim=1)


def test_inception_table(net):
    table = G.inception_table(net, (1, 1, 96, 96), variant=NoReduction)
    assert list(table.index) == ['b3.1', 'b3.2', 'b4.1', 'b4.2', 'b4.3', 'b4.4',
                                 'b4.5', 'b5.1', 'b5.2']
    assert list(table['输出通道数']) == [256, 480, 512, 512, 512, 528, 832, 832, 1024]
    assert list(table['输入'][:3]) == ['192×12×12', '256×12×12', '480×6×6']
    assert table.loc['b3.1', '比例'] == '2:4:1:1'
    assert table.loc['b3.2', '比例'] == '4:6:3:2'
    for name, row in table.iterrows():
        c_in = int(row['输入'].split('×')[0])
        assert row['参数数量'] == inception_params(c_in, row['c1'], row['c2'],
                                                 row['c3'], row['c4'])
        assert row['单个3×3卷积参数数量'] == conv_params(c_in, row['输出通道数'], 3)
        assert row['变体参数数量'] == (
            conv_params(c_in, row['c1'], 1) + conv_params(c_in, row['c2'][1], 3)
            + conv_params(c_in, row['c3'][1], 5) + conv_params(c_in, row['c4'], 1))
    assert table['参数数量'].sum() < d2lhelpers.param_count(net)


def test_inception_table_rejects_a_variant_of_another_shape(net):
    class Wrong(NoReduction):
        def forward(self, x):
            return self.p1(x)

    with pytest.raises(ValueError, match='保持输出形状不变'):
        G.inception_table(net, (1, 1, 96, 96), variant=Wrong)


def test_functions_leave_the_random_state_alone():
    import mxnet as mx
    mx.random.seed(7)
    a = nd.random.uniform(shape=(3,)).asnumpy()
    mx.random.seed(7)
    G.inception_explorer()
    G.module_shapes(40)
    b = nd.random.uniform(shape=(3,)).asnumpy()
    assert (a == b).all()


def test_inception_blocks_of_one_module(net):
    assert [n for n, _ in G.inception_blocks(net, 'b4')] == ['b4.1', 'b4.2', 'b4.3',
                                                             'b4.4', 'b4.5']
    assert G.inception_blocks(net, 'b1') == []
    with pytest.raises(ValueError, match='module 应是'):
        G.inception_blocks(net, 'b6')
