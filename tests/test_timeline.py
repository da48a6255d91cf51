"""Accuracy against training time: checkpoints, the plan's steps, the time limit."""
import dataclasses

import mxnet as mx
import pytest
from mxnet import gluon

from d2lhelpers import timeline
from d2lhelpers.plan import TrainingPlan

from test_plan import quick_like, setup


def plan_of(steps, time_limit=None):
    return TrainingPlan(num_steps=steps, batch_size=64, full_steps=steps,
                        images_per_second=1.0, seconds=1.0, time_limit=time_limit)


def test_checkpoints_are_evenly_spaced_and_end_at_the_last_step():
    assert timeline._checkpoint_steps(12, 4) == [3, 6, 9, 12]
    assert timeline._checkpoint_steps(3, 6) == [1, 2, 3]  # no repeated step


def test_timeline_trains_the_plan_and_tests_at_each_checkpoint():
    s = quick_like()
    net, train_iter, test_iter = setup(s)
    trainer = gluon.Trainer(net.collect_params(), 'sgd',
                            dict(s.optimizer_params, lr_scheduler=s.lr_scheduler(10)))
    table = timeline.accuracy_timeline(net, train_iter, test_iter, trainer, plan_of(10),
                                       mx.cpu(), checkpoints=5)
    assert list(table.columns) == timeline.COLUMNS
    assert list(table['步数']) == [2, 4, 6, 8, 10]
    assert list(table['训练图像数']) == [128, 256, 384, 448 + 64, 640]
    assert table['训练时间（分钟）'].is_monotonic_increasing
    assert table['测试准确率'].between(0, 1).all()
    assert trainer.learning_rate == pytest.approx(0, abs=1e-12)  # the schedule ran to its end
    first = timeline.first_reaching(table, table['测试准确率'].max())
    assert first['测试准确率'] == table['测试准确率'].max()
    assert timeline.first_reaching(table, 1.01) is None


def test_timeline_stops_at_the_time_limit(monkeypatch, capsys):
    s = quick_like()
    net, train_iter, test_iter = setup(s)
    clock = [0.0]

    def later():
        clock[0] += 1
        return clock[0]
    monkeypatch.setattr(timeline.time, 'time', later)
    trainer = gluon.Trainer(net.collect_params(), 'sgd', {'learning_rate': 0.05})
    table = timeline.accuracy_timeline(net, train_iter, test_iter, trainer,
                                       plan_of(40, time_limit=3), mx.cpu(), checkpoints=2)
    stopped = table['步数'].iloc[-1]
    assert stopped < 40 and stopped % 10 == 0  # at a check, before the plan's end
    assert '在第 %d/40 步提前停止' % stopped in capsys.readouterr().out
