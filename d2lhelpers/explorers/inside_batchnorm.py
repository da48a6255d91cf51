"""Batch normalization, trained: how the values entering each activation
function are spread over the course of training, with and without batch
normalization (recorded during ``experiments.convergence_curves``); the
learned γ and β per channel; and, for one test image, a convolution's output
before and after batch normalization and after the activation.

Layers are recognised by what they have, not by class (the notebook defines
its own ``BatchNorm``): a batch normalization layer has parameters ``gamma``
and ``beta``; the activations are Gluon's ``Activation`` layers, also those
inside ``Conv2D(..., activation='sigmoid')``.
"""
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from mxnet import autograd, nd
from mxnet.gluon import Parameter, nn
from mxnet.gluon.parameter import DeferredInitializationError

from .. import _gluon
from ..checks import check_elements, check_int
from ..featuremaps import feature_map_grid
from ..widgets import ExplorerResult
from .inside import capture, channel_range, check_shown, check_trained, net_context

__all__ = ['activation_layers', 'bn_layers', 'PreactivationRecorder',
           'preactivation_explorer', 'bn_parameters_explorer', 'bn_maps_explorer',
           'PERCENTILES']

PERCENTILES = (5, 15, 50, 85, 95)  # Ioffe & Szegedy (2015) plot the 15th, 50th, 85th
MAX_PROBE_IMAGES = 1024
MAX_RUNS = 4


def _layer_kinds(net):
    """``(path, block, kind)`` of the Conv2D / Dense / BN / activation layers in
    the order of the children (a Sequential's forward order)."""
    found = []
    for path, blk in _gluon.walk(net):
        if isinstance(blk, nn.Activation):
            found.append((path, blk, 'act'))
        elif isinstance(getattr(blk, 'gamma', None), Parameter) and \
                isinstance(getattr(blk, 'beta', None), Parameter):
            found.append((path, blk, 'bn'))
        elif isinstance(blk, nn.Conv2D):
            found.append((path, blk, '卷积层'))
        elif isinstance(blk, nn.Dense):
            found.append((path, blk, '全连接层'))
    return found


def _labelled(net, kind, what):
    """``[(label, block, following activation or None)]`` of one kind; the label
    says which weighted layer (卷积层 k / 全连接层 k) comes before."""
    counts, last, result = {'卷积层': 0, '全连接层': 0}, None, []
    layers = _layer_kinds(net)
    for i, (path, blk, k) in enumerate(layers):
        if k in counts:
            counts[k] += 1
            last = '第 %d 个%s' % (counts[k], k)
        elif k == kind:
            act = next((b for _, b, kk in layers[i + 1:] if kk == 'act'), None)
            label = '%s %d（%s之后）' % (what, len(result) + 1, last or '输入')
            result.append((label, blk, act))
    return result


def activation_layers(net):
    """``[(label, Activation layer)]`` in the order of the children."""
    return [(label, blk) for label, blk, _ in _labelled(net, 'act', '激活函数')]


def bn_layers(net):
    """``[(label, batch normalization layer, the activation after it)]``."""
    found = _labelled(net, 'bn', '批量归一化层')
    if not found:
        raise ValueError('这个网络里没有批量归一化层（有参数 gamma 和 beta 的层）；'
                         '请传入加了批量归一化的 LeNet。')
    return found


# ------------------------------------------------- during training
class PreactivationRecorder:
    """Pass as ``recorder=`` to :func:`d2lhelpers.experiments.convergence_curves`.

    At step 0 and every ``every`` steps it runs the network on the fixed batch
    ``probe`` in training mode (batch normalization uses the probe's own mean
    and variance, as during training; nothing is recorded for gradients, and
    the network's state is restored afterwards) and keeps the
    :data:`PERCENTILES` of the input of every activation layer. ``table()``:
    one row per (layer, step).
    """

    def __init__(self, probe, every=1):
        if isinstance(probe, np.ndarray):
            probe = nd.array(probe)
        if not isinstance(probe, nd.NDArray) or probe.ndim != 4:
            raise ValueError('probe 应是一批图像，形状为 (批量大小, 通道, 高, 宽)，收到的是 %s；'
                             '例如 next(iter(test_iter))[0]。' % (getattr(probe, 'shape', probe),))
        check_int('probe 的图像数', probe.shape[0], 2, MAX_PROBE_IMAGES,
                  why='训练模式下的批量归一化至少要 2 张图像；图像多了每次记录太慢。')
        check_elements('probe', probe.shape)
        self.probe = probe
        self.every = check_int('every', every, 1, 100000)
        self.labels, self._rows = None, []

    def __call__(self, step, net):
        step = check_int('step', step, 0)
        if step % self.every:
            return
        layers = activation_layers(net)
        if not layers:
            raise ValueError('这个网络里没有激活函数层（nn.Activation，或带 activation= 的层）。')
        self.labels = [label for label, _ in layers]
        X = self.probe.as_in_context(net_context(net))
        try:
            for p in net.collect_params().values():
                p.data()
        except DeferredInitializationError:
            # Step 0 of a net whose shapes are not known yet: one forward pass
            # in prediction mode initializes it (the same random draws, in the
            # same order, as the first training step would make).
            with autograd.predict_mode():
                net(X)
        percentiles = lambda inputs, output: np.percentile(  # noqa: E731
            inputs.asnumpy(), PERCENTILES)
        # The notes' BatchNorm updates its moving averages in training mode:
        # keep the experiment's state exactly as it was.
        with _gluon.kept_state(net):
            _, seen = capture(net, X, dict(enumerate(blk for _, blk in layers)),
                              keep=percentiles, training=True)
        for k in range(len(layers)):
            self._rows.append((k + 1, step) + tuple(seen[k]))

    def table(self):
        """DataFrame indexed by ``(layer, step)`` with columns ``p5`` ... ``p95``."""
        columns = ['layer', 'step'] + ['p%d' % p for p in PERCENTILES]
        return pd.DataFrame(self._rows, columns=columns).set_index(['layer', 'step'])


def preactivation_explorer(recorders, layer=1):
    """The spread of activation layer ``layer``'s input over training, one
    panel per run (``recorders``: ``{label: PreactivationRecorder}``): the
    median, the 15th–85th and 5th–95th percentiles against the step."""
    if not isinstance(recorders, dict) or not 1 <= len(recorders) <= MAX_RUNS or \
            not all(isinstance(r, PreactivationRecorder) for r in recorders.values()):
        raise ValueError('recorders 应是 {名字: PreactivationRecorder} 的字典（1 到 %d 个），'
                         '并在训练时传给 convergence_curves(..., recorder=...)。' % MAX_RUNS)
    empty = [name for name, r in recorders.items() if r.labels is None]
    if empty:
        raise ValueError('%s 还没有记录：请先运行训练的单元（把它作为 recorder= 传入）。'
                         % '、'.join(empty))
    depth = min(len(r.labels) for r in recorders.values())
    layer = check_int('layer', layer, 1, depth, why='这两个网络各有 %d 个激活函数。' % depth)
    fig = Figure(figsize=(5 * len(recorders), 3.4))
    axes = fig.subplots(1, len(recorders), sharey=True, squeeze=False)[0]
    rows, lines = [], []
    for ax, (name, rec) in zip(axes, recorders.items()):
        t = rec.table().loc[layer]
        ax.fill_between(t.index, t['p5'], t['p95'], color='#9ecae1', alpha=0.5,
                        label='5%–95%')
        ax.fill_between(t.index, t['p15'], t['p85'], color='#3182bd', alpha=0.6,
                        label='15%–85%')
        ax.plot(t.index, t['p50'], color='#08306b', lw=2, label='中位数')
        ax.set_title('%s：%s的输入' % (name, rec.labels[layer - 1]), fontsize=10)
        ax.set_xlabel('迭代步数')
        ax.grid(True, alpha=0.3)
        first, last = t.iloc[0], t.iloc[-1]
        rows.append({'网络': name, '最初的中位数': first['p50'], '最后的中位数': last['p50'],
                     '最初的 15%–85% 宽度': first['p85'] - first['p15'],
                     '最后的 15%–85% 宽度': last['p85'] - last['p15']})
        lines.append('%s：中位数从 %.2f 变到 %.2f，15%%–85%% 的宽度从 %.2f 变到 %.2f'
                     % (name, first['p50'], last['p50'], first['p85'] - first['p15'],
                        last['p85'] - last['p15']))
    axes[0].set_ylabel('激活函数的输入')
    axes[0].legend(fontsize=8, loc='upper left')
    fig.tight_layout()
    table = pd.DataFrame(rows).set_index('网络').round(3)
    text = ('每隔几步，把同一批固定的图像在训练模式下送进网络，记下%s的输入取值的分位数。%s。'
            % (recorders[next(iter(recorders))].labels[layer - 1], '；'.join(lines)))
    return ExplorerResult(text=text, table=table, figure=fig)


# ------------------------------------------------- after training
def _check_layer(layers, layer):
    return check_int('layer', layer, 1, len(layers),
                     why='这个网络有 %d 个批量归一化层。' % len(layers))


def bn_parameters_explorer(net, layer=1):
    """The learned γ (scale) and β (shift) of batch normalization layer
    ``layer``, per channel (or feature): ``figure``, ``table`` and ``text``."""
    layers = bn_layers(net)
    layer = _check_layer(layers, layer)
    label, blk, _ = layers[layer - 1]
    if blk.gamma.shape is None or 0 in blk.gamma.shape:
        raise ValueError('%s的参数形状还不知道：请先训练网络（或做一次前向计算）。' % label)
    gamma = blk.gamma.data().asnumpy().reshape(-1)
    beta = blk.beta.data().asnumpy().reshape(-1)
    fig = Figure(figsize=(8, 4.2))
    ax_g, ax_b = fig.subplots(2, 1, sharex=True)
    xs = np.arange(len(gamma))
    ax_g.bar(xs, gamma, color='#3b6c9e', width=0.8)
    ax_g.axhline(1, color='#a4161a', ls='--', lw=1)
    ax_g.set_ylabel('γ（拉伸）')
    ax_b.bar(xs, beta, color='#b9770e', width=0.8)
    ax_b.axhline(0, color='#a4161a', ls='--', lw=1)
    ax_b.set_ylabel('β（偏移）')
    ax_b.set_xlabel('通道（或特征）')
    ax_g.set_title('%s学到的 γ 和 β（虚线：初值 1 和 0）' % label, fontsize=10)
    for ax in (ax_g, ax_b):
        ax.grid(True, axis='y', alpha=0.3)
    fig.tight_layout()
    table = pd.DataFrame({'γ': gamma, 'β': beta}).describe().loc[
        ['mean', 'std', 'min', 'max']].rename(index={'mean': '均值', 'std': '标准差',
                                                     'min': '最小', 'max': '最大'}).round(3)
    text = ('%s有 %d 个通道（或特征），每个都有自己的 γ 和 β：γ 在 %.2f 到 %.2f 之间，'
            'β 在 %.2f 到 %.2f 之间。γ 离 1、β 离 0 越远，这一层学到的尺度和偏移就越不同于'
            '单纯的标准化。' % (label, len(gamma), gamma.min(), gamma.max(),
                           beta.min(), beta.max()))
    return ExplorerResult(text=text, table=table, figure=fig)


def _record_bn(layers):
    hooked = {}
    for k, (_, blk, act) in enumerate(layers):
        hooked[(k, 'bn')] = blk
        if act is not None:
            hooked[(k, 'act')] = act

    def record(net, X):
        _, seen = capture(net, X, hooked)
        return {key: (x[0], out[0]) for key, (x, out) in seen.items()}
    return record


def bn_maps_explorer(trained, index=0, layer=1, channels=6, first_channel=0):
    """Test image ``index`` at batch normalization layer ``layer`` (one after a
    convolution): the convolution's output, the layer's output (prediction
    mode: moving averages, γ and β) and the activation's output, as feature
    maps; ``table``: per shown channel the mean and standard deviation on
    this image before and after, and the layer's γ and β."""
    trained = check_trained(trained)
    layers = bn_layers(trained.net)
    layer = _check_layer(layers, layer)
    index = trained.check_index(index)
    channels, first_channel = check_shown(channels, first_channel)
    seen = trained.refresh().recorded(index, 'batch norm', _record_bn(layers))
    label, blk, act = layers[layer - 1]
    before, after = seen[(layer - 1, 'bn')]
    if before.ndim != 3:
        maps_layers = [str(k + 1) for k in range(len(layers)) if seen[(k, 'bn')][0].ndim == 3]
        raise ValueError('%s接在全连接层之后，它的输出是 %d 个数，不是特征图；请选接在卷积层之后'
                         '的批量归一化层：%s。' % (label, before.shape[0], '、'.join(maps_layers)))
    shown = [c for c in channel_range([len(before)], channels, first_channel, label)
             if c < len(before)]
    groups = [('卷积层的输出（批量归一化之前）', before[shown], shown),
              ('批量归一化之后：用移动平均标准化，再乘 γ、加 β', after[shown], shown)]
    if (layer - 1, 'act') in seen:
        act_type = _gluon.layer_config(act).get('act_type', '激活函数')
        groups.append(('%s 之后' % act_type, seen[(layer - 1, 'act')][1][shown], shown))
    title = '%s\n%s，%d 个通道、%d×%d' % (trained.describe(index), label, *before.shape)
    figure = feature_map_grid(groups, image=seen['image'], title=title)
    gamma = blk.gamma.data().asnumpy().reshape(-1)
    beta = blk.beta.data().asnumpy().reshape(-1)
    table = pd.DataFrame({
        '之前的均值': before[shown].mean(axis=(1, 2)), '之前的标准差': before[shown].std(axis=(1, 2)),
        '之后的均值': after[shown].mean(axis=(1, 2)), '之后的标准差': after[shown].std(axis=(1, 2)),
        'γ': gamma[shown], 'β': beta[shown]}, index=pd.Index(shown, name='通道')).round(3)
    text = ('%s。%s把每个通道按训练时得到的移动均值和方差标准化，再乘以这个通道的 γ、加上 β；'
            '一张图像上各通道的均值和标准差见下表（预测模式下它们不必恰好是 β 和 γ）。'
            % (trained.describe(index), label))
    return ExplorerResult(text=text, table=table, figure=figure)
