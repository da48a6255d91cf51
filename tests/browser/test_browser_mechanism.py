"""The browser mechanism itself, on the suite's own notebooks (see
explorer_selftest.py): run all cells, detect a failing cell, find an
explorer, move a slider, pick from a drop-down, read the result, see the
explanatory sentence of an invalid value and recover from it."""
import pytest

from explorer_selftest import EXPLORER_NB, FAILING_NB


def test_failing_cell_is_detected(open_notebook):
    nb = open_notebook(FAILING_NB)
    cells = nb.run_all()
    errors = nb.error_outputs(cells)
    assert [i for i, _ in errors] == [1], cells
    assert 'RuntimeError' in errors[0][1] and 'fails on purpose' in errors[0][1]
    # Run All stops at the error: the last cell never ran.
    assert [i for i, _, _ in nb.unexecuted(cells)] == [2]
    nb.save()
    assert nb.saved_error_outputs() == [(1, 'RuntimeError: this cell fails on purpose')]


@pytest.fixture(scope='module')
def explorer_nb(open_notebook_for_module):
    """The self-test notebook, opened and run once for this module's tests."""
    nb = open_notebook_for_module(EXPLORER_NB)
    nb.cells_after_run = nb.run_all()
    return nb


def test_notebook_runs_cleanly(explorer_nb):
    cells = explorer_nb.cells_after_run
    assert explorer_nb.error_outputs(cells) == []  # the stderr warning is not an error
    assert explorer_nb.unexecuted(cells) == []
    assert explorer_nb.broken_widgets(cells) == []
    assert explorer_nb.explorers().count() == 3
    env = [o['text'] for c in cells for o in c['outputs'] if 'D2L_MODE=' in o['text']]
    assert env == ['D2L_MODE=smoke D2L_OFFLINE=1\n']


def test_slider_and_invalid_value(explorer_nb):
    nb = explorer_nb
    ex = nb.explorer(0)
    assert ex.labels() == ['n']
    st = ex.wait_settled()
    assert st['output'].strip() == 'twice n is 6' and st['error'] == ''
    assert not st['loading']

    st = ex.set('n', 20)
    assert st['output'].strip() == 'twice n is 40' and st['error'] == ''
    nb.screenshot('_selftest-explorer0', ex.locator)

    # An invalid value: the sentence, no traceback.
    st = ex.set('n', 21)
    assert st['error'] == 'n = 21 is a multiple of 7: pick another n.'
    assert 'Traceback' not in st['output']
    nb.screenshot('_selftest-explorer0-invalid', ex.locator)

    # ... and the explorer still works afterwards.
    st = ex.set('n', 22)
    assert st['output'].strip() == 'twice n is 44' and st['error'] == ''

    # Out of range: the readout clamps, arrow keys reach the end, not beyond.
    st = ex.set('n', 50)
    assert st['output'].strip() == 'twice n is 100'
    with pytest.raises(AssertionError, match='cannot be set'):
        ex.set('n', 51)


def test_figure_dropdown_and_invalid_combination(explorer_nb):
    nb = explorer_nb
    fig = nb.explorer(1)
    assert fig.labels() == ['slope', 'color']
    st0 = fig.wait_settled()
    assert len(st0['images']) == 1 and 'slope 1.0 in blue' in st0['output']
    st1 = fig.set('slope', -1.5)
    assert len(st1['images']) == 1 and st1['images'] != st0['images']
    assert 'slope -1.5 in blue' in st1['output']
    st2 = fig.set('color', 'red')
    assert st2['images'] != st1['images'] and 'slope -1.5 in red' in st2['output']
    st3 = fig.set('slope', 0)
    assert st3['error'].startswith('A flat red line is invisible')
    st4 = fig.set('color', 'blue')
    assert st4['error'] == '' and 'slope 0.0 in blue' in st4['output']
    assert len(st4['images']) == 1
    nb.screenshot('_selftest-explorer1', fig.locator)
    assert nb.error_outputs(nb.cells()) == []


def test_invalid_value_hides_the_previous_result(explorer_nb):
    """Under the red sentence the learner must not still see the result of
    the previous, valid value (Explorer clears its output on a ValueError)."""
    ex = explorer_nb.explorer(2)
    assert ex.set('n', 20)['output'].strip() == 'twice n is 40'
    st = ex.set('n', 21)
    assert st['error'] == 'n = 21 is a multiple of 7: pick another n.'
    assert st['output'].strip() == '', (
        'after a ValueError the explorer still shows the previous result %r under '
        'its message: in the browser, Output.clear_output(wait=True) only clears '
        'when the next output arrives, and an error sends none' % st['output'])
