"""Tests of d2lhelpers.data: finding, verifying, downloading and loading
Fashion-MNIST.

Every test runs in an isolated world (``world`` fixture): the searched
directories point into a temporary directory, ``D2L_DATA_DIR`` is unset,
``D2L_OFFLINE=1`` and the network opener raises. Valid data directories are
made of symlinks to the committed subset; to stand in for the full set, a test
makes ``FULL_SHA256`` expect the subset's sums.
"""
import gzip
import hashlib
import importlib.util
import io
import os
from pathlib import Path

import matplotlib
matplotlib.use('Agg')  # before pyplot is imported anywhere

import numpy as np
import pytest

from d2lhelpers import data
import mxnet as mx

SUBSET_DIR = data.SUBSET_DIR
REAL_SYSTEM_DIR = Path('/usr/share/datasets/fashion-mnist')
GZ = {name: (SUBSET_DIR / (name + '.gz')).read_bytes() for name in data.FILES}
RAW = {name: gzip.decompress(b) for name, b in GZ.items()}
REAL_URLOPEN = data.urlopen


def no_network(url, timeout):
    raise AssertionError('a test tried to open %s' % url)


@pytest.fixture
def world(tmp_path, monkeypatch):
    """Isolated search locations, offline, empty caches."""
    dirs = {k: tmp_path / k for k in ('root', 'env', 'repo', 'mxnet', 'system')}
    monkeypatch.setattr(data, 'DOWNLOAD_DIR', dirs['repo'])
    monkeypatch.setattr(data, 'MXNET_CACHE_DIR', dirs['mxnet'])
    monkeypatch.setattr(data, 'SYSTEM_DIR', dirs['system'])
    monkeypatch.setattr(data, 'urlopen', no_network)
    monkeypatch.delenv('D2L_DATA_DIR', raising=False)
    monkeypatch.setenv('D2L_OFFLINE', '1')
    data.clear_cache()
    yield dirs
    data.clear_cache()


@pytest.fixture
def as_full(monkeypatch):
    """Make the subset's files count as the full set."""
    monkeypatch.setattr(data, 'FULL_SHA256', dict(data.SUBSET_SHA256))


def fill(directory, plain=False, names=data.FILES):
    """Put valid (subset) files in ``directory``: gz symlinks or plain copies."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in names:
        if plain:
            (directory / name).write_bytes(RAW[name])
        else:
            os.symlink(SUBSET_DIR / (name + '.gz'), directory / (name + '.gz'))
    return directory


def listing(directory):
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


# --- finding the data ------------------------------------------------------

@pytest.mark.parametrize('plain', [False, True], ids=['gzipped', 'plain'])
def test_locations_are_searched_in_priority_order(world, monkeypatch, plain):
    for d in world.values():
        fill(d, plain)
    monkeypatch.setenv('D2L_DATA_DIR', str(world['env']))
    order = ['root', 'env', 'repo', 'mxnet', 'system']
    for i, key in enumerate(order):
        root = world['root'] if key == 'root' else None
        got = data.load_fashion_mnist_arrays(root=root)
        assert got.directory == world[key].resolve()
        assert str(world[key].resolve()) in got.source
        if key == 'env':
            monkeypatch.delenv('D2L_DATA_DIR')
        elif key != 'root':
            for p in world[key].iterdir():
                p.unlink()


def test_root_wins_over_everything(world, monkeypatch):
    for d in world.values():
        fill(d)
    monkeypatch.setenv('D2L_DATA_DIR', str(world['env']))
    got = data.load_fashion_mnist_arrays(root=str(world['root']))
    assert got.directory == world['root'].resolve()
    assert 'embedded subset' in got.source


def test_directory_counts_only_with_all_four_files(world, capsys):
    fill(world['repo'], names=data.FILES[:3])
    fill(world['system'])
    assert data.load_fashion_mnist_arrays().directory == world['system'].resolve()
    assert capsys.readouterr().out == ''


def test_root_without_the_files_is_an_error(world):
    fill(world['system'])
    fill(world['root'], names=data.FILES[1:])
    with pytest.raises(data.DataError, match='train-images-idx3-ubyte') as e:
        data.load_fashion_mnist_arrays(root=world['root'])
    assert str(world['root']) in str(e.value)


def test_full_set_is_reported_as_full(world, as_full):
    fill(world['mxnet'])
    got = data.load_fashion_mnist_arrays()
    assert got.kind == 'full'
    assert got.source.startswith('Fashion-MNIST full set')


def test_arrays_are_parsed_once_and_read_only(world):
    fill(world['repo'])
    a = data.load_fashion_mnist_arrays()
    assert data.load_fashion_mnist_arrays() is a
    assert a.train_images.dtype == np.uint8
    assert a.train_images.shape == (6000, 28, 28)
    assert a.test_images.shape == (1000, 28, 28)
    assert a.train_labels.dtype == np.int32
    with pytest.raises(ValueError):
        a.train_images[0, 0, 0] = 1


# --- refusing bad files ----------------------------------------------------

VICTIM = 't10k-images-idx3-ubyte'  # small enough to damage quickly


def _corrupt(raw_gz):
    return b'this is not gzip data ' * 100


def _truncated(raw_gz):
    return raw_gz[:len(raw_gz) // 2]


def _wrong_hash(raw_gz):
    raw = bytearray(gzip.decompress(raw_gz))
    raw[-1] ^= 0xFF  # one pixel differs
    return gzip.compress(bytes(raw), compresslevel=1)


@pytest.mark.parametrize('damage, expect', [
    (_corrupt, 'not a valid gzip'),
    (_truncated, 'not a valid gzip'),
    (_wrong_hash, data.FULL_SHA256['t10k-images-idx3-ubyte']),
], ids=['corrupt', 'truncated', 'wrong-hash'])
def test_bad_file_is_refused_clearly_and_kept(world, damage, expect):
    fill(world['repo'], names=[n for n in data.FILES if n != VICTIM])
    bad = world['repo'].resolve() / (VICTIM + '.gz')
    bad.write_bytes(damage(GZ[VICTIM]))
    before = bad.read_bytes()
    fill(world['system'])  # a good copy further down must not be used instead
    with pytest.raises(data.DataError) as e:
        data.load_fashion_mnist_arrays()
    message = str(e.value)
    assert str(bad) in message
    assert expect in message
    assert 'delete it' in message and 'make data' in message
    assert 'D2L_DATA_DIR' in message
    assert bad.read_bytes() == before


def test_wrong_plain_file_names_expected_sums(world):
    fill(world['mxnet'], plain=True)
    bad = world['mxnet'].resolve() / 't10k-labels-idx1-ubyte'
    bad.write_bytes(b'\x00' * 100)
    with pytest.raises(data.DataError) as e:
        data.load_fashion_mnist_arrays()
    assert str(bad) in str(e.value)
    assert data.FULL_SHA256['t10k-labels-idx1-ubyte'] in str(e.value)
    assert data.SUBSET_SHA256['t10k-labels-idx1-ubyte'] in str(e.value)


def test_mixed_full_and_subset_files_are_refused(world, monkeypatch):
    full = dict(data.FULL_SHA256)  # the three subset files stay 'subset'
    full['t10k-labels-idx1-ubyte'] = hashlib.sha256(b'other').hexdigest()
    monkeypatch.setattr(data, 'FULL_SHA256', full)
    fill(world['repo'], names=data.FILES[:3])
    (world['repo'] / 't10k-labels-idx1-ubyte').write_bytes(b'other')
    with pytest.raises(data.DataError, match='mixes'):
        data.load_fashion_mnist_arrays()


def test_bad_system_file_suggests_reinstalling(world):
    fill(world['system'], names=data.FILES[1:])
    (world['system'] / 'train-images-idx3-ubyte.gz').write_bytes(b'junk')
    with pytest.raises(data.DataError, match='dataset-fashion-mnist'):
        data.load_fashion_mnist_arrays()


def test_download_does_not_overwrite_a_bad_file(world, as_full):
    world['repo'].mkdir()
    bad = world['repo'] / 'train-labels-idx1-ubyte.gz'
    bad.write_bytes(b'junk')
    with pytest.raises(data.DataError, match='delete it'):
        data.download_fashion_mnist(opener=FakeMirror())
    assert bad.read_bytes() == b'junk'


def test_a_file_replaced_after_loading_is_verified_again(world):
    fill(world['repo'])
    data.load_fashion_mnist_arrays()
    victim = world['repo'] / 't10k-images-idx3-ubyte.gz'
    victim.unlink()
    victim.write_bytes(_wrong_hash(GZ['t10k-images-idx3-ubyte']))
    with pytest.raises(data.DataError):
        data.load_fashion_mnist_arrays()


# --- downloading -----------------------------------------------------------

class FakeMirror:
    """An opener serving the subset's .gz files from memory.

    ``fail_at``: (file number, exception) raised after the first chunk of that
    file; ``payload``: bytes served instead of the real ones.
    """

    def __init__(self, fail_at=None, payload=None):
        self.fail_at, self.payload, self.urls = fail_at, payload, []

    def __call__(self, url, timeout):
        assert timeout <= 30
        name = url.rsplit('/', 1)[1][:-3]
        self.urls.append(url)
        body = io.BytesIO(self.payload if self.payload is not None else GZ[name])
        number = len(self.urls) - 1
        if self.fail_at and self.fail_at[0] == number:
            exc = self.fail_at[1]

            class Broken(io.BytesIO):
                calls = 0

                def read(self, n=-1):
                    Broken.calls += 1
                    if Broken.calls > 1:
                        raise exc
                    return body.read(100)
            return Broken()
        return body


def test_successful_download_lands_verified_files(world, as_full, monkeypatch,
                                                  capsys):
    monkeypatch.delenv('D2L_OFFLINE')
    mirror = FakeMirror()
    monkeypatch.setattr(data, 'urlopen', mirror)
    got = data.load_fashion_mnist_arrays()
    assert got.kind == 'full' and got.directory == world['repo'].resolve()
    assert listing(world['repo']) == sorted(n + '.gz' for n in data.FILES)
    assert all(u.startswith(data.MIRROR) for u in mirror.urls)
    assert capsys.readouterr().out == ''


@pytest.mark.parametrize('exc', [ConnectionResetError('connection reset'),
                                 KeyboardInterrupt()],
                         ids=['network-error', 'KeyboardInterrupt'])
@pytest.mark.parametrize('existed', [False, True], ids=['new-dir', 'old-dir'])
def test_interrupted_download_leaves_nothing(world, as_full, exc, existed):
    if existed:
        world['repo'].mkdir()
    expected = data.DownloadError if isinstance(exc, OSError) else KeyboardInterrupt
    with pytest.raises(expected):
        data.download_fashion_mnist(opener=FakeMirror(fail_at=(0, exc)))
    assert listing(world['repo']) == []
    assert world['repo'].exists() == existed


def test_failure_on_a_later_file_keeps_only_verified_files(world, as_full):
    with pytest.raises(data.DownloadError, match='connection reset'):
        data.download_fashion_mnist(
            opener=FakeMirror(fail_at=(2, ConnectionResetError('connection reset'))))
    assert listing(world['repo']) == sorted(n + '.gz' for n in data.FILES[:2])
    # The next attempt fetches only what is missing.
    mirror = FakeMirror()
    data.download_fashion_mnist(opener=mirror)
    assert len(mirror.urls) == 2
    assert data.load_fashion_mnist_arrays().kind == 'full'


def test_corrupt_payload_is_not_kept(world, as_full):
    with pytest.raises(data.DownloadError, match='corrupt'):
        data.download_fashion_mnist(opener=FakeMirror(payload=gzip.compress(b'x')))
    assert listing(world['repo']) == []


def test_real_download_attempt_fails_fast_and_cleanly(world, monkeypatch):
    """No network here: the real urllib opener must fail within its timeout."""
    monkeypatch.setattr(data, 'urlopen', REAL_URLOPEN)
    monkeypatch.setattr(data, 'MIRROR', 'http://127.0.0.1:9/')  # discard port
    with pytest.raises(data.DownloadError, match='127.0.0.1'):
        data.download_fashion_mnist(timeout=2)
    assert listing(world['repo']) == []


# --- falling back to the embedded subset -----------------------------------

def test_offline_fallback_prints_exactly_one_line(world, capsys):
    got = data.load_fashion_mnist_arrays()
    out = capsys.readouterr().out
    assert out.count('\n') == 1
    assert 'D2L_OFFLINE' in out and 'embedded 6,000/1,000-image subset' in out
    assert 'make data' in out
    assert got.kind == 'subset' and got.directory == SUBSET_DIR.resolve()
    assert 'embedded subset' in got.source


def test_failed_download_falls_back_once_per_process(world, monkeypatch, capsys):
    monkeypatch.delenv('D2L_OFFLINE')
    mirror = FakeMirror(fail_at=(0, ConnectionResetError('no route')))
    monkeypatch.setattr(data, 'urlopen', mirror)
    assert data.load_fashion_mnist_arrays().kind == 'subset'
    assert data.load_fashion_mnist_arrays().kind == 'subset'
    lines = capsys.readouterr().out.splitlines()
    # One notice per process, so notebook outputs do not depend on the machine.
    assert len(lines) == 1 and 'no route' in lines[0]
    assert len(mirror.urls) == 1  # the network is tried once, not per call
    assert listing(world['repo']) == []


def test_committed_subset_matches_checksums_and_readme():
    readme = (SUBSET_DIR.parent / 'README.md').read_text()
    for name in data.FILES:
        digest = hashlib.sha256(RAW[name]).hexdigest()
        assert digest == data.SUBSET_SHA256[name], name
        assert digest in readme
        assert data.FULL_SHA256[name] in readme
    assert 'Copyright (c) 2017 Zalando SE' in readme


def test_subset_is_class_balanced(world):
    got = data.load_fashion_mnist_arrays(root=SUBSET_DIR)
    assert np.bincount(got.train_labels).tolist() == [600] * 10
    assert np.bincount(got.test_labels).tolist() == [100] * 10


def _full_set_or_skip():
    data.clear_cache()
    full = data.find_full_set()
    if full is None:
        pytest.skip('the full Fashion-MNIST set is not on this machine '
                    '(apt install dataset-fashion-mnist, or make data)')
    return full


def test_make_subset_reproduces_committed_bytes(tmp_path):
    full = _full_set_or_skip()
    spec = importlib.util.spec_from_file_location(
        'make_subset', SUBSET_DIR.parent / 'make_subset.py')
    make_subset = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_subset)
    sums = make_subset.write_subset(full, tmp_path)
    assert sums == data.SUBSET_SHA256
    for name in data.FILES:
        assert (tmp_path / (name + '.gz')).read_bytes() == GZ[name], (
            '%s: same content but different gzip bytes; was zlib updated?' % name)


@pytest.mark.skipif(not REAL_SYSTEM_DIR.is_dir(),
                    reason='needs Debian package dataset-fashion-mnist '
                           '(/usr/share/datasets/fashion-mnist); CI installs it')
def test_real_debian_full_set(world):
    got = data.load_fashion_mnist_arrays(root=REAL_SYSTEM_DIR)
    assert got.kind == 'full'
    assert got.train_images.shape == (60000, 28, 28)
    assert got.test_images.shape == (10000, 28, 28)
    assert np.bincount(got.train_labels).tolist() == [6000] * 10
    assert np.bincount(got.test_labels).tolist() == [1000] * 10


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
    (dict(batch_size=0), 'batch_size'),
    (dict(batch_size=2.5), 'batch_size'),
    (dict(batch_size=8, resize=0), 'resize'),
    (dict(batch_size=8, resize='96'), 'resize'),
    (dict(batch_size=8, subset=0), 'subset'),
    (dict(batch_size=8, subset=6001), 'between 1 and 6000'),
    (dict(batch_size=8, subset=10.0), 'subset'),
    (dict(batch_size=8, test_subset=-3), 'test_subset'),
    (dict(batch_size=8, num_workers=-1), 'num_workers'),
])
def test_bad_arguments_are_explained(world, kwargs, words):
    with pytest.raises(ValueError) as e:
        data.load_data_fashion_mnist(root=SUBSET_DIR, **kwargs)
    message = str(e.value)
    assert words in message
    assert message[0].isalpha() and message.endswith('.')


# --- labels and pictures ---------------------------------------------------

def test_text_labels():
    assert data.get_fashion_mnist_labels([0, 9]) == ['t-shirt', 'ankle boot']
    assert data.get_fashion_mnist_labels(np.array([1, 2])) == ['trouser',
                                                               'pullover']
    assert data.get_fashion_mnist_labels(mx.nd.array([3, 4, 5])) == [
        'dress', 'coat', 'sandal']
    assert data.get_fashion_mnist_labels(7) == ['sneaker']
    assert data.get_fashion_mnist_labels(np.int32(8)) == ['bag']
    with pytest.raises(ValueError, match='0 to 9'):
        data.get_fashion_mnist_labels([10])


def test_show_fashion_mnist_returns_a_titled_figure(world):
    import matplotlib.pyplot as plt
    _, test_iter = data.load_data_fashion_mnist(12, root=SUBSET_DIR)
    X, y = next(iter(test_iter))
    fig = data.show_fashion_mnist(X, y, ncols=5)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == data.get_fashion_mnist_labels(y)
    assert len(fig.axes) == 15  # 3 rows of 5
    plt.close(fig)
    arrays = data.load_fashion_mnist_arrays(root=SUBSET_DIR)
    fig = data.show_fashion_mnist(arrays.train_images[:3], ['a', 'b', 'c'])
    assert [ax.get_title() for ax in fig.axes] == ['a', 'b', 'c']
    plt.close(fig)


# --- python -m d2lhelpers.data ---------------------------------------------

def test_main_reports_the_full_set(world, as_full, capsys):
    fill(world['system'])
    assert data.main() == 0
    assert str(world['system'].resolve()) in capsys.readouterr().out


def test_main_fails_with_a_sentence_offline(world, capsys):
    fill(world['repo'])  # only the subset: not what `make data` wants
    assert data.main() == 1
    out = capsys.readouterr().out
    assert 'D2L_OFFLINE' in out and out.strip().endswith('.')


def test_main_downloads(world, as_full, monkeypatch, capsys):
    monkeypatch.delenv('D2L_OFFLINE')
    monkeypatch.setattr(data, 'urlopen', FakeMirror())
    assert data.main() == 0
    assert listing(world['repo']) == sorted(n + '.gz' for n in data.FILES)
