"""Drive JupyterLab in headless Chromium: the helpers behind tests/browser.

* :class:`LabServer` starts ``jupyter lab`` (loopback, free port, random
  token) in its own process group and kills the whole group on ``stop()``.
* :class:`NotebookPage` opens a notebook in a Playwright page, runs all cells
  through the menu a learner uses (Run > Run All Cells), waits for the kernel
  and reports error outputs and widgets that did not render.
* :class:`ExplorerDriver` finds the N-th ``d2lhelpers.widgets.Explorer``
  (``.d2l-explorer``), sets one of its controls by its description label the
  way a learner would (typing into a slider's readout, pressing arrow keys on
  its handle, filling a text box, choosing in a drop-down), waits until the
  kernel answered and reads what the explorer shows.

Nothing here imports playwright at module level, so the suite can still be
collected (and skipped with an explanation) where it is not installed.
"""
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = REPO_ROOT / 'notebooks'
ARTIFACTS = REPO_ROOT / 'test-artifacts'
SCREENSHOTS = ARTIFACTS / 'screenshots'

# Without the background-networking flags Chromium tries to reach Google
# services at start-up and this closed network refuses the connections.
CHROMIUM_FLAGS = [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update',
    '--disable-sync',
]
DEFAULT_CHROMIUM = '/usr/bin/chromium'
INSTALL_HINT = ('Install it with `apt-get install chromium` (Debian/Ubuntu; the '
                'browser tests use /usr/bin/chromium, or the path in $D2L_CHROMIUM) '
                'and `pip install playwright` (never `playwright install`: the '
                'system Chromium is used, nothing is downloaded).')

# Seconds; every wait is bounded so a hung kernel fails the test instead of CI.
RUN_ALL_TIMEOUT = float(os.environ.get('D2L_BROWSER_RUN_TIMEOUT', 300))
KERNEL_START_TIMEOUT = 90
EXPLORER_TIMEOUT = 60

TRACEBACK_RE = re.compile(
    r'Traceback \(most recent call last\)'
    r'|^\s*Cell In\[\d+\], line \d+'
    r'|^\s*File "[^"]+", line \d+'
    r'|^\w*(Error|Exception|Interrupt)\b.*$', re.M)


def in_ci():
    return os.environ.get('CI', '').strip().lower() in ('1', 'true', 'yes')


def chromium_executable():
    return os.environ.get('D2L_CHROMIUM') or DEFAULT_CHROMIUM


def browser_unavailable_reason():
    """None if Playwright and Chromium are usable, else a sentence saying why
    and how to install them."""
    missing = []
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append('Playwright for Python is not installed')
    exe = chromium_executable()
    if not (os.path.isfile(exe) and os.access(exe, os.X_OK)):
        missing.append('no Chromium at %s' % exe)
    if not missing:
        return None
    return ('Browser tests need a headless Chromium driven by Playwright, but %s. %s'
            % (' and '.join(missing), INSTALL_HINT))


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def kill_process_group(proc, grace=10):
    """SIGTERM the process group of ``proc`` (started with
    ``start_new_session=True``), then SIGKILL whatever is left, including
    descendants in other groups (jupyter starts each kernel in its own session)."""
    if proc is None:
        return
    try:
        import psutil
        descendants = psutil.Process(proc.pid).children(recursive=True)
    except Exception:  # already gone, or no psutil
        descendants = []
    try:
        _kill_group(proc, grace)
    finally:
        for child in descendants:
            try:
                child.kill()
            except Exception:
                pass


def _kill_group(proc, grace):
    try:
        pgid = os.getpgid(proc.pid)
    except ProcessLookupError:
        pgid = proc.pid
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5)):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
        # The leader is gone; children (kernels) may still be in the group.
        deadline = time.time() + wait
        while time.time() < deadline:
            try:
                os.killpg(pgid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass


def http(url, headers=None, method='GET', timeout=10):
    """``(status, headers, body)`` without following redirects."""
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None
    opener = urllib.request.build_opener(NoRedirect)
    req = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with opener.open(req, timeout=timeout) as resp:
            return resp.status, dict(resp.headers), resp.read().decode('utf-8', 'replace')
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read().decode('utf-8', 'replace')


def make_lab_tree(tmp, extra_notebooks=None):
    """A temporary copy of notebooks/ for the browser to run (and modify).

    Returns ``tmp/checkout/notebooks``. The other top-level entries of the
    repository are symlinked next to it, so a notebook that refers to
    ``../data`` or imports from the repository sees the same files. The
    committed notebooks are never opened by the server.
    """
    checkout = Path(tmp) / 'checkout'
    checkout.mkdir(parents=True)
    for entry in REPO_ROOT.iterdir():
        if entry.name in ('notebooks', '.git', '.venv', 'test-artifacts'):
            continue
        (checkout / entry.name).symlink_to(entry)
    root = checkout / 'notebooks'
    shutil.copytree(NOTEBOOK_DIR, root,
                    ignore=shutil.ignore_patterns('.ipynb_checkpoints', '__pycache__'))
    for name, nb in (extra_notebooks or {}).items():
        (root / name).write_text(json.dumps(nb, indent=1, ensure_ascii=False))
    return root


def code_notebook(*sources):
    """A minimal nbformat-4 notebook with one code cell per source string."""
    return {
        'cells': [{'cell_type': 'code', 'execution_count': None, 'id': 'cell%d' % i,
                   'metadata': {}, 'outputs': [], 'source': src}
                  for i, src in enumerate(sources)],
        'metadata': {'kernelspec': {'display_name': 'Python 3 (ipykernel)',
                                    'language': 'python', 'name': 'python3'},
                     'language_info': {'name': 'python'}},
        'nbformat': 4, 'nbformat_minor': 5,
    }


# Settings for the test server only (its own JUPYTER_CONFIG_DIR): no "get
# notified about Jupyter news?" toast over the notebook.
LAB_USER_SETTINGS = {
    '@jupyterlab/apputils-extension/notification.jupyterlab-settings':
        {'fetchNews': 'false', 'checkForUpdates': False},
}


class LabServer:
    """``python -m jupyterlab`` on 127.0.0.1:<free port> with a random token."""

    def __init__(self, python, root_dir, workdir, env=None):
        self.python = python
        self.root_dir = Path(root_dir)
        self.workdir = Path(workdir)
        self.port = free_port()
        self.token = os.urandom(24).hex()
        self.extra_env = dict(env or {})
        self.proc = None
        self.log_path = self.workdir / 'jupyter-lab.log'

    @property
    def base_url(self):
        return 'http://127.0.0.1:%d' % self.port

    def command(self):
        cmd = [self.python, '-m', 'jupyterlab', '--no-browser',
               '--ServerApp.ip=127.0.0.1',
               '--ServerApp.port=%d' % self.port,
               '--ServerApp.port_retries=0',
               '--ServerApp.root_dir=%s' % self.root_dir,
               '--IdentityProvider.token=%s' % self.token,
               '--ServerApp.allow_unauthenticated_access=False',
               '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate']
        if hasattr(os, 'geteuid') and os.geteuid() == 0:
            cmd.append('--allow-root')  # CI runs as root
        return cmd

    def start(self, timeout=90):
        config = self.workdir / 'jupyter-config'
        for rel, values in LAB_USER_SETTINGS.items():
            path = config / 'lab' / 'user-settings' / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))
        env = dict(os.environ)
        env.pop('JUPYTER_TOKEN', None)
        env.update({
            'JUPYTER_CONFIG_DIR': str(config),
            'JUPYTER_RUNTIME_DIR': str(self.workdir / 'jupyter-runtime'),
            'PYTHONUNBUFFERED': '1',
        })
        env.update(self.extra_env)
        self._log = open(self.log_path, 'wb')
        self.proc = subprocess.Popen(self.command(), cwd=str(self.root_dir), env=env,
                                     stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError('jupyter lab exited with code %s:\n%s'
                                   % (self.proc.returncode, self.log_tail()))
            try:
                status, _, _ = http(self.base_url + '/api/status', self.auth, timeout=2)
                if status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.25)
        raise RuntimeError('jupyter lab did not answer within %ds:\n%s'
                           % (timeout, self.log_tail()))

    @property
    def auth(self):
        return {'Authorization': 'token ' + self.token}

    def api(self, path, method='GET'):
        status, _, body = http(self.base_url + path, self.auth, method=method)
        if status >= 400:
            raise RuntimeError('%s %s: HTTP %d %s' % (method, path, status, body[:300]))
        return json.loads(body) if body.strip() else None

    def shutdown_kernels(self, paths=None):
        """Delete the sessions (and kernels) of ``paths`` (default: all): one
        notebook's kernel at a time keeps the 2-core machine free."""
        for session in self.api('/api/sessions'):
            if paths is None or session.get('path') in paths:
                self.api('/api/sessions/' + session['id'], method='DELETE')

    def notebook_url(self, name, workspace):
        return '%s/lab/workspaces/%s/tree/%s?token=%s' % (
            self.base_url, workspace, urllib.parse.quote(name), self.token)

    def log_tail(self, n=40):
        try:
            return '\n'.join(self.log_path.read_text(errors='replace').splitlines()[-n:])
        except OSError:
            return ''

    def stop(self):
        kill_process_group(self.proc)
        if getattr(self, '_log', None):
            self._log.close()


def launch_browser(playwright):
    return playwright.chromium.launch(executable_path=chromium_executable(),
                                      headless=True, args=CHROMIUM_FLAGS)


def _number(text):
    """A slider readout as a float: d3-format writes U+2212 for minus and may
    group thousands with commas."""
    return float(text.replace('\u2212', '-').replace(',', '').strip())


def _sha(text):
    return hashlib.sha1(text.encode()).hexdigest()[:12]


# One walk over the notebook's code cells, in the page.
_CELLS_JS = r'''
(panel) => Array.from(panel.querySelectorAll('.jp-Notebook .jp-CodeCell')).map((cell, i) => {
  const prompt = cell.querySelector('.jp-InputArea-prompt');
  const editor = cell.querySelector('.jp-InputArea-editor .cm-content');
  const src = editor ? editor.textContent : '';
  const outs = Array.from(cell.querySelectorAll('.jp-OutputArea-output')).map(o => ({
    mime: o.getAttribute('data-mime-type') || '',
    text: o.textContent || '',
  }));
  return {index: i, prompt: prompt ? prompt.textContent.trim() : '',
          source: src.slice(0, 200), empty: src.trim() === '', outputs: outs};
})
'''

_EXPLORER_STATE_JS = r'''
(ex) => {
  const out = ex.querySelector(':scope > .widget-output');
  const msgs = Array.from(ex.querySelectorAll(':scope > .d2l-explorer-error'));
  const visible = (el) => !!el && el.style.display !== 'none' &&
                          getComputedStyle(el).display !== 'none';
  const msg = msgs.filter(visible).map(m => m.textContent.trim()).join(' ');
  const imgs = out ? Array.from(out.querySelectorAll('img')).map(i => i.getAttribute('src') || '') : [];
  return {output: out ? out.textContent : '', error: msg, images: imgs,
          loading: /Loading widget\.\.\.|Error displaying widget/.test(ex.textContent)};
}
'''


class NotebookPage:
    """One notebook opened in a fresh browser context."""

    def __init__(self, browser, server, name, viewport=(1280, 1100)):
        self.server = server
        self.name = name
        self.context = browser.new_context(
            viewport={'width': viewport[0], 'height': viewport[1]})
        self.page = self.context.new_page()
        self.console_errors = []
        self.page.on('console', lambda m: m.type == 'error'
                     and self.console_errors.append(m.text))
        self.page.set_default_timeout(30000)
        self.panel = None

    def close(self):
        try:
            self.context.close()
        except Exception:  # the browser may already be gone
            pass

    # -- opening and running ------------------------------------------------
    def open(self):
        workspace = 'test-' + re.sub(r'[^A-Za-z0-9]+', '-', self.name) + '-' + os.urandom(3).hex()
        self.page.goto(self.server.notebook_url(self.name, workspace))
        self.panel = self.page.locator('.jp-NotebookPanel:visible').first
        self.panel.locator('.jp-Notebook .jp-Cell').first.wait_for(timeout=60000)
        self.wait_kernel_ready()
        return self

    def kernel_status(self):
        return self.page.evaluate(r'''() => {
          const e = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator');
          return e ? e.dataset.status : null; }''')

    def _dismiss_kernel_dialog(self):
        """Accept the preferred kernel if JupyterLab asks (it does when the
        kernel specs were not loaded yet when the notebook opened)."""
        dialog = self.page.locator('.jp-Dialog')
        if dialog.count() and 'Select Kernel' in (dialog.first.text_content() or ''):
            dialog.first.get_by_role('button', name='Select Kernel').click()
            return True
        return False

    def wait_kernel_ready(self, timeout=KERNEL_START_TIMEOUT):
        deadline = time.time() + timeout
        while time.time() < deadline:
            self._dismiss_kernel_dialog()
            sessions = [s for s in self.server.api('/api/sessions')
                        if s.get('path', '').endswith(self.name)]
            if (sessions and sessions[0]['kernel']['execution_state'] == 'idle'
                    and self.kernel_status() == 'idle'):
                return
            time.sleep(0.25)
        raise AssertionError('%s: the kernel was not ready within %ds (status %r):\n%s'
                             % (self.name, timeout, self.kernel_status(),
                                self.server.log_tail()))

    def menu(self, *path):
        """Click through the menu bar, e.g. ``menu('Run', 'Run All Cells')``."""
        self.page.keyboard.press('Escape')
        self.page.locator('.lm-MenuBar').get_by_role('menuitem', name=path[0], exact=True).click()
        for label in path[1:]:
            # The accessible name includes the shortcut ("Save NotebookCtrl+S"):
            # match the label element's own text instead.
            exact = re.compile(r'^\s*%s\s*$' % re.escape(label))
            self.page.locator('.lm-Menu:visible').last.locator('.lm-Menu-item').filter(
                has=self.page.locator('.lm-Menu-itemLabel', has_text=exact)).first.click()

    def cells(self):
        return self.panel.evaluate(_CELLS_JS)

    def run_all(self, timeout=RUN_ALL_TIMEOUT):
        """Run > Run All Cells, then wait until every code cell ran (or the run
        stopped at an error) and the kernel is idle. Returns the cells."""
        # The committed notebooks store outputs and execution counts; clear
        # them first so that everything checked afterwards comes from this run.
        self.menu('Edit', 'Clear Outputs of All Cells')
        deadline = time.time() + 30
        while True:
            cells = self.cells()
            if not any(c['outputs'] or re.match(r'\[\d+\]', c['prompt']) for c in cells):
                break
            if time.time() > deadline:
                raise AssertionError('%s: Clear Outputs of All Cells left %s'
                                     % (self.name, [c['prompt'] for c in cells]))
            time.sleep(0.1)
        before = [c['prompt'] for c in cells]
        self.menu('Run', 'Run All Cells')
        deadline = time.time() + timeout
        done_since = None
        while time.time() < deadline:
            if self._dismiss_kernel_dialog():
                continue
            status = self.kernel_status()
            if status == 'dead':
                raise AssertionError('%s: the kernel died:\n%s'
                                     % (self.name, self.server.log_tail()))
            cells = self.cells()
            prompts = [c['prompt'] for c in cells]
            running = any(p in ('[*]:', '[*]') for p in prompts)
            # After the clearing every prompt was "[ ]": a number shows the run
            # started (a cell's "[*]" may come and go between two polls).
            changed = prompts != before
            if status == 'idle' and not running and changed:
                done_since = done_since or time.time()
                if time.time() - done_since > 1.0:
                    return cells
            else:
                done_since = None
            time.sleep(0.25)
        raise AssertionError('%s: Run All Cells did not finish within %ds; prompts: %s'
                             % (self.name, timeout, [c['prompt'] for c in self.cells()]))

    # -- checks ---------------------------------------------------------------
    @staticmethod
    def error_outputs(cells):
        """``[(cell index, text)]`` of outputs that show an exception.

        JupyterLab 4 renders an ``error`` output (and stderr) as
        ``.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]``;
        a traceback pattern tells the error apart from a warning on stderr.
        Outputs inside widgets (an explorer's Output) are included.
        """
        found = []
        for cell in cells:
            for out in cell['outputs']:
                if (out['mime'] == 'application/vnd.jupyter.stderr'
                        and TRACEBACK_RE.search(out['text'])):
                    found.append((cell['index'], out['text']))
        return found

    @staticmethod
    def unexecuted(cells):
        return [(c['index'], c['prompt'], c['source'][:80]) for c in cells
                if not c['empty'] and not re.match(r'\[\d+\]', c['prompt'])]

    @staticmethod
    def broken_widgets(cells):
        return [(c['index'], o['text'][:120]) for c in cells for o in c['outputs']
                if re.search(r'Loading widget\.\.\.|Error displaying widget', o['text'])]

    def save(self):
        """File > Save Notebook, then wait until the tab is no longer dirty."""
        self.menu('File', 'Save Notebook')
        tab = self.page.locator('.lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current')
        deadline = time.time() + 30
        while time.time() < deadline:
            self._dismiss_kernel_dialog()
            if 'jp-mod-dirty' not in (tab.first.get_attribute('class') or ''):
                return
            time.sleep(0.2)
        raise AssertionError('%s: saving did not finish' % self.name)

    def saved_error_outputs(self):
        """Error outputs in the saved file (exact output_type, no guessing)."""
        model = self.server.api('/api/contents/' + urllib.parse.quote(self.name) + '?content=1')
        errs = []
        for i, cell in enumerate(c for c in model['content']['cells']
                                 if c['cell_type'] == 'code'):
            for out in cell.get('outputs', []):
                if out.get('output_type') == 'error':
                    errs.append((i, '%s: %s' % (out.get('ename'), out.get('evalue'))))
        return errs

    # -- explorers and screenshots -------------------------------------------
    def explorers(self):
        return self.panel.locator('.d2l-explorer')

    def explorer(self, n):
        return ExplorerDriver(self, n)

    def screenshot(self, name, element=None):
        """Save ``test-artifacts/screenshots/<name>.png`` of the visible page,
        scrolled so that ``element`` (a locator) starts at the top."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        if element is not None:
            element.evaluate('(e) => e.scrollIntoView({block: "start"})')
            self.page.wait_for_timeout(300)  # let the notebook repaint
        path = SCREENSHOTS / (name + '.png')
        self.page.screenshot(path=str(path))
        return path


class ExplorerDriver:
    """The ``n``-th explorer (``.d2l-explorer``) of an open notebook."""

    def __init__(self, nbpage, n):
        self.nb = nbpage
        self.page = nbpage.page
        self.n = n
        self.locator = nbpage.explorers().nth(n)

    def __repr__(self):
        return 'explorer #%d of %s' % (self.n, self.nb.name)

    def state(self):
        """What the learner sees: ``output`` text, visible ``error`` sentence,
        ``images`` (short hashes of the <img> sources), ``loading`` (a widget
        still shows "Loading widget..." or failed to display)."""
        st = self.locator.evaluate(_EXPLORER_STATE_JS)
        st['images'] = [_sha(s) for s in st['images']]
        return st

    def labels(self):
        """The description of each control, in order."""
        return self.locator.evaluate(r'''(ex) => Array.from(
            ex.querySelectorAll(':scope > .widget-box > .lm-Widget')).map(c => {
              const l = Array.from(c.querySelectorAll('label')).map(x => x.textContent.trim())
                             .filter(t => t);
              return l.length ? l[0] : c.textContent.trim(); })''')

    def control(self, label):
        """The control whose description label is ``label``."""
        exact = re.compile(r'^\s*%s\s*$' % re.escape(label))
        # (not .jupyter-widgets: a SelectionSlider's element lacks that class)
        controls = self.locator.locator(':scope > .widget-box > .lm-Widget')
        loc = controls.filter(has=self.page.locator('label', has_text=exact))
        if loc.count() == 0:
            # Buttons and toggle buttons carry the text themselves.
            loc = controls.filter(has_text=exact)
        count = loc.count()
        if count != 1:
            raise AssertionError('%r: %d controls labelled %r; labels: %s'
                                 % (self, count, label, self.labels()))
        return loc.first

    def _set_control(self, control, value):
        classes = control.get_attribute('class') or ''
        text = str(value)
        if 'widget-slider' in classes:
            readout = control.locator('.widget-readout').first
            handle = control.locator('.noUi-handle').first
            start_text = readout.text_content().strip()
            start_pos = handle.get_attribute('aria-valuenow')

            def shows_value():
                shown = readout.text_content().strip()
                try:
                    return _number(shown) == float(value)
                except ValueError:
                    return shown == text

            if readout.get_attribute('contenteditable') == 'true':
                # What a learner does for an exact value: type it in the readout.
                readout.click()
                self.page.keyboard.press('ControlOrMeta+a')
                self.page.keyboard.type(text)
                self.page.keyboard.press('Enter')
                # The handle follows the model a frame later.
                deadline = time.time() + 1.5
                while time.time() < deadline:
                    if handle.get_attribute('aria-valuenow') != start_pos:
                        if shows_value():
                            return
                        break
                    time.sleep(0.05)
            # The slider did not take the text (a SelectionSlider's readout shows
            # it but ignores it; a value outside the range is clamped): step with
            # the arrow keys on the handle, re-reading the readout after each.
            keys = ('ArrowRight', 'ArrowLeft')
            try:
                if float(value) < _number(start_text):
                    keys = ('ArrowLeft',)
                else:
                    keys = ('ArrowRight',)
            except ValueError:
                pass
            for key in keys:
                for _ in range(1000):
                    pos = handle.get_attribute('aria-valuenow')
                    handle.focus()
                    self.page.keyboard.press(key)
                    if handle.get_attribute('aria-valuenow') == pos:
                        break  # at the end of the slider
                    if shows_value():
                        return
            raise AssertionError('%r: the slider %r cannot be set to %r'
                                 % (self, control.locator('label').first.text_content(), text))
        if 'widget-dropdown' in classes or control.locator('select').count():
            control.locator('select').first.select_option(label=text)
            return
        if 'widget-checkbox' in classes:
            control.locator('input[type=checkbox]').set_checked(bool(value))
            return
        if 'widget-toggle-buttons' in classes or 'widget-radio' in classes:
            control.get_by_text(text, exact=True).first.click()
            return
        inp = control.locator('input, textarea')
        if inp.count():
            inp.first.fill(text)
            inp.first.press('Enter')
            inp.first.blur()
            return
        raise AssertionError('%r: do not know how to set a control with classes %r'
                             % (self, classes))

    def set(self, label, value, expect_change=True, timeout=EXPLORER_TIMEOUT):
        """Set the control labelled ``label`` to ``value`` and return the
        explorer's state once the kernel answered (output or message changed,
        kernel idle, nothing moving for half a second)."""
        before = self.state()
        self._set_control(self.control(label), value)
        # Leave the control, as a learner moving on would (and for screenshots).
        self.page.evaluate('() => document.activeElement && document.activeElement.blur()')
        return self.wait_settled(before if expect_change else None, timeout)

    def wait_settled(self, before=None, timeout=EXPLORER_TIMEOUT):
        deadline = time.time() + timeout
        last, stable_since = None, None
        while time.time() < deadline:
            st = self.state()
            changed = before is None or st != before
            if changed and st == last and self.nb.kernel_status() == 'idle':
                stable_since = stable_since or time.time()
                if time.time() - stable_since >= 0.5:
                    return st
            else:
                stable_since = None
            last = st
            time.sleep(0.1)
        raise AssertionError('%r did not respond within %ds; it shows %r'
                             % (self, timeout, self.state()))
