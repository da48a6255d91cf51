"""The worked answers' models (notebooks 01 and 03): GoogLeNet's later blocks,
the book's AlexNet / VGG / NiN, and the ResNet paper's Table 1 from one builder.

Expected numbers are computed here from the layer arithmetic (a k x k
convolution from c_in to c_out channels has k*k*c_in*c_out weights and c_out
biases; a BatchNorm has 2 parameters per channel), or quoted from outside
(torchvision's parameter counts, the ResNet paper's multiply-adds), never read
off the models under test.
"""
import d2lhelpers  # noqa: F401  (sets OMP_NUM_THREADS before mxnet loads)

import ast
import pathlib

import nbformat
import pytest
from mxnet import autograd, init, nd

from d2lhelpers.cost import model_cost
from d2lhelpers.models import (BottleneckResidual, Inception, InceptionBN, InceptionResidual,
                               InceptionV3, Residual, alexnet, classic, conv_arch, googlenet,
                               googlenet_bn, nin, resnet, resnet18, vgg)
from d2lhelpers.shapes import param_count, shape_table

NOTEBOOKS = pathlib.Path(__file__).resolve().parent.parent / 'notebooks'


def conv(c_in, c_out, kh, kw=None):
    """Parameters of a convolution (weights and biases)."""
    return kh * (kw or kh) * c_in * c_out + c_out


def bn(channels):
    return 2 * channels


def built(net, shape):
    net.initialize()
    net(nd.zeros(shape))
    return net


# ------------------------------------------------------- GoogLeNet's blocks
B31 = (64, (96, 128), (16, 32), 32)  # b3's first block, input 192 x 12 x 12


@pytest.fixture
def X192():
    return nd.random.uniform(shape=(2, 192, 12, 12))


def test_inception_bn_adds_two_parameters_per_conv_channel(X192):
    blk = built(InceptionBN(*B31), X192.shape)
    assert blk(X192).shape == (2, 256, 12, 12)
    v1 = (conv(192, 64, 1) + conv(192, 96, 1) + conv(96, 128, 3) + conv(192, 16, 1)
          + conv(16, 32, 5) + conv(192, 32, 1))
    assert v1 == 163696  # the notebook's shape check of Inception
    assert param_count(blk) == v1 + bn(64 + 96 + 128 + 16 + 32 + 32)
    assert InceptionBN.forward is Inception.forward  # only the layers differ


def test_inception_v3_factorizes_and_keeps_the_output_shape(X192):
    blk = built(InceptionV3(*B31), X192.shape)
    assert blk(X192).shape == (2, 256, 12, 12)
    expected = (conv(192, 64, 1) + bn(64)
                + conv(192, 96, 1) + bn(96) + conv(96, 96, 1, 3) + bn(96)
                + conv(96, 128, 3, 1) + bn(128)
                + conv(192, 16, 1) + bn(16) + conv(16, 16, 3) + bn(16)
                + conv(16, 32, 3) + bn(32)
                + conv(192, 32, 1) + bn(32))
    assert param_count(blk) == expected
    assert blk.p2_2[0].weight.shape == (96, 96, 1, 3)
    assert blk.p2_3[0].weight.shape == (128, 96, 3, 1)


def _footprint(path, size=11):
    """Rows and columns of the input pixels that change the centre output of
    ``path`` (prediction mode: BatchNorm is a per-channel affine map)."""
    centre = size // 2
    base = path(nd.zeros((1, 4, size, size)))[0, :, centre, centre]
    touched = set()
    for i in range(size):
        for j in range(size):
            X = nd.zeros((1, 4, size, size))
            X[0, :, i, j] = 1
            if (path(X)[0, :, centre, centre] - base).abs().sum().asscalar() > 0:
                touched.add((i, j))
    return len({i for i, _ in touched}), len({j for _, j in touched})


@pytest.mark.parametrize('make, path, expected', [
    (lambda: Inception(2, (3, 4), (3, 4), 2), lambda b: lambda x: b.p3_2(b.p3_1(x)), (5, 5)),
    (lambda: InceptionV3(2, (3, 4), (3, 4), 2),
     lambda b: lambda x: b.p3_3(b.p3_2(b.p3_1(x))), (5, 5)),
    (lambda: InceptionV3(2, (3, 4), (3, 4), 2),
     lambda b: lambda x: b.p2_3(b.p2_2(b.p2_1(x))), (3, 3)),
])
def test_factorized_paths_see_as_far_as_the_kernels_they_replace(make, path, expected):
    blk = make()
    blk.initialize(init.Constant(0.1))  # positive weights: no ReLU cuts a path
    blk(nd.ones((1, 4, 11, 11)))
    assert _footprint(path(blk)) == expected


def test_inception_residual_is_relu_of_its_input_when_the_last_conv_is_zero(X192):
    blk = built(InceptionResidual(64, (96, 128), (16, 32), 192), X192.shape)
    assert blk(X192).shape == X192.shape
    expected = (conv(192, 64, 1) + bn(64) + conv(192, 96, 1) + bn(96) + conv(96, 128, 3)
                + bn(128) + conv(192, 16, 1) + bn(16) + conv(16, 16, 3) + bn(16)
                + conv(16, 32, 3) + bn(32) + conv(64 + 128 + 32, 192, 1))
    assert param_count(blk) == expected
    blk.conv.weight.set_data(nd.zeros(blk.conv.weight.shape))
    blk.conv.bias.set_data(nd.zeros(blk.conv.bias.shape))
    X = nd.random.normal(shape=X192.shape)
    assert (blk(X) - nd.relu(X)).abs().max().asscalar() == 0


# The book's GoogLeNet: (c1, c2, c3, c4) of its nine Inception blocks.
GOOGLENET_BLOCKS = [(64, (96, 128), (16, 32), 32), (128, (128, 192), (32, 96), 64),
                    (192, (96, 208), (16, 48), 64), (160, (112, 224), (24, 64), 64),
                    (128, (128, 256), (24, 64), 64), (112, (144, 288), (32, 64), 64),
                    (256, (160, 320), (32, 128), 128), (256, (160, 320), (32, 128), 128),
                    (384, (192, 384), (48, 128), 128)]


def test_googlenet_bn_has_googlenets_shapes_and_bn_on_every_conv_channel():
    X = nd.random.uniform(shape=(1, 1, 96, 96))
    v1, with_bn = built(googlenet(), X.shape), built(googlenet_bn(), X.shape)
    assert list(shape_table(with_bn, X, max_depth=1)['输出形状']) == \
        list(shape_table(v1, X, max_depth=1)['输出形状'])
    conv_channels = 64 + 64 + 192 + sum(c1 + sum(c2) + sum(c3) + c4
                                        for c1, c2, c3, c4 in GOOGLENET_BLOCKS)
    assert param_count(with_bn) - param_count(v1) == bn(conv_channels)
    assert model_cost(with_bn, X)['MACs'] == model_cost(v1, X)['MACs']


# ------------------------------------------------------ AlexNet, VGG, NiN
def test_alexnet_at_224_has_the_books_layers():
    net = built(alexnet(), (1, 1, 224, 224))
    # 224 -> conv 11/4 -> 54 -> pool -> 26 -> pool -> 12 -> pool -> 5
    expected = (conv(1, 96, 11) + conv(96, 256, 5) + conv(256, 384, 3) + conv(384, 384, 3)
                + conv(384, 256, 3) + (256 * 5 * 5 + 1) * 4096 + (4096 + 1) * 4096
                + (4096 + 1) * 10)
    assert param_count(net) == expected


def test_vgg11_matches_torchvision_with_imagenets_input_and_classes():
    net = built(vgg(conv_arch, num_classes=1000), (1, 3, 224, 224))
    assert param_count(net) == 132863336  # torchvision.models.vgg11
    assert net(nd.zeros((1, 3, 224, 224))).shape == (1, 1000)


def test_nin_has_no_dense_layer_and_its_count_ignores_the_input_size():
    expected = (conv(1, 96, 11) + 2 * conv(96, 96, 1) + conv(96, 256, 5) + 2 * conv(256, 256, 1)
                + conv(256, 384, 3) + 2 * conv(384, 384, 1) + conv(384, 10, 3)
                + 2 * conv(10, 10, 1))
    for size in (96, 224):
        net = built(nin(), (1, 1, size, size))
        assert param_count(net) == expected
        assert net(nd.zeros((1, 1, size, size))).shape == (1, 10)


def test_notebook_01_writes_the_books_conv_arch():
    nb = nbformat.read(str(NOTEBOOKS / '01_googlenet.ipynb'), as_version=4)
    found = [node for cell in nb.cells if cell.cell_type == 'code'
             for node in ast.parse('\n'.join(l for l in cell.source.splitlines()
                                             if not l.startswith(('%', '!')))).body
             if isinstance(node, ast.Assign) and getattr(node.targets[0], 'id', '') == 'conv_arch']
    assert len(found) == 1
    assert ast.literal_eval(found[0].value) == classic.conv_arch == \
        ((1, 64), (1, 128), (2, 256), (2, 512), (2, 512))


# ------------------------------------------------------------------ ResNet
TABLE1 = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3), 50: (3, 4, 6, 3), 101: (3, 4, 23, 3),
          152: (3, 8, 36, 3)}
TORCHVISION_PARAMS = {18: 11689512, 34: 21797672, 50: 25557032, 101: 44549160,
                      152: 60192808}
PAPER_GMACS = {18: 1.8, 34: 3.6, 50: 3.8, 101: 7.6, 152: 11.3}  # Table 1, "FLOPs"
WIDTHS = (64, 128, 256, 512)


def resnet_arithmetic(depth, in_channels, num_classes, size):
    """``(params, MACs, conv biases, projection channels)`` of the notes-style
    ResNet (biased convolutions, no BN after a projection) at ``size`` x ``size``."""
    bottleneck = depth >= 50
    params = conv(in_channels, 64, 7) + bn(64)
    hw = (size + 2 * 3 - 7) // 2 + 1
    macs = hw * hw * 7 * 7 * in_channels * 64
    biases, projections = 64, 0
    hw = (hw + 2 - 3) // 2 + 1  # max pooling
    c = 64
    for stage, (width, blocks) in enumerate(zip(WIDTHS, TABLE1[depth])):
        for b in range(blocks):
            stride = 2 if (b == 0 and stage > 0) else 1
            out_hw = (hw - 1) // stride + 1
            if bottleneck:
                layers = [(c, width, 1, out_hw), (width, width, 3, out_hw),
                          (width, 4 * width, 1, out_hw)]
                c_out = 4 * width
            else:
                layers = [(c, width, 3, out_hw), (width, width, 3, out_hw)]
                c_out = width
            if b == 0 and c != c_out:
                layers.append((c, c_out, 1, out_hw))
                projections += c_out
            for c_in, c_o, k, h in layers:
                params += conv(c_in, c_o, k)
                macs += h * h * k * k * c_in * c_o
                biases += c_o
            params += sum(bn(c_o) for _, c_o, _, _ in layers[:2 if not bottleneck else 3])
            c, hw = c_out, out_hw
    params += conv(c, num_classes, 1)
    macs += c * num_classes
    return params, macs, biases, projections


@pytest.mark.parametrize('depth', sorted(TABLE1))
def test_the_arithmetic_reproduces_torchvision(depth):
    # torchvision: no conv biases, a BatchNorm after every projection shortcut
    params, _, biases, projections = resnet_arithmetic(depth, 3, 1000, 224)
    assert params - biases + bn(projections) == TORCHVISION_PARAMS[depth]


@pytest.mark.parametrize('depth', sorted(TABLE1))
def test_each_variant_at_96_one_channel(depth):
    X = nd.zeros((1, 1, 96, 96))
    net = built(resnet(depth), X.shape)
    params, macs, _, _ = resnet_arithmetic(depth, 1, 10, 96)
    cost = model_cost(net, X)
    assert (cost['params'], cost['MACs']) == (params, macs)
    table = shape_table(net, X)
    shortcut = '.conv4' if depth >= 50 else '.conv3'
    main_path = sum(1 for name, kind in table['类型'].items()
                    if kind == 'Conv2D' and not name.endswith(shortcut))
    assert main_path + 1 == depth  # the name counts convolutions and the dense layer
    assert table['输出形状'].iloc[-1] == (1, 10)


@pytest.mark.parametrize('depth', [18, 50])
def test_multiply_adds_at_224_match_the_papers_table_1(depth):
    X = nd.zeros((1, 3, 224, 224))
    net = built(resnet(depth, num_classes=1000), X.shape)
    macs = model_cost(net, X)['MACs']
    assert macs == resnet_arithmetic(depth, 3, 1000, 224)[1]
    assert abs(macs / 1e9 - PAPER_GMACS[depth]) < 0.1
    params, _, biases, projections = resnet_arithmetic(depth, 3, 1000, 224)
    assert param_count(net) == TORCHVISION_PARAMS[depth] + biases - bn(projections)


def test_resnet_50_params_equal_torchvision_after_the_two_differences():
    net = built(resnet(50, num_classes=1000), (1, 3, 32, 32))  # params ignore input size
    conv_biases = 64 + sum(blocks * (w + w + 4 * w) + 4 * w
                           for w, blocks in zip(WIDTHS, TABLE1[50]))
    shortcut_bn = bn(4 * sum(WIDTHS))
    assert param_count(net) - conv_biases + shortcut_bn == 25557032


def test_resnet_18_from_the_builder_is_the_notes_resnet18():
    X = nd.zeros((1, 1, 96, 96))
    a, b = built(resnet(18), X.shape), built(resnet18(), X.shape)
    ta, tb = shape_table(a, X), shape_table(b, X)
    assert list(ta['输出形状']) == list(tb['输出形状'])
    assert list(ta['类型']) == list(tb['类型'])
    assert param_count(a) == param_count(b)


def test_bottleneck_channel_arithmetic():
    blk = built(BottleneckResidual(64), (1, 256, 24, 24))
    assert [getattr(blk, n).weight.shape for n in ('conv1', 'conv2', 'conv3')] == \
        [(64, 256, 1, 1), (64, 64, 3, 3), (256, 64, 1, 1)]
    assert blk.conv4 is None
    assert blk(nd.zeros((1, 256, 24, 24))).shape == (1, 256, 24, 24)
    bottleneck = conv(256, 64, 1) + conv(64, 64, 3) + conv(64, 256, 1) + bn(64 + 64 + 256)
    basic_256 = 2 * conv(256, 256, 3) + bn(256 + 256)
    assert param_count(blk) == bottleneck
    assert param_count(built(Residual(256), (1, 256, 24, 24))) == basic_256
    down = built(BottleneckResidual(128, use_1x1conv=True, strides=2), (1, 256, 56, 56))
    assert down(nd.zeros((1, 256, 56, 56))).shape == (1, 512, 28, 28)
    assert down.conv1.weight.shape == (128, 256, 1, 1)  # the paper strides here
    assert down.conv4.weight.shape == (512, 256, 1, 1)


def test_bottleneck_with_zero_gamma_and_beta_is_relu_of_its_input():
    blk = built(BottleneckResidual(4), (2, 16, 5, 5))
    blk.bn3.gamma.set_data(nd.zeros(16))
    blk.bn3.beta.set_data(nd.zeros(16))
    X = nd.random.normal(shape=(2, 16, 5, 5))
    assert (blk(X) - nd.relu(X)).abs().max().asscalar() == 0


def test_the_first_bottleneck_stage_projects_without_striding():
    net = built(resnet(50), (1, 1, 96, 96))
    table = shape_table(net, nd.zeros((1, 1, 96, 96)))
    assert table.loc['4.0.conv4', '输出形状'] == (1, 256, 24, 24)
    assert table.loc['3', '输出形状'] == (1, 64, 24, 24)


@pytest.mark.parametrize('depth', [0, 42, 200, '50'])
def test_an_unknown_depth_is_refused_in_one_sentence(depth):
    with pytest.raises(ValueError, match='表 1 里没有'):
        resnet(depth)
