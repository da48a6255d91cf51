"""The networks behind the worked answers of notebooks 02 and 04 (issue 16).

Parameter counts are checked against numbers found independently: the
torchvision model documentation for DenseNet-121/169/201, and a closed-form
count written here from the DenseNet paper's description.
"""
import mxnet as mx
import numpy as np
import pytest
from mxnet import autograd, gluon, init, nd
from mxnet.gluon import nn

from d2lhelpers import param_count
from d2lhelpers.cost import layer_costs, model_cost
from d2lhelpers.models import (BottleneckDenseBlock, bottleneck_block, densenet_bc,
                               lenet, lenet_bn_fixed_gamma_beta, lenet_bn_variant,
                               lenet_gluon_bn)

BLOCKS = {121: (6, 12, 24, 16), 169: (6, 12, 32, 32), 201: (6, 12, 48, 32),
          264: (6, 12, 64, 48)}
# torchvision.models.DenseNet{121,169,201}_Weights.IMAGENET1K_V1.meta:
# 'num_params' and '_ops' (GFLOPS, by which torchvision means multiply-adds).
TORCHVISION = {121: (7978856, 2.834), 169: (14149480, 3.36), 201: (20013928, 4.291)}


def densenet_bc_params(blocks, k=32, in_channels=3, num_classes=1000):
    """DenseNet-BC's parameters from the paper's description, layer by layer:
    a BN contributes 2 per channel (gamma, beta), convolutions have no bias."""
    c = 2 * k
    total = in_channels * c * 7 * 7 + 2 * c          # 7x7 stem, its BN
    for i, n in enumerate(blocks):
        if i:
            total += 2 * c + c * (c // 2)            # transition: BN, 1x1 conv
            c //= 2
        for _ in range(n):
            total += 2 * c + c * 4 * k               # BN, 1x1 conv to 4k
            total += 2 * 4 * k + 4 * k * k * 9       # BN, 3x3 conv to k
            c += k
    return total + 2 * c + c * num_classes + num_classes   # final BN, Dense


def built(net, shape):
    net.initialize()
    net(nd.random.uniform(shape=shape))
    return net


# ------------------------------------------------------------ DenseNet-BC
@pytest.mark.parametrize('num_layers', sorted(BLOCKS))
def test_densenet_bc_params_match_the_closed_form(num_layers):
    net = built(densenet_bc(num_layers), (1, 3, 32, 32))  # parameters do not depend on H, W
    assert param_count(net) == densenet_bc_params(BLOCKS[num_layers])
    net10 = built(densenet_bc(num_layers, num_classes=10), (1, 1, 32, 32))
    assert param_count(net10) == densenet_bc_params(BLOCKS[num_layers], in_channels=1,
                                                    num_classes=10)


@pytest.mark.parametrize('num_layers', sorted(TORCHVISION))
def test_densenet_bc_params_match_torchvision(num_layers):
    net = built(densenet_bc(num_layers), (1, 3, 32, 32))
    assert param_count(net) == TORCHVISION[num_layers][0]


def test_densenet_121_multiply_adds_match_torchvision():
    net = densenet_bc(121)
    net.initialize()
    cost = model_cost(net, (1, 3, 224, 224))
    assert cost['MACs'] / 1e9 == pytest.approx(TORCHVISION[121][1], abs=0.001)


@pytest.mark.parametrize('num_layers, layers', [(121, 121), (169, 169), (201, 201),
                                                (264, 265)])
def test_densenet_bc_layer_count(num_layers, layers):
    # 1 stem conv + 2 per bottleneck block + 3 transitions + 1 dense; the
    # paper's "264" counts one less than its own Table 1 gives.
    net = densenet_bc(num_layers, num_classes=10)
    net.initialize()
    kinds = layer_costs(net, (1, 1, 32, 32))['类型']
    assert kinds.isin(['Conv2D', 'Dense']).sum() == layers


def test_densenet_121_shapes_at_96():
    net = densenet_bc(121, num_classes=10)
    net.initialize()
    X = nd.random.uniform(shape=(2, 1, 96, 96))
    channels = []
    for layer in net:
        X = layer(X)
        if isinstance(layer, BottleneckDenseBlock):
            channels.append((X.shape[1], X.shape[2]))
    assert channels == [(256, 24), (512, 12), (1024, 6), (1024, 3)]
    assert X.shape == (2, 10)


def test_no_convolution_has_a_bias():
    net = built(densenet_bc(121, num_classes=10), (1, 1, 32, 32))
    names = list(net.collect_params().keys())
    conv_biases = [n for n in names if 'conv' in n and n.endswith('bias')]
    assert not conv_biases
    assert sum(n.endswith('bias') for n in names) == 1  # the output layer's


def test_bottleneck_dense_block_grows_by_k_and_narrows_to_4k():
    blk = BottleneckDenseBlock(3, 8)
    blk.initialize()
    Y = blk(nd.random.uniform(shape=(2, 5, 6, 6)))
    assert Y.shape == (2, 5 + 3 * 8, 6, 6)
    b = bottleneck_block(8)
    b.initialize()
    assert b[2](nd.zeros((1, 5, 6, 6))).shape[1] == 4 * 8  # the 1x1 conv
    assert b(nd.zeros((1, 5, 6, 6))).shape == (1, 8, 6, 6)


@pytest.mark.parametrize('kwargs, word', [
    (dict(num_layers=100), 'num_layers'), (dict(num_classes=0), 'num_classes'),
    (dict(growth_rate=2.5), 'growth_rate')])
def test_densenet_bc_refuses_bad_arguments(kwargs, word):
    with pytest.raises(ValueError, match=word):
        densenet_bc(**kwargs)


# ------------------------------------------------------------ BN-LeNet variants
def layer_types(net):
    return [type(layer).__name__ for layer in net]


def test_default_variant_is_the_notes_gluon_lenet():
    a, b = built(lenet_bn_variant(), (1, 1, 28, 28)), built(lenet_gluon_bn(), (1, 1, 28, 28))
    assert layer_types(a) == layer_types(b)
    assert param_count(a) == param_count(b) == 44878


def test_bn_after_activation_moves_only_the_bn_layers():
    types = layer_types(lenet_bn_variant(bn_position='after'))
    assert types[:4] == ['Conv2D', 'Activation', 'BatchNorm', 'MaxPool2D']
    assert sorted(types) == sorted(layer_types(lenet_gluon_bn()))


def test_without_bias_drops_exactly_the_biases_before_bn():
    net = built(lenet_bn_variant(use_bias=False), (1, 1, 28, 28))
    assert param_count(net) == 44878 - (6 + 16 + 120 + 84)


def copy_into_biasless(with_bias, without_bias):
    """Same weights, gamma, beta; with_bias's extra biases set far from 0."""
    for a, b in zip(with_bias, without_bias):
        for name in ('weight', 'bias', 'gamma', 'beta'):
            if getattr(b, name, None) is not None:
                getattr(b, name).set_data(getattr(a, name).data())
            elif getattr(a, name, None) is not None:
                a.bias.set_data(nd.random.normal(scale=3, shape=a.bias.shape))


def test_dropping_the_bias_before_bn_changes_nothing():
    mx.random.seed(1)
    X = nd.random.uniform(shape=(16, 1, 28, 28))
    y = nd.array(np.arange(16) % 10)
    a, b = lenet_bn_variant(), lenet_bn_variant(use_bias=False)
    for net in (a, b):
        net.initialize(init=init.Xavier())
        net(X)
    copy_into_biasless(a, b)
    loss = gluon.loss.SoftmaxCrossEntropyLoss()
    trainers = [gluon.Trainer(n.collect_params(), 'sgd', {'learning_rate': 0.5}) for n in (a, b)]
    for _ in range(3):  # identical losses, step after step
        outs = []
        for net, trainer in zip((a, b), trainers):
            with autograd.record():
                out = net(X)
                l = loss(out, y).mean()
            l.backward()
            trainer.step(1)
            outs.append(out)
        assert np.allclose(outs[0].asnumpy(), outs[1].asnumpy(), atol=1e-4)
    hidden_biases = [layer.bias for layer in list(a)[:-1] if getattr(layer, 'bias', None) is not None]
    assert len(hidden_biases) == 4
    assert max(p.grad().abs().max().asscalar() for p in hidden_biases) < 1e-4
    assert a[-1].bias.grad().abs().max().asscalar() > 1e-3  # the output layer's is not 0


def test_moving_bn_after_the_activation_makes_the_bias_matter():
    # Guard: with BN after the sigmoid, the same copy no longer gives equal outputs.
    mx.random.seed(1)
    X = nd.random.uniform(shape=(16, 1, 28, 28))
    a, b = lenet_bn_variant('after'), lenet_bn_variant('after', use_bias=False)
    for net in (a, b):
        net.initialize(init=init.Xavier())
        net(X)
    copy_into_biasless(a, b)
    with autograd.record():
        diff = (a(X) - b(X)).abs().max().asscalar()
    assert diff > 1e-2


@pytest.mark.parametrize('kwargs, word', [
    (dict(bn_position='middle'), 'bn_position'), (dict(use_bias='no'), 'use_bias')])
def test_lenet_bn_variant_refuses_bad_arguments(kwargs, word):
    with pytest.raises(ValueError, match=word):
        lenet_bn_variant(**kwargs)


def test_fixed_gamma_beta_stay_at_one_and_zero_after_training_steps():
    mx.random.seed(2)
    net = lenet_bn_fixed_gamma_beta()
    net.initialize(init=init.Xavier())
    X = nd.random.uniform(shape=(16, 1, 28, 28))
    y = nd.array(np.arange(16) % 10)
    net(X)
    assert param_count(net) == param_count(built(lenet(), (1, 1, 28, 28))) == 44426
    weight_before = net[0].weight.data().copy()
    trainer = gluon.Trainer(net.collect_params(), 'sgd', {'learning_rate': 0.5})
    loss = gluon.loss.SoftmaxCrossEntropyLoss()
    for _ in range(2):
        with autograd.record():
            l = loss(net(X), y).mean()
        l.backward()
        trainer.step(1)
    fixed = list(net.collect_params('.*gamma|.*beta').items())
    assert len(fixed) == 8  # gamma and beta of four BN layers
    for name, p in fixed:
        expected = 1.0 if name.endswith('gamma') else 0.0
        assert np.all(p.data().asnumpy() == expected), name
    assert (net[0].weight.data() - weight_before).abs().max().asscalar() > 0  # others learn


# ------------------------------------------------------------ use_global_stats
def test_use_global_stats_in_training_mode_equals_prediction_mode():
    mx.random.seed(3)
    bn = nn.BatchNorm(in_channels=2)
    bn.initialize()
    for _ in range(5):
        with autograd.record():
            out = bn(nd.random.normal(loc=5, scale=3, shape=(8, 2, 4, 4)))
        out.backward()
    frozen = nn.BatchNorm(in_channels=2, use_global_stats=True, params=bn.params)
    X = nd.random.normal(loc=5, scale=3, shape=(4, 2, 4, 4))
    predicted = bn(X)
    mean, var = bn.running_mean.data().copy(), bn.running_var.data().copy()
    with autograd.record():
        trained, frozen_out = bn(X), frozen(X)
    frozen_out.backward()
    assert np.allclose(frozen_out.asnumpy(), predicted.asnumpy(), atol=1e-5)
    assert np.array_equal(bn.running_mean.data().asnumpy(), mean.asnumpy())
    assert np.array_equal(bn.running_var.data().asnumpy(), var.asnumpy())
    # Guard: an ordinary BatchNorm in training mode uses the batch's statistics.
    assert (trained - predicted).abs().max().asscalar() > 0.1
