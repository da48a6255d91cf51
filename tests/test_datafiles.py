"""Tests of d2lhelpers.datafiles: finding, verifying and downloading the
Fashion-MNIST files, and ``make data``.

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

import numpy as np
import pytest

from d2lhelpers import datafiles as data

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
    monkeypatch.delenv('D2L_NO_SYSTEM_DATA', raising=False)
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
    assert got.source.startswith('Fashion-MNIST 内置子集（6,000/1,000 张图像），来自 ')


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
    assert '里缺少 Fashion-MNIST 文件' in str(e.value)


@pytest.mark.parametrize('state', ['incomplete', 'missing', 'not-a-directory'])
def test_d2l_data_dir_that_cannot_be_used_is_said_not_skipped(world, monkeypatch, state):
    fill(world['system'])  # a good set further down must not be used instead
    if state == 'incomplete':
        fill(world['env'], names=data.FILES[:2])
    elif state == 'not-a-directory':
        world['env'].write_bytes(b'')
    monkeypatch.setenv('D2L_DATA_DIR', str(world['env']))
    with pytest.raises(data.DataError) as e:
        data.load_fashion_mnist_arrays()
    message = str(e.value)
    assert message.startswith('D2L_DATA_DIR=%s ' % world['env'])
    if state == 'incomplete':
        assert '里缺少 Fashion-MNIST 文件 t10k-images-idx3-ubyte、t10k-labels-idx1-ubyte' in message
    else:
        assert '不是一个可读的目录' in message
    assert '删除 D2L_DATA_DIR' in message
    with pytest.raises(data.DataError):
        data.find_full_set()  # make data says so too


def test_no_system_data_skips_mxnet_cache_and_debian(world, monkeypatch, capsys):
    fill(world['mxnet'])
    fill(world['system'])
    assert data.load_fashion_mnist_arrays().directory == world['mxnet'].resolve()
    data.clear_cache()
    monkeypatch.setenv('D2L_NO_SYSTEM_DATA', '1')
    assert [why for why, _ in data.search_dirs()] == ['repository']
    got = data.load_fashion_mnist_arrays()
    assert got.kind == 'subset' and got.directory == SUBSET_DIR.resolve()
    assert 'D2L_OFFLINE' in capsys.readouterr().out


def test_full_set_is_reported_as_full(world, as_full):
    fill(world['mxnet'])
    got = data.load_fashion_mnist_arrays()
    assert got.kind == 'full'
    assert got.source == ('Fashion-MNIST 完整数据集（60,000/10,000 张图像），来自 %s'
                          % world['mxnet'].resolve())


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
    (_corrupt, '不是有效的 gzip 文件'),
    (_truncated, '不是有效的 gzip 文件'),
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
    assert '请删除它后重新下载' in message and 'make data' in message
    assert 'D2L_DATA_DIR' in message
    assert bad.read_bytes() == before


def test_unreadable_file_is_reported_as_unreadable_not_corrupt(world, monkeypatch):
    fill(world['repo'])
    victim = world['repo'].resolve() / (VICTIM + '.gz')
    real_open = open

    def no_permission(path, *args, **kwargs):  # chmod 000 does not stop root
        if os.fspath(path) == str(victim):
            raise PermissionError(13, 'Permission denied', str(path))
        return real_open(path, *args, **kwargs)
    monkeypatch.setattr('builtins.open', no_permission)
    with pytest.raises(data.DataError) as e:
        data.load_fashion_mnist_arrays()
    message = str(e.value)
    assert message.startswith('无法读取 %s（Permission denied）' % victim)
    assert '请检查它的权限' in message
    assert 'gzip' not in message and '删除' not in message


@pytest.mark.skipif(os.geteuid() == 0, reason='root reads a chmod 000 file anyway')
def test_unreadable_file_for_real(world):
    fill(world['repo'], plain=True)
    victim = world['repo'] / VICTIM
    victim.chmod(0)
    with pytest.raises(data.DataError, match='无法读取'):
        data.load_fashion_mnist_arrays()


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
    with pytest.raises(data.DataError, match='混放了完整数据集和内置子集的文件'):
        data.load_fashion_mnist_arrays()


def test_bad_system_file_suggests_reinstalling(world):
    fill(world['system'], names=data.FILES[1:])
    (world['system'] / 'train-images-idx3-ubyte.gz').write_bytes(b'junk')
    with pytest.raises(data.DataError, match='重新安装 Debian 软件包 dataset-fashion-mnist'):
        data.load_fashion_mnist_arrays()


def test_download_does_not_overwrite_a_bad_file(world, as_full):
    world['repo'].mkdir()
    bad = world['repo'] / 'train-labels-idx1-ubyte.gz'
    bad.write_bytes(b'junk')
    with pytest.raises(data.DataError, match='请删除它后重新下载'):
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
    # The directory stays: another downloader may be writing into it.
    assert world['repo'].is_dir()


class SlowMirror(FakeMirror):
    """A server sending 1 KiB per read, each read taking 5 s of a fake clock."""

    def __init__(self, clock):
        super().__init__()
        self.clock = clock

    def __call__(self, url, timeout):
        body = super().__call__(url, timeout)
        clock = self.clock

        class Slow(io.BytesIO):
            def read(self, n=-1):
                clock[0] += 5
                return body.read(1024)
        return Slow()


def test_download_stops_at_its_overall_deadline(world, as_full, monkeypatch):
    clock = [0.0]
    monkeypatch.setattr(data, '_now', lambda: clock[0])
    with pytest.raises(data.DownloadError) as e:
        data.download_fashion_mnist(opener=SlowMirror(clock), deadline=300)
    assert '下载没有在 300 秒内完成' in str(e.value) and '网络太慢' in str(e.value)
    assert clock[0] <= 305  # stopped at the deadline, not at the end of the file
    assert listing(world['repo']) == []


def test_killed_downloads_part_files_are_removed_next_time(world, as_full):
    world['repo'].mkdir()
    stale = world['repo'] / '.train-images-idx3-ubyte.gz.x1y2.part'
    stale.write_bytes(b'half a file')
    data.download_fashion_mnist(opener=FakeMirror())
    assert listing(world['repo']) == sorted(n + '.gz' for n in data.FILES)


def test_a_concurrent_downloaders_part_file_is_left_alone(world, as_full):
    import fcntl
    import threading
    world['repo'].mkdir()
    live = world['repo'] / '.train-images-idx3-ubyte.gz.live.part'
    live.write_bytes(b'being written')
    fd = os.open(world['repo'], os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)  # the other downloader holds the lock
    done = []
    worker = threading.Thread(target=lambda: done.append(
        data.download_fashion_mnist(opener=FakeMirror())))
    worker.start()
    try:
        worker.join(timeout=1)
        assert worker.is_alive() and not done  # it waits for the lock ...
        assert live.exists()                   # ... and touches nothing
    finally:
        os.close(fd)  # the other downloader finished
    worker.join()
    assert done == [world['repo']]


def _refuse_writes_under(directory, monkeypatch):
    """Make creating anything under ``directory`` fail as on a read-only checkout
    (root ignores chmod, so the permission error is simulated)."""
    real_mkdir, real_mkstemp = os.mkdir, data.tempfile.mkstemp

    def check(path):
        if str(directory) in os.fspath(path):
            raise PermissionError(13, 'Permission denied', os.fspath(path))

    monkeypatch.setattr(os, 'mkdir', lambda path, *a, **k: check(path) or real_mkdir(path, *a, **k))
    monkeypatch.setattr(data.tempfile, 'mkstemp',
                        lambda *a, **k: check(k['dir']) or real_mkstemp(*a, **k))


@pytest.mark.parametrize('existed', [False, True], ids=['new-dir', 'old-dir'])
def test_read_only_download_location_falls_back_with_a_sentence(world, monkeypatch,
                                                                capsys, existed):
    if existed:
        world['repo'].mkdir()
    _refuse_writes_under(world['repo'], monkeypatch)
    monkeypatch.delenv('D2L_OFFLINE')
    monkeypatch.setattr(data, 'urlopen', FakeMirror())
    got = data.load_fashion_mnist_arrays()
    assert got.kind == 'subset'
    out = capsys.readouterr().out
    assert '%s 不可写（Permission denied）' % world['repo'] in out
    assert '改用仓库内置的 6,000/1,000 张图像子集' in out
    data.clear_cache()
    assert data.main() == 1  # make data: a sentence, not a traceback
    out = capsys.readouterr().out
    assert '无法获取完整数据集' in out and '不可写' in out and 'Traceback' not in out


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
    with pytest.raises(data.DownloadError, match='已损坏'):
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
    assert out.startswith('Fashion-MNIST：没有找到完整数据集，也无法下载（设置了 D2L_OFFLINE）')
    assert '改用仓库内置的 6,000/1,000 张图像子集' in out and 'make data' in out
    assert got.kind == 'subset' and got.directory == SUBSET_DIR.resolve()
    assert got.source.startswith('Fashion-MNIST 内置子集')


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



# --- make data (python -m d2lhelpers.datafiles) ----------------------------

def test_main_reports_the_full_set(world, as_full, capsys):
    fill(world['system'])
    assert data.main() == 0
    assert str(world['system'].resolve()) in capsys.readouterr().out


def test_main_fails_with_a_sentence_offline(world, capsys):
    fill(world['repo'])  # only the subset: not what `make data` wants
    assert data.main() == 1
    out = capsys.readouterr().out
    assert 'D2L_OFFLINE' in out and out.strip().endswith('。')


def test_main_downloads(world, as_full, monkeypatch, capsys):
    monkeypatch.delenv('D2L_OFFLINE')
    monkeypatch.setattr(data, 'urlopen', FakeMirror())
    assert data.main() == 0
    assert listing(world['repo']) == sorted(n + '.gz' for n in data.FILES)
