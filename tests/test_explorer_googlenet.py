"""d2lhelpers.explorers.googlenet: the GoogLeNet notebook's explorers without any UI."""
import matplotlib
matplotlib.use('Agg')

import d2lhelpers  # noqa: F401  (sets OMP_NUM_THREADS before mxnet loads)

import math

import ipywidgets as widgets
import pytest
from matplotlib.figure import Figure
from mxnet import nd
from mxnet.gluon import nn

from d2lhelpers.explorers import googlenet as G
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
    ((3, 5, 7, 11), '3:5:7:11 (no common factor)'),
])
def test_channel_ratio(channels, text):
    assert G.channel_ratio(channels) == text


def test_reduction():
    assert G.reduction(96, 192) == '96/192 = 1/2'
    assert G.reduction(16, 192) == '16/192 = 1/12'
    assert G.reduction(32, 256) == '32/256 = 1/8'
    assert G.reduction(192, 192) == '192/192 = 1'


def test_describe_inception_states_the_notes_numbers(net):
    blocks = dict(G.inception_blocks(net))
    assert list(blocks) == ['b3.1', 'b3.2', 'b4.1', 'b4.2', 'b4.3', 'b4.4', 'b4.5',
                            'b5.1', 'b5.2']
    first = G.describe_inception(blocks['b3.1'])
    assert first.startswith('64 + 128 + 32 + 32 = 256 output channels')
    assert '2:4:1:1' in first and '96/192 = 1/2' in first and '16/192 = 1/12' in first
    second = G.describe_inception(blocks['b3.2'])
    assert '= 480 output channels' in second and '4:6:3:2' in second
    assert '128/256 = 1/2' in second and '32/256 = 1/8' in second
    outs = [int(G.describe_inception(b).split(' output')[0].split('= ')[-1])
            for b in blocks.values()]
    assert outs == [256, 480, 512, 512, 512, 528, 832, 832, 1024]


def test_describe_needs_a_forward_pass():
    with pytest.raises(ValueError, match='forward pass'):
        G.describe_inception(Inception(1, (1, 1), (1, 1), 1))
    with pytest.raises(ValueError, match='not an Inception block'):
        G.inception_channels(nn.Dense(3))


def test_widening_reduction_is_explained():
    text = G.inception_explorer(c2_0=400, in_channels=192)[1]
    assert 'widens the 192 input channels to 400 (400/192 = 25/12)' in text


# ------------------------------------------------- Inception explorer
def test_inception_explorer_defaults():
    table, text, share, drawing = G.inception_explorer()
    assert list(table.index) == list(G.PATH_NAMES) + ['concatenated']
    assert list(table['output shape']) == [(1, 64, 12, 12), (1, 128, 12, 12),
                                           (1, 32, 12, 12), (1, 32, 12, 12),
                                           (1, 256, 12, 12)]
    expected = [conv_params(192, 64, 1),
                conv_params(192, 96, 1) + conv_params(96, 128, 3),
                conv_params(192, 16, 1) + conv_params(16, 32, 5),
                conv_params(192, 32, 1)]
    assert list(table['params']) == expected + [sum(expected)]
    assert sum(expected) == inception_params(192, 64, (96, 128), (16, 32), 32)
    assert list(table['channels']) == ['25.0%', '50.0%', '12.5%', '12.5%', '100.0%']
    assert '64 + 128 + 32 + 32 = 256 channels' in text
    assert '2:4:1:1' in text and '96/192 = 1/2' in text and '16/192 = 1/12' in text
    assert 'parameters: %d' % sum(expected) in text
    assert isinstance(share, Figure) and isinstance(drawing, Figure)
    labels = [t.get_text() for ax in drawing.axes for t in ax.texts]
    assert 'Input 192×12×12' in labels and 'Output 256×12×12' in labels
    assert any('5×5, 32' in l for l in labels)


@pytest.mark.parametrize('kw', [
    dict(c1=5, c2_0=7, c2_1=9, c3_0=2, c3_1=3, c4=1, in_channels=3, height=1, width=1),
    dict(c1=1, c2_0=300, c2_1=2, c3_0=1, c3_1=1, c4=8, in_channels=20, height=7, width=3),
])
def test_inception_explorer_other_values(kw):
    table, text, _, _ = G.inception_explorer(**kw)
    total = kw['c1'] + kw['c2_1'] + kw['c3_1'] + kw['c4']
    assert table.loc['concatenated', 'output shape'] == (1, total, kw['height'], kw['width'])
    assert table.loc['concatenated', 'params'] == inception_params(
        kw['in_channels'], kw['c1'], (kw['c2_0'], kw['c2_1']),
        (kw['c3_0'], kw['c3_1']), kw['c4'])


@pytest.mark.parametrize('kw, words', [
    (dict(c1=0), 'c1 = 0 is impossible'),
    (dict(c2_0=0), r'c2\[0\] = 0 is impossible'),
    (dict(c3_1=-3), r'c3\[1\] = -3 is impossible'),
    (dict(c4=0), 'c4 = 0 is impossible'),
    (dict(in_channels=0), 'in_channels = 0 is impossible'),
    (dict(height=0), 'height = 0 is impossible'),
    (dict(width=0), 'width = 0 is impossible'),
    (dict(c1=2.5), 'c1 must be a whole number'),
])
def test_inception_explorer_rejects_impossible_values(kw, words):
    with pytest.raises(ValueError, match=words):
        G.inception_explorer(**kw)


def test_inception_explorer_in_an_explorer_recovers():
    ex = Explorer(G.inception_explorer,
                  c1=widgets.IntSlider(64, 0, 512),
                  height=widgets.IntSlider(12, 1, 64))
    assert ex.error is None
    ex.controls['c1'].value = 0
    assert ex.result is None and 'c1 = 0 is impossible' in ex.error
    assert 'Traceback' not in ex.message.value
    ex.controls['c1'].value = 8
    assert ex.error is None
    assert ex.result[0].loc['concatenated', 'output shape'] == (1, 200, 12, 12)


# ------------------------------------------------- resolution explorer
def halve(n, times):
    for _ in range(times):
        n = math.ceil(n / 2)  # 3×3 pool / 7×7 conv with stride 2 and padding
    return n


def test_smallest_input_size_matches_five_halvings():
    smallest = G.smallest_input_size()
    assert G._halvings() == 5
    assert halve(smallest, 5) > 1 and halve(smallest - 1, 5) == 1
    assert smallest == 33


@pytest.mark.parametrize('size', [33, 57, 96, 224])
def test_module_shapes(size, net):
    table = G.module_shapes(size)
    assert list(table.index) == ['b1', 'b2', 'b3', 'b4', 'b5', 'dense']
    assert table.loc['b1', 'input shape'] == (1, 1, size, size)
    assert [table.loc[m, 'input shape'][2] for m in ['b2', 'b3', 'b4', 'b5']] == \
        [halve(size, k) for k in (2, 3, 4, 5)]
    assert [table.loc[m, 'output shape'][1] for m in table.index] == \
        [64, 192, 480, 832, 1024, 10]
    # each module's input is the previous module's output
    for a, b in zip(table.index[:-1], table.index[1:]):
        assert table.loc[a, 'output shape'] == table.loc[b, 'input shape']
    assert table['params'].sum() == d2lhelpers.param_count(net)


def test_module_shapes_never_fail_for_small_inputs():
    table = G.module_shapes(1)
    assert table.loc['b5', 'input shape'] == (1, 832, 1, 1)
    assert table.loc['dense', 'output shape'] == (1, 10)
    with pytest.raises(ValueError, match='size = 0 is impossible'):
        G.module_shapes(0)


def test_resolution_explorer():
    table, text = G.resolution_explorer(96)
    assert table.loc['b5', 'input shape'] == (1, 832, 3, 3)
    assert 'b1 96×96, b2 24×24, b3 12×12, b4 6×6, b5 3×3' in text
    assert '33×33' in text


@pytest.mark.parametrize('size, first', [(20, 'b5'), (28, 'b5'), (32, 'b5'),
                                         (16, 'b4'), (8, 'b3'), (1, 'b1')])
def test_resolution_explorer_below_the_minimum_is_a_sentence(size, first):
    with pytest.raises(ValueError) as err:
        G.resolution_explorer(size)
    text = str(err.value)
    assert text.startswith('At %d×%d the feature maps are already 1×1 at the '
                           'input of %s' % (size, size, first))
    assert 'is 33×33.' in text and 'halves height and width 5 times' in text


def test_resolution_explorer_in_an_explorer_recovers():
    ex = Explorer(G.resolution_explorer, size=widgets.IntSlider(96, 1, 224))
    ex.controls['size'].value = 20
    assert ex.result is None and ex.error.startswith('At 20×20')
    ex.controls['size'].value = 33
    assert ex.error is None and ex.result[0].loc['b5', 'input shape'] == (1, 832, 2, 2)


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
    assert list(table['output']) == [256, 480, 512, 512, 512, 528, 832, 832, 1024]
    assert list(table['input'][:3]) == ['192×12×12', '256×12×12', '480×6×6']
    assert table.loc['b3.1', 'ratio'] == '2:4:1:1'
    assert table.loc['b3.2', 'ratio'] == '4:6:3:2'
    for name, row in table.iterrows():
        c_in = int(row['input'].split('×')[0])
        assert row['params'] == inception_params(c_in, row['c1'], row['c2'],
                                                 row['c3'], row['c4'])
        assert row['one 3×3 conv'] == conv_params(c_in, row['output'], 3)
        assert row['variant params'] == (
            conv_params(c_in, row['c1'], 1) + conv_params(c_in, row['c2'][1], 3)
            + conv_params(c_in, row['c3'][1], 5) + conv_params(c_in, row['c4'], 1))
    assert table['params'].sum() < d2lhelpers.param_count(net)


def test_inception_table_rejects_a_variant_of_another_shape(net):
    class Wrong(NoReduction):
        def forward(self, x):
            return self.p1(x)

    with pytest.raises(ValueError, match='must keep the shape'):
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
    with pytest.raises(ValueError, match='module must be one of'):
        G.inception_blocks(net, 'b6')
