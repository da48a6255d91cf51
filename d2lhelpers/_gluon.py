"""The only module that touches Gluon's private attributes (children, own
parameters, layer settings, hybridization state), so that a change of MXNet
version is a change of this file; also the one training step
(:func:`train_step`); the one way to compile is ``hybrid.compile_if_possible``.
"""
import contextlib

from mxnet import autograd, nd
from mxnet.gluon import HybridBlock, nn

__all__ = ['children', 'walk', 'own_param_names', 'is_layer', 'conv_channels',
           'uninitialized_params', 'imperative', 'hybrid_blocks',
           'is_hybridized', 'kept_hybridization', 'kept_state',
           'conv_kind', 'is_pooling', 'layer_config', 'train_step']


def children(block):
    """``(name, child)`` pairs in registration order."""
    return list(block._children.items())


def walk(block, prefix=''):
    """Yield ``(stable name, block)`` for every descendant, depth first."""
    for name, child in children(block):
        path = prefix + name
        yield path, child
        yield from walk(child, path + '.')


def own_param_names(block):
    """Names of the parameters ``block`` registered itself (not its children's)."""
    return list(block._reg_params)


def is_layer(block):
    """A block shown as one row: no children, or own weights (``Conv2D(...,
    activation='relu')`` has a child ``act`` but is one layer)."""
    return not block._children or bool(block._reg_params)


def conv_channels(conv):
    """Output channels of a ``Conv2D`` (known before initialization)."""
    return conv._channels


def conv_kind(layer):
    """``'convolution'``, ``'transposed'`` (``Conv2DTranspose`` ...) or None."""
    if not isinstance(layer, nn.conv_layers._Conv):
        return None
    return 'convolution' if layer._op_name == 'Convolution' else 'transposed'


def uninitialized_params(net):
    """Names of parameters with neither values nor a pending deferred init."""
    return [p.name for p in net.collect_params().values()
            if p._data is None and not p._deferred_init]


# ------------------------------------------------------- hybridization state
def hybrid_blocks(block):
    """``block`` and its descendants that are HybridBlocks, each once."""
    return list({id(b): b for b in [block] + [c for _, c in walk(block)]
                 if isinstance(b, HybridBlock)}.values())


def is_hybridized(block):
    """True when ``block`` runs as a compiled graph (``hybridize()`` was called)."""
    return block._active


@contextlib.contextmanager
def kept_hybridization(block):
    """Yield the HybridBlocks of ``block``; on leaving, each gets back the
    hybridization state it had, and graphs compiled meanwhile are dropped."""
    saved = [(b, b._active, list(b._flags)) for b in hybrid_blocks(block)]
    try:
        yield [b for b, _, _ in saved]
    finally:
        for b, active, flags in saved:
            b._active, b._flags = active, flags
            b._clear_cached_op()


@contextlib.contextmanager
def imperative(net):
    """Temporarily un-hybridize every HybridBlock so child hooks fire."""
    with kept_hybridization(net) as blocks:
        for b in blocks:
            b._active = False
        yield


@contextlib.contextmanager
def kept_state(net):
    """On leaving, restore the (initialized) ``net``'s parameters and the
    NDArrays its blocks keep as attributes (the notes' BatchNorm's averages)."""
    params = {name: p.data().copy() for name, p in net.collect_params().items()}
    arrays = [(b, attr, value.copy()) for b in [net] + [b for _, b in walk(net)]
              for attr, value in vars(b).items() if isinstance(value, nd.NDArray)]
    try:
        yield
    finally:
        nd.waitall()
        for name, p in net.collect_params().items():
            p.set_data(params[name])
        for b, attr, value in arrays:
            setattr(b, attr, value)


# ------------------------------------------------------ training and compiling
def train_step(net, loss, trainer, Xs, ys, batch_size):
    """Forward, loss, backward, ``trainer.step`` on one slice of the batch per
    device; returns the losses and outputs per device, unread (no sync)."""
    with autograd.record():
        outputs = [net(X) for X in Xs]
        losses = [loss(out, y) for out, y in zip(outputs, ys)]
    for l in losses:
        l.backward()
    trainer.step(batch_size)
    return losses, outputs


def layer_config(layer):
    """A layer's settings as a dict: its operator's keyword arguments (``kernel``,
    ``stride``, ``pool_type``, ...) and whichever of ``channels``, ``units``,
    ``act_type``, ``rate`` apply."""
    config = dict(getattr(layer, '_kwargs', None) or {})
    for key in ('channels', 'units', 'act_type', 'rate'):
        if hasattr(layer, '_' + key):
            config[key] = getattr(layer, '_' + key)
    return config


def is_pooling(layer):
    """Whether ``layer`` is a (global) max/avg pooling layer of any dimension."""
    return isinstance(layer, nn.conv_layers._Pooling)
