"""The one figure of feature maps: groups of channels (the four paths of an
Inception block, x / f(x) − x / output of a residual block, the parts of a
dense block's concatenation), one row per group, beside the input image.

A row is one ``imshow`` of its channels tiled side by side (a blank column
between tiles), not one axes per channel: a figure with 40 small axes takes
seconds to draw, a row of tiles a few milliseconds. Rows whose values are all
>= 0 (after a ReLU) use a sequential colour map from 0; rows with negative
values (a residual branch, BatchNorm's output) a diverging one centred at 0,
so that sign and size can be read off.
"""
import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from mxnet import nd

from .checks import check_bool, check_int

__all__ = ['feature_map_grid', 'MAX_GROUPS', 'MAX_MAPS_PER_GROUP', 'MAX_MAP_SIDE']

MAX_GROUPS = 12          # DenseNet's dense block with 8 convolutions plus its input fits
MAX_MAPS_PER_GROUP = 32  # readable up to ~16; beyond that a tile is a few pixels wide
MAX_MAP_SIDE = 512       # the largest input the notebooks use is 224

SEQUENTIAL = 'viridis'
DIVERGING = 'RdBu_r'     # red positive, blue negative, white 0


def _as_maps(maps, label):
    """``maps`` as a float numpy array ``(k, H, W)``; a leading batch axis of 1 is dropped."""
    if isinstance(maps, nd.NDArray):
        maps = maps.asnumpy()
    maps = np.asarray(maps, dtype=np.float32)
    if maps.ndim == 4 and maps.shape[0] == 1:
        maps = maps[0]
    if maps.ndim == 2:
        maps = maps[None]
    if maps.ndim != 3:
        raise ValueError('“%s”的特征图应是形状为 (通道, 高, 宽) 的数组，收到的形状是 %s；'
                         '请传入一张图像在某一层的输出，例如 Y[0]。' % (label, maps.shape))
    check_int('“%s”的通道数' % label, maps.shape[0], 1, MAX_MAPS_PER_GROUP,
              why='一行最多画 %d 个通道，请先挑出其中几个。' % MAX_MAPS_PER_GROUP)
    for side in maps.shape[1:]:
        check_int('“%s”的高和宽' % label, side, 1, MAX_MAP_SIDE)
    if not np.isfinite(maps).all():
        raise ValueError('“%s”的特征图里有 NaN 或无穷大：网络的数值已经溢出，请重新训练'
                         '（例如减小学习率）后再看。' % label)
    return maps


def _tile(maps):
    """The ``k`` maps side by side, NaN (drawn blank) in a one-pixel column between them."""
    k, h, w = maps.shape
    gap = max(1, w // 8)
    row = np.full((h, k * w + (k - 1) * gap), np.nan, dtype=np.float32)
    for i, m in enumerate(maps):
        row[:, i * (w + gap): i * (w + gap) + w] = m
    return row, [i * (w + gap) + (w - 1) / 2 for i in range(k)]


def _limits(maps):
    """``(cmap name, vmin, vmax)`` for one group: see the module docstring."""
    lo, hi = float(maps.min()), float(maps.max())
    if lo < 0:
        bound = max(-lo, hi) or 1.0
        return DIVERGING, -bound, bound
    return SEQUENTIAL, 0.0, hi or 1.0


def feature_map_grid(groups, image=None, image_title='输入图像', title=None,
                     shared_scale=False):
    """One row per group of feature maps; returns a ``Figure``.

    ``groups``: a list of ``(label, maps)`` or ``(label, maps, channel_numbers)``;
    ``maps`` is ``(k, H, W)`` (numpy or NDArray, ``(1, k, H, W)`` too) and the
    tiles are captioned ``channel_numbers`` (default 0 .. k-1). ``image``: the
    input image (``(H, W)``, ``(1, H, W)`` or ``(1, 1, H, W)``), drawn in grey
    at the left. ``shared_scale``: one colour range for all rows (compare
    sizes across rows), otherwise each row has its own. Each row has a
    colour bar and its label above it.
    """
    if not isinstance(groups, (list, tuple)) or not groups:
        raise ValueError('groups 应是非空的列表，每一项是 (标签, 特征图) 或 (标签, 特征图, '
                         '通道编号)，收到的是 %r。' % (type(groups).__name__,))
    check_int('groups 的组数', len(groups), 1, MAX_GROUPS)
    shared_scale = check_bool('shared_scale', shared_scale)
    rows = []
    for group in groups:
        if not isinstance(group, (list, tuple)) or len(group) not in (2, 3):
            raise ValueError('groups 的每一项应是 (标签, 特征图) 或 (标签, 特征图, 通道编号)，'
                             '收到的是 %r。' % (group,))
        label, maps = str(group[0]), _as_maps(group[1], str(group[0]))
        numbers = list(group[2]) if len(group) == 3 and group[2] is not None \
            else list(range(len(maps)))
        if len(numbers) != len(maps):
            raise ValueError('“%s”有 %d 个特征图，却有 %d 个通道编号；请传入同样多的编号。'
                             % (label, len(maps), len(numbers)))
        rows.append((label, maps, numbers))
    if image is not None:
        image = np.asarray(image.asnumpy() if isinstance(image, nd.NDArray) else image,
                           dtype=np.float32).squeeze()
        if image.ndim != 2:
            raise ValueError('image 应是一张单通道图像（高, 宽），收到的形状是 %s。'
                             % (image.shape,))
    if shared_scale:
        bound = max(max(-float(m.min()), float(m.max())) for _, m, _ in rows) or 1.0

    widest = max(len(m) for _, m, _ in rows)
    title_lines = title.count('\n') + 1 if title else 0
    width = max(7.0, min(16.0, 2.2 + 0.9 * widest + (1.4 if image is not None else 0)))
    height = max(2.0, 0.6 + 1.15 * len(rows) + 0.3 * title_lines)
    fig = Figure(figsize=(width, height))
    grid = fig.add_gridspec(len(rows), 2 if image is not None else 1,
                            width_ratios=[1.4, 0.9 * widest + 0.8] if image is not None else None,
                            hspace=0.55, wspace=0.05)
    if image is not None:
        ax = fig.add_subplot(grid[:, 0])
        ax.imshow(image, cmap='gray', vmin=0, vmax=max(1.0, float(image.max())))
        ax.set_title(image_title, fontsize=9)
        ax.axis('off')
    for r, (label, maps, numbers) in enumerate(rows):
        ax = fig.add_subplot(grid[r, -1])
        tiles, centres = _tile(maps)
        if shared_scale:  # each row keeps its colour map, all share one size
            name, vmin, vmax = ((DIVERGING, -bound, bound) if maps.min() < 0
                                else (SEQUENTIAL, 0.0, bound))
        else:
            name, vmin, vmax = _limits(maps)
        cmap = colormaps[name].copy()
        cmap.set_bad('white')
        # Tiles keep square pixels; the row's width follows the number of tiles.
        im = ax.imshow(tiles, cmap=cmap, vmin=vmin, vmax=vmax, interpolation='nearest',
                       aspect='equal', extent=(-0.5, tiles.shape[1] - 0.5,
                                               tiles.shape[0] - 0.5, -0.5))
        ax.set_xlim(-0.5, max(tiles.shape[1], widest * (maps.shape[2] + 1)) - 0.5)
        ax.set_xticks(centres)
        ax.set_xticklabels(['通道 %d' % n for n in numbers], fontsize=7)
        ax.tick_params(length=0, pad=1)
        ax.set_yticks([])
        for side in ('top', 'right', 'bottom', 'left'):
            ax.spines[side].set_visible(False)
        ax.set_title(label, loc='left', fontsize=9, pad=3)
        bar = fig.colorbar(im, ax=ax, fraction=0.025, pad=0.01)
        bar.ax.tick_params(labelsize=7)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.subplots_adjust(left=0.02, right=0.97, bottom=0.3 / height,
                        top=1 - (0.3 + 0.3 * title_lines) / height)
    return fig
