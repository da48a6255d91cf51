"""Device selection that never fails: a GPU when MXNet can use one, else the CPU."""
import os

import mxnet as mx


def _cpu_forced():
    return os.environ.get('D2L_DEVICE', '').strip().lower() == 'cpu'


def num_gpus():
    """GPUs MXNet can use: 0 with a CPU-only build, no GPU, or ``D2L_DEVICE=cpu``."""
    if _cpu_forced():
        return 0
    try:
        return mx.context.num_gpus()
    except mx.base.MXNetError:  # CPU-only build or no driver
        return 0


def try_gpu(i=0):
    """Return ``mx.gpu(i)`` if that GPU exists, otherwise ``mx.cpu()``."""
    if i < num_gpus():
        try:
            # A GPU can be listed yet unusable (driver mismatch): try one op.
            mx.nd.zeros((1,), ctx=mx.gpu(i)).wait_to_read()
            return mx.gpu(i)
        except mx.base.MXNetError:
            pass
    return mx.cpu()


def try_all_gpus():
    """Return every usable GPU context, or ``[mx.cpu()]`` when there is none."""
    ctxs = [try_gpu(i) for i in range(num_gpus())]
    ctxs = [c for c in ctxs if c.device_type == 'gpu']
    return ctxs or [mx.cpu()]


def describe_device(ctx=None):
    """One line saying what the notebooks compute on, e.g. ``cpu(0): 2 cores ...``."""
    ctx = ctx or try_gpu()
    ctxs = ctx if isinstance(ctx, (list, tuple)) else [ctx]
    names = ', '.join(str(c) for c in ctxs)
    if all(c.device_type == 'cpu' for c in ctxs):
        reason = ' (forced by D2L_DEVICE=cpu)' if _cpu_forced() else ''
        return ('%s: CPU with %s OpenMP threads, MXNet %s%s'
                % (names, os.environ.get('OMP_NUM_THREADS', 'default'),
                   mx.__version__, reason))
    return '%s: %d GPU(s), MXNet %s' % (names, len(ctxs), mx.__version__)
