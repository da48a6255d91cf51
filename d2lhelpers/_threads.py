"""Make MXNet use every physical core, and keep its OpenMP threads responsive.

MXNet's OpenMP runtime, when ``OMP_NUM_THREADS`` is unset, assumes
hyper-threading and uses half of the logical CPUs; on a 2-core laptop or CI
machine that is one core, and conv nets train 1.4-2x slower. The variable is
only read when ``libmxnet`` loads, so it has to be set before ``import mxnet``
(setting the thread count through the C API afterwards did not speed anything
up when we measured it).

A second setting, ``MXNET_CPU_PARALLEL_SIZE``: MXNet copies arrays of 200,000
elements or more (``nd.array`` of a numpy array, ``asnumpy``) with an OpenMP
loop on the calling Python thread. That starts a second OpenMP thread team
beside the engine's; with more OpenMP threads than cores, libgomp makes idle
threads sleep almost at once instead of spinning, and every operator then
pays for waking them. Measured here (2 cores): one ``nd.array`` of a
1,000,000-element numpy array made every later BN-LeNet training step 2.6x
slower, for the rest of the process (``OMP_WAIT_POLICY=passive`` gives the
same slowdown from the start). Raising the threshold keeps those copies on
one thread (a few milliseconds at most) and the engine's team the only one.
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
    """Set ``OMP_NUM_THREADS`` to the physical core count unless the user chose one.

    Also sets ``MXNET_CPU_PARALLEL_SIZE`` (see the module docstring) unless
    the user chose one. Returns the thread count MXNet will use, or None when
    MXNet was imported before us and so kept its own choice (a warning says
    how to fix it). An unusable ``OMP_NUM_THREADS`` (``abc``, ``-3``) is
    replaced by the core count with a warning that says so, rather than
    breaking every notebook's first line.
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
