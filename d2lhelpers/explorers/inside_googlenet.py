"""GoogLeNet, trained: what the four paths of an Inception block compute on one
test image, and how the block's output energy (sum of squares) splits among
them. Blocks are found by their children (``p1_1`` ... ``p4_2``) through
:func:`d2lhelpers.explorers.googlenet.inception_blocks`.
"""
import numpy as np
import pandas as pd

from .googlenet import PATH_LAYERS, PATH_NAMES, inception_blocks
from .inside import capture, channel_range, check_shown, check_trained
from ..checks import check_choice
from ..featuremaps import feature_map_grid
from ..widgets import ExplorerResult

__all__ = ['energy_shares', 'inception_path_outputs', 'inception_maps_explorer']


def energy_shares(paths):
    """Each path's share of the total sum of squares of ``paths`` (arrays), as a
    numpy array summing to 1; NaN for all paths when every value is 0."""
    energies = np.array([float(np.square(np.asarray(p, dtype=np.float64)).sum())
                         for p in paths])
    total = energies.sum()
    if total == 0:
        return np.full(len(energies), np.nan)
    return energies / total


def _record_paths(blocks):
    """A ``record(net, X)`` for :meth:`TrainedNet.recorded`: every block's four path outputs."""
    last_layers = {'%s/%s' % (name, layers[-1]): getattr(blk, layers[-1])
                   for name, blk in blocks for layers in PATH_LAYERS}

    def record(net, X):
        out, seen = capture(net, X, last_layers)
        return {key: output[0] for key, (_, output) in seen.items()}
    return record


def inception_path_outputs(trained, index, block):
    """The outputs ``(c_i, H, W)`` of the four paths of Inception block
    ``block`` ('b3.1', ...) on test image ``index``, and the image ``(C, H, W)``."""
    check_trained(trained)
    blocks = inception_blocks(trained.net)
    if not blocks:
        raise ValueError('这个网络里没有 Inception 块（有子层 p1_1 … p4_2 的块）；'
                         '请传入训练好的 GoogLeNet。')
    names = [name for name, _ in blocks]
    check_choice('block', block, names)
    index = trained.check_index(index)
    seen = trained.refresh().recorded(index, 'inception paths', _record_paths(blocks))
    missing = [layers[-1] for layers in PATH_LAYERS if '%s/%s' % (block, layers[-1]) not in seen]
    if missing:
        raise ValueError('Inception 块 %s 的 %s 在前向计算中没有被调用；请检查块的 forward。'
                         % (block, '、'.join(missing)))
    return [seen['%s/%s' % (block, layers[-1])] for layers in PATH_LAYERS], seen['image']


def inception_maps_explorer(trained, index=0, block='b3.1', channels=6, first_channel=0):
    """Feature maps of the four paths of one Inception block on test image
    ``index`` (channels ``first_channel`` ... ``+ channels - 1`` of each path,
    one colour scale for all), each path's share of the block's output
    energy: ``figure``, ``table`` (per path) and ``text``."""
    channels, first_channel = check_shown(channels, first_channel)
    paths, image = inception_path_outputs(trained, index, block)
    widths = [len(p) for p in paths]
    shown = channel_range(widths, channels, first_channel, 'Inception 块 %s 的四条线路' % block)
    shares = energy_shares(paths)
    groups = []
    for name, maps, share in zip(PATH_NAMES, paths, shares):
        picked = [c for c in shown if c < len(maps)]
        groups.append(('%s：%d 个通道，能量占 %.1f%%' % (name, len(maps), 100 * share),
                       maps[picked], picked))
    title = '%s\nInception 块 %s 四条线路的特征图（%d×%d）' % (
        trained.describe(index), block, paths[0].shape[1], paths[0].shape[2])
    figure = feature_map_grid(groups, image=image, shared_scale=True, title=title)
    table = pd.DataFrame({
        '输出通道数': widths,
        '通道占比': ['%.1f%%' % (100 * w / sum(widths)) for w in widths],
        '能量占比': ['%.1f%%' % (100 * s) for s in shares],
        '平均每个通道的能量': [float(np.square(p.astype(np.float64)).sum()) / len(p)
                         for p in paths],
        '取值为 0 的比例': ['%.0f%%' % (100 * (p == 0).mean()) for p in paths],
    }, index=pd.Index(PATH_NAMES, name='线路'))
    if np.isnan(shares).any():
        text = '%s。块 %s 在这张图像上的输出全是 0（每条线路末尾的 ReLU 都截掉了）。' % (
            trained.describe(index), block)
    else:
        most = int(np.argmax(shares))
        ratio = shares / (np.array(widths) / sum(widths))
        text = ('%s。块 %s 的输出能量（平方和）里，“%s”占得最多（%.1f%%）；能量占比除以通道占比：%s'
                '（大于 1 的线路在这张图像上比它的通道数“更响”）。' % (
                    trained.describe(index), block, PATH_NAMES[most], 100 * shares[most],
                    '、'.join('线路 %d %.2f' % (k + 1, r) for k, r in enumerate(ratio))))
    return ExplorerResult(text=text, table=table, figure=figure)
