"""Looking inside trained networks, the shared parts: the feature-map figure
(d2lhelpers.featuremaps), TrainedNet and its caches, the confusion matrix and
the most confident mistakes (d2lhelpers.explorers.inside). Small networks with
set weights, so that every number has a hand computation."""
import matplotlib
matplotlib.use('Agg')

import d2lhelpers  # noqa: F401  (sets OMP_NUM_THREADS before mxnet loads)

import ipywidgets as widgets
import matplotlib.pyplot as plt
import mxnet as mx
import numpy as np
import pytest
from matplotlib.figure import Figure
from mxnet import nd
from mxnet.gluon import nn

from d2lhelpers.data import TEXT_LABELS_ZH
from d2lhelpers.explorers import inside
from d2lhelpers.featuremaps import DIVERGING, SEQUENTIAL, feature_map_grid
from d2lhelpers.widgets import Explorer


# ------------------------------------------------------------- helpers
def identity_classifier(k=10, ctx=None):
    """Predicts the class of the largest of its k inputs: logits = flattened input."""
    net = nn.Sequential()
    net.add(nn.Dense(k, in_units=k, use_bias=False))
    net.initialize(ctx=ctx)
    net[0].weight.set_data(nd.eye(k))
    return net


def batches(X, y, batch_size):
    """A re-iterable test set: a list of (X, y) NDArray batches, in order."""
    return [(nd.array(X[i:i + batch_size]), nd.array(y[i:i + batch_size]))
            for i in range(0, len(X), batch_size)]


def one_hot_images(predicted, k=10, confidence=3.0):
    """(n, 1, 1, k) inputs whose largest value is at ``predicted``."""
    X = np.zeros((len(predicted), 1, 1, k), dtype=np.float32)
    X[np.arange(len(predicted)), 0, 0, predicted] = confidence
    return X


LABELS = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2, 6])
PREDICTED = np.array([0, 0, 6, 1, 2, 2, 2, 0, 2, 0])


@pytest.fixture
def trained():
    X = one_hot_images(PREDICTED)
    X[2, 0, 0, 6] = 9.0   # the most confident mistake: 0 taken for 6
    X[7, 0, 0, 0] = 5.0   # the second: 2 taken for 0
    return inside.TrainedNet(identity_classifier(), batches(X, LABELS, 4))


# ------------------------------------------------------------ the figure
def test_grid_one_row_per_group_with_colour_by_sign():
    rng = np.random.RandomState(0)
    positive, signed = np.abs(rng.randn(3, 4, 4)), rng.randn(2, 4, 4)
    fig = feature_map_grid([('正', positive), ('有正有负', signed, [5, 9])],
                           image=np.ones((1, 28, 28)), title='标题')
    assert isinstance(fig, Figure)
    rows = [ax for ax in fig.axes if ax.get_title(loc='left')]
    assert [ax.get_title(loc='left') for ax in rows] == ['正', '有正有负']
    assert [t.get_text() for t in rows[1].get_xticklabels()] == ['通道 5', '通道 9']
    (im0,), (im1,) = rows[0].get_images(), rows[1].get_images()
    assert im0.get_cmap().name == SEQUENTIAL
    assert im0.get_clim() == (0, pytest.approx(positive.max()))
    bound = np.abs(signed).max()
    assert im1.get_cmap().name == DIVERGING and im1.get_clim() == (pytest.approx(-bound),
                                                                   pytest.approx(bound))
    # the tiles are the maps, side by side with a blank column between
    tiles = np.ma.filled(im1.get_array().astype(float), np.nan)  # imshow masks the NaN gaps
    assert np.allclose(tiles[:, :4], signed[0]) and np.isnan(tiles[:, 4]).all()
    assert np.allclose(tiles[:, 5:9], signed[1])
    assert fig._suptitle.get_text() == '标题'
    assert any(ax.get_title() == '输入图像' for ax in fig.axes)


def test_shared_scale_uses_one_range():
    small, large = np.full((1, 2, 2), 0.5), np.full((1, 2, 2), 4.0)
    fig = feature_map_grid([('小', small), ('大', large), ('负', -small)], shared_scale=True)
    clims = [ax.get_images()[0].get_clim() for ax in fig.axes if ax.get_images()
             and ax.get_title(loc='left')]
    assert clims == [(0, 4.0), (0, 4.0), (-4.0, 4.0)]


@pytest.mark.parametrize('groups, words', [
    ([], 'groups 应是非空的列表'),
    ([('a', np.zeros((2, 3)), [0, 1])], '有 1 个特征图，却有 2 个通道编号'),
    ([('a', np.zeros((1, 1, 2, 3, 3)))], '形状为 (通道, 高, 宽)'),
    ([('a', np.zeros((33, 2, 2)))], '通道数 应在 1 到 32 之间'),
    ([('a', np.full((1, 2, 2), np.nan))], 'NaN 或无穷大'),
    ([('a', np.zeros((1, 2, 2)))] * 13, 'groups 的组数 应在 1 到 12 之间'),
    (['abc'], '每一项应是 (标签, 特征图)'),
])
def test_grid_refuses_bad_groups(groups, words):
    with pytest.raises(ValueError, match=re_escape(words)):
        feature_map_grid(groups)


def re_escape(text):
    import re
    return re.escape(text)


def test_grid_accepts_ndarrays_with_a_batch_axis():
    fig = feature_map_grid([('a', nd.ones((1, 2, 3, 3)))])
    assert fig.axes[0].get_images()[0].get_array().shape == (3, 7)
    plt.close('all')


# ---------------------------------------------------- confusion matrix
def test_confusion_matrix_of_a_fixed_predictor():
    m = inside.confusion_matrix(LABELS, PREDICTED, 10)
    assert m.shape == (10, 10) and m.sum() == len(LABELS)
    assert m[0, 0] == 2 and m[0, 6] == 1          # three 0s: two right, one taken for 6
    assert m[1, 1] == 1 and m[1, 2] == 1
    assert m[2, 2] == 3 and m[2, 0] == 1
    assert m[6, 0] == 1 and np.trace(m) == 6
    with pytest.raises(ValueError, match='predicted 里的类别应在 0 到 2 之间'):
        inside.confusion_matrix([0, 1], [0, 3], 3)
    with pytest.raises(ValueError, match='有 2 个标签，却有 1 个预测'):
        inside.confusion_matrix([0, 1], [0], 3)


def test_trained_net_predicts_the_test_set_once(trained):
    p = trained.predictions()
    assert trained.num_images == 10 and list(p.labels) == list(LABELS)
    assert list(p.predicted) == list(PREDICTED)
    assert np.allclose(p.probabilities.sum(axis=1), 1)
    assert trained.class_names == list(TEXT_LABELS_ZH)
    assert trained.describe(2) == ('测试图像 #2：真实类别 T恤，网络判为 衬衫（概率 %.2f，判错了）'
                                   % p.probabilities[2, 6])


def test_confusion_explorer_numbers(trained):
    result = inside.confusion_explorer(trained)
    table = result.table
    assert table.index.name == '真实类别' and table.columns.name == '预测类别'
    assert list(table.index) == list(TEXT_LABELS_ZH)
    assert table.loc['T恤', '衬衫'] == 1 and table.loc['套衫', '套衫'] == 3
    assert np.array_equal(table.values, inside.confusion_matrix(LABELS, PREDICTED, 10))
    assert result.text.startswith('测试集 10 张图像，判对 6 张，准确率 0.600')
    assert '最难认的类别：衬衫（只判对了 0%）' in result.text
    assert isinstance(result.figure, Figure)
    shares = inside.confusion_explorer(trained, normalize=True).table
    assert shares.loc['T恤', 'T恤'] == pytest.approx(66.7) and shares.loc['套衫'].sum() == 100
    plt.close('all')


def test_most_confident_mistakes_in_order(trained):
    p = trained.predictions()
    picked = inside.most_confident_mistakes(p, 3)
    assert list(picked) == [2, 7, 4]  # 4 and 9 tie: test set order
    assert p.probabilities[2, 6] > p.probabilities[7, 0] > p.probabilities[picked[2],
                                                                            p.predicted[picked[2]]]
    assert list(inside.most_confident_mistakes(p, 5, true_class=2)) == [7]
    result = inside.mistakes_explorer(trained, count=2)
    assert list(result.table.index) == [2, 7]
    assert list(result.table['真实类别']) == ['T恤', '套衫']
    assert list(result.table['判为']) == ['衬衫', 'T恤']
    assert result.text.startswith('测试集里判错了 4 张；下面是网络最有把握的 2 个错误')
    titles = [ax.get_title() for ax in result.figure.axes]
    assert titles[0].startswith('#2 真：T恤\n判为：衬衫')
    # the images are the test images themselves
    image = result.figure.axes[0].get_images()[0].get_array()
    assert image.shape == (1, 10) and image[0, 6] == 9.0
    none = inside.mistakes_explorer(trained, count=2, true_class='包')
    assert none.figure is None and none.text == '真实类别为包的 0 张测试图像里没有判错的图像。'
    plt.close('all')


@pytest.mark.parametrize('call, words', [
    (lambda t: inside.mistakes_explorer(t, count=0), 'count 应在 1 到 32 之间'),
    (lambda t: inside.mistakes_explorer(t, count=33), 'count 应在 1 到 32 之间'),
    (lambda t: inside.mistakes_explorer(t, true_class='鞋'), "true_class 应是 '全部'"),
    (lambda t: inside.confusion_explorer(t, normalize='yes'), 'normalize 应是 True 或 False'),
    (lambda t: t.images([10]), 'index 应在 0 到 9 之间，收到的是 10；测试集一共 10 张图像'),
    (lambda t: inside.confusion_explorer(t.net), 'trained 应是 TrainedNet(net, test_iter)'),
])
def test_bad_arguments_get_a_sentence(trained, call, words):
    with pytest.raises(ValueError, match=re_escape(words)):
        call(trained)


def test_trained_net_refuses_what_it_cannot_use():
    with pytest.raises(ValueError, match='还没有初始化'):
        net = nn.Dense(3)
        inside.TrainedNet(net, [])
    with pytest.raises(ValueError, match='test_iter 里没有任何批量'):
        inside.TrainedNet(identity_classifier(), [])
    with pytest.raises(ValueError, match='net 应是 Gluon 的网络'):
        inside.TrainedNet('net', [])
    X, y = one_hot_images([0, 1]), np.array([0, 12])
    with pytest.raises(ValueError, match='测试集的标签在 0 到 12 之间，网络却只输出 10 个类别'):
        inside.TrainedNet(identity_classifier(), batches(X, y, 2))


def test_images_come_back_in_the_asked_order_and_a_reshuffled_set_is_caught(trained):
    images = trained.images([7, 2, 7])
    assert images.shape == (3, 1, 1, 10)
    assert images[0, 0, 0, 0] == 5.0 and images[1, 0, 0, 6] == 9.0
    trained.test_iter.reverse()  # a second pass in another order
    with pytest.raises(ValueError, match='顺序变了'):
        trained.images([0])
    del trained.test_iter[1:]  # ... or a shorter one
    with pytest.raises(ValueError, match='第二次遍历时只有 2 张图像（第一次有 10 张）'):
        trained.images([9])
    with pytest.raises(ValueError, match='indices 是空的'):
        trained.images([])


# ------------------------------------------------------------------ caches
def test_cache_answers_until_the_parameters_change(trained):
    calls = []

    def record(net, X):
        calls.append(1)
        return {'logits': net(X).asnumpy()}
    first = trained.recorded(2, 'logits', record)
    again = trained.recorded(2, 'logits', record)
    assert first is again and len(calls) == 1
    assert first['image'].shape == (1, 1, 10) and first['logits'][0, 6] == 9.0
    # Train the net again (here: set other weights): the next refresh notices.
    w = trained.net[0].weight
    w.set_data(nd.array(2 * w.data().asnumpy()[::-1]))  # predicts 9 - argmax now
    trained.refresh()
    assert trained.predictions().predicted[2] == 9 - 6
    fresh = trained.recorded(2, 'logits', record)
    assert len(calls) == 2 and fresh['logits'][0, 3] == 18.0
    result = inside.confusion_explorer(trained)
    assert result.table.loc['T恤', '短靴'] == 2 and result.table.loc['T恤', '连衣裙'] == 1


def test_fingerprint_sees_any_change_and_nothing_else():
    net = identity_classifier()
    before = inside.fingerprint(net)
    assert inside.fingerprint(net) == before
    w = net[0].weight.data().copy()
    w[3, 3] = 1.5
    net[0].weight.set_data(w)
    assert inside.fingerprint(net) != before


def test_an_image_goes_to_the_nets_device():
    # cpu(1) stands in for a GPU: parameters there, test batches on cpu(0)
    net = identity_classifier(ctx=mx.cpu(1))
    X = one_hot_images(PREDICTED)
    trained = inside.TrainedNet(net, batches(X, LABELS, 4))
    assert list(trained.predictions().predicted) == list(PREDICTED)
    seen = trained.recorded(3, 'out', lambda n, X: {'ctx': str(X.context)})
    assert seen['ctx'] == 'cpu(1)'


def test_channel_range_is_checked_against_the_narrowest_group():
    assert list(inside.channel_range([64, 32], 4, 30, 'x')) == [30, 31, 32, 33]
    with pytest.raises(ValueError, match=re_escape('first_channel 应在 0 到 31 之间，收到的是 32；'
                                                   '块里最窄的一组只有 32 个通道')):
        inside.channel_range([64, 32], 4, 32, '块')
    with pytest.raises(ValueError, match='channels 应在 1 到 16 之间'):
        inside.channel_range([64], 0, 0, '块')


def test_in_an_explorer_the_widget_shows_the_matrix(trained):
    ex = Explorer(inside.mistakes_explorer, trained=widgets.fixed(trained),
                  count=widgets.IntSlider(2, 1, 32))
    assert ex.error is None and list(ex.result.table.index) == [2, 7]
    ex.set(count=40)  # above the slider: clamped to 32 by the widget
    assert len(ex.result.table) == 4
    plt.close('all')
