"""The Fashion-MNIST files: found, verified, downloaded; ``make data`` runs :func:`main`.

The first complete directory of :func:`search_dirs` wins (``root=`` and
``$D2L_DATA_DIR``, when given, must be complete); failing all, the full set is
downloaded (not with ``D2L_OFFLINE=1``), and failing that the committed
6,000/1,000-image subset is used, said in one printed line.

Files are checked against the sha256 of their *decompressed* bytes (Debian
re-gzips them); one that fails or cannot be read raises ``DataError``, never
skipped or overwritten: a different data set would make the accuracies
unexplainable. A download locks its directory, renames each file into place
once verified and stops at a deadline (not pooch: it hashes the .gz and has
no overall deadline).
"""
import collections
import contextlib
import errno
import fcntl
import gzip
import hashlib
import http.client
import os
import sys
import tempfile
import time
import urllib.request
import zlib
from pathlib import Path

import numpy as np
import mxnet as mx

from . import settings

FILES = ('train-images-idx3-ubyte', 'train-labels-idx1-ubyte',
         't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte')

# sha256 of the decompressed files of Zalando's release.
FULL_SHA256 = dict(zip(FILES, (
    'c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888',
    'bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9',
    '5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b',
    '0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34')))

# sha256 of the decompressed files of the embedded subset, made by
# data/make_subset.py (also listed in data/README.md).
SUBSET_SHA256 = dict(zip(FILES, (
    '4f4f01b5da612a3a813bd074442e170529dcef734e6adf2afb15766746e27831',
    '28a1f13b424a56c99d03b91c44a37c0839c02ac1e85437d7f948783457f0a5bf',
    '4d448c9f6d00e88536005c0af8a45d41b7032020809a95467460cf5d5479b2cc',
    'dcb34fb153f1f681860f2c7efab83bf55304ef771c6e1d36613173cd988e958d')))

SIZES = {'full': (60000, 10000), 'subset': (6000, 1000)}
KIND_NAMES = {'full': '完整数据集', 'subset': '内置子集'}

MIRROR = 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/'
DOWNLOAD_TIMEOUT = 10    # seconds per network operation: fail fast offline
DOWNLOAD_DEADLINE = 300  # seconds for the whole download (30 MB at 100 KB/s)

# Searched after root= and $D2L_DATA_DIR; module-level so tests can replace them.
REPO_ROOT = Path(__file__).resolve().parent.parent
DOWNLOAD_DIR = REPO_ROOT / 'data' / 'fashion-mnist'
SUBSET_DIR = REPO_ROOT / 'data' / 'fashion-mnist-subset'
MXNET_CACHE_DIR = Path(mx.base.data_dir()) / 'datasets' / 'fashion-mnist'
SYSTEM_DIR = Path('/usr/share/datasets/fashion-mnist')


class DataError(ValueError):
    """A data file or directory exists but is unreadable, corrupt or not what we expect."""


class DownloadError(OSError):
    """The full data set could not be downloaded (network, deadline, bad payload, no write access)."""


FashionMNIST = collections.namedtuple(
    'FashionMNIST', ['train_images', 'train_labels', 'test_images',
                     'test_labels', 'source', 'directory', 'kind'])
FashionMNIST.__doc__ = """Read-only arrays: images uint8 ``(N, 28, 28)``, labels int32 ``(N,)``;
``source`` the one line saying where from; ``kind`` ``'full'`` or ``'subset'``."""


def urlopen(url, timeout):
    """Open ``url``; the downloader's only network access (tests replace it)."""
    return urllib.request.urlopen(url, timeout=timeout)


def _now():
    """The downloader's clock (tests replace it)."""
    return time.monotonic()


def search_dirs(root=None):
    """The directories searched, in priority order, as ``(why, Path)`` pairs."""
    dirs = []
    if root is not None:
        dirs.append(('root=', Path(root)))
    if settings.data_dir() is not None:
        dirs.append(('D2L_DATA_DIR=', settings.data_dir()))
    dirs.append(('repository', Path(DOWNLOAD_DIR)))
    if not settings.skip_system_data():
        dirs += [('mxnet', Path(MXNET_CACHE_DIR)), ('debian', Path(SYSTEM_DIR))]
    return dirs


def _file_in(directory, name):
    """The file for ``name`` in ``directory`` (``name.gz`` preferred) or None."""
    return next((c for c in (Path(directory) / (name + '.gz'), Path(directory) / name)
                 if c.is_file()), None)


def _complete_dirs(root=None):
    """The searched directories holding all four files; one the user named that
    does not (or cannot be read) is an error, not skipped."""
    for why, directory in search_dirs(root):
        missing = [n for n in FILES if _file_in(directory, n) is None]
        if why in ('root=', 'D2L_DATA_DIR=') and missing:
            advice = ('请传入存放全部四个文件的目录，或者 root=None 按默认位置查找'
                      if why == 'root=' else
                      '请把四个文件放进这个目录，或者删除 D2L_DATA_DIR（那样会按默认位置查找）')
            try:
                os.listdir(directory)
            except OSError as e:
                raise DataError('%s%s 不是一个可读的目录（%s）；%s。'
                                % (why, directory, e.strerror or e, advice)) from None
            raise DataError('%s%s 里缺少 Fashion-MNIST 文件 %s（每个也可以是 gzip 压缩的 '
                            'name.gz）；%s。' % (why, directory, '、'.join(missing), advice))
        if not missing:
            yield directory


def _fix_hint(path):
    if Path(SYSTEM_DIR) in Path(path).parents:
        return '请重新安装 Debian 软件包 dataset-fashion-mnist，或者把 D2L_DATA_DIR 指向一份完好的副本'
    return '请删除它后重新下载（运行 make data），或者把 D2L_DATA_DIR 指向一份完好的副本'


def _read_verified(path, name, allowed):
    """Decompressed bytes of ``path`` (gunzipped if ``*.gz``) and which kind of
    ``allowed`` (``{'full': FULL_SHA256, ...}``) it matches."""
    path = Path(path)
    try:
        with open(path, 'rb') as f:
            raw = f.read()
        if path.name.endswith('.gz'):
            raw = gzip.decompress(raw)
    except (gzip.BadGzipFile, EOFError, zlib.error) as e:
        raise DataError('%s 不是有效的 gzip 文件（应是 Fashion-MNIST 的 %s；%s: %s）；%s。'
                        % (path, name, type(e).__name__, e, _fix_hint(path))) from None
    except OSError as e:  # permission, I/O error: the file may be fine
        raise DataError('无法读取 %s（%s）；请检查它的权限（例如 chmod a+r %s），或者把 '
                        'D2L_DATA_DIR 指向一份可读的副本。'
                        % (path, e.strerror or e, path)) from None
    digest = hashlib.sha256(raw).hexdigest()
    for kind, table in allowed.items():
        if digest == table[name]:
            return raw, kind
    expected = ' 或 '.join('%s（%s）' % (table[name], KIND_NAMES[kind])
                          for kind, table in allowed.items())
    raise DataError('%s 不是 Fashion-MNIST 的 %s：解压后内容的 sha256 是 %s，应为 %s；%s。'
                    % (path, name, digest, expected, _fix_hint(path)))


def _parse_idx(raw):
    """An IDX file's bytes (already verified) as a numpy array."""
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], 'big') for i in range(ndim)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(dims)


# Parsed sets keyed by directory and stat signature (a replaced file is verified again).
_CACHE = {}
_subset_announced = False
_download_failure = None  # why it failed in this process: wait for the network once


def clear_cache():
    """Forget parsed data sets, a failed download and the subset notice (tests use this)."""
    global _download_failure, _subset_announced
    _CACHE.clear()
    _download_failure = None
    _subset_announced = False


def source_line(kind, directory):
    """The one line that says which data set a notebook uses, e.g. for 00's setup check."""
    train, test = SIZES[kind]
    return ('Fashion-MNIST %s（%s/%s 张图像），来自 %s'
            % (KIND_NAMES[kind], format(train, ','), format(test, ','), directory))


def _load_dir(directory, kinds=('full', 'subset')):
    """Verify and parse the four files in ``directory`` (cached)."""
    directory = Path(directory).resolve()
    paths = [_file_in(directory, name) for name in FILES]
    key = (directory, tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size,
                             p.stat().st_ino) for p in paths))
    if key not in _CACHE:
        tables = {'full': FULL_SHA256, 'subset': SUBSET_SHA256}
        allowed = {k: tables[k] for k in kinds}
        verified = [_read_verified(path, name, allowed)
                    for path, name in zip(paths, FILES)]
        found = {kind for _, kind in verified}
        if len(found) > 1:
            raise DataError('%s 里混放了完整数据集和内置子集的文件；请只放其中一套的四个文件'
                            '（make data 会下载完整数据集）。' % directory)
        kind = found.pop()
        arrays = [_parse_idx(raw).astype(np.int32 if 'labels' in name else np.uint8,
                                         copy=False) for (raw, _), name in zip(verified, FILES)]
        for array in arrays:
            array.flags.writeable = False  # shared by every caller
        # Drop older versions of this directory (a file was replaced).
        for old in [k for k in _CACHE if k[0] == directory]:
            del _CACHE[old]
        _CACHE[key] = FashionMNIST(*arrays, source=source_line(kind, directory),
                                   directory=directory, kind=kind)
    return _CACHE[key]


# ------------------------------------------------------------------ download
@contextlib.contextmanager
def _locked(directory):
    """Hold an exclusive lock on ``directory``, waiting for a concurrent downloader."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _download_file(url, dest, sha256, opener, timeout, deadline_at, deadline):
    """Fetch ``url`` to ``dest`` atomically: verified, or nothing is left."""
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix='.' + dest.name + '.',
                               suffix='.part')
    try:
        with os.fdopen(fd, 'wb') as out:
            try:
                response = opener(url, timeout=timeout)
                with contextlib.closing(response):
                    while chunk := response.read(1 << 16):
                        out.write(chunk)
                        if _now() > deadline_at:
                            raise DownloadError(
                                '下载没有在 %d 秒内完成（%s 只收到 %.1f MB），网络太慢'
                                % (deadline, dest.name, out.tell() / 1e6))
            except (OSError, EOFError, ValueError, http.client.HTTPException) as e:
                if isinstance(e, DownloadError):
                    raise
                raise DownloadError('下载 %s 失败：%s' % (url, e)) from e
        try:
            with gzip.open(tmp, 'rb') as f:
                digest = hashlib.sha256(f.read()).hexdigest()
        except (OSError, EOFError, zlib.error) as e:
            raise DownloadError('镜像发来的 %s 已损坏（%s: %s）'
                                % (dest.name, type(e).__name__, e)) from None
        if digest != sha256:
            raise DownloadError('镜像发来的 %s 已损坏（解压后 sha256 是 %s，应为 %s）'
                                % (dest.name, digest, sha256))
        os.chmod(tmp, 0o644)  # mkstemp made it private to us
        os.replace(tmp, dest)
    except BaseException:  # including KeyboardInterrupt: leave nothing behind
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def download_fashion_mnist(target=None, opener=None, timeout=DOWNLOAD_TIMEOUT,
                           deadline=DOWNLOAD_DEADLINE):
    """Download the full set into ``target`` (default ``data/fashion-mnist``), returned:
    files present are verified and kept, the others fetched within ``timeout``
    seconds per operation and ``deadline`` in all, else ``DownloadError``. The
    directory is never removed (a concurrent downloader may be writing into it)."""
    target = Path(target if target is not None else DOWNLOAD_DIR)
    deadline_at = _now() + deadline
    try:
        target.mkdir(parents=True, exist_ok=True)
        with _locked(target):
            for part in target.glob('.*.part'):  # we hold the lock: a killed run's
                part.unlink()
            for name in FILES:
                existing = _file_in(target, name)
                if existing is not None:
                    _read_verified(existing, name, {'full': FULL_SHA256})
                else:
                    _download_file(MIRROR + name + '.gz', target / (name + '.gz'),
                                   FULL_SHA256[name], opener or urlopen, timeout,
                                   deadline_at, deadline)
    except (DownloadError, DataError):
        raise
    except OSError as e:  # creating, locking or writing into the target
        why = '不可写' if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS) else '无法写入'
        raise DownloadError('%s %s（%s）' % (target, why, e.strerror or e)) from None
    return target


def _subset_line(reason):
    train, test = SIZES['subset']
    return ('Fashion-MNIST：没有找到完整数据集，也无法下载（%s）；改用仓库内置的 '
            '%s/%s 张图像子集（data/fashion-mnist-subset）。运行 make data 可获取完整数据集。'
            % (reason, format(train, ','), format(test, ',')))


def load_fashion_mnist_arrays(root=None):
    """Fashion-MNIST as a ``FashionMNIST`` tuple, found, downloaded or the
    embedded subset as the module docstring says; ``DataError`` for a file or
    named directory that cannot be used, wherever it is found."""
    global _download_failure, _subset_announced
    for directory in _complete_dirs(root):
        return _load_dir(directory)
    if settings.offline():
        reason = '设置了 D2L_OFFLINE'
    elif _download_failure is not None:
        reason = _download_failure
    else:
        try:
            return _load_dir(download_fashion_mnist(), kinds=('full',))
        except DownloadError as e:
            _download_failure = reason = str(e)
    # Once per process: a line in every loading cell would differ between machines.
    if not _subset_announced:
        print(_subset_line(reason))
        _subset_announced = True
    return _load_dir(SUBSET_DIR, kinds=('subset',))


def find_full_set(root=None):
    """The verified full set from the first searched directory holding it, or
    None. Never downloads; a corrupt file still raises ``DataError``."""
    for directory in _complete_dirs(root):
        data = _load_dir(directory)
        if data.kind == 'full':
            return data
    return None


def main():
    """``make data``: find or download the full set. Returns the exit status."""
    try:
        data = find_full_set()
        if data is None and settings.offline():
            print('Fashion-MNIST：%s 里都没有完整数据集，而且设置了 D2L_OFFLINE，所以没有下载。'
                  '请删除 D2L_OFFLINE 后再运行 make data。'
                  % '、'.join(str(d) for _, d in search_dirs()))
            return 1
        if data is None:
            print('Fashion-MNIST：正在从 %s 下载完整数据集到 %s ……' % (MIRROR, DOWNLOAD_DIR))
            data = _load_dir(download_fashion_mnist(), kinds=('full',))
    except DataError as e:
        print(e)
        return 1
    except (DownloadError, OSError) as e:
        print('Fashion-MNIST：无法获取完整数据集：%s。请让 %s 可写并联网后重新运行 make data，'
              '或者把四个文件复制到某个目录并用 D2L_DATA_DIR 指向它。' % (e, DOWNLOAD_DIR))
        return 1
    print(data.source)
    return 0


if __name__ == '__main__':
    sys.exit(main())
