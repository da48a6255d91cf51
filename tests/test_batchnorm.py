"""The notes' from-scratch batch normalization against Gluon's nn.BatchNorm.

Same input, same gamma/beta, same moving statistics: the outputs agree within
float32 tolerance in training and in prediction mode, for 2-D (after Dense)
and 4-D (after Conv2D) inputs. Two differences of Gluon's layer are handled
explicitly: its moving variance starts at 1 (ours at 0), and it updates its
running statistics in the backward pass (ours in the forward pass).
"""
import re

import d2lhelpers  # noqa: F401  (sets OMP_NUM_THREADS before mxnet loads)

import mxnet as mx
import numpy as np
import pytest
from mxnet import autograd, init, nd
from mxnet.gluon import nn

from d2lhelpers.models import (BatchNorm, batch_norm, lenet, lenet_bn,
                               lenet_gluon_bn)
from d2lhelpers.shapes import param_count, shape_table

ATOL, RTOL = 1e-5, 1e-4
SHAPES = {2: (16, 5), 4: (8, 3, 6, 7)}


def close(a, b):
    np.testing.assert_allclose(a.asnumpy(), b.asnumpy(), rtol=RTOL, atol=ATOL)


def pair(num_dims, seed=0):
    """(from-scratch layer, Gluon layer, input) with equal random gamma/beta."""
    mx.random.seed(seed)
    shape = SHAPES[num_dims]
    channels = shape[1]
    X = nd.random.normal(3, 2, shape=shape)
    ours = BatchNorm(channels, num_dims=num_dims)
    ours.initialize()
    theirs = nn.BatchNorm(in_channels=channels)
    theirs.initialize()
    gamma = nd.random.uniform(0.5, 2, shape=(channels,))
    beta = nd.random.normal(0, 1, shape=(channels,))
    ours.gamma.set_data(gamma.reshape(ours.gamma.shape))
    ours.beta.set_data(beta.reshape(ours.beta.shape))
    theirs.gamma.set_data(gamma)
    theirs.beta.set_data(beta)
    return ours, theirs, X


@pytest.mark.parametrize('num_dims', [2, 4])
def test_training_mode_matches_gluon(num_dims):
    ours, theirs, X = pair(num_dims)
    with autograd.record():
        Y_ours = ours(X)
        Y_theirs = theirs(X)
    close(Y_ours, Y_theirs)


@pytest.mark.parametrize('num_dims', [2, 4])
def test_training_mode_normalizes_per_feature_or_channel(num_dims):
    ours, _, X = pair(num_dims)
    ours.gamma.set_data(nd.ones_like(ours.gamma.data()))
    ours.beta.set_data(nd.zeros_like(ours.beta.data()))
    with autograd.record():
        Y = ours(X).asnumpy()
    axes = (0,) if num_dims == 2 else (0, 2, 3)
    np.testing.assert_allclose(Y.mean(axis=axes), 0, atol=1e-5)
    np.testing.assert_allclose(Y.var(axis=axes), 1, atol=1e-3)


@pytest.mark.parametrize('num_dims', [2, 4])
def test_prediction_mode_matches_gluon_with_the_same_moving_statistics(num_dims):
    ours, theirs, X = pair(num_dims)
    channels = X.shape[1]
    mean = nd.random.normal(1, 1, shape=(channels,))
    var = nd.random.uniform(0.5, 3, shape=(channels,))
    ours.moving_mean = mean.reshape(ours.moving_mean.shape)
    ours.moving_var = var.reshape(ours.moving_var.shape)
    theirs.running_mean.set_data(mean)
    theirs.running_var.set_data(var)
    close(ours(X), theirs(X))


@pytest.mark.parametrize('num_dims', [2, 4])
def test_moving_statistics_follow_gluons_running_statistics(num_dims):
    ours, theirs, X = pair(num_dims)
    # Gluon starts its moving variance at 1; ours starts at 0.
    assert (theirs.running_var.data() == 1).asnumpy().all()
    assert (ours.moving_var == 0).asnumpy().all()
    theirs.running_var.set_data(nd.zeros_like(theirs.running_var.data()))
    for step in range(3):
        batch = X * (step + 1) + step
        with autograd.record():
            y_ours = ours(batch)
            y_theirs = theirs(batch)
        y_theirs.backward()  # Gluon updates running statistics in backward
        close(y_ours, y_theirs)
    close(ours.moving_mean.reshape((-1,)), theirs.running_mean.data())
    close(ours.moving_var.reshape((-1,)), theirs.running_var.data())
    # ... and then both predict the same.
    close(ours(X), theirs(X))


def test_gluon_defaults_are_the_notes_constants():
    # batch_norm is called with eps=1e-5, momentum=0.9: Gluon's defaults.
    layer = nn.BatchNorm()
    assert layer._kwargs['eps'] == 1e-5 and layer._kwargs['momentum'] == 0.9


def test_prediction_mode_output_is_independent_of_the_rest_of_the_batch():
    ours, _, X = pair(4)
    with autograd.record():
        ours(X)  # some moving statistics
    a = ours(X)[:1]
    b = ours(nd.concat(X[:1], X[1:] * 10 - 5, dim=0))[:1]
    close(a, b)
    with autograd.record():
        a = ours(X)[:1]
        b = ours(nd.concat(X[:1], X[1:] * 10 - 5, dim=0))[:1]
    assert np.abs((a - b).asnumpy()).max() > 0.1


@pytest.mark.parametrize('num_dims', [2, 4])
def test_gamma_and_beta_can_undo_the_normalization(num_dims):
    X = nd.random.normal(5, 3, shape=SHAPES[num_dims])
    axes = (0,) if num_dims == 2 else (0, 2, 3)
    mean = X.mean(axis=axes, keepdims=True)
    var = ((X - mean) ** 2).mean(axis=axes, keepdims=True)
    zeros = nd.zeros_like(mean)
    with autograd.record():
        Y, _, _ = batch_norm(X, nd.sqrt(var + 1e-5), mean, zeros, zeros,
                             eps=1e-5, momentum=0.9)
    close(Y, X)


def test_moving_average_update_rule():
    X = nd.array([[1., 10.], [3., 30.]])
    with autograd.record():
        _, mm, mv = batch_norm(X, nd.ones((1, 2)), nd.zeros((1, 2)),
                               nd.ones((1, 2)), nd.ones((1, 2)), 1e-5, 0.75)
    np.testing.assert_allclose(mm.asnumpy(), [[0.75 + 0.25 * 2, 0.75 + 0.25 * 20]])
    np.testing.assert_allclose(mv.asnumpy(), [[0.75 + 0.25 * 1, 0.75 + 0.25 * 100]])


# ------------------------------------------------------- wrong input ranks
@pytest.mark.parametrize('shape', [(5,), (2, 3, 4), (1, 2, 3, 4, 5)])
@pytest.mark.parametrize('training', [True, False])
def test_batch_norm_rejects_other_ranks_in_both_modes(shape, training):
    X = nd.zeros(shape)
    with autograd.record(train_mode=training):
        with pytest.raises(ValueError, match=r'二维的.*四维的.*得到形状 '
                                             + re.escape(str(shape))):
            batch_norm(X, nd.ones((1, 3)), nd.zeros((1, 3)), nd.zeros((1, 3)),
                       nd.zeros((1, 3)), eps=1e-5, momentum=0.9)


@pytest.mark.parametrize('num_dims', [1, 3, 5])
def test_block_rejects_other_num_dims(num_dims):
    with pytest.raises(ValueError, match='num_dims 只能是 2.*或 4'):
        BatchNorm(3, num_dims=num_dims)


@pytest.mark.parametrize('num_dims, shape', [(4, (2, 3)), (2, (2, 3, 4, 4))])
def test_block_rejects_an_input_of_the_other_rank(num_dims, shape):
    layer = BatchNorm(3, num_dims=num_dims)
    layer.initialize()
    with pytest.raises(ValueError, match='是为 %d 维输入构造的，却得到形状 .*'
                                         'num_dims=%d' % (num_dims, len(shape))):
        layer(nd.zeros(shape))


# ------------------------------------------------------------------ LeNets
def test_the_lenets_have_the_same_shapes_and_bn_adds_2_params_per_channel():
    tables = {}
    for name, build in (('bn', lenet_bn), ('gluon', lenet_gluon_bn), ('plain', lenet)):
        net = build()
        net.initialize(init=init.Xavier())
        tables[name] = shape_table(net, (2, 1, 28, 28))
    bn, gluon_bn, plain = tables['bn'], tables['gluon'], tables['plain']
    assert list(bn['输出形状']) == list(gluon_bn['输出形状'])
    assert list(bn['参数数量']) == list(gluon_bn['参数数量'])
    assert list(bn['类型']).count('BatchNorm') == 4
    assert bn['输出形状'].iloc[-1] == (2, 10)
    assert bn['参数数量'].sum() - plain['参数数量'].sum() == 2 * (6 + 16 + 120 + 84)
    # BN sits between the conv/dense layer and the activation
    types = list(bn['类型'])
    for i, t in enumerate(types):
        if t == 'BatchNorm':
            assert types[i - 1] in ('Conv2D', 'Dense') and types[i + 1] == 'Activation'


def test_lenet_bn_trains_a_step_and_its_moving_statistics_move():
    mx.random.seed(0)
    net = lenet_bn()
    net.initialize(init=init.Xavier())
    X = nd.random.uniform(shape=(8, 1, 28, 28))
    y = nd.array([0, 1, 2, 3, 4, 5, 6, 7])
    loss = mx.gluon.loss.SoftmaxCrossEntropyLoss()
    trainer = mx.gluon.Trainer(net.collect_params(), 'sgd', {'learning_rate': 1.0})
    with autograd.record():
        l = loss(net(X), y)
    l.backward()
    trainer.step(8)
    assert np.isfinite(l.asnumpy()).all()
    assert np.abs(net[1].moving_mean.asnumpy()).sum() > 0
    assert param_count(net[1]) == 12
