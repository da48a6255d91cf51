"""The benchmark's own parts: the d2lzh reference copy and the report.

The timings themselves are not tested (tests check behaviour, not wall time);
``make benchmark`` produces them.
"""
import os
import sys

import mxnet as mx
import numpy as np
import pytest
from mxnet import gluon, init

from d2lhelpers import data, models

sys.path.insert(0, str(data.REPO_ROOT / 'benchmarks'))
import d2lzh_reference  # noqa: E402
import speed  # noqa: E402


@pytest.fixture(scope='module')
def images():
    arrays = data.load_fashion_mnist_arrays()
    idx = data.balanced_indices(arrays.train_labels, 256)
    return arrays.train_images[idx], arrays.train_labels[idx]


def test_d2lzh_pipeline_gives_the_images_our_loader_gives(images):
    X_all, y_all = images
    ref = d2lzh_reference.load_data(X_all, y_all, 64)
    ref_batches = list(ref)
    assert len(ref_batches) == 4
    X, y = ref_batches[0]
    assert X.shape == (64, 1, 28, 28) and X.dtype == np.float32
    # Shuffled, so compare the multiset of images: ToTensor scales by 1/255
    # exactly as our loader does.
    ref_images = np.concatenate([b[0].asnumpy() for b in ref_batches])
    ours = np.sort(X_all.reshape(256, -1).astype(np.float32) / 255, axis=0)
    np.testing.assert_allclose(np.sort(ref_images.reshape(256, -1), axis=0), ours,
                               rtol=0, atol=1e-7)
    resized = next(iter(d2lzh_reference.load_data(X_all, y_all, 8, resize=48)))[0]
    assert resized.shape == (8, 1, 48, 48)


def test_d2lzh_epoch_trains(images):
    X_all, y_all = images
    mx.random.seed(0)
    net = models.lenet_gluon_bn()
    net.initialize(init.Xavier())
    trainer = gluon.Trainer(net.collect_params(), 'sgd', {'learning_rate': 0.5})
    it = d2lzh_reference.load_data(X_all, y_all, 32)
    first = d2lzh_reference.train_epoch(net, it, 32, trainer, mx.cpu())
    for _ in range(3):
        last = d2lzh_reference.train_epoch(net, it, 32, trainer, mx.cpu())
    assert last[0] < first[0]  # the loss goes down
    assert 0 <= last[1] <= 1 and last[2] > 0


def row(**kw):
    base = dict(network='ResNet-18', size=96, compiled=True, d2lzh=74.0,
                ours=149.0, **{'d2lzh-threads': 119.0, 'ours-imperative': 122.0},
                step=177.0, torch=129.0, gflops=338.0)
    base.update(kw)
    return base


def test_table_gives_the_ratios():
    text = speed.table([row(), row(network='BN-LeNet (scratch BN)', size=28,
                                   compiled=False, torch=None)], 245.0, 2)
    lines = text.splitlines()
    assert 'd2lzh loop, OMP_NUM_THREADS=2' in lines[0]
    assert len(lines) == 4 and all(l.count('|') == 13 for l in lines)
    cells = [c.strip() for c in lines[2].split('|')[1:-1]]
    assert cells[:2] == ['ResNet-18', '96x96']
    assert cells[4] == '%.2f' % (149 / 74)          # ours ÷ d2lzh
    assert cells[9] == '%.2f' % (177 / 129)         # ours ÷ PyTorch
    assert cells[11] == '%.2f' % (338 / 245)        # ÷ matmul
    scratch = [c.strip() for c in lines[3].split('|')[1:-1]]
    assert scratch[1] == '28x28 (not compiled)' and scratch[8:10] == ['n/a', 'n/a']


def test_write_readme_replaces_only_its_block(tmp_path, monkeypatch):
    readme = tmp_path / 'README.md'
    readme.write_text('# B\n\nbefore\n\n%s\nold\n%s\n\nafter\n' % speed.MARK)
    monkeypatch.setattr(speed, 'README', readme)
    speed.write_readme('new table')
    assert readme.read_text() == '# B\n\nbefore\n\n%s\nnew table\n%s\n\nafter\n' % speed.MARK
    assert not list(tmp_path.glob('*.tmp'))


def test_missing_torch_is_a_clear_sentence(capsys, monkeypatch):
    # The project environment has no PyTorch (it is the benchmark's own).
    try:
        import torch  # noqa: F401
        pytest.fail('PyTorch must not be installed in the project environment')
    except ImportError:
        pass
    with pytest.raises(SystemExit):
        speed.main(['--only', 'BN-LeNet'])
    err = capsys.readouterr().err
    assert 'PyTorch is not installed in this environment. Run `make benchmark`' in err


def bn_lenet_row(readme):
    """The BN-LeNet row of the README's table, checked for the plumbing only:
    every figure is a number (the rates above 0), whatever the machine's load
    (on a shared CPU, GFLOP/s is printed rounded to 0)."""
    text = readme.read_text()
    assert text.startswith('# Benchmarks\n\n' + speed.MARK[0])
    assert 'Measured by `python benchmarks/speed.py --only BN-LeNet' in text
    row = next(l for l in text.splitlines() if l.startswith('| BN-LeNet |'))
    cells = [c.strip() for c in row.split('|')[1:-1]]
    assert cells[1] == '28x28'
    assert all(float(cells[i]) >= 0 for i in (4, 6, 10, 11))   # ratios, GFLOP/s
    assert all(float(cells[i]) > 0 for i in (2, 3, 5, 7))      # img/s
    assert cells[8:10] == ['n/a', 'n/a']  # no PyTorch here
    return cells


ARGS = ['--only', 'BN-LeNet', '--sizes', 'small', '--steps', '2', '--repeat', '1',
        '--no-torch', '--write']


def test_the_benchmark_runs_end_to_end(tmp_path, monkeypatch, capsys):
    """The documented command, cut down: one network, small input, 2 batches,
    no PyTorch (it lives in .venv-bench only). Checks the plumbing (fresh
    worker processes, the table, the README block), not the figures."""
    readme = tmp_path / 'README.md'
    readme.write_text('# Benchmarks\n')
    monkeypatch.setattr(speed, 'README', readme)
    assert speed.main(ARGS) == 0
    bn_lenet_row(readme)


def test_a_busy_machine_still_gives_a_table(tmp_path, monkeypatch, capsys):
    """75 img/s for our step (a shared CPU): GFLOP/s rounds to 0, which is a
    figure, not a failure."""
    readme = tmp_path / 'README.md'
    readme.write_text('# Benchmarks\n')
    monkeypatch.setattr(speed, 'README', readme)
    monkeypatch.setattr(speed, 'run_worker', lambda kind, *args: dict(
        img_per_s=75.0, compiled=True, fwd_macs=300000))
    assert speed.main(ARGS) == 0
    cells = bn_lenet_row(readme)
    assert cells[10] == '0'


def test_too_few_images_is_a_clear_sentence(capsys, monkeypatch):
    """Without the full set (only the embedded 6,000-image subset), the
    default 64 BN-LeNet batches cannot be drawn: say so, measure nothing."""
    real = data.load_fashion_mnist_arrays()
    small = real._replace(train_images=real.train_images[:6000],
                          train_labels=real.train_labels[:6000])
    monkeypatch.setattr(data, 'load_fashion_mnist_arrays', lambda root=None: small)
    with pytest.raises(SystemExit):
        speed.main(['--only', 'BN-LeNet', '--no-torch'])
    err = capsys.readouterr().err
    assert 'These measurements need 8448 training images, but only 6000 were found' in err


def test_isa_cap_reaches_every_subprocess_and_its_own_block(tmp_path, monkeypatch, capsys):
    """--isa avx2: every worker and the matmul run with the caps in their
    environment, and the table goes into the speed-avx2 block, leaving the
    uncapped table alone."""
    readme = tmp_path / 'README.md'
    readme.write_text('# Benchmarks\n\n%s\nuncapped\n%s\n' % speed.MARK)
    monkeypatch.setattr(speed, 'README', readme)
    seen = []

    def fake_worker(kind, *args):
        seen.append(dict(speed.EXTRA_ENV))
        return dict(img_per_s=100.0, compiled=True, fwd_macs=300000)
    monkeypatch.setattr(speed, 'run_worker', fake_worker)
    monkeypatch.setattr(speed, 'matmul_in_subprocess',
                        lambda: seen.append(dict(speed.EXTRA_ENV)) or 100.0)
    assert speed.main(ARGS + ['--isa', 'avx2']) == 0
    assert seen and all(env == speed.ISA_CAPS['avx2'] for env in seen)
    text = readme.read_text()
    assert 'uncapped' in text
    start, end = speed.marks('avx2')
    block = text.split(start, 1)[1].split(end, 1)[0]
    assert 'Instruction set capped at AVX2' in block and '| BN-LeNet |' in block


def test_isa_env_makes_onednn_use_avx2_only():
    """The cap is real: oneDNN in this MXNet reads DNNL_MAX_CPU_ISA (its
    verbose mode names the ISA it then uses)."""
    import subprocess
    if 'avx2' not in open('/proc/cpuinfo').read().split():
        pytest.skip('this CPU has no AVX2, so there is nothing to cap at AVX2')
    env = dict(os.environ, DNNL_VERBOSE='1', DNNL_MAX_CPU_ISA='AVX2')
    out = subprocess.run(
        [sys.executable, '-c', 'import mxnet as mx; from mxnet import nd; '
         'x = nd.ones((1, 8, 4, 4)); w = nd.ones((8, 8, 3, 3)); '
         'nd.Convolution(x, w, kernel=(3, 3), num_filter=8, no_bias=True).wait_to_read()'],
        env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert 'isa:Intel AVX2' in out.stdout


def test_onednn_profile_reads_the_verbose_records():
    import onednn_profile as prof
    lines = [
        'dnnl_verbose,info,cpu,isa:Intel AVX2',
        'dnnl_verbose,exec,cpu,convolution,jit:avx2,forward_training,src_f32 dst_f32,,alg,mb1_ic8oc8,9.0',
        prof.START,
        'dnnl_verbose,exec,cpu,convolution,x64:gemm:jit,backward_weights,'
        'src_f32::blocked:abcd:f0 wei_f32::blocked:abcd:f0,,alg:convolution_direct,'
        'mb128_ic512oc512_ih1oh1kh3,2.5',
        'dnnl_verbose,exec,cpu,reorder,jit:uni,undef,src_f32::blocked:aBcd8b:f0 '
        'dst_f32::blocked:abcd:f0,,,128x512x1x1,0.5',
        prof.END + ' compiled',
        'dnnl_verbose,exec,cpu,convolution,jit:avx2,forward_training,x y,,alg,mb1,7.0',
    ]
    isa, compiled, records = prof.parse(lines)
    assert (isa, compiled) == ('Intel AVX2', 'compiled')
    assert [(r['primitive'], r['impl'], r['prop'], r['ms']) for r in records] == [
        ('convolution', 'x64:gemm:jit', 'backward_weights', 2.5),
        ('reorder', 'jit:uni', 'undef', 0.5)]
    assert records[0]['problem'] == 'mb128_ic512oc512_ih1oh1kh3'


def test_kinds_without_the_step_is_a_clear_sentence(capsys):
    with pytest.raises(SystemExit):
        speed.main(['--only', 'BN-LeNet', '--kinds', 'ours', '--no-torch'])
    assert '--kinds must include step' in capsys.readouterr().err


def test_readme_block_is_appended_when_its_markers_are_missing(tmp_path):
    import readme_block
    readme = tmp_path / 'README.md'
    readme.write_text('# B\n')
    readme_block.replace_block(readme, ('<!-- q:start -->', '<!-- q:end -->'), 'table')
    assert readme.read_text() == '# B\n\n<!-- q:start -->\ntable\n<!-- q:end -->\n'
    assert not list(tmp_path.glob('*.tmp'))
