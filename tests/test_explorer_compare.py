"""d2lhelpers.explorers.compare (training memory of the compared networks) and
d2lhelpers.explorers.smallest_input, the one search for the smallest input."""
import d2lhelpers  # noqa: F401  (sets OMP_NUM_THREADS before mxnet loads)

import ipywidgets as widgets
import mxnet as mx
import pytest
from mxnet import nd

from d2lhelpers import models
from d2lhelpers.cost import model_cost
from d2lhelpers.explorers import runs, smallest_input
from d2lhelpers.explorers.compare import training_memory_explorer
from d2lhelpers.widgets import Explorer


@pytest.fixture(scope='module')
def nets():
    return {'BN-LeNet': models.lenet_gluon_bn, 'DenseNet': models.densenet}


# ------------------------------------------------------ smallest_input
def test_smallest_input_of_one_network_a_dict_and_an_instance(nets):
    assert smallest_input(models.lenet_gluon_bn) == 16  # 5×5 conv, pool, 5×5 conv
    assert smallest_input(nets) == 29 == smallest_input(list(nets.values()))
    net = models.densenet()
    net.initialize()
    assert smallest_input(net) == 29  # notebook 04: DenseNet's limit
    assert not runs(net, 28) and runs(net, 29)


def test_smallest_input_is_cached_and_leaves_the_random_state_alone():
    built = []

    def make():
        built.append(1)
        return models.lenet_bn()

    mx.random.seed(3)
    a = nd.random.uniform(shape=(3,)).asnumpy()
    mx.random.seed(3)
    assert smallest_input(make) == 16
    assert (nd.random.uniform(shape=(3,)).asnumpy() == a).all()
    # doubling (1, 2, 4, 8, 16) then bisecting 9 ... 16: a handful of builds
    assert 5 <= len(built) <= 10
    assert smallest_input(make) == 16 and smallest_input({'LeNet': make}) == 16
    assert len(built) <= 10  # answered from the cache


@pytest.mark.parametrize('maximum, words', [
    (0, 'maximum 应在 1 到 4096 之间，收到的是 0'),
    (-3, 'maximum 应在 1 到 4096 之间，收到的是 -3'),
    (2.5, 'maximum 应是整数'),
    (8, '直到 8×8 的输入都不行'),
])
def test_smallest_input_refuses_bad_sizes(nets, maximum, words):
    with pytest.raises(ValueError, match=words):
        smallest_input(nets, maximum=maximum)


@pytest.mark.parametrize('bad, words', [({}, '非空字典'), (3, '构造网络的函数'),
                                        (models.densenet(), '还没有初始化')])
def test_smallest_input_refuses_what_is_not_a_network(bad, words):
    with pytest.raises(ValueError, match=words):
        smallest_input(bad)


# --------------------------------------------------------- the explorer
def test_scales_the_per_image_costs_to_the_batch(nets):
    result = training_memory_explorer(nets, input_size=48, batch_size=64)
    table = result.table
    densenet = models.densenet()
    densenet.initialize()
    cost = model_cost(densenet, (1, 1, 48, 48))
    row = table.loc['DenseNet']
    assert list(table.columns) == ['参数数量', '每张图像的乘加次数（百万）',
                                   '每批量的层输出（MB）', '权重和梯度（MB）']
    assert row['参数数量'] == cost['params']
    assert row['每批量的层输出（MB）'] == round(cost['activation bytes'] * 64 / 1e6, 1)
    assert row['权重和梯度（MB）'] == round(8 * cost['params'] / 1e6, 1)
    assert result.text.startswith('输入 48×48、批量大小 64：为反向传播保留的层输出从 ')
    assert result.text.endswith('MB（DenseNet）。')
    # Twice the batch, twice the layer outputs; the weights do not change.
    double = training_memory_explorer(nets, input_size=48, batch_size=128).table
    assert double.loc['DenseNet', '每批量的层输出（MB）'] == pytest.approx(
        2 * row['每批量的层输出（MB）'], abs=0.11)
    assert double.loc['DenseNet', '权重和梯度（MB）'] == row['权重和梯度（MB）']


def test_too_small_names_each_network_and_the_smallest_size(nets):
    with pytest.raises(ValueError) as err:
        training_memory_explorer(nets, input_size=20)
    assert str(err.value) == ('输入为 20×20 时 DenseNet（至少 29×29）无法运行；这 2 个网络'
                              '都能接受的最小输入是 29×29。')
    with pytest.raises(ValueError) as err:
        training_memory_explorer(nets, input_size=8)
    assert str(err.value).startswith('输入为 8×8 时 BN-LeNet（至少 16×16）、DenseNet（至少 '
                                     '29×29）无法运行')


def test_a_lenet_is_measured_at_every_size(nets):
    """A LeNet's Dense layer fixes its input size at the first forward pass;
    the explorer builds the networks afresh, so every size works."""
    small = training_memory_explorer(nets, input_size=32).table
    large = training_memory_explorer(nets, input_size=96).table
    assert large.loc['BN-LeNet', '参数数量'] > small.loc['BN-LeNet', '参数数量']
    assert large.loc['DenseNet', '参数数量'] == small.loc['DenseNet', '参数数量']


@pytest.mark.parametrize('kwargs, sentence', [
    (dict(input_size=0), 'input_size 应在 1 到 512 之间，收到的是 0；请改成这个范围内的值。'),
    (dict(batch_size=2.5), 'batch_size 应是整数（1 到 1024 之间），收到的是 2.5（float）；请传入一个整数。'),
    (dict(input_size=1000), 'input_size 应在 1 到 512 之间，收到的是 1000；请改成这个范围内的值。'),
    (dict(batch_size=10 ** 5), 'batch_size 应在 1 到 1024 之间，收到的是 100000；请改成这个范围内的值。'),
    (dict(networks={}), "networks 应是一个非空字典：名字 → 构造网络的函数，例如 "
                        "{'ResNet-18': d2lh.models.resnet18}。"),
])
def test_bad_values_are_sentences(nets, kwargs, sentence):
    with pytest.raises(ValueError) as err:
        training_memory_explorer(**dict(dict(networks=nets), **kwargs))
    assert str(err.value) == sentence


def test_explorer_shows_the_sentence_and_recovers(nets):
    ex = Explorer(training_memory_explorer, networks=widgets.fixed(nets),
                  input_size=widgets.IntSlider(value=48, min=8, max=224),
                  batch_size=widgets.IntSlider(value=128, min=1, max=512))
    assert ex.error is None and ex.result.text.startswith('输入 48×48、批量大小 128')
    ex.controls['input_size'].value = 20
    assert ex.error.startswith('输入为 20×20 时 DenseNet')
    ex.controls['input_size'].value = 32
    assert ex.error is None and ex.result.text.startswith('输入 32×32、批量大小 128')
