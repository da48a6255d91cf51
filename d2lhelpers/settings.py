"""Training settings for each section, in one place.

Three modes:

* ``book``: the settings of d2l-zh v1 (5 epochs at 96x96 on a GPU);
* ``quick``: chosen so that each network reaches about 0.85 test accuracy on
  the full 10,000-image test set in about two minutes of training on a 2-core
  CPU (measured figures in ``benchmarks/README.md``);
* ``smoke``: a few batches, so that CI and the browser tests can execute every
  notebook in seconds. Its accuracy means nothing.

The mode is chosen by device (GPU: book, CPU: quick) unless ``D2L_MODE`` says
otherwise.
"""
import dataclasses
import os

from .context import try_gpu

MODES = ('book', 'quick', 'smoke')


@dataclasses.dataclass(frozen=True)
class TrainSettings:
    section: str
    mode: str
    lr: float
    num_epochs: int
    batch_size: int
    resize: int = None          # None keeps Fashion-MNIST's 28x28
    train_subset: int = None    # None trains on all 60,000 images
    test_subset: int = None     # None tests on all 10,000 images
    momentum: float = 0.0       # plain SGD, as in the book, unless set
    optimizer: str = 'sgd'      # the gluon.Trainer optimizer name

    @property
    def optimizer_params(self):
        """The ``gluon.Trainer`` parameters: ``Trainer(params, s.optimizer, s.optimizer_params)``."""
        params = {'learning_rate': self.lr}
        if self.momentum:
            params['momentum'] = self.momentum
        return params

    def describe(self):
        """One line for the notebooks, e.g. ``quick: lr 0.1, 1 epoch(s), ...``."""
        size = self.resize or 28
        train = ('%d' % self.train_subset) if self.train_subset else 'all 60000'
        test = ('%d' % self.test_subset) if self.test_subset else 'all 10000'
        momentum = (', momentum %g' % self.momentum) if self.momentum else ''
        return ('%s settings for %s: %s, lr %g%s, %d epoch(s), batch %d, %dx%d '
                'input, train on %s images, test on %s'
                % (self.mode, self.section, self.optimizer, self.lr, momentum,
                   self.num_epochs, self.batch_size, size, size, train, test))

    def load_data(self, root=None):
        """``(train_iter, test_iter)`` for these settings."""
        from .data import load_data_fashion_mnist
        return load_data_fashion_mnist(
            self.batch_size, resize=self.resize, root=root,
            subset=self.train_subset, test_subset=self.test_subset)


# d2l-zh v1's settings; the book reports these test accuracies after 5 epochs:
# GoogLeNet 0.883, BN-LeNet 0.870 (from scratch) / 0.881 (gluon),
# ResNet-18 0.913, DenseNet 0.879.
BOOK = {
    'googlenet': dict(lr=0.1, num_epochs=5, batch_size=128, resize=96),
    'batchnorm': dict(lr=1.0, num_epochs=5, batch_size=256),
    'resnet': dict(lr=0.05, num_epochs=5, batch_size=256, resize=96),
    'densenet': dict(lr=0.1, num_epochs=5, batch_size=256, resize=96),
}

# Measured on the 2-core CI machine: see benchmarks/README.md.
# GoogLeNet has no batch normalization: with plain SGD it sits on a plateau
# for most of its first epoch (one epoch at 28x28: test acc 0.35-0.50 with
# lr 0.1, 0.60 with momentum 0.9), so its quick setting uses Adam (0.82 after
# one epoch; 0.843 after two epochs on a 40,000-image subset, 71 s).
# DenseNet cannot take 28x28 input (the third transition pools a 1x1 map).
QUICK = {
    'googlenet': dict(lr=0.001, optimizer='adam', num_epochs=2, batch_size=128,
                      resize=28),
    # BN-LeNet at the book's lr 1.0: test acc 0.705, 0.821, 0.806, 0.623 over
    # four epochs (the moving statistics cannot follow such large steps);
    # lr 0.5: 0.748, 0.826, 0.852.
    'batchnorm': dict(lr=0.5, num_epochs=3, batch_size=256),
    'resnet': dict(lr=0.1, num_epochs=2, batch_size=128, resize=28),
    'densenet': dict(lr=0.1, num_epochs=2, batch_size=128, resize=48),
}

# A couple of batches: enough to execute every line of a training cell.
SMOKE = dict(num_epochs=1, batch_size=32, train_subset=64, test_subset=100)

SECTIONS = tuple(BOOK)


def current_mode():
    """``D2L_MODE`` if set, else ``book`` on a GPU and ``quick`` on a CPU."""
    mode = os.environ.get('D2L_MODE', '').strip().lower()
    if not mode:
        return 'book' if try_gpu().device_type == 'gpu' else 'quick'
    if mode not in MODES:
        raise ValueError('D2L_MODE=%r is not a training mode; use one of %s '
                         '(or unset it to choose by device).'
                         % (mode, ', '.join(MODES)))
    return mode


def training_settings(section, mode=None):
    """The ``TrainSettings`` of ``section`` ('googlenet', 'batchnorm', 'resnet'
    or 'densenet') in ``mode`` (default: :func:`current_mode`)."""
    if section not in BOOK:
        raise ValueError('Unknown section %r; the sections are %s.'
                         % (section, ', '.join(SECTIONS)))
    mode = mode or current_mode()
    if mode not in MODES:
        raise ValueError('Unknown mode %r; use one of %s.' % (mode, ', '.join(MODES)))
    if mode == 'book':
        values = BOOK[section]
    elif mode == 'quick':
        values = QUICK[section]
    else:
        values = dict(QUICK[section], **SMOKE)
    return TrainSettings(section=section, mode=mode, **values)
