"""Images per second a network trains or predicts on the current device.

For the comparison notebook: the step is ``train_ch5``'s (forward, softmax
cross-entropy, backward, SGD update), on one random batch that stays on the
device, so data loading is not counted (``benchmarks/speed.py`` measures
whole training loops on real data). The network is compiled the way
``train_ch5`` compiles it unless ``hybridize=False``; its weights and
BatchNorm statistics are restored afterwards, so measuring does not train it.
"""
import contextlib
import time

from mxnet import autograd, gluon, nd

from . import hybrid
from .data import _check_int
from .shapes import _walk

__all__ = ['training_throughput', 'inference_throughput']


def _check(batch_size, steps, warmup):
    _check_int(batch_size, 'batch_size', 1)
    _check_int(steps, 'steps', 1)
    _check_int(warmup, 'warmup', 0)


def _snapshot(net):
    """Copies of the parameters, and of NDArrays that blocks keep as plain
    attributes (the from-scratch BatchNorm's moving averages)."""
    params = {name: p.data().copy() for name, p in net.collect_params().items()}
    blocks = [net] + [block for _, block in _walk(net)]
    arrays = [(block, attr, value.copy()) for block in blocks
              for attr, value in vars(block).items()
              if isinstance(value, nd.NDArray)]
    return params, arrays


def _restore(net, saved):
    params, arrays = saved
    for name, p in net.collect_params().items():
        p.set_data(params[name])
    for block, attr, value in arrays:
        setattr(block, attr, value)


def _runner(net, X, hybridize, stack):
    """``(block to run, compiled)``."""
    if not hybridize:
        return net, False
    runner, why_not = hybrid.compile_if_possible(net, X, stack)
    return runner, why_not is None


def _images_per_second(run_once, batch_size, steps, warmup):
    for _ in range(warmup):
        run_once()
    nd.waitall()
    start = time.perf_counter()
    for _ in range(steps):
        run_once()
    nd.waitall()
    return batch_size * steps / (time.perf_counter() - start)


def training_throughput(net, image_shape, batch_size=128, ctx=None, steps=5,
                        warmup=2, hybridize=True):
    """``(images per second, compiled)`` of training steps of ``net``.

    ``image_shape`` is one image's ``(channels, height, width)``; ``net`` must
    be initialized on ``ctx``. ``compiled`` says whether the network ran as
    one graph (False when ``hybridize=False`` or it cannot be compiled).
    """
    _check(batch_size, steps, warmup)
    X = nd.random.uniform(shape=(batch_size,) + tuple(image_shape), ctx=ctx)
    y = nd.random.randint(0, 10, shape=(batch_size,), ctx=ctx).astype('int32')
    net(X[:1])  # finish deferred initialisation before taking the snapshot
    saved = _snapshot(net)
    loss = gluon.loss.SoftmaxCrossEntropyLoss()
    params = [p for p in net.collect_params().values() if p.grad_req != 'null']
    # A tiny learning rate: the update runs as in training, the weights barely move
    # (and are restored anyway).
    trainer = gluon.Trainer(params, 'sgd', {'learning_rate': 1e-8})
    with contextlib.ExitStack() as stack:
        runner, compiled = _runner(net, X, hybridize, stack)
        if compiled:
            loss.hybridize(static_alloc=True, static_shape=True)

        def step():
            with autograd.record():
                l = loss(runner(X), y)
            l.backward()
            trainer.step(batch_size)

        try:
            rate = _images_per_second(step, batch_size, steps, warmup)
        finally:
            nd.waitall()
            _restore(net, saved)
    return rate, compiled


def inference_throughput(net, image_shape, batch_size=128, ctx=None, steps=5,
                         warmup=2, hybridize=True):
    """``(images per second, compiled)`` of predictions of ``net`` (see above)."""
    _check(batch_size, steps, warmup)
    X = nd.random.uniform(shape=(batch_size,) + tuple(image_shape), ctx=ctx)
    with contextlib.ExitStack() as stack:
        runner, compiled = _runner(net, X, hybridize, stack)

        def predict():
            with autograd.predict_mode():
                runner(X)

        rate = _images_per_second(predict, batch_size, steps, warmup)
    return rate, compiled
