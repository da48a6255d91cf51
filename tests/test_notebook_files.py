"""The committed notebooks are stored the way Jupyter saves them, so that
opening one does not mark it modified and saving it unchanged writes the same
bytes (``git status`` stays clean, nbval keeps passing).

JupyterLab writes the kernel's ``language_info`` and ``kernelspec`` into a
notebook when the kernel starts; a stored notebook that differs (the old
``{"name": "python"}``) was marked modified as soon as it was opened, and
autosave then rewrote it. ``tools/store_outputs.py`` stores both as the kernel
reports them; ``make lab`` gives the learner's copies this machine's exact
values (tests/test_lab.py).
"""
import platform
from pathlib import Path

import nbformat
import pytest
from ipykernel.ipkernel import IPythonKernel

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / 'notebooks').glob('*.ipynb'))


@pytest.fixture(params=NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def notebook(request):
    text = request.param.read_text(encoding='utf-8')
    return text, nbformat.reads(text, as_version=4)


def test_notebooks_are_there():
    assert len(NOTEBOOKS) >= 6


def test_saving_unchanged_writes_the_same_bytes(notebook):
    text, nb = notebook
    assert nbformat.writes(nb) + '\n' == text  # what Jupyter's contents manager writes


def test_current_format_with_cell_ids(notebook):
    _, nb = notebook
    nbformat.validate(nb)
    assert (nb.nbformat, nb.nbformat_minor) == (4, nbformat.current_nbformat_minor)
    ids = [cell.get('id') for cell in nb.cells]
    assert all(ids) and len(set(ids)) == len(ids), 'cells need unique ids'


def test_kernel_metadata_is_what_the_kernel_reports(notebook):
    _, nb = notebook
    stored = dict(nb.metadata.language_info)
    expected = dict(IPythonKernel.language_info)
    # The patch version differs between machines; make lab's copies get this one.
    assert stored.pop('version').split('.')[:2] == platform.python_version().split('.')[:2]
    expected.pop('version')
    assert stored == expected
    assert nb.metadata.kernelspec == {'display_name': 'Python 3 (ipykernel)',
                                      'language': 'python', 'name': 'python3'}
    assert 'widgets' not in nb.metadata  # no stale widget state to show
