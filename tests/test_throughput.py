import re

import mxnet as mx
import numpy as np
import pytest
from mxnet import init, nd

from d2lhelpers import models, throughput
from d2lhelpers.throughput import inference_throughput, training_throughput


def state(net):
    arrays = {n: p.data().asnumpy() for n, p in net.collect_params().items()}
    for i, layer in enumerate(net):
        for attr in ('moving_mean', 'moving_var'):
            if isinstance(getattr(layer, attr, None), nd.NDArray):
                arrays['%d.%s' % (i, attr)] = getattr(layer, attr).asnumpy()
    return arrays


@pytest.mark.parametrize('make, compiles', [(models.lenet_gluon_bn, True),
                                            (models.lenet_bn, False)])
def test_measuring_does_not_train_the_network(make, compiles):
    net = make()
    net.initialize(init.Xavier())
    net(nd.zeros((1, 1, 28, 28)))
    before = state(net)
    rate, compiled = training_throughput(net, (1, 28, 28), batch_size=16, steps=2)
    assert rate > 0 and compiled is compiles
    after = state(net)
    assert before.keys() == after.keys()
    for name in before:
        np.testing.assert_array_equal(before[name], after[name], err_msg=name)


def test_inference_and_imperative_modes():
    net = models.lenet_gluon_bn()
    net.initialize()
    rate, compiled = inference_throughput(net, (1, 28, 28), batch_size=8, steps=2)
    assert rate > 0 and compiled
    rate, compiled = training_throughput(net, (1, 28, 28), batch_size=8, steps=1,
                                         warmup=0, hybridize=False)
    assert rate > 0 and not compiled


@pytest.mark.parametrize('kwargs, words', [
    (dict(steps=0), 'steps 应在 1 到 100 之间'),
    (dict(batch_size=2.5), 'batch_size 应是整数'),
    (dict(batch_size=10 ** 5), 'batch_size 应在 1 到 512 之间，收到的是 100000'),
    (dict(warmup=-1), 'warmup 应在 0 到 20 之间'),
    (dict(image_shape=(1, 28)), 'image_shape 应是一张图像的 (通道数, 高, 宽)'),
    (dict(image_shape=(1, 0, 28)), 'image_shape 的高 应在 1 到 224 之间'),
    (dict(image_shape=(1, 28, 5000)), 'image_shape 的宽 应在 1 到 224 之间'),
    (dict(ctx=mx.gpu(3)), '这台机器上没有设备 gpu(3)，只有 cpu(0)'),
    (dict(ctx=[]), 'ctx 是空的列表'),
    (dict(ctx='cpu'), 'ctx 应是 MXNet 的设备'),
    (dict(hybridize='False'), 'hybridize 应是 True 或 False'),
])
@pytest.mark.parametrize('measure', [training_throughput, inference_throughput])
def test_bad_arguments_are_sentences_before_any_allocation(measure, kwargs, words,
                                                         monkeypatch):
    net = models.lenet_gluon_bn()
    net.initialize()
    allocated = []
    monkeypatch.setattr(throughput.nd.random, 'uniform',
                        lambda *a, **k: allocated.append(k))
    args = dict(image_shape=(1, 28, 28))
    args.update(kwargs)
    with pytest.raises(ValueError, match=re.escape(words)):
        measure(net, **args)
    assert allocated == []


def test_a_batch_too_big_for_a_laptop_is_refused():
    """DenseNet at 224x224, batch 512: about 19 GB of layer outputs."""
    net = models.densenet()
    net.initialize()
    with pytest.raises(ValueError, match=r'这个网络在 224×224 的输入上每张图像的层输出'
                                         r'约 37\.4 MB，批量大小 512 就要 19\.2 GB'):
        training_throughput(net, (1, 224, 224), batch_size=512)


def test_too_small_an_input_names_the_layer():
    net = models.densenet()
    net.initialize()
    with pytest.raises(ValueError, match='无法处理形状为'):
        inference_throughput(net, (1, 28, 28), batch_size=2, steps=1)
