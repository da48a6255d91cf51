"""Block diagrams drawn from the blocks' own definitions.

One drawing mechanism, :func:`draw_paths`, draws parallel paths of layers
between an input and a merge node, bottom to top (input at the bottom, as in
the book's figures). The ``*_paths`` functions return the spec of a real
Gluon block (an ``Inception``, a ``Residual``): a dict of :func:`draw_paths`
arguments with labels read off the block's layers, so a figure always matches
the code that builds the block. Text is Chinese; layer type names such as
``Conv2D`` stay as Gluon spells them. Layout and drawing: :mod:`._drawing`.
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
    """A short readable description of one Gluon layer.

    ``Conv2D 3×3, 128``, ``Conv2D 1×1, 128, 步幅 2``, ``Conv2D 1×1, 64 + ReLU``
    (fused activation), ``MaxPool 3×3``, ``MaxPool 3×3, 步幅 2`` (the stride
    is shown unless it is 1 or equal to the window), ``AvgPool 2×2``,
    ``GlobalAvgPool``, ``BatchNorm``, ``ReLU``, ``Dense 10``, ``Dropout 0.5``;
    any other block is labelled with its class name (``Inception``). A str is
    returned unchanged.
    """
    if isinstance(layer, str):
        return layer
    name, config = type(layer).__name__, _gluon.layer_config(layer)
    if isinstance(layer, nn.conv_layers._Conv):
        label = '%s %s, %d' % (name, _dims(config['kernel']), config['channels'])
        if any(s != 1 for s in config['stride']):
            label += ', ' + _stride(config['stride'])
    elif isinstance(layer, nn.conv_layers._Pooling):
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
    """Draw parallel paths of layers between an input and a merge node; returns the Figure.

    Drawn bottom to top: ``input_label`` (default 输入), the ``before``
    boxes, the ``paths`` side by side (each a list of labels or Gluon layers,
    bottom first; an empty list is an identity shortcut), the ``merge`` node,
    the ``note`` written beside the next arrow (e.g. ``'f(x)'``), the
    ``after`` boxes and ``output_label`` (default 输出). ``merge`` is a short
    symbol such as ``'+'`` (drawn as a circle, the first path straight below
    it) or a longer label such as ``'通道维连结'`` (a wide box above all
    paths); None is allowed for a single path. ``frame`` draws a dashed frame
    around the first path's boxes captioned with that text;
    ``align='center'`` centres shorter paths vertically.
    """
    return draw_side_by_side([(title, dict(spec, paths=paths))])


def draw_side_by_side(items, suptitle=None):
    """Draw several diagrams in one row: ``items`` is a list of ``(title, spec)``.

    A spec is a dict of :func:`draw_paths` keyword arguments, as returned by
    :func:`inception_paths`, :func:`residual_paths` and :func:`plain_paths`.
    All diagrams use the same scale and their inputs line up at the bottom.
    """
    return _drawing.draw([(title, _labelled(spec)) for title, spec in items], suptitle)


# ------------------------------------------------- specs from real blocks
def _require(blk, names, kind):
    missing = [n for n in names if not hasattr(blk, n)]
    if missing:
        raise ValueError('%s 没有子层 %s：这里需要%s，它的子层是 %s。' % (
            type(blk).__name__, '、'.join(missing), kind, '、'.join(names)))


def inception_paths(blk):
    """Spec of an ``Inception`` block's four paths, merged by concatenation.

    Labels come from the block's children ``p1_1``; ``p2_1, p2_2``;
    ``p3_1, p3_2``; ``p4_1, p4_2``.
    """
    _require(blk, ['p1_1', 'p2_1', 'p2_2', 'p3_1', 'p3_2', 'p4_1', 'p4_2'],
             '一个 Inception 块')
    paths = [[blk.p1_1], [blk.p2_1, blk.p2_2], [blk.p3_1, blk.p3_2],
             [blk.p4_1, blk.p4_2]]
    return dict(paths=[[layer_label(l) for l in p] for p in paths], merge=CONCAT)


def draw_inception(blk, title='Inception 块'):
    """Draw an ``Inception`` block's four paths; returns the Figure."""
    return draw_paths(title=title, **inception_paths(blk))


def _fits(blk):
    return '拟合\nf(x) - conv3(x)' if blk.conv3 is not None else '拟合\nf(x) - x'


def residual_paths(blk):
    """Spec of a ``Residual`` block: the main path plus the shortcut, added.

    Main path: ``conv1``, ``bn1``, ReLU, ``conv2``, ``bn2`` (framed: these
    layers fit f(x) - x); shortcut: the 1×1 convolution ``conv3`` when the
    block has one, else identity; then ``+``, whose result f(x) is the input
    of the last ReLU, as in ``Residual.forward`` and the notes.
    """
    _require(blk, ['conv1', 'bn1', 'conv2', 'bn2', 'conv3'], '一个残差块（Residual）')
    main = [layer_label(blk.conv1), layer_label(blk.bn1), 'ReLU',
            layer_label(blk.conv2), layer_label(blk.bn2)]
    shortcut = [layer_label(blk.conv3)] if blk.conv3 is not None else []
    return dict(paths=[main, shortcut], merge='+', after=['ReLU'], input_label='x',
                frame=_fits(blk), align='center', note='f(x)')


def plain_paths(blk):
    """The layers of ``residual_paths(blk)`` without the shortcut.

    They fit f(x), the input of the last ReLU.
    """
    main = residual_paths(blk)['paths'][0]
    return dict(paths=[main], after=['ReLU'], input_label='x', frame='拟合\nf(x)', note='f(x)')


def draw_plain_vs_residual(blk):
    """A plain block (left) next to the residual block ``blk`` (right)."""
    return draw_side_by_side([('普通块', plain_paths(blk)),
                              ('残差块', residual_paths(blk))])


def residual_v2_paths(blk):
    """Spec of a ``ResidualV2`` block (full pre-activation).

    Main path: ``bn1``, ReLU, ``conv1``, ``bn2``, ReLU, ``conv2``; shortcut:
    ``conv3`` or identity; then ``+`` and nothing after it, as in
    ``ResidualV2.forward``: the sum is f(x) itself.
    """
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
    """``[(title, spec)]`` for ResNet (B's output + A's) and DenseNet (concatenated).

    ``a`` and ``b`` are labels or blocks (labelled with :func:`layer_label`);
    by default '模块 A' and '模块 B'.
    """
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
