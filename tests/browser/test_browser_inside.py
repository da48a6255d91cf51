"""The "看一看训练好的网络" sections (01-04) in JupyterLab: after Run All Cells
(``D2L_MODE=smoke``), every explorer with a ``测试图像`` slider (a test image
picked by its number) redraws its figure when the slider moves to another
image, names that image in its text, shows no error sentence, and draws the
first image again when moved back.
"""
import re

import pytest

import labdriver

NOTEBOOKS = ['01_googlenet.ipynb', '02_batch_norm.ipynb', '03_resnet.ipynb',
             '04_densenet.ipynb']
IMAGE_SLIDER = '测试图像'


@pytest.mark.parametrize('name', NOTEBOOKS)
def test_moving_the_image_slider_redraws_the_feature_maps(open_notebook, name):
    nb = open_notebook(name)
    cells = nb.run_all()
    errors = nb.error_outputs(cells)
    assert not errors, '%s: cells show errors:\n%s' % (
        name, '\n\n'.join('cell %d:\n%s' % (i, text[-2000:]) for i, text in errors))
    assert not nb.unexecuted(cells), '%s: cells did not run: %s' % (name, nb.unexecuted(cells))

    pickers = [n for n in range(nb.explorers().count())
               if IMAGE_SLIDER in nb.explorer(n).labels()]
    assert pickers, '%s: no explorer has a %r slider' % (name, IMAGE_SLIDER)
    stem = name[:-len('.ipynb')]
    for n in pickers:
        ex = nb.explorer(n)
        what = '%s explorer #%d' % (stem, n)
        first = ex.wait_settled()
        assert first['error'] == '' and first['images'], '%s starts with %r' % (what, first)
        assert re.search(r'测试图像 #0：真实类别', first['output']), first['output'][:500]
        moved = ex.set(IMAGE_SLIDER, 7)
        assert moved['error'] == '', '%s: unexpected sentence %r' % (what, moved['error'])
        assert 'Traceback' not in moved['output'], moved['output']
        assert re.search(r'测试图像 #7：真实类别', moved['output']), moved['output'][:500]
        assert moved['images'] and moved['images'] != first['images'], (
            '%s: the figure was not redrawn (images %s -> %s)'
            % (what, first['images'], moved['images']))
        nb.screenshot('%s-inside-explorer%d' % (stem, n), ex.locator)
        back = ex.set(IMAGE_SLIDER, 0)
        assert back['error'] == '' and re.search(r'测试图像 #0：', back['output'])
        assert back['images'] != moved['images'], '%s: moving back did not redraw' % what
    errors = nb.error_outputs(nb.cells())
    assert not errors, '%s: errors after using the explorers:\n%s' % (name, errors)


def test_the_notebooks_are_there():
    assert all((labdriver.NOTEBOOK_DIR / name).is_file() for name in NOTEBOOKS)
