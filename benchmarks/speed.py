"""Training speed of the sections' networks, as ratios measured in one run.

    make benchmark                                    # installs .venv-bench, then:
    .venv-bench/bin/python benchmarks/speed.py [--write] [--steps N] [--only NAME ...]

For each network at 28x28 (DenseNet, which needs at least 29x29, at 48x48)
and at 96x96, batch 128, on real Fashion-MNIST images, on the CPU:

* d2lzh loop: d2lzh's data pipeline and ``train_ch5`` loop
  (``benchmarks/d2lzh_reference.py``), network not hybridized, in MXNet's
  default environment: what a learner using d2lzh gets (MXNet then uses half
  the logical CPUs). Also run with our thread settings
  (``d2lhelpers/_threads.py``), to show what those alone do to that loop;
* our loop: ``d2lhelpers.load_data_fashion_mnist`` and ``d2lhelpers.train_ch5``
  as the notebooks call them (compiled graph when the network allows), and the
  same with ``hybridize=False``;
* both loops run two epochs of ``--steps`` batches over the same images; the
  second epoch's training time (no evaluation) is the one reported;
* our step: forward, loss, backward and SGD update as in ``train_ch5``, on
  batches from our loader already in memory, against the same network in
  PyTorch eager (``benchmarks/torch_models.py``, run in a subprocess with the
  same number of threads) on the same batches;
* GFLOP/s of our step, counting 3x the forward multiply-adds (forward, and the
  gradients for the inputs and for the weights) at 2 FLOPs each, against the
  rate of a 4096x4096 float32 matrix product in numpy, measured at the start
  and at the end of the run.

Every measurement runs in a fresh process: MXNet's state left behind by one
(its OpenMP teams, see ``d2lhelpers/_threads.py``) must not change the next.

``--isa avx2`` caps every library at AVX2 (oneDNN in MXNet and PyTorch,
PyTorch's own kernels, numpy's OpenBLAS) on a CPU that has AVX-512: the
instruction set of an AVX2-only machine, not its clock, caches or memory.
``benchmarks/onednn_profile.py`` shows where the time then goes.

``--write`` puts the table into ``benchmarks/README.md`` between the
``speed`` markers (``speed-avx2`` with ``--isa avx2``). Run on an otherwise idle machine; the ratios are what to
read, as every figure in a row was measured within a minute or two of the
others.
"""
import argparse
import json
import os
import pathlib
import platform
import subprocess
import sys
import tempfile
import time

import readme_block

HERE = pathlib.Path(__file__).resolve().parent
README = HERE / 'README.md'
MARK = ('<!-- speed:start -->', '<!-- speed:end -->')
# Environment that caps each library at an instruction set below the CPU's
# own; read when the library loads, so it is set for the subprocesses only.
ISA_CAPS = {
    'avx2': {'DNNL_MAX_CPU_ISA': 'AVX2',        # oneDNN (MXNet's and PyTorch's)
             'ATEN_CPU_CAPABILITY': 'avx2',     # PyTorch's own CPU kernels
             'OPENBLAS_CORETYPE': 'Haswell'},   # numpy's matmul (AVX2 + FMA)
}
EXTRA_ENV = {}  # the --isa cap of this run, for every subprocess


def marks(isa=None):
    """The README block of a run: one per instruction-set cap."""
    if isa is None:
        return MARK
    return tuple(m.replace('speed:', 'speed-%s:' % isa) for m in MARK)
BATCH = 128
WARMUP = 2  # untimed steps before a step measurement

# name -> (d2lhelpers.models function, torch_models.NETWORKS key,
#          {input side: timed batches per loop epoch and per step measurement})
NETWORKS = {
    'GoogLeNet': ('googlenet', 'googlenet', {28: 16, 96: 6}),
    'BN-LeNet': ('lenet_gluon_bn', 'bn-lenet', {28: 64, 96: 16}),
    'BN-LeNet (scratch BN)': ('lenet_bn', 'bn-lenet-scratch', {28: 32, 96: 8}),
    'ResNet-18': ('resnet18', 'resnet18', {28: 16, 96: 6}),
    'DenseNet': ('densenet', 'densenet', {48: 16, 96: 6}),
}
KINDS = ('d2lzh', 'd2lzh-threads', 'ours', 'ours-imperative', 'step', 'torch')


# ------------------------------------------------ measurements (subprocesses)
# Each runs in its own process and prints one JSON line. 'd2lzh' and
# 'torch' must not import d2lhelpers before their framework: the first keeps
# MXNet's default environment, the second does not load MXNet at all.

def _fresh_net(model, size, ctx):
    import mxnet as mx
    from mxnet import init, nd
    from d2lhelpers import models
    mx.random.seed(0)
    net = getattr(models, model)()
    net.initialize(init.Xavier(), ctx=ctx)
    net(nd.zeros((2, 1, size, size), ctx=ctx))  # finish deferred initialisation
    return net


def _trainer(net):
    from mxnet import gluon
    return gluon.Trainer(net.collect_params(), 'sgd', {'learning_rate': 0.05})


def measure_d2lzh(model, size, steps, data):
    import mxnet as mx  # before d2lhelpers, which would change the defaults
    import numpy as np
    import d2lzh_reference as ref
    arrays = np.load(data)
    ctx = mx.cpu()
    net = _fresh_net(model, size, ctx)
    trainer = _trainer(net)
    train_iter = ref.load_data(arrays['images'], arrays['labels'], BATCH,
                               resize=size if size != 28 else None)
    ref.train_epoch(net, train_iter, BATCH, trainer, ctx)  # warm-up epoch
    _, _, seconds = ref.train_epoch(net, train_iter, BATCH, trainer, ctx)
    return {'img_per_s': BATCH * steps / seconds}


def measure_ours(model, size, steps, hybridize):
    import d2lhelpers as d2lh
    import mxnet as mx
    ctx = mx.cpu()
    net = _fresh_net(model, size, ctx)
    train_iter, test_iter = d2lh.load_data_fashion_mnist(
        BATCH, resize=size, subset=BATCH * steps, test_subset=BATCH)
    history = d2lh.train_ch5(net, train_iter, test_iter, BATCH, _trainer(net),
                             ctx, 2, progress='off', hybridize=hybridize)
    return {'img_per_s': BATCH * steps / history[1]['train_time']}


def measure_step(model, size, data):
    """Steps exactly as train_ch5 takes them, on batches already in memory."""
    import contextlib
    import d2lhelpers as d2lh
    import mxnet as mx
    import numpy as np
    from mxnet import gluon, nd
    from d2lhelpers import _gluon, hybrid
    ctx = mx.cpu()
    arrays = np.load(data)
    batches = [(nd.array(X, ctx=ctx), nd.array(y, ctx=ctx, dtype='int32'))
               for X, y in zip(arrays['X'], arrays['y'])]
    net = _fresh_net(model, size, ctx)
    trainer = _trainer(net)
    loss = gluon.loss.SoftmaxCrossEntropyLoss()
    with contextlib.ExitStack() as stack:
        runner, why_not = hybrid.compile_if_possible(net, loss, batches[0][0], stack)
        for i, (X, y) in enumerate(batches):
            if i == WARMUP:
                nd.waitall()
                start = time.perf_counter()
            _gluon.train_step(runner, loss, trainer, [X], [y], BATCH)
        nd.waitall()
        seconds = time.perf_counter() - start
    macs = d2lh.cost.model_cost(net, (1, 1, size, size))['MACs']
    return {'img_per_s': BATCH * (len(batches) - WARMUP) / seconds,
            'compiled': why_not is None, 'fwd_macs': macs}


def measure_torch(network, data, threads):
    import numpy as np
    import torch
    import torch_models
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    arrays = np.load(data)
    Xs = [torch.from_numpy(x) for x in arrays['X']]
    ys = [torch.from_numpy(y.astype(np.int64)) for y in arrays['y']]
    net = torch_models.NETWORKS[network](Xs[0].shape[-1])
    opt = torch.optim.SGD(net.parameters(), lr=0.05)
    loss = torch.nn.CrossEntropyLoss()
    for i, (X, y) in enumerate(zip(Xs, ys)):
        if i == WARMUP:
            start = time.perf_counter()
        opt.zero_grad()
        loss(net(X), y).backward()
        opt.step()
    seconds = time.perf_counter() - start
    return {'img_per_s': BATCH * (len(Xs) - WARMUP) / seconds,
            'torch_version': torch.__version__,
            'torch_threads': torch.get_num_threads()}


def worker(kind, name, size, steps, data, threads):
    sys.path.insert(0, str(HERE))
    model, torch_name, _ = NETWORKS[name]
    if kind in ('d2lzh', 'd2lzh-threads'):
        return measure_d2lzh(model, size, steps, data)
    if kind == 'ours':
        return measure_ours(model, size, steps, hybridize=True)
    if kind == 'ours-imperative':
        return measure_ours(model, size, steps, hybridize=False)
    if kind == 'step':
        return measure_step(model, size, data)
    return measure_torch(torch_name, data, threads)


def run_worker(kind, name, size, steps, data, threads):
    env = dict(os.environ, **EXTRA_ENV)
    if kind == 'd2lzh':  # what a learner who imports only mxnet gets
        for var in ('OMP_NUM_THREADS', 'MXNET_CPU_PARALLEL_SIZE'):
            env.pop(var, None)
    else:
        env['OMP_NUM_THREADS'] = str(threads)
    out = subprocess.run(
        [sys.executable, __file__, '--worker', kind, name, str(size), str(steps),
         data, str(threads)], env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit('The %s measurement of %s at %dx%d failed:\n%s'
                         % (kind, name, size, size, out.stderr[-3000:]))
    return json.loads(out.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------ orchestration
def matmul_in_subprocess():
    """numpy's matmul rate under this run's environment (OpenBLAS reads
    OPENBLAS_CORETYPE when it loads)."""
    out = subprocess.run(
        [sys.executable, '-c', 'import sys; sys.path.insert(0, %r); import speed; '
         'print(speed.matmul_gflops())' % str(HERE)],
        env=dict(os.environ, **EXTRA_ENV), capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit('The matmul measurement failed:\n%s' % out.stderr[-3000:])
    return float(out.stdout.strip().splitlines()[-1])


def matmul_gflops(n=4096, repeats=3):
    import numpy as np
    rng = np.random.RandomState(0)
    a = rng.rand(n, n).astype(np.float32)
    b = rng.rand(n, n).astype(np.float32)
    a @ b
    best = float('inf')
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return 2 * n ** 3 / best / 1e9


def save_batches(tmp, size, steps, arrays):
    """The images both loops train on, and batches from our loader for the steps."""
    import numpy as np
    import d2lhelpers as d2lh
    idx = d2lh.data.balanced_indices(arrays.train_labels, BATCH * steps)
    loop_data = os.path.join(tmp, 'loop.npz')
    np.savez(loop_data, images=arrays.train_images[idx],
             labels=arrays.train_labels[idx])
    train_iter, _ = d2lh.load_data_fashion_mnist(
        BATCH, resize=size, subset=BATCH * (steps + WARMUP), test_subset=BATCH)
    batches = [(X.asnumpy(), y.asnumpy()) for X, y in train_iter]
    step_data = os.path.join(tmp, 'steps.npz')
    np.savez(step_data, X=np.stack([X for X, _ in batches]),
             y=np.stack([y for _, y in batches]))
    return loop_data, step_data


def measure_row(name, size, steps, arrays, threads, kinds, repeat):
    """Every kind ``repeat`` times, interleaved; the best rate of each counts.

    Other work on a shared machine only ever slows a measurement down, so the
    fastest of the repeats is the least disturbed one (identical runs of the
    same loop were seen to differ by up to 25 %).
    """
    print('== %s at %dx%d, %d batches' % (name, size, size, steps), flush=True)
    row = dict(network=name, size=size, steps=steps)
    with tempfile.TemporaryDirectory() as tmp:
        loop_data, step_data = save_batches(tmp, size, steps, arrays)
        for _ in range(repeat):
            for kind in kinds:
                data = step_data if kind in ('step', 'torch') else loop_data
                result = run_worker(kind, name, size, steps, data, threads)
                row[kind] = max(row.get(kind, 0), result['img_per_s'])
                row.update({k: v for k, v in result.items() if k != 'img_per_s'})
                print('   %-16s %8.0f img/s' % (kind, result['img_per_s']), flush=True)
    row['gflops'] = row['step'] * 3 * 2 * row['fwd_macs'] / 1e9
    return row


def _ratio(row, a, b):
    return ('%.2f' % (row[a] / row[b])) if row.get(a) and row.get(b) else 'n/a'


def _rate(row, key):
    return ('%.0f' % row[key]) if row.get(key) else 'n/a'


def table(rows, matmul, threads):
    lines = [
        '| network | input | d2lzh loop | our loop | **ours ÷ d2lzh** (≥ 1.5) '
        '| d2lzh loop, OMP_NUM_THREADS=%d | compiled ÷ imperative (our loop) '
        '| our step | PyTorch eager step | **ours ÷ PyTorch** (≥ 1) '
        '| our step GFLOP/s | **÷ matmul** (≥ 0.9: ResNet-18, GoogLeNet at 96) |'
        % threads,
        '| --- | --- |' + ' ---: |' * 10]
    for r in rows:
        lines.append('| %s | %dx%d%s | %s | %s | %s | %s | %s | %s | %s | %s | %.0f | %.2f |' % (
            r['network'], r['size'], r['size'],
            '' if r['compiled'] else ' (not compiled)',
            _rate(r, 'd2lzh'), _rate(r, 'ours'), _ratio(r, 'ours', 'd2lzh'),
            _rate(r, 'd2lzh-threads'), _ratio(r, 'ours', 'ours-imperative'),
            _rate(r, 'step'), _rate(r, 'torch'), _ratio(r, 'step', 'torch'),
            r['gflops'], r['gflops'] / matmul))
    return '\n'.join(lines)


def write_readme(text, mark=MARK):
    readme_block.replace_block(README, mark, text)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--only', nargs='+', choices=list(NETWORKS),
                        metavar='NAME', help='networks to measure: %s'
                        % ', '.join(NETWORKS))
    parser.add_argument('--sizes', nargs='+', choices=('small', '96'),
                        default=('small', '96'),
                        help="'small' (28x28; DenseNet 48x48) and/or '96'")
    parser.add_argument('--steps', type=int,
                        help='timed batches per measurement, for every network '
                        '(default: per network, see NETWORKS)')
    parser.add_argument('--repeat', type=int, default=2,
                        help='runs of every measurement; the best counts (default 2)')
    parser.add_argument('--kinds', nargs='+', choices=KINDS, default=list(KINDS),
                        help='measurements to take (default: all); the others '
                        'show as n/a')
    parser.add_argument('--no-torch', action='store_true',
                        help='skip the PyTorch comparison')
    parser.add_argument('--isa', choices=list(ISA_CAPS),
                        help='cap oneDNN, PyTorch and OpenBLAS at this instruction '
                        'set (an AVX-512 CPU then runs what an AVX2 one runs)')
    parser.add_argument('--write', action='store_true',
                        help='write the table into benchmarks/README.md')
    parser.add_argument('--worker', nargs=6, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        kind, name, size, steps, data, threads = args.worker
        print(json.dumps(worker(kind, name, int(size), int(steps), data,
                                int(threads))))
        return 0
    if args.steps is not None and args.steps < 1:
        parser.error('--steps must be at least 1.')
    if args.repeat < 1:
        parser.error('--repeat must be at least 1.')
    kinds = [k for k in args.kinds if not (args.no_torch and k == 'torch')]
    if 'step' not in kinds:
        parser.error('--kinds must include step: GFLOP/s and the PyTorch ratio '
                     'are computed from it.')
    EXTRA_ENV.clear()
    EXTRA_ENV.update(ISA_CAPS.get(args.isa, {}))
    if 'torch' in kinds:
        found = subprocess.run([sys.executable, '-c', 'import torch'],
                               capture_output=True).returncode == 0
        if not found:
            parser.error('PyTorch is not installed in this environment. Run '
                         '`make benchmark` (it installs torch==2.13.0 into '
                         '.venv-bench, never into the project), or pass '
                         '--no-torch to skip the comparison.')
    import d2lhelpers as d2lh  # sets OMP_NUM_THREADS before mxnet loads
    import mxnet as mx
    arrays = d2lh.data.load_fashion_mnist_arrays()
    plan = [(name, size, args.steps or steps) for name in args.only or NETWORKS
            for size, steps in NETWORKS[name][2].items()
            if ('96' if size == 96 else 'small') in args.sizes]
    needed = BATCH * (max(steps for _, _, steps in plan) + WARMUP)
    if len(arrays.train_labels) < needed:
        parser.error('These measurements need %d training images, but only %d '
                     'were found (the embedded subset); run `make data` for '
                     'the full Fashion-MNIST set.'
                     % (needed, len(arrays.train_labels)))
    threads = d2lh.OMP_THREADS or 1
    print(d2lh.describe_device(), flush=True)
    matmul_start = matmul_in_subprocess()
    print('numpy 4096x4096 float32 matmul: %.0f GFLOP/s' % matmul_start, flush=True)
    rows = [measure_row(name, size, steps, arrays, threads, kinds, args.repeat)
            for name, size, steps in plan]
    matmul_end = matmul_in_subprocess()
    matmul = (matmul_start + matmul_end) / 2
    versions = 'MXNet %s' % mx.__version__
    if rows and rows[0].get('torch_version'):
        versions += ', PyTorch %s' % rows[0]['torch_version']
    note = ('Measured by `python benchmarks/speed.py%s` on %s (%s, %d logical '
            'CPUs): %d OpenMP threads for MXNet and PyTorch alike except in '
            'the d2lzh loop, which runs in MXNet\'s default environment, %s; batch %d, real Fashion-MNIST '
            'images; every figure in img/s (the best of %d interleaved runs, each in a fresh '
            'process) except the ratios and GFLOP/s. '
            'numpy 4096x4096 float32 matmul: %.0f GFLOP/s at the start of the '
            'run, %.0f at the end (the ratio uses their mean, %.0f).' % (
                ''.join(' ' + a for a in argv), time.strftime('%Y-%m-%d'),
                platform.machine(), os.cpu_count(), threads, versions, BATCH,
                args.repeat, matmul_start, matmul_end, matmul))
    if args.isa:
        note += (' Instruction set capped at %s on this CPU (%s): what an %s-only '
                 'machine runs, not its clock, caches or memory.' % (
                     args.isa.upper(), ', '.join('%s=%s' % kv for kv in EXTRA_ENV.items()),
                     args.isa.upper()))
    result = note + '\n\n' + table(rows, matmul, threads)
    print(result)
    if args.write:
        write_readme(result, marks(args.isa))
    return 0


if __name__ == '__main__':
    sys.exit(main())
