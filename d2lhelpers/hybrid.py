"""Run the notes' imperative networks as one compiled graph.

The notes write their blocks as ``nn.Block`` with ``nd.concat``/``nd.relu``
in ``forward``: code that is easy to read and to step through, but that Gluon
runs one operator at a time. ``hybridized(net)`` builds, without touching
``net``, a ``HybridBlock`` "twin" that shares every layer and parameter:

* an ``nn.Sequential`` becomes an ``nn.HybridSequential`` of the same children;
* built-in layers (``Conv2D``, ``BatchNorm``, ...) are used as they are;
* a custom ``nn.Block`` (``Inception``, ``Residual``, ``DenseBlock``) is traced:
  its own ``forward`` code runs once with ``nd`` bound to Gluon's ``F``
  (``mx.sym`` while tracing), exactly the rewrite d2l's chapter on hybrid
  programming asks a learner to make by hand.

The twin is hybridized with ``static_alloc`` and ``static_shape`` (memory
planned once, reused every batch). Training it trains ``net``: the
parameters are the same objects. ``benchmarks/speed.py`` measures the gain:
1.06x to 2.08x for whole training loops on a 2-core CPU, least at 28x28
inputs, most for DenseNet at 96x96 (``benchmarks/README.md``).

Some blocks cannot be traced: the notes' from-scratch ``BatchNorm`` reads
``X.shape``, owns its parameters and swaps its moving averages in
``forward``. ``NotHybridizable`` then says which block stopped the trace and
why; callers fall back to running the network as written.
"""
import contextlib
import types

from mxnet import autograd
from mxnet.gluon import nn

from .shapes import _children, _walk


class NotHybridizable(TypeError):
    """The network holds a block that cannot run as a compiled graph."""


def _all_hybrid_blocks(block):
    """``block`` and its descendants that are HybridBlocks, each once."""
    found = {}
    for b in [block] + [child for _, child in _walk(block)]:
        if isinstance(b, nn.HybridBlock):
            found.setdefault(id(b), b)
    return list(found.values())


class TracedBlock(nn.HybridBlock):
    """A custom ``nn.Block`` whose ``forward`` is traced with ``nd`` -> ``F``.

    Shares the original's parameters and child layers; the original is not
    changed. Only ``forward(self, x, ...)`` code that uses the operators of
    ``nd`` on its inputs and on its child blocks' outputs can be traced.
    """

    def __init__(self, block):
        name = type(block).__name__
        if block._reg_params:
            raise NotHybridizable(
                '%s holds its own parameters (%s) and reads them with .data() '
                'in forward, which a compiled graph cannot do; it runs as '
                'written (imperatively).'
                % (name, ', '.join(block._reg_params)))
        super().__init__(prefix=block.prefix, params=block.params)
        self._source_name = name
        self._forward = type(block).forward
        self._bound = {}
        for attr, value in vars(block).items():
            if attr.startswith('_'):
                continue
            # Child blocks are registered as children of the twin (Gluon's
            # __setattr__ does that), their own twins where needed.
            setattr(self, attr, twin(value) if isinstance(value, nn.Block)
                    else value)

    def _forward_with(self, F):
        """The original ``forward`` code, with the global name ``nd`` bound to F."""
        if F not in self._bound:
            code = self._forward
            namespace = dict(code.__globals__, nd=F)
            rebound = types.FunctionType(code.__code__, namespace, code.__name__,
                                         code.__defaults__, code.__closure__)
            rebound.__kwdefaults__ = code.__kwdefaults__
            self._bound[F] = rebound
        return self._bound[F]

    def hybrid_forward(self, F, x, *args):
        try:
            return self._forward_with(F)(self, x, *args)
        except NotHybridizable:
            raise
        except Exception as e:
            raise NotHybridizable(
                '%s.forward could not be traced into a graph (%s: %s); it '
                'runs as written (imperatively).'
                % (self._source_name, type(e).__name__, e)) from e


def twin(block):
    """The hybridizable twin of ``block`` (``block`` itself if it is a HybridBlock)."""
    if isinstance(block, nn.HybridBlock):
        return block
    if type(block) is nn.Sequential:
        seq = nn.HybridSequential(prefix=block.prefix, params=block.params)
        for _, child in _children(block):
            seq.add(twin(child))
        return seq
    if type(block) is nn.Block or not isinstance(block, nn.Block):
        raise NotHybridizable('%r is not a network block.' % (block,))
    return TracedBlock(block)


def compile_if_possible(net, example, stack):
    """``(block to run, None)`` with ``net`` compiled for as long as the
    ``contextlib.ExitStack`` ``stack`` is open, or ``(net, reason)`` with the
    sentence saying why it cannot be compiled."""
    try:
        return stack.enter_context(hybridized(net, example)), None
    except NotHybridizable as e:
        return net, str(e)


@contextlib.contextmanager
def hybridized(net, example):
    """Within the ``with`` block, yield ``net`` as one compiled graph.

    ``example`` is a batch (NDArray) on the device ``net`` runs on: it is used
    once, in prediction mode, to trace the graph, so a block that cannot be
    traced is found before training starts (``NotHybridizable``). On leaving,
    every layer gets back the hybridization state it had, so ``net`` behaves
    exactly as before outside the ``with``.
    """
    runner = twin(net)
    blocks = _all_hybrid_blocks(runner)
    saved = [(b, b._active, list(b._flags)) for b in blocks]
    runner.hybridize(static_alloc=True, static_shape=True)
    try:
        try:
            with autograd.predict_mode():
                runner(example[:1])
        except NotHybridizable:
            raise
        except Exception as e:
            raise NotHybridizable(
                'the network could not be traced into a graph (%s: %s); it '
                'runs as written (imperatively).' % (type(e).__name__, e)) from e
        yield runner
    finally:
        for b, active, flags in saved:
            b._active, b._flags = active, flags
            b._clear_cached_op()
