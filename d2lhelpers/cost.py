"""What a network costs per image: parameters, multiply-adds, activation memory.

All three come from one forward pass (``shape_table``'s, so the rows are the
same layers with the same stable names), per image whatever the batch size:

* parameters: :func:`d2lhelpers.param_count` (learned ones only);
* multiply-adds (MACs): only ``Conv1D/2D/3D`` and ``Dense`` multiply, each
  output element reading ``weight.size / weight.shape[0]`` weights
  (in_channels/groups x kernel size, or in_units). Biases, BatchNorm,
  activations, pooling, ``nd.concat`` and a residual ``+`` count 0, as usual;
* activation memory: the float32 bytes of every leaf layer's output, roughly
  what training keeps for the backward pass. Tensors made by code inside a
  block's ``forward`` (``nd.concat``, ``Y + X``, ``nd.relu``), the input,
  parameters and gradients are not counted; a layer called twice counts once.

Tables use the column names of :mod:`d2lhelpers.shapes` plus :data:`MACS`,
:data:`ACTIVATION_BYTES` (``layer_costs``) or :data:`COST_COLUMNS`
(``cost_table``); :func:`model_cost` returns a dict with English keys
(``params``, ``MACs``, ``activation bytes``) for code to use.
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
    weight = layer.weight.shape
    # Conv: (out, in/groups, k...) -> each output element reads in/groups x k...
    # Dense: (units, in_units)     -> each output element reads in_units
    return out_elements * int(np.prod(weight[1:], dtype=np.int64))


def layer_costs(net, X):
    """One row per layer: output shape, parameters, MACs and activation bytes per image.

    Parameters
    ----------
    net : mxnet.gluon.Block
        An initialized network.
    X : NDArray or tuple
        The input batch, or its shape (``(1, 1, 96, 96)``).

    Returns
    -------
    pandas.DataFrame
        The rows and index of ``shape_table(net, X)`` (one per leaf layer,
        stable names) with columns ``类型``, ``输出形状``, ``参数数量``,
        :data:`MACS` and :data:`ACTIVATION_BYTES` (ints, per image).

    Raises
    ------
    ValueError
        As :func:`d2lhelpers.shape_table`: the network is not initialized, a
        size in ``X`` is not a positive integer, or a layer cannot process the
        shape it gets (the message names it).
    """
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
    """``{'params', 'MACs', 'activation bytes'}`` of ``net`` for input ``X`` (ints, per image).

    See the module docstring for what each number counts. ``params`` is
    :func:`d2lhelpers.param_count` of the whole network.
    """
    layers = layer_costs(net, X)
    return {'params': param_count(net),
            'MACs': int(layers[MACS].sum()),
            'activation bytes': int(layers[ACTIVATION_BYTES].sum())}


def cost_table(nets, X):
    """Parameters, MACs and activation memory of several networks, one row each.

    Parameters
    ----------
    nets : dict
        name -> initialized network, in the order the rows should have.
    X : NDArray or tuple
        The same input for every network (its shape is enough).

    Returns
    -------
    pandas.DataFrame
        Indexed by name (index name ``网络``), columns :data:`COST_COLUMNS`:
        ``参数数量`` (int), ``乘加次数（百万/图像）`` (millions, one decimal)
        and ``激活内存（MB/图像）`` (10^6 bytes, two decimals).
    """
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
