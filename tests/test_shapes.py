"""d2lhelpers.shapes: layer tables with stable names, shapes and parameter counts."""
import d2lhelpers  # noqa: F401  (sets OMP_NUM_THREADS before mxnet loads)

import re

import pytest
from mxnet import nd
from mxnet.gluon import nn

from d2lhelpers.models import Residual, googlenet, lenet_bn, lenet_gluon_bn, resnet18
from d2lhelpers import _gluon
from d2lhelpers.shapes import param_count, shape_table

X96 = (1, 1, 96, 96)


@pytest.fixture(scope='module')
def gnet():
    net = googlenet()
    net.initialize()
    return net


def test_top_level_rows(gnet):
    table = shape_table(gnet, nd.zeros(X96), max_depth=1)
    assert list(table.index) == ['0', '1', '2', '3', '4', '5']
    assert list(table.columns) == ['深度', '类型', '输出形状', '参数数量']
    assert table.index.name == '层'
    assert list(table['类型']) == ['Sequential'] * 5 + ['Dense']
    assert table.loc['2', '输出形状'] == (1, 480, 6, 6)
    assert table.loc['5', '输出形状'] == (1, 10)
    assert (table['深度'] == 1).all()
    assert table['参数数量'].sum() == param_count(gnet)


def test_leaves_have_stable_attribute_names(gnet):
    table = shape_table(gnet, X96)
    row = table.loc['2.0.p2_2']
    assert row['类型'] == 'Conv2D'
    assert row['输出形状'] == (1, 128, 12, 12)
    assert row['参数数量'] == 96 * 128 * 3 * 3 + 128
    assert row['深度'] == 3
    assert table.loc['2.0.p4_1', '类型'] == 'MaxPool2D'
    assert table.loc['2.0.p4_1', '参数数量'] == 0
    # no Gluon auto names like conv5 / pool2
    assert not any(name.startswith(('conv', 'pool', 'dense')) for name in table.index)
    assert table['参数数量'].sum() == param_count(gnet)


def test_intermediate_depth_shows_blocks(gnet):
    table = shape_table(gnet, X96, max_depth=2)
    assert table.loc['2.0', '类型'] == 'Inception'
    assert table.loc['2.0', '输出形状'] == (1, 256, 12, 12)
    assert table.loc['2.1', '输出形状'] == (1, 480, 12, 12)
    assert table.loc['5', '深度'] == 1  # a leaf shallower than max_depth


def test_text_is_deterministic_across_rebuilds():
    """Gluon's auto names drift (conv0, conv12, ...) but the table must not."""
    texts = []
    for _ in range(2):
        net = lenet_gluon_bn()
        net.initialize()
        texts.append(shape_table(net, (2, 1, 28, 28)).to_string())
    assert texts[0] == texts[1]


def test_rows_follow_forward_order():
    blk = Residual(8, use_1x1conv=True, strides=2)
    blk.initialize()
    table = shape_table(blk, (1, 4, 6, 6))
    assert list(table.index) == ['conv1', 'bn1', 'conv2', 'bn2', 'conv3']
    assert table.loc['conv3', '输出形状'] == (1, 8, 3, 3)


def test_hybridized_network_and_flags_restored():
    net = resnet18()
    net.initialize()
    net.hybridize()
    table = shape_table(net, (1, 1, 32, 32), max_depth=2)
    assert table.loc['5.0', '类型'] == 'Residual'
    assert table.loc['9', '输出形状'] == (1, 10)
    assert _gluon.is_hybridized(net[0]) and _gluon.is_hybridized(net[4][0].conv1)


def test_batchnorm_counts_learned_parameters_only():
    ours, gluons = lenet_bn(), lenet_gluon_bn()
    for net in (ours, gluons):
        net.initialize()
        table = shape_table(net, (2, 1, 28, 28))
        assert table.loc['1', '参数数量'] == 2 * 6
        assert table.loc['9', '参数数量'] == 2 * 120
    assert param_count(ours) == param_count(gluons)
    assert param_count(gluons[1], trainable_only=False) == 4 * 6


def test_uninitialized_network_is_a_value_error():
    with pytest.raises(ValueError, match=r'网络还没有初始化.*net\.initialize\(\)'):
        shape_table(googlenet(), X96)


def test_too_small_input_names_the_layer():
    net = nn.HybridSequential()
    net.add(nn.Conv2D(2, kernel_size=3), nn.MaxPool2D(pool_size=4))
    net.initialize()
    net.hybridize()
    with pytest.raises(ValueError) as info:
        shape_table(net, (1, 1, 5, 5))
    msg = str(info.value)
    assert '层 1（MaxPool2D）无法处理形状为 (1, 2, 3, 3) 的输入' in msg
    assert 'Traceback' not in msg and '.cc' not in msg


def test_too_small_input_inside_a_nested_block(capsys):
    net = lenet_bn()
    net.initialize()
    with pytest.raises(ValueError, match=r'层 4（Conv2D）无法处理形状为 \(1, 6, 2, 2\)'):
        shape_table(net, (1, 1, 8, 8))
    assert 'infer_shape error' not in capsys.readouterr().out


def test_param_count_needs_known_shapes():
    net = nn.Dense(3)
    net.initialize()
    with pytest.raises(ValueError, match='请先做一次前向计算'):
        param_count(net)
    net(nd.zeros((1, 4)))
    assert param_count(net) == 4 * 3 + 3


@pytest.mark.parametrize('shape, words', [
    ((1, 0, 28, 28), '输入形状 (1, 0, 28, 28) 的第 2 个数'),
    ((1, 1, -28, 28), '输入形状 (1, 1, -28, 28) 的第 3 个数'),
    ((1, 1, 28.5, 28), '输入形状 (1, 1, 28.5, 28) 的第 3 个数 应是整数'),
    ((1, 1, '28', 28), "应是整数"),
    ((), '输入的形状是空的'),
    ((10 ** 5, 3, 224, 224), '超过了 MXNet 单个张量的上限'),
])
def test_bad_sizes_in_a_shape_are_sentences(gnet, shape, words):
    with pytest.raises(ValueError, match=re.escape(words)):
        shape_table(gnet, shape)


def test_bad_net_and_depth_are_sentences(gnet):
    with pytest.raises(ValueError, match='net 应是一个 Gluon 的块'):
        shape_table('googlenet', X96)
    with pytest.raises(ValueError, match='max_depth'):
        shape_table(gnet, X96, max_depth=0)
