"""Fashion-MNIST that works offline, verified, and fast enough for ResNet.

Where the data comes from (first match wins, see ``search_dirs``):

1. the ``root=`` argument (it must hold the four files, else an error);
2. ``$D2L_DATA_DIR``;
3. ``data/fashion-mnist/`` in the repository (where ``make data`` downloads);
4. MXNet's cache ``~/.mxnet/datasets/fashion-mnist/``;
5. ``/usr/share/datasets/fashion-mnist/`` (Debian's ``dataset-fashion-mnist``).

A directory counts only when it holds all four IDX files, gzipped or not.
When none does, the full set is downloaded into ``data/fashion-mnist/``
(skipped when ``D2L_OFFLINE=1``); when that fails too, the loader uses the
6,000/1,000-image subset committed in ``data/fashion-mnist-subset/`` and says
so in one printed line, so every notebook runs on a machine without network.

Every file is checked against the sha256 of its *decompressed* bytes (Debian
re-gzipped the files, so hashes of the .gz files would differ between
sources). A file that fails the check raises ``DataError`` and is never used,
skipped or overwritten: a silently different data set would make the
notebooks' accuracies unexplainable.

Speed: the uint8 arrays stay in memory and ``_Batchify`` converts and resizes
a whole batch in numpy (bilinear resizing is separable: two matrix products)
and hands it to MXNet without a copy. On our 2-core CPU a 128-image batch at
96x96 costs ~2 ms of CPU, against ~10 ms with ``BilinearResize2D`` and ~15 ms
with d2lzh's per-image ``transforms.Resize`` (a ResNet-18 step on that batch:
~3 s of CPU); ``benchmarks/data_pipeline.py`` measures it.
"""
import collections
import gzip
import hashlib
import http.client
import os
import shutil
import sys
import tempfile
import urllib.request
import zlib
from pathlib import Path

import numpy as np
import mxnet as mx
from mxnet import gluon

FILES = ('train-images-idx3-ubyte', 'train-labels-idx1-ubyte',
         't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte')

# sha256 of the decompressed files of Zalando's release.
FULL_SHA256 = {
    'train-images-idx3-ubyte':
        'c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888',
    'train-labels-idx1-ubyte':
        'bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9',
    't10k-images-idx3-ubyte':
        '5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b',
    't10k-labels-idx1-ubyte':
        '0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34',
}

# sha256 of the decompressed files of the embedded subset, made by
# data/make_subset.py (also listed in data/README.md).
SUBSET_SHA256 = {
    'train-images-idx3-ubyte':
        '4f4f01b5da612a3a813bd074442e170529dcef734e6adf2afb15766746e27831',
    'train-labels-idx1-ubyte':
        '28a1f13b424a56c99d03b91c44a37c0839c02ac1e85437d7f948783457f0a5bf',
    't10k-images-idx3-ubyte':
        '4d448c9f6d00e88536005c0af8a45d41b7032020809a95467460cf5d5479b2cc',
    't10k-labels-idx1-ubyte':
        'dcb34fb153f1f681860f2c7efab83bf55304ef771c6e1d36613173cd988e958d',
}

FULL_SIZES = (60000, 10000)
SUBSET_SIZES = (6000, 1000)

TEXT_LABELS = ('t-shirt', 'trouser', 'pullover', 'dress', 'coat',
               'sandal', 'shirt', 'sneaker', 'bag', 'ankle boot')

MIRROR = 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/'
DOWNLOAD_TIMEOUT = 10  # seconds per network operation: fail fast offline

# The places searched after root= and $D2L_DATA_DIR. Module-level so tests
# can monkeypatch them to temporary directories.
REPO_ROOT = Path(__file__).resolve().parent.parent
DOWNLOAD_DIR = REPO_ROOT / 'data' / 'fashion-mnist'
SUBSET_DIR = REPO_ROOT / 'data' / 'fashion-mnist-subset'
MXNET_CACHE_DIR = Path(mx.base.data_dir()) / 'datasets' / 'fashion-mnist'
SYSTEM_DIR = Path('/usr/share/datasets/fashion-mnist')

FIX_HINT = ('delete it so that it is downloaded again (or run `make data`), '
            'or point D2L_DATA_DIR at a good copy')


class DataError(ValueError):
    """A data file exists but is corrupt, truncated or not what we expect."""


class DownloadError(OSError):
    """The full data set could not be downloaded (network or bad payload)."""


FashionMNIST = collections.namedtuple(
    'FashionMNIST', ['train_images', 'train_labels', 'test_images',
                     'test_labels', 'source', 'directory', 'kind'])
FashionMNIST.__doc__ = """Fashion-MNIST as read-only numpy arrays.

``*_images`` are uint8 ``(N, 28, 28)``, ``*_labels`` int32 ``(N,)``;
``source`` says in one line where they came from; ``kind`` is ``'full'`` or
``'subset'``."""


def urlopen(url, timeout):
    """Open ``url``; the downloader's only network access (tests replace it)."""
    return urllib.request.urlopen(url, timeout=timeout)


def search_dirs(root=None):
    """The directories searched, in priority order, as ``(why, Path)`` pairs."""
    dirs = []
    if root is not None:
        dirs.append(('root= argument', Path(root)))
    if os.environ.get('D2L_DATA_DIR'):
        dirs.append(('$D2L_DATA_DIR', Path(os.environ['D2L_DATA_DIR'])))
    dirs += [('repository data dir', Path(DOWNLOAD_DIR)),
             ("MXNet's cache", Path(MXNET_CACHE_DIR)),
             ("Debian's dataset-fashion-mnist", Path(SYSTEM_DIR))]
    return dirs


def offline():
    """True when ``D2L_OFFLINE`` asks us never to touch the network."""
    return os.environ.get('D2L_OFFLINE', '').strip().lower() in (
        '1', 'true', 'yes', 'on')


def _file_in(directory, name):
    """The file for ``name`` in ``directory`` (``name.gz`` preferred) or None."""
    for candidate in (Path(directory) / (name + '.gz'), Path(directory) / name):
        if candidate.is_file():
            return candidate
    return None


def _complete(directory):
    return all(_file_in(directory, name) for name in FILES)


def _fix_hint(path):
    if Path(SYSTEM_DIR) in Path(path).parents:
        return ('reinstall the Debian package dataset-fashion-mnist, or point '
                'D2L_DATA_DIR at a good copy')
    return FIX_HINT


def _decompressed(path, gzipped):
    """The bytes of ``path``, gunzipped if ``gzipped``; raises what gzip does."""
    if gzipped:
        with gzip.open(path, 'rb') as f:
            return f.read()
    return Path(path).read_bytes()


def _read_verified(path, name, allowed):
    """Decompressed bytes of ``path`` and which entry of ``allowed`` it matches.

    ``allowed`` maps a kind (``'full'``, ``'subset'``) to a sha256 table.
    A file named ``*.gz`` is gunzipped first.
    """
    try:
        raw = _decompressed(path, path.name.endswith('.gz'))
    except (OSError, EOFError, zlib.error) as e:  # BadGzipFile is an OSError
        raise DataError(
            '%s is not a valid gzip of the Fashion-MNIST file %s (%s: %s); '
            '%s.' % (path, name, type(e).__name__, e, _fix_hint(path))) from None
    digest = hashlib.sha256(raw).hexdigest()
    for kind, table in allowed.items():
        if digest == table[name]:
            return raw, kind
    expected = ' or '.join('%s (%s)' % (table[name], kind)
                           for kind, table in allowed.items())
    raise DataError(
        '%s is not the Fashion-MNIST file %s: the sha256 of its decompressed '
        'bytes is %s, expected %s; %s.'
        % (path, name, digest, expected, _fix_hint(path)))


def _parse_idx(raw):
    """An IDX file's bytes (already verified) as a numpy array."""
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], 'big') for i in range(ndim)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(dims)


# Parsed data sets keyed by resolved directory; the stat signature makes a
# replaced file be verified again instead of trusting the old result.
_CACHE = {}
_subset_announced = False
# Why the download failed in this process (None: not tried), so that a
# notebook calling the loader repeatedly waits for the network only once.
_download_failure = None


def clear_cache():
    """Forget parsed data sets, a failed download and the subset notice (tests use this)."""
    global _download_failure, _subset_announced
    _CACHE.clear()
    _download_failure = None
    _subset_announced = False


def _signature(paths):
    return tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size, p.stat().st_ino)
                 for p in paths)


def _load_dir(directory, kinds=('full', 'subset')):
    """Verify and parse the four files in ``directory`` (cached)."""
    directory = Path(directory).resolve()
    paths = [_file_in(directory, name) for name in FILES]
    key = (directory, _signature(paths))
    if key not in _CACHE:
        tables = {'full': FULL_SHA256, 'subset': SUBSET_SHA256}
        allowed = {k: tables[k] for k in kinds}
        verified = [_read_verified(path, name, allowed)
                    for path, name in zip(paths, FILES)]
        found = {kind for _, kind in verified}
        if len(found) > 1:
            raise DataError(
                '%s mixes files of the full Fashion-MNIST set and of the '
                'embedded subset; put the four files of one of them there '
                '(`make data` fetches the full set).' % directory)
        kind = found.pop()
        arrays = []
        for (raw, _), name in zip(verified, FILES):
            array = _parse_idx(raw)
            if 'labels' in name:
                array = array.astype(np.int32)
            array.flags.writeable = False  # shared by every caller
            arrays.append(array)
        sizes = FULL_SIZES if kind == 'full' else SUBSET_SIZES
        what = ('full set' if kind == 'full' else 'embedded subset')
        source = ('Fashion-MNIST %s (%s/%s images) from %s'
                  % (what, format(sizes[0], ','), format(sizes[1], ','),
                     directory))
        # Drop older versions of this directory (a file was replaced).
        for old in [k for k in _CACHE if k[0] == directory]:
            del _CACHE[old]
        _CACHE[key] = FashionMNIST(*arrays, source=source,
                                   directory=directory, kind=kind)
    return _CACHE[key]


def _download_file(url, dest, sha256, opener, timeout):
    """Fetch ``url`` to ``dest`` atomically: verified, or nothing is left."""
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix='.' + dest.name + '.',
                               suffix='.part')
    try:
        with os.fdopen(fd, 'wb') as out:
            response = opener(url, timeout=timeout)
            try:
                shutil.copyfileobj(response, out, 1 << 20)
            finally:
                close = getattr(response, 'close', None)
                if close:
                    close()
        try:
            digest = hashlib.sha256(_decompressed(tmp, True)).hexdigest()
        except (OSError, EOFError, zlib.error) as e:
            raise DownloadError('the mirror sent a corrupt %s (%s: %s)'
                                % (dest.name, type(e).__name__, e)) from None
        if digest != sha256:
            raise DownloadError('the mirror sent a corrupt %s (decompressed '
                                'sha256 %s, expected %s)'
                                % (dest.name, digest, sha256))
        os.chmod(tmp, 0o644)  # mkstemp made it private to us
        os.replace(tmp, dest)
    except BaseException:  # including KeyboardInterrupt: leave nothing behind
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def download_fashion_mnist(target=None, opener=None, timeout=DOWNLOAD_TIMEOUT):
    """Download the full set into ``target`` (default ``data/fashion-mnist``).

    Each file is written to a temporary file next to its destination, its
    decompressed sha256 checked, then renamed into place, so an interrupted or
    failed download never leaves a partial file. Files already present are
    verified and kept (a bad one raises ``DataError`` rather than being
    overwritten). Network failures and corrupt payloads raise
    ``DownloadError``. Returns the target directory.
    """
    target = Path(target if target is not None else DOWNLOAD_DIR)
    opener = opener or urlopen
    created = not target.exists()
    target.mkdir(parents=True, exist_ok=True)
    try:
        for name in FILES:
            existing = _file_in(target, name)
            if existing is not None:
                _read_verified(existing, name, {'full': FULL_SHA256})
                continue
            try:
                _download_file(MIRROR + name + '.gz', target / (name + '.gz'),
                               FULL_SHA256[name], opener, timeout)
            except (OSError, EOFError, ValueError, http.client.HTTPException) as e:
                if isinstance(e, (DownloadError, DataError)):
                    raise
                raise DownloadError('downloading %s%s.gz failed: %s'
                                    % (MIRROR, name, e)) from e
    finally:
        if created and not any(target.iterdir()):
            target.rmdir()  # a failed first attempt leaves no empty directory
    return target


def _subset_line(reason):
    return ('Fashion-MNIST: full data set not found and could not be '
            'downloaded (%s); using the embedded %s/%s-image subset in '
            'data/fashion-mnist-subset. Run `make data` for the full set.'
            % (reason, format(SUBSET_SIZES[0], ','),
               format(SUBSET_SIZES[1], ',')))


def load_fashion_mnist_arrays(root=None):
    """Fashion-MNIST as a ``FashionMNIST`` tuple of uint8/int32 numpy arrays.

    Searches ``search_dirs(root)``; an explicit ``root`` must hold the four
    files. Without a full set anywhere, downloads it (unless ``D2L_OFFLINE``
    is set) and otherwise falls back to the embedded subset, printing one line.
    Raises ``DataError`` for a corrupt file, wherever it is found.
    """
    global _download_failure, _subset_announced
    if root is not None and not _complete(root):
        missing = [n for n in FILES if _file_in(root, n) is None]
        raise DataError(
            'root=%s does not hold the Fashion-MNIST files %s (each may be '
            'gzipped, name.gz); pass the directory that holds all four, or '
            'root=None to search the usual places.' % (root, ', '.join(missing)))
    for _, directory in search_dirs(root):
        if _complete(directory):
            return _load_dir(directory)
    if offline():
        reason = 'D2L_OFFLINE is set'
    elif _download_failure is not None:
        reason = _download_failure
    else:
        try:
            return _load_dir(download_fashion_mnist(), kinds=('full',))
        except DownloadError as e:
            _download_failure = reason = str(e)
    # Once per process: notebooks load data in many cells, and a line that
    # appears in some cells only on machines without the full set would make
    # their outputs machine-dependent.
    if not _subset_announced:
        print(_subset_line(reason))
        _subset_announced = True
    return _load_dir(SUBSET_DIR, kinds=('subset',))


def balanced_indices(labels, n, what='subset'):
    """``n`` indices of ``labels``, spread as evenly as possible over classes.

    Deterministic: the same labels and ``n`` give the same (sorted) indices.
    """
    labels = np.asarray(labels)
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)):
        raise ValueError('%s must be a whole number of images, got %r.'
                         % (what, n))
    if not 0 < n <= len(labels):
        raise ValueError('%s must be between 1 and %d (the number of images), '
                         'got %d.' % (what, len(labels), n))
    classes, available = np.unique(labels, return_counts=True)
    # Water-filling: equal shares, a class with too few images gives the rest
    # of its share to the others.
    take = np.zeros(len(classes), dtype=np.int64)
    left = int(n)
    while left:
        open_ = np.flatnonzero(take < available)
        share, extra = divmod(left, len(open_))
        for rank, c in enumerate(open_):
            want = share + (rank < extra)
            got = min(want, available[c] - take[c])
            take[c] += got
            left -= got
    rng = np.random.RandomState(0)  # fixed: n alone decides the sample
    chosen = [rng.permutation(np.flatnonzero(labels == c))[:k]
              for c, k in zip(classes, take)]
    return np.sort(np.concatenate(chosen))


class _ArrayDataset(gluon.data.Dataset):
    """uint8 images and int labels held in memory; items are numpy."""

    def __init__(self, images, labels):
        self._images, self._labels = images, labels

    def __getitem__(self, idx):
        return self._images[idx], self._labels[idx]

    def __len__(self):
        return len(self._labels)


def _bilinear_matrix(n_in, n_out):
    """``(n_out, n_in)`` weights of 1-D bilinear interpolation.

    Pixel centres sit at half-integers (``align_corners=False``), as in OpenCV
    and so in ``transforms.Resize``; the result equals
    ``mx.nd.contrib.BilinearResize2D(..., align_corners=False)``.
    """
    x = np.maximum((np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5, 0)
    lo = np.minimum(np.floor(x).astype(np.int64), n_in - 1)
    hi = np.minimum(lo + 1, n_in - 1)
    frac = x - lo
    w = np.zeros((n_out, n_in))
    np.add.at(w, (np.arange(n_out), lo), 1 - frac)
    np.add.at(w, (np.arange(n_out), hi), frac)
    return w.astype(np.float32)


class _Batchify:
    """Stack a batch, scale to [0, 1] and resize it, all at once, in numpy.

    Bilinear resizing is separable, so a batch is resized by two matrix
    products (rows, then columns), and the result is handed to MXNet without
    a copy. ``benchmarks/data_pipeline.py`` compares this with
    ``BilinearResize2D`` and with per-image ``transforms.Resize``.
    """

    def __init__(self, size=None, in_size=28):
        self.size = size
        if size is not None and size != in_size:
            w = _bilinear_matrix(in_size, size)
            self._rows = w
            self._cols = np.ascontiguousarray(w.T / 255)  # folds in the scaling

    def __call__(self, samples):
        images, labels = zip(*samples)
        X = np.stack(images).astype(np.float32)
        n, h, w = X.shape
        if self.size is None or self.size == h:
            X /= 255
        else:
            X = (X.reshape(n * h, w) @ self._cols).reshape(n, h, self.size)
            X = np.matmul(self._rows, X)
            # The weights are convex, but float rounding can pass 1 by an ulp.
            np.clip(X, 0, 1, out=X)
        # Zero-copy hand-over: mx.nd.array would copy into freshly allocated
        # memory, which cost more than everything above together.
        return (mx.nd.from_numpy(X.reshape(n, 1, *X.shape[1:]), zero_copy=True),
                mx.nd.from_numpy(np.array(labels, dtype=np.int32),
                                 zero_copy=True))


class _EpochShuffler(gluon.data.Sampler):
    """Random order from its own RandomState: epoch 1 is fixed by the seed,
    later epochs differ, and no global random state is touched."""

    def __init__(self, length, seed):
        self._length = length
        self._rng = np.random.RandomState(seed)

    def __iter__(self):
        return iter(self._rng.permutation(self._length).tolist())

    def __len__(self):
        return self._length


def _check_int(value, name, minimum):
    if isinstance(value, (bool, np.bool_)) or not isinstance(
            value, (int, np.integer)) or value < minimum:
        raise ValueError('%s must be a whole number of at least %d, got %r.'
                         % (name, minimum, value))


def load_data_fashion_mnist(batch_size, resize=None, root=None, subset=None,
                            test_subset=None, shuffle=True, seed=0,
                            num_workers=0):
    """Fashion-MNIST as ``(train_iter, test_iter)`` Gluon ``DataLoader``s.

    Batches are ``X`` float32 ``(batch, 1, H, W)`` in [0, 1] (``H = W =
    resize``, default 28) and ``y`` int32 labels. ``subset``/``test_subset``
    take a deterministic class-balanced sample of that many images. The
    training order is reproducible from ``seed`` and changes every epoch; the
    test iterator is in file order. Both keep the last, smaller batch.
    """
    _check_int(batch_size, 'batch_size', 1)
    if resize is not None:
        _check_int(resize, 'resize', 1)
    _check_int(num_workers, 'num_workers', 0)
    _check_int(seed, 'seed', 0)
    data = load_fashion_mnist_arrays(root)
    train = [data.train_images, data.train_labels]
    test = [data.test_images, data.test_labels]
    for part, n, what in ((train, subset, 'subset'),
                          (test, test_subset, 'test_subset')):
        if n is not None:
            idx = balanced_indices(part[1], n, what)
            part[:] = part[0][idx], part[1][idx]
    batchify = _Batchify(resize)
    common = dict(batch_size=batch_size, last_batch='keep',
                  batchify_fn=batchify, num_workers=num_workers)
    train_ds = _ArrayDataset(*train)
    sampler = (_EpochShuffler(len(train_ds), seed) if shuffle
               else gluon.data.SequentialSampler(len(train_ds)))
    train_iter = gluon.data.DataLoader(train_ds, sampler=sampler, **common)
    test_iter = gluon.data.DataLoader(_ArrayDataset(*test), shuffle=False,
                                      **common)
    return train_iter, test_iter


def get_fashion_mnist_labels(labels):
    """Text labels (``'t-shirt'``, ...) for class numbers (int, list, numpy
    or NDArray); always a list."""
    if isinstance(labels, mx.nd.NDArray):
        labels = labels.asnumpy()
    flat = np.asarray(labels).reshape(-1)
    if flat.size and (not np.all(np.equal(np.mod(flat, 1), 0))
                      or flat.min() < 0 or flat.max() > 9):
        raise ValueError('Fashion-MNIST labels are whole numbers from 0 to 9, '
                         'got %r.' % (labels,))
    return [TEXT_LABELS[int(i)] for i in flat]


def show_fashion_mnist(images, labels, ncols=None, scale=1.5):
    """Draw ``images`` in a grid with their text labels; return the Figure.

    ``images``: NDArray or numpy, ``(N, 28, 28)``, ``(N, 1, H, W)`` or one
    image. ``labels``: class numbers, text, or None. In a notebook write
    ``_ = show_fashion_mnist(...)``, or the figure is shown twice (once by the
    inline backend, once as the cell's value).
    """
    import matplotlib.pyplot as plt  # only plotting code pays for it

    if isinstance(images, mx.nd.NDArray):
        images = images.asnumpy()
    images = np.asarray(images)
    if images.ndim == 2:
        images = images[None]
    if images.ndim == 4 and images.shape[1] == 1:
        images = images[:, 0]
    if images.ndim != 3:
        raise ValueError('images must have shape (N, H, W) or (N, 1, H, W), '
                         'got %s.' % (images.shape,))
    n = len(images)
    if labels is not None:
        if isinstance(labels, mx.nd.NDArray):
            labels = labels.asnumpy()
        labels = list(np.asarray(labels).reshape(-1))
        if not all(isinstance(t, str) for t in labels):
            labels = get_fashion_mnist_labels(labels)
        if len(labels) != n:
            raise ValueError('got %d images but %d labels.' % (n, len(labels)))
    ncols = ncols or min(n, 10)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, squeeze=False,
                             figsize=(ncols * scale, nrows * scale))
    for i, ax in enumerate(axes.flat):
        ax.axis('off')
        if i < n:
            ax.imshow(images[i], cmap='gray')
            if labels is not None:
                ax.set_title(labels[i])
    return fig


def find_full_set(root=None):
    """The verified full set from the first searched directory holding it, or
    None. Never downloads; a corrupt file still raises ``DataError``."""
    for _, directory in search_dirs(root):
        if _complete(directory):
            data = _load_dir(directory)
            if data.kind == 'full':
                return data
    return None


def main(argv=None):
    """``python -m d2lhelpers.data``: find or download the full set (``make
    data``). Returns the exit status."""
    try:
        data = find_full_set()
        if data is None and offline():
            print('Fashion-MNIST: the full data set is not in %s, and '
                  'D2L_OFFLINE is set, so it was not downloaded.'
                  % ', '.join(str(d) for _, d in search_dirs()))
            return 1
        if data is None:
            print('Fashion-MNIST: downloading the full data set from %s into '
                  '%s ...' % (MIRROR, DOWNLOAD_DIR))
            data = _load_dir(download_fashion_mnist(), kinds=('full',))
    except DataError as e:
        print(e)
        return 1
    except DownloadError as e:
        print('Fashion-MNIST: could not get the full data set: %s. Copy the '
              'four files into %s (or set D2L_DATA_DIR) and run this again.'
              % (e, DOWNLOAD_DIR))
        return 1
    print(data.source)
    return 0


if __name__ == '__main__':
    sys.exit(main())
