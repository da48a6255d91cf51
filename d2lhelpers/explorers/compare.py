"""Explorer of the comparison notebook: what a training batch costs each network.

Networks are built afresh for every size: a LeNet's first ``Dense`` layer
fixes its inputs at the first batch it sees, and then refuses other sizes.
"""
import pandas as pd

from . import LARGEST_INPUT, smallest_input
from ..checks import check_int
from ..cost import BYTES_PER_VALUE, model_cost
from ..widgets import ExplorerResult

__all__ = ['training_memory_explorer']

ACTIVATIONS = '每批量的层输出（MB）'
COLUMNS = ['参数数量', '每张图像的乘加次数（百万）', ACTIVATIONS, '权重和梯度（MB）']


def training_memory_explorer(networks, input_size=96, batch_size=128):
    """Each network's cost for one training batch: ``networks`` maps a name to a
    function building it. ``table``: parameters, MACs per image, the layer
    outputs the batch keeps for backward, weights and gradients (MB = 10^6
    bytes); ValueError names the networks ``input_size`` is too small for."""
    if not isinstance(networks, dict) or not networks or \
            not all(callable(make) for make in networks.values()):
        raise ValueError('networks 应是一个非空字典：名字 → 构造网络的函数，例如 '
                         "{'ResNet-18': d2lh.models.resnet18}。")
    input_size = check_int('input_size', input_size, 1, LARGEST_INPUT)
    batch_size = check_int('batch_size', batch_size, 1, 1024)
    need = {name: smallest_input(make) for name, make in networks.items()}
    refused = ['%s（至少 %d×%d）' % (name, n, n) for name, n in need.items()
               if n > input_size]
    if refused:
        smallest = max(need.values())
        raise ValueError('输入为 %d×%d 时 %s无法运行；这 %d 个网络都能接受的最小输入是 '
                         '%d×%d。' % (input_size, input_size, '、'.join(refused),
                                     len(networks), smallest, smallest))
    rows = []
    for make in networks.values():
        net = make()
        net.initialize()
        cost = model_cost(net, (1, 1, input_size, input_size))
        rows.append((cost['params'], round(cost['MACs'] / 1e6, 1),
                     round(cost['activation bytes'] * batch_size / 1e6, 1),
                     round(2 * BYTES_PER_VALUE * cost['params'] / 1e6, 1)))
    table = pd.DataFrame(rows, columns=COLUMNS,
                         index=pd.Index(list(networks), name='网络'))
    most, least = table[ACTIVATIONS].idxmax(), table[ACTIVATIONS].idxmin()
    text = ('输入 %d×%d、批量大小 %d：为反向传播保留的层输出从 %.1f MB（%s）到 '
            '%.1f MB（%s）。' % (input_size, input_size, batch_size,
                               table.loc[least, ACTIVATIONS], least,
                               table.loc[most, ACTIVATIONS], most))
    return ExplorerResult(text=text, table=table)
