"""Figures draw Chinese with the project's own font, on a fresh machine, without a warning."""
import os
import subprocess
import sys

import matplotlib

import d2lhelpers
from d2lhelpers import fonts

# A Chinese figure with everything a notebook figure has: title, axis labels,
# legend, negative ticks, a minus sign in text, a log axis (mathtext ticks).
FIGURE = r'''
import logging
logging.basicConfig(level=logging.WARNING)  # findfont complains through logging
import matplotlib
matplotlib.use('Agg')
import d2lhelpers                        # chooses the font
import warnings
warnings.simplefilter('error')           # a missing glyph is a UserWarning
import matplotlib.pyplot as plt
from matplotlib import font_manager
fig, (a, b) = plt.subplots(1, 2)
a.plot([-2, -1, 0, 1], [-1.5, 0, 0.5, 1], label='训练损失')
a.plot([-2, 1], [1, -1], label='测试准确率 −0.5')
a.set_title('批量归一化：残差块与稠密块'); a.set_xlabel('迭代周期'); a.set_ylabel('学习率')
a.legend(title='图例')
b.loglog([1, 10, 100], [1e-3, 1e-1, 10]); b.set_title('参数数量（对数坐标）')
fig.suptitle('输出形状，乘加次数')
fig.savefig('figure.png')
print(font_manager.findfont(a.title.get_fontproperties()))
'''


def test_a_chinese_figure_renders_on_a_fresh_machine_without_font_warnings(tmp_path):
    # A fresh matplotlib configuration and cache: nothing from this machine's
    # ~/.cache/matplotlib (a stale font list there broke nbval once).
    env = dict(os.environ, MPLCONFIGDIR=str(tmp_path / 'mpl'))
    env.pop('MPLBACKEND', None)
    out = subprocess.run([sys.executable, '-c', FIGURE], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert 'findfont' not in out.stderr, out.stderr[-3000:]
    assert 'missing from' not in out.stderr, out.stderr[-3000:]
    assert out.stderr.strip() == '', out.stderr[-3000:]
    font = out.stdout.strip().splitlines()[-1]
    assert font.startswith(str(tmp_path / 'mpl')) and 'NotoSansCJKsc' in font
    assert (tmp_path / 'figure.png').stat().st_size > 0


def test_the_font_is_chosen_once_at_import():
    assert d2lhelpers.CJK_FONT == fonts.FAMILY == 'Noto Sans CJK SC'
    assert matplotlib.rcParams['font.sans-serif'][0] == fonts.FAMILY
    assert matplotlib.rcParams['axes.unicode_minus'] is False
    assert fonts.use_cjk_font() == fonts.FAMILY  # again: same answer, cached file


def test_without_a_writable_cache_the_collection_still_draws_chinese(monkeypatch, tmp_path):
    def no_cache(collection):
        raise PermissionError(13, 'Permission denied')
    monkeypatch.setattr(fonts, '_sc_face', no_cache)
    saved = dict(matplotlib.rcParams)
    try:
        assert fonts.use_cjk_font() == 'Noto Sans CJK JP'
    finally:
        matplotlib.rcParams.update(saved)
