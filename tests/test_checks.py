import numpy as np
import pytest

from d2lhelpers import checks


def test_check_int_accepts_python_and_numpy_integers():
    assert checks.check_int('c1', 64, 1) == 64
    value = checks.check_int('c1', np.int64(64), 1, 512)
    assert value == 64 and type(value) is int


@pytest.mark.parametrize('value', [2.5, 2.0, '2', None, True, np.float32(3)])
def test_check_int_refuses_non_integers(value):
    with pytest.raises(ValueError, match='num_epochs 应是整数.*请传入一个整数'):
        checks.check_int('num_epochs', value, 1)


@pytest.mark.parametrize('value', [0, -1, 513])
def test_check_int_bounds_say_the_range(value):
    with pytest.raises(ValueError, match='batch_size 应在 1 到 512 之间，收到的是 %d' % value):
        checks.check_int('batch_size', value, 1, 512)


def test_check_int_why_replaces_the_advice():
    with pytest.raises(ValueError, match='每个卷积至少要一个通道'):
        checks.check_int('c1', 0, 1, why='每个卷积至少要一个通道。')


@pytest.mark.parametrize('value, words', [
    (float('nan'), '有限的数'), (float('inf'), '有限的数'), ('0.1', '应是一个数'),
    (-0.5, '不小于 0')])
def test_check_number(value, words):
    with pytest.raises(ValueError, match=words):
        checks.check_number('lr', value, minimum=0)
    assert checks.check_number('lr', np.float32(0.5)) == 0.5


def test_check_bool_refuses_strings():
    assert checks.check_bool('use_1x1conv', np.bool_(True)) is True
    with pytest.raises(ValueError, match="字符串 'False' 不是布尔值"):
        checks.check_bool('use_1x1conv', 'False')


def test_check_choice():
    assert checks.check_choice('progress', 'off', ('text', 'off')) == 'off'
    with pytest.raises(ValueError, match="progress 应是 'text'、'off' 之一"):
        checks.check_choice('progress', 'html', ('text', 'off'))


def test_check_elements_refuses_past_int32_indexing():
    assert checks.check_elements('X', (2, 3)) == 6
    with pytest.raises(ValueError, match='超过了 MXNet 单个张量的上限'):
        checks.check_elements('X', (100000, 1, 224, 224))
