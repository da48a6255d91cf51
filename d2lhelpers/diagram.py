"""Block diagrams drawn from the blocks' own definitions.

:func:`draw_paths` draws parallel paths of layers between an input and a merge
node, bottom to top as in the book. Each ``*_paths`` function returns the spec
(a dict of :func:`draw_paths` arguments) of a real block with labels read off
its layers, so a figure always matches the code. Layout: :mod:`._drawing`.
"""
from mxnet.gluon import nn

from . import _drawing, _gluon
from ._drawing import CONCAT

__all__ = ['layer_label', 'draw_paths', 'draw_side_by_side',
           'inception_paths', 'draw_inception',
           'residual_paths', 'plain_paths', 'draw_plain_vs_residual',
           'residual_v2_paths', 'draw_v1_vs_v2',
           'dense_vs_residual_paths', 'dense_vs_residual']


# ---------------------------------------------------------------- labels
def _dims(values):
    return '×'.join(str(v) for v in values)


def _stride(values):
    values = tuple(values)
    return '步幅 %s' % (values[0] if len(set(values)) == 1 else _dims(values))


_ACT_NAMES = {'relu': 'ReLU', 'sigmoid': 'Sigmoid', 'tanh': 'Tanh',
              'softrelu': 'SoftReLU', 'softsign': 'Softsign'}


def layer_label(layer):
    """A short label: ``Conv2D 1×1, 128, 步幅 2``, ``Conv2D 3×3, 64 + ReLU``,
    ``MaxPool 3×3, 步幅 2`` (a stride is shown unless 1 or the window),
    ``GlobalAvgPool``, ``Dense 10``, ``Dropout 0.5``; else the class name. A str
    is returned unchanged."""
    if isinstance(layer, str):
        return layer
    name, config = type(layer).__name__, _gluon.layer_config(layer)
    if _gluon.conv_kind(layer):
        label = '%s %s, %d' % (name, _dims(config['kernel']), config['channels'])
        if any(s != 1 for s in config['stride']):
            label += ', ' + _stride(config['stride'])
    elif _gluon.is_pooling(layer):
        kind = {'max': 'Max', 'avg': 'Avg', 'sum': 'Sum', 'lp': 'Lp'}.get(
            config.get('pool_type'), config.get('pool_type', ''))
        if config.get('global_pool'):
            return 'Global%sPool' % kind
        label = '%sPool %s' % (kind, _dims(config['kernel']))
        stride = tuple(config['stride'])
        if any(s != 1 for s in stride) and stride != tuple(config['kernel']):
            label += ', ' + _stride(stride)
        return label
    elif isinstance(layer, nn.Dense):
        label = 'Dense %d' % config['units']
    elif isinstance(layer, nn.Activation):
        return _ACT_NAMES.get(config['act_type'], config['act_type'])
    elif isinstance(layer, nn.Dropout):
        return 'Dropout %g' % config['rate']
    else:
        return name
    act = getattr(layer, 'act', None)
    if act is not None:
        act_type = _gluon.layer_config(act).get('act_type', type(act).__name__)
        label += ' + ' + _ACT_NAMES.get(act_type, act_type)
    return label


def _labelled(spec):
    spec = dict(spec)
    spec['paths'] = [[layer_label(b) for b in p] for p in spec['paths']]
    for key in ('before', 'after'):
        spec[key] = [layer_label(b) for b in spec.get(key, ())]
    return spec


def draw_paths(paths, title=None, **spec):
    """The Figure of, bottom to top: ``input_label`` (输入), the ``before``
    boxes, the ``paths`` side by side (lists of labels or layers, bottom first;
    ``[]`` is an identity shortcut), the ``merge`` node (``'+'``: a circle above
    the first path; a longer label such as ``'通道维连结'``: a wide box; None for
    one path), the ``note`` beside the next arrow (``'f(x)'``), the ``after``
    boxes and ``output_label`` (输出). ``frame``: a dashed frame captioned with
    this text around the first path; ``align='center'`` centres short paths."""
    return draw_side_by_side([(title, dict(spec, paths=paths))])


def draw_side_by_side(items, suptitle=None):
    """Several ``(title, spec)`` diagrams in one row, at one scale, inputs aligned."""
    return _drawing.draw([(title, _labelled(spec)) for title, spec in items], suptitle)


# ------------------------------------------------- specs from real blocks
def _require(blk, names, kind):
    missing = [n for n in names if not hasattr(blk, n)]
    if missing:
        raise ValueError('%s 没有子层 %s：这里需要%s，它的子层是 %s。' % (
            type(blk).__name__, '、'.join(missing), kind, '、'.join(names)))


INCEPTION_PATHS = (('p1_1',), ('p2_1', 'p2_2'), ('p3_1', 'p3_2'), ('p4_1', 'p4_2'))


def inception_paths(blk):
    """Spec of an ``Inception`` block: its four paths, concatenated."""
    _require(blk, [n for p in INCEPTION_PATHS for n in p], '一个 Inception 块')
    return dict(paths=[[layer_label(getattr(blk, n)) for n in p] for p in INCEPTION_PATHS],
                merge=CONCAT)


def draw_inception(blk, title='Inception 块'):
    """Draw an ``Inception`` block's four paths; returns the Figure."""
    return draw_paths(title=title, **inception_paths(blk))


def _fits(blk):
    return '拟合\nf(x) - conv3(x)' if blk.conv3 is not None else '拟合\nf(x) - x'


def residual_paths(blk):
    """Spec of a ``Residual`` block: conv1, bn1, ReLU, conv2, bn2 (framed: they
    fit f(x) - x) plus ``conv3`` or identity; the sum f(x) feeds the last ReLU,
    as in ``Residual.forward``."""
    _require(blk, ['conv1', 'bn1', 'conv2', 'bn2', 'conv3'], '一个残差块（Residual）')
    main = [layer_label(blk.conv1), layer_label(blk.bn1), 'ReLU',
            layer_label(blk.conv2), layer_label(blk.bn2)]
    shortcut = [layer_label(blk.conv3)] if blk.conv3 is not None else []
    return dict(paths=[main, shortcut], merge='+', after=['ReLU'], input_label='x',
                frame=_fits(blk), align='center', note='f(x)')


def plain_paths(blk):
    """``residual_paths(blk)`` without the shortcut: the layers fit f(x)."""
    main = residual_paths(blk)['paths'][0]
    return dict(paths=[main], after=['ReLU'], input_label='x', frame='拟合\nf(x)', note='f(x)')


def draw_plain_vs_residual(blk):
    """A plain block (left) next to the residual block ``blk`` (right)."""
    return draw_side_by_side([('普通块', plain_paths(blk)),
                              ('残差块', residual_paths(blk))])


def residual_v2_paths(blk):
    """Spec of a ``ResidualV2`` block (pre-activation): bn1, ReLU, conv1, bn2,
    ReLU, conv2 plus ``conv3`` or identity; nothing follows the sum f(x)."""
    _require(blk, ['bn1', 'conv1', 'bn2', 'conv2', 'conv3'], '一个 ResidualV2 块')
    main = [layer_label(blk.bn1), 'ReLU', layer_label(blk.conv1),
            layer_label(blk.bn2), 'ReLU', layer_label(blk.conv2)]
    shortcut = [layer_label(blk.conv3)] if blk.conv3 is not None else []
    return dict(paths=[main, shortcut], merge='+', input_label='x', output_label='f(x)',
                frame=_fits(blk), align='center')


def draw_v1_vs_v2(blk_v1, blk_v2):
    """A ``Residual`` block (left) next to a ``ResidualV2`` block (right)."""
    return draw_side_by_side([('ResNet v1 残差块', residual_paths(blk_v1)),
                              ('ResNet v2 残差块（预激活）', residual_v2_paths(blk_v2))])


def dense_vs_residual_paths(a=None, b=None):
    """``[(title, spec)]``: ResNet adds B's output to A's, DenseNet concatenates
    them; ``a``, ``b`` are labels or layers (default 模块 A, 模块 B)."""
    la = layer_label(a) if a is not None else '模块 A'
    lb = layer_label(b) if b is not None else '模块 B'
    if la == lb:
        la, lb = la + '（A）', lb + '（B）'
    return [('ResNet：相加', dict(paths=[[lb], []], merge='+', before=[la], input_label='x')),
            ('DenseNet：连结', dict(paths=[[lb], []], merge=CONCAT, before=[la],
                                 input_label='x'))]


def dense_vs_residual(a=None, b=None):
    """Draw ResNet's addition next to DenseNet's concatenation; returns the Figure."""
    return draw_side_by_side(dense_vs_residual_paths(a, b))
