"""ResNet: the plain functions behind the notebook's explorer and experiments.

* :func:`residual_explorer` builds one ``Residual`` block from slider values
  and gives the output shape of every step (conv1, bn1, conv2, bn2, the
  shortcut, the block) with its diagram; when the main path and the shortcut
  cannot be added it raises ValueError with the notes' reason: a 1×1
  convolution is needed to change the shape of the shortcut.
* The experiments "why depth hurts without shortcuts" and ResNet v1 against
  v2 live in :mod:`d2lhelpers.experiments`.

Blocks are recognised by their children (``conv1``, ``bn1``, ``conv2``,
``bn2``, ``conv3``), not by class: the notebook defines its own ``Residual``
(the same code as ``d2lhelpers.models.Residual``, but a different class).
"""
import pandas as pd
from mxnet import autograd, nd
from mxnet.base import MXNetError

from .. import diagram
from ..checks import check_bool, check_int
from ..models.resnet import Residual
from ..shapes import param_count
from ..widgets import ExplorerResult

__all__ = ['NEEDS_1X1', 'residual_steps', 'residual_explorer']

NEEDS_1X1 = ('需要用 1×1 卷积改变跨层连接上输入的形状（use_1x1conv=True）。'
             '如果想改变通道数或高和宽，就需要引入一个额外的1×1卷积层来将输入'
             '变换成需要的形状后再做相加运算。')

STEPS = ('输入', 'conv1', 'bn1', 'conv2', 'bn2', '跨层连接', '块的输出')
COLUMNS = ['层', '输出形状', '参数数量']


def _shape(x):
    return tuple(int(d) for d in x.shape)


def residual_steps(blk, X):
    """Output shape of every step of the residual block ``blk`` for input ``X``.

    ``blk`` is an initialized ``Residual`` (any block with children ``conv1``,
    ``bn1``, ``conv2``, ``bn2`` and ``conv3``, which may be None). The real
    ``blk.forward`` runs, with hooks recording what each layer returns.

    Returns a DataFrame indexed by step (``输入``, ``conv1``, ``bn1``,
    ``conv2``, ``bn2``, ``跨层连接``, ``块的输出``) with columns ``层`` (a
    short label), ``输出形状`` and ``参数数量``. Raises ValueError, with
    the notes' reason, when the main path (``bn2``) and the shortcut do not
    have the same shape, so they cannot be added (NDArray broadcasting would
    sometimes add them anyway, e.g. 1 channel to 3 channels, and hide the
    mistake).
    """
    missing = [n for n in ('conv1', 'bn1', 'conv2', 'bn2', 'conv3')
               if not hasattr(blk, n)]
    if missing:
        raise ValueError('%s 不是残差块：它没有 %s。'
                         % (type(blk).__name__, '、'.join(missing)))
    layers = {'conv1': blk.conv1, 'bn1': blk.bn1, 'conv2': blk.conv2,
              'bn2': blk.bn2}
    if blk.conv3 is not None:
        layers['跨层连接'] = blk.conv3
    shapes, handles = {}, []
    for step, layer in layers.items():
        def hook(block, inputs, output, step=step):
            shapes[step] = _shape(output)
        handles.append(layer.register_forward_hook(hook))
    out, error = None, None
    try:
        with autograd.pause(train_mode=False):
            out = blk(X)
    except MXNetError as err:  # the addition failed; the shapes say why
        error = err
    finally:
        for h in handles:
            h.detach()
    shapes['输入'] = _shape(X)
    shapes.setdefault('跨层连接', _shape(X))
    main, shortcut = shapes.get('bn2'), shapes['跨层连接']
    if main != shortcut:
        raise ValueError('主路径输出 %s，跨层连接却是 %s，两者无法相加：%s'
                         % (main, shortcut, NEEDS_1X1)) from error
    if error is not None:
        raise error
    shapes['块的输出'] = _shape(out)
    labels = {step: diagram.layer_label(layer) for step, layer in layers.items()}
    labels.update({'输入': '输入', 'bn1': 'BatchNorm, ReLU', '块的输出': 'ReLU(Y + X)'})
    labels.setdefault('跨层连接', '恒等映射')
    params = {step: param_count(layer) for step, layer in layers.items()}
    rows = [(labels[s], shapes[s], params.get(s, 0)) for s in STEPS]
    table = pd.DataFrame(rows, columns=COLUMNS, index=pd.Index(STEPS, name='步骤'))
    table['参数数量'] = table['参数数量'].astype('int64')
    return table


def residual_explorer(num_channels=6, use_1x1conv=True, strides=2,
                      in_channels=3, size=6, batch_size=4, draw=True):
    """Build ``Residual(num_channels, use_1x1conv, strides)`` and show its steps.

    The input is a ``(batch_size, in_channels, size, size)`` batch. Returns an
    ExplorerResult: ``table`` is :func:`residual_steps`, ``text`` sums it up,
    ``diagram`` is the block's diagram (None when ``draw`` is False). Raises
    ValueError with a sentence for impossible combinations (channels or size
    change without the 1×1 convolution) and for values that are not whole
    numbers within the explorer's range (channels up to 256, size up to 64,
    batch up to 16: a few megabytes).
    """
    num_channels = check_int('num_channels', num_channels, 1, 256)
    use_1x1conv = check_bool('use_1x1conv', use_1x1conv)
    strides = check_int('strides', strides, 1, 8)
    in_channels = check_int('in_channels', in_channels, 1, 256)
    size = check_int('size', size, 1, 64)
    batch_size = check_int('batch_size', batch_size, 1, 16)
    draw = check_bool('draw', draw)
    blk = Residual(num_channels, use_1x1conv=use_1x1conv, strides=strides)
    blk.initialize()
    X = nd.zeros((batch_size, in_channels, size, size))  # only shapes matter
    table = residual_steps(blk, X)
    text = ('Residual(%d, use_1x1conv=%s, strides=%d) 把 %s 变成 %s，有 %d 个参数；'
            '跨层连接是%s。' % (num_channels, use_1x1conv, strides,
                          table.loc['输入', '输出形状'], table.loc['块的输出', '输出形状'],
                          param_count(blk),
                          '一个 1×1 卷积' if blk.conv3 is not None else '恒等映射'))
    fig = diagram.draw_paths(title='残差块', **diagram.residual_paths(blk)) if draw else None
    return ExplorerResult(text=text, table=table, diagram=fig)

