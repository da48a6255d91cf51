"""Run the notes' imperative ``nn.Block`` networks as one compiled graph.

``hybridized(net)`` builds, without touching ``net``, a ``HybridBlock`` twin
sharing every layer and parameter: ``nn.Sequential`` becomes
``nn.HybridSequential``, built-in layers stay, and a custom block's own
``forward`` is traced with ``nd`` bound to Gluon's ``F`` (what d2l's hybrid
chapter does by hand). Training the twin trains ``net``, 1.06x to 2.08x faster
on 2 cores. A block that cannot be traced (the from-scratch ``BatchNorm``)
raises ``NotHybridizable`` saying which and why. Callers go through
:func:`compile_if_possible` (the one entry point train_ch5, throughput and
the benchmarks use).
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
    """A custom ``nn.Block`` whose ``forward`` (``nd`` operators on its inputs and
    its children's outputs only) is traced with ``nd`` -> ``F``; shares all."""

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
            # Gluon's __setattr__ registers child blocks (twinned) as children.
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
    """Yield ``net`` as one compiled graph, traced on ``example[:1]`` (a batch on
    its device) so ``NotHybridizable`` comes before training; on leaving every
    layer gets back its hybridization state."""
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


def compile_if_possible(net, loss, example, stack, hybridize=True):
    """``(block to run, None)`` with ``net`` and ``loss`` compiled while the
    ``ExitStack`` ``stack`` is open, or ``(net, reason)``: the (Chinese)
    sentence why ``net`` runs as written. ``example``: a batch on its device;
    ``loss``: None when predicting only."""
    if not hybridize:
        return net, 'hybridize=False，按写法（命令式）执行。'
    try:
        runner = stack.enter_context(hybridized(net, example))
    except NotHybridizable as e:
        return net, str(e)
    if loss is not None:
        loss.hybridize(static_alloc=True, static_shape=True)
    return runner, None
