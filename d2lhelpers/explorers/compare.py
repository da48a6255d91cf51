"""Explorer of the comparison notebook: what a training batch costs each network.

``training_memory(networks, input_size, batch_size)`` builds every network
afresh, runs one forward pass at ``input_size`` (``d2lhelpers.cost.model_cost``)
and scales the per-image figures to a batch: the layer outputs training keeps
for the backward pass, and the weights with their gradients. Sizes a network
cannot take (DenseNet below 29x29, LeNet below 16x16) are refused with a
sentence that names the network and the smallest size that works for all.

Networks are built afresh for every size because a LeNet cannot change size:
its first ``Dense`` layer learns its number of inputs from the first batch it
sees (deferred initialisation), so the same LeNet refuses any other size.
"""
import numpy as np
import pandas as pd

from ..cost import BYTES_PER_VALUE, model_cost

__all__ = ['training_memory', 'smallest_common_input']

LARGEST_INPUT = 512


def _check_int(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError('%s must be a whole number, not %r.' % (name, value))
    if value < minimum:
        raise ValueError('%s must be at least %d, got %d.' % (name, minimum, value))


def _cost(make, size):
    net = make()
    net.initialize()
    return model_cost(net, (1, 1, size, size))


def _fits(make, size):
    try:
        _cost(make, size)
        return True
    except ValueError:
        return False


def smallest_common_input(networks, start=1):
    """The smallest square side from ``start`` on that every network accepts.

    ``networks`` maps a name to a function that builds the network.
    """
    size = start
    for make in networks.values():
        while not _fits(make, size):
            size += 1
            if size > LARGEST_INPUT:
                raise ValueError('No input side up to %d fits every network.'
                                 % LARGEST_INPUT)
    return size


def training_memory(networks, input_size=96, batch_size=128):
    """A sentence and a table: each network's cost for one training batch.

    ``networks`` maps a name to a function that builds the network
    (``d2lhelpers.models.resnet18``, say).

    Columns: ``params``, ``MACs per image (M)``, ``layer outputs per batch
    (MB)`` (activation memory per image x ``batch_size``) and ``weights +
    gradients (MB)`` (two float32 values per parameter). Megabytes are 10^6
    bytes. Raises ValueError for a size some network cannot take.
    """
    if not isinstance(networks, dict) or not networks:
        raise ValueError('networks must be a non-empty dict name -> function '
                         'that builds the network.')
    _check_int('input_size', input_size, 1)
    _check_int('batch_size', batch_size, 1)
    if input_size > LARGEST_INPUT:
        raise ValueError('input_size %d is larger than this explorer allows '
                         '(%d).' % (input_size, LARGEST_INPUT))
    rows, refused = [], []
    for name, make in networks.items():
        try:
            cost = _cost(make, input_size)
        except ValueError as err:
            refused.append((name, str(err)))
            continue
        rows.append((name, cost['params'], round(cost['MACs'] / 1e6, 1),
                     round(cost['activation bytes'] * batch_size / 1e6, 1),
                     round(2 * BYTES_PER_VALUE * cost['params'] / 1e6, 1)))
    if refused:
        names = ', '.join(name for name, _ in refused)
        smallest = smallest_common_input(networks, input_size + 1)
        raise ValueError(
            'At %d×%d %s cannot run (%s); the smallest input all %d networks '
            'accept is %d×%d.' % (input_size, input_size, names,
                                  refused[0][1].rstrip('.'), len(networks),
                                  smallest, smallest))
    table = pd.DataFrame(
        [r[1:] for r in rows], index=pd.Index([r[0] for r in rows], name='network'),
        columns=['params', 'MACs per image (M)', 'layer outputs per batch (MB)',
                 'weights + gradients (MB)'])
    most = table['layer outputs per batch (MB)'].idxmax()
    least = table['layer outputs per batch (MB)'].idxmin()
    sentence = ('At %d×%d, batch %d: the layer outputs kept for the backward '
                'pass range from %.1f MB (%s) to %.1f MB (%s).' % (
                    input_size, input_size, batch_size,
                    table.loc[least, 'layer outputs per batch (MB)'], least,
                    table.loc[most, 'layer outputs per batch (MB)'], most))
    return sentence, table
