"""Opening a notebook does not mark it modified; saving keeps its widgets.

JupyterLab writes the kernel's ``language_info`` and ``kernelspec`` into the
notebook when its kernel starts. The stored notebooks used to hold only
``{"name": "python"}``, so every notebook opened dirty and autosave rewrote
it. The notebooks are served here as ``make lab`` serves them: copies made by
``tools/lab.py`` with this machine's kernel metadata.
"""
import importlib.util
import json
import sys
import time

import pytest

import labdriver

_spec = importlib.util.spec_from_file_location('lab', labdriver.REPO_ROOT / 'tools' / 'lab.py')
lab = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(lab)

NAMES = [p.name for p in sorted(labdriver.NOTEBOOK_DIR.glob('*.ipynb'))]


@pytest.mark.parametrize('name', NAMES)
def test_opening_a_notebook_does_not_mark_it_modified(open_notebook, lab_server, name):
    copy = 'opened-' + name
    path = lab_server.root_dir / copy
    lab.copy_notebook(labdriver.NOTEBOOK_DIR / name, path, lab.kernel_metadata())
    before = path.read_bytes()
    nb = open_notebook(copy)  # returns once the kernel is idle
    tab = nb.page.locator('.lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current')
    deadline = time.time() + 5  # the metadata updates arrive with the kernel info
    while time.time() < deadline:
        assert 'jp-mod-dirty' not in (tab.first.get_attribute('class') or ''), (
            '%s was marked modified by opening it' % name)
        time.sleep(0.25)
    assert path.read_bytes() == before


@pytest.fixture
def lab_server_as_make_lab(tmp_path):
    """A server with the default settings make lab gives (tools/jupyter-config)."""
    root = tmp_path / 'root'
    root.mkdir()
    server = labdriver.LabServer(sys.executable, root, tmp_path,
                                 env={'JUPYTER_CONFIG_PATH': str(lab.LAB_CONFIG),
                                      'D2L_MODE': 'smoke', 'D2L_OFFLINE': '1'})
    try:
        yield server.start()
    finally:
        server.stop()


def test_a_saved_notebook_shows_its_widgets_when_opened_again(browser, lab_server_as_make_lab):
    """A learner saves after moving a slider and opens the notebook the next
    day (a new kernel): the widget's last view shows, not "Error displaying
    widget: model not found"."""
    server = lab_server_as_make_lab
    name = 'widgets.ipynb'
    (server.root_dir / name).write_text(json.dumps(labdriver.code_notebook(
        'import ipywidgets as w\nw.IntSlider(value=7, description="批量大小")'),
        indent=1, ensure_ascii=False))
    page = labdriver.NotebookPage(browser, server, name).open()
    try:
        page.run_all()
        page.save()
    finally:
        page.close()
        server.shutdown_kernels()
    saved = json.loads((server.root_dir / name).read_text())
    assert 'application/vnd.jupyter.widget-state+json' in saved['metadata'].get('widgets', {})
    again = labdriver.NotebookPage(browser, server, name).open()
    try:
        deadline = time.time() + 10
        while time.time() < deadline:
            text = ' '.join(o['text'] for c in again.cells() for o in c['outputs'])
            if '批量大小' in text:
                break
            time.sleep(0.25)
        assert '批量大小' in text and 'Error displaying widget' not in text, text
    finally:
        again.close()
