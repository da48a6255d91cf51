"""d2lhelpers.explorers.batchnorm: batch statistics, moving averages and the
with/without-BN comparison, without any UI."""
import matplotlib
matplotlib.use('Agg')

import d2lhelpers  # noqa: F401  (sets OMP_NUM_THREADS before mxnet loads)

import math

import ipywidgets as widgets
import numpy as np
import pytest
from matplotlib.figure import Figure
from mxnet import autograd, nd

from d2lhelpers.explorers import batchnorm as B
from d2lhelpers.models import BatchNorm
from d2lhelpers.widgets import Explorer


@pytest.fixture(scope='module')
def images():
    """200 uint8 'images' of 6x5 pixels whose brightness varies per image."""
    rng = np.random.RandomState(1)
    level = rng.uniform(20, 200, size=(200, 1, 1))
    noise = rng.normal(0, 30, size=(200, 6, 5))
    return np.clip(level + noise, 0, 255).astype(np.uint8)


def test_pixel_statistics_of_uint8_equal_numpy_on_scaled_floats(images):
    mean, var = B.pixel_statistics(images)
    pixels = images.astype(np.float64) / 255
    assert mean == pytest.approx(pixels.mean(), rel=1e-12)
    assert var == pytest.approx(pixels.var(), rel=1e-10)
    # floats are taken as they are, (N, 1, H, W) as (N, H, W)
    assert B.pixel_statistics(pixels[:, None]) == pytest.approx((mean, var), rel=1e-10)


def test_batch_statistics_table(images):
    stats = B.batch_statistics(images, batch_size=16, momentum=0.8, num_batches=30)
    t = stats.table
    assert list(t.columns) == ['batch_mean', 'batch_var', 'moving_mean', 'moving_var']
    assert list(t.index) == list(range(1, 31)) and t.index.name == 'batch'
    assert stats.batch_size == 16 and stats.momentum == 0.8
    assert stats.pixels_per_batch == 16 * 6 * 5
    assert (stats.data_mean, stats.data_var) == pytest.approx(B.pixel_statistics(images))
    # the moving averages start at 0 like the from-scratch layer
    assert t['moving_mean'].iloc[0] == pytest.approx(0.2 * t['batch_mean'].iloc[0])
    assert t['moving_var'].iloc[0] == pytest.approx(0.2 * t['batch_var'].iloc[0])


def test_batches_are_reproducible_and_depend_on_the_seed(images):
    a = B.batch_statistics(images, 8, 0.9, 20, seed=0).table
    b = B.batch_statistics(images, 8, 0.9, 20, seed=0).table
    c = B.batch_statistics(images, 8, 0.9, 20, seed=1).table
    assert a.equals(b) and not a.equals(c)


def test_each_epoch_uses_every_image_once(images):
    # 200 images, batches of 50: 4 batches per epoch, 2 epochs -> both epochs
    # average to the data set's mean exactly.
    stats = B.batch_statistics(images, 50, 0.9, 8)
    means = stats.table['batch_mean'].values
    assert means[:4].mean() == pytest.approx(stats.data_mean, rel=1e-12)
    assert means[4:].mean() == pytest.approx(stats.data_mean, rel=1e-12)
    # a batch as large as the data set is the data set
    whole = B.batch_statistics(images, 200, 0.5, 3).table
    assert np.allclose(whole['batch_mean'], stats.data_mean)
    assert np.allclose(whole['batch_var'], stats.data_var)


def test_moving_averages_equal_the_from_scratch_layer_fed_the_same_batches(images):
    stats = B.batch_statistics(images, 10, 0.9, 25, seed=3)
    layer = BatchNorm(1, num_dims=4)
    layer.initialize()
    for idx in B.shuffled_batches(len(images), 10, 25, 3):
        X = nd.array(images[idx].astype(np.float32) / 255)[:, None]
        with autograd.record():
            layer(X)
    last = stats.table.iloc[-1]
    assert layer.moving_mean.asnumpy().item() == pytest.approx(last['moving_mean'], rel=1e-5)
    assert layer.moving_var.asnumpy().item() == pytest.approx(last['moving_var'], rel=1e-4)


def test_larger_batches_give_less_noisy_estimates(images):
    noise = [B.batch_statistics(images, m, 0.9, 60).table[['batch_mean', 'batch_var']].std()
             for m in (2, 8, 32)]
    assert (noise[0] > noise[1]).all() and (noise[1] > noise[2]).all()


def test_moving_averages_approach_the_data_set_statistics(images):
    stats = B.batch_statistics(images, 32, 0.9, 80)
    t = stats.table
    gaps = np.abs(np.stack([t['moving_mean'] / stats.data_mean - 1,
                            t['moving_var'] / stats.data_var - 1], axis=1))
    assert (gaps[0] > 0.8).all()           # starts from 0
    assert (gaps[9] < gaps[0]).all()
    assert (gaps[-1] < 0.05).all()


def test_momentum_zero_is_the_last_batch(images):
    t = B.batch_statistics(images, 8, 0.0, 10).table
    assert np.allclose(t['moving_mean'], t['batch_mean'])
    assert np.allclose(t['moving_var'], t['batch_var'])


@pytest.mark.parametrize('kwargs, words', [
    (dict(batch_size=0), 'batch_size 应在 1 到 200 之间，收到的是 0；一个小批量至少 1 张图像'),
    (dict(batch_size=201), 'batch_size 应在 1 到 200 之间'),
    (dict(batch_size=2.5), 'batch_size 应是整数'),
    (dict(momentum=1.0), '动量为 1 时移动平均会永远停在初值'),
    (dict(momentum=-0.1), 'momentum 应在 0 到 1 之间'),
    (dict(momentum='0.9'), 'momentum 应是一个数'),
    (dict(num_batches=0), 'num_batches 应在 1 到 2000 之间'),
    # issue 17: ten million batches ran for minutes
    (dict(num_batches=10 ** 7), 'num_batches 应在 1 到 2000 之间，收到的是 10000000'),
    (dict(seed=-1), 'seed 应在 0 到'),
])
def test_bad_settings_raise_a_sentence(images, kwargs, words):
    with pytest.raises(ValueError, match=words):
        B.batch_statistics(images, **kwargs)


@pytest.mark.parametrize('bad', [np.zeros((0, 4, 4), np.uint8), np.zeros((3, 4)),
                                 np.zeros((2, 3, 4, 4))])
def test_bad_images_raise_a_sentence(bad):
    with pytest.raises(ValueError, match='images 应是形状为'):
        B.batch_statistics(bad, batch_size=1)


def test_momentum_summary_depends_only_on_its_arguments():
    text = B.momentum_summary(64, 0.9, 64 * 28 * 28)
    assert text.splitlines() == [
        '批量大小 64：每个小批量的估计是 50,176 个像素值的平均。',
        '动量 0.9：移动平均 = 0.9 × 移动平均 + 0.1 × 小批量的统计量。从 0 出发，k 个小批量之后'
        '走完了 1 - 0.9^k 的路程（29 个小批量之后走完 95%），此后大约是最近 '
        '1/(1 - 0.9) = 10 个小批量的平均。']
    assert math.ceil(math.log(0.05) / math.log(0.99)) == 299
    assert '299 个小批量之后走完 95%' in B.momentum_summary(8, 0.99)
    assert '移动平均就是上一个小批量的统计量' in B.momentum_summary(8, 0)


@pytest.mark.parametrize('args, words', [
    ((64, 1), '动量为 1 时移动平均会永远停在初值'),      # issue 17: ZeroDivisionError
    ((64, 1.5), 'momentum 应在 0 到 1 之间，收到的是 1.5'),  # issue 17: a math domain error
    ((0, 0.9), 'batch_size 应在 不小于 1'),
    ((64, 0.9, 0), 'pixels_per_batch 应在 不小于 1'),
])
def test_momentum_summary_refuses_impossible_values(args, words):
    with pytest.raises(ValueError, match=words):
        B.momentum_summary(*args)


def test_view_and_explorer(images):
    result = B.batch_statistics_explorer(images, batch_size=16, momentum=0.9)
    fig, text = result.figure, result.text
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    assert fig.axes[0].get_ylim() == pytest.approx((0, 2 * B.pixel_statistics(images)[0]))
    assert [ax.get_title() for ax in fig.axes] == ['像素均值', '像素方差']
    assert fig._suptitle.get_text() == '批量大小 16，动量 0.9'
    legend = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    assert legend[0].startswith('小批量的估计（标准差 ') and legend[1] == '移动平均'
    assert legend[2].startswith('数据集的方差 ')
    assert text == B.momentum_summary(16, 0.9, 16 * 30)
    ex = Explorer(B.batch_statistics_explorer, images=widgets.fixed(images),
                  batch_size=widgets.SelectionSlider(options=[1, 4, 16, 64], value=16),
                  momentum=widgets.FloatSlider(value=0.9, min=0, max=1, step=0.01))
    assert ex.error is None and ex.result.text == text
    ex.controls['momentum'].value = 1.0
    assert ex.result is None and '动量为 1 时' in ex.error
    ex.controls['momentum'].value = 0.5
    assert ex.error is None and '动量 0.5：' in ex.result.text

