"""Train one network under a fixed plan and report full-test-set accuracy.

A search tool for the quick plans (issue: the book's accuracy on a CPU in
about two minutes per network): one run per call, its losses and test
accuracies appended as one JSON line to --log. Needs the full data set.

Usage (one core, so that two searches or other work can share the machine):
  OMP_NUM_THREADS=1 D2L_OFFLINE=1 .venv/bin/python benchmarks/plan_search.py \
      --net resnet --size 28 --batch 128 \
      --opt sgd --lr 0.1 --momentum 0.9 --wd 5e-4 --sched cosine --warmup 100 \
      --images 150000 --seed 0 [--eval-every N] [--tag name]

The plan is a number of training images (rounded up to whole batches);
the loop walks through epochs of the seeded loader until the steps are done.
The learning-rate schedule is an mxnet.lr_scheduler object attached to the
Trainer, so it counts trainer.step updates.
"""
import argparse
import json
import math
import os
import time

import d2lhelpers  # noqa: F401  (before mxnet)
import mxnet as mx
import numpy as np
from mxnet import gluon, init, nd

from d2lhelpers import models
from d2lhelpers.data import load_data_fashion_mnist, load_fashion_mnist_arrays
from d2lhelpers._gluon import train_step
from d2lhelpers.hybrid import compile_if_possible
import contextlib

NETS = {
    'resnet': models.resnet18,
    'googlenet': models.googlenet,
    'densenet': models.densenet,
    'lenet_bn': models.lenet_bn,
    'lenet_gluon_bn': models.lenet_gluon_bn,
}


def make_scheduler(a, steps):
    if a.sched == 'none':
        return None
    if a.sched == 'cosine':
        return mx.lr_scheduler.CosineScheduler(
            max_update=steps, base_lr=a.lr, final_lr=a.final_lr,
            warmup_steps=a.warmup, warmup_begin_lr=a.warmup_begin_lr,
            warmup_mode='linear')
    if a.sched == 'poly':
        return mx.lr_scheduler.PolyScheduler(
            max_update=steps, base_lr=a.lr, pwr=a.pwr, final_lr=a.final_lr,
            warmup_steps=a.warmup, warmup_begin_lr=a.warmup_begin_lr,
            warmup_mode='linear')
    if a.sched == 'multifactor':
        # drop by factor at the given fractions of the run
        marks = [max(1, int(f * steps)) for f in a.marks]
        return mx.lr_scheduler.MultiFactorScheduler(
            step=marks, factor=a.factor, base_lr=a.lr,
            warmup_steps=a.warmup, warmup_begin_lr=a.warmup_begin_lr,
            warmup_mode='linear')
    raise ValueError(a.sched)


def evaluate(runner, test_iter):
    correct, n = nd.zeros((1,)), 0
    for X, y in test_iter:
        correct += (runner(X).argmax(axis=1) == y.astype('float32')).sum()
        n += y.shape[0]
    return correct.asscalar() / n


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument('--net', required=True, choices=sorted(NETS))
    p.add_argument('--size', type=int, default=28)
    p.add_argument('--batch', type=int, default=128)
    p.add_argument('--opt', default='sgd', choices=['sgd', 'adam', 'nag'])
    p.add_argument('--lr', type=float, default=0.1)
    p.add_argument('--momentum', type=float, default=0.9)
    p.add_argument('--wd', type=float, default=0.0)
    p.add_argument('--sched', default='cosine',
                   choices=['none', 'cosine', 'poly', 'multifactor'])
    p.add_argument('--final-lr', type=float, default=0.0)
    p.add_argument('--pwr', type=float, default=1.0)
    p.add_argument('--marks', type=float, nargs='*', default=[0.5, 0.75])
    p.add_argument('--factor', type=float, default=0.1)
    p.add_argument('--warmup', type=int, default=0)
    p.add_argument('--warmup-begin-lr', type=float, default=0.0)
    p.add_argument('--images', type=int, required=True)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--eval-every', type=int, default=0,
                   help='also evaluate every this many steps (0: end only)')
    p.add_argument('--no-hybridize', action='store_true')
    p.add_argument('--no-eval', action='store_true', help='speed test only')
    p.add_argument('--tag', default='')
    p.add_argument('--log', default='plan_search.jsonl')
    a = p.parse_args(argv)

    arrays = load_fashion_mnist_arrays()
    assert arrays.kind == 'full', arrays.kind

    mx.random.seed(a.seed)
    np.random.seed(a.seed)
    train_iter, test_iter = load_data_fashion_mnist(
        a.batch, resize=None if a.size == 28 else a.size, seed=a.seed)
    assert len(test_iter._dataset) == 10000

    steps = math.ceil(a.images / a.batch)
    net = NETS[a.net]()
    net.initialize(init.Xavier())
    sched = make_scheduler(a, steps)
    params = {'learning_rate': a.lr, 'wd': a.wd}
    if a.opt in ('sgd', 'nag'):
        params['momentum'] = a.momentum
    if sched is not None:
        params['lr_scheduler'] = sched
    trainer = gluon.Trainer(net.collect_params(), a.opt, params)
    loss = gluon.loss.SoftmaxCrossEntropyLoss()

    stack = contextlib.ExitStack()
    runner = None
    losses, evals = [], []
    step, images, epoch = 0, 0, 0
    loss_sum, n_sum = nd.zeros((1,)), 0
    t_train = 0.0
    t0 = time.time()
    while step < steps:
        epoch += 1
        for X, y in train_iter:
            if runner is None:
                runner, why = compile_if_possible(net, loss, X, stack,
                                                  hybridize=not a.no_hybridize)
                if why:
                    print('not compiled:', why)
                t0 = time.time()
            (l,), _ = train_step(runner, loss, trainer, [X], [y], X.shape[0])
            loss_sum += l.sum()
            n_sum += X.shape[0]
            step += 1
            images += X.shape[0]
            if step % 50 == 0 or step == steps:
                v = loss_sum.asscalar() / n_sum
                if not math.isfinite(v):
                    print('diverged at step', step)
                    steps = step
                    break
                losses.append((step, round(v, 6)))
                loss_sum, n_sum = nd.zeros((1,)), 0
                if step % 500 == 0:
                    el = t_train + time.time() - t0
                    print('step %d/%d img %d loss %.4f lr %.4g %.0f s %.0f img/s'
                          % (step, steps, images, v, trainer.learning_rate,
                             el, images / el), flush=True)
            if a.eval_every and step % a.eval_every == 0 and step < steps:
                nd.waitall()
                t_train += time.time() - t0
                acc = evaluate(runner, test_iter)
                evals.append((step, images, round(t_train, 1), acc))
                print('  eval step %d images %d train %.0f s test acc %.4f'
                      % (step, images, t_train, acc), flush=True)
                t0 = time.time()
            if step >= steps:
                break
    nd.waitall()
    t_train += time.time() - t0
    te = time.time()
    acc = float('nan') if a.no_eval else evaluate(runner, test_iter)
    t_eval = time.time() - te
    evals.append((step, images, round(t_train, 1), acc))
    stack.close()
    rec = dict(vars(a), steps=step, train_images=images, epochs=images / 60000,
               train_time=round(t_train, 1), eval_time=round(t_eval, 1),
               img_per_s=round(images / t_train, 1), test_acc=acc,
               final_loss=losses[-1][1] if losses else None, losses=losses,
               evals=evals, omp=os.environ.get('OMP_NUM_THREADS'))
    print('RESULT %s net=%s size=%d batch=%d opt=%s lr=%g mom=%g wd=%g sched=%s '
          'warmup=%d images=%d steps=%d train %.1f s (%.0f img/s) test acc %.4f '
          'final loss %s' % (a.tag, a.net, a.size, a.batch, a.opt, a.lr,
                             a.momentum, a.wd, a.sched, a.warmup, images, step,
                             t_train, images / t_train, acc, rec['final_loss']))
    with open(a.log, 'a') as f:
        f.write(json.dumps(rec) + '\n')


if __name__ == '__main__':
    main()
