"""Device selection that never fails: a GPU when MXNet can use one, else the CPU."""
import mxnet as mx

from .settings import cpu_forced as _cpu_forced, omp_threads


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
    """One Chinese line saying what the notebooks compute on, e.g.
    ``cpu(0)：CPU，2 个 OpenMP 线程，MXNet 1.9.1``."""
    ctx = ctx or try_gpu()
    ctxs = ctx if isinstance(ctx, (list, tuple)) else [ctx]
    names = ', '.join(str(c) for c in ctxs)
    if all(c.device_type == 'cpu' for c in ctxs):
        threads, _ = omp_threads()
        return '%s：CPU，%s，MXNet %s%s' % (
            names, '%d 个 OpenMP 线程' % threads if threads else 'OpenMP 线程数由 MXNet 决定',
            mx.__version__, '（D2L_DEVICE=cpu 指定只用 CPU）' if _cpu_forced() else '')
    return '%s：%d 块 GPU，MXNet %s' % (names, len(ctxs), mx.__version__)
