"""d2lhelpers.cost: parameters, multiply-adds and activation memory per image."""
import d2lhelpers  # noqa: F401  (sets OMP_NUM_THREADS before mxnet loads)

import re

import pytest
from mxnet import nd
from mxnet.gluon import nn

from d2lhelpers.cost import COST_COLUMNS, cost_table, layer_costs, model_cost
from d2lhelpers.models import densenet, lenet_bn, resnet18
from d2lhelpers.shapes import param_count


def built(net, shape):
    net.initialize()
    net(nd.zeros(shape))
    return net


def test_single_conv_by_hand():
    net = built(nn.Conv2D(8, kernel_size=3, padding=1, in_channels=3), (2, 3, 10, 10))
    cost = model_cost(net, (2, 3, 10, 10))
    assert cost['params'] == 8 * 3 * 3 * 3 + 8
    # 8 x 10 x 10 outputs, each reading 3 channels x 3 x 3 weights
    assert cost['MACs'] == 8 * 10 * 10 * 3 * 3 * 3
    assert cost['activation bytes'] == 8 * 10 * 10 * 4


def test_strided_grouped_conv_by_hand():
    net = built(nn.Conv2D(8, kernel_size=3, strides=2, groups=2), (1, 4, 9, 9))
    cost = model_cost(net, (1, 4, 9, 9))
    # output 8 x 4 x 4; each output element sees in_channels / groups = 2 channels
    assert cost['MACs'] == 8 * 4 * 4 * (4 // 2) * 3 * 3
    assert cost['activation bytes'] == 8 * 4 * 4 * 4


def test_dense_layer_by_hand():
    net = built(nn.Dense(5), (3, 7))
    cost = model_cost(net, (3, 7))
    assert cost == {'params': 7 * 5 + 5, 'MACs': 7 * 5, 'activation bytes': 5 * 4}


def test_layers_without_weights_cost_no_macs_but_hold_memory():
    net = nn.Sequential()
    net.add(nn.Conv2D(4, kernel_size=3), nn.BatchNorm(), nn.Activation('relu'),
            nn.MaxPool2D(pool_size=2), nn.Dense(3))
    net = built(net, (1, 2, 6, 6))
    table = layer_costs(net, (1, 2, 6, 6))
    assert list(table.index) == ['0', '1', '2', '3', '4']
    assert list(table['乘加次数']) == [4 * 4 * 4 * 2 * 9, 0, 0, 0, 4 * 2 * 2 * 3]
    assert list(table['激活内存（字节）']) == [64 * 4, 64 * 4, 64 * 4, 16 * 4, 3 * 4]
    assert table['参数数量'].sum() == param_count(net)


def test_fused_activation_is_one_layer():
    net = built(nn.Conv2D(6, kernel_size=1, activation='relu'), (1, 2, 5, 5))
    table = layer_costs(net, (1, 2, 5, 5))
    assert list(table.index) == ['(net)']
    assert table['乘加次数'].iloc[0] == 6 * 25 * 2
    assert table['激活内存（字节）'].iloc[0] == 6 * 25 * 4


def test_costs_are_per_image():
    net = built(lenet_bn(), (1, 1, 28, 28))
    assert model_cost(net, (1, 1, 28, 28)) == model_cost(net, (5, 1, 28, 28))


def test_resnet18_against_hand_count():
    net = built(resnet18(), (1, 1, 96, 96))
    cost = model_cost(net, (1, 1, 96, 96))
    assert cost['params'] == 11178378 == param_count(net)

    def conv(out_hw, c_out, c_in, k):
        return out_hw * out_hw * c_out * c_in * k * k

    macs = conv(48, 64, 1, 7)                     # stem, then 3x3 max pooling -> 24
    macs += 4 * conv(24, 64, 64, 3)               # two residual blocks of 64
    for hw, c in [(12, 128), (6, 256), (3, 512)]:
        macs += conv(hw, c, c // 2, 3)            # first conv halves height/width
        macs += conv(hw, c, c // 2, 1)            # 1x1 shortcut conv3
        macs += 3 * conv(hw, c, c, 3)
    macs += 512 * 10                              # dense output
    assert cost['MACs'] == macs == 318657536      # ~0.32 G (ImageNet's 224: ~1.8 G)


def test_cost_table_rows_and_columns():
    nets = {'ResNet-18': built(resnet18(), (1, 1, 96, 96)),
            'DenseNet': built(densenet(), (1, 1, 96, 96))}
    table = cost_table(nets, (1, 1, 96, 96))
    assert list(table.index) == ['ResNet-18', 'DenseNet']
    assert table.index.name == '网络'
    assert list(table.columns) == COST_COLUMNS
    assert table.loc['ResNet-18', '参数数量'] == 11178378
    assert table.loc['ResNet-18', '乘加次数（百万/图像）'] == 318.7
    assert table['参数数量'].dtype == 'int64'
    # DenseNet: far fewer parameters and multiply-adds, more activations
    assert table.loc['DenseNet', '参数数量'] < table.loc['ResNet-18', '参数数量'] / 10
    assert (table.loc['DenseNet', '乘加次数（百万/图像）']
            < table.loc['ResNet-18', '乘加次数（百万/图像）'])
    assert (table.loc['DenseNet', '激活内存（MB/图像）']
            > table.loc['ResNet-18', '激活内存（MB/图像）'])


def test_too_small_input_names_network_and_layer():
    nets = {'DenseNet': built(densenet(), (1, 1, 96, 96))}
    with pytest.raises(ValueError, match=r'^DenseNet：层 9\.3（AvgPool2D）无法处理'):
        cost_table(nets, (1, 1, 28, 28))


def test_bad_arguments():
    with pytest.raises(ValueError, match='nets 应是一个非空的字典'):
        cost_table({}, (1, 1, 28, 28))
    with pytest.raises(ValueError, match='网络还没有初始化'):
        model_cost(nn.Dense(3), (1, 4))
    net = built(nn.Conv2DTranspose(2, kernel_size=3), (1, 1, 4, 4))
    with pytest.raises(ValueError, match='Conv2DTranspose 是转置卷积'):
        model_cost(net, (1, 1, 4, 4))


@pytest.mark.parametrize('shape, words', [
    ((1, 1, 0, 96), '输入形状 (1, 1, 0, 96) 的第 3 个数'),
    ((1, -1, 96, 96), '输入形状 (1, -1, 96, 96) 的第 2 个数'),
    ((1.0, 1, 96, 96), '输入形状 (1.0, 1, 96, 96) 的第 1 个数 应是整数'),
])
def test_bad_sizes_are_refused_once_before_any_network(shape, words):
    nets = {'ResNet-18': built(resnet18(), (1, 1, 96, 96))}
    with pytest.raises(ValueError, match='^' + re.escape(words)):  # no network's name
        cost_table(nets, shape)
