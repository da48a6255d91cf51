"""The batch normalization exercises' networks (worked answers of notebook 02).

LeNet with Gluon's ``nn.BatchNorm`` built by one function whose arguments are
what the exercises change: where the batch normalization layers sit, and
whether the layers before them keep their biases; and the notes' Gluon
BN-LeNet with its scale and shift (gamma, beta) not learned.
"""
from mxnet.gluon import nn

from ..checks import check_bool, check_choice
from .batchnorm import lenet_gluon_bn


def lenet_bn_variant(bn_position='before', use_bias=True):
    check_choice('bn_position', bn_position, ('before', 'after'))
    check_bool('use_bias', use_bias)
    # LeNet 的两个卷积层和前两个全连接层，每个后面都有批量归一化和 sigmoid
    hidden = [nn.Conv2D(6, kernel_size=5, use_bias=use_bias),
              nn.Conv2D(16, kernel_size=5, use_bias=use_bias),
              nn.Dense(120, use_bias=use_bias),
              nn.Dense(84, use_bias=use_bias)]
    net = nn.Sequential()
    for layer in hidden:
        if bn_position == 'before':  # 笔记的位置：卷积或仿射变换之后、激活函数之前
            net.add(layer, nn.BatchNorm(), nn.Activation('sigmoid'))
        else:  # 练习 3 的另一种位置：激活函数之后
            net.add(layer, nn.Activation('sigmoid'), nn.BatchNorm())
        if isinstance(layer, nn.Conv2D):  # 卷积层后面接最大池化层
            net.add(nn.MaxPool2D(pool_size=2, strides=2))
    net.add(nn.Dense(10))
    return net


def lenet_bn_fixed_gamma_beta():
    net = lenet_gluon_bn()
    # 拉伸参数 gamma 和偏移参数 beta 不求梯度，训练时也就不更新，一直是初值 1 和 0
    net.collect_params('.*gamma|.*beta').setattr('grad_req', 'null')
    return net
