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
# Worked answers to the exercises (notebooks 01 and 03)
from .googlenet_variants import (basic_conv, InceptionBN, InceptionV3,
                                 InceptionResidual, googlenet_bn)
from .classic import alexnet, vgg_block, conv_arch, vgg, nin_block, nin
from .resnet_variants import BottleneckResidual, resnet_stage, resnet
# Worked answers to the exercises (notebooks 02 and 04)
from .batchnorm_variants import lenet_bn_variant, lenet_bn_fixed_gamma_beta
from .densenet_variants import (bn_relu_conv, bottleneck_block, BottleneckDenseBlock,
                                transition_block_bc, densenet_bc)

NETWORKS = {
    'googlenet': googlenet,
    'batchnorm': lenet_bn,
    'resnet': resnet18,
    'densenet': densenet,
}
