"""d2lhelpers.explorers.compare: training memory of the compared networks."""
import d2lhelpers  # noqa: F401  (sets OMP_NUM_THREADS before mxnet loads)

import ipywidgets as widgets
import pytest

from d2lhelpers import models
from d2lhelpers.cost import model_cost
from d2lhelpers.explorers.compare import smallest_common_input, training_memory
from d2lhelpers.widgets import Explorer


@pytest.fixture(scope='module')
def nets():
    return {'BN-LeNet': models.lenet_gluon_bn, 'DenseNet': models.densenet}


def test_scales_the_per_image_costs_to_the_batch(nets):
    sentence, table = training_memory(nets, input_size=48, batch_size=64)
    densenet = models.densenet()
    densenet.initialize()
    cost = model_cost(densenet, (1, 1, 48, 48))
    row = table.loc['DenseNet']
    assert row['params'] == cost['params']
    assert row['layer outputs per batch (MB)'] == round(cost['activation bytes'] * 64 / 1e6, 1)
    assert row['weights + gradients (MB)'] == round(8 * cost['params'] / 1e6, 1)
    assert sentence.startswith('At 48×48, batch 64: the layer outputs kept for the '
                               'backward pass range from ')
    assert sentence.endswith('MB (DenseNet).')
    # Twice the batch, twice the layer outputs; the weights do not change.
    _, double = training_memory(nets, input_size=48, batch_size=128)
    assert double.loc['DenseNet', 'layer outputs per batch (MB)'] == pytest.approx(
        2 * row['layer outputs per batch (MB)'], abs=0.11)
    assert double.loc['DenseNet', 'weights + gradients (MB)'] == row['weights + gradients (MB)']


def test_too_small_names_the_network_and_the_smallest_size(nets):
    assert smallest_common_input(nets) == 29  # DenseNet's limit (notebook 04)
    with pytest.raises(ValueError) as err:
        training_memory(nets, input_size=20)
    message = str(err.value)
    assert message.startswith('At 20×20 DenseNet cannot run (')
    assert message.endswith('the smallest input all 2 networks accept is 29×29.')


def test_a_lenet_is_measured_at_every_size(nets):
    """A LeNet's Dense layer fixes its input size at the first forward pass;
    the explorer builds the networks afresh, so every size works."""
    _, small = training_memory(nets, input_size=32)
    _, large = training_memory(nets, input_size=96)
    assert large.loc['BN-LeNet', 'params'] > small.loc['BN-LeNet', 'params']
    assert large.loc['DenseNet', 'params'] == small.loc['DenseNet', 'params']


@pytest.mark.parametrize('kwargs, sentence', [
    (dict(input_size=0), 'input_size must be at least 1, got 0.'),
    (dict(batch_size=2.5), 'batch_size must be a whole number, not 2.5.'),
    (dict(input_size=1000), 'input_size 1000 is larger than this explorer allows (512).'),
])
def test_bad_values_are_sentences(nets, kwargs, sentence):
    with pytest.raises(ValueError) as err:
        training_memory(nets, **kwargs)
    assert str(err.value) == sentence


def test_explorer_shows_the_sentence_and_recovers(nets):
    ex = Explorer(training_memory, networks=widgets.fixed(nets),
                  input_size=widgets.IntSlider(value=48, min=8, max=224),
                  batch_size=widgets.IntSlider(value=128, min=1, max=512))
    assert ex.error is None and ex.result[0].startswith('At 48×48, batch 128')
    ex.controls['input_size'].value = 20
    assert ex.error.startswith('At 20×20 DenseNet cannot run')
    ex.controls['input_size'].value = 32
    assert ex.error is None and ex.result[0].startswith('At 32×32, batch 128')
