"""A training plan that tells the time: measure a few batches, announce, fit a budget.

``plan_training`` times a few real training steps of the learner's network
on this machine (on test-set batches, so the training order is untouched;
weights and BatchNorm statistics are restored afterwards) and prints the plan
in one Chinese line: steps, images, images per second here, expected minutes.
When the settings carry a time budget (the quick settings: two minutes of
training on the reference machine of ``benchmarks/README.md``) and the full
plan would take more than ``SHRINK_ABOVE`` times the budget here, the plan
shrinks to fit the budget and says so; ``full_plan=True`` or
``D2L_FULL_PLAN=1`` keeps it. ``train_ch5(..., plan=plan)`` then runs exactly
``plan.num_steps`` steps and stops at ``plan.time_limit`` (``OVERRUN`` times
the announced time, at least ``SLACK`` seconds more) if the machine gets
slower while training.
"""
import contextlib
import dataclasses
import itertools
import math
import time

from mxnet import autograd, gluon, nd

from . import _gluon, _threads, hybrid, settings
from .checks import check_bool, check_int
from .context import devices

__all__ = ['TrainingPlan', 'plan_training', 'SHRINK_ABOVE', 'OVERRUN', 'SLACK']

SHRINK_ABOVE = 1.5   # shrink when the full plan needs more than 1.5 x the budget (3 of 2 minutes)
OVERRUN = 1.2        # training stops at 1.2 x the announced time ...
SLACK = 10           # ... or 10 s after it, whichever is later (short plans jitter)
SHARED_CPU = 0.5     # other programs using this many cores or more: say what to do
_WARMUP, _TIMED = 2, 4  # measured steps: the first ones compile and allocate


@dataclasses.dataclass(frozen=True)
class TrainingPlan:
    """What ``train_ch5`` will do: ``num_steps`` updates of ``batch_size`` images,
    expected to take ``seconds`` here (training and its test passes: one after
    each epoch, or ``test_passes`` of them), stopped at ``time_limit`` seconds
    (None: never)."""
    num_steps: int
    batch_size: int
    full_steps: int
    images_per_second: float
    seconds: float
    time_limit: float = None
    other_cores: float = None   # cores other programs kept busy while measuring
    kept_full: bool = False     # the budget would have shrunk it, full_plan kept it
    budget_minutes: float = None
    test_passes: int = None     # None: one test after each (started) epoch

    @property
    def num_images(self):
        return self.num_steps * self.batch_size

    @property
    def shrunk(self):
        return self.num_steps < self.full_steps


def _measure(net, batches, settings_, ctx):
    """Seconds per training step and per test batch of ``net`` on ``batches``,
    and the cores other programs kept busy meanwhile (None: unknown)."""
    loss = gluon.loss.SoftmaxCrossEntropyLoss()
    params = [p for p in net.collect_params().values() if p.grad_req != 'null']
    trainer = gluon.Trainer(params, settings_.optimizer, settings_.optimizer_params)
    batches = [(X.as_in_context(ctx), y.as_in_context(ctx)) for X, y in batches]
    with autograd.predict_mode():  # finishes deferred initialization; changes no statistics
        net(batches[0][0])
    with _gluon.kept_state(net), contextlib.ExitStack() as stack:
        runner, _ = hybrid.compile_if_possible(net, loss, batches[0][0], stack)
        times = []
        for k, (X, y) in enumerate(batches):
            if k == _WARMUP:
                sample, began = _threads.cpu_sample(), time.perf_counter()
            start = time.perf_counter()
            _gluon.train_step(runner, loss, trainer, [X], [y], X.shape[0])
            nd.waitall()
            times.append(time.perf_counter() - start)
        start = time.perf_counter()
        for X, _ in batches[_WARMUP:]:
            with autograd.predict_mode():
                runner(X)
        nd.waitall()
        predict = (time.perf_counter() - start) / (len(batches) - _WARMUP)
        others = _threads.other_programs_cores(sample, _threads.cpu_sample(),
                                               time.perf_counter() - began)
    return sum(times[_WARMUP:]) / (len(times) - _WARMUP), predict, others


def _minutes(seconds):
    return '%.1f 分钟' % (seconds / 60) if seconds >= 60 else '%.0f 秒' % seconds


def plan_training(net, train_iter, test_iter, s, ctx=None, full_plan=None,
                  test_passes=None):
    """Measure, announce and return the :class:`TrainingPlan` of settings ``s``
    (a ``TrainSettings``) for the initialized ``net`` on ``ctx`` (one device or
    the first of a list). ``full_plan``: keep the full plan on a slow machine
    (None: the ``D2L_FULL_PLAN`` environment variable). ``test_passes``: how
    many times training tests on the whole test set (None: after every epoch,
    as ``train_ch5``; ``timeline.accuracy_timeline`` tests at its checkpoints)."""
    ctx = devices(ctx)[0]
    if full_plan is None:
        full_plan = settings.full_plan_forced()
    check_bool('full_plan', full_plan)
    if test_passes is not None:
        check_int('test_passes', test_passes, 1, 100)
    num_batches, test_batches = len(train_iter), len(test_iter)
    if num_batches == 0 or test_batches == 0:
        raise ValueError('数据迭代器是空的，无法制定训练计划；请检查数据集和批量大小'
                         '（例如 subset 不能小于 batch_size）。')
    full_steps = s.num_steps if s.num_steps else s.num_epochs * num_batches
    check_int('训练步数', full_steps, 1)
    batch_size = s.batch_size
    # Test batches have the training batches' shape and preprocessing, and
    # reading them moves no random state: the training order stays the seed's.
    start = time.perf_counter()
    batches = list(itertools.islice(itertools.cycle(test_iter), _WARMUP + _TIMED))
    load_s = (time.perf_counter() - start) / len(batches)  # reading a batch: small nets notice
    step_s, predict_s, others = _measure(net, batches, s, ctx)
    step_s, predict_s = step_s + load_s, predict_s + load_s

    def seconds(steps):  # training plus its test passes
        passes = test_passes or math.ceil(steps / num_batches)
        return steps * step_s + passes * test_batches * predict_s

    num_steps, expected = full_steps, seconds(full_steps)
    budget = s.budget_minutes * 60 if s.budget_minutes else None
    too_long = bool(budget) and expected > SHRINK_ABOVE * budget
    if too_long and not full_plan:
        while num_steps > 1 and seconds(num_steps) > budget:
            num_steps = max(1, int(num_steps * budget / seconds(num_steps)))
        expected = seconds(num_steps)
    plan = TrainingPlan(num_steps=num_steps, batch_size=batch_size, full_steps=full_steps,
                        images_per_second=batch_size / step_s, seconds=expected,
                        time_limit=(max(OVERRUN * expected, expected + SLACK)
                                    if budget and not full_plan else None),
                        other_cores=others, kept_full=too_long and full_plan,
                        budget_minutes=s.budget_minutes, test_passes=test_passes)
    print(describe_plan(plan, num_batches, seconds(full_steps)))
    return plan


def describe_plan(plan, num_batches, full_seconds):
    """The plan in Chinese: one line, two when it was shrunk."""
    tests = ('每个迭代周期末' if plan.test_passes is None
             else '训练中 %d 次' % plan.test_passes)
    line = ('训练计划：%d 步 × 批量 %d = %s 张图像（约 %.1f 个迭代周期）；本机实测每秒训练 %s 张'
            '图像，预计 %s（含%s在测试集上的评估）。'
            % (plan.num_steps, plan.batch_size, format(plan.num_images, ','),
               plan.num_steps / num_batches, format(round(plan.images_per_second), ','),
               _minutes(plan.seconds), tests))
    if plan.shrunk:
        line += ('\n这台机器较慢：完整计划（%d 步）预计要 %s，所以缩短到约 %s，测试准确率会比完整计划'
                 '低。要按完整计划训练，调用 plan_training(..., full_plan=True)，或者设置环境变量 '
                 'D2L_FULL_PLAN=1。' % (plan.full_steps, _minutes(full_seconds),
                                      _minutes(plan.seconds)))
    if plan.kept_full:
        line += ('\n按完整计划训练（full_plan=True 或 D2L_FULL_PLAN=1）：预计超过 %.0f 分钟，'
                 '但不缩短，也不限时。' % (SHRINK_ABOVE * plan.budget_minutes))
    threads = settings.omp_threads()[0] or 1
    if plan.other_cores is not None and plan.other_cores >= SHARED_CPU and threads > 1:
        line += ('\n测量时别的程序占用了约 %.1f 个 CPU 核。MXNet 用 %d 个线程训练，一个线程被挤占时'
                 '其余的线程都要等它，可能比只用 1 个线程还慢（benchmarks/README.md 里实测慢 1.7 倍）。'
                 '训练慢的话，关掉占用 CPU 的程序；或者退出 JupyterLab，用 OMP_NUM_THREADS=1 make lab '
                 '重新启动。' % (plan.other_cores, threads))
    return line
