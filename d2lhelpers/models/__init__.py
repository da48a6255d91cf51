"""The four sections' networks, written exactly as in the notebooks.

Each notebook defines these blocks in its own cells (learners read the code
there); ``tests/test_model_sources.py`` fails when a notebook's definition and
the one here differ, so there is one source of truth for every model.
"""
from .googlenet import Inception, googlenet
from .batchnorm import batch_norm, BatchNorm, lenet_bn, lenet_gluon_bn, lenet
from .resnet import (Residual, resnet_block, resnet18, ResidualV2,
                     resnet_block_v2, resnet18_v2, PlainBlock, deep_cnn)
from .densenet import conv_block, DenseBlock, transition_block, densenet

NETWORKS = {
    'googlenet': googlenet,
    'batchnorm': lenet_bn,
    'resnet': resnet18,
    'densenet': densenet,
}
