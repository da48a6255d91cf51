"""Fashion-MNIST batches for training, and its pictures.

The files are found, verified and downloaded by :mod:`d2lhelpers.datafiles`;
this module turns the arrays into Gluon ``DataLoader``s and figures.

Speed: the uint8 arrays stay in memory and ``_Batchify`` converts and resizes
a whole batch in numpy (bilinear resizing is separable: two matrix products),
handing it to MXNet without a copy: ~2 ms of CPU for 128 images at 96x96,
against ~10 ms with ``BilinearResize2D`` and ~15 ms with d2lzh's per-image
``transforms.Resize`` (``benchmarks/data_pipeline.py``).
"""
import numpy as np
import mxnet as mx
from mxnet import gluon

from .checks import check_bool, check_elements, check_int, check_number
from .datafiles import (DataError, REPO_ROOT, load_fashion_mnist_arrays,  # noqa: F401
                        main)

# d2lzh's labels, as the book prints them under the pictures.
TEXT_LABELS = ('t-shirt', 'trouser', 'pullover', 'dress', 'coat',
               'sandal', 'shirt', 'sneaker', 'bag', 'ankle boot')
TEXT_LABELS_ZH = ('T恤', '裤子', '套衫', '连衣裙', '外套',
                  '凉鞋', '衬衫', '运动鞋', '包', '短靴')  # the book's Chinese names
MAX_IMAGE_SIZE = 512  # resize=: the book's largest input is 224


def balanced_indices(labels, n, what='subset'):
    """``n`` sorted indices of ``labels``, as evenly spread over classes as
    possible; the same labels and ``n`` always give the same indices."""
    labels = np.asarray(labels)
    n = check_int(what, n, 1, len(labels),
                  why='这份数据一共只有 %d 张图像。' % len(labels))
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


def _bilinear_matrix(n_in, n_out):
    """``(n_out, n_in)`` weights of 1-D bilinear interpolation, pixel centres at
    half-integers as ``transforms.Resize`` and ``BilinearResize2D(align_corners=False)``."""
    x = np.maximum((np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5, 0)
    lo = np.minimum(np.floor(x).astype(np.int64), n_in - 1)
    hi = np.minimum(lo + 1, n_in - 1)
    frac = x - lo
    w = np.zeros((n_out, n_in))
    np.add.at(w, (np.arange(n_out), lo), 1 - frac)
    np.add.at(w, (np.arange(n_out), hi), frac)
    return w.astype(np.float32)


class _Batchify:
    """Stack a batch, scale to [0, 1] and resize it at once in numpy (see above)."""

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


def load_data_fashion_mnist(batch_size, resize=None, root=None, subset=None,
                            test_subset=None, shuffle=True, seed=0,
                            num_workers=0):
    """``(train_iter, test_iter)`` of float32 ``(batch, 1, resize, resize)`` images in
    [0, 1] and int32 labels, the last short batch kept. ``subset``/``test_subset``:
    a fixed class-balanced sample; the training order follows ``seed`` and
    changes every epoch, the test order is the file's."""
    batch_size = check_int('batch_size', batch_size, 1, 60000,
                           why='请传入一个正整数，例如 256（训练集一共 60000 张图像）。')
    if resize is not None:
        resize = check_int('resize', resize, 1, MAX_IMAGE_SIZE,
                           why='本章用 28 或 96；resize=None 保持 28×28。')
        check_elements('一个批量', (batch_size, 1, resize, resize))
    num_workers = check_int('num_workers', num_workers, 0, 64)
    seed = check_int('seed', seed, 0, 2 ** 32 - 1)
    shuffle = check_bool('shuffle', shuffle)
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
    train_ds = gluon.data.ArrayDataset(*train)  # numpy items
    sampler = (_EpochShuffler(len(train_ds), seed) if shuffle
               else gluon.data.SequentialSampler(len(train_ds)))
    train_iter = gluon.data.DataLoader(train_ds, sampler=sampler, **common)
    test_iter = gluon.data.DataLoader(gluon.data.ArrayDataset(*test), shuffle=False,
                                      **common)
    return train_iter, test_iter


def get_fashion_mnist_labels(labels, chinese=False):
    """Text labels (``'t-shirt'``, ... as d2lzh prints them, or ``'T恤'``, ...
    with ``chinese=True``) for class numbers (int, list, numpy or NDArray);
    always a list."""
    if isinstance(labels, mx.nd.NDArray):
        labels = labels.asnumpy()
    flat = np.asarray(labels).reshape(-1)
    if flat.size and (not np.all(np.equal(np.mod(flat, 1), 0))
                      or flat.min() < 0 or flat.max() > 9):
        raise ValueError('Fashion-MNIST 的类别编号是 0 到 9 的整数，收到的是 %r；'
                         '请传入 0 到 9 之间的类别编号。' % (labels,))
    names = TEXT_LABELS_ZH if check_bool('chinese', chinese) else TEXT_LABELS
    return [names[int(i)] for i in flat]


def show_fashion_mnist(images, labels, ncols=None, scale=1.5):
    """Draw ``images`` (``(N, H, W)``, ``(N, 1, H, W)`` or one) in a grid titled
    with ``labels`` (class numbers, shown in Chinese, text or None); returns
    the Figure: write ``_ = show_fashion_mnist(...)``, or it is shown twice."""
    import matplotlib.pyplot as plt  # only plotting code pays for it

    if isinstance(images, mx.nd.NDArray):
        images = images.asnumpy()
    images = np.asarray(images)
    if images.ndim == 2:
        images = images[None]
    if images.ndim == 4 and images.shape[1] == 1:
        images = images[:, 0]
    if images.ndim != 3:
        raise ValueError('images 的形状应是 (N, H, W) 或 (N, 1, H, W)，收到的是 %s；'
                         '请传入一批单通道图像。' % (images.shape,))
    n = len(images)
    if not 0 < n <= 100:
        raise ValueError('images 里有 %d 张图像；一次能画 1 到 100 张，请传入其中一部分，例如 X[:8]。'
                         % n)
    if ncols is not None:
        ncols = check_int('ncols', ncols, 1, 100)
    scale = check_number('scale', scale, 0.1, 10)
    if labels is not None:
        if isinstance(labels, mx.nd.NDArray):
            labels = labels.asnumpy()
        labels = list(np.asarray(labels).reshape(-1))
        if not all(isinstance(t, str) for t in labels):
            labels = get_fashion_mnist_labels(labels, chinese=True)
        if len(labels) != n:
            raise ValueError('有 %d 张图像，却有 %d 个标签；请传入同样多的标签，或者 '
                             'labels=None。' % (n, len(labels)))
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
