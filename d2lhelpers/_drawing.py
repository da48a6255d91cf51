"""How the diagrams of :mod:`d2lhelpers.diagram` are laid out and drawn: a
layout is a list of primitives (:class:`Box` and its kin, :class:`Arrow`) that
know their extent and draw themselves; :func:`layout` places them bottom to
top, :func:`draw` puts layouts side by side in a Figure.
"""
import dataclasses
import re
import unicodedata

from matplotlib.figure import Figure
from matplotlib.patches import Circle as CirclePatch
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Rectangle
from matplotlib.path import Path

CONCAT = '通道维连结'
FONT_SIZE = 9.5
SCALE = 0.78          # inches per data unit
BOX_W, BOX_H = 2.5, 0.62
ROW = 1.05            # vertical distance between box centres
GAP = 0.45            # horizontal gap between columns
FORK = 0.3            # extra vertical room where a path branches off
IDENTITY_W = 0.5      # width taken by a path without boxes
CIRCLE_R = 0.24
TERMINAL_H = 0.46
CHAR_W = 0.135        # width of one narrow character, in data units
NOTE_GAP = 0.35       # extra room for a note between two boxes
LINE = '#4a4a4a'

# (label prefix, face colour, edge colour); first match wins
COLORS = [
    (('Conv',), '#d6e6f5', '#3b6c9e'),
    (('MaxPool', 'AvgPool', 'GlobalMaxPool', 'GlobalAvgPool'), '#fde7c8', '#b9770e'),
    (('BatchNorm',), '#dcefd5', '#4f8a3c'),
    (('ReLU', 'Sigmoid', 'Tanh', 'Activation', 'SoftReLU'), '#f4dbe6', '#a1456e'),
    (('Dense',), '#fff2c2', '#a88b15'),
    ((CONCAT,), '#ececec', '#555555'),
]
DEFAULT_COLOR = ('#e7e1f4', '#6a55a0')
TEXT = dict(ha='center', va='center', fontsize=FONT_SIZE, zorder=4)


def _units(text):
    """Width of the longest line of ``text`` in narrow characters (CJK count 2)."""
    return max(sum(2 if unicodedata.east_asian_width(c) in 'WF' else 1 for c in line)
               for line in text.split('\n'))


def _wrap(text, width=24):
    """Break a long label at ', ' or ' + ' so each line is at most ``width`` units wide."""
    if _units(text) <= width or '\n' in text:
        return text
    tokens = re.split(r'(, | \+ )', text)
    lines, current = [], tokens[0]
    for sep, part in zip(tokens[1::2], tokens[2::2]):
        if _units(current + sep + part) <= width:
            current += sep + part
        elif sep == ', ':
            lines.append(current + ',')
            current = part
        else:
            lines.append(current)
            current = '+ ' + part
    lines.append(current)
    return '\n'.join(lines)


# ------------------------------------------------------------ primitives
@dataclasses.dataclass
class Box:
    """A layer: a rounded box centred at (x, y), coloured by its label; the
    other primitives but :class:`Arrow` are boxes drawn differently."""
    x: float
    y: float
    label: str
    gid: str = 'd2l-box'
    w: float = BOX_W
    h: float = BOX_H

    bottom = property(lambda self: self.y - self.h / 2)
    top = property(lambda self: self.y + self.h / 2)

    def extent(self):
        return self.x - self.w / 2, self.x + self.w / 2, self.bottom, self.top

    def draw(self, ax, rounding=0.08, colors=None, text=None):
        face, edge = colors or next((c[1:] for c in COLORS if self.label.startswith(c[0])),
                                    DEFAULT_COLOR)
        ax.add_patch(FancyBboxPatch(
            (self.x - self.w / 2, self.bottom), self.w, self.h, facecolor=face,
            boxstyle='round,pad=0,rounding_size=%g' % rounding, edgecolor=edge,
            lw=1.2, zorder=3)).set_gid(self.gid)
        ax.text(self.x, self.y, text or _wrap(self.label), **TEXT).set_gid(self.gid)


class Terminal(Box):
    """The input or output: a white pill as wide as its label."""

    def __init__(self, x, y, label):
        super().__init__(x, y, label, 'd2l-terminal',
                         max(1.0, CHAR_W * _units(label) + 0.5), TERMINAL_H)

    def draw(self, ax):
        super().draw(ax, 0.2, ('white', '#888888'), self.label)


class Circle(Box):
    """A small merge node such as ``+``."""

    def __init__(self, x, y, label):
        super().__init__(x, y, label, 'd2l-merge', 2 * CIRCLE_R, 2 * CIRCLE_R)

    def draw(self, ax):
        ax.add_patch(CirclePatch((self.x, self.y), CIRCLE_R, facecolor='#ececec',
                                 edgecolor='#555555', lw=1.2, zorder=3)).set_gid(self.gid)
        ax.text(self.x, self.y - 0.01, self.label,
                **dict(TEXT, fontsize=14, weight='bold')).set_gid(self.gid)


class Frame(Box):
    """A dashed frame around the boxes ``first`` ... ``last``, captioned on its left."""

    def __init__(self, first, last, caption, pad=0.13):
        super().__init__(first.x, (first.bottom + last.top) / 2, caption, 'd2l-frame',
                         BOX_W + 2 * pad, last.top - first.bottom + 2 * pad)

    def extent(self):
        x0, x1, y0, y1 = super().extent()
        return x0 - CHAR_W * _units(self.label) - 0.3, x1, y0, y1

    def draw(self, ax):
        x0, x1, y0, y1 = super().extent()
        ax.add_patch(Rectangle((x0, y0), self.w, self.h, fill=False, lw=1.1, zorder=1,
                               linestyle=(0, (4, 3)), edgecolor='#888888')).set_gid(self.gid)
        ax.text(x0 - 0.12, self.y, self.label,
                **dict(TEXT, ha='right', color='#555555')).set_gid(self.gid)


class Note(Box):
    """A value such as ``f(x)`` written to the right of the point (x, y) of an arrow."""

    def __init__(self, x, y, text):
        w = CHAR_W * _units(text)
        super().__init__(x + 0.12 + w / 2, y, text, 'd2l-note', w, 0.3)

    def draw(self, ax):
        ax.text(self.x, self.y, self.label, **dict(TEXT, style='italic')).set_gid(self.gid)


@dataclasses.dataclass
class Arrow:
    """A polyline from ``points[0]`` to an arrow head at ``points[-1]``."""
    points: list

    def extent(self):
        xs = [p[0] for p in self.points]
        return min(xs), max(xs), None, None

    def draw(self, ax):
        clean = [self.points[0]]  # a repeated point would make a zero-length segment
        for p in self.points[1:]:
            if abs(p[0] - clean[-1][0]) > 1e-9 or abs(p[1] - clean[-1][1]) > 1e-9:
                clean.append(p)
        path = Path(clean, [Path.MOVETO] + [Path.LINETO] * (len(clean) - 1))
        ax.add_patch(FancyArrowPatch(
            path=path, arrowstyle='-|>', mutation_scale=13, color=LINE, lw=1.3,
            zorder=2, shrinkA=0, shrinkB=0, joinstyle='miter',
            capstyle='butt')).set_gid('d2l-arrow')


# ---------------------------------------------------------------- layout
def _stack(prims, x, top, y, labels):
    """Boxes one ROW apart above ``y`` on the line ``x``, linked by arrows from
    ``top``; returns the new ``y``, ``top`` and the boxes."""
    boxes = []
    for label in labels:
        y += ROW
        boxes.append(Box(x, y, label))
        prims += [boxes[-1], Arrow([(x, top), (x, boxes[-1].bottom)])]
        top = boxes[-1].top
    return y, top, boxes


def _extents(prims, margin=0.2):
    ext = [p.extent() for p in prims]
    return tuple(f(e[i] for e in ext if e[i] is not None) + sign * margin
                 for i, f, sign in ((0, min, -1), (1, max, 1), (2, min, -1), (3, max, 1)))


def _columns(paths, circle):
    """x of every path's column, and of the trunk (where input and output sit)."""
    xs, x = [], 0.0
    for w in (BOX_W if p else IDENTITY_W for p in paths):
        xs.append(x + w / 2)
        x += w + GAP
    return xs, xs[0] if circle or len(paths) == 1 else (xs[0] + xs[-1]) / 2


def _parallel(prims, paths, merge, xs, trunk, split_top, split_y, align):
    """The paths side by side into a merge node; returns (merge node, first path's boxes)."""
    rows = max(len(p) for p in paths)
    base = split_y + (FORK if any(x != trunk for x in xs) else 0.0)
    merge_y = base + ROW * (rows + 1)
    if len(merge) <= 2:
        node = Circle(trunk, merge_y, merge)
    else:
        span = xs[-1] - xs[0] + BOX_W * 0.6 if len(paths) > 1 else BOX_W
        node = Box((xs[0] + xs[-1]) / 2, merge_y, merge, 'd2l-merge', max(span, BOX_W))
    prims.append(node)
    fork_y = split_top + (base + ROW - BOX_H / 2 - split_top) / 2
    first = []
    for x, labels in zip(xs, paths):
        offset = (rows - len(labels)) // 2 if align == 'center' else 0
        points = [(trunk, split_top)] + ([(trunk, fork_y), (x, fork_y)] if x != trunk else [])
        boxes = [Box(x, base + ROW * (r + 1 + offset), label) for r, label in enumerate(labels)]
        first = first or boxes
        for box in boxes:
            prims += [box, Arrow(points + [(x, box.bottom)])]
            points = [(x, box.top)]
        if isinstance(node, Circle) and x != trunk:  # into the circle's side
            side = trunk + (CIRCLE_R if x > trunk else -CIRCLE_R)
            prims.append(Arrow(points + [(x, merge_y), (side, merge_y)]))
        else:
            prims.append(Arrow(points + [(x, node.bottom)]))
    return node, first


def layout(paths, merge=None, after=(), before=(), input_label='输入',
           output_label='输出', frame=None, align='bottom', note=None):
    """The primitives of one diagram and its ``(xmin, xmax, ymin, ymax)``; the
    arguments (labels only) are :func:`d2lhelpers.diagram.draw_paths`'s."""
    paths = [list(p) for p in paths] or [[]]
    if merge is None and len(paths) > 1:
        raise ValueError("%d 条并行的线路需要一个合并节点（例如 merge='+' 或 "
                         "merge='%s'）。" % (len(paths), CONCAT))
    if align not in ('bottom', 'center'):
        raise ValueError("align 应是 'bottom' 或 'center'，收到的是 %r。" % (align,))
    xs, trunk = _columns(paths, merge is not None and len(merge) <= 2)
    prims = [Terminal(trunk, 0.0, input_label)]
    y, top, _ = _stack(prims, trunk, prims[0].top, 0.0, before)
    if merge is None:  # a single path continues the trunk
        y, top, framed = _stack(prims, trunk, top, y, paths[0])
    else:
        node, framed = _parallel(prims, paths, merge, xs, trunk, top, y, align)
        y, top = node.y, node.top
    if note:  # with some extra room, halfway up to the next box
        y += NOTE_GAP
        prims.append(Note(trunk, (top + y + ROW - BOX_H / 2) / 2, note))
    y, top, _ = _stack(prims, trunk, top, y, after)
    prims.append(Terminal(trunk, y + ROW * 0.9, output_label))
    prims.append(Arrow([(trunk, top), (trunk, prims[-1].bottom)]))
    if frame and framed:
        prims.append(Frame(framed[0], framed[-1], frame))
    return prims, _extents(prims)


def draw(items, suptitle=None):
    """A Figure with the diagrams ``[(title, spec)]`` in one row, one scale, inputs
    aligned; not pyplot's, which the inline backend would show a second time."""
    layouts = [(title, layout(**spec)) for title, spec in items]
    widths = [ext[1] - ext[0] for _, (_, ext) in layouts]
    height = max(ext[3] - ext[2] for _, (_, ext) in layouts)
    title_in = 0.35 if any(t for t, _ in items) or suptitle else 0.0
    fig_h = height * SCALE + title_in
    fig = Figure(figsize=(sum(widths) * SCALE, fig_h))
    gs = fig.add_gridspec(1, len(widths), width_ratios=widths, left=0, right=1,
                          bottom=0, top=1 - title_in / fig_h, wspace=0)
    for i, (title, (prims, (xmin, xmax, ymin, _))) in enumerate(layouts):
        ax = fig.add_subplot(gs[0, i])
        for prim in prims:
            prim.draw(ax)
        ax.set_xlim(xmin, xmax)
        ax.set_ylim(ymin, ymin + height)
        ax.set_aspect('equal', adjustable='box', anchor='S')
        ax.axis('off')
        if title:
            ax.set_title(title, fontsize=FONT_SIZE + 1.5, pad=6)
    if suptitle:
        fig.suptitle(suptitle)
    return fig
