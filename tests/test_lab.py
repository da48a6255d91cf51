"""``make lab`` (tools/lab.py) without starting a server: the learner's working
copy, ``make reset-notebooks``, one server per checkout, no token on the
command line and no address but 127.0.0.1. tests/browser/test_browser_make_lab.py
starts the real server."""
import importlib.util
import json
import os
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location('lab', REPO / 'tools' / 'lab.py')
lab = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(lab)


@pytest.fixture
def checkout(tmp_path, monkeypatch):
    """A checkout in tmp_path with two original notebooks."""
    originals = tmp_path / 'notebooks'
    originals.mkdir()
    for name in ('00_setup_check.ipynb', '01_googlenet.ipynb'):
        (originals / name).write_bytes((REPO / 'notebooks' / name).read_bytes())
    for attr, path in (('ORIGINALS', originals), ('WORK', tmp_path / 'my-notebooks'),
                       ('BACKUPS', tmp_path / 'my-notebooks-backups'),
                       ('CACHE', tmp_path / '.cache'), ('LOCK', tmp_path / '.cache' / 'lab.lock'),
                       ('REPO', tmp_path)):
        monkeypatch.setattr(lab, attr, path)
    monkeypatch.setattr(os, 'execv', lambda *a: pytest.fail('would start a server: %s' % (a,)))
    return tmp_path


@pytest.mark.parametrize('arg', ['--ip=0.0.0.0', '--ip', '--ServerApp.ip=0.0.0.0',
                                 '--NotebookApp.ip=0.0.0.0', '--LabApp.ip=::',
                                 '-ip=10.0.0.1', '--serverapp.IP=0.0.0.0'])
def test_every_form_of_ip_is_refused(checkout, arg):
    with pytest.raises(SystemExit) as e:
        lab.main(['--no-browser', arg])
    assert '只在本机地址 127.0.0.1 上提供服务' in str(e.value) and arg in str(e.value)
    assert not lab.WORK.exists()  # refused before anything was done


@pytest.mark.parametrize('arg', ['--IdentityProvider.token=', '--ServerApp.token=abc',
                                 '--NotebookApp.token', '--token=x'])
def test_a_token_on_the_command_line_is_refused(checkout, arg):
    with pytest.raises(SystemExit) as e:
        lab.main([arg])
    assert '不从命令行传' in str(e.value) and 'JUPYTER_TOKEN' in str(e.value)


def test_other_options_pass():
    assert lab.refuse_unsafe(['--no-browser', '--port=8899', '--ServerApp.port_retries=0',
                              '--ServerApp.ip_whitelist=x', '--ServerApp.open_browser=False']) is None


def test_the_server_command_line_holds_no_token(checkout, monkeypatch):
    monkeypatch.setenv('JUPYTER_TOKEN', 'secret-token-123')
    cmd = lab.lab_command(['--no-browser'])
    assert not any('secret-token-123' in a or 'token' in a.lower() for a in cmd), cmd
    assert '--ServerApp.ip=127.0.0.1' in cmd
    assert '--ServerApp.root_dir=%s' % lab.WORK in cmd


def test_the_token_outranks_a_user_config_that_empties_it(tmp_path, monkeypatch):
    from jupyter_server.serverapp import ServerApp
    config = tmp_path / 'config'
    config.mkdir()
    (config / 'jupyter_server_config.json').write_text(json.dumps(
        {'IdentityProvider': {'token': ''}, 'ServerApp': {'token': ''}}))
    monkeypatch.setenv('JUPYTER_CONFIG_DIR', str(config))
    monkeypatch.setattr(ServerApp, 'parse_command_line', ServerApp.parse_command_line)
    lab._token_in_cli_config('tok-456')
    app = ServerApp()
    app.parse_command_line(['--ServerApp.ip=127.0.0.1'])
    app.load_config_file()
    assert app.config.IdentityProvider.token == 'tok-456'
    assert app.config.ServerApp.custom_display_url == '?token=tok-456'


def test_the_working_copy_is_made_once_and_never_overwritten(checkout):
    assert lab.update_working_copy() == ['00_setup_check.ipynb', '01_googlenet.ipynb']
    mine = lab.WORK / '01_googlenet.ipynb'
    mine.write_text(mine.read_text().replace('GoogLeNet', 'MyNet'))
    edited = mine.read_bytes()
    # A notebook added to the repository later is copied in; edits stay.
    (lab.ORIGINALS / '02_batch_norm.ipynb').write_bytes(
        (REPO / 'notebooks' / '02_batch_norm.ipynb').read_bytes())
    assert lab.update_working_copy() == ['02_batch_norm.ipynb']
    assert mine.read_bytes() == edited
    assert lab.update_working_copy() == []


def test_the_copies_open_unmodified(checkout):
    """JupyterLab writes the kernel's language_info and kernelspec into a
    notebook when its kernel starts; a copy already holding them is not marked
    modified, and saving it unchanged writes the same bytes."""
    from ipykernel.ipkernel import IPythonKernel
    lab.update_working_copy()
    for path in lab.WORK.glob('*.ipynb'):
        text = path.read_text(encoding='utf-8')
        nb = nbformat.reads(text, as_version=4)
        assert nb.metadata.language_info == IPythonKernel.language_info
        assert nb.metadata.kernelspec == {'display_name': 'Python 3 (ipykernel)',
                                          'language': 'python', 'name': 'python3'}
        assert nbformat.writes(nb) + '\n' == text  # what Jupyter writes on save


def test_reset_moves_the_learners_work_aside(checkout, capsys):
    lab.update_working_copy()
    mine = lab.WORK / '01_googlenet.ipynb'
    mine.write_text('my edits')
    (lab.WORK / 'my_own.ipynb').write_text('my notebook')
    assert lab.main(['--reset-notebooks']) == 0
    backup, = lab.BACKUPS.iterdir()
    assert (backup / '01_googlenet.ipynb').read_text() == 'my edits'
    assert (backup / 'my_own.ipynb').read_text() == 'my notebook'
    assert sorted(p.name for p in lab.WORK.iterdir()) == ['00_setup_check.ipynb',
                                                          '01_googlenet.ipynb']
    assert mine.read_text() != 'my edits'
    out = capsys.readouterr().out
    assert '已把你的笔记本移到 my-notebooks-backups/' in out and '原始的笔记本' in out


def test_reset_of_one_notebook(checkout):
    lab.update_working_copy()
    (lab.WORK / '00_setup_check.ipynb').write_text('mine 00')
    (lab.WORK / '01_googlenet.ipynb').write_text('mine 01')
    backup = lab.reset_notebooks(['notebooks/01_googlenet.ipynb'])
    assert [p.name for p in backup.iterdir()] == ['01_googlenet.ipynb']
    assert (lab.WORK / '00_setup_check.ipynb').read_text() == 'mine 00'
    assert (lab.WORK / '01_googlenet.ipynb').read_text() != 'mine 01'
    with pytest.raises(SystemExit, match='没有叫 07_vgg.ipynb 的笔记本'):
        lab.reset_notebooks(['07_vgg.ipynb'])


def _hold_lock_as_a_server(pid):
    import fcntl
    lab.CACHE.mkdir(exist_ok=True)
    fd = os.open(lab.LOCK, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.pwrite(fd, str(pid).encode(), 0)
    return fd


def test_a_second_make_lab_points_to_the_running_one(checkout, monkeypatch, capsys):
    import jupyter_server.serverapp
    monkeypatch.setattr(jupyter_server.serverapp, 'list_running_servers', lambda: [
        {'pid': 4242, 'url': 'http://127.0.0.1:8890/', 'token': 'abc'}])
    fd = _hold_lock_as_a_server(4242)
    try:
        assert lab.main(['--no-browser']) == 0  # and no exec
        out = capsys.readouterr().out
        assert 'make lab 已经在为这个目录运行（进程 4242，请打开 http://127.0.0.1:8890/lab?token=abc）' in out
        with pytest.raises(SystemExit, match='请先在它的终端里按两次 Ctrl\\+C'):
            lab.main(['--reset-notebooks'])
    finally:
        os.close(fd)
    assert not lab.BACKUPS.exists()


def test_make_lab_starts_one_server_with_the_projects_settings(checkout, monkeypatch, capsys):
    started = []

    def execv(path, cmd):
        started.append(cmd)
        raise SystemExit(0)
    monkeypatch.setattr(os, 'execv', execv)
    for name in ('JUPYTER_TOKEN', 'JUPYTER_CONFIG_PATH', 'MPLCONFIGDIR'):
        monkeypatch.setenv(name, '')  # restored after the test
    monkeypatch.delenv('MPLCONFIGDIR')
    with pytest.raises(SystemExit):
        lab.main(['--no-browser'])
    assert started == [lab.lab_command(['--no-browser'])]
    assert len(os.environ['JUPYTER_TOKEN']) == 48  # an empty one is replaced
    assert os.environ['JUPYTER_CONFIG_PATH'] == str(lab.LAB_CONFIG)
    assert os.environ['MPLCONFIGDIR'] == str(lab.CACHE / 'matplotlib')
    assert lab.LOCK.read_text() == str(os.getpid())  # the server-to-be holds the lock
    assert '复制到 my-notebooks/' in capsys.readouterr().out
    settings = json.loads((lab.LAB_CONFIG / 'labconfig' / 'default_setting_overrides.json')
                          .read_text())
    assert settings == {'@jupyter-widgets/jupyterlab-manager:plugin': {'saveState': True}}
