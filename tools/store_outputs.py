"""Execute notebooks and store their outputs exactly as nbval will see them.

``jupyter nbconvert --execute`` stores what a browser would end up showing:
it applies ``clear_output``, display updates and Output-widget capture. nbval
does none of that; it compares the raw display/stream messages of each cell.
So we collect the same messages nbval collects (nbval's own stream
coalescing), with two rules:

* a cell whose output nbval compares must not use ``clear_output`` or display
  updates (nbval would see something else than a learner): we stop and say so;
* in a cell tagged ``nbval-ignore-output`` (training, timings), clears and
  updates are applied, so the stored output is the final picture a learner
  sees (the last plot, not every frame).

The notebook is also written the way JupyterLab would save it unchanged:
nbformat 4.5 with cell ids, and the kernel's own ``language_info`` and
``kernelspec`` (JupyterLab writes both when a kernel starts, and a notebook
that differs opens already marked modified; ``tests/test_notebook_files.py``
checks this).

Run through ``make store-outputs NB=notebooks/xx.ipynb`` (``D2L_MODE=quick``:
stored outputs are what a CPU learner sees; ``D2L_FULL_PLAN=1``: the full
training plans, as on the reference machine).
"""
import argparse
import os
import queue
import sys
import time

import nbformat
from jupyter_client.manager import start_new_kernel
from nbformat.v4.nbbase import random_cell_id
# nbval internals: nbval is pinned in pyproject.toml for them.
from nbval.plugin import coalesce_streams, find_comment_markers, find_metadata_tags

IGNORE = 'nbval-ignore-output'  # a cell tag, so learners see no marker in the code


class StoreError(RuntimeError):
    pass


def _cell_options(cell):
    """nbval's options for ``cell``, read from its tags (comment markers are refused)."""
    markers = dict(find_comment_markers(cell.source))
    if markers:
        raise StoreError('a cell holds an NBVAL comment marker; use the cell tag '
                         '%r instead, so learners do not see test markers' % IGNORE)
    return dict(find_metadata_tags(cell.metadata))


def run_cell(kc, cell, index, timeout):
    """Execute one cell; return its outputs as nbval would collect them."""
    ignored = not _cell_options(cell).get('check', True)
    if cell.source.rstrip().endswith(';'):
        # nbval executes with store_history=False, and then IPython does not
        # see the trailing ';' (it looks it up in the history): the value is
        # displayed after all. Assign it instead (``_ = ...``).
        raise StoreError('cell %d ends with ";", which nbval ignores; assign the '
                         'value instead (_ = ...)' % index)
    # The same request nbval sends (store_history=False changes what IPython shows).
    msg_id = kc.execute(cell.source, store_history=False, allow_stdin=False,
                        stop_on_error=False)
    outputs, by_display_id, pending_clear = [], {}, False
    deadline = time.time() + timeout
    while True:
        try:
            msg = kc.get_iopub_msg(timeout=max(1, deadline - time.time()))
        except queue.Empty:
            raise StoreError('cell %d did not finish within %d s' % (index, timeout))
        if msg['parent_header'].get('msg_id') != msg_id:
            continue
        kind, content = msg['msg_type'], msg['content']
        if kind == 'status' and content['execution_state'] == 'idle':
            break
        if kind in ('clear_output', 'update_display_data'):
            if not ignored:
                raise StoreError(
                    'cell %d sends %s, which nbval does not apply, so its '
                    'stored output would not match nbval\'s run; tag the cell '
                    '%s or display without clearing/updating.'
                    % (index, kind, IGNORE))
            if kind == 'clear_output':
                if content.get('wait'):
                    pending_clear = True
                else:
                    outputs.clear()
            else:
                target = by_display_id.get(content.get('transient', {}).get('display_id'))
                if target is not None:
                    target['data'], target['metadata'] = content['data'], content['metadata']
            continue
        if kind not in ('stream', 'display_data', 'execute_result', 'error'):
            continue
        if pending_clear:
            outputs.clear()
            pending_clear = False
        if kind == 'error':
            if not _cell_options(cell).get('check_exception'):
                raise StoreError('cell %d raised %s: %s'
                                 % (index, content['ename'], content['evalue']))
            out = nbformat.v4.new_output('error', ename=content['ename'],
                                         evalue=content['evalue'],
                                         traceback=content['traceback'])
        elif kind == 'stream':
            out = nbformat.v4.new_output('stream', name=content['name'],
                                         text=content['text'])
        else:
            out = nbformat.v4.new_output(kind, data=content['data'],
                                         metadata=content['metadata'])
            if kind == 'execute_result':
                out.execution_count = content['execution_count']
            display_id = content.get('transient', {}).get('display_id')
            if display_id:
                by_display_id[display_id] = out
        outputs.append(out)
    return coalesce_streams(outputs)


def store(path, timeout):
    nb = nbformat.read(path, as_version=4)
    km, kc = start_new_kernel(kernel_name='python3',
                              cwd=os.path.dirname(os.path.abspath(path)))
    try:
        info = kc.kernel_info(reply=True, timeout=60)['content']
        nb.metadata.language_info = info['language_info']
        spec = km.kernel_spec
        nb.metadata.kernelspec = {'display_name': spec.display_name,
                                  'language': spec.language, 'name': 'python3'}
        count = 0
        for index, cell in enumerate(c for c in nb.cells if c.cell_type == 'code'):
            start = time.time()
            count += 1
            cell.outputs = run_cell(kc, cell, index, timeout)
            cell.execution_count = count
            for out in cell.outputs:
                if out.output_type == 'execute_result':
                    out.execution_count = count
            cell.metadata.pop('execution', None)
            print('  cell %2d: %5.1f s' % (index, time.time() - start), flush=True)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    nb.nbformat_minor = max(nb.nbformat_minor, 5)  # 4.5: cells have ids
    for cell in nb.cells:
        cell.setdefault('id', random_cell_id())
    nbformat.validate(nb)
    nbformat.write(nb, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('notebooks', nargs='+')
    parser.add_argument('--timeout', type=int, default=1200,
                        help='seconds one cell may take')
    args = parser.parse_args()
    for path in args.notebooks:
        print('%s (D2L_MODE=%s, D2L_FULL_PLAN=%s)' % (path, os.environ.get('D2L_MODE', 'unset'),
                                                     os.environ.get('D2L_FULL_PLAN', 'unset')))
        start = time.time()
        try:
            store(path, args.timeout)
        except StoreError as err:
            sys.exit('%s: %s. Nothing was written.' % (path, err))
        print('  stored in %.0f s' % (time.time() - start))


if __name__ == '__main__':
    main()
