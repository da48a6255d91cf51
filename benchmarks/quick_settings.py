"""Do the quick CPU settings deliver what the notebooks promise?

    python benchmarks/quick_settings.py [--sections googlenet resnet ...] [--write]

For each section, trains the section's network exactly as its notebook does
under ``D2L_MODE=quick`` (``training_settings(section, 'quick')``, Xavier
initialization, ``gluon.Trainer`` with the settings' optimizer parameters,
``d2lhelpers.train_ch5``) and reports the training time (sum of the epochs'
times, evaluation included, as ``train_ch5`` prints it) and the test accuracy
on the full 10,000-image test set. The targets: about 0.85 within about two
minutes of training on a 2-core CPU; at least 0.80.

``--write`` replaces the table in ``benchmarks/README.md`` between the
``quick-settings`` markers. Run it on an otherwise idle machine: times are
wall-clock.
"""
import argparse
import os
import pathlib
import platform
import re
import time

import d2lhelpers as d2lh  # sets OMP_NUM_THREADS before mxnet loads
import mxnet as mx
from mxnet import gluon, init

README = pathlib.Path(__file__).resolve().parent / 'README.md'
MARK = ('<!-- quick-settings:start -->', '<!-- quick-settings:end -->')


def run(section, seed=0):
    s = d2lh.training_settings(section, 'quick')
    mx.random.seed(seed)
    train_iter, test_iter = d2lh.load_data_fashion_mnist(**s.data_args)
    net = d2lh.models.NETWORKS[section]()
    ctx = d2lh.try_gpu()
    net.initialize(force_reinit=True, ctx=ctx, init=init.Xavier())
    trainer = gluon.Trainer(net.collect_params(), s.optimizer, s.optimizer_params)
    history = d2lh.train_ch5(net, train_iter, test_iter, s.batch_size, trainer,
                             ctx, s.num_epochs, progress='text')
    return s, history


def table(rows):
    lines = ['| section | quick settings | training time (s) | test acc (10,000 images) |',
             '| --- | --- | ---: | ---: |']
    for s, history in rows:
        settings = s.describe().split(': ', 1)[1]
        lines.append('| %s | %s | %.0f | %.3f |' % (
            s.section, settings, sum(h['time'] for h in history),
            history[-1]['test_acc']))
    return '\n'.join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--sections', nargs='+', default=list(d2lh.settings.SECTIONS))
    parser.add_argument('--write', action='store_true',
                        help='write the table into benchmarks/README.md')
    args = parser.parse_args()
    print(d2lh.describe_device())
    rows = []
    for section in args.sections:
        print('==', section)
        rows.append(run(section))
    result = table(rows)
    print(result)
    if args.write:
        note = ('Measured by `python benchmarks/quick_settings.py --write` on %s, '
                '%s, %s OpenMP threads, %s.' % (
                    time.strftime('%Y-%m-%d'), platform.processor() or platform.machine(),
                    os.environ.get('OMP_NUM_THREADS'), d2lh.describe_device()))
        text = README.read_text()
        block = '%s\n%s\n\n%s\n%s' % (MARK[0], note, result, MARK[1])
        text = re.sub(re.escape(MARK[0]) + '.*?' + re.escape(MARK[1]),
                      lambda _: block, text, flags=re.S)
        README.write_text(text)


if __name__ == '__main__':
    main()
