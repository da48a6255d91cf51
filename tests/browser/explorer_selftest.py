"""The suite's own notebooks, written into the temporary copy of notebooks/
only (never into the repository). They check the mechanism: that an
explorer built with ``d2lhelpers.widgets.Explorer`` renders and responds in
the browser, and that a failing cell is detected."""
import labdriver

EXPLORER_NB = '_browser_selftest_explorer.ipynb'
FAILING_NB = '_browser_selftest_failing.ipynb'

EXPLORER_CELLS = [
    '''import d2lhelpers
import ipywidgets as widgets
from d2lhelpers.widgets import Explorer


def double(n=3):
    if n % 7 == 0:
        raise ValueError('n = %d is a multiple of 7: pick another n.' % n)
    return 'twice n is %d' % (2 * n)


Explorer(double, n=widgets.IntSlider(3, 1, 50, description='n'))''',
    '''%matplotlib inline
import matplotlib.pyplot as plt


def line(slope=1.0, color='blue'):
    if slope == 0 and color == 'red':
        raise ValueError('A flat red line is invisible on this plot: change the slope or the colour.')
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1], [0, slope], color=color)
    ax.set_ylim(-2, 2)
    return fig, 'slope %.1f in %s' % (slope, color)


Explorer(line, slope=widgets.FloatSlider(value=1.0, min=-2.0, max=2.0, step=0.5, description='slope'),
         color=widgets.Dropdown(options=['blue', 'red'], value='blue', description='color'))''',
    # A warning on stderr is not an error.
    "import sys\nprint('only a warning', file=sys.stderr)",
    # The kernel got the server's environment.
    "import os\nprint('D2L_MODE=%s D2L_OFFLINE=%s' % (os.environ.get('D2L_MODE'), os.environ.get('D2L_OFFLINE')))",
    # A second explorer of the same function, for the stale-result check.
    "Explorer(double, n=widgets.IntSlider(3, 1, 50, description='n'))",
]

FAILING_CELLS = [
    "print('before')",
    "raise RuntimeError('this cell fails on purpose')",
    "print('never runs')",
]

SELFTEST_NOTEBOOKS = {
    EXPLORER_NB: labdriver.code_notebook(*EXPLORER_CELLS),
    FAILING_NB: labdriver.code_notebook(*FAILING_CELLS),
}
