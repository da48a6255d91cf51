"""Draw the embedded Fashion-MNIST subset from the full set.

    python data/make_subset.py [--source DIR] [--out DIR]

Takes 600 training images per class (6,000) and 100 test images per class
(1,000), chosen with a fixed seed, kept in the original file order, and writes
them in the original IDX format, gzipped with mtime=0 so that running this
again gives byte-identical files (``tests/test_data.py`` checks that). The
source is found like the loaders find it (``d2lhelpers.datafiles.find_full_set``)
and verified against the full set's sha256 first.

After changing anything here, update ``SUBSET_SHA256`` in
``d2lhelpers/datafiles.py`` and the table in ``data/README.md`` with the printed
sums.
"""
import argparse
import gzip
import hashlib
import io
import sys
from pathlib import Path

import numpy as np

from d2lhelpers import datafiles

SEED = 2017  # Fashion-MNIST's release year; any fixed value would do
PER_CLASS = {'train': 600, 't10k': 100}
OUT_DIR = Path(__file__).resolve().parent / 'fashion-mnist-subset'


def draw(labels, per_class, rng):
    """Sorted indices of ``per_class`` random images of every class."""
    chosen = [rng.choice(np.flatnonzero(labels == c), per_class, replace=False)
              for c in range(10)]
    return np.sort(np.concatenate(chosen))


def idx_bytes(array):
    """``array`` (uint8) as an IDX file: magic, dimensions, then the data."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + b''.join(
        int(d).to_bytes(4, 'big') for d in array.shape)
    return header + array.tobytes()


def gzip_bytes(raw):
    """Reproducible gzip: no file name and mtime 0 in the header."""
    buf = io.BytesIO()
    with gzip.GzipFile(filename='', mode='wb', fileobj=buf, compresslevel=9,
                       mtime=0) as f:
        f.write(raw)
    return buf.getvalue()


def subset_files(full, seed=SEED):
    """``{file name: decompressed bytes}`` of the subset drawn from ``full``."""
    rng = np.random.RandomState(seed)
    files = {}
    for part, images, labels in (('train', full.train_images, full.train_labels),
                                 ('t10k', full.test_images, full.test_labels)):
        idx = draw(labels, PER_CLASS[part], rng)
        files[part + '-images-idx3-ubyte'] = idx_bytes(images[idx])
        files[part + '-labels-idx1-ubyte'] = idx_bytes(labels[idx])
    return files


def write_subset(full, out_dir=OUT_DIR, seed=SEED):
    """Write the four ``.gz`` files; return ``{name: decompressed sha256}``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    sums = {}
    for name, raw in subset_files(full, seed).items():
        (out_dir / (name + '.gz')).write_bytes(gzip_bytes(raw))
        sums[name] = hashlib.sha256(raw).hexdigest()
    return sums


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--source', help='directory holding the full set '
                        '(default: search like the loaders do)')
    parser.add_argument('--out', default=str(OUT_DIR))
    args = parser.parse_args(argv)
    full = datafiles.find_full_set(args.source)
    if full is None:
        print('make_subset: the full Fashion-MNIST set was not found; run '
              '`make data` first (or pass --source DIR).')
        return 1
    print('from', full.source)
    for name, digest in write_subset(full, args.out).items():
        print('%s  %s' % (digest, name))
    return 0


if __name__ == '__main__':
    sys.exit(main())
