"""The plain functions behind the notebooks' explorers, one module per section
(contract: :mod:`d2lhelpers.widgets`). Shared: :func:`smallest_input`, "the
smallest input that fits", and :func:`recording`, the shapes blocks see.
"""
import contextlib
import functools

from mxnet import cpu, init, nd
from mxnet.gluon import Block

from .. import _gluon
from ..checks import check_int
from ..shapes import shape_table

__all__ = ['smallest_input', 'runs']

LARGEST_INPUT = 512


def image(net, size):
    """One zero ``size``×``size`` image of one channel (as Fashion-MNIST) on ``net``'s device."""
    params = list(net.collect_params().values())
    return nd.zeros((1, 1, size, size), ctx=params[0].list_ctx()[0] if params else cpu())


def _shapes(inputs, output):
    return tuple(inputs.shape), tuple(output.shape)


@contextlib.contextmanager
def recording(blocks, keep=_shapes):
    """Within the ``with``, ``seen[name]`` becomes ``keep(input, output)``
    (default: their shapes) of each of ``blocks`` (name -> block) at its first
    call on arrays (deferred shape inference calls hooks with Symbols: skipped)."""
    seen, handles = {}, []
    for name, blk in blocks.items():
        def hook(block, inputs, output, name=name):
            if name not in seen and isinstance(output, nd.NDArray):
                seen[name] = keep(inputs[0], output)
        handles.append(blk.register_forward_hook(hook))
    try:
        yield seen
    finally:
        for h in handles:
            h.detach()


def runs(net, size):
    """Whether ``net`` can process one ``size``×``size`` image (random state untouched)."""
    try:
        shape_table(net, image(net, size), max_depth=1)
    except ValueError:
        return False
    return True


def smallest_input(make_net_or_nets, fits=runs, maximum=LARGEST_INPUT):
    """The smallest square side ``n`` <= ``maximum`` with ``fits(net, n)`` for every net.

    ``make_net_or_nets``: an initialized network, a function building one
    (called afresh per size, as a ``Dense`` layer fixes its input size; zero
    init leaves the random state alone), or a dict or list of these. ``fits``
    must stay True as ``n`` grows. Doubling then bisecting; cached."""
    maximum = check_int('maximum', maximum, 1, 4096)
    if isinstance(make_net_or_nets, dict):
        nets = list(make_net_or_nets.values())
    elif isinstance(make_net_or_nets, (list, tuple)):
        nets = list(make_net_or_nets)
    else:
        nets = [make_net_or_nets]
    if not nets or not all(isinstance(n, Block) or callable(n) for n in nets):
        raise ValueError('make_net_or_nets 应是一个网络、一个构造网络的函数，或由它们组成的'
                         '非空字典或列表，收到的是 %r。' % (make_net_or_nets,))
    for net in nets:
        if isinstance(net, Block) and _gluon.uninitialized_params(net):
            raise ValueError('这个网络还没有初始化：请先调用 net.initialize()。')
    return max(_smallest(net, fits, maximum) for net in nets)


@functools.lru_cache(maxsize=None)
def _smallest(make_net, fits, maximum):
    def ok(size):
        net = make_net
        if not isinstance(net, Block):
            net = make_net()
            net.initialize(init.Zero())
        return fits(net, size)

    hi = 1
    while not ok(hi):  # double until it fits
        if hi >= maximum:
            raise ValueError('直到 %d×%d 的输入都不行：请检查网络，或增大 maximum。'
                             % (maximum, maximum))
        hi = min(2 * hi, maximum)
    lo = hi // 2 + 1
    while lo < hi:  # invariant: ok(hi), and no size below lo is ok
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid + 1
    return hi
