"""The quick plans: accuracy, time and time to accuracy, one seeded run each.

    python benchmarks/quick_settings.py [--networks googlenet resnet ...] [--checkpoints 12] [--write]

Each network is trained exactly as its notebook's training cell does under
``D2L_MODE=quick`` with the full plan (seeds, loader, Xavier initialization,
``plan_training(..., full_plan=True)``, the settings' optimizer and cosine
schedule, compiled step), but tested at ``--checkpoints`` evenly spaced
steps on the full 10,000-image test set (``d2lhelpers.timeline``; the
training clock stops while testing). Prints, and with ``--write`` puts into
``benchmarks/README.md`` between the ``quick-settings`` markers, two tables:
each plan's final accuracy against the book's, and the training images and
minutes it took to first reach 0.85, 0.88, 0.90 and the book's accuracy
(at checkpoint resolution). Run it on an otherwise idle machine: minutes
are wall-clock.
"""
import argparse
import os
import pathlib
import platform
import time

import d2lhelpers as d2lh  # sets OMP_NUM_THREADS before mxnet loads
import mxnet as mx
import numpy as np
from mxnet import gluon, init

from d2lhelpers import models
from d2lhelpers.timeline import accuracy_timeline, first_reaching

import readme_block

README = pathlib.Path(__file__).resolve().parent / 'README.md'
MARK = ('<!-- quick-settings:start -->', '<!-- quick-settings:end -->')

# name: (network, section, the book's test accuracy: d2l-zh v1, 5 epochs on a GPU)
NETWORKS = {
    'googlenet': (models.googlenet, 'googlenet', 0.883),
    'lenet_bn': (models.lenet_bn, 'batchnorm', 0.870),
    'lenet_gluon_bn': (models.lenet_gluon_bn, 'batchnorm', 0.881),
    'resnet': (models.resnet18, 'resnet', 0.913),
    'densenet': (models.densenet, 'densenet', 0.879),
    # 01's exercise 4: GoogLeNet with batch normalization, under v1's plan (no book number)
    'googlenet_bn': (models.googlenet_bn, 'googlenet', None),
}
THRESHOLDS = (0.85, 0.88, 0.90)


def run(name, checkpoints):
    make, section, book = NETWORKS[name]
    s = d2lh.training_settings(section, 'quick')
    ctx = d2lh.try_gpu()
    mx.random.seed(s.seed)
    np.random.seed(s.seed)
    train_iter, test_iter = d2lh.load_data_fashion_mnist(**s.data_args)
    net = make()
    net.initialize(force_reinit=True, ctx=ctx, init=init.Xavier())
    plan = d2lh.plan_training(net, train_iter, test_iter, s, ctx, full_plan=True,
                              test_passes=checkpoints)
    trainer = gluon.Trainer(net.collect_params(), s.optimizer,
                            dict(s.optimizer_params, lr_scheduler=s.lr_scheduler(plan.num_steps)))
    timeline = accuracy_timeline(net, train_iter, test_iter, trainer, plan, ctx, checkpoints)
    print(timeline.to_string())
    return s, plan, timeline, book


def describe(s):
    """The plan in English, for the README."""
    parts = ['%s lr %g' % (s.optimizer, s.lr)]
    if s.momentum:
        parts.append('momentum %g' % s.momentum)
    if s.weight_decay:
        parts.append('wd %g' % s.weight_decay)
    parts.append('%s schedule, warm-up %d steps' % (s.schedule, s.warmup_steps))
    parts.append('batch %d, %dx%d, %s images' % (s.batch_size, s.image_size, s.image_size,
                                                format(s.train_images, ',')))
    return ', '.join(parts)


def _reach(timeline, accuracy):
    row = first_reaching(timeline, accuracy)
    return '—' if row is None else '{:,} / {:.1f}'.format(int(row['训练图像数']),
                                                         row['训练时间（分钟）'])


def tables(rows):
    plans = ['| network | plan | training images | images/s | training min | test acc | book | met |',
             '| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |']
    reach = ['| network | 0.85 | 0.88 | 0.90 | book\'s accuracy |',
             '| --- | ---: | ---: | ---: | ---: |']
    for name, (s, plan, timeline, book) in rows.items():
        last = timeline.iloc[-1]
        minutes = last['训练时间（分钟）']
        met = '—' if book is None else ('yes' if last['测试准确率'] >= book else 'no')
        plans.append('| %s | %s | {:,} | %.0f | %.2f | %.4f | %s | %s |'.format(
            int(last['训练图像数'])) % (
            name, describe(s), last['训练图像数'] / (60 * minutes),
            minutes, last['测试准确率'], '—' if book is None else '%.3f' % book, met))
        reach.append('| %s | %s | %s | %s | %s |' % (
            name, *(_reach(timeline, a) for a in THRESHOLDS),
            '—' if book is None else '%s (%.3f)' % (_reach(timeline, book), book)))
    return '\n'.join(plans), '\n'.join(reach)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--networks', nargs='+', default=list(NETWORKS), choices=list(NETWORKS))
    parser.add_argument('--checkpoints', type=int, default=12)
    parser.add_argument('--write', action='store_true',
                        help='write the tables into benchmarks/README.md')
    args = parser.parse_args()
    print(d2lh.describe_device())
    rows = {}
    for name in args.networks:
        print('==', name)
        rows[name] = run(name, args.checkpoints)
    plans, reach = tables(rows)
    print(plans + '\n\n' + reach)
    if args.write:
        note = ('Measured by `python benchmarks/quick_settings.py --write` on %s, %s, '
                'OMP_NUM_THREADS=%s, %s; one seeded run per network, tested at %d '
                'checkpoints.' % (time.strftime('%Y-%m-%d'),
                                  platform.processor() or platform.machine(),
                                  os.environ.get('OMP_NUM_THREADS'), d2lh.describe_device(),
                                  args.checkpoints))
        readme_block.replace_block(README, MARK, (
            '%s\n\n%s\n\nTraining images / minutes to first reach each test accuracy '
            '(— : not within the plan):\n\n%s' % (note, plans, reach)))


if __name__ == '__main__':
    main()
