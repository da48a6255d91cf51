import mxnet as mx
import pytest

from d2lhelpers import context


def test_no_gpu_falls_back_to_cpu():
    # This machine has a CPU-only MXNet build: no exception, just the CPU.
    assert context.try_gpu() == mx.cpu()
    assert context.try_gpu(3) == mx.cpu()
    assert context.try_all_gpus() == [mx.cpu()]


def test_gpu_listed_but_unusable_falls_back(monkeypatch):
    # Pretend MXNet reports two GPUs that fail on first use.
    monkeypatch.setattr(mx.context, 'num_gpus', lambda: 2)
    assert context.num_gpus() == 2
    assert context.try_gpu(1) == mx.cpu()
    assert context.try_all_gpus() == [mx.cpu()]


def test_num_gpus_error_means_zero(monkeypatch):
    def broken():
        raise mx.base.MXNetError('CUDA driver version is insufficient')
    monkeypatch.setattr(mx.context, 'num_gpus', broken)
    assert context.num_gpus() == 0
    assert context.try_gpu() == mx.cpu()


def test_forced_cpu(monkeypatch):
    monkeypatch.setattr(mx.context, 'num_gpus', lambda: 4)
    monkeypatch.setenv('D2L_DEVICE', 'cpu')
    assert context.num_gpus() == 0
    assert context.try_gpu() == mx.cpu()
    assert context.try_all_gpus() == [mx.cpu()]
    assert context.describe_device().endswith('（D2L_DEVICE=cpu 指定只用 CPU）')


def test_describe_device_is_one_chinese_line(monkeypatch):
    monkeypatch.setenv('OMP_NUM_THREADS', '2')
    line = context.describe_device()
    assert line == 'cpu(0)：CPU，2 个 OpenMP 线程，MXNet 1.9.1'
    assert 'cpu(0), cpu(1)：CPU' in context.describe_device([mx.cpu(0), mx.cpu(1)])
    monkeypatch.setattr(mx.context, 'num_gpus', lambda: 1)
    assert context.describe_device(mx.gpu(0)) == 'gpu(0)：1 块 GPU，MXNet 1.9.1'


@pytest.mark.parametrize('value, shown', [
    ('4,2', '4 个 OpenMP 线程'),          # OpenMP's nested syntax: the first level
    ('abc', 'OpenMP 线程数由 MXNet 决定'),  # never "abc threads" ...
    ('-3', 'OpenMP 线程数由 MXNet 决定'),   # ... nor "-3 threads"
])
def test_device_line_never_shows_an_unusable_thread_count(monkeypatch, value, shown):
    monkeypatch.setenv('OMP_NUM_THREADS', value)
    assert context.describe_device(mx.cpu()) == 'cpu(0)：CPU，%s，MXNet 1.9.1' % shown
