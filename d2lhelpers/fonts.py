"""One CJK font for every figure: Noto Sans CJK (SIL OFL) from the dependency
``noto-cjk-sans-otc``. Matplotlib 3.7 reads only the first (Japanese) face of
its collection, so :func:`use_cjk_font` (run on ``import d2lhelpers``) copies
the Simplified Chinese face into matplotlib's cache once (16 MB, under 1 s).
"""
import os
import tempfile
import warnings
from pathlib import Path

import matplotlib
from matplotlib import font_manager

FAMILY = 'Noto Sans CJK SC'
_SC_FACE = 2  # the collection holds JP, KR, SC, TC, HK, then the Mono faces


def _sc_face(collection):
    """The Simplified Chinese face of ``collection`` as a file of its own (cached)."""
    target = Path(matplotlib.get_cachedir()) / (
        'NotoSansCJKsc-Regular-%d.otf' % collection.stat().st_size)
    if not target.is_file():
        from fontTools.ttLib import TTCollection  # a matplotlib dependency
        fd, tmp = tempfile.mkstemp(dir=target.parent, suffix='.part')
        os.close(fd)
        try:
            with TTCollection(str(collection), lazy=True) as fonts:
                fonts[_SC_FACE].save(tmp)
            os.replace(tmp, target)  # atomic: concurrent kernels may do the same
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return target


def use_cjk_font():
    """Make Noto Sans CJK SC matplotlib's font and return its family (None if not
    installed); ``axes.unicode_minus`` off: ticks use the ASCII minus."""
    try:
        from noto_cjk_sans_otc import FONT_PATH
    except ImportError:
        warnings.warn('没有安装中文字体包 noto-cjk-sans-otc，图中的中文会显示成方框；请运行 '
                      'pip install noto-cjk-sans-otc（make lab 和 make test 会自动安装）。',
                      stacklevel=2)
        return None
    collection = Path(str(FONT_PATH))
    try:
        path, family = _sc_face(collection), FAMILY
    except OSError:  # no writable cache: the first face still has every glyph
        path, family = collection, 'Noto Sans CJK JP'
    font_manager.fontManager.addfont(str(path))
    rc = matplotlib.rcParams
    rc['font.family'] = 'sans-serif'
    rc['font.sans-serif'] = [family] + [f for f in rc['font.sans-serif'] if f != family]
    rc['axes.unicode_minus'] = False
    return family
