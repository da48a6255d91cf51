"""Start JupyterLab on notebooks/ the way ``make lab`` documents it.

Importing d2lhelpers has already set ``OMP_NUM_THREADS`` (see ``_threads``),
and the server passes its environment on to every kernel it starts, so MXNet
uses all physical cores in the notebooks even if a learner imports mxnet
before d2lhelpers.
"""
import os
import secrets
import sys

from . import OMP_THREADS  # noqa: F401  (importing sets OMP_NUM_THREADS)

NOTEBOOKS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                         'notebooks')


def lab_command(extra_args=()):
    """The jupyter lab command line: loopback only, token required, rooted at notebooks/."""
    token = os.environ.get('JUPYTER_TOKEN') or secrets.token_hex(24)
    return [sys.executable, '-m', 'jupyterlab',
            '--ServerApp.ip=127.0.0.1',
            '--ServerApp.root_dir=' + NOTEBOOKS,
            # Refuse to start without authentication, whatever a user config says.
            '--ServerApp.allow_unauthenticated_access=False',
            # An explicit token, so a user config with an empty one cannot turn
            # authentication off; JUPYTER_TOKEN chooses it when set.
            '--IdentityProvider.token=' + token,
            # Jupyter prints a token given on the command line as "token=...";
            # this puts the real one in the URL it prints (the README says to open it).
            '--ServerApp.custom_display_url=?token=' + token,
            # Jupyter refuses to start as root without this (containers, CI).
            *(['--allow-root'] if hasattr(os, 'geteuid') and os.geteuid() == 0 else []),
            *extra_args]


def main(argv=None):
    args = sys.argv[1:] if argv is None else argv
    if any(a.startswith(('--IdentityProvider.token=', '--ServerApp.token=',
                         '--NotebookApp.token=')) and a.endswith('=')
           for a in args):
        sys.exit('make lab keeps token authentication on; drop the empty token argument.')
    cmd = lab_command(args)
    os.execv(cmd[0], cmd)


if __name__ == '__main__':
    main()
