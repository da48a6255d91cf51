"""One mechanism behind every explorer: a plain function named
``<thing>_explorer`` that checks its plain values with :mod:`d2lhelpers.checks`
before allocating and returns an :class:`ExplorerResult`, plus controls::

    def ratio_explorer(c1=64, c2=128):
        c1 = check_int('c1', c1, 1, 1024)
        ...
        return ExplorerResult(text='...', table=table)

    Explorer(ratio_explorer, c1=widgets.IntSlider(64, 1, 256),
             c2=widgets.IntSlider(128, 1, 256))

The function runs at creation and whenever a control changes (sliders report
on release). Its ``ValueError`` is shown as one sentence in a red box instead
of a traceback; any other exception is a bug and shows its traceback. The
tests drive explorers without a browser (``.controls``, ``.values()``,
``.result``, ``.error``, ``.update()``).
"""
import dataclasses
import html

import ipywidgets as widgets
from IPython import get_ipython
from IPython.display import display
from matplotlib.figure import Figure

__all__ = ['Explorer', 'ExplorerResult']

ERROR_CLASS = 'd2l-explorer-error'
ERROR_STYLE = ('color:#a4161a;background:#fdecea;border-left:4px solid #a4161a;'
               'padding:6px 10px;margin:4px 0;font-size:14px;')


@dataclasses.dataclass
class ExplorerResult:
    """What every explorer returns, shown in this order, any part None: ``text``
    (printed), ``table`` (DataFrame), ``figure`` (a chart), ``diagram``."""
    text: str = None
    table: object = None
    figure: Figure = None
    diagram: Figure = None

    def parts(self):
        """The parts that are not None, in display order."""
        return [p for p in (self.text, self.table, self.figure, self.diagram)
                if p is not None]

    def __repr__(self):
        shown = [self.text] if self.text is not None else []
        if self.table is not None:
            shown.append(self.table.to_string())
        for fig in (self.figure, self.diagram):
            if fig is not None:
                titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
                shown.append('[图：%s]' % ('；'.join(titles) or '无标题'))
        return '\n'.join(shown)


def _show(item):
    if item is None:
        return
    if isinstance(item, str):
        print(item)
        return
    display(item)
    if isinstance(item, Figure):
        import matplotlib.pyplot as plt
        plt.close(item)  # otherwise the inline backend shows it a second time


class Explorer:
    """Recompute ``func(**values of controls)`` whenever a control changes.

    ``func`` returns an :class:`ExplorerResult` (anything else displayable, or
    a tuple of such, is shown as it is). ``controls``: one ipywidgets control
    or ``ipywidgets.fixed(value)`` per keyword of ``func``; a control without
    description gets the keyword's name, ``continuous_update`` is turned off.
    ``.result`` is ``func``'s last value and ``.error`` the last ValueError's
    message (each None otherwise); ``.widget`` is what an Explorer displays.
    """

    def __init__(self, func, **controls):
        if not callable(func):
            raise TypeError('func 应是一个函数，收到的是 %s；请传入探索器函数本身'
                            '（不要加括号调用它）。' % type(func).__name__)
        self.func, self.controls, self._fixed = func, {}, {}
        for name, control in controls.items():
            if isinstance(control, widgets.fixed):
                self._fixed[name] = control
            elif isinstance(control, widgets.Widget) and control.has_trait('value'):
                self.controls[name] = control
            else:
                raise TypeError(
                    '控件 %r 应是带 value 的 ipywidgets 控件或 ipywidgets.fixed(...)，'
                    '收到的是 %s。' % (name, type(control).__name__))
        for name, control in self.controls.items():
            if control.has_trait('continuous_update'):
                control.continuous_update = False
            if control.has_trait('description') and not control.description:
                control.description = name
            if control.has_trait('style') and hasattr(control.style, 'description_width'):
                control.style.description_width = 'initial'

        self.result = self.error = None
        self._paused = False
        self._shown = False  # whether the output area holds anything to clear
        self.message = widgets.HTML(value='', layout=widgets.Layout(display='none'))
        self.message.add_class(ERROR_CLASS)
        self.output = widgets.Output()
        box = widgets.Box(list(self.controls.values()),
                          layout=widgets.Layout(flex_flow='row wrap',
                                                align_items='center'))
        self.widget = widgets.VBox([box, self.message, self.output])
        self.widget.add_class('d2l-explorer')

        self.update()  # errors other than ValueError surface in the cell
        for control in self.controls.values():
            control.observe(self._on_change, names='value')

    # -- computation ---------------------------------------------------
    def values(self):
        """The keyword arguments ``func`` gets now (a dict)."""
        vals = {name: f.value for name, f in self._fixed.items()}
        vals.update({name: c.value for name, c in self.controls.items()})
        return vals

    def update(self):
        """Call ``func`` with the current values, show and return its result
        (None after a ValueError, shown in the red box and kept in ``.error``)."""
        self.result = self.error = None
        try:
            result = self.func(**self.values())
        except ValueError as err:
            self.error = str(err)
            self._clear(wait=False)  # nothing follows an error: clear now
            self.message.value = '<div class="%s" style="%s">%s</div>' % (
                ERROR_CLASS, ERROR_STYLE, html.escape(self.error))
            self.message.layout.display = None
            return None
        except Exception:
            self._hide_message()
            self._clear()
            raise
        self.result = result
        self._hide_message()
        self._clear()
        if isinstance(result, ExplorerResult):
            items = result.parts()
        else:
            items = result if isinstance(result, (tuple, list)) else (result,)
        with self.output:
            for item in items:
                _show(item)
        self._shown = any(item is not None for item in items)
        return result

    def set(self, **values):
        """Change several controls at once and recompute only once."""
        unknown = set(values) - set(self.controls)
        if unknown:
            raise KeyError('没有名为 %s 的控件；已有的控件：%s。'
                           % ('、'.join(sorted(unknown)), '、'.join(self.controls)))
        self._paused = True
        try:
            for name, value in values.items():
                self.controls[name].value = value
        finally:
            self._paused = False
        return self.update()

    def _on_change(self, change):
        if self._paused:
            return
        # In a kernel the Output widget shows the traceback of an unexpected
        # exception (the comm handler would only log it); elsewhere it propagates.
        with self.output:
            self.update()

    def _hide_message(self):
        self.message.value = ''
        self.message.layout.display = 'none'

    def _clear(self, wait=True):
        # Nothing shown yet (the first render): send no clear_output, which
        # nbval and tools/store_outputs.py would see among the cell's messages.
        if not self._shown:
            return
        self._shown = False
        if get_ipython() is not None:
            self.output.clear_output(wait=wait)
        else:
            self.output.outputs = ()

    # -- display ---------------------------------------------------------
    def _repr_mimebundle_(self, **kwargs):
        data = self.widget._repr_mimebundle_(**kwargs)
        if isinstance(data, tuple):
            data = data[0]
        data = dict(data or {})
        data['text/plain'] = repr(self)  # deterministic, unlike widget ids
        return data

    def __repr__(self):
        name = getattr(self.func, '__name__', type(self.func).__name__)
        return 'Explorer(%s: %s)' % (name, ', '.join(self.controls) or 'no controls')
