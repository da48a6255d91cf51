"""Batch normalization from scratch and LeNet with it (section "Batch Normalization").

The code of d2l-zh v1, with its ``assert`` replaced by ValueErrors that say
what went wrong, checked in prediction mode too. Unlike Gluon's
``nn.BatchNorm`` (moving variance initialised to 1, running statistics updated
during the backward pass), this layer starts its moving variance at 0 and
updates both moving averages in the forward pass.
"""
from mxnet import autograd, init, nd
from mxnet.gluon import nn


def batch_norm(X, gamma, beta, moving_mean, moving_var, eps, momentum):
    # 两种模式都先检查输入的维数（d2l 里是训练模式下的一句 assert）
    if len(X.shape) not in (2, 4):
        raise ValueError(
            'batch_norm 的输入应当是二维的（批量大小, 特征数，接在全连接层之后）'
            '或四维的（批量大小, 通道, 高, 宽，接在卷积层之后），'
            '这里却得到形状 %s。' % (X.shape,))
    # 通过 autograd 判断当前是训练模式还是预测模式
    if not autograd.is_training():
        # 预测模式：直接使用移动平均得到的均值和方差
        X_hat = (X - moving_mean) / nd.sqrt(moving_var + eps)
    else:
        if len(X.shape) == 2:
            # 全连接层：在样本维上求每个特征的均值和方差
            mean = X.mean(axis=0)
            var = ((X - mean) ** 2).mean(axis=0)
        else:
            # 卷积层：对每个通道，在 m×p×q 个元素上求均值和方差
            mean = X.mean(axis=(0, 2, 3), keepdims=True)
            var = ((X - mean) ** 2).mean(axis=(0, 2, 3), keepdims=True)
        X_hat = (X - mean) / nd.sqrt(var + eps)
        # 更新移动平均的均值和方差
        moving_mean = momentum * moving_mean + (1.0 - momentum) * mean
        moving_var = momentum * moving_var + (1.0 - momentum) * var
    Y = gamma * X_hat + beta  # 拉伸和偏移
    return Y, moving_mean, moving_var


class BatchNorm(nn.Block):
    def __init__(self, num_features, num_dims, **kwargs):
        super(BatchNorm, self).__init__(**kwargs)
        if num_dims not in (2, 4):
            raise ValueError('num_dims 只能是 2（接在全连接层之后）或 4'
                             '（接在卷积层之后），不能是 %r。' % (num_dims,))
        if num_dims == 2:
            shape = (1, num_features)
        else:
            shape = (1, num_features, 1, 1)
        # 参与求梯度和迭代的拉伸和偏移参数，分别初始化成1和0
        self.gamma = self.params.get('gamma', shape=shape, init=init.One())
        self.beta = self.params.get('beta', shape=shape, init=init.Zero())
        # 不参与求梯度和迭代的变量，全在内存上初始化成0
        self.moving_mean = nd.zeros(shape)
        self.moving_var = nd.zeros(shape)

    def forward(self, X):
        if len(X.shape) != len(self.moving_mean.shape):
            raise ValueError(
                '这个 BatchNorm 层是为 %d 维输入构造的，却得到形状 %s 的输入；'
                '请用 num_dims=%d 构造。' % (len(self.moving_mean.shape),
                                          X.shape, len(X.shape)))
        # 如果X不在内存上，将moving_mean和moving_var复制到X所在显存上
        if self.moving_mean.context != X.context:
            self.moving_mean = self.moving_mean.copyto(X.context)
            self.moving_var = self.moving_var.copyto(X.context)
        # 保存更新过的moving_mean和moving_var
        Y, self.moving_mean, self.moving_var = batch_norm(
            X, self.gamma.data(), self.beta.data(), self.moving_mean,
            self.moving_var, eps=1e-5, momentum=0.9)
        return Y


def lenet_bn():
    net = nn.Sequential()
    net.add(nn.Conv2D(6, kernel_size=5),
            BatchNorm(6, num_dims=4),
            nn.Activation('sigmoid'),
            nn.MaxPool2D(pool_size=2, strides=2),
            nn.Conv2D(16, kernel_size=5),
            BatchNorm(16, num_dims=4),
            nn.Activation('sigmoid'),
            nn.MaxPool2D(pool_size=2, strides=2),
            nn.Dense(120),
            BatchNorm(120, num_dims=2),
            nn.Activation('sigmoid'),
            nn.Dense(84),
            BatchNorm(84, num_dims=2),
            nn.Activation('sigmoid'),
            nn.Dense(10))
    return net


def lenet_gluon_bn():
    net = nn.Sequential()
    net.add(nn.Conv2D(6, kernel_size=5),
            nn.BatchNorm(),
            nn.Activation('sigmoid'),
            nn.MaxPool2D(pool_size=2, strides=2),
            nn.Conv2D(16, kernel_size=5),
            nn.BatchNorm(),
            nn.Activation('sigmoid'),
            nn.MaxPool2D(pool_size=2, strides=2),
            nn.Dense(120),
            nn.BatchNorm(),
            nn.Activation('sigmoid'),
            nn.Dense(84),
            nn.BatchNorm(),
            nn.Activation('sigmoid'),
            nn.Dense(10))
    return net


def lenet():
    net = nn.Sequential()
    net.add(nn.Conv2D(6, kernel_size=5, activation='sigmoid'),
            nn.MaxPool2D(pool_size=2, strides=2),
            nn.Conv2D(16, kernel_size=5, activation='sigmoid'),
            nn.MaxPool2D(pool_size=2, strides=2),
            nn.Dense(120, activation='sigmoid'),
            nn.Dense(84, activation='sigmoid'),
            nn.Dense(10))
    return net
