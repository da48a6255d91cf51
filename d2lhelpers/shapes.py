"""Layer-by-layer output shapes and parameter counts of a Gluon network.

``shape_table(net, X)`` runs one forward pass in prediction mode and returns
a pandas DataFrame with one row per layer. Rows are named by their position
in the network (``'2.0.p2_2'`` = child ``2`` of the net, its child ``0``, that
block's attribute ``p2_2``), never by Gluon's automatic names such as
``conv5``, which change every time a cell that builds the network is re-run.
"""
import contextlib
import io
import re
import sys

import pandas as pd
from mxnet import autograd, nd
from mxnet.base import MXNetError
from mxnet.gluon import Block, HybridBlock

__all__ = ['shape_table', 'param_count']

COLUMNS = ['depth', 'type', 'output shape', 'params']


def _children(block):
    """``(name, child)`` pairs in registration order."""
    return list(block._children.items())


def _is_layer(block):
    """A block shown as one row: no children, or a layer with its own weights.

    ``Conv2D(..., activation='relu')`` registers its activation as a child
    ``act`` but is still one layer, so blocks that own parameters are leaves.
    """
    return not block._children or bool(block._reg_params)


def param_count(block, trainable_only=True):
    """Number of parameters in ``block`` and its children (an int).

    With ``trainable_only`` (the default) parameters that are not learned
    (``grad_req='null'``, e.g. the running mean and variance of Gluon's
    ``nn.BatchNorm``) are left out, so Gluon's BatchNorm and the notes'
    from-scratch ``BatchNorm`` both count ``2 * channels``. Raises ValueError
    if some shape is still unknown (deferred initialization): run one forward
    pass first, or use :func:`shape_table`, which does.
    """
    total = 0
    for name, p in block.collect_params().items():
        if trainable_only and p.grad_req == 'null':
            continue
        shape = p.shape
        if shape is None or any(d <= 0 for d in shape):
            raise ValueError(
                'The shape of parameter %s is not known yet %s; run one '
                'forward pass (e.g. net(X)) before counting parameters.'
                % (name, shape))
        n = 1
        for d in shape:
            n *= d
        total += n
    return int(total)


def _check_initialized(net):
    missing = [p.name for p in net.collect_params().values()
               if p._data is None and not p._deferred_init]
    if missing:
        raise ValueError(
            'The network is not initialized (%d parameters have no values); '
            'call net.initialize() first.' % len(missing))


def _walk(block, prefix=''):
    """Yield ``(stable name, block)`` for every descendant, depth first."""
    for name, child in _children(block):
        path = prefix + name
        yield path, child
        yield from _walk(child, path + '.')


def _shape_of(out):
    if isinstance(out, (list, tuple)):
        return tuple(_shape_of(o) for o in out)
    shape = getattr(out, 'shape', None)
    return tuple(int(d) for d in shape) if shape is not None else None


def _short_reason(err):
    """The useful sentence of an MXNet shape error, without C++ file names."""
    text = str(err)
    checks = re.findall(r'Check failed: (.*)', text)
    if checks:
        line = checks[-1].strip()
        # "expr (5 vs. 2) : kernel size exceed input" -> text after last ': '
        reason = line.rsplit(': ', 1)[-1].strip()
        numbers = re.search(r'\((\d+) vs\. (\d+)\)', line)
        if numbers and numbers.group(0) not in reason:
            reason += ' (%s vs. %s)' % numbers.groups()
        return reason
    lines = [l for l in text.splitlines() if l.strip()]
    last = lines[-1] if lines else text
    return last.split('MXNetError:')[-1].strip()


@contextlib.contextmanager
def _imperative(net):
    """Temporarily un-hybridize every HybridBlock so child hooks fire."""
    saved = [(b, b._active) for _, b in [('', net)] + list(_walk(net))
             if isinstance(b, HybridBlock)]
    try:
        for b, _ in saved:
            b._active = False
        yield
    finally:
        for b, active in saved:
            b._active = active


def _run(net, X, names):
    """Forward pass recording, per block, call order and output shape."""
    started, shapes, stack = {}, {}, []

    def pre_hook(block, inputs):
        started.setdefault(id(block), len(started))
        stack.append((block, _shape_of(inputs[0]) if inputs else None))

    def hook(block, inputs, output):
        shapes.setdefault(id(block), _shape_of(output))
        if stack:
            stack.pop()

    blocks = [b for _, b in _walk(net)]
    handles = []
    for b in blocks:
        handles.append(b.register_forward_pre_hook(pre_hook))
        handles.append(b.register_forward_hook(hook))
    captured = io.StringIO()
    try:
        with _imperative(net), autograd.pause(train_mode=False), \
                contextlib.redirect_stdout(captured):
            out = net(X)
    except (MXNetError, ValueError) as err:
        if not stack:
            raise
        block, in_shape = stack[-1]
        name = names.get(id(block), '?')
        raise ValueError(
            'Layer %s (%s) cannot process an input of shape %s: %s.'
            % (name, type(block).__name__, in_shape,
               _short_reason(err).rstrip('.'))) from err
    finally:
        for h in handles:
            h.detach()
        _reemit(captured.getvalue())
    return started, shapes, _shape_of(out)


def _reemit(text):
    """Print what the forward pass printed, minus MXNet's infer_shape dump."""
    keep, skipping = [], False
    for line in text.splitlines(True):
        if line.startswith('infer_shape error. Arguments:'):
            skipping = True
            continue
        if skipping and line.startswith('  '):
            continue
        skipping = False
        keep.append(line)
    if keep:
        sys.stdout.write(''.join(keep))


def shape_table(net, X, max_depth=None):
    """One row per layer of ``net``: its output shape for input ``X`` and its parameters.

    Parameters
    ----------
    net : mxnet.gluon.Block
        An initialized network (``net.initialize()``); Sequential containers
        and custom blocks (e.g. ``Inception``, ``Residual``) are entered.
        Hybridized networks work too.
    X : NDArray or tuple
        The input batch, or its shape (a random input of that shape is used).
    max_depth : int or None
        ``None``: one row per layer (leaf block). ``1``: one row per
        top-level child of ``net``; ``d``: rows for blocks ``d`` levels deep,
        plus layers that are shallower than that.

    Returns
    -------
    pandas.DataFrame
        Indexed by the layer's stable name (``'2.0.p2_2'``: child ``2`` of the
        net, its child ``0``, attribute ``p2_2``), with columns ``depth``
        (1 = top-level child), ``type`` (class name), ``output shape`` (a
        tuple, batch axis first; None for a container the forward code never
        calls as a whole) and ``params`` (learned parameters of the row's
        block including its children). Rows are in the order the forward pass
        runs them.

    Raises
    ------
    ValueError
        If ``net`` is not initialized, or if a layer cannot process the shape
        it receives (e.g. a pooling window larger than its input); the
        message names that layer and the input shape it got.
    """
    if not isinstance(net, Block):
        raise TypeError('net must be a Gluon Block, not %s.'
                        % type(net).__name__)
    if max_depth is not None and max_depth < 1:
        raise ValueError('max_depth must be None or at least 1, not %r.'
                         % (max_depth,))
    _check_initialized(net)
    if isinstance(X, (tuple, list)):
        X = nd.random.uniform(shape=tuple(X))
    elif not isinstance(X, nd.NDArray):
        X = nd.array(X)

    names = {}
    for path, b in _walk(net):
        names.setdefault(id(b), path)
    started, shapes, net_shape = _run(net, X, names)

    def first_call(block):
        own = [started[id(block)]] if id(block) in started else []
        sub = [started[id(b)] for _, b in _walk(block) if id(b) in started]
        return min(own + sub, default=float('inf'))

    rows = []

    def visit(block, prefix, depth):
        kids = sorted(_children(block), key=lambda kv: first_call(kv[1]))
        for name, child in kids:
            path = prefix + name
            if _is_layer(child) or depth == max_depth:
                rows.append((path, depth, type(child).__name__,
                             shapes.get(id(child)), param_count(child)))
            else:
                visit(child, path + '.', depth + 1)

    if _is_layer(net):
        rows.append(('(net)', 0, type(net).__name__, net_shape,
                     param_count(net)))
    else:
        visit(net, '', 1)
    table = pd.DataFrame([r[1:] for r in rows], columns=COLUMNS,
                         index=pd.Index([r[0] for r in rows], name='layer'))
    table['params'] = table['params'].astype('int64')
    table['depth'] = table['depth'].astype('int64')
    return table
