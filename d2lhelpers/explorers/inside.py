"""Looking inside a trained network, shared by the four sections: the network
with its test set (:class:`TrainedNet`, which caches what it computed), the
confusion matrix and the most confident mistakes. The per-section views are in
``inside_googlenet``, ``inside_batchnorm``, ``inside_resnet``, ``inside_densenet``.

Stale results: everything :class:`TrainedNet` computed is keyed on a
fingerprint of the network's parameters (a sum and a norm per parameter), read
again at every request; retraining the network (or loading other weights)
changes it, and the predictions on the test set are then recomputed.
"""
import collections
import contextlib

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from mxnet import autograd, cpu, nd
from mxnet.base import MXNetError
from mxnet.gluon import Block

from . import recording
from .. import _gluon, hybrid
from ..checks import check_bool, check_choice, check_int
from ..data import TEXT_LABELS_ZH
from ..widgets import ExplorerResult

__all__ = ['TrainedNet', 'Predictions', 'check_trained', 'fingerprint', 'capture',
           'check_shown', 'channel_range', 'net_context', 'confusion_matrix', 'confusion_explorer',
           'most_confident_mistakes', 'mistakes_explorer', 'ALL_CLASSES', 'MAX_MISTAKES']

CACHE_SIZE = 32    # forward passes of picked images kept (each a few hundred kB at most)
MAX_MISTAKES = 32  # images in one figure
MAX_SHOWN = 16     # feature maps per row of a figure
MAX_FIRST_CHANNEL = 4096  # wider than any layer of the notes' networks
ALL_CLASSES = '全部'

Predictions = collections.namedtuple('Predictions', ['labels', 'probabilities', 'predicted'])
Predictions.__doc__ = """Over the test set, in its order: true ``labels`` (int),
softmax ``probabilities`` ``(N, classes)``, ``predicted`` classes (argmax)."""


def net_context(net):
    """The device of ``net``'s first parameter (where its input must go)."""
    params = list(net.collect_params().values())
    return params[0].list_ctx()[0] if params else cpu()


def fingerprint(net):
    """Bytes that change when any parameter of ``net`` changes: the sum of
    squares of each parameter (BatchNorm's running statistics included), in
    one operator and one synchronisation (``multi_sum_sq``: 20 to 70 ms for
    GoogLeNet or ResNet-18 on a 2-core CPU; a sum and a norm per parameter
    took 5 times as long). Training, re-initializing or loading other weights
    changes it; only shuffling a parameter's values among themselves would not."""
    arrays = [p.data() for p in net.collect_params().values()]
    if not arrays:
        return b''
    try:
        sums = nd.multi_sum_sq(*arrays, num_arrays=len(arrays))
    except MXNetError:  # mixed devices or types: one reduction per parameter
        sums = nd.concat(*[(a.astype('float32') ** 2).sum().as_in_context(cpu())
                           for a in arrays], dim=0)
    return sums.asnumpy().tobytes()


def _both(inputs, output):
    return inputs.asnumpy(), output.asnumpy()


def capture(net, X, blocks, keep=_both, training=False):
    """Run ``net`` on ``X`` in prediction mode (``training``: in training mode,
    not recorded), imperatively (hooks fire inside compiled nets too), and
    return ``(output, seen)``: ``seen[name]`` is ``keep(input, output)`` of
    ``blocks[name]`` at its first call (NDArrays in; by default both as numpy
    arrays, or e.g. only their norms)."""
    mode = autograd.train_mode() if training else autograd.predict_mode()
    with recording(blocks, keep) as seen, _gluon.imperative(net), mode:
        out = net(X)
    return out, seen


def channel_range(widths, channels, first_channel, where):
    """``range(first_channel, first_channel + channels)``, checked against the
    narrowest of ``widths`` (channels of each group shown), cut at each group's
    end by the caller. ``where``: the groups, for the sentence."""
    channels, first_channel = check_shown(channels, first_channel)
    narrowest = min(widths)
    which = ('%s里最窄的一组' % where if len(widths) > 1
             else where if where.endswith('）') else where + ' ')
    first_channel = check_int(
        'first_channel', first_channel, 0, narrowest - 1,
        why='%s只有 %d 个通道（编号 0 到 %d），请把 first_channel 调小。'
            % (which, narrowest, narrowest - 1))
    return range(first_channel, first_channel + channels)


class TrainedNet:
    """A trained ``net`` and its ``test_iter`` (an iterable of ``(X, y)`` batches
    in a fixed order, as ``load_data_fashion_mnist`` returns), to look inside.

    Creating one predicts the whole test set once (a few seconds); the views
    then answer from caches: :meth:`predictions`, :meth:`images` (found again
    in ``test_iter`` when asked), :meth:`cached`. Every explorer checks its
    arguments, then calls :meth:`refresh`: when the parameters changed since
    (the net was trained again), the caches are emptied and the test set
    predicted again, so no view shows a stale result. The input goes
    to the network's own device, so a net trained on a GPU works as it is.
    """

    def __init__(self, net, test_iter):
        if not isinstance(net, Block):
            raise ValueError('net 应是 Gluon 的网络（nn.Block），收到的是 %s；请传入训练好的 net。'
                             % type(net).__name__)
        if _gluon.uninitialized_params(net):
            raise ValueError('这个网络还没有初始化，也就没有训练过：请先运行上面训练的单元。')
        if not hasattr(test_iter, '__iter__'):
            raise ValueError('test_iter 应是测试数据的迭代器（例如 load_data_fashion_mnist '
                             '返回的第二个），收到的是 %s。' % type(test_iter).__name__)
        self.net, self.test_iter = net, test_iter
        self._fingerprint = None
        self._predictions = None
        self._cache = collections.OrderedDict()
        self.refresh()

    # -- the state of the network -----------------------------------------
    def refresh(self):
        """Recompute the predictions and empty the caches when the parameters
        changed (one fingerprint: tens of milliseconds); returns ``self``."""
        if self._fingerprint is not None and fingerprint(self.net) == self._fingerprint:
            return self
        self._cache.clear()
        self._predictions = self._predict()
        self._fingerprint = fingerprint(self.net)  # after the pass: deferred init is done
        return self

    def _predict(self):
        ctx, labels, probs = net_context(self.net), [], []
        # Compiled when possible (as train_ch5 runs it); ``net`` is left as it was.
        with contextlib.ExitStack() as compiled, autograd.predict_mode():
            runner = None
            for X, y in self.test_iter:
                X = X.as_in_context(ctx)
                if runner is None:
                    runner, _ = hybrid.compile_if_possible(self.net, None, X, compiled)
                out = runner(X)
                if out.ndim != 2:
                    raise ValueError('网络的输出应是 (批量大小, 类别数)，收到的形状是 %s；'
                                     '请传入整个分类网络。' % (out.shape,))
                probs.append(nd.softmax(out).asnumpy())
                labels.append(y.asnumpy().astype(np.int64).reshape(-1))
        if not labels:
            raise ValueError('test_iter 里没有任何批量；请检查测试集和批量大小。')
        labels, probs = np.concatenate(labels), np.concatenate(probs)
        if labels.min() < 0 or labels.max() >= probs.shape[1]:
            raise ValueError('测试集的标签在 %d 到 %d 之间，网络却只输出 %d 个类别；'
                             '请检查网络的输出层。' % (labels.min(), labels.max(), probs.shape[1]))
        return Predictions(labels, probs, probs.argmax(axis=1))

    def predictions(self):
        """:class:`Predictions` of the network as of the last :meth:`refresh`."""
        return self._predictions

    @property
    def num_images(self):
        return len(self._predictions.labels)

    @property
    def class_names(self):
        """Chinese class names (T恤, 裤子, ...) for 10 classes, else 类别 0, 类别 1, ..."""
        k = self._predictions.probabilities.shape[1]
        return list(TEXT_LABELS_ZH) if k == len(TEXT_LABELS_ZH) else ['类别 %d' % i
                                                                        for i in range(k)]

    def check_index(self, index):
        """``index`` as an int within the test set (or a ValueError sentence)."""
        n = self.num_images
        return check_int('index', index, 0, n - 1,
                         why='测试集一共 %d 张图像（编号 0 到 %d）。' % (n, n - 1))

    # -- caches -------------------------------------------------------------
    def cached(self, key, compute):
        """``compute()``, remembered under ``key`` until the parameters change."""
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        value = compute()
        self._cache[key] = value
        if len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        return value

    def images(self, indices):
        """The test images ``indices`` as the network sees them, ``(k, C, H, W)``
        numpy: one walk through ``test_iter`` up to the largest index."""
        indices = [self.check_index(i) for i in indices]
        if not indices:
            raise ValueError('indices 是空的；请至少给出一张测试图像的编号。')
        labels = self.predictions().labels
        wanted, found, offset = sorted(set(indices)), {}, 0
        for X, y in self.test_iter:
            n = X.shape[0]
            inside = [i for i in wanted if offset <= i < offset + n]
            if inside:
                Xn, yn = X.asnumpy(), y.asnumpy().reshape(-1)
                for i in inside:
                    if int(yn[i - offset]) != labels[i]:
                        raise ValueError('test_iter 第二次遍历时顺序变了（第 %d 张图像的标签不同）；'
                                         '请用不打乱顺序的测试集（shuffle=False）。' % i)
                    found[i] = Xn[i - offset]
            offset += n
            if offset > wanted[-1]:
                break
        if len(found) < len(wanted):
            raise ValueError('test_iter 第二次遍历时只有 %d 张图像（第一次有 %d 张）；请传入'
                             '每次遍历都相同的测试集。' % (offset, self.num_images))
        return np.stack([found[i] for i in indices])

    def recorded(self, index, what, record):
        """``record(net, X)`` (a dict of numpy arrays, usually from :func:`capture`)
        for test image ``index`` as a ``(1, C, H, W)`` NDArray on the network's
        device; cached under ``(what, index)``. Adds ``'image'``: ``(C, H, W)``."""
        index = self.check_index(index)

        def compute():
            image = self.images([index])
            result = dict(record(self.net, nd.array(image, ctx=net_context(self.net))))
            result['image'] = image[0]
            return result
        return self.cached(('recorded', what, index), compute)

    def describe(self, index):
        """``'测试图像 #12：真实类别 衬衫，网络判为 T恤（概率 0.91，判错了）'``."""
        p, names = self.predictions(), self.class_names
        label, guess = p.labels[index], p.predicted[index]
        return '测试图像 #%d：真实类别 %s，网络判为 %s（概率 %.2f，%s）' % (
            index, names[label], names[guess], p.probabilities[index, guess],
            '判对了' if label == guess else '判错了')


def check_trained(trained):
    """``trained`` if it is a :class:`TrainedNet`, else a ValueError sentence
    (the caller refreshes it once its other arguments are checked)."""
    if not isinstance(trained, TrainedNet):
        raise ValueError('trained 应是 TrainedNet(net, test_iter)，收到的是 %s；请先运行创建它的单元。'
                         % type(trained).__name__)
    return trained


def check_shown(channels, first_channel):
    """``channels`` (1 to 16 maps per row) and ``first_channel`` (>= 0) as ints,
    checked before any computation; :func:`channel_range` checks the upper
    bound of ``first_channel`` once the widths are known."""
    return (check_int('channels', channels, 1, MAX_SHOWN),
            check_int('first_channel', first_channel, 0, MAX_FIRST_CHANNEL))


# ------------------------------------------------------- confusion matrix
def confusion_matrix(labels, predicted, num_classes):
    """``(num_classes, num_classes)`` counts: row = true class, column = predicted."""
    num_classes = check_int('num_classes', num_classes, 1, 1000)
    labels = np.asarray(labels).astype(np.int64).reshape(-1)
    predicted = np.asarray(predicted).astype(np.int64).reshape(-1)
    if labels.shape != predicted.shape:
        raise ValueError('有 %d 个标签，却有 %d 个预测；两者应一一对应。'
                         % (len(labels), len(predicted)))
    for what, v in (('labels', labels), ('predicted', predicted)):
        if v.size and (v.min() < 0 or v.max() >= num_classes):
            raise ValueError('%s 里的类别应在 0 到 %d 之间，收到了 %d 到 %d。'
                             % (what, num_classes - 1, v.min(), v.max()))
    return np.bincount(labels * num_classes + predicted,
                       minlength=num_classes ** 2).reshape(num_classes, num_classes)


def _heatmap(matrix, names, title, percent):
    fig = Figure(figsize=(7.2, 6.2))
    ax = fig.add_subplot()
    ax.imshow(matrix, cmap='Blues', vmin=0)
    k = len(names)
    threshold = matrix.max() / 2 if matrix.size else 0
    for i in range(k):
        for j in range(k):
            value = matrix[i, j]
            ax.text(j, i, ('%.0f' % value) if percent else '%d' % value,
                    ha='center', va='center', fontsize=7 if k <= 10 else 5,
                    color='white' if value > threshold else '#333333')
    ax.set_xticks(range(k))
    ax.set_xticklabels(names, rotation=45, ha='right', fontsize=8)
    ax.set_yticks(range(k))
    ax.set_yticklabels(names, fontsize=8)
    ax.set_xlabel('预测类别')
    ax.set_ylabel('真实类别')
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def confusion_explorer(trained, normalize=False):
    """The confusion matrix of ``trained`` on its test set: ``table`` (counts,
    or with ``normalize`` the percentage of each true class), ``figure`` (a
    heat map), ``text`` (accuracy, the most frequent confusions)."""
    trained = check_trained(trained)
    normalize = check_bool('normalize', normalize)
    p, names = trained.refresh().predictions(), trained.class_names
    counts = confusion_matrix(p.labels, p.predicted, len(names))
    per_class = counts.sum(axis=1, keepdims=True)
    shown = 100 * counts / np.maximum(per_class, 1) if normalize else counts
    table = pd.DataFrame(np.round(shown, 1) if normalize else shown,
                         index=pd.Index(names, name='真实类别'),
                         columns=pd.Index(names, name='预测类别'))
    accuracy = np.trace(counts) / counts.sum()
    off = counts.copy()
    np.fill_diagonal(off, 0)
    order = np.argsort(off, axis=None)[::-1][:3]
    pairs = ['%s 被判为 %s %d 次' % (names[i], names[j], off[i, j])
             for i, j in (np.unravel_index(o, off.shape) for o in order) if off[i, j] > 0]
    recall = np.diag(counts) / np.maximum(per_class[:, 0], 1)
    present = per_class[:, 0] > 0
    worst = int(np.flatnonzero(present)[np.argmin(recall[present])])
    text = ('测试集 %d 张图像，判对 %d 张，准确率 %.3f（对角线上的数）。最常见的混淆：%s。'
            '最难认的类别：%s（只判对了 %.0f%%）。' % (
                counts.sum(), np.trace(counts), accuracy, '；'.join(pairs) or '没有',
                names[worst], 100 * recall[worst]))
    title = '混淆矩阵（%s）' % ('每行：这一类图像被判成各类的百分比' if normalize else '图像张数')
    return ExplorerResult(text=text, table=table,
                          figure=_heatmap(shown, names, title, normalize))


# ---------------------------------------------------------------- mistakes
def most_confident_mistakes(predictions, count, true_class=None):
    """Indices of the ``count`` wrong predictions with the highest probability
    of the (wrong) predicted class, most confident first; only images of
    ``true_class`` (a class number) if given."""
    count = check_int('count', count, 1, MAX_MISTAKES)
    labels, probs, predicted = predictions
    wrong = predicted != labels
    if true_class is not None:
        wrong &= labels == true_class
    candidates = np.flatnonzero(wrong)
    confidence = probs[candidates, predicted[candidates]]
    order = np.argsort(-confidence, kind='stable')  # ties: test set order
    return candidates[order[:count]]


def _mistake_figure(images, titles):
    k = len(images)
    cols = min(k, 8)
    rows = -(-k // cols)
    fig = Figure(figsize=(1.45 * cols, 1.75 * rows))
    for n, (image, title) in enumerate(zip(images, titles)):
        ax = fig.add_subplot(rows, cols, n + 1)
        ax.imshow(image.reshape(image.shape[-2:]), cmap='gray', vmin=0, vmax=1)
        ax.set_title(title, fontsize=8)
        ax.axis('off')
    fig.tight_layout()
    return fig


def mistakes_explorer(trained, count=8, true_class=ALL_CLASSES):
    """The ``count`` most confident mistakes on the test set (of one true class,
    or ``'全部'``): ``figure`` (the images, true and predicted class),
    ``table`` and ``text``."""
    trained = check_trained(trained)
    count = check_int('count', count, 1, MAX_MISTAKES)
    names = trained.class_names
    true_class = check_choice('true_class', true_class, [ALL_CLASSES] + names)
    p = trained.refresh().predictions()
    number = None if true_class == ALL_CLASSES else names.index(true_class)
    picked = most_confident_mistakes(p, count, number)
    among = p.labels == number if number is not None else np.ones_like(p.labels, bool)
    wrong = int(((p.predicted != p.labels) & among).sum())
    scope = '测试集' if number is None else '真实类别为%s的 %d 张测试图像' % (
        true_class, among.sum())
    if not len(picked):
        return ExplorerResult(text='%s里没有判错的图像。' % scope)
    images = trained.cached(('images', tuple(picked)), lambda: trained.images(picked))
    confidence = p.probabilities[picked, p.predicted[picked]]
    table = pd.DataFrame({'真实类别': [names[i] for i in p.labels[picked]],
                          '判为': [names[i] for i in p.predicted[picked]],
                          '概率': np.round(confidence, 3)},
                         index=pd.Index(picked, name='测试图像编号'))
    titles = ['#%d 真：%s\n判为：%s %.0f%%' % (i, names[p.labels[i]], names[p.predicted[i]],
                                           100 * c) for i, c in zip(picked, confidence)]
    text = ('%s里判错了 %d 张；下面是网络最有把握的 %d 个错误（判为的类别概率最高）。'
            % (scope, wrong, len(picked)))
    return ExplorerResult(text=text, table=table, figure=_mistake_figure(images, titles))
