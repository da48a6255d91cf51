"""d2lzh's chapter-5 training loop, kept recognisable and made sturdier.

``train_ch5`` keeps d2lzh's signature and epoch line and adds data parallelism,
the history as return value, progress with remaining time, checks before the
first step, and a stop when the loss is NaN, inf or a running mean above
``EXPLODES x ln(C)`` (``ln(C)`` is the uniform guess training starts from; 10
times that is confidently wrong, not slow). Measured: ResNet-18's early spike
at lr 0.1 peaks at 6 to 9; at lr 1.0 it reaches 50 and ends at chance.

Stop / Ctrl-C waits for the queued work, prints a sentence and raises
``KeyboardInterrupt`` again, so "Run All" stops there (:data:`last_history`
keeps what was done). Sums stay on the device, read every few batches (d2lzh
reads two per batch); the net runs compiled when it can (1.06x to 2.08x on a
2-core CPU, ``benchmarks/README.md``).
"""
import contextlib
import math
import time

from mxnet import autograd, gluon, nd

from . import _gluon, hybrid
from .checks import check_bool, check_choice, check_int, check_number
from .context import devices
from .plan import OVERRUN

__all__ = ['train_ch5', 'evaluate_accuracy', 'training_steps',
           'TrainingDiverged', 'last_history', 'EXPLODES']

last_history = []  # the latest train_ch5 call's history, also after a stop

EXPLODES = 10  # a loss above EXPLODES x ln(number of classes) has diverged

_EMPTY = ('训练数据迭代器 train_iter 里没有任何批量；请检查数据集和批量大小'
          '（例如 subset 不能小于 batch_size）。')


class TrainingDiverged(FloatingPointError):
    """The loss became NaN, inf or exploded. ``history`` holds the finished epochs."""

    def __init__(self, message, history):
        super().__init__(message)
        self.history = history


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
    ctxs = devices(ctx)
    correct = [nd.zeros((1,), ctx=c) for c in ctxs]
    n = 0
    for X, y in data_iter:
        Xs, ys = _split(X, y, ctxs)
        for k, (X_k, y_k) in enumerate(zip(Xs, ys)):
            correct[k] += _num_correct(net(X_k), y_k)
        n += y.shape[0]
    if n == 0:
        raise ValueError('数据迭代器是空的，没有可以计算准确率的样本；请检查数据集和批量大小。')
    return _total(correct) / n


def training_steps(net, train_iter, trainer, ctx=None):
    """Endless ``(step, mean loss NDArray)``: ``train_ch5``'s update on one device,
    epoch after epoch; take what you need (``itertools.islice``)."""
    ctx, = devices(ctx, one=True)
    loss = gluon.loss.SoftmaxCrossEntropyLoss()

    def steps():
        step = 0
        while True:
            epoch_start = step
            for X, y in train_iter:
                X, y = X.as_in_context(ctx), y.as_in_context(ctx)
                losses, _ = _gluon.train_step(net, loss, trainer, [X], [y],
                                              X.shape[0])
                step += 1
                yield step, losses[0].mean()
            if step == epoch_start:
                raise ValueError(_EMPTY)
    return steps()


def _in_notebook():
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == 'ZMQInteractiveShell'


def train_ch5(net, train_iter, test_iter, batch_size, trainer, ctx, num_epochs=None,
              progress=None, check_every=None, hybridize=True, plan=None):
    """Train ``net`` with softmax cross-entropy; return the per-epoch history.

    Arguments as in d2lzh, except: ``batch_size`` is unused, kept so d2lzh's
    calls run unchanged (each step normalises by the batch actually seen);
    ``ctx`` may be a list of devices (data parallel). Give ``num_epochs`` or
    ``plan`` (a :class:`d2lhelpers.plan.TrainingPlan`): exactly
    ``plan.num_steps`` steps, the last epoch cut short, and a stop with a
    sentence at ``plan.time_limit`` seconds. ``progress``: see
    :class:`Progress` (None: 'notebook' in a notebook, else 'text');
    ``check_every``: batches between loss reads (default about 20 per epoch,
    at most 10 apart); ``hybridize``: run compiled if possible (``net`` is
    left as it was). Returns, and keeps as :data:`last_history`, one dict
    ``epoch, loss, train_acc, test_acc, time`` (with the test, as d2lzh),
    ``train_time``, ``steps`` per epoch. ValueError before the first step
    for a bad argument, device, empty ``train_iter`` or labels outside the
    outputs; ``TrainingDiverged`` when the loss diverges.
    """
    global last_history
    ctxs = devices(ctx)
    check_int('batch_size', batch_size, 1)
    if (num_epochs is None) == (plan is None):
        raise ValueError('请给出 num_epochs（训练几个迭代周期）或 plan（d2lh.plan_training '
                         '制定的训练计划）两者之一。')
    if plan is None:
        check_int('num_epochs', num_epochs, 1)
    if not isinstance(trainer, gluon.Trainer):
        raise ValueError('trainer 应是 gluon.Trainer，收到的是 %s。' % type(trainer).__name__)
    check_number('学习率 trainer.learning_rate', trainer.learning_rate, 0)
    check_choice('progress', progress, (None, 'notebook', 'text', 'off'))
    check_bool('hybridize', hybridize)
    num_batches = len(train_iter)
    if num_batches == 0:
        raise ValueError(_EMPTY)
    num_steps = plan.num_steps if plan else num_epochs * num_batches
    time_limit = plan.time_limit if plan else None
    if check_every is None:
        check_every = max(1, min(10, num_batches // 20))
    check_int('check_every', check_every, 1)
    if progress is None:
        progress = 'notebook' if _in_notebook() else 'text'
    reporter = Progress(progress, num_steps, num_batches)
    print('training on', ', '.join(str(c) for c in ctxs))
    history = last_history = []
    loss = gluon.loss.SoftmaxCrossEntropyLoss()
    epoch = batch = step = 0
    runner = limit = None
    began = time.time()
    # On leaving, net gets back its own hybridization state.
    with contextlib.ExitStack() as compiled:
        try:
            while step < num_steps:
                epoch += 1
                epoch_batches = min(num_batches, num_steps - step)
                loss_sum = [nd.zeros((1,), ctx=c) for c in ctxs]
                correct = [nd.zeros((1,), ctx=c) for c in ctxs]
                n, start, batch = 0, time.time(), 0
                for X, y in train_iter:
                    batch += 1
                    Xs, ys = _split(X, y, ctxs)
                    if runner is None:  # first batch: compile and check it
                        runner, why_not = hybrid.compile_if_possible(
                            net, loss, Xs[0], compiled, hybridize)
                        if why_not:
                            print('未编译：' + why_not)
                        limit = EXPLODES * math.log(_num_classes(runner, Xs[0], y))
                    ls, y_hats = _gluon.train_step(runner, loss, trainer, Xs, ys,
                                                   X.shape[0])
                    for k, (l, y_hat, y_k) in enumerate(zip(ls, y_hats, ys)):
                        loss_sum[k] += l.sum()
                        correct[k] += _num_correct(y_hat, y_k)
                    n += X.shape[0]
                    step += 1
                    last = batch == epoch_batches
                    if batch % check_every == 0 or last:
                        train_l = _total(loss_sum) / n
                        _check_loss(train_l, limit, epoch, batch, trainer, history)
                        reporter.batch(epoch, batch, epoch_batches, step, train_l,
                                       _total(correct) / n)
                        if time_limit and time.time() - began > time_limit and not last:
                            print(_overran(time_limit, step, num_steps))
                            num_steps = step
                            break
                    if last:
                        break
                if n == 0:
                    raise ValueError(_EMPTY)
                train_l, train_acc = _total(loss_sum) / n, _total(correct) / n
                _check_loss(train_l, limit, epoch, batch, trainer, history)
                train_time = time.time() - start
                test_acc = evaluate_accuracy(test_iter, runner, ctxs)
                record = dict(epoch=epoch, loss=train_l, train_acc=train_acc,
                              test_acc=test_acc, time=time.time() - start,
                              train_time=train_time, steps=step)
                history.append(record)
                print('epoch %d, loss %.4f, train acc %.3f, test acc %.3f, '
                      'time %.1f sec' % (epoch, train_l, train_acc, test_acc,
                                         record['time']))
                reporter.epoch(record)
        except KeyboardInterrupt:
            nd.waitall()  # let queued updates finish so the weights are consistent
            print('训练在第 %d 个迭代周期（第 %d/%d 个批量，计划的第 %d/%d 步）被中断。网络'
                  '保留了到此为止训练出的权重；已完成的 %d 个迭代周期的记录在 '
                  'd2lh.train.last_history 里。'
                  % (epoch, batch, epoch_batches, step, num_steps, len(history)))
            raise
    return history


def _overran(time_limit, step, num_steps):
    return ('训练已用时 %s，超过了计划时间的 %.1f 倍（这台机器在训练中变慢了，例如有别的程序'
            '在运行），所以在第 %d/%d 步提前停止，准确率会比完整计划低。关掉别的程序后重新'
            '训练，或者用 plan_training(..., full_plan=True) 不限时间。'
            % (_clock(time_limit), OVERRUN, step, num_steps))


def _num_classes(net, X, y):
    """The network's number of outputs, once the first batch's labels fit them."""
    with autograd.predict_mode():
        shape = net(X[:1]).shape
    if len(shape) != 2:
        raise ValueError('网络的输出形状是 %s；softmax 交叉熵需要 (批量大小, 类别数) 形状的'
                         '输出，请在最后加一个全连接层，例如 nn.Dense(10)。' % (shape,))
    low, high = int(y.min().asscalar()), int(y.max().asscalar())
    if low < 0 or high >= shape[1]:
        raise ValueError('网络输出 %d 个类别的分数（类别 0 到 %d），但第一个批量的标签在 %d 到 '
                         '%d 之间，说明数据至少有 %d 个类别。请让最后一层的输出个数等于类别数'
                         '（例如 Fashion-MNIST 用 nn.Dense(10)），标签从 0 开始编号。'
                         % (shape[1], shape[1] - 1, low, high, max(high + 1, shape[1])))
    return shape[1]


def _check_loss(train_l, limit, epoch, batch, trainer, history):
    if math.isfinite(train_l) and train_l <= limit:
        return
    what = ('变成了 %s' % train_l) if not math.isfinite(train_l) else (
        '是 %.4g，超过了 %d × ln(类别数) = %.1f' % (train_l, EXPLODES, limit))
    raise TrainingDiverged(
        '训练在第 %d 个迭代周期的第 %d 个批量停止：训练损失%s，网络已经发散。学习率（%g）'
        '很可能太大；把它调小（例如缩小为十分之一），用 force_reinit=True 重新初始化网络，'
        '再训练。' % (epoch, batch, what, trainer.learning_rate), history)


def _clock(seconds):
    minutes, seconds = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return ('%d:%02d:%02d' % (hours, minutes, seconds) if hours
            else '%d:%02d' % (minutes, seconds))


class Progress:
    """Elapsed and remaining time: 'text' prints a line each quarter epoch,
    'notebook' shows a bar and a live plot via display handles, 'off' nothing.
    Not tqdm: a saved notebook keeps its ipywidget bar as "model not found",
    its text mode redraws with ``\\r`` on stderr, and its units are English.
    The live plot is redrawn at most every ``REDRAW_SECONDS`` (and after each
    epoch): a redraw renders a PNG, and every 10 batches it made the Gluon
    BN-LeNet's epochs 1.7 times as long as its training steps.
    """
    REDRAW_SECONDS = 2.0

    def __init__(self, mode, num_steps, num_batches):
        self.mode, self.num_steps, self.num_batches = mode, num_steps, num_batches
        self.num_epochs = math.ceil(num_steps / num_batches)
        self.start, self.quarter = time.time(), 0
        if mode == 'notebook':
            from IPython.display import DisplayHandle
            import matplotlib.pyplot as plt
            self.fig, self.ax = plt.subplots(figsize=(5, 3))
            plt.close(self.fig)  # shown through the display handle only
            self.points = {'训练损失': [], '训练准确率': [], '测试准确率': []}
            self.bar, self.plot = DisplayHandle(), DisplayHandle()
            self.bar.display(self._bar(0, '迭代周期 1/%d' % self.num_epochs))
            self.plot.display(self._draw())
            self.drawn = time.time()  # when the live plot was last drawn

    def times(self, step):
        elapsed = time.time() - self.start
        left = elapsed * (self.num_steps - step) / max(step, 1)
        return '已用 %s，预计还需 %s' % (_clock(elapsed), _clock(left))

    def batch(self, epoch, batch, epoch_batches, step, loss, acc):
        line = '迭代周期 %d/%d：第 %d/%d 个批量，训练损失 %.4f，训练准确率 %.3f，%s' % (
            epoch, self.num_epochs, batch, epoch_batches, loss, acc, self.times(step))
        quarter = 4 * batch // epoch_batches
        if self.mode == 'text' and epoch_batches >= 8 and self.quarter < quarter < 4:
            self.quarter = quarter
            print('  ' + line, flush=True)
        elif self.mode == 'notebook':
            x = epoch - 1 + batch / self.num_batches
            self.points['训练损失'].append((x, loss))
            self.points['训练准确率'].append((x, acc))
            self.bar.update(self._bar(step / self.num_steps, line))
            if time.time() - self.drawn >= self.REDRAW_SECONDS:
                self._redraw()

    def epoch(self, record):
        self.quarter = 0
        if self.mode == 'notebook':
            self.points['测试准确率'].append((record['steps'] / self.num_batches,
                                         record['test_acc']))
            self._redraw()

    def _redraw(self):
        self.plot.update(self._draw())
        self.drawn = time.time()

    def _bar(self, done, text):
        from IPython.display import HTML
        return HTML('<div style="font-family:monospace"><progress value="%.3f" max="1" '
                    'style="width:40%%"></progress> %s</div>' % (done, text))

    def _draw(self):
        ax = self.ax
        ax.cla()
        # Test accuracy is one point per epoch: markers keep a single epoch visible.
        for (name, pts), fmt in zip(self.points.items(), ('-', 'm--', 'g-.o')):
            if pts:
                ax.plot(*zip(*pts), fmt, label=name)
        ax.set_xlabel('迭代周期')
        ax.set_xlim(0, self.num_steps / self.num_batches)
        ax.grid(True)
        if any(self.points.values()):
            ax.legend()
        return self.fig
