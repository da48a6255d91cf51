"""Layer-by-layer output shapes and parameter counts of a Gluon network.

Rows are named by position (``'2.0.p2_2'``: child ``2`` of the net, its child
``0``, attribute ``p2_2``), never by Gluon's automatic names such as
``conv5``, which change every time the cell building the network is re-run.
"""
import contextlib
import io
import math
import re
import sys

import pandas as pd
from mxnet import autograd, nd
from mxnet.base import MXNetError
from mxnet.gluon import Block

from . import _gluon
from .checks import check_elements, check_int

__all__ = ['shape_table', 'param_count', 'input_batch', 'COLUMNS']

# Column names, as the book says them; cost.py and the notebooks index with these.
DEPTH, TYPE, OUTPUT_SHAPE, PARAMS = '深度', '类型', '输出形状', '参数数量'
COLUMNS = [DEPTH, TYPE, OUTPUT_SHAPE, PARAMS]
INDEX = '层'


def param_count(block, trainable_only=True):
    """Number of parameters in ``block`` and its children, once their shapes are
    known. ``trainable_only`` leaves out ``grad_req='null'`` (``nn.BatchNorm``'s
    running statistics), so Gluon's and the notes' BatchNorm count the same."""
    total = 0
    for name, p in block.collect_params().items():
        if trainable_only and p.grad_req == 'null':
            continue
        shape = p.shape
        if shape is None or any(d <= 0 for d in shape):
            raise ValueError('参数 %s 的形状 %s 还不知道（延后初始化）；请先做一次前向计算'
                             '（例如 net(X)），再数参数。' % (name, shape))
        total += math.prod(shape)
    return int(total)


def input_batch(X):
    """``X`` as an NDArray; a shape (checked before allocating) becomes a random batch."""
    if isinstance(X, nd.NDArray):
        return X
    if isinstance(X, (tuple, list)):
        if not X:
            raise ValueError('输入的形状是空的；请写出 (批量大小, 通道数, 高, 宽)，'
                             '例如 (1, 1, 28, 28)。')
        shape = tuple(check_int('输入形状 %r 的第 %d 个数' % (tuple(X), i), d, 1,
                                why='形状里的每个数（批量大小、通道数、高、宽）'
                                '都应是正整数。')
                      for i, d in enumerate(X, 1))
        check_elements('输入', shape)
        return nd.random.uniform(shape=shape)
    return nd.array(X)


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

    handles = []
    for _, b in _gluon.walk(net):
        handles.append(b.register_forward_pre_hook(pre_hook))
        handles.append(b.register_forward_hook(hook))
    captured = io.StringIO()
    try:
        with _gluon.imperative(net), autograd.pause(train_mode=False), \
                contextlib.redirect_stdout(captured):
            out = net(X)
    except (MXNetError, ValueError) as err:
        if not stack:
            raise
        block, in_shape = stack[-1]
        raise ValueError('层 %s（%s）无法处理形状为 %s 的输入：%s。' % (
            names.get(id(block), '?'), type(block).__name__, in_shape,
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
    """One row per layer of the initialized ``net``, in forward order: depth, class,
    output shape for ``X`` (a batch or a shape; None for a container never called
    as a whole) and parameters. ``max_depth=d`` stops ``d`` levels deep (1: the
    children). ValueError names the layer that cannot take the shape it gets."""
    if not isinstance(net, Block):
        raise ValueError('net 应是一个 Gluon 的块（nn.Block），收到的是 %s。'
                         % type(net).__name__)
    if max_depth is not None:
        check_int('max_depth', max_depth, 1)
    missing = _gluon.uninitialized_params(net)
    if missing:
        raise ValueError('网络还没有初始化（%d 个参数没有值）；请先调用 net.initialize()。'
                         % len(missing))
    X = input_batch(X)

    names = {}
    for path, b in _gluon.walk(net):
        names.setdefault(id(b), path)
    started, shapes, net_shape = _run(net, X, names)

    def first_call(block):
        own = [started[id(block)]] if id(block) in started else []
        sub = [started[id(b)] for _, b in _gluon.walk(block) if id(b) in started]
        return min(own + sub, default=float('inf'))

    rows = []

    def visit(block, prefix, depth):
        kids = sorted(_gluon.children(block), key=lambda kv: first_call(kv[1]))
        for name, child in kids:
            path = prefix + name
            if _gluon.is_layer(child) or depth == max_depth:
                rows.append((path, depth, type(child).__name__,
                             shapes.get(id(child)), param_count(child)))
            else:
                visit(child, path + '.', depth + 1)

    if _gluon.is_layer(net):
        rows.append(('(net)', 0, type(net).__name__, net_shape,
                     param_count(net)))
    else:
        visit(net, '', 1)
    table = pd.DataFrame([r[1:] for r in rows], columns=COLUMNS,
                         index=pd.Index([r[0] for r in rows], name=INDEX))
    return table.astype({PARAMS: 'int64', DEPTH: 'int64'})
