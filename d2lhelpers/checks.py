"""The one argument validator: every public function checks its arguments here.

Each check returns the value as a plain Python type (numpy integers become
``int``) or raises ``ValueError`` with one Chinese sentence for the learner:
what was wrong and what to do. Argument names stay as the code spells them.
"""
import math
import numbers

__all__ = ['check_int', 'check_number', 'check_bool', 'check_choice',
           'check_elements', 'MAX_ELEMENTS']

# MXNet 1.9.1's pip wheel indexes tensors with 32-bit integers: a tensor of
# 2^31 elements or more fails deep inside with advice to rebuild MXNet.
MAX_ELEMENTS = 2 ** 31 - 1


def _range_text(minimum, maximum):
    if minimum is not None and maximum is not None:
        return '%s 到 %s 之间' % (minimum, maximum)
    if minimum is not None:
        return '不小于 %s' % (minimum,)
    if maximum is not None:
        return '不大于 %s' % (maximum,)
    return ''


def _out_of_range(name, value, minimum, maximum, why):
    raise ValueError('%s 应在 %s，收到的是 %s；%s' % (
        name, _range_text(minimum, maximum), value,
        why or '请改成这个范围内的值。'))


def check_int(name, value, minimum=None, maximum=None, why=None):
    """``value`` as an ``int`` in ``[minimum, maximum]`` (either bound optional);
    bool, floats (even ``2.0``), strings and None refused. ``why`` replaces
    the generic advice."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError('%s 应是整数%s，收到的是 %r（%s）；请传入一个整数。' % (
            name, ('（' + _range_text(minimum, maximum) + '）')
            if (minimum, maximum) != (None, None) else '',
            value, type(value).__name__))
    value = int(value)
    if (minimum is not None and value < minimum) or \
            (maximum is not None and value > maximum):
        _out_of_range(name, value, minimum, maximum, why)
    return value


def check_number(name, value, minimum=None, maximum=None, why=None):
    """``value`` as a finite ``float`` in ``[minimum, maximum]``; NaN and inf refused."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError('%s 应是一个数，收到的是 %r（%s）；请传入一个数，例如 0.1。'
                         % (name, value, type(value).__name__))
    value = float(value)
    if not math.isfinite(value):
        raise ValueError('%s 应是有限的数，收到的是 %s；请传入一个普通的数，例如 0.1。'
                         % (name, value))
    if (minimum is not None and value < minimum) or \
            (maximum is not None and value > maximum):
        _out_of_range(name, '%g' % value, minimum, maximum, why)
    return value


def check_bool(name, value):
    """``value`` as a ``bool``: True/False (numpy's too), never a string such as 'False'."""
    if isinstance(value, bool) or type(value).__name__ == 'bool_':
        return bool(value)
    raise ValueError('%s 应是 True 或 False，收到的是 %r（%s）；注意字符串 %r 不是布尔值。'
                     % (name, value, type(value).__name__, str(value)))


def check_choice(name, value, choices):
    """``value`` if it is one of ``choices``."""
    if value not in choices:
        raise ValueError('%s 应是 %s 之一，收到的是 %r。' % (
            name, '、'.join(repr(c) for c in choices), value))
    return value


def check_elements(what, shape, why=None):
    """Refuse a tensor ``shape`` of 2^31 elements or more before it is allocated."""
    n = math.prod(int(d) for d in shape)
    if n > MAX_ELEMENTS:
        raise ValueError('%s 的形状 %s 有 %s 个元素，超过了 MXNet 单个张量的上限 '
                         '2^31 - 1；%s' % (what, tuple(int(d) for d in shape),
                                           format(n, ','),
                                           why or '请减小批量大小、通道数或输入尺寸。'))
    return n
