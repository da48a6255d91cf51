import os
import subprocess
import sys

from d2lhelpers import _threads


def run(code, **env):
    environ = {k: v for k, v in os.environ.items() if k != 'OMP_NUM_THREADS'}
    environ.update(env)
    return subprocess.run([sys.executable, '-c', code], env=environ,
                          capture_output=True, text=True, check=True)


def test_import_sets_omp_threads_to_physical_cores():
    out = run('import d2lhelpers, os; print(os.environ["OMP_NUM_THREADS"])')
    assert int(out.stdout) == _threads.physical_cores() >= 1


def test_user_choice_is_kept():
    out = run('import d2lhelpers, os; print(os.environ["OMP_NUM_THREADS"])',
              OMP_NUM_THREADS='1')
    assert out.stdout.strip() == '1'


def test_mxnet_imported_first_warns():
    out = run('import warnings; warnings.simplefilter("always")\n'
              'import mxnet, d2lhelpers; print(d2lhelpers.OMP_THREADS)')
    assert 'import d2lhelpers first' in out.stderr
    assert out.stdout.strip() == 'None'
