"""GoogLeNet's later versions as blocks (notebook 01, answer to the book's
exercise on them): Inception with batch normalization (BN-Inception, v2), the
factorized Inception block of v3, an Inception block with a residual
connection (Inception-ResNet), and the batch-normalized GoogLeNet trained
beside v1. Each keeps the notes' Inception interface where it can, so the
blocks can be compared on the same input.
"""
from mxnet import nd
from mxnet.gluon import nn

from .googlenet import Inception


def basic_conv(num_channels, kernel_size, padding=0, strides=1):
    # 卷积层后接批量归一化层和ReLU：GoogLeNet的后续版本都这样使用卷积层
    blk = nn.Sequential()
    blk.add(nn.Conv2D(num_channels, kernel_size, strides=strides,
                      padding=padding),
            nn.BatchNorm(), nn.Activation('relu'))
    return blk


class InceptionBN(Inception):
    # 与Inception相同的4条线路和前向计算，只是每个卷积层后面都接批量归一化层
    def __init__(self, c1, c2, c3, c4, **kwargs):
        # 不调用Inception.__init__：层换成带批量归一化的，forward沿用Inception的
        nn.Block.__init__(self, **kwargs)
        self.p1_1 = basic_conv(c1, 1)
        self.p2_1 = basic_conv(c2[0], 1)
        self.p2_2 = basic_conv(c2[1], 3, padding=1)
        self.p3_1 = basic_conv(c3[0], 1)
        self.p3_2 = basic_conv(c3[1], 5, padding=2)
        self.p4_1 = nn.MaxPool2D(pool_size=3, strides=1, padding=1)
        self.p4_2 = basic_conv(c4, 1)


class InceptionV3(nn.Block):
    # Inception v3的思路：把大卷积核分解成几个小卷积核，输出形状不变
    def __init__(self, c1, c2, c3, c4, **kwargs):
        super(InceptionV3, self).__init__(**kwargs)
        self.p1_1 = basic_conv(c1, 1)
        # 线路2：3 x 3卷积分解成1 x 3卷积后接3 x 1卷积；
        # 前一个保持c2[0]个通道，后一个输出c2[1]个通道
        self.p2_1 = basic_conv(c2[0], 1)
        self.p2_2 = basic_conv(c2[0], (1, 3), padding=(0, 1))
        self.p2_3 = basic_conv(c2[1], (3, 1), padding=(1, 0))
        # 线路3：5 x 5卷积换成两个3 x 3卷积，看到的范围同样是5 x 5
        self.p3_1 = basic_conv(c3[0], 1)
        self.p3_2 = basic_conv(c3[0], 3, padding=1)
        self.p3_3 = basic_conv(c3[1], 3, padding=1)
        self.p4_1 = nn.MaxPool2D(pool_size=3, strides=1, padding=1)
        self.p4_2 = basic_conv(c4, 1)

    def forward(self, x):
        p1 = self.p1_1(x)
        p2 = self.p2_3(self.p2_2(self.p2_1(x)))
        p3 = self.p3_3(self.p3_2(self.p3_1(x)))
        p4 = self.p4_2(self.p4_1(x))
        return nd.concat(p1, p2, p3, p4, dim=1)


class InceptionResidual(nn.Block):
    # Inception-ResNet的思路：各线路连结后用1 x 1卷积变回num_channels个通道，
    # 再像残差块那样加上输入；num_channels须等于输入的通道数
    def __init__(self, c1, c2, c3, num_channels, **kwargs):
        super(InceptionResidual, self).__init__(**kwargs)
        self.p1_1 = basic_conv(c1, 1)
        self.p2_1 = basic_conv(c2[0], 1)
        self.p2_2 = basic_conv(c2[1], 3, padding=1)
        self.p3_1 = basic_conv(c3[0], 1)
        self.p3_2 = basic_conv(c3[0], 3, padding=1)  # 5 x 5卷积换成两个3 x 3卷积
        self.p3_3 = basic_conv(c3[1], 3, padding=1)
        # 不接激活函数的1 x 1卷积：把连结后的通道数变回num_channels
        self.conv = nn.Conv2D(num_channels, kernel_size=1)

    def forward(self, x):
        p1 = self.p1_1(x)
        p2 = self.p2_2(self.p2_1(x))
        p3 = self.p3_3(self.p3_2(self.p3_1(x)))
        Y = self.conv(nd.concat(p1, p2, p3, dim=1))
        return nd.relu(Y + x)  # 和残差块一样，输入加在最后的ReLU之前


def googlenet_bn(num_classes=10):
    # 与googlenet()的模块和通道数相同：卷积层换成basic_conv，Inception块换成InceptionBN
    b1 = nn.Sequential()
    b1.add(basic_conv(64, 7, padding=3, strides=2),
           nn.MaxPool2D(pool_size=3, strides=2, padding=1))
    b2 = nn.Sequential()
    b2.add(basic_conv(64, 1), basic_conv(192, 3, padding=1),
           nn.MaxPool2D(pool_size=3, strides=2, padding=1))
    b3 = nn.Sequential()
    b3.add(InceptionBN(64, (96, 128), (16, 32), 32),
           InceptionBN(128, (128, 192), (32, 96), 64),
           nn.MaxPool2D(pool_size=3, strides=2, padding=1))
    b4 = nn.Sequential()
    b4.add(InceptionBN(192, (96, 208), (16, 48), 64),
           InceptionBN(160, (112, 224), (24, 64), 64),
           InceptionBN(128, (128, 256), (24, 64), 64),
           InceptionBN(112, (144, 288), (32, 64), 64),
           InceptionBN(256, (160, 320), (32, 128), 128),
           nn.MaxPool2D(pool_size=3, strides=2, padding=1))
    b5 = nn.Sequential()
    b5.add(InceptionBN(256, (160, 320), (32, 128), 128),
           InceptionBN(384, (192, 384), (48, 128), 128),
           nn.GlobalAvgPool2D())
    net = nn.Sequential()
    net.add(b1, b2, b3, b4, b5, nn.Dense(num_classes))
    return net
