"""d2lhelpers.explorers.resnet: the residual block explorer and the experiment helpers, without a UI."""
import matplotlib
matplotlib.use('Agg')

import d2lhelpers  # noqa: F401  (sets OMP_NUM_THREADS before mxnet loads)

import ipywidgets as widgets
import mxnet as mx
import numpy as np
import pytest
from matplotlib.figure import Figure
from mxnet import gluon, init, nd
from mxnet.gluon import nn

from d2lhelpers.explorers.resnet import (NEEDS_1X1, STEPS, conv_grad_norms,
                                         depth_figure, draw_v1_vs_v2,
                                         plot_grad_norms, plot_losses,
                                         residual_explorer, residual_steps,
                                         residual_v2_paths, train_losses)
from d2lhelpers.models import (PlainBlock, Residual, ResidualV2, deep_cnn)
from d2lhelpers.shapes import param_count
from d2lhelpers.widgets import Explorer


def conv_params(c_in, c_out, k):
    return c_in * c_out * k * k + c_out


# ------------------------------------------------------------ the explorer
def test_the_notes_examples():
    table, sentence = residual_explorer(3, False, 1, 3, 6, draw=False)
    assert list(table.index) == list(STEPS)
    assert set(table['output shape']) == {(4, 3, 6, 6)}
    assert table.loc['shortcut', 'layer'] == 'identity'
    assert 'the identity' in sentence

    table, sentence = residual_explorer(6, True, 2, 3, 6, draw=False)
    assert table.loc['X (input)', 'output shape'] == (4, 3, 6, 6)
    assert table.loc['block', 'output shape'] == (4, 6, 3, 3)
    assert table.loc['shortcut', 'output shape'] == (4, 6, 3, 3)
    assert table.loc['shortcut', 'params'] == conv_params(3, 6, 1)
    assert table.loc['conv1', 'params'] == conv_params(3, 6, 3)
    assert table.loc['conv2', 'params'] == conv_params(6, 6, 3)
    assert table.loc['bn1', 'params'] == table.loc['bn2', 'params'] == 12
    assert '(4, 3, 6, 6) to (4, 6, 3, 3)' in sentence
    assert '546 parameters' in sentence


@pytest.mark.parametrize('num_channels, use_1x1conv, strides, in_channels, size', [
    (3, False, 1, 3, 6), (6, True, 2, 3, 6), (5, True, 1, 2, 7),
    (4, True, 3, 4, 7), (2, False, 2, 2, 1), (8, True, 2, 1, 9)])
def test_table_matches_a_real_block(num_channels, use_1x1conv, strides,
                                    in_channels, size):
    blk = Residual(num_channels, use_1x1conv=use_1x1conv, strides=strides)
    blk.initialize()
    Y = blk(nd.zeros((4, in_channels, size, size)))
    table, _ = residual_explorer(num_channels, use_1x1conv, strides,
                                 in_channels, size, draw=False)
    assert table.loc['block', 'output shape'] == Y.shape
    assert table['params'].sum() == param_count(blk)


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
    assert NEEDS_1X1 in message
    assert '1×1 convolution is needed to change the shape of the shortcut' in message
    assert 'Traceback' not in message and 'MXNetError' not in message


def test_odd_sizes_and_size_one_still_add():
    # stride 2 keeps a 1x1 input at 1x1, so the identity shortcut is fine
    table, _ = residual_explorer(3, False, 2, 3, 1, draw=False)
    assert table.loc['block', 'output shape'] == (4, 3, 1, 1)
    # the 1x1 convolution and the 3x3 one round odd sizes the same way
    table, _ = residual_explorer(4, True, 2, 3, 7, draw=False)
    assert table.loc['block', 'output shape'] == (4, 4, 4, 4)


@pytest.mark.parametrize('kwargs', [dict(num_channels=0), dict(strides=0),
                                    dict(in_channels=-1), dict(size=0),
                                    dict(size=2.5), dict(num_channels=True)])
def test_bad_values_are_sentences(kwargs):
    with pytest.raises(ValueError, match='whole number'):
        residual_explorer(**kwargs)


def test_diagram_follows_the_block():
    _, _, fig = residual_explorer(6, True, 2, 3, 6)
    assert isinstance(fig, Figure)
    texts = [t.get_text().replace('\n', ' ') for ax in fig.axes for t in ax.texts]
    assert 'Conv2D 1×1, 6, stride 2' in texts
    _, _, fig = residual_explorer(3, False, 1, 3, 6)
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert not any('1×1' in t for t in texts)


def test_residual_steps_wants_a_residual_block():
    with pytest.raises(ValueError, match='not a residual block'):
        residual_steps(nn.Dense(3), nd.zeros((1, 3)))


def test_in_an_explorer_the_error_is_a_message_and_it_recovers():
    ex = Explorer(residual_explorer,
                  num_channels=widgets.IntSlider(value=6, min=1, max=64),
                  use_1x1conv=widgets.Checkbox(value=True),
                  strides=widgets.IntSlider(value=2, min=1, max=4),
                  in_channels=widgets.IntSlider(value=3, min=1, max=64),
                  size=widgets.IntSlider(value=6, min=1, max=32))
    assert ex.error is None
    assert ex.result[0].loc['block', 'output shape'] == (4, 6, 3, 3)
    ex.controls['use_1x1conv'].value = False
    assert ex.result is None and NEEDS_1X1 in ex.error
    ex.set(num_channels=3, strides=1)
    assert ex.error is None
    assert ex.result[0].loc['block', 'output shape'] == (4, 3, 6, 6)


def test_first_render_is_deterministic():
    a, b = residual_explorer(), residual_explorer()
    assert a[0].equals(b[0]) and a[1] == b[1]
    assert repr(a[2]) == repr(b[2])


# --------------------------------------------------------------- ResNet v2
def test_v2_diagram():
    spec = residual_v2_paths(ResidualV2(6, use_1x1conv=True, strides=2))
    main, shortcut = spec['paths']
    assert main[0] == 'BatchNorm' and main[-1] == 'Conv2D 3×3, 6'
    assert shortcut == ['Conv2D 1×1, 6, stride 2']
    assert spec['merge'] == '+' and not spec.get('after')
    assert residual_v2_paths(ResidualV2(3))['paths'][1] == []
    fig = draw_v1_vs_v2(Residual(3), ResidualV2(3))
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    with pytest.raises(ValueError, match='not a ResidualV2'):
        residual_v2_paths(nn.Dense(3))


# ---------------------------------------------------- experiment helpers
def small_net(block, num_blocks=3):
    mx.random.seed(0)
    net = deep_cnn(block, num_blocks, num_channels=4)
    net.initialize(init.Xavier())
    return net


def batch(n=8, seed=0):
    rng = np.random.RandomState(seed)
    return (nd.array(rng.uniform(size=(n, 1, 12, 12))),
            nd.array(rng.randint(0, 10, size=n)))


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


def test_conv_grad_norms_one_per_conv_in_forward_order():
    net = small_net(Residual)
    X, y = batch()
    norms = conv_grad_norms(net, X, y)
    assert list(norms.index) == list(range(1, 1 + 1 + 2 * 3))
    assert (norms > 0).all()
    # the first entry is the stem convolution's gradient
    stem = net[0].weight.grad().norm().asscalar()
    assert norms.iloc[0] == pytest.approx(stem)
    last = net[-3].conv2.weight.grad().norm().asscalar()  # last block
    assert norms.iloc[-1] == pytest.approx(last)


def test_conv_grad_norms_do_not_change_the_weights():
    net = small_net(PlainBlock)
    X, y = batch()
    net(X)  # shapes are known after one forward pass
    before = net[0].weight.data().copy()
    conv_grad_norms(net, X, y)
    assert np.array_equal(before.asnumpy(), net[0].weight.data().asnumpy())


def test_conv_grad_norms_needs_a_conv():
    net = nn.Sequential()
    net.add(nn.Dense(10))
    net.initialize()
    with pytest.raises(ValueError, match='no Conv2D'):
        conv_grad_norms(net, nd.zeros((2, 3)), nd.zeros((2,)))


def test_train_losses_learns_a_fixed_batch_and_stops():
    net = small_net(Residual, num_blocks=1)
    trainer = gluon.Trainer(net.collect_params(), 'sgd', {'learning_rate': 0.1})
    batches = [batch()] * 30
    losses = train_losses(net, batches, trainer)
    assert len(losses) == 30 and all(np.isfinite(losses))
    assert np.mean(losses[-5:]) < np.mean(losses[:5])
    assert len(train_losses(net, batches, trainer, num_epochs=2, max_steps=7)) == 7
    assert len(train_losses(net, batches[:3], trainer, num_epochs=2)) == 6


def test_plots_are_figures():
    norms = {'plain (init)': [3.0, 2.0, 1.0], 'plain (after 5 steps)': [1, 1, 1],
             'residual (init)': [1.0, 1.0, 1.0]}
    fig = plot_grad_norms(norms)
    assert isinstance(fig, Figure)
    lines = fig.axes[0].get_lines()
    assert lines[0].get_color() == lines[1].get_color() != lines[2].get_color()
    assert lines[0].get_linestyle() == '-' and lines[1].get_linestyle() == '--'
    assert isinstance(plot_losses({'a': list(np.linspace(2, 1, 20)), 'b': [2.0]}),
                      Figure)
    assert plot_losses({'a': [3.0, 1.0]}, logy=True).axes[0].get_yscale() == 'log'
    fig = depth_figure(norms, {'plain': [2.3] * 10, 'residual': [2.0] * 10})
    assert len(fig.axes) == 2
