"""Run the notes' imperative networks as one compiled graph.

The notes write their blocks as ``nn.Block`` with ``nd.concat``/``nd.relu``
in ``forward``: easy to read and step through, but run one operator at a
time. ``hybridized(net)`` builds, without touching ``net``, a ``HybridBlock``
"twin" sharing every layer and parameter: an ``nn.Sequential`` becomes an
``nn.HybridSequential`` of the same children, built-in layers are used as
they are, and a custom ``nn.Block`` (``Inception``, ``Residual``,
``DenseBlock``) is traced: its own ``forward`` runs with ``nd`` bound to
Gluon's ``F``, the rewrite d2l's chapter on hybrid programming asks for by
hand. The twin runs with ``static_alloc`` and ``static_shape``; training it
trains ``net``. Gain: 1.06x to 2.08x for whole training loops on a 2-core
CPU (``benchmarks/README.md``). Callers go through
:func:`d2lhelpers._gluon.compile_if_possible`.

Some blocks cannot be traced (the notes' from-scratch ``BatchNorm`` reads
``X.shape``, owns its parameters and swaps its moving averages):
``NotHybridizable`` says, in Chinese as learners see it, which block and
why; callers then run the network as written.
"""
import contextlib
import types

from mxnet import autograd
from mxnet.gluon import nn

from . import _gluon

_AS_WRITTEN = '它按写法（命令式）执行。'


class NotHybridizable(TypeError):
    """The network holds a block that cannot run as a compiled graph."""


class TracedBlock(nn.HybridBlock):
    """A custom ``nn.Block`` whose ``forward`` is traced with ``nd`` -> ``F``.

    Shares the original's parameters and child layers; the original is not
    changed. Only ``forward(self, x, ...)`` code that uses the operators of
    ``nd`` on its inputs and on its child blocks' outputs can be traced.
    """

    def __init__(self, block):
        name = type(block).__name__
        own = _gluon.own_param_names(block)
        if own:
            raise NotHybridizable(
                '%s 自己持有参数（%s），并在 forward 里用 .data() 读取，编译成的'
                '计算图做不到这一点；%s' % (name, ', '.join(own), _AS_WRITTEN))
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
            raise NotHybridizable('%s.forward 无法追踪成计算图（%s: %s）；%s' % (
                self._source_name, type(e).__name__, e, _AS_WRITTEN)) from e


def twin(block):
    """The hybridizable twin of ``block`` (``block`` itself if it is a HybridBlock)."""
    if isinstance(block, nn.HybridBlock):
        return block
    if type(block) is nn.Sequential:
        seq = nn.HybridSequential(prefix=block.prefix, params=block.params)
        for _, child in _gluon.children(block):
            seq.add(twin(child))
        return seq
    if type(block) is nn.Block or not isinstance(block, nn.Block):
        raise NotHybridizable('%r 不是一个网络块。' % (block,))
    return TracedBlock(block)


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
    with _gluon.kept_hybridization(runner):
        runner.hybridize(static_alloc=True, static_shape=True)
        try:
            with autograd.predict_mode():
                runner(example[:1])
        except NotHybridizable:
            raise
        except Exception as e:
            raise NotHybridizable('这个网络无法追踪成计算图（%s: %s）；%s' % (
                type(e).__name__, e, _AS_WRITTEN)) from e
        yield runner
