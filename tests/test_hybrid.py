"""The compiled twin computes what the notes' imperative network computes."""
import mxnet as mx
import numpy as np
import pytest
from mxnet import autograd, gluon, init, nd
from mxnet.gluon import nn

from d2lhelpers import _gluon, hybrid, models, train
from d2lhelpers.data import load_data_fashion_mnist

# (network, input side): each section's network at a small size it accepts.
NETWORKS = [(models.googlenet, 28), (models.resnet18, 28),
            (models.resnet18_v2, 28), (models.densenet, 32),
            (models.lenet_gluon_bn, 28)]


def batch(size, n=8, seed=0):
    rng = np.random.RandomState(seed)
    return (nd.array(rng.rand(n, 1, size, size)),
            nd.array(rng.randint(0, 10, n)))


def one_step(block, params, X, y):
    """Loss and the gradient of every parameter after one training step."""
    loss = gluon.loss.SoftmaxCrossEntropyLoss()
    with autograd.record():
        l = loss(block(X), y)
    l.backward()
    return l.asnumpy(), {name: p.grad().asnumpy() for name, p in params.items()
                         if p.grad_req != 'null'}


@pytest.mark.parametrize('make, size', NETWORKS, ids=lambda v: getattr(v, '__name__', str(v)))
def test_twin_matches_the_imperative_network(make, size):
    mx.random.seed(0)
    net = make()
    net.initialize(init.Xavier())
    X, y = batch(size)
    params = net.collect_params()
    # Predictions before any training step (a step moves BatchNorm's running
    # statistics); training-mode steps use batch statistics, so their order
    # does not matter.
    with autograd.predict_mode():
        expected_out = net(X).asnumpy()
    with hybrid.hybridized(net, X) as runner:
        assert runner is not net and isinstance(runner, nn.HybridBlock)
        # The very same Parameter objects: training the twin trains net.
        assert set(map(id, runner.collect_params().values())) == set(map(id, params.values()))
        with autograd.predict_mode():
            out = runner(X).asnumpy()
        loss, grads = one_step(runner, params, X, y)
    expected_loss, expected_grads = one_step(net, params, X, y)
    np.testing.assert_allclose(loss, expected_loss, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(out, expected_out, rtol=1e-4, atol=1e-5)
    # atol 1e-4: a convolution's bias right before BatchNorm has a true
    # gradient of zero, so both sides hold float noise of about 1e-5 there.
    for name in expected_grads:
        np.testing.assert_allclose(grads[name], expected_grads[name],
                                   rtol=1e-3, atol=1e-4, err_msg=name)


def test_net_is_left_as_it_was():
    net = models.resnet18()
    net.initialize()
    X, _ = batch(28, n=2)
    with hybrid.hybridized(net, X):
        pass
    layers = _gluon.hybrid_blocks(hybrid.twin(net))
    assert layers and not any(map(_gluon.is_hybridized, layers))
    # A learner's own hybridize() state survives too.
    net[0].hybridize()
    with hybrid.hybridized(net, X):
        pass
    assert _gluon.is_hybridized(net[0]) and not _gluon.is_hybridized(net[1])


def test_from_scratch_batch_norm_says_why_it_cannot_be_compiled():
    net = models.lenet_bn()
    net.initialize()
    X, _ = batch(28, n=2)
    with pytest.raises(hybrid.NotHybridizable) as err:
        with hybrid.hybridized(net, X):
            pass
    assert 'BatchNorm 自己持有参数（gamma, beta）' in str(err.value)
    assert '它按写法（命令式）执行' in str(err.value)
    assert not any(map(_gluon.is_hybridized, _gluon.hybrid_blocks(net)))


class UsesMxNd(nn.Block):
    """A block written against ``mx.nd`` rather than ``nd``: not traceable."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = nn.Dense(10)

    def forward(self, x):
        return mx.nd.relu(self.dense(x))


def train_one_epoch(net, batch_size, subset, lr):
    """``train_ch5`` for one epoch on real images; returns the history, the
    first layer's weights before training and the test iterator."""
    train_iter, test_iter = load_data_fashion_mnist(batch_size, subset=subset,
                                                    test_subset=100)
    trainer = gluon.Trainer(net.collect_params(), 'sgd', {'learning_rate': lr})
    net(next(iter(train_iter))[0])  # finish deferred initialisation
    before = net[0].weight.data().copy()
    history = train.train_ch5(net, train_iter, test_iter, batch_size, trainer,
                              mx.cpu(), 1, progress='off')
    return history, before, test_iter


def test_untraceable_block_trains_as_written(capsys):
    net = nn.Sequential()
    net.add(nn.Conv2D(4, kernel_size=3), UsesMxNd())
    mx.random.seed(0)
    net.initialize(init.Xavier())
    history, before, _ = train_one_epoch(net, 100, subset=500, lr=0.1)
    out = capsys.readouterr().out
    assert '未编译：UsesMxNd.forward 无法追踪成计算图' in out
    assert len(history) == 1
    assert (net[0].weight.data() - before).abs().sum().asscalar() > 0


def test_train_ch5_trains_the_notes_network_through_its_twin(capsys):
    mx.random.seed(0)
    net = models.resnet18()
    net.initialize(init.Xavier())
    history, before, test_iter = train_one_epoch(net, 50, subset=200, lr=0.05)
    assert '未编译' not in capsys.readouterr().out
    assert (net[0].weight.data() - before).abs().sum().asscalar() > 0
    # The accuracy train_ch5 reports is the imperative net's own.
    assert train.evaluate_accuracy(test_iter, net) == pytest.approx(history[0]['test_acc'])
    assert 0 < history[0]['train_time'] <= history[0]['time']


def test_data_parallel_training_of_a_traced_network():
    """The twin of a notes network (TracedBlock inside) on two devices: both
    copies of every learned parameter stay identical and the network learns.
    (BatchNorm's running statistics are per device, each from its half of
    the batch, as in Gluon without compiling.)"""
    ctxs = [mx.cpu(0), mx.cpu(1)]
    mx.random.seed(0)
    net = models.densenet()
    net.initialize(init.Xavier(), ctx=ctxs)
    train_iter, test_iter = load_data_fashion_mnist(64, resize=32, subset=256,
                                                    test_subset=64)
    trainer = gluon.Trainer(net.collect_params(), 'sgd', {'learning_rate': 0.1})
    history = train.train_ch5(net, train_iter, test_iter, 64, trainer, ctxs, 2,
                              progress='off')
    assert history[-1]['loss'] < history[0]['loss']
    learned = {n: p for n, p in net.collect_params().items() if p.grad_req != 'null'}
    assert len(learned) > 50
    for name, p in learned.items():
        a, b = (p.data(c).asnumpy() for c in ctxs)
        np.testing.assert_array_equal(a, b, err_msg=name)


def test_compile_if_possible_is_the_one_entry_point():
    """train_ch5, throughput and the benchmark compile through this one function."""
    import contextlib
    net = models.lenet_gluon_bn()
    net.initialize()
    X, _ = batch(28, n=2)
    loss = gluon.loss.SoftmaxCrossEntropyLoss()
    with contextlib.ExitStack() as stack:
        runner, why_not = hybrid.compile_if_possible(net, loss, X, stack)
        assert why_not is None and _gluon.is_hybridized(runner)
        assert _gluon.is_hybridized(loss)
        runner, why_not = hybrid.compile_if_possible(net, loss, X, stack, hybridize=False)
        assert runner is net and why_not.startswith('hybridize=False')
    assert not any(map(_gluon.is_hybridized, _gluon.hybrid_blocks(net)))
