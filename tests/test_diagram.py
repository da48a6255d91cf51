"""d2lhelpers.diagram: labels derived from real blocks and the drawings."""
import matplotlib
matplotlib.use('Agg')

import d2lhelpers  # noqa: F401  (sets OMP_NUM_THREADS before mxnet loads)

import re

import pytest
from matplotlib.figure import Figure
from mxnet.gluon import nn

from d2lhelpers import diagram as D
from d2lhelpers.models import DenseBlock, Inception, Residual, ResidualV2


def gid_count(ax, gid):
    return sum(1 for p in ax.patches if p.get_gid() == gid)


def texts(fig):
    return [t.get_text().replace('\n', ' ') for ax in fig.axes for t in ax.texts]


@pytest.mark.parametrize('layer, label', [
    (nn.Conv2D(128, kernel_size=3, padding=1), 'Conv2D 3×3, 128'),
    (nn.Conv2D(64, kernel_size=7, strides=2, padding=3), 'Conv2D 7×7, 64, 步幅 2'),
    (nn.Conv2D(64, kernel_size=1, activation='relu'), 'Conv2D 1×1, 64 + ReLU'),
    (nn.MaxPool2D(pool_size=3, strides=1, padding=1), 'MaxPool 3×3'),
    (nn.MaxPool2D(pool_size=3, strides=2, padding=1), 'MaxPool 3×3, 步幅 2'),
    (nn.AvgPool2D(pool_size=2, strides=2), 'AvgPool 2×2'),
    (nn.GlobalAvgPool2D(), 'GlobalAvgPool'),
    (nn.BatchNorm(), 'BatchNorm'),
    (nn.Activation('relu'), 'ReLU'),
    (nn.Activation('sigmoid'), 'Sigmoid'),
    (nn.Dense(10), 'Dense 10'),
    (nn.Dense(84, activation='sigmoid'), 'Dense 84 + Sigmoid'),
    (nn.Dropout(0.5), 'Dropout 0.5'),
    (Inception(1, (1, 1), (1, 1), 1), 'Inception'),
    ('anything', 'anything'),
])
def test_layer_label(layer, label):
    assert D.layer_label(layer) == label


def test_inception_labels_follow_the_channels():
    spec = D.inception_paths(Inception(64, (96, 128), (16, 32), 32))
    paths = spec['paths']
    assert [len(p) for p in paths] == [1, 2, 2, 2]
    assert '1×1, 64' in paths[0][0]
    assert '1×1, 96' in paths[1][0] and '3×3, 128' in paths[1][1]
    assert '1×1, 16' in paths[2][0] and '5×5, 32' in paths[2][1]
    assert paths[3][0] == 'MaxPool 3×3' and '1×1, 32' in paths[3][1]
    assert spec['merge'] == '通道维连结'
    other = D.inception_paths(Inception(192, (96, 208), (16, 48), 64))['paths']
    assert '1×1, 192' in other[0][0] and '3×3, 208' in other[1][1]
    assert '5×5, 48' in other[2][1] and '1×1, 64' in other[3][1]


def test_inception_drawing():
    fig = D.draw_inception(Inception(64, (96, 128), (16, 32), 32))
    assert isinstance(fig, Figure)
    ax, = fig.axes
    assert gid_count(ax, 'd2l-box') == 7
    assert gid_count(ax, 'd2l-merge') == 1
    assert gid_count(ax, 'd2l-terminal') == 2
    # input -> 4 first boxes, 3 inside paths, 4 into concat, concat -> output
    assert gid_count(ax, 'd2l-arrow') == 12
    labels = texts(fig)
    assert 'Conv2D 3×3, 128 + ReLU' in labels and 'MaxPool 3×3' in labels
    assert '通道维连结' in labels and '输入' in labels and '输出' in labels
    assert ax.get_title() == 'Inception 块'


def test_residual_shortcut():
    with_conv = D.residual_paths(Residual(128, use_1x1conv=True, strides=2))
    main, shortcut = with_conv['paths']
    assert main == ['Conv2D 3×3, 128, 步幅 2', 'BatchNorm', 'ReLU',
                    'Conv2D 3×3, 128', 'BatchNorm']
    assert shortcut == ['Conv2D 1×1, 128, 步幅 2']
    assert with_conv['merge'] == '+' and list(with_conv['after']) == ['ReLU']
    assert with_conv['frame'] == '拟合\nf(x) - conv3(x)' and with_conv['note'] == 'f(x)'
    identity = D.residual_paths(Residual(64))
    assert identity['paths'][1] == [] and identity['frame'] == '拟合\nf(x) - x'
    plain = D.plain_paths(Residual(64))
    assert len(plain['paths']) == 1 and plain.get('merge') is None
    # f(x) is the input of the last ReLU, which is not among the fitted layers
    assert plain['paths'][0] == identity['paths'][0] and plain['after'] == ['ReLU']
    assert plain['frame'] == '拟合\nf(x)' and plain['note'] == 'f(x)'


def box_ys(ax, gid):
    return {t.get_text(): t.get_position()[1] for t in ax.texts if t.get_gid() == gid}


@pytest.mark.parametrize('use_1x1conv, shortcut_boxes', [(False, 0), (True, 1)])
def test_plain_vs_residual_drawing(use_1x1conv, shortcut_boxes):
    fig = D.draw_plain_vs_residual(Residual(64, use_1x1conv=use_1x1conv))
    plain_ax, res_ax = fig.axes
    assert (plain_ax.get_title(), res_ax.get_title()) == ('普通块', '残差块')
    assert gid_count(plain_ax, 'd2l-box') == 6
    assert gid_count(plain_ax, 'd2l-merge') == 0
    assert gid_count(res_ax, 'd2l-box') == 5 + shortcut_boxes + 1
    assert gid_count(res_ax, 'd2l-merge') == 1
    merge_texts = [t.get_text() for t in res_ax.texts if t.get_gid() == 'd2l-merge']
    assert merge_texts == ['+']
    for ax in (plain_ax, res_ax):
        frame, = [p for p in ax.patches if p.get_gid() == 'd2l-frame']
        frame_top = frame.get_y() + frame.get_height()
        boxes = [t for t in ax.texts if t.get_gid() == 'd2l-box']
        top_box = max(boxes, key=lambda t: t.get_position()[1])
        note, = [t for t in ax.texts if t.get_gid() == 'd2l-note']
        # the last ReLU sits outside (above) the dashed frame, f(x) between them
        assert top_box.get_text() == 'ReLU'
        assert frame_top < note.get_position()[1] < top_box.get_position()[1]
        assert note.get_text() == 'f(x)'
    assert any('f(x) - ' in t for t in box_ys(res_ax, 'd2l-frame'))
    assert list(box_ys(plain_ax, 'd2l-frame')) == ['拟合\nf(x)']


def test_v2_diagram():
    spec = D.residual_v2_paths(ResidualV2(6, use_1x1conv=True, strides=2))
    main, shortcut = spec['paths']
    assert main[0] == 'BatchNorm' and main[-1] == 'Conv2D 3×3, 6'
    assert shortcut == ['Conv2D 1×1, 6, 步幅 2']
    assert spec['merge'] == '+' and not spec.get('after')
    assert spec['output_label'] == 'f(x)'
    assert D.residual_v2_paths(ResidualV2(3))['paths'][1] == []
    fig = D.draw_v1_vs_v2(Residual(3), ResidualV2(3))
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    assert fig.axes[1].get_title() == 'ResNet v2 残差块（预激活）'
    with pytest.raises(ValueError, match='ResidualV2'):
        D.residual_v2_paths(nn.Dense(3))


def test_dense_vs_residual():
    fig = D.dense_vs_residual()
    res_ax, dense_ax = fig.axes
    assert (res_ax.get_title(), dense_ax.get_title()) == ('ResNet：相加', 'DenseNet：连结')
    for ax in (res_ax, dense_ax):
        assert gid_count(ax, 'd2l-box') == 2
        assert gid_count(ax, 'd2l-merge') == 1
    res_merge = [t.get_text() for t in res_ax.texts if t.get_gid() == 'd2l-merge']
    dense_merge = [t.get_text() for t in dense_ax.texts if t.get_gid() == 'd2l-merge']
    assert res_merge == ['+'] and dense_merge == ['通道维连结']
    assert {'模块 A', '模块 B', 'x', '输出'} <= set(texts(fig))
    named = D.dense_vs_residual_paths(DenseBlock(2, 10), 'Transition')
    assert named[1][1]['before'] == ['DenseBlock']
    assert named[1][1]['paths'][0] == ['Transition']


def test_draw_paths_single_path_and_merge():
    ax, = D.draw_paths([['Conv2D 3×3, 8', 'ReLU']]).axes
    assert gid_count(ax, 'd2l-box') == 2 and gid_count(ax, 'd2l-arrow') == 3
    ax, = D.draw_paths([['A'], ['B']], merge='+', after=['ReLU'], title='two').axes
    assert gid_count(ax, 'd2l-box') == 3 and ax.get_title() == 'two'
    with pytest.raises(ValueError, match='合并节点'):
        D.draw_paths([['A'], ['B']])
    with pytest.raises(ValueError, match='align'):
        D.draw_paths([['A']], align='top')


ALLOWED_WORDS = {'Conv2D', 'BatchNorm', 'ReLU', 'MaxPool', 'AvgPool', 'Dense', 'Inception',
                 'ResNet', 'DenseNet', 'x', 'f', 'conv3', 'v1', 'v2', 'A', 'B'}


def test_diagram_text_is_chinese():
    figs = [D.draw_inception(Inception(64, (96, 128), (16, 32), 32)),
            D.draw_plain_vs_residual(Residual(8, use_1x1conv=True, strides=2)),
            D.draw_v1_vs_v2(Residual(3), ResidualV2(3)), D.dense_vs_residual()]
    for fig in figs:
        words = {w for t in texts(fig) + [ax.get_title() for ax in fig.axes]
                 for w in re.findall(r'[A-Za-z][A-Za-z0-9]*', t)}
        assert words <= ALLOWED_WORDS, words - ALLOWED_WORDS


def test_wrong_block_is_a_value_error():
    with pytest.raises(ValueError, match='p1_1'):
        D.inception_paths(Residual(8))
