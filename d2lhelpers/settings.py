"""The one home of settings: the ``D2L_*`` environment, and what each mode trains.

Read here and nowhere else, each with one parser: ``D2L_MODE`` (``book``,
``quick``, ``smoke``; unset: by device), ``D2L_DEVICE`` (``cpu`` forces the
CPU), ``D2L_OFFLINE`` (never touch the network), ``D2L_DATA_DIR`` (a directory
holding Fashion-MNIST), ``D2L_NO_SYSTEM_DATA`` (skip MXNet's cache and Debian's
data set, as on a machine without them), ``D2L_FULL_PLAN`` (never shrink a
training plan on a slow machine) and ``OMP_NUM_THREADS``. Booleans
accept ``1/true/yes/on`` and ``0/false/no/off`` or nothing; anything else is
refused with a sentence, never guessed.

Modes: ``book`` is d2l-zh v1 (5 epochs at 96x96 on a GPU); ``quick`` a few
minutes on a 2-core CPU (figures in ``benchmarks/README.md``); ``smoke`` a few
batches, so that CI can execute every notebook. The mode follows the
notebook's device unless ``D2L_MODE`` says otherwise; notebooks never test it
themselves: they ask :func:`training_settings` and :func:`experiment`.
"""
import dataclasses
import math
import os
import types
from pathlib import Path

__all__ = ['MODES', 'SECTIONS', 'TrainSettings', 'current_mode',
           'training_settings', 'experiment', 'describe_mode', 'settings_table', 'env_flag', 'offline',
           'cpu_forced', 'data_dir', 'skip_system_data', 'full_plan_forced', 'omp_threads']

MODES = ('book', 'quick', 'smoke')
_TRUE = ('1', 'true', 'yes', 'on')
_FALSE = ('', '0', 'false', 'no', 'off')


# ---------------------------------------------------------------- environment
def _env(name):
    return os.environ.get(name, '').strip()


def env_flag(name):
    """The boolean environment variable ``name`` (unset: False)."""
    value = _env(name).lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError('环境变量 %s=%r 不是布尔值；请设为 1 或 0（也可以是 true/false、'
                     'yes/no、on/off），或者删除它。' % (name, os.environ[name]))


def _env_choice(name, choices, unset_means):
    value = _env(name).lower()
    if not value:
        return None
    if value not in choices:
        raise ValueError('环境变量 %s=%r 无效；请设为 %s 之一，或者删除它（%s）。'
                         % (name, os.environ[name], '、'.join(choices), unset_means))
    return value


def offline():
    """True when ``D2L_OFFLINE`` asks never to touch the network."""
    return env_flag('D2L_OFFLINE')


def cpu_forced():
    """True when ``D2L_DEVICE=cpu``."""
    return _env_choice('D2L_DEVICE', ('cpu', 'auto'),
                       '删除后有 GPU 就用 GPU') == 'cpu'


def data_dir():
    """``D2L_DATA_DIR`` as a Path, or None when unset."""
    value = _env('D2L_DATA_DIR')
    return Path(value).expanduser() if value else None


def skip_system_data():
    """True when ``D2L_NO_SYSTEM_DATA`` asks to ignore data outside the repository."""
    return env_flag('D2L_NO_SYSTEM_DATA')


def full_plan_forced():
    """True when ``D2L_FULL_PLAN`` asks to train the full plan however slow the machine."""
    return env_flag('D2L_FULL_PLAN')


def omp_threads():
    """``(threads, problem)`` read from ``OMP_NUM_THREADS``.

    ``threads`` is the first level of OpenMP's list syntax (``4,2`` -> 4) or
    None when unset or unusable; ``problem`` is a sentence when the value is
    set but unusable (``abc``, ``-3``, ``0``), else None.
    """
    raw = os.environ.get('OMP_NUM_THREADS')
    if raw is None or not raw.strip():
        return None, None
    first = raw.split(',')[0].strip()
    if first.isdigit() and int(first) > 0:
        return int(first), None
    return None, ('环境变量 OMP_NUM_THREADS=%r 不是正整数（OpenMP 的写法是 4，或嵌套的 '
                  '4,2）；请改成 CPU 的物理核数，或者删除它。' % raw)


# ------------------------------------------------------------------- modes
def current_mode(ctx=None):
    """``D2L_MODE`` if set, else ``book`` when ``ctx`` is a GPU and ``quick`` otherwise.

    ``ctx`` is the device (or list of devices) the notebook trains on; None
    asks MXNet whether it sees a GPU (pass the notebook's ``ctx``: a GPU that
    is listed but unusable makes ``try_gpu`` fall back to the CPU).
    """
    mode = _env_choice('D2L_MODE', MODES, '删除后按设备选择')
    if mode:
        return mode
    if ctx is None:  # no device given: is there a GPU MXNet can see?
        import mxnet as mx  # not at module level: _threads reads this module first
        try:
            gpus = 0 if cpu_forced() else mx.context.num_gpus()
        except mx.base.MXNetError:  # CPU-only build or no driver
            gpus = 0
        return 'book' if gpus else 'quick'
    ctxs = ctx if isinstance(ctx, (list, tuple)) else [ctx]
    return 'book' if ctxs and all(c.device_type == 'gpu' for c in ctxs) else 'quick'


def describe_mode(ctx=None):
    """One Chinese line: the mode in force for ``ctx`` and why."""
    mode = current_mode(ctx)
    if _env('D2L_MODE'):
        why = '由环境变量 D2L_MODE 指定'
    elif mode == 'book':
        why = '有 GPU，用书上的设置'
    else:
        why = '只有 CPU，用快速设置；有 GPU 时是 book'
    return '当前模式：%s（%s）' % (mode, why)


def _resolve_mode(mode, ctx):
    if mode is None:
        return current_mode(ctx)
    if mode not in MODES:
        raise ValueError('没有 %r 这种模式；请用 %s 之一。' % (mode, '、'.join(MODES)))
    return mode


# --------------------------------------------------------------- training
_MODE_NAMES = {'book': '书上的设置', 'quick': '快速设置', 'smoke': '冒烟测试设置'}


@dataclasses.dataclass(frozen=True)
class TrainSettings:
    section: str
    mode: str
    lr: float
    batch_size: int
    num_epochs: int = None      # the book's way of saying how long; or:
    train_images: int = None    # a fixed number of training images (the quick plans)
    image_size: int = 28        # Fashion-MNIST is 28x28; other sizes are resized
    train_subset: int = None    # None trains on all 60,000 images
    test_subset: int = None     # None tests on all 10,000 images
    momentum: float = 0.0       # plain SGD, as in the book, unless set
    weight_decay: float = 0.0
    optimizer: str = 'sgd'      # the gluon.Trainer optimizer name
    warmup_steps: int = 0       # cosine schedule only: linear warm-up from 0
    schedule: str = 'constant'  # 'constant' (the book) or 'cosine' (to 0 at the last step)
    budget_minutes: float = None  # shrink the plan to this on a slow CPU (see plan.py)
    seed: int = 0               # MXNet, numpy and the loader's shuffling

    @property
    def resize(self):
        """The ``resize=`` argument of the loader: None at Fashion-MNIST's own 28x28."""
        return None if self.image_size == 28 else self.image_size

    @property
    def num_steps(self):
        """Training steps of the full plan when it is counted in images, else None (epochs)."""
        return math.ceil(self.train_images / self.batch_size) if self.train_images else None

    @property
    def optimizer_params(self):
        """The ``gluon.Trainer`` parameters without a schedule: learning rate,
        momentum and weight decay when set."""
        params = {'learning_rate': self.lr}
        if self.momentum:
            params['momentum'] = self.momentum
        if self.weight_decay:
            params['wd'] = self.weight_decay
        return params

    def lr_scheduler(self, num_steps):
        """The learning-rate schedule over ``num_steps`` updates (an
        ``mxnet.lr_scheduler`` object), or None for a constant rate."""
        if self.schedule == 'constant':
            return None
        import mxnet as mx  # not at module level: _threads reads this module first
        warmup = min(self.warmup_steps, max(0, num_steps - 1))
        return mx.lr_scheduler.CosineScheduler(
            max_update=max(num_steps, 1), base_lr=self.lr, final_lr=0,
            warmup_steps=warmup, warmup_mode='linear')

    def describe(self):
        """One Chinese line for the notebooks: mode, optimizer, schedule, length, batch, input, data."""
        train = ('%d 张' % self.train_subset) if self.train_subset else '全部 60000 张'
        test = ('%d 张' % self.test_subset) if self.test_subset else '全部 10000 张'
        extras = ''
        if self.momentum:
            extras += '，动量 %g' % self.momentum
        if self.weight_decay:
            extras += '，权重衰减 %g' % self.weight_decay
        if self.schedule == 'cosine':
            extras += '，余弦学习率（先用 %d 步线性预热）' % self.warmup_steps
        length = ('共训练 %s 张图像' % format(self.train_images, ',') if self.train_images
                  else '%d 个迭代周期' % self.num_epochs)
        return ('%s（%s）：%s，学习率 %g%s，%s，批量大小 %d，输入 %d×%d，'
                '训练集 %s，测试集 %s'
                % (_MODE_NAMES[self.mode], self.section, self.optimizer, self.lr,
                   extras, length, self.batch_size, self.image_size,
                   self.image_size, train, test))

    @property
    def data_args(self):
        """The loader's arguments: ``d2lh.load_data_fashion_mnist(**s.data_args)``."""
        return dict(batch_size=self.batch_size, resize=self.resize,
                    subset=self.train_subset, test_subset=self.test_subset,
                    seed=self.seed)


# d2l-zh v1's settings; the book reports these test accuracies after 5 epochs:
# GoogLeNet 0.883, BN-LeNet 0.870 (from scratch) / 0.881 (gluon),
# ResNet-18 0.913, DenseNet 0.879.
BOOK = {
    'googlenet': dict(lr=0.1, num_epochs=5, batch_size=128, image_size=96),
    'batchnorm': dict(lr=1.0, num_epochs=5, batch_size=256),
    'resnet': dict(lr=0.05, num_epochs=5, batch_size=256, image_size=96),
    'densenet': dict(lr=0.1, num_epochs=5, batch_size=256, image_size=96),
}

# The quick plans: each costs at most what two minutes of training buy on the
# reference machine of benchmarks/README.md (a 2-core AVX-512 CPU) and reaches
# the accuracy measured there with benchmarks/plan_search.py (seeded, full
# test set). Cosine schedule to 0 after a linear warm-up; Xavier init.
_PLAN = dict(schedule='cosine', budget_minutes=2)
QUICK = {
    # Smallest input that gives b5 2x2 maps (28x28 gives 1x1); no BN: Adam.
    'googlenet': dict(_PLAN, image_size=33, batch_size=128, optimizer='adam',
                      lr=0.002, warmup_steps=100, train_images=86_000),
    # Both BN-LeNets (the notes' layer and nn.BatchNorm) use this plan.
    'batchnorm': dict(_PLAN, batch_size=256, optimizer='sgd', lr=0.1, momentum=0.9,
                      warmup_steps=50, train_images=240_000),
    'resnet': dict(_PLAN, batch_size=128, optimizer='adam', lr=0.002,
                   warmup_steps=100, train_images=150_000),
    # 32x32: DenseNet needs at least 29x29 (04's lesson).
    'densenet': dict(_PLAN, image_size=32, batch_size=128, optimizer='sgd', lr=0.1,
                     momentum=0.9, weight_decay=5e-4, warmup_steps=100,
                     train_images=240_000),
}

# A couple of batches: enough to execute every line of a training cell.
SMOKE = dict(num_epochs=1, train_images=None, budget_minutes=None, batch_size=32,
             train_subset=64, test_subset=100)

SECTIONS = tuple(BOOK)


def _check_section(section):
    if section not in BOOK:
        raise ValueError('没有 %r 这一节；可选的节是 %s。' % (section, '、'.join(SECTIONS)))


def training_settings(section, mode=None, ctx=None):
    """The ``TrainSettings`` of ``section`` ('googlenet', 'batchnorm', 'resnet'
    or 'densenet') in ``mode`` (default: :func:`current_mode` of ``ctx``)."""
    _check_section(section)
    mode = _resolve_mode(mode, ctx)
    if mode == 'book':
        values = BOOK[section]
    elif mode == 'quick':
        values = QUICK[section]
    else:
        values = dict(QUICK[section], **SMOKE)
    return TrainSettings(section=section, mode=mode, **values)


_TABLE_COLUMNS = {
    'section': '节', 'mode': '模式', 'optimizer': '优化算法', 'lr': '学习率',
    'momentum': '动量', 'weight_decay': '权重衰减', 'schedule': '学习率调度',
    'num_epochs': '迭代周期', 'train_images': '训练图像总数', 'batch_size': '批量大小',
    'image_size': '输入高宽', 'train_subset': '训练集大小', 'test_subset': '测试集大小'}


def settings_table(modes=('book', 'quick')):
    """Every section's settings in ``modes``, as a DataFrame with Chinese column names."""
    import pandas as pd
    rows = [dataclasses.asdict(training_settings(section, mode))
            for section in SECTIONS for mode in modes]
    table = pd.DataFrame(rows)[list(_TABLE_COLUMNS)].rename(columns=_TABLE_COLUMNS)
    for column in ('训练集大小', '测试集大小'):  # None means all images
        table[column] = table[column].map(lambda n: '全部' if pd.isna(n) else int(n))
    for column in ('迭代周期', '训练图像总数'):  # a plan gives one or the other
        table[column] = table[column].map(lambda n: '—' if pd.isna(n) else int(n))
    table['学习率调度'] = table['学习率调度'].map({'constant': '不变', 'cosine': '余弦'})
    return table.set_index(['节', '模式'])


# ------------------------------------------------------------- experiments
# The sizes of the notebooks' experiments (beside the main training runs):
# how many steps, images, repeats each one uses. A GPU (book) gets the quick
# sizes: they are chosen to show the effect, not to reach an accuracy.
EXPERIMENTS = {
    # 02: convergence with and without batch normalization.
    'bn_convergence': {
        'quick': dict(num_steps=200, eval_every=20, train_subset=25600,
                      test_subset=2000, lr=0.5),
        'smoke': dict(num_steps=4, eval_every=2, train_subset=64, test_subset=100,
                      lr=0.5)},
    # 02, exercise 2: both LeNets at several learning rates, on bn_convergence's
    # images (100 steps: about 4 s a run on the 2-core machine, 8 runs).
    'bn_learning_rates': {
        'quick': dict(num_steps=100, learning_rates=(0.5, 2.0, 8.0, 32.0)),
        'smoke': dict(num_steps=2, learning_rates=(0.5, 8.0))},
    # 03: a deep plain network against a residual one, step by step.
    'depth': {
        'quick': dict(num_steps=60, batch_size=64),
        'smoke': dict(num_steps=3, batch_size=16)},
    # 03: plain and residual networks of several depths, same batches and steps.
    'depth_sweep': {
        'quick': dict(depths=(4, 8, 16, 24), num_steps=30, batch_size=32, num_channels=8),
        'smoke': dict(depths=(1, 2), num_steps=2, batch_size=8, num_channels=4)},
    # 03: ResNet v1 against v2 on the same images.
    'resnet_v1_v2': {
        'quick': dict(num_epochs=2, train_subset=6000, test_subset=1000),
        'smoke': dict(num_epochs=1, train_subset=64, test_subset=100)},
    # 05: images per second, measured over this many steps.
    'throughput': {
        'quick': dict(steps=5),
        'smoke': dict(steps=1)},
}


def experiment(name, mode=None, ctx=None):
    """The sizes of experiment ``name`` in ``mode`` as attributes (``.num_steps``, ...)."""
    if name not in EXPERIMENTS:
        raise ValueError('没有 %r 这个实验；可选的是 %s。' % (name, '、'.join(EXPERIMENTS)))
    mode = _resolve_mode(mode, ctx)
    table = EXPERIMENTS[name]
    return types.SimpleNamespace(**table['quick' if mode == 'book' else mode])
