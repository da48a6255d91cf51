"""``make lab`` as the README documents it: loopback only, token required
but never on a command line, the learner's working copy, one server per checkout.

The server is started the way the README says, ``make lab
LAB_ARGS='--no-browser --port=<free port>'`` from the repository root, when
``.venv`` exists and is up to date (``make test`` in CI has just made it).
Otherwise (a developer running pytest from another venv, with no ``.venv``)
it runs what ``make lab`` runs, ``python tools/lab.py`` with the same
arguments, with this interpreter: ``make lab`` would first create ``.venv``
and install everything into it, which takes minutes and needs the network.

No browser is needed: the checks are HTTP requests, socket connections and
the process table.
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time

import psutil
import pytest

import labdriver

URL_RE = re.compile(r'http://127\.0\.0\.1:(\d+)/lab\?token=([^\s&]+)')


def _lab_args(port):
    args = ['--no-browser', '--port=%d' % port, '--ServerApp.port_retries=0']
    if os.geteuid() == 0:
        args.append('--allow-root')  # jupyter refuses root without it (CI runs as root)
    return args


def _venv_ready():
    """True if ``make lab`` would start the server without installing."""
    if not (shutil.which('make') and os.access(labdriver.REPO_ROOT / '.venv' / 'bin' / 'python', os.X_OK)):
        return False
    return subprocess.run(['make', '-q', '.venv/.installed'], cwd=labdriver.REPO_ROOT,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0


def _non_loopback_addresses():
    addrs = []
    for infos in psutil.net_if_addrs().values():
        for info in infos:
            if info.family not in (socket.AF_INET, socket.AF_INET6):
                continue
            ip = info.address.split('%')[0]
            if ip.startswith('127.') or ip == '::1' or ip.lower().startswith('fe80'):
                continue
            addrs.append((info.family, ip))
    return addrs


def _listening(pid, port):
    """Local addresses on which ``pid`` or its descendants listen on ``port``."""
    try:
        procs = [psutil.Process(pid)] + psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    found = []
    for proc in procs:
        try:
            # psutil < 6 calls it connections()
            conns = getattr(proc, 'net_connections', getattr(proc, 'connections', None))(kind='inet')
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        found += [c.laddr.ip for c in conns
                  if c.status == psutil.CONN_LISTEN and c.laddr.port == port]
    return found


def test_make_lab_serves_loopback_only_with_a_token(tmp_path):
    port = labdriver.free_port()
    if _venv_ready():
        how = 'make lab'
        cmd = ['make', 'lab', 'LAB_ARGS=' + ' '.join(_lab_args(port))]
    else:
        how = 'python tools/lab.py (no up-to-date .venv for make lab)'
        cmd = [sys.executable, 'tools/lab.py'] + _lab_args(port)
    print('starting the server with', how, ':', ' '.join(cmd))
    env = dict(os.environ)
    env.pop('JUPYTER_TOKEN', None)  # the token must be the one make lab makes up
    env['JUPYTER_RUNTIME_DIR'] = str(tmp_path / 'runtime')
    log_path = tmp_path / 'make-lab.log'
    proc = None
    with open(log_path, 'wb') as log:
        try:
            proc = subprocess.Popen(cmd, cwd=labdriver.REPO_ROOT, env=env,
                                    stdin=subprocess.DEVNULL, stdout=log,
                                    stderr=subprocess.STDOUT, start_new_session=True)
            token = _check_server(proc, port, log_path, how)
            _check_no_token_on_any_command_line(proc, token)
            _check_a_second_start_points_to_this_one(cmd, env, port, token)
        finally:
            labdriver.kill_process_group(proc)
    assert proc.poll() is not None
    # Nothing left listening on the port once the process group is gone.
    with pytest.raises(OSError):
        socket.create_connection(('127.0.0.1', port), timeout=2).close()


def _check_server(proc, port, log_path, how):
    base = 'http://127.0.0.1:%d' % port
    deadline = time.time() + 90
    urls = []
    while time.time() < deadline:
        text = log_path.read_text(errors='replace')
        urls = URL_RE.findall(text)
        if proc.poll() is not None:
            pytest.fail('%s exited with code %s:\n%s' % (how, proc.returncode, text[-3000:]))
        if urls:
            try:
                if labdriver.http(base + '/login', timeout=2)[0] == 200:
                    break
            except OSError:
                pass
        time.sleep(0.25)
    else:
        pytest.fail('%s printed no URL on port %d or did not answer within 90 s:\n%s'
                    % (how, port, log_path.read_text(errors='replace')[-3000:]))
    text = log_path.read_text(errors='replace')
    tokens = [tok for p, tok in urls if int(p) == port and tok != '...']
    assert tokens, (
        '%s printed only %s: the README says "open the URL it prints", but the token '
        'is masked ("token=...", which Jupyter does for a token passed on the command '
        'line), so a learner using --no-browser cannot log in. Log:\n%s'
        % (how, sorted(set('http://127.0.0.1:%s/lab?token=%s' % u for u in urls)), text[-2000:]))
    token = tokens[0]

    # Loopback only: every listening socket of the server is on 127.0.0.1 ...
    listening = _listening(proc.pid, port)
    assert listening and set(listening) == {'127.0.0.1'}, listening
    # ... and the machine's other addresses refuse the connection.
    for family, ip in _non_loopback_addresses():
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.settimeout(3)
            with pytest.raises(OSError):
                s.connect((ip, port))

    # The login page is reached without a token ...
    status, headers, body = labdriver.http(base + '/lab')
    assert status in (301, 302, 303, 307) and '/login' in headers.get('Location', ''), status
    status, _, body = labdriver.http(base + '/login')
    assert status == 200 and 'password' in body.lower(), status
    # ... but the API refuses requests without the token (wrong token included) ...
    for headers in ({}, {'Authorization': 'token not-the-token'}):
        status, resp_headers, _ = labdriver.http(base + '/api/contents', headers)
        assert status in (401, 403) or (
            status in (302, 303) and '/login' in resp_headers.get('Location', '')), status
    # ... and serves them with the token printed in the URL.
    status, _, body = labdriver.http(base + '/api/contents?token=' + token)
    assert status == 200, (status, body[:300])
    # ... rooted at my-notebooks/, the learner's copy of notebooks/.
    served = {item['name'] for item in json.loads(body)['content']}
    expected = {p.name for p in labdriver.NOTEBOOK_DIR.glob('*.ipynb')}
    assert expected <= served, (expected, served)
    status, _, _ = labdriver.http(base + '/api/status',
                                  {'Authorization': 'token ' + token})
    assert status == 200
    server = psutil.Process(proc.pid)
    roots = [a for p in [server] + server.children(recursive=True) for a in p.cmdline()
             if a.startswith('--ServerApp.root_dir=')]
    assert roots == ['--ServerApp.root_dir=%s' % (labdriver.REPO_ROOT / 'my-notebooks')], roots
    return token


def _check_no_token_on_any_command_line(proc, token):
    """``ps`` shows command lines to every local user: the token is not on one."""
    procs = [psutil.Process(proc.pid)] + psutil.Process(proc.pid).children(recursive=True)
    for p in procs:
        try:
            cmdline = ' '.join(p.cmdline())
        except psutil.NoSuchProcess:
            continue
        assert token not in cmdline, 'the token is visible in ps: %s' % cmdline


def _check_a_second_start_points_to_this_one(cmd, env, port, token):
    out = subprocess.run(cmd, cwd=labdriver.REPO_ROOT, env=env, stdin=subprocess.DEVNULL,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert '已经在为这个目录运行' in out.stdout, out.stdout + out.stderr
    assert 'http://127.0.0.1:%d/lab?token=%s' % (port, token) in out.stdout, out.stdout
