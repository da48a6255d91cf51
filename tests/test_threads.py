import os
import subprocess
import sys

import pytest

from d2lhelpers import _threads


def run(code, **env):
    environ = {k: v for k, v in os.environ.items()
               if k not in ('OMP_NUM_THREADS', 'MXNET_CPU_PARALLEL_SIZE')}
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
    assert '请先 import d2lhelpers' in out.stderr
    assert out.stdout.strip() == 'None'


def test_nested_openmp_syntax_keeps_the_first_level():
    # MXNet reads the variable as one int and would abort on '4,2'.
    code = ('import d2lhelpers, os, mxnet\n'
            'print(d2lhelpers.OMP_THREADS, os.environ["OMP_NUM_THREADS"])')
    out = run(code, OMP_NUM_THREADS='4,2')
    assert out.stdout.split() == ['4', '4']
    assert out.stderr.count('OMP_NUM_THREADS') == 0


@pytest.mark.parametrize('value', ['abc', '-3', '0', '2.5'])
def test_unusable_value_is_replaced_with_a_sentence(value):
    code = ('import warnings; warnings.simplefilter("always")\n'
            'import d2lhelpers, os, mxnet\n'
            'print(d2lhelpers.OMP_THREADS, os.environ["OMP_NUM_THREADS"])\n'
            'print(d2lhelpers.describe_device(mxnet.cpu()))')
    out = run(code, OMP_NUM_THREADS=value)
    cores = _threads.physical_cores()
    first, device = out.stdout.splitlines()
    assert first.split() == [str(cores), str(cores)]
    assert '环境变量 OMP_NUM_THREADS=%r 不是正整数' % value in out.stderr
    assert '这次先按 %d 个线程运行' % cores in out.stderr
    assert device == 'cpu(0)：CPU，%d 个 OpenMP 线程，MXNet 1.9.1' % cores


def test_host_copies_stay_on_one_thread_unless_the_user_chose():
    code = 'import d2lhelpers, os; print(os.environ["MXNET_CPU_PARALLEL_SIZE"])'
    assert run(code).stdout.strip() == _threads.PARALLEL_COPY_SIZE
    assert run(code, MXNET_CPU_PARALLEL_SIZE='5000').stdout.strip() == '5000'
