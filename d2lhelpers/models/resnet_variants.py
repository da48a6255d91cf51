"""The ResNet paper's Table 1 (18, 34, 50, 101, 152 layers) from one builder,
and its bottleneck block (notebook 03, answers to the book's exercises 1-2).

ResNet-18/34 use the notes' ``Residual``; 50 layers and more use
``BottleneckResidual``: 1x1 convolution down to ``num_channels``, 3x3, 1x1 up
to ``4 * num_channels``. As in the paper (and unlike torchvision's "v1.5"), a
stage's first bottleneck block strides in its first 1x1 convolution: the
parameters are the same either way, the multiply-adds match Table 1. The
convolutions keep their biases, as in the notes' ``Residual``.
"""
from mxnet import nd
from mxnet.gluon import nn

from .resnet import Residual


class BottleneckResidual(nn.Block):
    # 瓶颈残差块：1 x 1卷积把通道数减为num_channels，做3 x 3卷积，
    # 再用1 x 1卷积把通道数增大到4倍；块的输出有4 * num_channels个通道
    def __init__(self, num_channels, use_1x1conv=False, strides=1, **kwargs):
        super(BottleneckResidual, self).__init__(**kwargs)
        self.conv1 = nn.Conv2D(num_channels, kernel_size=1, strides=strides)
        self.conv2 = nn.Conv2D(num_channels, kernel_size=3, padding=1)
        self.conv3 = nn.Conv2D(4 * num_channels, kernel_size=1)
        if use_1x1conv:
            self.conv4 = nn.Conv2D(4 * num_channels, kernel_size=1,
                                   strides=strides)
        else:
            self.conv4 = None
        self.bn1 = nn.BatchNorm()
        self.bn2 = nn.BatchNorm()
        self.bn3 = nn.BatchNorm()

    def forward(self, X):
        Y = nd.relu(self.bn1(self.conv1(X)))
        Y = nd.relu(self.bn2(self.conv2(Y)))
        Y = self.bn3(self.conv3(Y))
        if self.conv4:  # 用 1×1 卷积把输入变成和 Y 一样的形状
            X = self.conv4(X)
        return nd.relu(Y + X)


def resnet_stage(block, num_channels, num_residuals, first_block=False):
    blk = nn.Sequential()
    for i in range(num_residuals):
        if i == 0 and not first_block:
            blk.add(block(num_channels, use_1x1conv=True, strides=2))
        elif i == 0 and block is BottleneckResidual:
            # 瓶颈块输出4倍的通道：第一个模块的第一个块也要用1 x 1卷积改变通道数
            blk.add(block(num_channels, use_1x1conv=True))
        else:
            blk.add(block(num_channels))
    return blk


def resnet(depth, num_classes=10):
    # ResNet论文的表1：4个模块各有几个残差块；50层及以上用瓶颈残差块
    num_residuals = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3), 50: (3, 4, 6, 3),
                     101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}
    if depth not in num_residuals:
        raise ValueError('ResNet 论文的表 1 里没有 %r 层的版本；可选的层数是 '
                         '18、34、50、101 和 152。' % (depth,))
    block = Residual if depth < 50 else BottleneckResidual
    net = nn.Sequential()
    net.add(nn.Conv2D(64, kernel_size=7, strides=2, padding=3),
            nn.BatchNorm(), nn.Activation('relu'),
            nn.MaxPool2D(pool_size=3, strides=2, padding=1))
    for i, num_channels in enumerate([64, 128, 256, 512]):
        net.add(resnet_stage(block, num_channels, num_residuals[depth][i],
                             first_block=(i == 0)))
    net.add(nn.GlobalAvgPool2D(), nn.Dense(num_classes))
    return net
