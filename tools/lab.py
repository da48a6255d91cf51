"""``make lab``: JupyterLab on the learner's own copy of the notebooks.

* **The learner's work.** The server's root is ``my-notebooks/`` (not in
  git), made from ``notebooks/`` on the first run. Later runs copy in only
  the notebooks it does not have yet and never overwrite one, so autosave
  and the learner's edits never touch the committed notebooks that the tests
  run. ``make reset-notebooks [NB=01_googlenet.ipynb]`` moves the learner's
  copies aside to ``my-notebooks-backups/<time>/`` and copies the originals
  again. Each copy gets this machine's kernel ``language_info`` and
  ``kernelspec``: JupyterLab writes both into a notebook when its kernel
  starts, and a difference marks a notebook modified that nobody edited.
  Widget state is saved with a notebook (a default setting from
  ``tools/jupyter-config``; the learner's own setting wins), so a saved
  notebook shows its explorers' last output when it is opened again, not
  "Error displaying widget: model not found".
* **One server per checkout.** The server holds a lock on
  ``.cache/lab.lock``; a second ``make lab`` says so and prints the running
  server's URL instead of serving the same files twice.
* **Security.** Loopback only (every form of ``--ip`` in ``LAB_ARGS`` is
  refused), a token always. The token never appears on a command line, where
  ``ps`` shows it to every local user: it travels in the environment
  (``JUPYTER_TOKEN``, readable by this user only), and the server is started
  through this file's ``--serve`` mode, which puts it into the server's
  command-line configuration inside the process (so no user configuration
  can empty it) and into the URL the server prints.
* **Nothing outside the project.** Matplotlib's configuration and font cache
  live in ``.cache/matplotlib`` (a stale ``~/.cache/matplotlib`` once made
  every log-scale figure print font warnings).

Importing d2lhelpers (the launcher does) sets ``OMP_NUM_THREADS``, and the
server passes its environment on to every kernel it starts.
"""
import fcntl
import json
import os
import re
import secrets
import shutil
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ORIGINALS = REPO / 'notebooks'
WORK = REPO / 'my-notebooks'
BACKUPS = REPO / 'my-notebooks-backups'
CACHE = REPO / '.cache'
LOCK = CACHE / 'lab.lock'
LAB_CONFIG = Path(__file__).resolve().parent / 'jupyter-config'  # default settings

# --ip, --ip=..., --ServerApp.ip=..., --NotebookApp.ip ...; the same for tokens.
_IP_OPTION = re.compile(r'^--?([A-Za-z]+\.)?ip(=|$)', re.IGNORECASE)
_TOKEN_OPTION = re.compile(r'^--?([A-Za-z]+\.)?token(=|$)', re.IGNORECASE)


def refuse_unsafe(args):
    """The sentence refusing an address or token option in ``args``, or None."""
    for arg in args:
        if _IP_OPTION.match(arg):
            return ('make lab 只在本机地址 127.0.0.1 上提供服务（别的机器上的人能连上就能以你的'
                    '身份运行代码）；请从 LAB_ARGS 里去掉 %s。' % arg)
        if _TOKEN_OPTION.match(arg):
            return ('make lab 自己生成令牌，不从命令行传（ps 会把命令行显示给本机所有用户）；请从 '
                    'LAB_ARGS 里去掉 %s，需要固定令牌时设置环境变量 JUPYTER_TOKEN。'
                    % arg.split('=')[0])
    return None


# ------------------------------------------------------------- working copy
def kernel_metadata():
    """``language_info`` and ``kernelspec`` as this machine's kernel reports them."""
    from ipykernel.ipkernel import IPythonKernel
    from jupyter_client.kernelspec import KernelSpecManager
    spec = KernelSpecManager().get_kernel_spec('python3')
    return {'language_info': IPythonKernel.language_info,
            'kernelspec': {'display_name': spec.display_name,
                           'language': spec.language, 'name': 'python3'}}


def copy_notebook(source, target, metadata):
    """Copy a notebook, with ``metadata`` (kernel_metadata()) merged into its own."""
    nb = json.loads(Path(source).read_text(encoding='utf-8'))
    nb['metadata'].update(metadata)
    tmp = Path(target).with_name('.%s.part' % Path(target).name)
    tmp.write_text(json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + '\n',
                   encoding='utf-8')
    os.replace(tmp, target)


def update_working_copy():
    """Copy into ``my-notebooks/`` every original it lacks; return their names."""
    WORK.mkdir(exist_ok=True)
    missing = [p for p in sorted(ORIGINALS.glob('*.ipynb')) if not (WORK / p.name).exists()]
    if missing:
        metadata = kernel_metadata()
        for source in missing:
            copy_notebook(source, WORK / source.name, metadata)
    return [p.name for p in missing]


def reset_notebooks(names=()):
    """Move the learner's copies of ``names`` (default: everything in my-notebooks/)
    aside, then copy the originals again. Returns the backup directory, or None
    when there was nothing to move.
    """
    names = [Path(n).name for n in names]  # NB=notebooks/01_googlenet.ipynb works too
    known = sorted(p.name for p in ORIGINALS.glob('*.ipynb'))
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SystemExit('没有叫 %s 的笔记本；可以重置的是 %s。'
                         % ('、'.join(unknown), '、'.join(known)))
    lock = _lock()
    if lock is None:
        raise SystemExit('make lab 正在为这个目录运行（%s）；请先在它的终端里按两次 Ctrl+C '
                         '停止它（先保存要留下的内容），再重置笔记本。' % _running())
    try:
        return _move_aside(names)
    finally:
        os.close(lock)


def _move_aside(names):
    backup = None
    if WORK.exists():
        moving = [WORK / n for n in names] if names else list(WORK.iterdir())
        moving = [p for p in moving if p.exists()]
        if moving:
            backup = BACKUPS / time.strftime('%Y%m%d-%H%M%S')
            while backup.exists():  # two resets within a second
                backup = backup.with_name(backup.name + '-1')
            backup.mkdir(parents=True)
            for path in moving:
                shutil.move(str(path), str(backup / path.name))
    update_working_copy()
    return backup


# ------------------------------------------------------------------ server
def _lock():
    """The lock of this checkout's server as an open descriptor, or None while a server holds it."""
    CACHE.mkdir(exist_ok=True)
    fd = os.open(LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def _running():
    """Where to find the server that holds the lock, as a phrase."""
    pid = LOCK.read_text(errors='replace').strip()
    from jupyter_server.serverapp import list_running_servers
    for info in list_running_servers():
        if str(info.get('pid')) == pid:
            return '进程 %s，请打开 %slab?token=%s' % (pid, info['url'], info['token'])
    return '进程 %s，还在启动或者用了另一个 JUPYTER_RUNTIME_DIR：网址在启动它的终端里' % pid


def lab_command(extra_args=()):
    """The server's command line: loopback only, token required, rooted at my-notebooks/.

    No token on it: :func:`serve` takes it from ``JUPYTER_TOKEN``.
    """
    return [sys.executable, str(Path(__file__).resolve()), '--serve',
            '--ServerApp.ip=127.0.0.1',
            '--ServerApp.root_dir=' + str(WORK),
            # Refuse to start without authentication, whatever a user config says.
            '--ServerApp.allow_unauthenticated_access=False',
            # Jupyter refuses to start as root without this (containers, CI).
            *(['--allow-root'] if hasattr(os, 'geteuid') and os.geteuid() == 0 else []),
            *extra_args]


def _token_in_cli_config(token):
    """Make every ServerApp put ``token`` into its command-line configuration,
    which outranks every configuration file, and into the URL it prints."""
    from jupyter_server.serverapp import ServerApp
    parse = ServerApp.parse_command_line

    def parse_command_line(self, argv=None):
        parse(self, argv)
        self.cli_config.IdentityProvider.token = token
        # Jupyter prints a token it did not generate as "token=..."; show it.
        self.cli_config.ServerApp.custom_display_url = '?token=' + token
        self.update_config(self.cli_config)
    ServerApp.parse_command_line = parse_command_line


def serve(argv):
    """The server process: JupyterLab with the token from ``JUPYTER_TOKEN``."""
    token = os.environ.get('JUPYTER_TOKEN')
    if not token:
        sys.exit('make lab 要求令牌：环境变量 JUPYTER_TOKEN 是空的；请删除它或者设一个值。')
    _token_in_cli_config(token)
    from jupyterlab.labapp import main as lab_main
    sys.argv = ['jupyter-lab'] + list(argv)
    sys.exit(lab_main())


def main(argv=None):
    args = sys.argv[1:] if argv is None else list(argv)
    if args[:1] == ['--serve']:
        return serve(args[1:])
    if args[:1] == ['--reset-notebooks']:
        backup = reset_notebooks(args[1:])
        print(('已把你的笔记本移到 %s；' % backup.relative_to(REPO) if backup else '')
              + 'my-notebooks/ 里现在是原始的笔记本。')
        return 0
    problem = refuse_unsafe(args)
    if problem:
        sys.exit(problem)
    lock = _lock()
    if lock is None:
        print('make lab 已经在为这个目录运行（%s）。没有再启动一个：两个服务器会对同一份笔记本'
              '各自自动保存。' % _running())
        return 0
    added = update_working_copy()
    if added:
        print('已把 %s 复制到 my-notebooks/（你在这里的修改不会影响 notebooks/ 里的原件；'
              'make reset-notebooks 可以恢复原件）。' % '、'.join(added))
    import d2lhelpers  # noqa: F401  (sets OMP_NUM_THREADS for every kernel)
    os.environ['JUPYTER_TOKEN'] = os.environ.get('JUPYTER_TOKEN') or secrets.token_hex(24)
    os.environ.setdefault('MPLCONFIGDIR', str(CACHE / 'matplotlib'))
    os.environ['JUPYTER_CONFIG_PATH'] = os.pathsep.join(
        [str(LAB_CONFIG)] + [p for p in os.environ.get('JUPYTER_CONFIG_PATH', '').split(os.pathsep) if p])
    # The server this process becomes (exec keeps the pid) holds the lock.
    os.ftruncate(lock, 0)
    os.pwrite(lock, str(os.getpid()).encode(), 0)
    os.set_inheritable(lock, True)
    cmd = lab_command(args)
    os.execv(cmd[0], cmd)


if __name__ == '__main__':
    sys.exit(main())
