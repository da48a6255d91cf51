"""Test accuracy against training time: a plan trained with checkpoints.

``train_ch5`` tests once an epoch; to compare networks by time to accuracy
(05, ``benchmarks/time_to_accuracy.py``) the test set is evaluated at a few
evenly spaced steps of the plan instead. The clock stops while testing, so
the minutes are training minutes; the net runs compiled when it can, with
``train_ch5``'s step.
"""
import contextlib
import math
import time

import pandas as pd
from mxnet import gluon, nd

from . import _gluon, hybrid
from .checks import check_int
from .context import devices
from .train import _EMPTY, _overran, evaluate_accuracy

__all__ = ['accuracy_timeline', 'first_reaching', 'COLUMNS']

COLUMNS = ['步数', '训练图像数', '训练时间（分钟）', '训练损失', '测试准确率']


def _checkpoint_steps(num_steps, checkpoints):
    """``checkpoints`` evenly spaced steps ending at ``num_steps`` (no repeats)."""
    return sorted({max(1, round(num_steps * k / checkpoints)) for k in range(1, checkpoints + 1)})


def accuracy_timeline(net, train_iter, test_iter, trainer, plan, ctx=None, checkpoints=6):
    """Train the initialized ``net`` for ``plan.num_steps`` steps with ``trainer``
    (its schedule included), test at ``checkpoints`` evenly spaced steps, and
    return a DataFrame with :data:`COLUMNS` (one row a checkpoint). Stops with
    a sentence at ``plan.time_limit`` training seconds, as ``train_ch5``."""
    ctx, = devices(ctx, one=True)
    check_int('checkpoints', checkpoints, 1, 100)
    if len(train_iter) == 0:
        raise ValueError(_EMPTY)
    marks = _checkpoint_steps(plan.num_steps, checkpoints)
    loss = gluon.loss.SoftmaxCrossEntropyLoss()
    rows, step, images, trained = [], 0, 0, 0.0
    loss_sum, seen = nd.zeros((1,), ctx=ctx), 0
    with contextlib.ExitStack() as stack:
        runner = None
        while step < plan.num_steps:
            for X, y in train_iter:
                X, y = X.as_in_context(ctx), y.as_in_context(ctx)
                if runner is None:
                    runner, _ = hybrid.compile_if_possible(net, loss, X, stack)
                    start = time.time()
                (l,), _ = _gluon.train_step(runner, loss, trainer, [X], [y], X.shape[0])
                loss_sum += l.sum()
                seen += X.shape[0]
                step += 1
                images += X.shape[0]
                over = plan.time_limit and step % 10 == 0 and (
                    trained + time.time() - start > plan.time_limit)
                if step == marks[0] or over or step == plan.num_steps:
                    nd.waitall()  # the clock stops while testing
                    trained += time.time() - start
                    train_l = loss_sum.asscalar() / seen
                    if not math.isfinite(train_l):
                        raise FloatingPointError('第 %d 步的训练损失是 %s，网络已经发散；请调小学习率。'
                                                 % (step, train_l))
                    rows.append([step, images, trained / 60, train_l,
                                 evaluate_accuracy(test_iter, runner, ctx)])
                    loss_sum, seen = nd.zeros((1,), ctx=ctx), 0
                    marks = marks[1:] or [plan.num_steps]
                    start = time.time()
                    if over:
                        print(_overran(plan.time_limit, step, plan.num_steps))
                        return pd.DataFrame(rows, columns=COLUMNS)
                if step == plan.num_steps:
                    break
    return pd.DataFrame(rows, columns=COLUMNS)


def first_reaching(timeline, accuracy):
    """The first checkpoint row of ``timeline`` whose test accuracy is at least
    ``accuracy``, or None."""
    reached = timeline[timeline['测试准确率'] >= accuracy]
    return None if reached.empty else reached.iloc[0]
