"""The chapter-5 training loop of d2lzh, kept recognisable and made sturdier.

``train_ch5`` keeps d2lzh's signature and its epoch line
(``epoch 1, loss 0.4321, train acc 0.842, test acc 0.868, time 12.3 sec``) and
adds: a list of devices (data parallel), the per-epoch history as its return
value, progress while an epoch runs, a clear stop when the loss diverges, and
Ctrl-C returning what was trained so far.

d2lzh calls ``asscalar()`` twice per batch, which makes Python wait for every
batch to finish before queueing the next. Here the sums stay on the device and
are read every few batches only (for the progress display and the divergence
check), which also bounds how far Python can run ahead of the device.

The network runs as one compiled graph (``d2lhelpers.hybrid``) when it can:
the same layers and parameters, 1.06x to 2.08x faster on a 2-core CPU
(``benchmarks/README.md``). A network that cannot be compiled, such as the
notes' from-scratch batch normalization, runs as written.
"""
import contextlib
import math
import os
import time

import mxnet as mx
from mxnet import autograd, gluon, nd

from . import hybrid


class TrainingDiverged(FloatingPointError):
    """The loss became NaN or infinite. ``history`` holds the finished epochs."""

    def __init__(self, message, history):
        super().__init__(message)
        self.history = history


def _as_list(ctx):
    if ctx is None:
        return [mx.cpu()]
    return list(ctx) if isinstance(ctx, (list, tuple)) else [ctx]


def _split(X, y, ctxs):
    """Split a batch across devices (a short last batch may use fewer)."""
    ctxs = ctxs[:max(1, min(len(ctxs), X.shape[0]))]
    return (gluon.utils.split_and_load(X, ctxs, even_split=False),
            gluon.utils.split_and_load(y, ctxs, even_split=False))


def _num_correct(y_hat, y):
    return (y_hat.argmax(axis=1) == y.astype('float32')).sum()


def _total(sums):
    """Add per-device scalars on the host: this is the synchronisation point."""
    return sum(s.asscalar() for s in sums)


def evaluate_accuracy(data_iter, net, ctx=None):
    """Fraction of correctly classified examples in ``data_iter``."""
    ctxs = _as_list(ctx)
    correct = [nd.zeros((1,), ctx=c) for c in ctxs]
    n = 0
    for X, y in data_iter:
        Xs, ys = _split(X, y, ctxs)
        for k, (X_k, y_k) in enumerate(zip(Xs, ys)):
            correct[k] += _num_correct(net(X_k), y_k)
        n += y.shape[0]
    if n == 0:
        raise ValueError('The data iterator is empty, so there is no accuracy '
                         'to compute; check the data set and batch size.')
    return _total(correct) / n


def training_steps(net, train_iter, trainer, ctx=None):
    """Train one mini-batch at a time, for experiments that look at every step.

    An endless generator of ``(step, mean loss NDArray)`` that starts over at
    the beginning of ``train_iter`` when it runs out (a new epoch, so a new
    shuffle); the caller decides how many steps to take (``itertools.islice``)
    and when to read the losses. The same update as ``train_ch5`` on one
    device, without its progress display.
    """
    loss = gluon.loss.SoftmaxCrossEntropyLoss()
    step = 0
    while True:
        epoch_start = step
        for X, y in train_iter:
            if ctx is not None:
                X, y = X.as_in_context(ctx), y.as_in_context(ctx)
            with autograd.record():
                l = loss(net(X), y)
            l.backward()
            trainer.step(X.shape[0])
            step += 1
            yield step, l.mean()
        if step == epoch_start:
            raise ValueError('The training iterator is empty; check the data '
                             'set and batch size.')


def _in_notebook():
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == 'ZMQInteractiveShell'


def train_ch5(net, train_iter, test_iter, batch_size, trainer, ctx, num_epochs,
              progress=None, check_every=None, hybridize=True):
    """Train ``net`` with softmax cross-entropy; return the per-epoch history.

    Parameters
    ----------
    net, train_iter, test_iter, trainer, num_epochs
        As in d2lzh.
    batch_size : int
        Kept for d2lzh's signature; each step normalises by the size of the
        batch actually seen, so a short last batch is not over-weighted.
    ctx : Context or list of Context
        A list trains data-parallel (each batch split with ``split_and_load``).
    progress : {'notebook', 'text', 'off', None}
        None picks the live plot in a notebook and plain lines elsewhere;
        'off' prints the epoch lines only.
    check_every : int
        Read the running loss every this many batches (default: about 20
        times per epoch, at least every 10 batches).
    hybridize : bool
        Run ``net`` as one compiled graph (``d2lhelpers.hybrid``) if it can
        be; ``net`` itself is left as it was. False runs it as written.

    Returns
    -------
    list of dict
        One ``{'epoch', 'loss', 'train_acc', 'test_acc', 'time',
        'train_time'}`` per finished epoch (``time`` includes the test-set
        evaluation, as in d2lzh; ``train_time`` does not). Ctrl-C returns the epochs finished so far; the network keeps
        the weights trained until then.
    """
    ctxs = _as_list(ctx)
    loss = gluon.loss.SoftmaxCrossEntropyLoss()
    num_batches = len(train_iter)
    check_every = check_every or max(1, min(10, num_batches // 20))
    if progress is None:
        progress = 'notebook' if _in_notebook() else 'text'
    reporter = {'notebook': NotebookProgress, 'text': TextProgress,
                'off': _NoProgress}[progress](num_epochs, num_batches)
    print('training on', ', '.join(str(c) for c in ctxs))
    history = []
    epoch, batch = 0, 0
    compiled = contextlib.ExitStack()
    runner = None
    try:
        for epoch in range(1, num_epochs + 1):
            loss_sum = [nd.zeros((1,), ctx=c) for c in ctxs]
            correct = [nd.zeros((1,), ctx=c) for c in ctxs]
            n, start = 0, time.time()
            for batch, (X, y) in enumerate(train_iter, 1):
                Xs, ys = _split(X, y, ctxs)
                if runner is None:  # first batch: compile, now that a batch exists
                    runner = _compile(net, loss, Xs[0], hybridize, compiled)
                with autograd.record():
                    y_hats = [runner(X_k) for X_k in Xs]
                    ls = [loss(y_hat, y_k) for y_hat, y_k in zip(y_hats, ys)]
                for l in ls:
                    l.backward()
                trainer.step(X.shape[0])
                for k, (l, y_hat, y_k) in enumerate(zip(ls, y_hats, ys)):
                    loss_sum[k] += l.sum()
                    correct[k] += _num_correct(y_hat, y_k)
                n += X.shape[0]
                if batch % check_every == 0 or batch == num_batches:
                    train_l = _total(loss_sum) / n
                    _check_finite(train_l, epoch, batch, trainer, history)
                    reporter.batch(epoch, batch, train_l, _total(correct) / n)
            train_l, train_acc = _total(loss_sum) / n, _total(correct) / n
            _check_finite(train_l, epoch, batch, trainer, history)
            train_time = time.time() - start
            test_acc = evaluate_accuracy(test_iter, runner or net, ctxs)
            record = dict(epoch=epoch, loss=train_l, train_acc=train_acc,
                          test_acc=test_acc, time=time.time() - start,
                          train_time=train_time)
            history.append(record)
            print('epoch %d, loss %.4f, train acc %.3f, test acc %.3f, '
                  'time %.1f sec' % (epoch, train_l, train_acc, test_acc,
                                     record['time']))
            reporter.epoch(record)
    except KeyboardInterrupt:
        nd.waitall()  # let queued updates finish so the weights are consistent
        print('Training interrupted in epoch %d (batch %d of %d): returning the '
              'history of the %d finished epoch(s); the network keeps the '
              'weights trained so far.'
              % (epoch, batch, num_batches, len(history)))
    finally:
        compiled.close()  # net gets back its own hybridization state
    return history


def _compile(net, loss, example, hybridize, stack):
    """The block to train: ``net`` compiled if asked and possible, else ``net``."""
    if not hybridize:
        return net
    runner, why_not = hybrid.compile_if_possible(net, example, stack)
    if why_not:
        print('not compiled:', why_not)
        return net
    loss.hybridize(static_alloc=True, static_shape=True)
    return runner


def _check_finite(train_l, epoch, batch, trainer, history):
    if not math.isfinite(train_l):
        raise TrainingDiverged(
            'Training stopped in epoch %d at batch %d: the loss became %s. The '
            'learning rate (%g) is likely too high; lower it (for example by '
            '10x), re-initialize the network with force_reinit=True and train '
            'again.' % (epoch, batch, train_l, trainer.learning_rate), history)


class _NoProgress:
    def __init__(self, num_epochs, num_batches):
        pass

    def batch(self, epoch, batch, loss, acc):
        pass

    def epoch(self, record):
        pass


class TextProgress:
    """Plain lines, for a terminal or CI logs: one at each quarter of an epoch."""

    def __init__(self, num_epochs, num_batches):
        self.num_batches = num_batches
        self.quarter = 0

    def batch(self, epoch, batch, loss, acc):
        quarter = 4 * batch // self.num_batches
        if self.num_batches >= 8 and self.quarter < quarter < 4:
            self.quarter = quarter
            print('  epoch %d: %d/%d batches, loss %.4f, train acc %.3f'
                  % (epoch, batch, self.num_batches, loss, acc), flush=True)

    def epoch(self, record):
        self.quarter = 0


class NotebookProgress:
    """A progress bar inside each epoch and a live loss/accuracy plot."""

    def __init__(self, num_epochs, num_batches):
        from IPython.display import HTML, DisplayHandle
        import matplotlib.pyplot as plt
        self._HTML = HTML
        self.num_epochs, self.num_batches = num_epochs, num_batches
        self.fig, self.ax = plt.subplots(figsize=(5, 3))
        plt.close(self.fig)  # shown through the display handle only
        self.points = {'train loss': [], 'train acc': [], 'test acc': []}
        # Handles updated in place (outside a kernel they just print).
        self.bar, self.plot = DisplayHandle(), DisplayHandle()
        self.bar.display(HTML(self._bar_html(1, 0, None)))
        self.plot.display(self._draw())

    def _bar_html(self, epoch, batch, loss):
        done = batch / max(1, self.num_batches)
        text = 'epoch %d/%d: %d/%d batches' % (epoch, self.num_epochs, batch,
                                               self.num_batches)
        if loss is not None:
            text += ', loss %.4f' % loss
        return ('<div style="font-family:monospace">'
                '<progress value="%.3f" max="1" style="width:40%%"></progress> '
                '%s</div>' % (done, text))

    def _draw(self):
        ax = self.ax
        ax.cla()
        # Test accuracy is one point per epoch: markers keep a single epoch visible.
        for (name, pts), fmt in zip(self.points.items(), ('-', 'm--', 'g-.o')):
            if pts:
                ax.plot(*zip(*pts), fmt, label=name)
        ax.set_xlabel('epoch')
        ax.set_xlim(0, self.num_epochs)
        ax.grid(True)
        if any(self.points.values()):
            ax.legend()
        return self.fig

    def batch(self, epoch, batch, loss, acc):
        x = epoch - 1 + batch / self.num_batches
        self.points['train loss'].append((x, loss))
        self.points['train acc'].append((x, acc))
        self.bar.update(self._HTML(self._bar_html(epoch, batch, loss)))
        self.plot.update(self._draw())

    def epoch(self, record):
        self.points['test acc'].append((record['epoch'], record['test_acc']))
        self.plot.update(self._draw())
