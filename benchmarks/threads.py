"""OpenMP settings on an idle and on a shared CPU: seconds per training step.

    python benchmarks/threads.py [--steps 20] [--busy 0 1]

For each setting (OMP_NUM_THREADS, OMP_WAIT_POLICY, GOMP_SPINCOUNT, MXNet's
engine) and each load (0: idle; 1: one other process spinning on a core, as
a busy browser tab would), a fresh Python process trains ResNet-18 (28x28,
batch 128, compiled) and the Gluon BN-LeNet (batch 256) for ``--steps``
steps after two warm-up steps with ``train_ch5``'s step, and prints the
median step time. Run on an otherwise idle machine: the "busy" load is the
one this script makes.
"""
import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import time

SETTINGS = {
    '1 thread': {'OMP_NUM_THREADS': '1'},
    '2 threads': {'OMP_NUM_THREADS': '2'},
    '2 threads, passive wait': {'OMP_NUM_THREADS': '2', 'OMP_WAIT_POLICY': 'PASSIVE'},
    '2 threads, spin 10k': {'OMP_NUM_THREADS': '2', 'GOMP_SPINCOUNT': '10000'},
    '2 threads, NaiveEngine': {'OMP_NUM_THREADS': '2', 'MXNET_ENGINE_TYPE': 'NaiveEngine'},
}

CHILD = r'''
import json, statistics, sys, time
import d2lhelpers
import mxnet as mx
from mxnet import gluon, init, nd
from d2lhelpers import models, _gluon, hybrid
import contextlib
out = {}
for name, make, batch in (('ResNet-18', models.resnet18, 128), ('BN-LeNet (Gluon)', models.lenet_gluon_bn, 256)):
    mx.random.seed(0)
    net = make(); net.initialize(init.Xavier())
    X = nd.random.uniform(shape=(batch, 1, 28, 28)); y = nd.random.randint(0, 10, shape=(batch,)).astype('int32')
    loss = gluon.loss.SoftmaxCrossEntropyLoss()
    trainer = gluon.Trainer(net.collect_params(), 'sgd', {'learning_rate': 0.01})
    with contextlib.ExitStack() as stack:
        runner, _ = hybrid.compile_if_possible(net, loss, X, stack)
        times = []
        for i in range(2 + int(sys.argv[1])):
            t = time.perf_counter()
            _gluon.train_step(runner, loss, trainer, [X], [y], batch)
            nd.waitall()
            times.append(time.perf_counter() - t)
    out[name] = statistics.median(times[2:])
print(json.dumps(out))
'''


def spin():
    while True:
        pass


def measure(env, steps):
    full = dict(os.environ, **env)
    res = subprocess.run([sys.executable, '-c', CHILD, str(steps)], env=full,
                         capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--steps', type=int, default=20)
    p.add_argument('--busy', type=int, nargs='+', default=[0, 1])
    a = p.parse_args()
    rows = []
    for busy in a.busy:
        spinners = [multiprocessing.Process(target=spin, daemon=True) for _ in range(busy)]
        for s in spinners:
            s.start()
        time.sleep(0.5)
        for name, env in SETTINGS.items():
            r = measure(env, a.steps)
            rows.append((busy, name, r))
            print('busy cores %d | %-26s | %s' % (busy, name, ', '.join(
                '%s %.1f ms' % (k, 1000 * v) for k, v in r.items())), flush=True)
        for s in spinners:
            s.terminate()
    print('\n| other busy cores | setting | ResNet-18 ms/step | BN-LeNet (Gluon) ms/step |')
    print('| ---: | --- | ---: | ---: |')
    for busy, name, r in rows:
        print('| %d | %s | %.1f | %.1f |' % (busy, name, 1000 * r['ResNet-18'],
                                            1000 * r['BN-LeNet (Gluon)']))


if __name__ == '__main__':
    main()
