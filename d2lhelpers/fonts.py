"""One CJK font for every figure, from the project's own install.

Titles, axis labels and legends are Chinese. Matplotlib's own fonts (DejaVu)
have no CJK glyphs and every machine has other fonts, so the dependency
``noto-cjk-sans-otc`` provides one: Noto Sans CJK 2.004 (SIL Open Font
License). Its file is an OpenType *collection*, and matplotlib 3.7 reads only
the first face of a collection (Japanese, whose forms of some shared
characters differ from Chinese ones), so :func:`use_cjk_font` copies the
Simplified Chinese face into matplotlib's cache directory once (16 MB, well
under a second) and registers that file. ``import d2lhelpers`` calls it.
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
    """Make Noto Sans CJK SC matplotlib's font; return its family name (None if not installed).

    Also turns ``axes.unicode_minus`` off, so that negative tick labels use
    the ASCII hyphen-minus that every font has.
    """
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
