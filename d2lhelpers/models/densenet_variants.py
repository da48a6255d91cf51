"""The DenseNet paper's ImageNet networks, DenseNet-BC (worked answer of notebook 04).

Huang et al. (2017), Table 1: DenseNet-121, -169, -201 and -264 differ only in
how many convolution blocks each of the four dense blocks has. All are
DenseNet-BC: a 1x1 "bottleneck" convolution to 4k channels before every 3x3
convolution (B) and transition layers that halve the channels (C,
compression 0.5); growth rate k = 32, a 7x7 stem with 2k = 64 channels.
Convolutions have no bias: a batch normalization follows each of them (the
next block's), which cancels a bias (notebook 02, exercise 1). So the counts
match torchvision's ``densenet121`` (7,978,856 parameters), ``169``, ``201``.
"""
from mxnet.gluon import nn

from ..checks import check_choice, check_int
from .densenet import DenseBlock


def bn_relu_conv(num_channels, kernel_size, padding=0):
    # 论文里的复合函数：批量归一化、ReLU、卷积；卷积不要偏差，后面总有批量归一化
    return [nn.BatchNorm(), nn.Activation('relu'),
            nn.Conv2D(num_channels, kernel_size=kernel_size, padding=padding,
                      use_bias=False)]


def bottleneck_block(growth_rate):
    blk = nn.Sequential()
    # DenseNet-B：先用 1×1 卷积把（越来越多的）输入通道变成 4k 个，再做 3×3 卷积
    blk.add(*bn_relu_conv(4 * growth_rate, kernel_size=1),
            *bn_relu_conv(growth_rate, kernel_size=3, padding=1))
    return blk


class BottleneckDenseBlock(DenseBlock):
    # 和 DenseBlock 一样在通道维上连结（沿用它的 forward），只是卷积块换成了瓶颈块
    def __init__(self, num_convs, growth_rate, **kwargs):
        super(BottleneckDenseBlock, self).__init__(0, growth_rate, **kwargs)
        for _ in range(num_convs):
            self.net.add(bottleneck_block(growth_rate))


def transition_block_bc(num_channels):
    blk = nn.Sequential()
    blk.add(*bn_relu_conv(num_channels, kernel_size=1),
            nn.AvgPool2D(pool_size=2, strides=2))
    return blk


def densenet_bc(num_layers=121, num_classes=1000, growth_rate=32):
    # DenseNet 论文表 1：四个稠密块里各有几个瓶颈块
    blocks = {121: (6, 12, 24, 16), 169: (6, 12, 32, 32),
              201: (6, 12, 48, 32), 264: (6, 12, 64, 48)}
    check_choice('num_layers', num_layers, tuple(blocks))
    check_int('num_classes', num_classes, 1, 100000)
    check_int('growth_rate', growth_rate, 1, 256)
    num_channels = 2 * growth_rate  # 开头的卷积层输出 2k 个通道
    net = nn.Sequential()
    net.add(nn.Conv2D(num_channels, kernel_size=7, strides=2, padding=3,
                      use_bias=False),
            nn.BatchNorm(), nn.Activation('relu'),
            nn.MaxPool2D(pool_size=3, strides=2, padding=1))
    for i, num_convs in enumerate(blocks[num_layers]):
        if i > 0:  # 从第二个稠密块起，前面先接一个过渡层，通道数减半（压缩因子 0.5）
            num_channels //= 2
            net.add(transition_block_bc(num_channels))
        net.add(BottleneckDenseBlock(num_convs, growth_rate))
        num_channels += num_convs * growth_rate
    net.add(nn.BatchNorm(), nn.Activation('relu'), nn.GlobalAvgPool2D(),
            nn.Dense(num_classes))
    return net
