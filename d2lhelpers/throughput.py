"""Images per second a network trains or predicts on one device.

``train_ch5``'s step on one random batch kept on the device (no data loading;
``benchmarks/speed.py`` times whole loops); weights and BatchNorm statistics
are restored. The batch's layer outputs must fit ``MEMORY_BUDGET``.
"""
import contextlib
import time

from mxnet import autograd, gluon, nd

from . import _gluon, hybrid
from .checks import check_bool, check_elements, check_int
from .cost import model_cost
from .context import devices

__all__ = ['training_throughput', 'inference_throughput', 'MEMORY_BUDGET']

MEMORY_BUDGET = 2e9  # bytes of layer outputs per batch (training keeps about twice that)


def _batch(net, image_shape, batch_size, ctx, steps, warmup, hybridize):
    """The random batch to measure on, once every argument is checked."""
    check_int('batch_size', batch_size, 1, 512)
    check_int('steps', steps, 1, 100)
    check_int('warmup', warmup, 0, 20)
    check_bool('hybridize', hybridize)
    ctx, = devices(ctx, one=True)
    if not isinstance(image_shape, (tuple, list)) or len(image_shape) != 3:
        raise ValueError('image_shape 应是一张图像的 (通道数, 高, 宽)，例如 (1, 28, 28)；'
                         '收到的是 %r。' % (image_shape,))
    shape = (check_int('image_shape 的通道数', image_shape[0], 1, 3),
             check_int('image_shape 的高', image_shape[1], 1, 224),
             check_int('image_shape 的宽', image_shape[2], 1, 224))
    check_elements('输入批量', (batch_size,) + shape)
    # One image: finishes deferred initialization, and refuses a too small input.
    per_image = model_cost(net, nd.zeros((1,) + shape, ctx=ctx))['activation bytes']
    if per_image * batch_size > MEMORY_BUDGET:
        raise ValueError(
            '这个网络在 %d×%d 的输入上每张图像的层输出约 %.1f MB，批量大小 %d 就要 %.1f GB，'
            '超过了这里允许的 %.0f GB；请减小 batch_size 或输入尺寸。' % (
                shape[1], shape[2], per_image / 1e6, batch_size,
                per_image * batch_size / 1e9, MEMORY_BUDGET / 1e9))
    return nd.random.uniform(shape=(batch_size,) + shape, ctx=ctx)


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
    """``(images per second, compiled)`` of training steps of ``net``
    (initialized on ``ctx``) on ``image_shape`` = (channels, height, width)."""
    X = _batch(net, image_shape, batch_size, ctx, steps, warmup, hybridize)
    y = nd.random.randint(0, 10, shape=(batch_size,), ctx=X.context).astype('int32')
    loss = gluon.loss.SoftmaxCrossEntropyLoss()
    params = [p for p in net.collect_params().values() if p.grad_req != 'null']
    # A tiny learning rate: the update runs as in training, the weights barely move.
    trainer = gluon.Trainer(params, 'sgd', {'learning_rate': 1e-8})
    with _gluon.kept_state(net), contextlib.ExitStack() as stack:
        runner, why_not = hybrid.compile_if_possible(net, loss, X, stack, hybridize)
        rate = _images_per_second(
            lambda: _gluon.train_step(runner, loss, trainer, [X], [y], batch_size),
            batch_size, steps, warmup)
    return rate, why_not is None


def inference_throughput(net, image_shape, batch_size=128, ctx=None, steps=5,
                         warmup=2, hybridize=True):
    """``(images per second, compiled)`` of predictions of ``net`` (see above)."""
    X = _batch(net, image_shape, batch_size, ctx, steps, warmup, hybridize)
    with contextlib.ExitStack() as stack:
        runner, why_not = hybrid.compile_if_possible(net, None, X, stack, hybridize)

        def predict():
            with autograd.predict_mode():
                runner(X)

        rate = _images_per_second(predict, batch_size, steps, warmup)
    return rate, why_not is None
