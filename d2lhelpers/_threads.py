"""Make MXNet use every physical core, and keep its OpenMP threads responsive.

With ``OMP_NUM_THREADS`` unset MXNet uses half the logical CPUs: one core on a
2-core laptop, training 1.4-2x slower. It is read when ``libmxnet`` loads, so
it is set before ``import mxnet``.

``MXNET_CPU_PARALLEL_SIZE``: MXNet copies arrays of 200,000 elements or more
(``nd.array``, ``asnumpy``) with a second OpenMP thread team; with more
threads than cores libgomp makes idle threads sleep, and every operator pays
for waking them (measured: one such copy made every later BN-LeNet step 2.6x
slower). A high threshold keeps those copies on one thread.
"""
import os
import sys
import warnings


def physical_cores():
    """Physical cores this process may run on (at least 1)."""
    try:
        logical = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        logical = os.cpu_count() or 1
    try:
        import psutil
        physical = psutil.cpu_count(logical=False) or logical
    except ImportError:
        physical = logical
    return max(1, min(logical, physical))


# Larger than any array in these notebooks: host copies stay single-threaded.
PARALLEL_COPY_SIZE = str(1 << 30)


def configure_threads():
    """Set ``OMP_NUM_THREADS`` (to the physical cores) and ``MXNET_CPU_PARALLEL_SIZE``
    unless the user chose them; return MXNet's thread count, or None (with a
    warning) when mxnet was imported first. An unusable ``OMP_NUM_THREADS``
    (``abc``, ``-3``) is replaced, with a warning, not left to break import.
    """
    from .settings import omp_threads  # imports no mxnet
    if 'mxnet' not in sys.modules:
        os.environ.setdefault('MXNET_CPU_PARALLEL_SIZE', PARALLEL_COPY_SIZE)
    threads, problem = omp_threads()
    if threads:
        if 'mxnet' not in sys.modules:
            # MXNet parses the variable as one int and aborts the whole
            # process on OpenMP's nested syntax ('4,2'): keep the first level.
            os.environ['OMP_NUM_THREADS'] = str(threads)
        return threads
    if 'mxnet' in sys.modules:
        warnings.warn(
            'mxnet 在 d2lhelpers 之前被导入，可能只用了一半的 CPU 核；请先 import '
            'd2lhelpers（或在启动 Python 前设置 OMP_NUM_THREADS=%d），训练会更快。'
            % physical_cores(), stacklevel=3)
        return None
    if problem:
        warnings.warn('%s 这次先按 %d 个线程运行。' % (problem, physical_cores()),
                      stacklevel=3)
    os.environ['OMP_NUM_THREADS'] = str(physical_cores())
    return physical_cores()
