"""Is the Fashion-MNIST pipeline fast enough not to slow ResNet-18 down?

    python benchmarks/data_pipeline.py [--batches 20] [--steps 5]

Measures, at 96x96 and batch size 128 (the ResNet notebook's setting):

* the time to produce one batch with ``d2lhelpers.data.load_data_fashion_mnist``
  (mean over ``--batches`` batches, after 2 warm-up batches);
* the same with two alternatives: resizing the whole batch with
  ``mx.nd.contrib.BilinearResize2D``, and d2lzh's per-image
  ``transforms.Resize`` + ``ToTensor`` (what the book's ``load_data_fashion_mnist``
  does);
* the time of one ResNet-18 training step on such a batch (SGD, lr 0.05;
  the model is an ``nn.Block``, so it runs imperatively), mean of ``--steps``
  steps after 2 warm-up steps.

and prints each pipeline's share of a training step, in wall-clock and in CPU
time (the latter is steadier when other programs share the cores). The
acceptance target is a wall-clock share under 10 %. Every timing waits for MXNet's asynchronous engine
(``wait_to_read`` / ``nd.waitall``). Runs in about a minute on 2 CPU cores.
"""
import argparse
import os
import time

import d2lhelpers  # noqa: F401  (sets OMP_NUM_THREADS before mxnet loads)
from d2lhelpers import _gluon, data
from d2lhelpers.models import resnet18

import numpy as np
import mxnet as mx
from mxnet import gluon, init, nd
from mxnet.gluon.data.vision import transforms

BATCH, SIZE = 128, 96


def _clocks():
    return time.perf_counter(), time.process_time()


def _per(start, n):
    """(wall, CPU) seconds per item since ``start``; CPU time is summed over
    all our threads and does not grow while other programs hold the cores."""
    wall, cpu = _clocks()
    return (wall - start[0]) / n, (cpu - start[1]) / n


def time_batches(loader, n, warmup=2):
    """(wall, CPU) seconds to produce one batch, data ready, over ``n``."""
    it = iter(loader)
    for _ in range(warmup):
        next(it)[0].wait_to_read()
    start = _clocks()
    for _ in range(n):
        X, y = next(it)
        X.wait_to_read()
        y.wait_to_read()
    return _per(start, n)


def nd_resize_loader(arrays):
    """Whole-batch resizing with MXNet's BilinearResize2D operator."""
    def batchify(samples):
        images, labels = zip(*samples)
        X = nd.array(np.stack(images)[:, None].astype(np.float32) / 255)
        X = nd.contrib.BilinearResize2D(X, height=SIZE, width=SIZE,
                                        align_corners=False)
        return X, nd.array(labels, dtype='int32')
    dataset = gluon.data.ArrayDataset(arrays.train_images, arrays.train_labels)
    return gluon.data.DataLoader(dataset, BATCH, shuffle=True,
                                 batchify_fn=batchify)


def d2lzh_loader(arrays):
    """d2lzh's pipeline: per-image Resize + ToTensor on (28, 28, 1) uint8."""
    images = nd.array(arrays.train_images[:, :, :, None], dtype='uint8')
    labels = arrays.train_labels
    dataset = gluon.data.ArrayDataset(images, labels)
    transformer = transforms.Compose([transforms.Resize(SIZE),
                                      transforms.ToTensor()])
    return gluon.data.DataLoader(dataset.transform_first(transformer), BATCH,
                                 shuffle=True)


def time_resnet_step(X, y, steps, warmup=2):
    """(wall, CPU) seconds of one ResNet-18 SGD step on the batch ``(X, y)``."""
    net = resnet18(10)
    net.initialize(init=init.Xavier())
    trainer = gluon.Trainer(net.collect_params(), 'sgd', {'learning_rate': 0.05})
    loss = gluon.loss.SoftmaxCrossEntropyLoss()
    y = y.astype('float32')

    def step():
        _gluon.train_step(net, loss, trainer, [X], [y], X.shape[0])

    for _ in range(warmup):
        step()
    nd.waitall()
    start = _clocks()
    for _ in range(steps):
        step()
    nd.waitall()
    return _per(start, steps)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--batches', type=int, default=20)
    parser.add_argument('--steps', type=int, default=5)
    args = parser.parse_args(argv)

    arrays = data.load_fashion_mnist_arrays()
    print(arrays.source)
    print('MXNet %s, OMP_NUM_THREADS=%s, load average before: %.2f'
          % (mx.__version__, d2lhelpers.OMP_THREADS,
             os.getloadavg()[0]))

    train_iter, _ = data.load_data_fashion_mnist(BATCH, resize=SIZE)
    pipelines = [
        ('d2lhelpers (batch, 2 matmuls)', train_iter),
        ('batch BilinearResize2D', nd_resize_loader(arrays)),
        ('d2lzh per-image Resize+ToTensor', d2lzh_loader(arrays)),
    ]
    times = [(name, time_batches(loader, args.batches))
             for name, loader in pipelines]

    X, y = next(iter(train_iter))
    step = time_resnet_step(X, y, args.steps)

    print('\nbatch %d at %dx%d; one ResNet-18 training step: %.0f ms wall, '
          '%.0f ms CPU (mean of %d)' % (BATCH, SIZE, SIZE, step[0] * 1e3,
                                        step[1] * 1e3, args.steps))
    print('%-34s %9s %9s %17s' % ('pipeline (mean of %d batches)'
                                  % args.batches, 'wall ms', 'CPU ms',
                                  'share of a step'))
    for name, (wall, cpu) in times:
        print('%-34s %9.1f %9.1f %10.1f%% wall %5.1f%% CPU'
              % (name, wall * 1e3, cpu * 1e3, 100 * wall / step[0],
                 100 * cpu / step[1]))
    ok = times[0][1][0] / step[0] < 0.10
    print('\ntarget: d2lhelpers pipeline < 10%% of a step -> %s'
          % ('met' if ok else 'NOT met'))
    print('load average after: %.2f' % os.getloadavg()[0])
    return 0 if ok else 1


if __name__ == '__main__':
    raise SystemExit(main())
