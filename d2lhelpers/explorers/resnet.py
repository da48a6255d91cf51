"""ResNet: the explorer of one ``Residual`` block (the experiments are in
:mod:`d2lhelpers.experiments`). Blocks are recognised by their children
(``conv1`` ... ``conv3``), not by class: the notebook defines its own
``Residual`` (the same code as ``d2lhelpers.models.Residual``).
"""
import pandas as pd
from mxnet import autograd, nd
from mxnet.base import MXNetError

from . import recording
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


def residual_steps(blk, X):
    """Label, output shape and parameters of every step (:data:`STEPS`) of the
    initialized residual block ``blk`` on ``X``, hooked in the real ``forward``.

    ValueError with the notes' reason when the main path and the shortcut
    differ in shape (broadcasting would sometimes add them and hide it).
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
    out = error = None
    with recording(layers) as seen:
        try:
            with autograd.pause(train_mode=False):
                out = blk(X)
        except MXNetError as err:  # the addition failed; the shapes say why
            error = err
    shapes = {step: io[1] for step, io in seen.items()}
    shapes['输入'] = tuple(X.shape)
    shapes.setdefault('跨层连接', tuple(X.shape))
    main, shortcut = shapes.get('bn2'), shapes['跨层连接']
    if main != shortcut:
        raise ValueError('主路径输出 %s，跨层连接却是 %s，两者无法相加：%s'
                         % (main, shortcut, NEEDS_1X1)) from error
    if error is not None:
        raise error
    shapes['块的输出'] = tuple(out.shape)
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
    """``Residual(num_channels, use_1x1conv, strides)`` on a ``(batch_size,
    in_channels, size, size)`` batch: ``table`` (:func:`residual_steps`),
    ``text`` and, if ``draw``, ``diagram``; bounds keep it to a few megabytes."""
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

