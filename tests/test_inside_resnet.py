"""Inside a trained ResNet: a residual block's shortcut, residual branch
f(x) − x and output on one image, and ‖f(x) − x‖ / ‖shortcut‖ per block, on
blocks whose last BatchNorm has set γ and β (γ = 0: the branch is β)."""
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
from d2lhelpers.explorers.inside_resnet import (branch_ratios, residual_blocks,
                                                residual_maps_explorer, residual_parts,
                                                residual_ratio_explorer)
from d2lhelpers.models import Residual


class NotebookResidual(nn.Block):
    """A notebook's own class with the notes' code: found by its children."""

    def __init__(self, num_channels, use_1x1conv=False, strides=1, **kwargs):
        super(NotebookResidual, self).__init__(**kwargs)
        self.conv1 = nn.Conv2D(num_channels, kernel_size=3, padding=1, strides=strides)
        self.conv2 = nn.Conv2D(num_channels, kernel_size=3, padding=1)
        self.conv3 = (nn.Conv2D(num_channels, kernel_size=1, strides=strides)
                      if use_1x1conv else None)
        self.bn1 = nn.BatchNorm()
        self.bn2 = nn.BatchNorm()

    def forward(self, X):
        Y = nd.relu(self.bn1(self.conv1(X)))
        Y = self.bn2(self.conv2(Y))
        if self.conv3:
            X = self.conv3(X)
        return nd.relu(Y + X)


BETA = 0.5


def small_resnet(block=Residual):
    """Stem, an identity block with γ = β = 0 in bn2, a 1×1 block with γ = 0, β = 0.5."""
    mx.random.seed(0)
    net = nn.Sequential()
    net.add(nn.Conv2D(4, kernel_size=3, padding=1), nn.BatchNorm(), nn.Activation('relu'),
            block(4), block(8, use_1x1conv=True, strides=2),
            nn.GlobalAvgPool2D(), nn.Dense(10))
    net.initialize(init.Xavier())
    net(nd.ones((1, 1, 8, 8)))
    net[3].bn2.gamma.set_data(nd.zeros(4))
    net[4].bn2.gamma.set_data(nd.zeros(8))
    net[4].bn2.beta.set_data(nd.full(8, BETA))
    return net


def make_test_set(n=5):
    rng = np.random.RandomState(1)
    X = rng.uniform(-1, 1, size=(n, 1, 8, 8)).astype(np.float32)
    return [(nd.array(X[i:i + 2]), nd.array(np.arange(i, min(i + 2, n)))) for i in range(0, n, 2)]


@pytest.fixture
def trained():
    return inside.TrainedNet(small_resnet(), make_test_set())


@pytest.mark.parametrize('block', [Residual, NotebookResidual])
def test_blocks_are_found_by_their_children(block):
    net = small_resnet(block)
    assert [(p, type(b)) for p, b in residual_blocks(net)] == [('3', block), ('4', block)]


def test_zero_gamma_gives_a_zero_branch_and_ratio_zero(trained):
    X = nd.array(trained.images([0]))
    first, second = residual_parts(trained.net, X)
    assert np.array_equal(first['branch'], np.zeros((4, 8, 8)))
    assert np.array_equal(first['shortcut'], first['x'])           # identity shortcut
    assert np.allclose(first['output'], np.maximum(first['x'], 0))  # relu(0 + x)
    # γ = 0, β = 0.5: the branch is 0.5 everywhere, the shortcut is conv3(x)
    assert np.allclose(second['branch'], BETA) and second['branch'].shape == (8, 4, 4)
    conv3 = trained.net[4].conv3(nd.array(second['x'][None])).asnumpy()[0]
    assert np.allclose(second['shortcut'], conv3, atol=1e-6)
    assert np.allclose(second['output'], np.maximum(BETA + conv3, 0), atol=1e-6)
    ratios = branch_ratios([first, second])
    assert ratios[0] == 0
    assert ratios[1] == pytest.approx(BETA * np.sqrt(8 * 4 * 4) / np.linalg.norm(conv3),
                                      rel=1e-5)


def test_maps_explorer_numbers_and_figure(trained):
    result = residual_maps_explorer(trained, index=3, block=2, channels=3, first_channel=5)
    parts = residual_parts(trained.net, nd.array(trained.images([3])))
    assert list(result.table['比值']) == list(np.round(branch_ratios(parts), 3))
    assert result.table['比值'].iloc[0] == 0
    assert list(result.table['输出形状']) == ['4×8×8', '8×4×4']
    rows = [ax for ax in result.figure.axes if ax.get_title(loc='left')]
    assert [ax.get_title(loc='left').split('：')[0] for ax in rows] == [
        'conv3(x)', 'f(x) − x', '块的输出 relu(f(x))，f(x) = (f(x) − x) + 跨层连接']
    assert [t.get_text() for t in rows[1].get_xticklabels()] == ['通道 5', '通道 6', '通道 7']
    tiles = np.ma.filled(rows[1].get_images()[0].get_array().astype(float), np.nan)
    assert np.allclose(tiles[:, :4], BETA)  # the branch's channel 5 is β
    assert result.text.startswith('测试图像 #3：真实类别 连衣裙')
    assert '残差块 2 上，‖f(x) − x‖ / ‖跨层连接‖ = %.3f' % branch_ratios(parts)[1] in result.text
    identity = residual_maps_explorer(trained, index=3, block=1)
    assert identity.figure.axes[1].get_title(loc='left').startswith('x：块的输入')
    plt.close('all')


def test_ratio_explorer_over_images_agrees_with_one_image_at_a_time(trained):
    result = residual_ratio_explorer(trained, num_images=5)
    one_by_one = np.array([branch_ratios(residual_parts(trained.net, nd.array(trained.images([i]))))
                           for i in range(5)])
    assert result.table['比值的中位数'].iloc[0] == 0
    assert result.table['比值的中位数'].iloc[1] == pytest.approx(
        np.median(one_by_one[:, 1]), abs=1e-3)
    assert result.table['75% 分位数'].iloc[1] == pytest.approx(
        np.percentile(one_by_one[:, 1], 75), abs=1e-3)
    assert '比值最小的是残差块 1' in result.text
    heights = [bar.get_height() for bar in result.figure.axes[0].patches]
    assert heights == pytest.approx(list(result.table['比值的中位数']), abs=1e-3)
    plt.close('all')


@pytest.mark.parametrize('call, words', [
    (lambda t: residual_maps_explorer(t, block=3), 'block 应在 1 到 2 之间，收到的是 3；这个网络有 2 个残差块'),
    (lambda t: residual_maps_explorer(t, first_channel=4, block=1),
     'first_channel 应在 0 到 3 之间，收到的是 4；残差块 1 只有 4 个通道（编号 0 到 3）'),
    (lambda t: residual_maps_explorer(t, index=-1), 'index 应在 0 到 4 之间'),
    (lambda t: residual_ratio_explorer(t, num_images=6), 'num_images 应在 1 到 5 之间'),
    (lambda t: residual_ratio_explorer(t, num_images=0), 'num_images 应在 1 到 5 之间'),
])
def test_bad_arguments(trained, call, words):
    with pytest.raises(ValueError, match=re.escape(words)):
        call(trained)


def test_a_net_without_residual_blocks_is_named():
    net = nn.Sequential()
    net.add(nn.Dense(10))
    net.initialize()
    with pytest.raises(ValueError, match='没有残差块'):
        residual_blocks(net)
