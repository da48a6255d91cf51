"""Inside a trained GoogLeNet: the four paths of an Inception block on one
image and their shares of the output energy, on a block with set weights
whose outputs are counted by hand."""
import matplotlib
matplotlib.use('Agg')

import d2lhelpers  # noqa: F401  (sets OMP_NUM_THREADS before mxnet loads)

import re

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import pytest
from mxnet import init, nd
from mxnet.gluon import nn

from d2lhelpers.explorers import inside
from d2lhelpers.explorers.inside_googlenet import (energy_shares, inception_maps_explorer,
                                                   inception_path_outputs)
from d2lhelpers.models import Inception
from d2lhelpers.widgets import Explorer

# On an all-ones 4x4 image, with every weight 1 and every bias 0:
# path 1: relu(1x1) = 1 everywhere; path 4: 3x3 max pool of ones, then 1x1: 1;
# path 2: a 3x3 window sums 4 (corner), 6 (edge) or 9 (inside) ones;
# path 3: a 5x5 window covers 3 or 4 rows times 3 or 4 columns.
PATH2 = np.array([[4, 6, 6, 4], [6, 9, 9, 6], [6, 9, 9, 6], [4, 6, 6, 4]], dtype=float)
R = np.array([3, 4, 4, 3], dtype=float)
PATH3 = np.outer(R, R)
ENERGIES = np.array([2 * 16, 2 * (PATH2 ** 2).sum(), 2 * (PATH3 ** 2).sum(), 2 * 16])


def tiny_googlenet():
    """b1 = one Inception(2, (1, 2), (1, 2), 2) with all weights 1, biases 0."""
    b1 = nn.Sequential()
    b1.add(Inception(2, (1, 2), (1, 2), 2))
    net = nn.Sequential()
    net.add(b1, nn.GlobalAvgPool2D(), nn.Dense(10))
    net.initialize(init.One())
    net(nd.ones((1, 1, 4, 4)))
    for name, p in net.collect_params().items():
        if name.endswith('bias'):
            p.set_data(nd.zeros(p.shape))
    return net


@pytest.fixture
def trained():
    X = np.ones((3, 1, 4, 4), dtype=np.float32)
    X[1] *= 2  # zero biases: every path output doubles
    X[2] = 0
    batches = [(nd.array(X[:2]), nd.array([0, 1])), (nd.array(X[2:]), nd.array([2]))]
    return inside.TrainedNet(tiny_googlenet(), batches)


def test_energy_shares_by_hand():
    shares = energy_shares([np.array([1.0, 2.0]), np.array([[3.0]])])
    assert shares == pytest.approx([5 / 14, 9 / 14]) and shares.sum() == pytest.approx(1)
    assert np.isnan(energy_shares([np.zeros(3), np.zeros(2)])).all()


def test_path_outputs_are_the_hand_counts(trained):
    paths, image = inception_path_outputs(trained, 0, 'b1.1')
    assert [p.shape for p in paths] == [(2, 4, 4)] * 4 and image.shape == (1, 4, 4)
    assert np.allclose(paths[0], 1) and np.allclose(paths[3], 1)
    assert np.allclose(paths[1], PATH2) and np.allclose(paths[2], PATH3)
    assert energy_shares(paths) == pytest.approx(ENERGIES / ENERGIES.sum())
    # ... and linear in the image: twice the image, twice every output
    doubled, _ = inception_path_outputs(trained, 1, 'b1.1')
    assert np.allclose(doubled[2], 2 * PATH3)


def test_explorer_numbers_and_figure(trained):
    result = inception_maps_explorer(trained, index=0, block='b1.1', channels=2)
    shares = ENERGIES / ENERGIES.sum()
    assert list(result.table['能量占比']) == ['%.1f%%' % (100 * s) for s in shares]
    assert list(result.table['输出通道数']) == [2, 2, 2, 2]
    assert list(result.table['通道占比']) == ['25.0%'] * 4
    assert result.table['平均每个通道的能量'].values == pytest.approx(ENERGIES / 2)
    rows = [ax for ax in result.figure.axes if ax.get_title(loc='left')]
    assert len(rows) == 4
    assert rows[2].get_title(loc='left') == '线路 3：1×1、5×5：2 个通道，能量占 %.1f%%' % (
        100 * shares[2])
    assert result.text.startswith('测试图像 #0：真实类别 T恤')
    assert '“线路 3：1×1、5×5”占得最多（%.1f%%）' % (100 * shares[2]) in result.text
    # one colour scale: the largest value of all paths (path 3's 16)
    assert rows[0].get_images()[0].get_clim() == (0, 16)
    zero = inception_maps_explorer(trained, index=2, block='b1.1', channels=1)
    assert '输出全是 0' in zero.text
    plt.close('all')


def test_the_forward_pass_is_cached(trained):
    blk = trained.net[0][0]
    calls = []
    blk.register_forward_hook(lambda b, i, o: calls.append(1))
    inception_maps_explorer(trained, index=1, block='b1.1', channels=2)
    inception_maps_explorer(trained, index=1, block='b1.1', channels=1, first_channel=1)
    assert len(calls) == 1
    inception_maps_explorer(trained, index=0, block='b1.1', channels=1)
    assert len(calls) == 2
    plt.close('all')


@pytest.mark.parametrize('kwargs, words', [
    (dict(block='b3.1'), "block 应是 'b1.1' 之一"),
    (dict(index=3), 'index 应在 0 到 2 之间，收到的是 3；测试集一共 3 张图像'),
    (dict(channels=0), 'channels 应在 1 到 16 之间'),
    (dict(first_channel=2), 'first_channel 应在 0 到 1 之间，收到的是 2；Inception 块 b1.1 的四条线路'
                            '里最窄的一组只有 2 个通道'),
])
def test_bad_arguments(trained, kwargs, words):
    args = dict(index=0, block='b1.1')
    args.update(kwargs)
    with pytest.raises(ValueError, match=re.escape(words)):
        inception_maps_explorer(trained, **args)


def test_arguments_are_checked_before_anything_is_computed(trained):
    before = trained.predictions().probabilities
    blk = trained.net[0][0]
    blk.p1_1.weight.set_data(2 * blk.p1_1.weight.data())  # retrained: a refresh would predict
    calls = []
    blk.register_forward_hook(lambda b, i, o: calls.append(1))
    for bad in (dict(channels=0), dict(first_channel=-1), dict(index=3), dict(block='b9')):
        with pytest.raises(ValueError):
            inception_maps_explorer(trained, **dict(dict(block='b1.1'), **bad))
    assert calls == [] and trained.predictions().probabilities is before
    inception_maps_explorer(trained, block='b1.1')
    assert len(calls) == 1  # the picked image (the test set runs compiled: no hooks)
    assert trained.predictions().probabilities is not before  # predicted again
    plt.close('all')


def test_a_net_without_inception_blocks_is_named():
    net = nn.Sequential()
    net.add(nn.Dense(10))
    net.initialize()
    trained = inside.TrainedNet(net, [(nd.ones((1, 1, 2, 2)), nd.array([0]))])
    with pytest.raises(ValueError, match='没有 Inception 块'):
        inception_maps_explorer(trained)


def test_in_an_explorer_the_slider_redraws(trained):
    ex = Explorer(inception_maps_explorer, trained=widgets.fixed(trained),
                  index=widgets.IntSlider(0, 0, 2), block=widgets.fixed('b1.1'),
                  channels=widgets.IntSlider(2, 1, 8))
    first = ex.result.figure
    ex.set(index=1)
    assert ex.error is None and ex.result.figure is not first
    assert ex.result.text.startswith('测试图像 #1')
    plt.close('all')
