"""Session fixtures of the browser suite: one jupyter server, one Chromium.

Without Playwright or Chromium the browser tests are skipped with a sentence
saying how to install them, except under CI (``CI=true``), where that is a
failure: CI must exercise the notebooks in a real browser.
"""
import sys

import pytest

import labdriver


def _require_browser():
    reason = labdriver.browser_unavailable_reason()
    if reason is None:
        return
    if labdriver.in_ci():
        pytest.fail('CI=true and ' + reason[0].lower() + reason[1:], pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope='session')
def lab_server(tmp_path_factory):
    """``jupyter lab`` (this venv's, ``sys.executable -m jupyterlab``) on
    127.0.0.1, a free port and a random token, serving a temporary copy of
    notebooks/ plus the suite's own test notebooks. Kernels get the smoke
    training setting and never touch the network."""
    _require_browser()
    from explorer_selftest import SELFTEST_NOTEBOOKS
    tmp = tmp_path_factory.mktemp('lab')
    root = labdriver.make_lab_tree(tmp, SELFTEST_NOTEBOOKS)
    server = labdriver.LabServer(sys.executable, root, tmp,
                                 env={'D2L_MODE': 'smoke', 'D2L_OFFLINE': '1'})
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope='session')
def browser():
    _require_browser()
    from playwright.sync_api import sync_playwright
    pw = sync_playwright().start()
    try:
        b = labdriver.launch_browser(pw)
        try:
            yield b
        finally:
            b.close()
    finally:
        pw.stop()


class _Pages:
    """Pages opened by a test; closing them also shuts their kernels down."""

    def __init__(self, browser, server):
        self.browser, self.server, self.pages = browser, server, []

    def open(self, name):
        nb = labdriver.NotebookPage(self.browser, self.server, name)
        self.pages.append(nb)
        return nb.open()

    def close(self, failed_name=None):
        for nb in self.pages:
            if failed_name:
                name = 'FAILED-' + failed_name.replace('/', '_')
                try:
                    nb.screenshot(name)
                    if nb.console_errors:
                        (labdriver.SCREENSHOTS / (name + '.console.txt')).write_text(
                            '\n'.join(nb.console_errors))
                except Exception:
                    pass
            nb.close()
        try:
            self.server.shutdown_kernels([nb.name for nb in self.pages])
        except Exception:
            pass


@pytest.fixture
def open_notebook(browser, lab_server, request):
    """``open_notebook(name)`` opens ``name`` in a fresh browser context. At
    the end of the test the page is closed and its kernel shut down; a
    failing test leaves a screenshot ``FAILED-<test>.png``."""
    pages = _Pages(browser, lab_server)
    yield pages.open
    rep = getattr(request.node, 'rep_call', None)
    pages.close(request.node.name if rep is not None and rep.failed else None)


@pytest.fixture(scope='module')
def open_notebook_for_module(browser, lab_server):
    """Like ``open_notebook``, for one notebook shared by a module's tests."""
    pages = _Pages(browser, lab_server)
    yield pages.open
    pages.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    rep = yield
    if rep.when == 'call':
        item.rep_call = rep
    return rep
