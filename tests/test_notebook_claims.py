"""Claims the notebooks show as numbers, checked here on the package's own
functions (never on stored notebook outputs)."""
import d2lhelpers  # noqa: F401  (sets OMP_NUM_THREADS before mxnet loads)

import numpy as np
import pytest
from mxnet import autograd, nd

from d2lhelpers import datafiles
from d2lhelpers.explorers import batchnorm as B
from d2lhelpers.models import BatchNorm, batch_norm


@pytest.fixture(scope='module')
def train_images():
    return datafiles.load_fashion_mnist_arrays(root=datafiles.SUBSET_DIR).train_images


# ------------------------------------------------------------------ 02
def test_a_bias_before_batch_norm_cancels_in_both_modes():
    """02, exercise 1: a constant per-feature bias does not change the output."""
    X = nd.random.normal(loc=5, scale=3, shape=(8, 3))
    b = nd.array([[10., -3., 0.5]])
    args = (nd.ones((1, 3)), nd.zeros((1, 3)))
    with autograd.record():
        Y1, mm1, mv1 = batch_norm(X, *args, nd.zeros((1, 3)), nd.zeros((1, 3)), 1e-5, 0.9)
        Y2, mm2, mv2 = batch_norm(X + b, *args, nd.zeros((1, 3)), nd.zeros((1, 3)), 1e-5, 0.9)
    assert (Y1 - Y2).abs().max().asscalar() < 1e-4
    # prediction mode: the moving mean holds the same bias, so it cancels too
    P1, _, _ = batch_norm(X, *args, mm1 / 0.1, mv1 / 0.1, 1e-5, 0.9)
    P2, _, _ = batch_norm(X + b, *args, mm2 / 0.1, mv2 / 0.1, 1e-5, 0.9)
    assert (P1 - P2).abs().max().asscalar() < 1e-3


def test_four_times_the_batch_halves_the_spread_of_the_estimates(train_images):
    """02: the std of the mini-batch mean and variance shrinks ~2x per 4x batch."""
    sizes = [1, 4, 16, 64]
    std = np.array([B.batch_statistics(train_images, m, 0.9, 200)
                    .table[['batch_mean', 'batch_var']].std().values for m in sizes])
    ratio = std[:-1] / std[1:]
    assert np.all(std[1:] < std[:-1])
    assert np.all((ratio > 1.5) & (ratio < 2.7)), ratio


def test_the_layers_moving_averages_reach_the_data_set_within_3_percent(train_images):
    """02: 60 batches of 256 bring the moving mean and variance within 3%."""
    data_mean, data_var = B.pixel_statistics(train_images)
    bn = BatchNorm(1, num_dims=4)
    bn.initialize()
    gaps = []
    for idx in B.shuffled_batches(len(train_images), 256, 60, seed=0):
        with autograd.record():
            bn(nd.array(train_images[idx][:, None] / 255))
        gaps.append((abs(bn.moving_mean.asscalar() - data_mean) / data_mean,
                     abs(bn.moving_var.asscalar() - data_var) / data_var))
    gaps = np.array(gaps)
    assert np.all(gaps[0] > gaps[9]) and np.all(gaps[9] > gaps[29]) and np.all(gaps[29] > gaps[59])
    assert np.all(gaps[59] < 0.03), gaps[59]


# ------------------------------------------------------------------ 03
def test_the_depth_sweep_has_sizes_for_every_mode():
    """03: the depth sweep trains plain and residual nets of growing depth."""
    from d2lhelpers import settings
    quick, smoke = settings.experiment('depth_sweep', 'quick'), settings.experiment('depth_sweep', 'smoke')
    for e in (quick, smoke):
        assert list(e.depths) == sorted(set(e.depths)) and len(e.depths) >= 2
        assert e.num_steps >= 1 and e.batch_size >= 1 and e.num_channels >= 1
    assert max(quick.depths) >= 4 * min(quick.depths)  # deep enough to see degradation
    assert sum(smoke.depths) * smoke.num_steps < sum(quick.depths) * quick.num_steps
