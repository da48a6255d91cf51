"""Inside a trained DenseNet: a dense block's output split into its input and
each convolution block's channels, and the transition layer's 1×1 weights per
input group, on a small DenseNet with set transition weights."""
import matplotlib
matplotlib.use('Agg')

import d2lhelpers  # noqa: F401  (sets OMP_NUM_THREADS before mxnet loads)

import re

import matplotlib.pyplot as plt
import mxnet as mx
import numpy as np
import pytest
from mxnet import init, nd
from mxnet.gluon import nn

from d2lhelpers.explorers import inside
from d2lhelpers.explorers.inside_densenet import (dense_blocks, dense_maps_explorer,
                                                  group_labels, transition_group_norms,
                                                  transition_weights_explorer)
from d2lhelpers.models import DenseBlock, conv_block, transition_block


class NotebookDenseBlock(nn.Block):
    """A notebook's own class with the notes' code: found by its children."""

    def __init__(self, num_convs, num_channels, **kwargs):
        super(NotebookDenseBlock, self).__init__(**kwargs)
        self.net = nn.Sequential()
        for _ in range(num_convs):
            self.net.add(conv_block(num_channels))

    def forward(self, X):
        for blk in self.net:
            X = nd.concat(X, blk(X), dim=1)
        return X


def small_densenet(block=DenseBlock):
    """3 stem channels, a dense block of 2 convs (growth 2) -> 7 channels,
    a transition to 3 whose weight[o, c] = c + 1, a last dense block of 1 conv."""
    mx.random.seed(0)
    net = nn.Sequential()
    net.add(nn.Conv2D(3, kernel_size=3, padding=1), block(2, 2), transition_block(3),
            block(1, 2), nn.BatchNorm(), nn.Activation('relu'), nn.GlobalAvgPool2D(),
            nn.Dense(10))
    net.initialize(init.Xavier())
    net(nd.ones((1, 1, 8, 8)))
    conv = net[2][2]
    conv.weight.set_data(nd.array(np.tile(np.arange(1, 8, dtype=np.float32), (3, 1))
                                  .reshape(3, 7, 1, 1)))
    return net


# weight[o, c] = c + 1 for 3 outputs: a group's norm is sqrt(3 * sum (c + 1)^2)
GROUP_NORMS = np.sqrt(3 * np.array([1 + 4 + 9, 16 + 25, 36 + 49], dtype=float))


@pytest.fixture
def trained():
    rng = np.random.RandomState(2)
    X = rng.uniform(0, 1, size=(3, 1, 8, 8)).astype(np.float32)
    return inside.TrainedNet(small_densenet(), [(nd.array(X), nd.array([5, 7, 9]))])


@pytest.mark.parametrize('block', [DenseBlock, NotebookDenseBlock])
def test_blocks_and_transitions_are_found_by_their_children(block):
    net = small_densenet(block)
    found = dense_blocks(net)
    assert [(p, type(b)) for p, b, _ in found] == [('1', block), ('3', block)]
    assert found[0][2] is net[2] and found[1][2] is None


def test_transition_weight_norms_per_group():
    net = small_densenet()
    table = transition_group_norms(net[2], [3, 2, 2])
    assert list(table.index) == ['块的输入（通道 0–2）', '卷积块 1 的输出（通道 3–4）',
                                 '卷积块 2 的输出（通道 5–6）']
    assert table['权重范数'].values == pytest.approx(GROUP_NORMS)
    assert table['每通道平均范数'].values == pytest.approx(GROUP_NORMS / np.sqrt([3, 2, 2]))
    with pytest.raises(ValueError, match='过渡层的 1×1 卷积有 7 个输入通道，稠密块却输出 8'):
        transition_group_norms(net[2], [4, 2, 2])


def test_transition_explorer(trained):
    result = transition_weights_explorer(trained.net, block=1)
    assert result.table['权重范数'].values == pytest.approx(GROUP_NORMS, abs=1e-4)
    heights = [bar.get_height() for bar in result.figure.axes[0].patches]
    assert heights == pytest.approx(np.sqrt(3) * np.arange(1, 8))  # per input channel
    assert result.text.startswith('过渡层按每个输入通道的平均权重范数，最看重“卷积块 2 的输出（通道 5–6）”')
    with pytest.raises(ValueError, match='稠密块 2 后面没有过渡层'):
        transition_weights_explorer(trained.net, block=2)
    plt.close('all')


def test_maps_are_the_input_and_each_conv_blocks_channels(trained):
    result = dense_maps_explorer(trained, index=1, block=1, channels=2)
    X = nd.array(trained.images([1]))
    x = trained.net[0](X)
    blk = trained.net[1]
    y1 = blk.net[0](x)
    y2 = blk.net[1](nd.concat(x, y1, dim=1))
    rows = [ax for ax in result.figure.axes if ax.get_title(loc='left')]
    assert [ax.get_title(loc='left') for ax in rows] == group_labels([3, 2, 2])
    expected = [x.asnumpy()[0, :2], y1.asnumpy()[0], y2.asnumpy()[0]]
    for ax, maps in zip(rows, expected):
        tiles = np.ma.filled(ax.get_images()[0].get_array().astype(float), np.nan)
        assert np.allclose(tiles[:, :8], maps[0], atol=1e-5)
        assert np.allclose(tiles[:, 9:17], maps[1], atol=1e-5)
    assert [t.get_text() for t in rows[2].get_xticklabels()] == ['通道 5', '通道 6']
    table = result.table
    assert list(table['通道数']) == [3, 2, 2]
    assert table['平均绝对值'].iloc[1] == pytest.approx(np.abs(y1.asnumpy()).mean(), abs=1e-4)
    assert table['过渡层权重范数'].values == pytest.approx(GROUP_NORMS, abs=1e-4)
    assert '3 + 2 + 2 = 7 个通道' in result.figure._suptitle.get_text()
    assert '后面的过渡层用 1×1 卷积把这 7 个通道压缩到 3 个' in result.text
    last = dense_maps_explorer(trained, index=1, block=2, channels=1)
    assert '过渡层权重范数' not in last.table and '后面没有过渡层' in last.text
    plt.close('all')


@pytest.mark.parametrize('kwargs, words', [
    (dict(block=3), 'block 应在 1 到 2 之间，收到的是 3；这个网络有 2 个稠密块'),
    (dict(first_channel=2), 'first_channel 应在 0 到 1 之间，收到的是 2；稠密块 1 的各组里最窄'),
    (dict(index=3), 'index 应在 0 到 2 之间'),
    (dict(channels=17), 'channels 应在 1 到 16 之间'),
])
def test_bad_arguments(trained, kwargs, words):
    with pytest.raises(ValueError, match=re.escape(words)):
        dense_maps_explorer(trained, **kwargs)


def test_a_net_without_dense_blocks_is_named():
    net = nn.Sequential()
    net.add(nn.Dense(10))
    net.initialize()
    with pytest.raises(ValueError, match='没有稠密块'):
        transition_weights_explorer(net)
