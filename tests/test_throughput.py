import mxnet as mx
import numpy as np
import pytest
from mxnet import init, nd

from d2lhelpers import models
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


def test_bad_counts_are_clear_errors():
    net = models.lenet_gluon_bn()
    net.initialize()
    with pytest.raises(ValueError, match='steps must be a whole number of at least 1'):
        training_throughput(net, (1, 28, 28), steps=0)
    with pytest.raises(ValueError, match='batch_size must be a whole number'):
        inference_throughput(net, (1, 28, 28), batch_size=2.5)
