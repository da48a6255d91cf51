"""d2lhelpers.widgets.Explorer, driven from Python without a browser or kernel."""
import matplotlib
matplotlib.use('Agg')

import ipywidgets as widgets
import matplotlib.pyplot as plt
import pandas as pd
import pytest

from d2lhelpers.widgets import ERROR_CLASS, Explorer, ExplorerResult


def table(c1=1, c2=2):
    if c1 <= 0:
        raise ValueError('c1 must be positive <here>')
    return pd.DataFrame({'c1': [c1], 'sum': [c1 + c2]})


def make():
    return Explorer(table, c1=widgets.IntSlider(value=3, min=-5, max=10),
                    c2=widgets.IntSlider(value=4, min=0, max=10))


def test_computes_at_creation_and_on_change():
    ex = make()
    assert ex.values() == {'c1': 3, 'c2': 4}
    assert ex.result['sum'][0] == 7 and ex.error is None
    ex.controls['c2'].value = 9
    assert ex.result['sum'][0] == 12
    assert ex.update() is ex.result


def test_sliders_do_not_update_continuously():
    ex = make()
    assert all(c.continuous_update is False for c in ex.controls.values())
    assert ex.controls['c1'].description == 'c1'


def test_value_error_is_a_message_and_the_explorer_recovers(capsys):
    ex = make()
    ex.controls['c1'].value = -1
    assert ex.error == 'c1 must be positive <here>'
    assert ex.result is None
    assert 'c1 must be positive &lt;here&gt;' in ex.message.value
    assert 'Traceback' not in ex.message.value
    assert ERROR_CLASS in ex.message._dom_classes
    assert ex.message.layout.display != 'none'
    assert 'Traceback' not in capsys.readouterr().out
    ex.controls['c1'].value = 2
    assert ex.error is None and ex.message.value == ''
    assert ex.message.layout.display == 'none'
    assert ex.result['sum'][0] == 6


def test_other_exceptions_propagate():
    def broken(n=1):
        if n > 1:
            raise TypeError('a bug')
        return 'fine'

    ex = Explorer(broken, n=widgets.IntSlider(value=1, max=3))
    assert ex.result == 'fine'
    with pytest.raises(TypeError, match='a bug'):
        ex.controls['n'].value = 2
    with pytest.raises(TypeError):
        Explorer(broken, n=widgets.IntSlider(value=2, max=3))


def test_figures_tuples_and_fixed_values():
    def plot(k=1, label='x'):
        fig, ax = plt.subplots()
        ax.plot([0, k])
        return fig, 'k = %d (%s)' % (k, label)

    before = len(plt.get_fignums())
    ex = Explorer(plot, k=widgets.IntSlider(value=2, max=5),
                 label=widgets.fixed('y'))
    assert list(ex.controls) == ['k']
    fig, text = ex.result
    assert text == 'k = 2 (y)'
    assert len(plt.get_fignums()) == before  # closed after being shown
    ex.set(k=4)
    assert ex.result[1] == 'k = 4 (y)'


def test_set_changes_several_controls_with_one_call():
    calls = []

    def f(a=0, b=0):
        calls.append((a, b))
        return a + b

    ex = Explorer(f, a=widgets.IntSlider(0), b=widgets.Dropdown(options=[0, 1, 2]))
    ex.set(a=5, b=2)
    assert calls == [(0, 0), (5, 2)] and ex.result == 7
    with pytest.raises(KeyError):
        ex.set(z=1)


def test_displays_as_its_widget():
    ex = make()
    assert isinstance(ex.widget, widgets.VBox)
    assert ex.message in ex.widget.children and ex.output in ex.widget.children
    bundle = ex._repr_mimebundle_()
    assert bundle['application/vnd.jupyter.widget-view+json']['model_id'] == \
        ex.widget.model_id
    assert bundle['text/plain'] == 'Explorer(table: c1, c2)'


def test_controls_must_be_widgets():
    with pytest.raises(TypeError, match='c1'):
        Explorer(table, c1=3)
    with pytest.raises(TypeError, match='不要加括号'):
        Explorer(table(), c1=widgets.IntSlider(1))


def test_explorer_result_is_shown_in_a_fixed_order(capsys):
    from matplotlib.figure import Figure
    fig, drawing = Figure(figsize=(0, 0)), Figure(figsize=(0, 0))
    fig.add_subplot().set_title('份额')
    frame = pd.DataFrame({'通道数': [3]})

    def f(n=1):
        return ExplorerResult(diagram=drawing, figure=fig, table=frame, text='n = %d' % n)

    ex = Explorer(f, n=widgets.IntSlider(1, 0, 3))
    assert ex.result.parts() == [ex.result.text, frame, fig, drawing]
    assert ExplorerResult(text='t', diagram=drawing).parts() == ['t', drawing]
    # without a kernel the Output widget lets everything through to stdout
    assert capsys.readouterr().out.split('\n') == [
        'n = 1', '   通道数', '0    3', 'Figure(0x0)', 'Figure(0x0)', '']
    assert repr(ex.result) == 'n = 1\n   通道数\n0    3\n[图：份额]\n[图：无标题]'
