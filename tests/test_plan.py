"""The training plan: measured, announced, shrunk on a slow machine, kept on
request, followed step by step by train_ch5, stopped at its time limit, and
reproducible from its seeds."""
import dataclasses
import math

import mxnet as mx
import numpy as np
import pytest
from mxnet import gluon, init
from mxnet.gluon import nn

from d2lhelpers import plan as plan_module, settings, train
from d2lhelpers.data import load_data_fashion_mnist
from d2lhelpers.plan import plan_training


def small_net():
    net = nn.Sequential()
    net.add(nn.Conv2D(8, kernel_size=3), nn.BatchNorm(), nn.Activation('relu'),
            nn.MaxPool2D(pool_size=2, strides=2),
            nn.Dense(64, activation='relu'), nn.Dense(10))
    return net


def quick_like(**changes):
    """A quick-style plan small enough for a test: 640 images in batches of 64."""
    values = dict(section='resnet', mode='quick', lr=0.1, batch_size=64, momentum=0.9,
                  schedule='cosine', warmup_steps=3, train_images=640, budget_minutes=2,
                  train_subset=256, test_subset=128)
    values.update(changes)
    return settings.TrainSettings(**values)


def setup(s, seed=None):
    seed = s.seed if seed is None else seed
    mx.random.seed(seed)
    np.random.seed(seed)
    train_iter, test_iter = load_data_fashion_mnist(**dict(s.data_args, seed=seed))
    net = small_net()
    net.initialize(init=init.Xavier(), ctx=mx.cpu())
    net(next(iter(test_iter))[0])  # finish deferred initialization
    return net, train_iter, test_iter


def slow_machine(monkeypatch, step_seconds, other_cores=0.0):
    monkeypatch.setattr(plan_module, '_measure',
                        lambda *args: (step_seconds, step_seconds / 3, other_cores))


def test_plan_counts_images_and_announces_itself(monkeypatch, capsys):
    # Other programs on this machine add a line of advice (tested below), not this test's concern.
    monkeypatch.setattr(plan_module._threads, 'other_programs_cores', lambda *args: 0.0)
    s = quick_like()
    net, train_iter, test_iter = setup(s)
    before = {k: p.data().copy() for k, p in net.collect_params().items()}
    plan = plan_training(net, train_iter, test_iter, s, mx.cpu())
    assert plan.num_steps == plan.full_steps == math.ceil(640 / 64) and not plan.shrunk
    assert plan.images_per_second > 0 and plan.seconds > 0
    line = capsys.readouterr().out
    assert line.startswith('训练计划：10 步 × 批量 64 = 640 张图像（约 2.5 个迭代周期）')
    assert '本机实测每秒训练' in line and '预计' in line and '\n' not in line.strip()
    # Measuring trained nothing: weights and BatchNorm statistics are as before.
    for k, p in net.collect_params().items():
        assert np.array_equal(p.data().asnumpy(), before[k].asnumpy()), k


def test_slow_machine_shrinks_to_the_budget_and_says_so(monkeypatch, capsys):
    s = quick_like(train_images=64 * 1000)
    net, train_iter, test_iter = setup(s)
    slow_machine(monkeypatch, 0.5)  # 1000 steps: about 8.5 minutes here
    plan = plan_training(net, train_iter, test_iter, s, mx.cpu(), full_plan=False)
    assert plan.shrunk and plan.full_steps == 1000
    assert plan.seconds <= 120 and plan.seconds > 100  # fits two minutes, not much less
    assert plan.time_limit == pytest.approx(plan_module.OVERRUN * plan.seconds)
    out = capsys.readouterr().out
    assert '这台机器较慢：完整计划（1000 步）预计要' in out and 'full_plan=True' in out


def test_test_passes_are_counted_and_said(monkeypatch, capsys):
    """Six test passes (accuracy_timeline's checkpoints) instead of one per
    epoch: the estimate counts six and the line says so."""
    s = quick_like(train_images=64 * 40)  # 40 steps: 10 epochs of 4 batches
    net, train_iter, test_iter = setup(s)
    slow_machine(monkeypatch, 0.3)  # a test batch: 0.1 s
    per_epoch = plan_training(net, train_iter, test_iter, s, mx.cpu())
    six = plan_training(net, train_iter, test_iter, s, mx.cpu(), test_passes=6)
    tests = len(test_iter) * 0.1
    assert six.test_passes == 6 and per_epoch.test_passes is None
    # Reading the batches adds the same small time to every step and test batch.
    assert per_epoch.seconds - six.seconds == pytest.approx((10 - 6) * tests, rel=0.2)
    lines = capsys.readouterr().out.splitlines()
    assert '含每个迭代周期末在测试集上的评估' in lines[0]
    assert '含训练中 6 次在测试集上的评估' in lines[1]
    with pytest.raises(ValueError, match='test_passes'):
        plan_training(net, train_iter, test_iter, s, mx.cpu(), test_passes=0)


def test_a_plan_within_one_and_a_half_budgets_is_kept(monkeypatch):
    s = quick_like(train_images=64 * 200)
    net, train_iter, test_iter = setup(s)
    slow_machine(monkeypatch, 0.7)  # 200 steps: about 2.5 minutes, under 3
    assert not plan_training(net, train_iter, test_iter, s, mx.cpu(), full_plan=False).shrunk


@pytest.mark.parametrize('how', ['argument', 'environment'])
def test_full_plan_switch_keeps_every_step(monkeypatch, capsys, how):
    s = quick_like(train_images=64 * 1000)
    net, train_iter, test_iter = setup(s)
    slow_machine(monkeypatch, 0.5)
    if how == 'environment':
        monkeypatch.setenv('D2L_FULL_PLAN', '1')
        plan = plan_training(net, train_iter, test_iter, s, mx.cpu())
    else:
        plan = plan_training(net, train_iter, test_iter, s, mx.cpu(), full_plan=True)
    assert plan.num_steps == 1000 and plan.time_limit is None and plan.kept_full
    assert '按完整计划训练（full_plan=True 或 D2L_FULL_PLAN=1）：预计超过 3 分钟，但不缩短，也不限时' \
        in capsys.readouterr().out


def test_no_budget_no_shrinking(monkeypatch):
    s = quick_like(train_images=64 * 1000, budget_minutes=None)  # as on a GPU (book)
    net, train_iter, test_iter = setup(s)
    slow_machine(monkeypatch, 0.5)
    assert plan_training(net, train_iter, test_iter, s, mx.cpu()).num_steps == 1000


def test_a_net_not_yet_run_is_planned_and_initialized_as_training_would():
    s = quick_like()
    net, train_iter, test_iter = setup(s)
    fresh = small_net()
    mx.random.seed(0)
    fresh.initialize(init=init.Xavier(), ctx=mx.cpu())  # shapes unknown: deferred
    plan = plan_training(fresh, train_iter, test_iter, s, mx.cpu())
    assert plan.num_steps == 10
    assert fresh[0].weight.data().shape == (8, 1, 3, 3)


def test_bad_full_plan_value_is_a_sentence():
    s = quick_like()
    net, train_iter, test_iter = setup(s)
    with pytest.raises(ValueError, match='full_plan'):
        plan_training(net, train_iter, test_iter, s, mx.cpu(), full_plan='yes')


def train_with_plan(s, seed=None):
    net, train_iter, test_iter = setup(s, seed)
    plan = plan_training(net, train_iter, test_iter, s, mx.cpu())
    trainer = gluon.Trainer(net.collect_params(), s.optimizer,
                            dict(s.optimizer_params, lr_scheduler=s.lr_scheduler(plan.num_steps)))
    history = train.train_ch5(net, train_iter, test_iter, s.batch_size, trainer, mx.cpu(),
                              plan=plan, progress='off')
    return history, trainer


def test_train_ch5_follows_the_plan_to_the_last_step():
    s = quick_like()  # 10 steps of 4 batches an epoch: 4 + 4 + 2
    history, trainer = train_with_plan(s)
    assert [h['steps'] for h in history] == [4, 8, 10]
    # The cosine schedule ends at 0 exactly on the plan's last step.
    assert trainer.learning_rate == pytest.approx(0, abs=1e-12)


def test_two_seeded_runs_give_identical_losses():
    s = quick_like()
    first, _ = train_with_plan(s)
    second, _ = train_with_plan(s)
    assert [h['loss'] for h in first] == [h['loss'] for h in second]
    assert [h['test_acc'] for h in first] == [h['test_acc'] for h in second]
    # ... and the seed matters: another seed gives other losses.
    other, _ = train_with_plan(s, seed=1)
    assert [h['loss'] for h in other] != [h['loss'] for h in first]


def test_training_stops_at_the_time_limit_with_a_sentence(monkeypatch, capsys):
    s = quick_like(train_images=64 * 40)
    net, train_iter, test_iter = setup(s)
    plan = plan_training(net, train_iter, test_iter, s, mx.cpu())
    plan = dataclasses.replace(plan, time_limit=100.0)
    clock = [0.0]

    def later():  # every reading of the clock is 9 s later: 100 s are over at step 11 or so
        clock[0] += 9
        return clock[0]
    monkeypatch.setattr(train.time, 'time', later)
    trainer = gluon.Trainer(net.collect_params(), 'sgd', {'learning_rate': 0.05})
    history = train.train_ch5(net, train_iter, test_iter, 64, trainer, mx.cpu(),
                              plan=plan, progress='off', check_every=1)
    steps = history[-1]['steps']
    assert 1 <= steps < 40
    out = capsys.readouterr().out
    assert '超过了计划时间的 1.2 倍' in out and '在第 %d/40 步提前停止' % steps in out


def test_quick_plans_fit_two_minutes_on_the_reference_machine():
    # benchmarks/README.md: images per second of our loop on the 2-core
    # AVX-512 reference machine at the input each plan uses (GoogLeNet and
    # DenseNet scaled from their measured sizes by multiply-adds).
    reference = {'googlenet': 1478 * 28.77 / 59.18, 'batchnorm': 2058,
                 'resnet': 1230, 'densenet': 938 * 32.03 / 14.34}
    for section, rate in reference.items():
        s = settings.training_settings(section, 'quick')
        assert s.num_steps * s.batch_size / rate <= 2 * 60 * 1.02, section


def test_a_shared_cpu_is_noticed_and_the_learner_told_what_to_do(monkeypatch, capsys):
    s = quick_like()
    net, train_iter, test_iter = setup(s)
    monkeypatch.setenv('OMP_NUM_THREADS', '2')
    slow_machine(monkeypatch, 0.01, other_cores=1.0)
    assert plan_training(net, train_iter, test_iter, s, mx.cpu()).other_cores == 1.0
    out = capsys.readouterr().out
    assert '别的程序占用了约 1.0 个 CPU 核' in out and 'OMP_NUM_THREADS=1 make lab' in out
    slow_machine(monkeypatch, 0.01, other_cores=0.1)  # a browser idling beside the kernel
    plan_training(net, train_iter, test_iter, s, mx.cpu())
    assert '别的程序' not in capsys.readouterr().out
    monkeypatch.setenv('OMP_NUM_THREADS', '1')  # one thread already: nothing to advise
    slow_machine(monkeypatch, 0.01, other_cores=1.0)
    plan_training(net, train_iter, test_iter, s, mx.cpu())
    assert '别的程序' not in capsys.readouterr().out


def test_other_programs_cores_subtracts_our_own_cpu_time():
    from d2lhelpers import _threads
    # The machine was busy 3 s in 2 s of wall time, 1 s of it ours: others 1 core.
    assert _threads.other_programs_cores((10.0, 5.0), (13.0, 6.0), 2.0) == 1.0
    assert _threads.other_programs_cores(None, (13.0, 6.0), 2.0) is None
    sample = _threads.cpu_sample()
    assert sample is None or (sample[0] > 0 and sample[1] >= 0)
