"""What a network costs per image: parameters, multiply-adds, activation memory.

All three from ``shape_table``'s forward pass (same rows): learned parameters;
multiply-adds (MACs) of ``Conv1D/2D/3D`` and ``Dense`` only, as usual; and
activation memory, the float32 bytes of every leaf layer's output, roughly
what training keeps for backward (tensors made inside a ``forward``, such as
``nd.concat`` or ``Y + X``, are not counted; a layer called twice counts once).
"""
import numpy as np
import pandas as pd
from mxnet.gluon import nn

from . import _gluon
from .shapes import OUTPUT_SHAPE, PARAMS, TYPE, input_batch, param_count, shape_table

__all__ = ['layer_costs', 'model_cost', 'cost_table', 'BYTES_PER_VALUE',
           'COST_COLUMNS', 'MACS', 'ACTIVATION_BYTES', 'MACS_M', 'ACTIVATION_MB']

BYTES_PER_VALUE = 4  # float32

# layer_costs' columns (ints, per image) and cost_table's (rounded, per image).
MACS, ACTIVATION_BYTES = '乘加次数', '激活内存（字节）'
MACS_M, ACTIVATION_MB = '乘加次数（百万/图像）', '激活内存（MB/图像）'
COST_COLUMNS = [PARAMS, MACS_M, ACTIVATION_MB]


def _elements(shape):
    """Elements per image of an output shape (batch axis dropped)."""
    if shape is None:
        return 0  # never called in the forward pass
    if shape and isinstance(shape[0], tuple):  # a layer with several outputs
        return sum(_elements(s) for s in shape)
    return int(np.prod(shape[1:], dtype=np.int64))


def _macs(layer, out_elements):
    """Multiply-adds per image of one leaf layer producing ``out_elements``."""
    kind = _gluon.conv_kind(layer)
    if kind == 'transposed':
        raise ValueError('%s 是转置卷积；model_cost 只数 Conv1D/2D/3D 和 Dense '
                         '层的乘加次数。' % type(layer).__name__)
    if kind is None and not isinstance(layer, nn.Dense):
        return 0
    # weight (out, in/groups, k...) or (units, in_units): one output reads weight[1:]
    return out_elements * int(np.prod(layer.weight.shape[1:], dtype=np.int64))


def layer_costs(net, X):
    """``shape_table(net, X)``'s rows with columns ``类型``, ``输出形状``, ``参数数量``,
    :data:`MACS` and :data:`ACTIVATION_BYTES` (ints, per image); its ValueErrors."""
    table = shape_table(net, X)
    blocks = dict(_gluon.walk(net))
    blocks['(net)'] = net  # shape_table's row for a net that is one layer
    macs, act = [], []
    for name, shape in table[OUTPUT_SHAPE].items():
        elements = _elements(shape)
        macs.append(_macs(blocks[name], elements))
        act.append(elements * BYTES_PER_VALUE)
    out = table[[TYPE, OUTPUT_SHAPE, PARAMS]].copy()
    out[MACS] = pd.Series(macs, index=table.index, dtype='int64')
    out[ACTIVATION_BYTES] = pd.Series(act, index=table.index, dtype='int64')
    return out


def model_cost(net, X):
    """``{'params', 'MACs', 'activation bytes'}`` of ``net`` for input ``X`` (ints, per image)."""
    layers = layer_costs(net, X)
    return {'params': param_count(net),
            'MACs': int(layers[MACS].sum()),
            'activation bytes': int(layers[ACTIVATION_BYTES].sum())}


def cost_table(nets, X):
    """One row per network of ``nets`` (name -> initialized net), same input ``X``:
    :data:`COST_COLUMNS`, MACs in millions (one decimal), memory in MB (two)."""
    if not isinstance(nets, dict) or not nets:
        raise ValueError('nets 应是一个非空的字典：名字 -> 网络，例如 '
                         '{"DenseNet": net1, "ResNet-18": net2}。')
    X = input_batch(X)
    rows = []
    for name, net in nets.items():
        try:
            cost = model_cost(net, X)
        except ValueError as err:
            raise ValueError('%s：%s' % (name, err)) from err
        rows.append((cost['params'], round(cost['MACs'] / 1e6, 1),
                     round(cost['activation bytes'] / 1e6, 2)))
    table = pd.DataFrame(rows, columns=COST_COLUMNS,
                         index=pd.Index(list(nets), name='网络'))
    return table.astype({PARAMS: 'int64'})
