"""Device selection that never fails: a GPU when MXNet can use one, else the CPU."""
import mxnet as mx

from .settings import cpu_forced as _cpu_forced, omp_threads


def visible_gpus():
    """GPUs MXNet sees, whatever ``D2L_DEVICE`` says: 0 with a CPU-only build or no driver."""
    try:
        return mx.context.num_gpus()
    except mx.base.MXNetError:  # CPU-only build or no driver
        return 0


def num_gpus():
    """GPUs MXNet can use: 0 with a CPU-only build, no GPU, or ``D2L_DEVICE=cpu``."""
    return 0 if _cpu_forced() else visible_gpus()


def devices(ctx, one=False):
    """``ctx`` (None: the CPU) as a list of this machine's devices; ``one``: exactly one."""
    ctxs = [mx.cpu()] if ctx is None else list(ctx) if isinstance(ctx, (list, tuple)) else [ctx]
    if not ctxs:
        raise ValueError('ctx 是空的列表；请传入一个设备（例如 ctx = d2lh.try_gpu()）'
                         '或几个设备的列表。')
    if one and len(ctxs) > 1:
        raise ValueError('这里只用一个设备，收到的是 %d 个；请传入其中一个，例如 ctx[0]。'
                         % len(ctxs))
    gpus = visible_gpus()
    for c in ctxs:
        if not isinstance(c, mx.Context):
            raise ValueError('ctx 应是 MXNet 的设备，例如 mx.cpu()、mx.gpu(0) 或 '
                             'd2lh.try_gpu() 的结果；收到的是 %r（%s）。'
                             % (c, type(c).__name__))
        if c.device_type == 'gpu' and c.device_id >= gpus:
            raise ValueError('这台机器上没有设备 %s，只有 %s；请用 ctx = d2lh.try_gpu()，'
                             '没有 GPU 时它返回 cpu(0)。' % (c, ', '.join(
                                 ['cpu(0)'] + ['gpu(%d)' % i for i in range(gpus)])))
    return ctxs


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
