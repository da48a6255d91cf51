"""d2lhelpers.diagram: labels derived from real blocks and the drawings."""
import matplotlib
matplotlib.use('Agg')

import d2lhelpers  # noqa: F401  (sets OMP_NUM_THREADS before mxnet loads)

import pytest
from matplotlib.figure import Figure
from mxnet.gluon import nn

from d2lhelpers import diagram as D
from d2lhelpers.models import DenseBlock, Inception, Residual


def gid_count(ax, gid):
    return sum(1 for p in ax.patches if p.get_gid() == gid)


def texts(fig):
    return [t.get_text().replace('\n', ' ') for ax in fig.axes for t in ax.texts]


@pytest.mark.parametrize('layer, label', [
    (nn.Conv2D(128, kernel_size=3, padding=1), 'Conv2D 3×3, 128'),
    (nn.Conv2D(64, kernel_size=7, strides=2, padding=3), 'Conv2D 7×7, 64, stride 2'),
    (nn.Conv2D(64, kernel_size=1, activation='relu'), 'Conv2D 1×1, 64 + ReLU'),
    (nn.MaxPool2D(pool_size=3, strides=1, padding=1), 'MaxPool 3×3'),
    (nn.MaxPool2D(pool_size=3, strides=2, padding=1), 'MaxPool 3×3, stride 2'),
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
    assert spec['merge'].startswith('Concat')
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
    assert 'Concat (channel axis)' in labels and 'Input' in labels
    assert ax.get_title() == 'Inception block'


def test_residual_shortcut():
    with_conv = D.residual_paths(Residual(128, use_1x1conv=True, strides=2))
    main, shortcut = with_conv['paths']
    assert main == ['Conv2D 3×3, 128, stride 2', 'BatchNorm', 'ReLU',
                    'Conv2D 3×3, 128', 'BatchNorm']
    assert shortcut == ['Conv2D 1×1, 128, stride 2']
    assert with_conv['merge'] == '+' and list(with_conv['after']) == ['ReLU']
    identity = D.residual_paths(Residual(64))
    assert identity['paths'][1] == []
    plain = D.plain_paths(Residual(64))
    assert len(plain['paths']) == 1 and plain['merge'] is None
    assert plain['paths'][0][-1] == 'ReLU' and len(plain['paths'][0]) == 6


@pytest.mark.parametrize('use_1x1conv, shortcut_boxes', [(False, 0), (True, 1)])
def test_plain_vs_residual_drawing(use_1x1conv, shortcut_boxes):
    fig = D.draw_plain_vs_residual(Residual(64, use_1x1conv=use_1x1conv))
    plain_ax, res_ax = fig.axes
    assert plain_ax.get_title() == 'Plain block'
    assert gid_count(plain_ax, 'd2l-box') == 6
    assert gid_count(plain_ax, 'd2l-merge') == 0
    assert gid_count(res_ax, 'd2l-box') == 5 + shortcut_boxes + 1
    assert gid_count(res_ax, 'd2l-merge') == 1
    assert gid_count(res_ax, 'd2l-frame') == 1
    merge_texts = [t.get_text() for t in res_ax.texts if t.get_gid() == 'd2l-merge']
    assert merge_texts == ['+']


def test_dense_vs_residual():
    fig = D.dense_vs_residual()
    res_ax, dense_ax = fig.axes
    assert 'ResNet' in res_ax.get_title() and 'DenseNet' in dense_ax.get_title()
    for ax in (res_ax, dense_ax):
        assert gid_count(ax, 'd2l-box') == 2
        assert gid_count(ax, 'd2l-merge') == 1
    res_merge = [t.get_text() for t in res_ax.texts if t.get_gid() == 'd2l-merge']
    dense_merge = [t.get_text() for t in dense_ax.texts if t.get_gid() == 'd2l-merge']
    assert res_merge == ['+'] and dense_merge[0].startswith('Concat')
    named = D.dense_vs_residual_paths(DenseBlock(2, 10), 'Transition')
    assert named[1][1]['before'] == ['DenseBlock']
    assert named[1][1]['paths'][0] == ['Transition']


def test_draw_paths_into_given_axes_and_single_path():
    import matplotlib.pyplot as plt
    fig, (a, b) = plt.subplots(1, 2)
    assert D.draw_paths([['Conv2D 3×3, 8', 'ReLU']], ax=a) is fig
    assert gid_count(a, 'd2l-box') == 2 and gid_count(a, 'd2l-arrow') == 3
    D.draw_paths([['A'], ['B']], merge='+', after=['ReLU'], ax=b, title='two')
    assert gid_count(b, 'd2l-box') == 3 and b.get_title() == 'two'
    plt.close(fig)
    with pytest.raises(ValueError, match='merge'):
        D.draw_paths([['A'], ['B']])


def test_wrong_block_is_a_value_error():
    with pytest.raises(ValueError, match='p1_1'):
        D.inception_paths(Residual(8))
