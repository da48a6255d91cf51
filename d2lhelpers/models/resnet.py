"""ResNet-18 and its residual block (section "ResNet" of the notes), ResNet v2
(full pre-activation) and the deep plain network of the notebook's experiment."""
from mxnet import nd
from mxnet.gluon import nn


class Residual(nn.Block):
    def __init__(self, num_channels, use_1x1conv=False, strides=1, **kwargs):
        super(Residual, self).__init__(**kwargs)
        self.conv1 = nn.Conv2D(num_channels, kernel_size=3, padding=1,
                               strides=strides)
        self.conv2 = nn.Conv2D(num_channels, kernel_size=3, padding=1)
        if use_1x1conv:
            self.conv3 = nn.Conv2D(num_channels, kernel_size=1,
                                   strides=strides)
        else:
            self.conv3 = None
        self.bn1 = nn.BatchNorm()
        self.bn2 = nn.BatchNorm()

    def forward(self, X):
        Y = nd.relu(self.bn1(self.conv1(X)))
        Y = self.bn2(self.conv2(Y))
        if self.conv3:
            X = self.conv3(X)
        return nd.relu(Y + X)


def resnet_block(num_channels, num_residuals, first_block=False):
    blk = nn.Sequential()
    for i in range(num_residuals):
        if i == 0 and not first_block:
            blk.add(Residual(num_channels, use_1x1conv=True, strides=2))
        else:
            blk.add(Residual(num_channels))
    return blk


def resnet18(num_classes=10):
    net = nn.Sequential()
    net.add(nn.Conv2D(64, kernel_size=7, strides=2, padding=3),
            nn.BatchNorm(), nn.Activation('relu'),
            nn.MaxPool2D(pool_size=3, strides=2, padding=1))
    net.add(resnet_block(64, 2, first_block=True),
            resnet_block(128, 2),
            resnet_block(256, 2),
            resnet_block(512, 2))
    net.add(nn.GlobalAvgPool2D(), nn.Dense(num_classes))
    return net


# ResNet v2 ("full pre-activation", He et al., Identity Mappings in Deep
# Residual Networks, 2016): BN and ReLU move to the start of the residual path,
# and nothing follows the addition, so the shortcut is a clean identity.
class ResidualV2(nn.Block):
    def __init__(self, num_channels, use_1x1conv=False, strides=1, **kwargs):
        super(ResidualV2, self).__init__(**kwargs)
        self.bn1 = nn.BatchNorm()
        self.conv1 = nn.Conv2D(num_channels, kernel_size=3, padding=1,
                               strides=strides)
        self.bn2 = nn.BatchNorm()
        self.conv2 = nn.Conv2D(num_channels, kernel_size=3, padding=1)
        if use_1x1conv:
            self.conv3 = nn.Conv2D(num_channels, kernel_size=1,
                                   strides=strides)
        else:
            self.conv3 = None

    def forward(self, X):
        Y = self.conv1(nd.relu(self.bn1(X)))
        Y = self.conv2(nd.relu(self.bn2(Y)))
        if self.conv3:
            X = self.conv3(X)
        return Y + X


def resnet_block_v2(num_channels, num_residuals, first_block=False):
    blk = nn.Sequential()
    for i in range(num_residuals):
        if i == 0 and not first_block:
            blk.add(ResidualV2(num_channels, use_1x1conv=True, strides=2))
        else:
            blk.add(ResidualV2(num_channels))
    return blk


def resnet18_v2(num_classes=10):
    net = nn.Sequential()
    net.add(nn.Conv2D(64, kernel_size=7, strides=2, padding=3),
            nn.BatchNorm(), nn.Activation('relu'),
            nn.MaxPool2D(pool_size=3, strides=2, padding=1))
    net.add(resnet_block_v2(64, 2, first_block=True),
            resnet_block_v2(128, 2),
            resnet_block_v2(256, 2),
            resnet_block_v2(512, 2))
    # v2 blocks end with an addition, not a ReLU: normalise and activate once
    # more before pooling
    net.add(nn.BatchNorm(), nn.Activation('relu'))
    net.add(nn.GlobalAvgPool2D(), nn.Dense(num_classes))
    return net


# For the experiment "why depth hurts without shortcuts": the same layers as
# Residual, with the shortcut taken away.
class PlainBlock(Residual):
    def forward(self, X):
        Y = nd.relu(self.bn1(self.conv1(X)))
        return nd.relu(self.bn2(self.conv2(Y)))


def deep_cnn(block, num_blocks, num_channels=16, num_classes=10):
    net = nn.Sequential()
    net.add(nn.Conv2D(num_channels, kernel_size=3, strides=2, padding=1),
            nn.BatchNorm(), nn.Activation('relu'))
    for _ in range(num_blocks):
        net.add(block(num_channels))
    net.add(nn.GlobalAvgPool2D(), nn.Dense(num_classes))
    return net
