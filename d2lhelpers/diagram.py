"""Block diagrams drawn from the blocks' own definitions.

One drawing mechanism, :func:`draw_paths`, draws parallel paths of layers
between an input and a merge node, bottom to top (input at the bottom, as in
the book's figures). The ``*_paths`` functions read the labels off real Gluon
blocks (an ``Inception``, a ``Residual``), so a figure always matches the code
that builds the block: change a channel count and the picture changes too.

Labels are English/ASCII plus ``×`` so no CJK font is needed; all text uses
DejaVu Sans, which ships with matplotlib.
"""
import re

from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, Rectangle
from matplotlib.path import Path
from mxnet.gluon import nn

__all__ = ['layer_label', 'draw_paths', 'draw_side_by_side',
           'inception_paths', 'draw_inception',
           'residual_paths', 'plain_paths', 'draw_plain_vs_residual',
           'dense_vs_residual_paths', 'dense_vs_residual']

FONT = 'DejaVu Sans'
FONT_SIZE = 9.5
SCALE = 0.78          # inches per data unit
BOX_W, BOX_H = 2.5, 0.62
ROW = 1.05            # vertical distance between box centres
GAP = 0.45            # horizontal gap between columns
FORK = 0.3            # extra vertical room where a path branches off
IDENTITY_W = 0.5      # width taken by a path without boxes
CIRCLE_R = 0.24
TERMINAL_H = 0.46
LINE = '#4a4a4a'

# (label prefix, face colour, edge colour); first match wins
COLORS = [
    (('Conv',), '#d6e6f5', '#3b6c9e'),
    (('MaxPool', 'AvgPool', 'GlobalMaxPool', 'GlobalAvgPool'), '#fde7c8', '#b9770e'),
    (('BatchNorm',), '#dcefd5', '#4f8a3c'),
    (('ReLU', 'Sigmoid', 'Tanh', 'Activation', 'SoftReLU'), '#f4dbe6', '#a1456e'),
    (('Dense',), '#fff2c2', '#a88b15'),
    (('Concat',), '#ececec', '#555555'),
]
DEFAULT_COLOR = ('#e7e1f4', '#6a55a0')


# ---------------------------------------------------------------- labels
def _dims(values, sep='×'):
    values = tuple(values)
    return sep.join(str(v) for v in values)


def _stride(values):
    values = tuple(values)
    if len(set(values)) == 1:
        return 'stride %d' % values[0]
    return 'stride ' + _dims(values)


_ACT_NAMES = {'relu': 'ReLU', 'sigmoid': 'Sigmoid', 'tanh': 'Tanh',
              'softrelu': 'SoftReLU', 'softsign': 'Softsign'}


def _act_name(act_type):
    return _ACT_NAMES.get(act_type, act_type)


def layer_label(layer):
    """A short readable description of one Gluon layer.

    ``Conv2D 3×3, 128``, ``Conv2D 1×1, 128, stride 2``, ``Conv2D 1×1, 64 + ReLU``
    (fused activation), ``MaxPool 3×3``, ``MaxPool 3×3, stride 2`` (the stride
    is shown unless it is 1 or equal to the window), ``AvgPool 2×2``,
    ``GlobalAvgPool``, ``BatchNorm``, ``ReLU``, ``Dense 10``, ``Dropout 0.5``;
    any other block is labelled with its class name (``Inception``). A str is
    returned unchanged.
    """
    if isinstance(layer, str):
        return layer
    name = type(layer).__name__
    kwargs = getattr(layer, '_kwargs', None) or {}
    if isinstance(layer, nn.conv_layers._Conv):
        label = '%s %s, %d' % (name, _dims(kwargs['kernel']), layer._channels)
        if any(s != 1 for s in kwargs['stride']):
            label += ', ' + _stride(kwargs['stride'])
    elif isinstance(layer, nn.conv_layers._Pooling):
        kind = {'max': 'Max', 'avg': 'Avg', 'sum': 'Sum', 'lp': 'Lp'}.get(
            kwargs.get('pool_type'), kwargs.get('pool_type', ''))
        if kwargs.get('global_pool'):
            return 'Global%sPool' % kind
        label = '%sPool %s' % (kind, _dims(kwargs['kernel']))
        stride = tuple(kwargs['stride'])
        if any(s != 1 for s in stride) and stride != tuple(kwargs['kernel']):
            label += ', ' + _stride(stride)
        return label
    elif isinstance(layer, nn.Dense):
        label = 'Dense %d' % layer._units
    elif isinstance(layer, nn.Activation):
        return _act_name(layer._act_type)
    elif isinstance(layer, nn.Dropout):
        return 'Dropout %g' % layer._rate
    else:
        return name
    act = getattr(layer, 'act', None)
    if act is not None:
        label += ' + ' + _act_name(getattr(act, '_act_type', type(act).__name__))
    return label


def _wrap(text, width=24):
    """Break a long label at ', ' or ' + ' so each line has at most ``width`` chars."""
    if len(text) <= width or '\n' in text:
        return text
    tokens = re.split(r'(, | \+ )', text)
    lines, current = [], tokens[0]
    for sep, part in zip(tokens[1::2], tokens[2::2]):
        if len(current) + len(sep) + len(part) <= width:
            current += sep + part
        elif sep == ', ':
            lines.append(current + ',')
            current = part
        else:
            lines.append(current)
            current = '+ ' + part
    lines.append(current)
    return '\n'.join(lines)


def _colors(label):
    for prefixes, face, edge in COLORS:
        if label.startswith(prefixes):
            return face, edge
    return DEFAULT_COLOR


# ---------------------------------------------------------------- layout
def _layout(paths, merge=None, after=(), before=(), input_label='Input',
            output_label='Output', frame=None, align='bottom'):
    """Positions of every element: a list of drawing primitives and extents."""
    paths = [[layer_label(b) for b in p] for p in paths]
    before = [layer_label(b) for b in before]
    after = [layer_label(b) for b in after]
    if not paths:
        paths = [[]]
    if merge is None and len(paths) > 1:
        raise ValueError('%d parallel paths need a merge node (e.g. '
                         "merge='+' or merge='Concat')." % len(paths))
    if align not in ('bottom', 'center'):
        raise ValueError("align must be 'bottom' or 'center', not %r." % (align,))
    circle = merge is not None and len(merge) <= 2

    # columns, left to right
    widths = [BOX_W if p else IDENTITY_W for p in paths]
    xs, x = [], 0.0
    for w in widths:
        xs.append(x + w / 2)
        x += w + GAP
    if circle or len(paths) == 1:
        trunk = xs[0]
    else:
        trunk = (xs[0] + xs[-1]) / 2

    prims = []

    def box(cx, cy, label, gid='d2l-box'):
        prims.append(('box', cx, cy, BOX_W, BOX_H, label, gid))
        return cy - BOX_H / 2, cy + BOX_H / 2

    def terminal(cx, cy, label):
        w = max(1.0, 0.135 * len(label) + 0.5)
        prims.append(('terminal', cx, cy, w, TERMINAL_H, label))
        return cy - TERMINAL_H / 2, cy + TERMINAL_H / 2

    def arrow(*verts):
        prims.append(('arrow', verts))

    # input and the boxes before the split, on the trunk
    y = 0.0
    _, top = terminal(trunk, y, input_label)
    for label in before:
        y += ROW
        bottom, new_top = box(trunk, y, label)
        arrow((trunk, top), (trunk, bottom))
        top = new_top
    split_top, split_y = top, y

    rows = max(len(p) for p in paths)
    if merge is None:
        # a single path continues the trunk
        for label in paths[0]:
            y += ROW
            bottom, new_top = box(trunk, y, label)
            arrow((trunk, top), (trunk, bottom))
            top = new_top
        path_boxes = [(trunk, split_y + ROW * (i + 1)) for i in range(len(paths[0]))]
    else:
        forks = any(cx != trunk for cx in xs)
        base = split_y + (FORK if forks else 0.0)
        merge_y = base + ROW * (rows + 1)
        if circle:
            merge_half = CIRCLE_R
            prims.append(('circle', trunk, merge_y, CIRCLE_R, merge))
        else:
            span = xs[-1] - xs[0] + BOX_W * 0.6 if len(paths) > 1 else BOX_W
            merge_half = BOX_H / 2
            prims.append(('box', (xs[0] + xs[-1]) / 2 if len(paths) > 1 else trunk,
                          merge_y, max(span, BOX_W), BOX_H, merge, 'd2l-merge'))
        fork_y = split_top + (base + ROW - BOX_H / 2 - split_top) / 2
        path_boxes = []
        for col, (cx, labels) in enumerate(zip(xs, paths)):
            offset = (rows - len(labels)) // 2 if align == 'center' else 0
            start = [(trunk, split_top)]
            if cx != trunk:
                start += [(trunk, fork_y), (cx, fork_y)]
            ptop = None
            for r, label in enumerate(labels):
                cy = base + ROW * (r + 1 + offset)
                bottom, btop = box(cx, cy, label)
                if col == 0:
                    path_boxes.append((cx, cy))
                if ptop is None:
                    arrow(*start, (cx, bottom))
                else:
                    arrow((cx, ptop), (cx, bottom))
                ptop = btop
            # into the merge node
            verts = [(cx, ptop)] if ptop is not None else start
            if circle and cx != trunk:
                side = trunk + (CIRCLE_R if cx > trunk else -CIRCLE_R)
                verts = verts + [(cx, merge_y), (side, merge_y)]
            else:
                verts = verts + [(cx, merge_y - merge_half)]
            arrow(*verts)
        y, top = merge_y, merge_y + merge_half
    for label in after:
        y += ROW
        bottom, new_top = box(trunk, y, label)
        arrow((trunk, top), (trunk, bottom))
        top = new_top
    y += ROW * 0.9
    bottom, _ = terminal(trunk, y, output_label)
    arrow((trunk, top), (trunk, bottom))

    if frame and path_boxes:
        ys = [cy for _, cy in path_boxes]
        cx = path_boxes[0][0]
        pad = 0.13
        prims.append(('frame', cx - BOX_W / 2 - pad, min(ys) - BOX_H / 2 - pad,
                      cx + BOX_W / 2 + pad, max(ys) + BOX_H / 2 + pad, frame))

    # extents
    xmin, xmax, ymin, ymax = [], [], [], []
    for p in prims:
        if p[0] in ('box', 'terminal'):
            _, cx, cy, w, h = p[:5]
            xmin.append(cx - w / 2); xmax.append(cx + w / 2)
            ymin.append(cy - h / 2); ymax.append(cy + h / 2)
        elif p[0] == 'frame':
            caption_w = 0.13 * max(len(s) for s in p[5].split('\n')) + 0.3
            xmin.append(p[1] - caption_w); ymin.append(p[2]); ymax.append(p[4])
        elif p[0] == 'arrow':
            xmin.extend(v[0] for v in p[1]); xmax.extend(v[0] for v in p[1])
    margin = 0.2
    extents = (min(xmin) - margin, max(xmax) + margin,
               min(ymin) - margin, max(ymax) + margin)
    return prims, extents


def _render(ax, prims, extents, title=None, height=None):
    text_kw = dict(ha='center', va='center', fontsize=FONT_SIZE, family=FONT,
                   zorder=4)
    for p in prims:
        kind = p[0]
        if kind == 'box':
            _, cx, cy, w, h, label, gid = p
            face, edge = _colors(label)
            patch = FancyBboxPatch((cx - w / 2, cy - h / 2), w, h,
                                   boxstyle='round,pad=0,rounding_size=0.08',
                                   facecolor=face, edgecolor=edge, lw=1.2,
                                   zorder=3)
            patch.set_gid(gid)
            ax.add_patch(patch)
            t = ax.text(cx, cy, _wrap(label), **text_kw)
            t.set_gid(gid)
        elif kind == 'terminal':
            _, cx, cy, w, h, label = p
            patch = FancyBboxPatch((cx - w / 2, cy - h / 2), w, h,
                                   boxstyle='round,pad=0,rounding_size=0.2',
                                   facecolor='white', edgecolor='#888888',
                                   lw=1.0, zorder=3)
            patch.set_gid('d2l-terminal')
            ax.add_patch(patch)
            t = ax.text(cx, cy, label, style='italic', **text_kw)
            t.set_gid('d2l-terminal')
        elif kind == 'circle':
            _, cx, cy, r, label = p
            patch = Circle((cx, cy), r, facecolor='#ececec', edgecolor='#555555',
                           lw=1.2, zorder=3)
            patch.set_gid('d2l-merge')
            ax.add_patch(patch)
            t = ax.text(cx, cy - 0.01, label, **dict(text_kw, fontsize=14,
                                                    weight='bold'))
            t.set_gid('d2l-merge')
        elif kind == 'arrow':
            verts = p[1]
            # drop repeated points, which would make a zero-length segment
            clean = [verts[0]]
            for v in verts[1:]:
                if abs(v[0] - clean[-1][0]) > 1e-9 or abs(v[1] - clean[-1][1]) > 1e-9:
                    clean.append(v)
            path = Path(clean, [Path.MOVETO] + [Path.LINETO] * (len(clean) - 1))
            patch = FancyArrowPatch(path=path, arrowstyle='-|>', mutation_scale=13,
                                    color=LINE, lw=1.3, zorder=2,
                                    shrinkA=0, shrinkB=0,
                                    joinstyle='miter', capstyle='butt')
            patch.set_gid('d2l-arrow')
            ax.add_patch(patch)
        elif kind == 'frame':
            _, x0, y0, x1, y1, caption = p
            patch = Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False,
                              linestyle=(0, (4, 3)), edgecolor='#888888',
                              lw=1.1, zorder=1)
            patch.set_gid('d2l-frame')
            ax.add_patch(patch)
            t = ax.text(x0 - 0.12, (y0 + y1) / 2, caption, ha='right',
                        va='center', fontsize=FONT_SIZE, family=FONT,
                        color='#555555', style='italic', zorder=4)
            t.set_gid('d2l-frame')
    xmin, xmax, ymin, ymax = extents
    ax.set_xlim(xmin, xmax)
    ax.set_ylim(ymin, ymin + (height if height is not None else ymax - ymin))
    ax.set_aspect('equal', adjustable='box', anchor='S')
    ax.axis('off')
    if title:
        ax.set_title(title, fontsize=FONT_SIZE + 1.5, family=FONT, pad=6)


def _spec(paths, merge=None, after=(), input_label='Input',
          output_label='Output', before=(), frame=None, align='bottom'):
    return dict(paths=paths, merge=merge, after=after, before=before,
                input_label=input_label, output_label=output_label,
                frame=frame, align=align)


def _new_figure(widths, height, titled):
    title_in = 0.35 if titled else 0.0
    fig_w = sum(widths) * SCALE
    fig_h = height * SCALE + title_in
    # Not a pyplot figure: shown once when it is a cell's value (a pyplot
    # figure would be shown a second time by the inline backend).
    fig = Figure(figsize=(fig_w, fig_h))
    top = 1 - title_in / fig_h
    gs = fig.add_gridspec(1, len(widths), width_ratios=widths, left=0, right=1,
                          bottom=0, top=top, wspace=0)
    return fig, [fig.add_subplot(gs[0, i]) for i in range(len(widths))]


def draw_paths(paths, merge=None, after=(), input_label='Input',
               output_label='Output', title=None, ax=None, before=(),
               frame=None, align='bottom'):
    """Draw parallel paths of layers between an input and a merge node.

    Drawn bottom to top: ``input_label``, the ``before`` boxes, the
    ``paths`` side by side (each a list of labels or Gluon layers, bottom
    first; an empty list is an identity shortcut), the ``merge`` node, the
    ``after`` boxes and ``output_label``. ``merge`` is a short symbol such as
    ``'+'`` (drawn as a circle, the first path straight below it) or a longer
    label such as ``'Concat (channel axis)'`` (a wide box above all paths);
    None is allowed for a single path. ``frame`` draws a dashed frame around
    the first path's boxes captioned with that text; ``align='center'``
    centres shorter paths vertically instead of starting them at the bottom.

    Returns the Figure (``ax.figure`` when drawing into ``ax``).
    """
    prims, extents = _layout(paths, merge, after, before, input_label,
                             output_label, frame, align)
    if ax is None:
        xmin, xmax, ymin, ymax = extents
        fig, (ax,) = _new_figure([xmax - xmin], ymax - ymin, bool(title))
    _render(ax, prims, extents, title)
    return ax.figure


def draw_side_by_side(items, suptitle=None):
    """Draw several diagrams in one row: ``items`` is a list of ``(title, spec)``.

    A spec is a dict of :func:`draw_paths` keyword arguments, as returned by
    :func:`inception_paths`, :func:`residual_paths` and :func:`plain_paths`.
    All diagrams use the same scale and their inputs line up at the bottom.
    """
    layouts = [(title, _layout(**_spec(**spec))) for title, spec in items]
    widths = [ext[1] - ext[0] for _, (_, ext) in layouts]
    height = max(ext[3] - ext[2] for _, (_, ext) in layouts)
    titled = any(title for title, _ in items) or bool(suptitle)
    fig, axes = _new_figure(widths, height, titled)
    for ax, (title, (prims, ext)) in zip(axes, layouts):
        _render(ax, prims, ext, title, height=height)
    if suptitle:
        fig.suptitle(suptitle, family=FONT)
    return fig


# ------------------------------------------------- specs from real blocks
def _require(blk, names, kind):
    missing = [n for n in names if not hasattr(blk, n)]
    if missing:
        raise ValueError('%s has no attribute %s: expected %s block with '
                         'children %s.' % (type(blk).__name__,
                                           ', '.join(missing), kind,
                                           ', '.join(names)))


def inception_paths(blk):
    """Spec of an ``Inception`` block's four paths, merged by concatenation.

    Labels come from the block's children ``p1_1``; ``p2_1, p2_2``;
    ``p3_1, p3_2``; ``p4_1, p4_2``.
    """
    _require(blk, ['p1_1', 'p2_1', 'p2_2', 'p3_1', 'p3_2', 'p4_1', 'p4_2'],
             'an Inception')
    paths = [[blk.p1_1], [blk.p2_1, blk.p2_2], [blk.p3_1, blk.p3_2],
             [blk.p4_1, blk.p4_2]]
    return _spec([[layer_label(l) for l in p] for p in paths],
                 merge='Concat (channel axis)')


def draw_inception(blk, title='Inception block', ax=None):
    """Draw an ``Inception`` block's four paths; returns the Figure."""
    return draw_paths(title=title, ax=ax, **inception_paths(blk))


def residual_paths(blk):
    """Spec of a ``Residual`` block: the main path plus the shortcut, added.

    Main path: ``conv1``, ``bn1``, ReLU, ``conv2``, ``bn2``; shortcut: the
    1×1 convolution ``conv3`` when the block has one, else identity; then
    ``+`` and ReLU, as in ``Residual.forward``.
    """
    _require(blk, ['conv1', 'bn1', 'conv2', 'bn2', 'conv3'], 'a Residual')
    main = [layer_label(blk.conv1), layer_label(blk.bn1), 'ReLU',
            layer_label(blk.conv2), layer_label(blk.bn2)]
    if blk.conv3 is not None:
        shortcut, fits = [layer_label(blk.conv3)], 'fits\nf(x) - conv3(x)'
    else:
        shortcut, fits = [], 'fits\nf(x) - x'
    return _spec([main, shortcut], merge='+', after=['ReLU'], input_label='x',
                 output_label='f(x)', frame=fits, align='center')


def plain_paths(blk):
    """The same layers as ``residual_paths(blk)`` without the shortcut: fits f(x)."""
    spec = residual_paths(blk)
    return _spec([spec['paths'][0] + ['ReLU']], input_label='x',
                 output_label='f(x)', frame='fits\nf(x)')


def draw_plain_vs_residual(blk):
    """A plain block (left) next to the residual block ``blk`` (right)."""
    return draw_side_by_side([('Plain block', plain_paths(blk)),
                              ('Residual block', residual_paths(blk))])


def dense_vs_residual_paths(a=None, b=None):
    """``[(title, spec)]`` for ResNet (B's output + A's) and DenseNet (concatenated).

    ``a`` and ``b`` are labels or blocks (labelled with :func:`layer_label`);
    by default 'Module A' and 'Module B'.
    """
    la = layer_label(a) if a is not None else 'Module A'
    lb = layer_label(b) if b is not None else 'Module B'
    if la == lb:
        la, lb = la + ' (A)', lb + ' (B)'
    resnet = _spec([[lb], []], merge='+', before=[la], input_label='x')
    densenet = _spec([[lb], []], merge='Concat (channel axis)', before=[la],
                     input_label='x')
    return [('ResNet: add', resnet), ('DenseNet: concatenate', densenet)]


def dense_vs_residual(a=None, b=None):
    """Draw ResNet's addition next to DenseNet's concatenation; returns the Figure."""
    return draw_side_by_side(dense_vs_residual_paths(a, b))
