"""Make MXNet use every physical core, keep its OpenMP threads responsive, and
notice when other programs take a core away.

With ``OMP_NUM_THREADS`` unset MXNet uses half the logical CPUs: one core on a
2-core laptop, training 1.4-2x slower. It is read when ``libmxnet`` loads, so
it is set before ``import mxnet``.

``MXNET_CPU_PARALLEL_SIZE``: MXNet copies arrays of 200,000 elements or more
(``nd.array``, ``asnumpy``) with a second OpenMP thread team; with more
threads than cores libgomp makes idle threads sleep, and every operator pays
for waking them (measured: one such copy made every later BN-LeNet step 2.6x
slower). A high threshold keeps those copies on one thread.

Why every core, although a busy CPU prefers one thread: measured with
``benchmarks/threads.py`` (2-core AVX-512 machine, ResNet-18 28x28 batch 128
and the Gluon BN-LeNet, ms per compiled training step), idle: 1 thread 334
and 34, 2 threads 218 and 17; with another process spinning on one core:
1 thread 307 and 27, 2 threads 521 and 34 (the thread on the busy core makes
its partner wait at every barrier). ``OMP_WAIT_POLICY=PASSIVE`` (455 busy,
but 32 ms idle for BN-LeNet), ``GOMP_SPINCOUNT=10000`` (1036 busy) and
MXNet's ``NaiveEngine`` (688 busy) serve neither case, and MXNet fixes its
thread count when it loads (``MXSetNumOMPThreads`` only sets the calling
thread's OpenMP default, not the engine's workers'). So no static choice
serves both and the count cannot change inside a running kernel: we keep
every core (right for an idle laptop), and :func:`other_programs_cores`
lets ``plan_training`` see, while it measures, how much CPU other programs
take, and tell the learner what to do (close them, or start JupyterLab with
``OMP_NUM_THREADS=1``).
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


def cpu_sample():
    """``(busy seconds of the whole machine, CPU seconds of this process)``
    now, or None where ``/proc/stat`` does not exist (not Linux)."""
    try:
        with open('/proc/stat') as f:
            fields = f.readline().split()[1:]
    except OSError:
        return None
    ticks = [int(x) for x in fields[:8]]
    idle = ticks[3] + ticks[4]  # idle and iowait
    hz = os.sysconf('SC_CLK_TCK')
    own = os.times()
    return (sum(ticks) - idle) / hz, own.user + own.system


def other_programs_cores(before, after, seconds):
    """How many cores other programs kept busy between two :func:`cpu_sample`
    readings ``seconds`` apart (None when either reading is missing)."""
    if before is None or after is None or seconds <= 0:
        return None
    busy = after[0] - before[0]
    own = after[1] - before[1]
    return max(0.0, (busy - own) / seconds)

