"""d2lhelpers.explorers.resnet: the residual block explorer, without a UI."""
import matplotlib
matplotlib.use('Agg')

import d2lhelpers  # noqa: F401  (sets OMP_NUM_THREADS before mxnet loads)

import ipywidgets as widgets
import numpy as np
import pytest
from matplotlib.figure import Figure
from mxnet import nd
from mxnet.gluon import nn

from d2lhelpers.explorers.resnet import (NEEDS_1X1, STEPS, residual_explorer,
                                         residual_steps)
from d2lhelpers.models import PlainBlock, Residual
from d2lhelpers.shapes import param_count
from d2lhelpers.widgets import Explorer


def conv_params(c_in, c_out, k):
    return c_in * c_out * k * k + c_out


# ------------------------------------------------------------ the explorer
def test_the_notes_examples():
    result = residual_explorer(3, False, 1, 3, 6, draw=False)
    table = result.table
    assert list(table.index) == list(STEPS) and result.diagram is None
    assert list(table.columns) == ['层', '输出形状', '参数数量']
    assert set(table['输出形状']) == {(4, 3, 6, 6)}
    assert table.loc['跨层连接', '层'] == '恒等映射'
    assert result.text.endswith('跨层连接是恒等映射。')

    result = residual_explorer(6, True, 2, 3, 6, draw=False)
    table = result.table
    assert table.loc['输入', '输出形状'] == (4, 3, 6, 6)
    assert table.loc['块的输出', '输出形状'] == (4, 6, 3, 3)
    assert table.loc['跨层连接', '输出形状'] == (4, 6, 3, 3)
    assert table.loc['跨层连接', '参数数量'] == conv_params(3, 6, 1)
    assert table.loc['conv1', '参数数量'] == conv_params(3, 6, 3)
    assert table.loc['conv2', '参数数量'] == conv_params(6, 6, 3)
    assert table.loc['bn1', '参数数量'] == table.loc['bn2', '参数数量'] == 12
    assert result.text == ('Residual(6, use_1x1conv=True, strides=2) 把 (4, 3, 6, 6) 变成 '
                           '(4, 6, 3, 3)，有 546 个参数；跨层连接是一个 1×1 卷积。')


@pytest.mark.parametrize('num_channels, use_1x1conv, strides, in_channels, size', [
    (3, False, 1, 3, 6), (6, True, 2, 3, 6), (5, True, 1, 2, 7),
    (4, True, 3, 4, 7), (2, False, 2, 2, 1), (8, True, 2, 1, 9)])
def test_table_matches_a_real_block(num_channels, use_1x1conv, strides,
                                    in_channels, size):
    blk = Residual(num_channels, use_1x1conv=use_1x1conv, strides=strides)
    blk.initialize()
    Y = blk(nd.zeros((4, in_channels, size, size)))
    table = residual_explorer(num_channels, use_1x1conv, strides,
                              in_channels, size, draw=False).table
    assert table.loc['块的输出', '输出形状'] == Y.shape
    assert table['参数数量'].sum() == param_count(blk)


@pytest.mark.parametrize('num_channels, strides, in_channels, size', [
    (6, 1, 3, 6),   # more channels
    (3, 2, 3, 6),   # halved height and width
    (1, 1, 3, 6),   # broadcasting would add these silently
    (3, 2, 3, 2),   # 1x1 main path against 2x2 input: broadcasting again
])
def test_shape_changes_without_1x1_conv_explain_themselves(num_channels, strides,
                                                           in_channels, size):
    with pytest.raises(ValueError) as err:
        residual_explorer(num_channels, False, strides, in_channels, size)
    message = str(err.value)
    assert message.startswith('主路径输出 ') and NEEDS_1X1 in message
    assert '需要引入一个额外的1×1卷积层' in message
    assert 'Traceback' not in message and 'MXNetError' not in message


def test_odd_sizes_and_size_one_still_add():
    # stride 2 keeps a 1x1 input at 1x1, so the identity shortcut is fine
    table = residual_explorer(3, False, 2, 3, 1, draw=False).table
    assert table.loc['块的输出', '输出形状'] == (4, 3, 1, 1)
    # the 1x1 convolution and the 3x3 one round odd sizes the same way
    table = residual_explorer(4, True, 2, 3, 7, draw=False).table
    assert table.loc['块的输出', '输出形状'] == (4, 4, 4, 4)


@pytest.mark.parametrize('kwargs, words', [
    (dict(num_channels=0), 'num_channels 应在 1 到 256 之间，收到的是 0'),
    (dict(strides=0), 'strides 应在 1 到 8 之间'),
    (dict(in_channels=-1), 'in_channels 应在 1 到 256 之间'),
    (dict(size=0), 'size 应在 1 到 64 之间'),
    (dict(size=2.5), 'size 应是整数'),
    (dict(num_channels=True), 'num_channels 应是整数'),
    # issue 17: 8.2 GB and 31 s before failing
    (dict(num_channels=15000), 'num_channels 应在 1 到 256 之间，收到的是 15000'),
    (dict(batch_size=10 ** 6), 'batch_size 应在 1 到 16 之间'),
    # issue 17: the string 'False' was treated as True
    (dict(use_1x1conv='False'), "use_1x1conv 应是 True 或 False，收到的是 'False'"),
])
def test_bad_values_are_sentences(kwargs, words):
    with pytest.raises(ValueError, match=words):
        residual_explorer(**kwargs)


def test_numpy_values_are_accepted():
    result = residual_explorer(np.int64(6), np.bool_(True), np.int32(2), draw=False)
    assert result.table.loc['块的输出', '输出形状'] == (4, 6, 3, 3)


def test_diagram_follows_the_block():
    fig = residual_explorer(6, True, 2, 3, 6).diagram
    assert isinstance(fig, Figure) and fig.axes[0].get_title() == '残差块'
    texts = [t.get_text().replace('\n', ' ') for ax in fig.axes for t in ax.texts]
    assert 'Conv2D 1×1, 6, 步幅 2' in texts
    fig = residual_explorer(3, False, 1, 3, 6).diagram
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert not any('1×1' in t for t in texts)


def test_residual_steps_wants_a_residual_block():
    with pytest.raises(ValueError, match='不是残差块'):
        residual_steps(nn.Dense(3), nd.zeros((1, 3)))


def test_in_an_explorer_the_error_is_a_message_and_it_recovers():
    ex = Explorer(residual_explorer,
                  num_channels=widgets.IntSlider(value=6, min=1, max=64),
                  use_1x1conv=widgets.Checkbox(value=True),
                  strides=widgets.IntSlider(value=2, min=1, max=4),
                  in_channels=widgets.IntSlider(value=3, min=1, max=64),
                  size=widgets.IntSlider(value=6, min=1, max=32))
    assert ex.error is None
    assert ex.result.table.loc['块的输出', '输出形状'] == (4, 6, 3, 3)
    ex.controls['use_1x1conv'].value = False
    assert ex.result is None and NEEDS_1X1 in ex.error
    ex.set(num_channels=3, strides=1)
    assert ex.error is None
    assert ex.result.table.loc['块的输出', '输出形状'] == (4, 3, 6, 6)


def test_first_render_is_deterministic():
    a, b = residual_explorer(), residual_explorer()
    assert a.table.equals(b.table) and a.text == b.text
    assert repr(a) == repr(b)


# ---------------------------------------------------- the plain block
def test_plain_block_is_residual_without_the_shortcut():
    X = nd.random.uniform(shape=(2, 3, 5, 5))
    plain, res = PlainBlock(3), Residual(3)
    for blk in (plain, res):
        blk.initialize()
        blk(X)
    for (_, p), (_, q) in zip(sorted(plain.collect_params().items()),
                              sorted(res.collect_params().items())):
        q.set_data(p.data())
    Y = nd.relu(plain.bn2(plain.conv2(nd.relu(plain.bn1(plain.conv1(X))))))
    assert np.allclose(plain(X).asnumpy(), Y.asnumpy())
    assert np.allclose(res(X).asnumpy(), nd.relu(plain.bn2(plain.conv2(
        nd.relu(plain.bn1(plain.conv1(X))))) + X).asnumpy(), atol=1e-6)
    assert param_count(plain) == param_count(res)
