"""The slowdown MXNET_CPU_PARALLEL_SIZE prevents, as a ratio in one process.

BN-LeNet training steps (many small operators) before and after one
``nd.array`` of a 1,000,000-element numpy array. Without the setting
(``MXNET_CPU_PARALLEL_SIZE=200000``, MXNet's default) the steps after it were
2.6x slower on a 2-core machine (ratio about 0.4); with it the ratio stays
near 1. A measurement, not a test: it depends on the machine's load.

    .venv/bin/python benchmarks/host_copy.py            # the project's setting
    MXNET_CPU_PARALLEL_SIZE=200000 .venv/bin/python benchmarks/host_copy.py
"""
import time

import d2lhelpers  # noqa: F401  (threads and the copy setting, before mxnet)
import numpy as np
from mxnet import gluon, init, nd


def steps_per_second(net, loss, trainer, X, y, n=60, warmup=5):
    for i in range(n + warmup):
        if i == warmup:
            nd.waitall()
            start = time.perf_counter()
        d2lhelpers._gluon.train_step(net, loss, trainer, [X], [y], X.shape[0])
    nd.waitall()
    return n / (time.perf_counter() - start)


def main():
    net = d2lhelpers.models.lenet_gluon_bn()
    net.initialize(init.Xavier())
    net.hybridize(static_alloc=True, static_shape=True)
    loss = gluon.loss.SoftmaxCrossEntropyLoss()
    trainer = gluon.Trainer(net.collect_params(), 'sgd', {'learning_rate': 0.1})
    X, y = nd.random.uniform(shape=(128, 1, 28, 28)), nd.zeros((128,))
    measure = lambda: max(steps_per_second(net, loss, trainer, X, y) for _ in range(2))
    before = measure()
    nd.array(np.zeros(1000000, 'float32')).wait_to_read()
    after = measure()
    print('steps/s before %.1f, after one large host copy %.1f: ratio %.2f'
          % (before, after, after / before))


if __name__ == '__main__':
    main()
