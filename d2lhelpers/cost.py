"""What a network costs: parameters, multiply-adds and activation memory.

All three come from one forward pass of a real network (``shape_table``'s
pass, so the layers are the same rows with the same stable names) and are
given **per image**, whatever the batch size of ``X``:

parameters
    :func:`d2lhelpers.param_count`: learned parameters only (BatchNorm's
    running mean and variance are not counted).
multiply-adds (MACs)
    Only layers that own a weight matrix do multiplications here:
    ``Conv1D/2D/3D``: output elements x in_channels/groups x kernel size;
    ``Dense``: in_units x units (per output position). Both are
    ``output elements x weight.size / weight.shape[0]``. Bias additions,
    BatchNorm, activations, pooling, ``nd.concat`` and the ``+`` of a
    residual block count 0 (they are a few operations per element, not per
    weight, and conventionally left out).
activation memory
    The float32 bytes of every layer's output in one forward pass
    (4 bytes x output elements, summed over the leaf layers of
    :func:`d2lhelpers.shape_table`). This is what training keeps for the
    backward pass, roughly. Tensors made by functional code inside a block's
    ``forward`` (``nd.concat`` in ``DenseBlock``, ``Y + X`` and ``nd.relu``
    in ``Residual``) are not layers and are not counted; neither is the
    input, the parameters or the gradients. A layer called twice in one
    pass is counted once.

``cost_table({'DenseNet': net1, 'ResNet-18': net2}, (1, 1, 96, 96))`` puts
the three numbers of several networks side by side.
"""
import numpy as np
import pandas as pd
from mxnet.gluon import nn

from .shapes import _walk, param_count, shape_table

__all__ = ['layer_costs', 'model_cost', 'cost_table', 'BYTES_PER_VALUE']

BYTES_PER_VALUE = 4  # float32

COST_COLUMNS = ['params', 'MACs per image (M)', 'activation MB per image']


def _elements(shape):
    """Elements per image of an output shape (batch axis dropped)."""
    if shape is None:
        return 0  # never called in the forward pass
    if shape and isinstance(shape[0], tuple):  # a layer with several outputs
        return sum(_elements(s) for s in shape)
    return int(np.prod(shape[1:], dtype=np.int64))


def _macs(layer, out_elements):
    """Multiply-adds per image of one leaf layer producing ``out_elements``."""
    if isinstance(layer, nn.conv_layers._Conv):
        if layer._op_name != 'Convolution':
            raise ValueError(
                '%s is a transposed convolution; model_cost counts the '
                'multiply-adds of Conv1D/2D/3D and Dense layers only.'
                % type(layer).__name__)
    elif not isinstance(layer, nn.Dense):
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
        stable names) with columns ``type``, ``output shape``, ``params``,
        ``MACs`` and ``activation bytes`` (ints, per image).

    Raises
    ------
    ValueError
        As :func:`d2lhelpers.shape_table`: the network is not initialized, or
        a layer cannot process the shape it gets (the message names it).
    """
    table = shape_table(net, X)
    blocks = dict(_walk(net))
    blocks['(net)'] = net  # shape_table's row for a net that is one layer
    macs, act = [], []
    for name, row in table.iterrows():
        elements = _elements(row['output shape'])
        macs.append(_macs(blocks[name], elements))
        act.append(elements * BYTES_PER_VALUE)
    out = table[['type', 'output shape', 'params']].copy()
    out['MACs'] = pd.Series(macs, index=table.index, dtype='int64')
    out['activation bytes'] = pd.Series(act, index=table.index, dtype='int64')
    return out


def model_cost(net, X):
    """``{'params', 'MACs', 'activation bytes'}`` of ``net`` for input ``X`` (ints, per image).

    See the module docstring for what each number counts. ``params`` is
    :func:`d2lhelpers.param_count` of the whole network.
    """
    layers = layer_costs(net, X)
    return {'params': param_count(net),
            'MACs': int(layers['MACs'].sum()),
            'activation bytes': int(layers['activation bytes'].sum())}


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
        Indexed by name, columns ``params`` (int), ``MACs per image (M)``
        (millions, one decimal) and ``activation MB per image`` (10^6 bytes,
        two decimals).
    """
    if not isinstance(nets, dict) or not nets:
        raise ValueError('nets must be a non-empty dict name -> network, '
                         'e.g. {"DenseNet": net1, "ResNet-18": net2}.')
    rows = []
    for name, net in nets.items():
        try:
            cost = model_cost(net, X)
        except ValueError as err:
            raise ValueError('%s: %s' % (name, err)) from err
        rows.append((cost['params'], round(cost['MACs'] / 1e6, 1),
                     round(cost['activation bytes'] / 1e6, 2)))
    table = pd.DataFrame(rows, columns=COST_COLUMNS,
                         index=pd.Index(list(nets), name='network'))
    table['params'] = table['params'].astype('int64')
    return table
