"""GoogLeNet: the plain functions behind the notebook's two explorers and tables.

* :func:`inception_explorer` builds one ``Inception`` block from slider
  values and returns, per path, the output shape and parameter count, the
  concatenated shape, the channel ratio, a bar chart of the channel shares
  and the block's diagram.
* :func:`resolution_explorer` runs the whole GoogLeNet at one input size and
  returns the shape of every module's input and output; below
  :func:`smallest_input_size` it raises ValueError with a sentence.
* :func:`describe_inception` and :func:`inception_table` read channel counts,
  ratios and parameter counts off the blocks of a built network, so every
  number the notes state is computed from the code.

Blocks are recognised by their children (``p1_1`` ... ``p4_2``), not by
class: the notebook defines its own ``Inception`` (the same code as
``d2lhelpers.models.Inception``, but a different class object).
"""
import fractions
import functools
import math

import pandas as pd
from matplotlib.figure import Figure
from mxnet import init, nd
from mxnet.gluon import nn

from .. import diagram
from ..models.googlenet import Inception, googlenet
from ..shapes import param_count, shape_table

__all__ = ['inception_channels', 'channel_ratio', 'reduction', 'describe_inception',
           'inception_explorer', 'channel_share_figure', 'module_shapes',
           'smallest_input_size', 'resolution_explorer', 'inception_blocks',
           'inception_table']

PATH_LAYERS = (('p1_1',), ('p2_1', 'p2_2'), ('p3_1', 'p3_2'), ('p4_1', 'p4_2'))
PATH_NAMES = ('path 1: 1×1', 'path 2: 1×1, 3×3', 'path 3: 1×1, 5×5',
              'path 4: pool, 1×1')
PATH_COLORS = ('#3b6c9e', '#b9770e', '#4f8a3c', '#a1456e')
MODULES = ('b1', 'b2', 'b3', 'b4', 'b5')
MAX_SEARCH = 1024   # largest input size smallest_input_size() tries


# ------------------------------------------------------------ one block
def _is_inception(block):
    return all(hasattr(block, n) for names in PATH_LAYERS for n in names)


def inception_channels(blk):
    """``(c1, (c2[0], c2[1]), (c3[0], c3[1]), c4)`` of an Inception block, read off its layers."""
    if not _is_inception(blk):
        raise ValueError('%s is not an Inception block: it needs the children '
                         'p1_1, p2_1, p2_2, p3_1, p3_2, p4_1 and p4_2.'
                         % type(blk).__name__)
    return (blk.p1_1._channels, (blk.p2_1._channels, blk.p2_2._channels),
            (blk.p3_1._channels, blk.p3_2._channels), blk.p4_2._channels)


def _in_channels(blk):
    """Input channels of an Inception block, known after one forward pass."""
    n = blk.p1_1.weight.shape[1]
    if not n:
        raise ValueError('The input channels of this Inception block are not '
                         'known yet; run one forward pass (e.g. net(X)) first.')
    return int(n)


def channel_ratio(channels):
    """``'64:128:32:32 = 2:4:1:1'``: channel counts and their ratio in lowest terms."""
    channels = [int(c) for c in channels]
    raw = ':'.join(str(c) for c in channels)
    g = functools.reduce(math.gcd, channels)
    if g <= 1:
        return raw + ' (no common factor)'
    return '%s = %s' % (raw, ':'.join(str(c // g) for c in channels))


def reduction(reduced, in_channels):
    """``'96/192 = 1/2'``: a 1×1 convolution's output channels as a fraction of its input's."""
    f = fractions.Fraction(int(reduced), int(in_channels))
    return '%d/%d = %s' % (reduced, in_channels,
                           f.numerator if f.denominator == 1 else f)


def _reduction_sentence(path, kernel, reduced, in_channels):
    frac = reduction(reduced, in_channels)
    if reduced < in_channels:
        return ('path %d reduces the %d input channels to %d (%s) before its '
                '%s convolution' % (path, in_channels, reduced, frac, kernel))
    if reduced == in_channels:
        return ('path %d keeps the %d input channels (%s) before its %s '
                'convolution: no saving' % (path, in_channels, frac, kernel))
    return ('path %d widens the %d input channels to %d (%s) before its %s '
            'convolution: a 1×1 convolution can add channels too, but then it '
            'costs instead of saving' % (path, in_channels, reduced, frac, kernel))


def describe_inception(blk):
    """One sentence with the block's output channels, ratio and reductions.

    ``blk`` must have seen one forward pass (its input channels are read from
    its weights), e.g. ``'64 + 128 + 32 + 32 = 256 output channels; ratio
    64:128:32:32 = 2:4:1:1; path 2 reduces the 192 input channels to 96
    (96/192 = 1/2) ...'``.
    """
    c1, c2, c3, c4 = inception_channels(blk)
    in_channels = _in_channels(blk)
    outs = (c1, c2[1], c3[1], c4)
    return ('%s = %d output channels; ratio %s; %s; %s.'
            % (' + '.join(str(c) for c in outs), sum(outs), channel_ratio(outs),
               _reduction_sentence(2, '3×3', c2[0], in_channels),
               _reduction_sentence(3, '5×5', c3[0], in_channels)))


def _check_count(name, value, what, minimum=1):
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError('%s must be a whole number, not %r.' % (name, value))
    if value < minimum:
        raise ValueError('%s = %d is impossible: %s.' % (name, value, what))


def channel_share_figure(c1, c2, c3, c4):
    """A small horizontal bar chart: output channels of each path and their share."""
    outs = [c1, c2[1] if isinstance(c2, tuple) else c2,
            c3[1] if isinstance(c3, tuple) else c3, c4]
    total = sum(outs)
    fig = Figure(figsize=(6.0, 2.2))
    ax = fig.add_subplot()
    ys = list(range(len(outs)))[::-1]
    ax.barh(ys, outs, color=PATH_COLORS, height=0.6)
    for y, c in zip(ys, outs):
        ax.text(c + total * 0.01, y, '%d (%.1f%%)' % (c, 100 * c / total),
                va='center', fontsize=9)
    ax.set_yticks(ys)
    ax.set_yticklabels(PATH_NAMES, fontsize=9)
    ax.set_xlim(0, max(outs) * 1.3)
    ax.set_xlabel('output channels (concatenated: %d)' % total, fontsize=9)
    ax.set_title('How the %d output channels are shared' % total, fontsize=10)
    for side in ('top', 'right'):
        ax.spines[side].set_visible(False)
    fig.subplots_adjust(left=0.27, right=0.97, bottom=0.22, top=0.86)
    return fig


def inception_explorer(c1=64, c2_0=96, c2_1=128, c3_0=16, c3_1=32, c4=32,
                       in_channels=192, height=12, width=12):
    """Build ``Inception(c1, (c2_0, c2_1), (c3_0, c3_1), c4)``, run it on one input.

    The defaults are the first Inception block of b3, which sees a
    192-channel 12×12 map when GoogLeNet gets a 96×96 image.

    Returns
    -------
    (table, text, share figure, diagram figure)
        ``table`` has one row per path (its layers, output shape, parameter
        count, channel share) and a last row for the concatenated output;
        ``text`` states the channel sum, the ratio between the paths and the
        reductions of paths 2 and 3.

    Raises
    ------
    ValueError
        If a channel count or the input size is below 1.
    """
    for name, value in (('c1', c1), ('c2[0]', c2_0), ('c2[1]', c2_1),
                        ('c3[0]', c3_0), ('c3[1]', c3_1), ('c4', c4)):
        _check_count(name, value, 'every convolution in the block needs at '
                     'least one output channel (a path cannot be switched off '
                     'without changing the code of Inception)')
    _check_count('in_channels', in_channels, 'the input needs at least one channel')
    _check_count('height', height, 'the input must be at least 1 pixel high')
    _check_count('width', width, 'the input must be at least 1 pixel wide')

    blk = Inception(c1, (c2_0, c2_1), (c3_0, c3_1), c4)
    blk.initialize(init.Zero())  # values do not matter here; leaves the RNG alone
    X = nd.zeros((1, in_channels, height, width))
    layers = shape_table(blk, X)
    out_shape = tuple(blk(X).shape)

    outs = (c1, c2_1, c3_1, c4)
    rows = []
    for name, children, channels in zip(PATH_NAMES, PATH_LAYERS, outs):
        rows.append((name,
                     ' → '.join(diagram.layer_label(getattr(blk, n)) for n in children),
                     layers.loc[children[-1], 'output shape'],
                     int(layers.loc[list(children), 'params'].sum()),
                     '%.1f%%' % (100 * channels / sum(outs))))
    rows.append(('concatenated', 'concat on the channel axis', out_shape,
                 int(layers['params'].sum()), '100.0%'))
    table = pd.DataFrame([r[1:] for r in rows],
                         columns=['layers', 'output shape', 'params', 'channels'],
                         index=pd.Index([r[0] for r in rows], name='path'))

    text = '\n'.join([
        'output: %s = %d channels, shape %s (height and width kept: %d×%d)'
        % (' + '.join(str(c) for c in outs), sum(outs), out_shape, height, width),
        'ratio c1 : c2[1] : c3[1] : c4 = %s' % channel_ratio(outs),
        _reduction_sentence(2, '3×3', c2_0, in_channels),
        _reduction_sentence(3, '5×5', c3_0, in_channels),
        'parameters: %d' % param_count(blk),
    ])
    title = 'Inception(%d, (%d, %d), (%d, %d), %d) on %d input channels' % (
        c1, c2_0, c2_1, c3_0, c3_1, c4, in_channels)
    spec = diagram.inception_paths(blk)
    spec.update(input_label='Input %d×%d×%d' % (in_channels, height, width),
                output_label='Output %d×%d×%d' % out_shape[1:])
    return (table, text, channel_share_figure(c1, c2_1, c3_1, c4),
            diagram.draw_paths(title=title, **spec))


# ------------------------------------------------------- whole network
@functools.lru_cache(maxsize=None)
def _googlenet():
    """One GoogLeNet (1 input channel, 10 classes), shared by the size functions."""
    net = googlenet()
    net.initialize(init.Zero())
    return net


def _hw(shape):
    return '%d×%d' % tuple(shape[-2:])


def module_shapes(size, net=None):
    """Input and output shape of b1 ... b5 and the output layer for a ``size``×``size`` image.

    Returns a DataFrame indexed ``b1`` ... ``b5``, ``dense`` with columns
    ``input shape``, ``output shape`` and ``params`` (one image of one
    channel, as Fashion-MNIST). Never raises for ``size`` >= 1: GoogLeNet's
    pooling layers are padded, so every layer outputs at least 1×1.
    """
    _check_count('size', size, 'an image is at least 1×1 pixel')
    net = net if net is not None else _googlenet()
    table = shape_table(net, nd.zeros((1, 1, size, size)), max_depth=1)
    names = list(MODULES) + ['dense']
    inputs = [(1, 1, size, size)] + list(table['output shape'].iloc[:-1])
    return pd.DataFrame({'input shape': inputs,
                         'output shape': list(table['output shape']),
                         'params': list(table['params'])},
                        index=pd.Index(names[:len(table)], name='module'))


def _halvings(net=None):
    """Number of stride-2 layers in b1 ... b4 (each halves height and width)."""
    net = net if net is not None else _googlenet()
    count = 0
    for module in list(net)[:4]:
        for layer in module:
            stride = (getattr(layer, '_kwargs', None) or {}).get('stride')
            if stride is not None and tuple(stride) == (2, 2):
                count += 1
    return count


def _b5_input(size, net=None):
    """Height and width of the map b5 receives for a ``size``×``size`` image."""
    net = net if net is not None else _googlenet()
    X = nd.zeros((1, 1, size, size))
    for module in list(net)[:4]:
        X = module(X)
    return tuple(X.shape[-2:])


@functools.lru_cache(maxsize=None)
def smallest_input_size():
    """The smallest image size at which b5 still receives a map larger than 1×1.

    Found by running b1 ... b4 on candidate sizes. Every layer's output size,
    ``floor((n + 2 * padding - kernel) / stride) + 1``, never shrinks when the
    input size ``n`` grows, so the sizes that work form a range ``[answer,
    ...)`` and a binary search over 1 ... 1024 finds its start in ten runs.
    Below it, b5's Inception blocks see a single value per channel, so their
    3×3 and 5×5 convolutions multiply all but their centre weights with the
    padding zeros.
    """
    def works(size):
        return min(_b5_input(size)) > 1

    lo, hi = 1, MAX_SEARCH
    if not works(hi):
        raise RuntimeError('No input size up to %d gives b5 more than 1×1.' % hi)
    while lo < hi:  # invariant: works(hi), and no size below lo works
        mid = (lo + hi) // 2
        if works(mid):
            hi = mid
        else:
            lo = mid + 1
    return lo


def resolution_explorer(size=96):
    """GoogLeNet's module-by-module shapes for a ``size``×``size`` input.

    Returns ``(table, text)`` (see :func:`module_shapes`). Raises ValueError
    with a sentence below :func:`smallest_input_size`.
    """
    table = module_shapes(size)
    inputs = ', '.join('%s %s' % (m, _hw(table.loc[m, 'input shape'])) for m in MODULES)
    smallest = smallest_input_size()
    if size < smallest:
        first = next(m for m in MODULES if max(table.loc[m, 'input shape'][-2:]) == 1)
        raise ValueError(
            'At %d×%d the feature maps are already 1×1 at the input of %s (module '
            'inputs: %s): GoogLeNet halves height and width %d times before b5, '
            "so b5's 3×3 and 5×5 convolutions see only padding around a single "
            'value. The network still runs, but the smallest input for which b5 '
            'receives a map larger than 1×1 is %d×%d.'
            % (size, size, first, inputs, _halvings(), smallest, smallest))
    text = ('At %d×%d the module inputs are %s; the global average pooling at '
            "the end of b5 turns b5's %s map into 1×1, so the dense layer always "
            'gets %d features. Smallest input for which b5 receives more than '
            '1×1: %d×%d.'
            % (size, size, inputs, _hw(table.loc['b5', 'input shape']),
               table.loc['b5', 'output shape'][1], smallest, smallest))
    return table, text


# ------------------------------------------------- every Inception block
def inception_blocks(net, module=None):
    """``[(name, block)]`` for every Inception block of a GoogLeNet, e.g. ``('b3.1', blk)``.

    ``module='b4'`` keeps the blocks of that module only.
    """
    if module is not None and module not in MODULES:
        raise ValueError('module must be one of %s, not %r.'
                         % (', '.join(MODULES), module))
    found = []
    for i, child in enumerate(net):
        name = MODULES[i] if i < len(MODULES) else str(i)
        k = 0
        for blk in (child if isinstance(child, nn.Sequential) else []):
            if _is_inception(blk):
                k += 1
                if module in (None, name):
                    found.append(('%s.%d' % (name, k), blk))
    return found


def inception_table(net, X, variant=None):
    """Channels and parameters of every Inception block of ``net``, one row each.

    Parameters
    ----------
    net : GoogLeNet built by ``googlenet()`` (initialized)
    X : NDArray or shape tuple
        The input, which fixes the height and width each block sees.
    variant : callable or None
        Another block class taking ``(c1, c2, c3, c4)`` with the same output
        shape (e.g. an Inception without the 1×1 reductions); adds the column
        ``variant params``: the parameters of ``variant`` built with each
        block's channels and run on that block's input.

    Returns
    -------
    pandas.DataFrame
        Indexed ``b3.1`` ... ``b5.2``; columns ``input``, ``c1``, ``c2``,
        ``c3``, ``c4``, ``output``, ``ratio``, ``params`` and ``one 3×3 conv``
        (the parameters of a single 3×3 convolution with the same input and
        output channels, for comparison), then ``variant params``.
    """
    table = shape_table(net, X, max_depth=2)
    # rows run in forward order, so each row's input is the previous row's output
    first = X.shape if isinstance(X, nd.NDArray) else tuple(X)
    inputs = dict(zip(table.index, [tuple(first)] + list(table['output shape'].iloc[:-1])))
    rows, index = [], []
    for (name, blk), path in zip(inception_blocks(net), _inception_paths(net)):
        c1, c2, c3, c4 = inception_channels(blk)
        in_shape, out_shape = inputs[path], table.loc[path, 'output shape']
        plain = nn.Conv2D(out_shape[1], kernel_size=3, padding=1)
        plain.initialize(init.Zero())
        plain(nd.zeros(in_shape))
        row = {'input': '%d×%s' % (in_shape[1], _hw(in_shape)),
               'c1': c1, 'c2': c2, 'c3': c3, 'c4': c4,
               'output': out_shape[1],
               'ratio': channel_ratio((c1, c2[1], c3[1], c4)).split(' = ')[-1],
               'params': int(table.loc[path, 'params']),
               'one 3×3 conv': param_count(plain)}
        if variant is not None:
            other = variant(c1, c2, c3, c4)
            other.initialize(init.Zero())
            other_out = tuple(other(nd.zeros(in_shape)).shape)
            if other_out != tuple(out_shape):
                raise ValueError('%s(%s) outputs %s where the Inception block %s '
                                 'outputs %s; the variant must keep the shape.'
                                 % (type(other).__name__, (c1, c2, c3, c4),
                                    other_out, name, tuple(out_shape)))
            row['variant params'] = param_count(other)
        rows.append(row)
        index.append(name)
    return pd.DataFrame(rows, index=pd.Index(index, name='block'))


def _inception_paths(net):
    """Stable shape-table names (``'2.0'``) of the Inception blocks, in order."""
    return ['%d.%d' % (i, j) for i, module in enumerate(net)
            for j, child in enumerate(module if isinstance(module, nn.Sequential) else [])
            if _is_inception(child)]
