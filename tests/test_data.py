"""Tests of d2lhelpers.data: class-balanced samples, the loaders, labels and
pictures. The files themselves (finding, verifying, downloading) are tested
in test_datafiles.py; here every loader reads the committed subset through
``root=``.
"""
import matplotlib
matplotlib.use('Agg')  # before pyplot is imported anywhere

import numpy as np
import pytest

from d2lhelpers import data, datafiles
import mxnet as mx

SUBSET_DIR = datafiles.SUBSET_DIR


@pytest.fixture
def world(monkeypatch):
    """Offline, no D2L_DATA_DIR, empty caches."""
    monkeypatch.delenv('D2L_DATA_DIR', raising=False)
    monkeypatch.setenv('D2L_OFFLINE', '1')
    datafiles.clear_cache()
    yield
    datafiles.clear_cache()


# --- class-balanced samples ------------------------------------------------

def test_balanced_indices_spread_and_repeat():
    labels = np.repeat(np.arange(10), 50)
    idx = data.balanced_indices(labels, 25)
    assert sorted(np.bincount(labels[idx]).tolist()) == [2] * 5 + [3] * 5
    assert np.array_equal(idx, data.balanced_indices(labels, 25))
    assert len(set(idx.tolist())) == 25


def test_balanced_indices_with_a_small_class():
    labels = np.array([0] * 2 + [1] * 100 + [2] * 100)
    counts = np.bincount(labels[data.balanced_indices(labels, 60)])
    assert counts.tolist() == [2, 29, 29]


# --- the loaders -----------------------------------------------------------

def test_loader_shapes_types_and_range(world):
    train_iter, test_iter = data.load_data_fashion_mnist(
        256, root=SUBSET_DIR)
    assert len(train_iter) == 24 and len(test_iter) == 4
    X, y = next(iter(train_iter))
    assert X.shape == (256, 1, 28, 28) and y.shape == (256,)
    assert X.dtype == np.float32 and y.dtype == np.int32
    assert X.min().asscalar() >= 0 and X.max().asscalar() <= 1
    assert X.max().asscalar() == 1  # 255 maps to exactly 1
    sizes = [len(y) for _, y in test_iter]
    assert sizes == [256, 256, 256, 232]  # last batch kept


@pytest.mark.parametrize('resize', [96, 20, 1])
def test_resize(world, resize):
    _, test_iter = data.load_data_fashion_mnist(
        64, resize=resize, root=SUBSET_DIR, test_subset=64)
    X, _ = next(iter(test_iter))
    assert X.shape == (64, 1, resize, resize)
    assert X.min().asscalar() >= 0 and X.max().asscalar() <= 1


def test_batch_resize_equals_bilinear_resize(world):
    images = data.load_fashion_mnist_arrays(root=SUBSET_DIR).test_images[:16]
    X, _ = data._Batchify(96)(list(zip(images, range(16))))
    ref = mx.nd.contrib.BilinearResize2D(
        mx.nd.array(images[:, None].astype('float32') / 255), height=96,
        width=96, align_corners=False)
    assert np.abs(X.asnumpy() - ref.asnumpy()).max() < 1e-5


def test_batches_are_ordinary_ndarrays(world):
    """The zero-copy batches train, and can be changed in place."""
    from mxnet import autograd, gluon
    train_iter, _ = data.load_data_fashion_mnist(32, resize=40,
                                                 root=SUBSET_DIR)
    X, y = next(iter(train_iter))
    net = gluon.nn.Dense(10)
    net.initialize()
    with autograd.record():
        l = gluon.loss.SoftmaxCrossEntropyLoss()(net(X), y)
    l.backward()
    assert np.isfinite(l.asnumpy()).all()
    X[:] = X * 2
    assert X.max().asscalar() > 1


def test_test_iterator_is_in_file_order(world):
    arrays = data.load_fashion_mnist_arrays(root=SUBSET_DIR)
    _, test_iter = data.load_data_fashion_mnist(300, root=SUBSET_DIR)
    batches = list(test_iter)
    labels = np.concatenate([y.asnumpy() for _, y in batches])
    assert np.array_equal(labels, arrays.test_labels)
    images = np.concatenate([X.asnumpy()[:, 0] for X, _ in batches])
    assert np.array_equal(images, arrays.test_images / np.float32(255))


def test_shuffle_is_seeded_and_changes_between_epochs(world):
    def epochs(seed, n=2):
        train_iter, _ = data.load_data_fashion_mnist(
            100, root=SUBSET_DIR, subset=300, seed=seed)
        return [np.concatenate([y.asnumpy() for _, y in train_iter])
                for _ in range(n)]
    a, b = epochs(0), epochs(0)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[0], a[1])
    assert not np.array_equal(a[0], epochs(1)[0])
    assert sorted(a[0].tolist()) == sorted(a[1].tolist())


def test_subset_arguments_are_balanced_and_deterministic(world):
    def labels(**kw):
        train_iter, test_iter = data.load_data_fashion_mnist(
            1000, root=SUBSET_DIR, shuffle=False, **kw)
        return (np.concatenate([y.asnumpy() for _, y in train_iter]),
                np.concatenate([y.asnumpy() for _, y in test_iter]))
    train, test = labels(subset=500, test_subset=105)
    assert np.bincount(train).tolist() == [50] * 10
    assert sorted(np.bincount(test).tolist()) == [10] * 5 + [11] * 5
    again = labels(subset=500, test_subset=105)
    assert np.array_equal(train, again[0]) and np.array_equal(test, again[1])


@pytest.mark.parametrize('kwargs, words', [
    (dict(batch_size=0), 'batch_size 应在 1 到 60000 之间'),
    (dict(batch_size=2.5), 'batch_size 应是整数'),
    (dict(batch_size=8, resize=0), 'resize 应在 1 到 512 之间'),
    (dict(batch_size=8, resize='96'), 'resize 应是整数'),
    (dict(batch_size=8, subset=0), 'subset 应在 1 到 6000 之间'),
    (dict(batch_size=8, subset=6001), '这份数据一共只有 6000 张图像'),
    (dict(batch_size=8, subset=10.0), 'subset 应是整数'),
    (dict(batch_size=8, test_subset=-3), 'test_subset 应在 1 到 1000 之间'),
    (dict(batch_size=8, num_workers=-1), 'num_workers'),
    (dict(batch_size=8, shuffle='False'), '字符串'),
    (dict(batch_size=60000, resize=512), '2^31 - 1'),
])
def test_bad_arguments_are_explained(world, kwargs, words):
    with pytest.raises(ValueError) as e:
        data.load_data_fashion_mnist(root=SUBSET_DIR, **kwargs)
    message = str(e.value)
    assert words in message
    assert message.endswith('。')


# --- labels and pictures ---------------------------------------------------

def test_text_labels():
    assert data.get_fashion_mnist_labels([0, 9]) == ['t-shirt', 'ankle boot']
    assert data.get_fashion_mnist_labels(np.array([1, 2])) == ['trouser',
                                                               'pullover']
    assert data.get_fashion_mnist_labels(mx.nd.array([3, 4, 5])) == [
        'dress', 'coat', 'sandal']
    assert data.get_fashion_mnist_labels(7) == ['sneaker']
    assert data.get_fashion_mnist_labels(np.int32(8)) == ['bag']
    with pytest.raises(ValueError, match='0 到 9 的整数'):
        data.get_fashion_mnist_labels([10])


def test_chinese_text_labels():
    assert data.get_fashion_mnist_labels([0, 2, 9], chinese=True) == ['T恤', '套衫', '短靴']
    assert len(set(data.TEXT_LABELS_ZH)) == len(data.TEXT_LABELS) == 10


def test_show_fashion_mnist_returns_a_titled_figure(world):
    import matplotlib.pyplot as plt
    _, test_iter = data.load_data_fashion_mnist(12, root=SUBSET_DIR)
    X, y = next(iter(test_iter))
    fig = data.show_fashion_mnist(X, y, ncols=5)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == data.get_fashion_mnist_labels(y, chinese=True)
    assert len(fig.axes) == 15  # 3 rows of 5
    plt.close(fig)
    arrays = data.load_fashion_mnist_arrays(root=SUBSET_DIR)
    fig = data.show_fashion_mnist(arrays.train_images[:3], ['a', 'b', 'c'])
    assert [ax.get_title() for ax in fig.axes] == ['a', 'b', 'c']
    plt.close(fig)


@pytest.mark.parametrize('images, labels, words', [
    (np.zeros((0, 28, 28)), None, '里有 0 张图像'),
    (np.zeros((101, 28, 28)), None, '一次能画 1 到 100 张'),
    (np.zeros((3, 2, 28, 28)), None, '形状应是 (N, H, W)'),
    (np.zeros((3, 28, 28)), [1, 2], '有 3 张图像，却有 2 个标签'),
])
def test_show_fashion_mnist_refuses_with_a_sentence(images, labels, words):
    import matplotlib.pyplot as plt
    figures = plt.get_fignums()
    with pytest.raises(ValueError, match=words.replace('(', r'\(').replace(')', r'\)')):
        data.show_fashion_mnist(images, labels)
    assert plt.get_fignums() == figures  # refused before drawing anything


def test_public_api_is_where_the_notebooks_find_it():
    import d2lhelpers as d2lh
    assert d2lh.data.load_fashion_mnist_arrays is datafiles.load_fashion_mnist_arrays
    assert d2lh.data.DataError is datafiles.DataError
    assert d2lh.data.main is datafiles.main
    for name in ('load_data_fashion_mnist', 'get_fashion_mnist_labels',
                 'show_fashion_mnist'):
        assert getattr(d2lh, name) is getattr(data, name)
