import mxnet as mx

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
    assert 'forced by D2L_DEVICE=cpu' in context.describe_device()


def test_describe_device_is_one_line():
    line = context.describe_device()
    assert '\n' not in line
    assert line.startswith('cpu(0)') and 'MXNet 1.9.1' in line
    assert 'cpu(0), cpu(1)' in context.describe_device([mx.cpu(0), mx.cpu(1)])
