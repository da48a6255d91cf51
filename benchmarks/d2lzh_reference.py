"""The d2lzh (d2l-zh v1) data pipeline and training loop, reproduced for timing.

What a learner running the book's own helpers gets, in its behaviour:

* ``load_data``: a Gluon ``DataLoader`` over a dataset of ``(28, 28, 1)``
  uint8 NDArrays, with a per-image ``transforms.Resize`` (only when resizing)
  and ``transforms.ToTensor`` applied through ``transform_first``, shuffled,
  and with 4 worker processes (d2lzh's choice everywhere but Windows);
* ``train_epoch``: the loop body of d2lzh's ``train_ch5``: the network as
  written (not hybridized), ``loss(...).sum()``, ``trainer.step(batch_size)``
  and two ``asscalar()`` calls per batch (the running loss and accuracy),
  each of which makes Python wait until that batch has been computed.

Gluon's own ``FashionMNIST`` dataset would check the .gz files against
MXNet's copies (Debian's re-gzipped files differ), so the same images come in
as arrays instead; ``transform_first`` and the ``DataLoader`` are Gluon's.
"""
import sys
import time

from mxnet import autograd, gluon, nd
from mxnet.gluon.data.vision import transforms


def load_data(images, labels, batch_size, resize=None):
    """The d2lzh training iterator over uint8 ``images`` (N, 28, 28)."""
    steps = [transforms.Resize(resize)] if resize else []
    transformer = transforms.Compose(steps + [transforms.ToTensor()])
    dataset = gluon.data.ArrayDataset(
        nd.array(images.reshape(-1, 28, 28, 1), dtype='uint8'),
        labels.astype('int32'))
    num_workers = 0 if sys.platform.startswith('win32') else 4
    return gluon.data.DataLoader(dataset.transform_first(transformer),
                                 batch_size, shuffle=True,
                                 num_workers=num_workers)


def train_epoch(net, train_iter, batch_size, trainer, ctx):
    """One epoch of d2lzh's ``train_ch5``; returns ``(loss, acc, seconds)``."""
    loss = gluon.loss.SoftmaxCrossEntropyLoss()
    train_l_sum, train_acc_sum, n, start = 0.0, 0.0, 0, time.time()
    for X, y in train_iter:
        X, y = X.as_in_context(ctx), y.as_in_context(ctx)
        with autograd.record():
            y_hat = net(X)
            l = loss(y_hat, y).sum()
        l.backward()
        trainer.step(batch_size)
        y = y.astype('float32')
        train_l_sum += l.asscalar()
        train_acc_sum += (y_hat.argmax(axis=1) == y).sum().asscalar()
        n += y.size
    return train_l_sum / n, train_acc_sum / n, time.time() - start
