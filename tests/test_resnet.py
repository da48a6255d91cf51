"""The ResNet models: the notes' shapes, ResNet-18's layout, ResNet v2 and the identity mapping."""
import d2lhelpers  # noqa: F401  (sets OMP_NUM_THREADS before mxnet loads)

import mxnet as mx
import numpy as np
import pytest
from mxnet import autograd, nd

from d2lhelpers.models import (NETWORKS, PlainBlock, Residual, ResidualV2,
                               deep_cnn, resnet18, resnet18_v2, resnet_block,
                               resnet_block_v2)
from d2lhelpers.shapes import param_count, shape_table


@pytest.fixture
def X():
    mx.random.seed(0)
    return nd.random.uniform(shape=(4, 3, 6, 6))


@pytest.mark.parametrize('block', [Residual, ResidualV2])
def test_the_notes_shapes(block, X):
    blk = block(3)
    blk.initialize()
    assert blk(X).shape == (4, 3, 6, 6)
    blk = block(6, use_1x1conv=True, strides=2)
    blk.initialize()
    assert blk(X).shape == (4, 6, 3, 3)


def test_residual_adds_the_input_before_the_last_relu(X):
    blk = Residual(3)
    blk.initialize()
    Y = blk.bn2(blk.conv2(nd.relu(blk.bn1(blk.conv1(X)))))
    np.testing.assert_allclose(blk(X).asnumpy(), nd.relu(Y + X).asnumpy(),
                               atol=1e-6)


@pytest.mark.parametrize('train_mode', [False, True])
def test_zero_gamma_and_beta_make_an_identity_for_non_negative_inputs(X, train_mode):
    blk = Residual(3)
    blk.initialize()
    blk(X)
    blk.bn2.gamma.set_data(nd.zeros(3))
    blk.bn2.beta.set_data(nd.zeros(3))
    with autograd.record(train_mode=train_mode):
        out = blk(X)
    assert (out - X).abs().max().asscalar() == 0
    X_neg = nd.random.normal(shape=X.shape)
    assert (blk(X_neg) - nd.relu(X_neg)).abs().max().asscalar() == 0


def test_v2_with_zero_last_conv_is_an_identity_even_for_negative_inputs():
    X = nd.random.normal(shape=(2, 3, 5, 5))
    blk = ResidualV2(3)
    blk.initialize()
    blk(X)
    blk.conv2.weight.set_data(nd.zeros_like(blk.conv2.weight.data()))
    blk.conv2.bias.set_data(nd.zeros_like(blk.conv2.bias.data()))
    assert (blk(X) - X).abs().max().asscalar() == 0


def test_v2_is_pre_activation():
    X = nd.random.normal(shape=(2, 3, 5, 5))
    blk = ResidualV2(3)
    blk.initialize()
    Y = blk.conv2(nd.relu(blk.bn2(blk.conv1(nd.relu(blk.bn1(X))))))
    np.testing.assert_allclose(blk(X).asnumpy(), (Y + X).asnumpy(), atol=1e-6)
    assert (blk(X) < 0).sum().asscalar() > 0  # no ReLU after the addition


@pytest.mark.parametrize('block_fn', [resnet_block, resnet_block_v2])
def test_modules_double_channels_and_halve_size(block_fn):
    first = block_fn(64, 2, first_block=True)
    later = block_fn(128, 2)
    assert [b.conv3 is None for b in first] == [True, True]
    assert [b.conv3 is None for b in later] == [False, True]
    for blk in (first, later):
        blk.initialize()
    Y = first(nd.zeros((1, 64, 8, 8)))
    assert Y.shape == (1, 64, 8, 8)
    assert later(Y).shape == (1, 128, 4, 4)


@pytest.mark.parametrize('make_net', [resnet18, resnet18_v2])
def test_resnet18_layout(make_net):
    net = make_net()
    net.initialize()
    table = shape_table(net, (1, 1, 224, 224), max_depth=1)
    modules = table[table['类型'] == 'Sequential']['输出形状'].tolist()
    assert modules == [(1, 64, 56, 56), (1, 128, 28, 28), (1, 256, 14, 14),
                       (1, 512, 7, 7)]
    assert table['输出形状'].iloc[-1] == (1, 10)
    full = shape_table(net, (1, 1, 224, 224))
    convs = full[(full['类型'] == 'Conv2D')]
    # 18 layers: 17 convolutions that are not 1x1 shortcuts, plus the Dense
    assert (~convs.index.str.endswith('conv3')).sum() == 17
    assert (full['类型'] == 'Dense').sum() == 1


def test_resnet18_parameter_counts():
    nets = {}
    for make_net in (resnet18, resnet18_v2):
        net = make_net()
        net.initialize()
        net(nd.zeros((1, 1, 28, 28)))
        nets[make_net.__name__] = param_count(net)
    assert nets['resnet18'] == 11178378
    # v2: bn1 of each module's first block sees the previous module's
    # channels (-64 - 128 - 256 on 2 * channels), plus a final BatchNorm(512)
    assert nets['resnet18_v2'] == nets['resnet18'] - 2 * (64 + 128 + 256) + 2 * 512
    assert resnet18(num_classes=7)[-1]._units == 7
    assert NETWORKS['resnet'] is resnet18


def test_resnet18_at_28x28_ends_at_1x1():
    net = resnet18()
    net.initialize()
    table = shape_table(net, (2, 1, 28, 28), max_depth=1)
    assert table.loc['7', '输出形状'] == (2, 512, 1, 1)


def test_deep_cnn_plain_and_residual_have_the_same_layers():
    nets = [deep_cnn(block, 5, num_channels=8) for block in (PlainBlock, Residual)]
    counts = []
    for net in nets:
        net.initialize()
        table = shape_table(net, (2, 1, 28, 28))
        assert (table['类型'] == 'Conv2D').sum() == 1 + 2 * 5
        assert table['输出形状'].iloc[-1] == (2, 10)
        assert table.loc['3.conv1', '输出形状'] == (2, 8, 14, 14)
        counts.append(param_count(net))
    assert counts[0] == counts[1]
    assert isinstance(nets[0][3], PlainBlock) and isinstance(nets[1][3], Residual)
