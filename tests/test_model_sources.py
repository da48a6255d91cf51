"""One source of truth for model code.

The notebooks define the notes' blocks in their own cells, where learners read
them; ``d2lhelpers.models`` holds the same definitions for the other notebooks,
tests and benchmarks. These tests fail as soon as the two differ (compared as
syntax trees, so comments and blank lines may differ, code may not).
"""
import ast
import inspect
import pathlib

import nbformat
import pytest

from d2lhelpers import models

NOTEBOOKS = pathlib.Path(__file__).resolve().parent.parent / 'notebooks'

# What each section's notebook must define (the notes' code).
REQUIRED = {
    '01_googlenet.ipynb': ['Inception', 'googlenet', 'basic_conv', 'InceptionBN', 'InceptionV3',
                           'InceptionResidual', 'googlenet_bn', 'alexnet', 'vgg_block', 'vgg',
                           'nin_block', 'nin'],
    '02_batch_norm.ipynb': ['batch_norm', 'BatchNorm', 'lenet_bn',
                            'lenet_bn_variant', 'lenet_bn_fixed_gamma_beta'],
    '03_resnet.ipynb': ['Residual', 'resnet_block', 'resnet18', 'ResidualV2', 'resnet_block_v2', 'resnet18_v2', 'PlainBlock', 'deep_cnn',
                        'BottleneckResidual', 'resnet_stage', 'resnet'],
    '04_densenet.ipynb': ['conv_block', 'DenseBlock', 'transition_block', 'densenet',
                          'bn_relu_conv', 'bottleneck_block', 'BottleneckDenseBlock',
                          'transition_block_bc', 'densenet_bc'],
}


def notebook_definitions(path):
    """Top-level classes and functions defined in a notebook's code cells."""
    nb = nbformat.read(str(path), as_version=4)
    found = {}
    for cell in nb.cells:
        if cell.cell_type != 'code':
            continue
        # IPython magics and shell lines (at the start of a line) are not
        # Python syntax; an indented '% (a, b)' continuation line is.
        source = '\n'.join(l for l in cell.source.splitlines()
                           if not l.startswith(('%', '!')))
        for node in ast.parse(source).body:
            if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
                found[node.name] = node
    return found


def package_definition(name):
    obj = getattr(models, name)
    tree = ast.parse(inspect.getsource(inspect.getmodule(obj)))
    return next(n for n in tree.body
                if isinstance(n, (ast.ClassDef, ast.FunctionDef)) and n.name == name)


def test_every_required_name_is_in_the_package():
    for names in REQUIRED.values():
        for name in names:
            assert hasattr(models, name), name


@pytest.mark.parametrize('notebook', sorted(
    name for name in REQUIRED if (NOTEBOOKS / name).exists()))
def test_notebook_definitions_match_the_package(notebook):
    found = notebook_definitions(NOTEBOOKS / notebook)
    missing = [n for n in REQUIRED[notebook] if n not in found]
    assert not missing, '%s does not define %s' % (notebook, ', '.join(missing))
    for name, node in found.items():
        if not hasattr(models, name):
            continue  # notebook-only helpers (explorers, experiments)
        ours, theirs = ast.dump(node), ast.dump(package_definition(name))
        assert ours == theirs, (
            '%s in %s differs from d2lhelpers.models.%s: change both together'
            % (name, notebook, name))


def test_the_comparison_notices_a_change(tmp_path):
    # Guard against a comparison that always passes.
    source = inspect.getsource(models.Residual).replace('kernel_size=3, padding=1,\n',
                                                        'kernel_size=5, padding=2,\n', 1)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    path = tmp_path / 'changed.ipynb'
    nbformat.write(nb, str(path))
    node = notebook_definitions(path)['Residual']
    assert ast.dump(node) != ast.dump(package_definition('Residual'))
