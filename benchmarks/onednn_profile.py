"""Where a compiled training step spends its time inside oneDNN.

    python benchmarks/onednn_profile.py resnet18 --size 28 [--isa avx2] [--steps 5] [--imperative]

Runs ``--steps`` compiled (or, with ``--imperative``, as written) training steps (``train_ch5``'s step, batch 128,
after 3 warm-up steps) of a ``d2lhelpers.models`` network in a fresh process
with ``DNNL_VERBOSE=1``, which makes oneDNN print every primitive it runs:
its kind, the implementation it chose (``jit:avx2``, ``x64:gemm:jit``,
``simple_nchw:any`` ...), the memory layouts and the milliseconds. Prints,
per step: time by primitive and implementation, the costliest layout
reorders, and the convolutions that fell back to a gemm implementation, with
their shapes. ``--isa avx2`` caps oneDNN at AVX2 (``DNNL_MAX_CPU_ISA``), as on
a CPU without AVX-512. The printing itself slows the step down, so read the
shares, not the absolute rate.
"""
import argparse
import collections
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
BATCH = 128
WARMUP = 3
START, END = 'PROFILE-START', 'PROFILE-END'

CHILD = r'''
import contextlib, sys
import d2lhelpers
import mxnet as mx
from mxnet import gluon, init, nd
from d2lhelpers import _gluon, hybrid, models
model, size, steps, batch, warmup, compiled = sys.argv[1], *map(int, sys.argv[2:7])
mx.random.seed(0)
net = getattr(models, model)()
net.initialize(init.Xavier())
X = nd.random.uniform(shape=(batch, 1, size, size))
y = nd.random.randint(0, 10, shape=(batch,)).astype('int32')
loss = gluon.loss.SoftmaxCrossEntropyLoss()
trainer = gluon.Trainer(net.collect_params(), 'sgd', {'learning_rate': 0.05})
with contextlib.ExitStack() as stack:
    runner, why_not = hybrid.compile_if_possible(net, loss, X, stack, bool(compiled))
    for i in range(warmup + steps):
        if i == warmup:
            nd.waitall()
            print('%s', flush=True)
        _gluon.train_step(runner, loss, trainer, [X], [y], batch)
    nd.waitall()
print('%s', 'compiled' if why_not is None else 'not compiled', flush=True)
''' % (START, END)


def run(model, size, steps, isa, compiled=True):
    env = dict(os.environ, DNNL_VERBOSE='1')
    if isa:
        env['DNNL_MAX_CPU_ISA'] = isa.upper()
    out = subprocess.run([sys.executable, '-c', CHILD, model, str(size), str(steps),
                          str(BATCH), str(WARMUP), str(int(compiled))],
                         env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit('The profiled run failed:\n' + out.stderr[-3000:])
    return out.stdout.splitlines()


def parse(lines):
    """The ``exec`` records between the markers, and oneDNN's ISA line."""
    isa, records, inside, compiled = '?', [], False, '?'
    for line in lines:
        if ',info,cpu,isa:' in line:
            isa = line.split('isa:', 1)[1]
        elif line == START:
            inside = True
        elif line.startswith(END):
            compiled = line[len(END):].strip()
            inside = False
        elif inside and line.startswith(('dnnl_verbose,exec,', 'onednn_verbose,exec,')):
            f = line.split(',')
            # exec, engine, primitive, implementation, propagation, layouts, ...,
            # problem description, milliseconds
            records.append(dict(primitive=f[3], impl=f[4], prop=f[5],
                                layouts=f[6], problem=f[-2], ms=float(f[-1])))
    return isa, compiled, records


def table(title, rows, steps, total, head):
    print('\n%s\n\n| %s | calls/step | ms/step | share |\n| --- | ---: | ---: | ---: |'
          % (title, head))
    for key, (n, ms) in rows:
        print('| %s | %.0f | %.2f | %.1f %% |' % (key, n / steps, ms / steps,
                                                100 * ms / total))


def summarize(records, steps, top):
    total = sum(r['ms'] for r in records) or 1.0

    def grouped(key, keep=lambda r: True):
        acc = collections.defaultdict(lambda: [0, 0.0])
        for r in records:
            if keep(r):
                acc[key(r)][0] += 1
                acc[key(r)][1] += r['ms']
        return sorted(acc.items(), key=lambda kv: -kv[1][1])

    table('Time by primitive and implementation (oneDNN total %.1f ms/step):'
          % (total / steps), grouped(lambda r: '%s %s `%s`' % (
              r['primitive'], r['prop'], r['impl'])), steps, total,
          'primitive, propagation, implementation')
    table('Costliest reorders (layout from -> to, tensor):', grouped(
        lambda r: '%s %s' % (' -> '.join(r['layouts'].split(' ')[:2]), r['problem']),
        lambda r: r['primitive'] == 'reorder')[:top], steps, total, 'reorder')
    table('Convolutions on a gemm implementation (im2col, plain layout):', grouped(
        lambda r: '%s %s' % (r['prop'], r['problem']),
        lambda r: r['primitive'] == 'convolution' and 'gemm' in r['impl'])[:top],
        steps, total, 'propagation, shape')


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('model', help='a d2lhelpers.models function, e.g. resnet18')
    parser.add_argument('--size', type=int, default=28, help='input side (default 28)')
    parser.add_argument('--steps', type=int, default=5, help='profiled steps (default 5)')
    parser.add_argument('--isa', choices=('avx2',), help='cap oneDNN at this ISA')
    parser.add_argument('--top', type=int, default=8, help='rows per list (default 8)')
    parser.add_argument('--imperative', action='store_true',
                        help='run the network as written (not compiled)')
    args = parser.parse_args(argv)
    if args.steps < 1 or args.size < 1:
        parser.error('--steps and --size must be at least 1.')
    sys.path.insert(0, os.path.dirname(HERE))
    from d2lhelpers import models
    if not callable(getattr(models, args.model, None)):
        parser.error('No network %r in d2lhelpers.models; try one of: %s.' % (
            args.model, ', '.join(models.__all__)))
    isa, compiled, records = parse(run(args.model, args.size, args.steps, args.isa,
                                       not args.imperative))
    print('%s at %dx%d, batch %d, %s, oneDNN ISA: %s, %d steps'
          % (args.model, args.size, args.size, BATCH, compiled, isa, args.steps))
    summarize(records, args.steps, args.top)
    return 0


if __name__ == '__main__':
    sys.exit(main())
