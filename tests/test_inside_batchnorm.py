"""Inside batch normalization: the recorder of activation inputs during
experiments.convergence_curves (which must not change the run), γ and β per
channel, and one image before and after a BatchNorm layer with set statistics."""
import matplotlib
matplotlib.use('Agg')

import d2lhelpers  # noqa: F401  (sets OMP_NUM_THREADS before mxnet loads)

import re

import matplotlib.pyplot as plt
import mxnet as mx
import numpy as np
import pytest
from mxnet import gluon, init, nd
from mxnet.gluon import nn

from d2lhelpers import experiments as E
from d2lhelpers.explorers import inside
from d2lhelpers.explorers.inside_batchnorm import (
    PERCENTILES, PreactivationRecorder, activation_layers, bn_layers, bn_maps_explorer,
    bn_parameters_explorer, preactivation_explorer)
from d2lhelpers.models import lenet, lenet_bn, lenet_gluon_bn


def tiny_data(n=48):
    rng = np.random.RandomState(0)
    X = rng.uniform(size=(n, 1, 28, 28)).astype(np.float32)
    y = rng.randint(0, 10, size=n).astype(np.int32)
    data = gluon.data.ArrayDataset(nd.array(X), nd.array(y, dtype='int32'))
    return (gluon.data.DataLoader(data, batch_size=16, shuffle=False),
            gluon.data.DataLoader(data, batch_size=16))


def probe(n=8):
    return nd.array(np.random.RandomState(3).uniform(size=(n, 1, 28, 28)))


def built(make):
    mx.random.seed(0)
    net = make()
    net.initialize(init.Xavier())
    net(nd.zeros((2, 1, 28, 28)))
    return net


# ----------------------------------------------------------- the recorder
def test_percentiles_of_a_known_activation_input():
    net = nn.Sequential()
    net.add(nn.Dense(3, in_units=3, use_bias=False), nn.Activation('sigmoid'), nn.Dense(2))
    net.initialize()
    net[0].weight.set_data(nd.eye(3))  # the sigmoid sees the input itself
    X = np.random.RandomState(0).normal(size=(6, 1, 1, 3)).astype(np.float32)
    rec = PreactivationRecorder(X, every=2)
    for step in range(6):
        rec(step, net)
    table = rec.table()
    assert list(table.index) == [(1, 0), (1, 2), (1, 4)]
    assert table.loc[(1, 2)].values == pytest.approx(np.percentile(X, PERCENTILES), rel=1e-6)
    assert rec.labels == ['激活函数 1（第 1 个全连接层之后）']


def test_the_layers_are_named_by_what_comes_before():
    assert [label for label, _ in activation_layers(built(lenet))] == [
        '激活函数 1（第 1 个卷积层之后）', '激活函数 2（第 2 个卷积层之后）',
        '激活函数 3（第 1 个全连接层之后）', '激活函数 4（第 2 个全连接层之后）']
    for make in (lenet_gluon_bn, lenet_bn):  # Gluon's BatchNorm and the notes' own
        layers = bn_layers(built(make))
        assert [label for label, _, _ in layers] == [
            '批量归一化层 %d（第 %d 个%s之后）' % (k, n, kind) for k, n, kind in
            ((1, 1, '卷积层'), (2, 2, '卷积层'), (3, 1, '全连接层'), (4, 2, '全连接层'))]
        assert all(isinstance(act, nn.Activation) for _, _, act in layers)


def test_with_bn_the_first_sigmoid_sees_the_probes_standardized_conv_output():
    net = built(lenet_gluon_bn)
    X = probe()
    rec = PreactivationRecorder(X)
    rec(0, net)
    conv = net[0](X).asnumpy()
    mean = conv.mean(axis=(0, 2, 3), keepdims=True)
    var = conv.var(axis=(0, 2, 3), keepdims=True)
    standardized = (conv - mean) / np.sqrt(var + 1e-5)  # γ = 1, β = 0 at the start
    assert rec.table().loc[(1, 0)].values == pytest.approx(
        np.percentile(standardized, PERCENTILES), abs=1e-4)


@pytest.mark.parametrize('make', [lenet_gluon_bn, lenet_bn, lenet])
def test_recording_does_not_change_the_run(make):
    curves = []
    for recorder in (None, PreactivationRecorder(probe(), every=2)):
        train_iter, test_iter = tiny_data()
        mx.random.seed(0)
        net = make()
        net.initialize(init.Xavier())  # shapes unknown: the recorder's step 0 copes
        curves.append(E.convergence_curves(net, train_iter, test_iter, lr=0.5,
                                           num_steps=5, eval_every=5, recorder=recorder))
    assert np.array_equal(curves[0]['loss'].values, curves[1]['loss'].values)
    assert curves[0]['test_acc'].iloc[-1] == curves[1]['test_acc'].iloc[-1]
    assert list(recorder.table().loc[1].index) == [0, 2, 4]


def test_convergence_curves_refuses_a_recorder_that_is_not_callable():
    train_iter, test_iter = tiny_data()
    net = built(lenet)
    with pytest.raises(ValueError, match='recorder 应是 None 或一个函数'):
        E.convergence_curves(net, train_iter, test_iter, 0.1, 2, 1, recorder='yes')


def test_preactivation_explorer():
    recorders = {}
    for name, make in (('有批量归一化', lenet_gluon_bn), ('没有批量归一化', lenet)):
        net, rec = built(make), PreactivationRecorder(probe())
        for step in range(3):
            rec(step, net)
        recorders[name] = rec
    result = preactivation_explorer(recorders, layer=2)
    assert len(result.figure.axes) == 2
    assert result.figure.axes[0].get_title() == '有批量归一化：激活函数 2（第 2 个卷积层之后）的输入'
    median = recorders['没有批量归一化'].table().loc[2]['p50']
    assert result.table.loc['没有批量归一化', '最后的中位数'] == pytest.approx(median.iloc[-1],
                                                                          abs=1e-3)
    assert result.text.startswith('每隔几步，把同一批固定的图像在训练模式下送进网络')
    with pytest.raises(ValueError, match=re.escape('layer 应在 1 到 4 之间，收到的是 5')):
        preactivation_explorer(recorders, layer=5)
    with pytest.raises(ValueError, match='还没有记录'):
        preactivation_explorer({'空': PreactivationRecorder(probe())})
    with pytest.raises(ValueError, match='recorders 应是'):
        preactivation_explorer([PreactivationRecorder(probe())])
    plt.close('all')


def test_a_probe_must_be_a_batch():
    with pytest.raises(ValueError, match='probe 应是一批图像'):
        PreactivationRecorder(nd.zeros((28, 28)))
    with pytest.raises(ValueError, match='probe 的图像数 应在 2 到 1024 之间'):
        PreactivationRecorder(nd.zeros((1, 1, 28, 28)))


# ------------------------------------------------------------ γ and β
@pytest.mark.parametrize('make', [lenet_gluon_bn, lenet_bn])
def test_gamma_and_beta_per_channel(make):
    net = built(make)
    _, blk, _ = bn_layers(net)[1]
    shape = blk.gamma.shape
    blk.gamma.set_data(nd.arange(16).reshape(shape) / 10)
    blk.beta.set_data(-nd.arange(16).reshape(shape))
    result = bn_parameters_explorer(net, layer=2)
    assert result.table.loc['最大', 'γ'] == 1.5 and result.table.loc['最小', 'β'] == -15
    assert result.table.loc['均值', 'γ'] == pytest.approx(0.75)
    gamma_ax, beta_ax = result.figure.axes
    assert [b.get_height() for b in gamma_ax.patches] == pytest.approx(np.arange(16) / 10)
    assert [b.get_height() for b in beta_ax.patches] == pytest.approx(-np.arange(16))
    assert 'γ 在 0.00 到 1.50 之间' in result.text
    with pytest.raises(ValueError, match=re.escape('layer 应在 1 到 4 之间，收到的是 0')):
        bn_parameters_explorer(net, layer=0)
    plt.close('all')


def test_no_batch_norm_no_layers():
    with pytest.raises(ValueError, match='没有批量归一化层'):
        bn_parameters_explorer(built(lenet))


# ------------------------------------------------- one image, one layer
def test_one_image_before_and_after_batch_norm():
    net = built(lenet_gluon_bn)
    bn = net[1]
    mean, var = np.linspace(-0.2, 0.3, 6), np.linspace(0.5, 2.0, 6)
    gamma, beta = np.linspace(0.5, 1.5, 6), np.linspace(-1, 1, 6)
    for p, v in ((bn.running_mean, mean), (bn.running_var, var), (bn.gamma, gamma),
                 (bn.beta, beta)):
        p.set_data(nd.array(v))
    X = np.random.RandomState(4).uniform(size=(3, 1, 28, 28)).astype(np.float32)
    trained = inside.TrainedNet(net, [(nd.array(X), nd.array([1, 2, 3]))])
    result = bn_maps_explorer(trained, index=2, layer=1, channels=6)
    conv = net[0](nd.array(X[2:3])).asnumpy()[0]
    expected = ((conv - mean[:, None, None]) / np.sqrt(var[:, None, None] + 1e-5)
                * gamma[:, None, None] + beta[:, None, None])
    rows = [ax for ax in result.figure.axes if ax.get_title(loc='left')]
    assert [ax.get_title(loc='left') for ax in rows] == [
        '卷积层的输出（批量归一化之前）', '批量归一化之后：用移动平均标准化，再乘 γ、加 β', 'sigmoid 之后']
    after = np.ma.filled(rows[1].get_images()[0].get_array().astype(float), np.nan)
    assert np.allclose(after[:, :24], expected[0], atol=1e-4)
    sig = np.ma.filled(rows[2].get_images()[0].get_array().astype(float), np.nan)
    # tiles 24 wide with a 24 // 8 = 3 column gap: channel 1 starts at 27
    assert np.allclose(sig[:, 27:51], 1 / (1 + np.exp(-expected[1])), atol=1e-5)
    table = result.table
    assert table['之后的均值'].values == pytest.approx(expected.mean(axis=(1, 2)), abs=1e-3)
    assert table['γ'].values == pytest.approx(gamma, abs=1e-3)
    assert result.text.startswith('测试图像 #2：真实类别 连衣裙')
    with pytest.raises(ValueError, match='批量归一化层 3（第 1 个全连接层之后）接在全连接层之后，'
                                         '它的输出是 120 个数，不是特征图；请选接在卷积层之后的'
                                         '批量归一化层：1、2。'):
        bn_maps_explorer(trained, index=0, layer=3)
    with pytest.raises(ValueError, match='first_channel 应在 0 到 5 之间'):
        bn_maps_explorer(trained, index=0, layer=1, first_channel=6)
    plt.close('all')
