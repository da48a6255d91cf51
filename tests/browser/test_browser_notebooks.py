"""Every notebook, in JupyterLab in headless Chromium, as a learner uses it.

For each ``notebooks/*.ipynb`` (found at collection time; the server runs a
temporary copy under ``D2L_MODE=smoke``): Run > Run All Cells, wait for the
kernel, check that every code cell ran, that no cell shows an error, that
every widget rendered; then drive each explorer as ``EXPLORERS`` says (move a
control, check the displayed result; an invalid combination shows its
sentence; the explorer still works afterwards) and save screenshots under
``test-artifacts/screenshots/``.

Adding an explorer to a notebook means adding its row to ``EXPLORERS``: the
test fails when a notebook has an explorer the table does not describe.
"""
import dataclasses
import re

import pytest

import labdriver


@dataclasses.dataclass(frozen=True)
class Step:
    """Set ``values`` (control label -> value, in this order), then expect:

    * ``shows``: regexes found in the explorer's output text;
    * ``error``: a regex of the explanatory sentence (an invalid step); None
      for a valid step, where no sentence may show;
    * ``redraws``: the <img> of a figure in the output changed.
    """
    values: dict
    shows: tuple = ()
    error: str = None
    redraws: bool = False


@dataclasses.dataclass(frozen=True)
class ExplorerCheck:
    what: str
    steps: tuple
    # Why no step is invalid, when the controls cannot reach an invalid value.
    no_invalid_because: str = None


# The same two views close every section's "看一看训练好的网络" (smoke setting: 100 test images).
_ALWAYS_IN_RANGE = 'a checkbox, drop-downs and sliders whose every position is valid'
CONFUSION = ExplorerCheck('Confusion matrix on the test set', (
    Step({'按行显示百分比': True}, shows=(r'测试集 100 张图像',), redraws=True),
), no_invalid_because=_ALWAYS_IN_RANGE)
MISTAKES = ExplorerCheck('Most confident mistakes', (
    Step({'图像数': 4}, shows=(r'最有把握的 4 个错误',)),
    Step({'真实类别': '包'}, shows=(r'真实类别为包的 10 张测试图像里',)),
), no_invalid_because=_ALWAYS_IN_RANGE)


EXPLORERS = {
    '00_setup_check': [],
    '01_googlenet': [
        ExplorerCheck('Inception block: concatenated channels', (
            Step({'c1': 100}, shows=(r'100 \+ 128 \+ 32 \+ 32 = 292 个通道',
                                     r'\(1, 292, 12, 12\)'), redraws=True),
            Step({'c1': 0}, error=r'^c1 应在 1 到 1024 之间，收到的是 0；Inception 块里每个卷积层'),
            Step({'c1': 64}, shows=(r'64 \+ 128 \+ 32 \+ 32 = 256 个通道',
                                    r'\(1, 256, 12, 12\)')),
            Step({'c4': 64}, shows=(r'64 \+ 128 \+ 32 \+ 64 = 288 个通道',)),
        )),
        ExplorerCheck('GoogLeNet module shapes by input size', (
            Step({'输入高宽': 224}, shows=(r'输入为 224×224 时，各模块的输入：b1 224×224、'
                                           r'b2 56×56、b3 28×28、b4 14×14、b5 7×7',)),
            Step({'输入高宽': 20}, error=r'^输入为 20×20 时，特征图在 b5 的输入处已经只有 1×1'
                                         r'.*输入至少要 33×33'),
            Step({'输入高宽': 33}, shows=(r'输入为 33×33 时，各模块的输入',)),
        )),
        ExplorerCheck('Inception paths of a picked test image', (
            Step({'测试图像': 7}, shows=(r'测试图像 #7：真实类别',), redraws=True),
            Step({'起始通道': 40}, error=r'^first_channel 应在 0 到 31 之间'),
            Step({'起始通道': 0}, redraws=True),
        )),
        CONFUSION, MISTAKES,
    ],
    '02_batch_norm': [
        ExplorerCheck('BN moving averages: the plot is redrawn', (
            Step({'批量大小': 256}, redraws=True,
                 shows=(r'批量大小 256：每个小批量的估计是 200,704 个像素值的平均',)),
            Step({'动量': 1}, error=r'^momentum 应在 0 到 1 之间且小于 1，收到的是 1'),
            Step({'动量': 0.5}, redraws=True, shows=(r'动量 0\.5：移动平均 = 0\.5 × 移动平均',)),
            Step({'小批量个数': 20}, redraws=True),
        )),
        ExplorerCheck('Pre-activation percentiles over training', (
            Step({'激活函数': 3}, shows=(r'激活函数 3（第 1 个全连接层之后）',), redraws=True),
        ), no_invalid_because=_ALWAYS_IN_RANGE),
        ExplorerCheck('Learned gamma and beta per channel', (
            Step({'批量归一化层': 3}, shows=(r'有 120 个通道',), redraws=True),
        ), no_invalid_because=_ALWAYS_IN_RANGE),
        ExplorerCheck('A test image before and after batch normalization', (
            Step({'测试图像': 7}, shows=(r'测试图像 #7：真实类别',), redraws=True),
            Step({'批量归一化层': 3}, error=r'^批量归一化层 3（第 1 个全连接层之后）接在全连接层之后'),
            Step({'批量归一化层': 1}, redraws=True),
        )),
        CONFUSION, MISTAKES,
    ],
    '03_resnet': [
        ExplorerCheck("Residual block: the block's output shape", (
            Step({'输出通道数': 10}, shows=(r'把 \(4, 3, 6, 6\) 变成 \(4, 10, 3, 3\)',
                                            r'跨层连接是一个 1×1 卷积')),
            Step({'使用 1×1 卷积': False}, error=r'^主路径输出 \(4, 10, 3, 3\)，跨层连接却是 '
                                                 r'\(4, 3, 6, 6\)，两者无法相加：需要用 1×1 卷积'),
            Step({'使用 1×1 卷积': True}, shows=(r'把 \(4, 3, 6, 6\) 变成 \(4, 10, 3, 3\)',)),
            Step({'步幅': 1}, shows=(r'把 \(4, 3, 6, 6\) 变成 \(4, 10, 6, 6\)',)),
        )),
        ExplorerCheck('x, f(x) - x and the output of a residual block', (
            Step({'测试图像': 7}, shows=(r'测试图像 #7：真实类别',), redraws=True),
            Step({'起始通道': 100}, error=r'^first_channel 应在 0 到 63 之间'),
            Step({'残差块': 8}, shows=(r'残差块 8 上',)),
        )),
        ExplorerCheck('Residual branch against shortcut, per block', (
            Step({'图像数': 50}, shows=(r'比值最小的是残差块',), redraws=True),
        ), no_invalid_because=_ALWAYS_IN_RANGE),
        CONFUSION, MISTAKES,
    ],
    '04_densenet': [
        ExplorerCheck("Dense block: the output's channels", (
            Step({'增长率': 32}, shows=(r'通道数：3 \+ 2 × 32 = 67',
                                        r'输出 \(4, 67, 8, 8\)'), redraws=True),
            Step({'接过渡层': True}, shows=(r'transition_block\(33\) → 输出 \(4, 33, 4, 4\)',)),
            Step({'卷积层数': 4}, shows=(r'通道数：3 \+ 4 × 32 = 131',
                                         r'transition_block\(65\)')),
        ), no_invalid_because='every slider starts at 1 and a value typed below '
                              'the minimum is clamped to it, so no control reaches '
                              'a value dense_block_explorer refuses'),
        ExplorerCheck("A dense block's feature maps, grouped by the conv that made them", (
            Step({'测试图像': 7}, shows=(r'测试图像 #7：真实类别',), redraws=True),
            Step({'起始通道': 40}, error=r'^first_channel 应在'),
            Step({'起始通道': 0}, redraws=True),
        )),
        ExplorerCheck("The transition layer's weights per input group", (
            Step({'稠密块': 4}, error=r'^稠密块 4 后面没有过渡层'),
            Step({'稠密块': 2}, redraws=True),
        )),
        CONFUSION, MISTAKES,
    ],
    '05_compare': [
        ExplorerCheck('Training memory by input size and batch size', (
            Step({'输入高宽': 224}, shows=(r'输入 224×224、批量大小 128：为反向传播保留的层输出从',)),
            Step({'输入高宽': 20}, error=r'^输入为 20×20 时 DenseNet（至少 29×29）无法运行；'
                                         r'这 6 个网络都能接受的最小输入是 29×29'),
            Step({'输入高宽': 96}, shows=(r'输入 96×96、批量大小 128',)),
            Step({'批量大小': 256}, shows=(r'输入 96×96、批量大小 256',)),
        )),
    ],
}

NOTEBOOKS = sorted(p.name for p in labdriver.NOTEBOOK_DIR.glob('*.ipynb'))
SETTINGS_RE = re.compile(r'\b(book|quick|smoke) settings for (\w+)')


def _check_table():
    for stem, checks in EXPLORERS.items():
        for check in checks:
            steps = check.steps
            assert any(s.error is None and (s.shows or s.redraws) for s in steps), check.what
            if check.no_invalid_because is None:
                assert any(s.error for s in steps), (
                    '%s: add an invalid step, or say why there is none' % check.what)
            for s, after in zip(steps, steps[1:] + (None,)):
                # After an invalid value, the explorer must be shown to work again.
                assert s.error is None or (after is not None and after.error is None), check.what


_check_table()


@pytest.mark.parametrize('name', NOTEBOOKS)
def test_notebook_in_the_browser(open_notebook, name):
    stem = name[:-len('.ipynb')]
    nb = open_notebook(name)
    cells = nb.run_all()

    errors = nb.error_outputs(cells)
    assert not errors, '%s: cells show errors:\n%s' % (
        name, '\n\n'.join('cell %d:\n%s' % (i, text[-2000:]) for i, text in errors))
    assert not nb.unexecuted(cells), '%s: cells did not run: %s' % (name, nb.unexecuted(cells))
    assert not nb.broken_widgets(cells), '%s: widgets not rendered: %s' % (
        name, nb.broken_widgets(cells))
    modes = {m.groups() for c in cells for o in c['outputs'] for m in SETTINGS_RE.finditer(o['text'])}
    assert all(mode == 'smoke' for mode, _ in modes), (
        'the kernel did not get D2L_MODE=smoke: %s' % sorted(modes))

    checks = EXPLORERS.get(stem, [])
    found = nb.explorers().count()
    assert found == len(checks), (
        '%s has %d explorers (.d2l-explorer) but EXPLORERS in %s describes %d: add a row '
        'for each explorer, in notebook order.' % (name, found, __file__, len(checks)))
    if not checks:
        nb.screenshot(stem)
    for n, check in enumerate(checks):
        _drive_explorer(nb, stem, n, check)

    # Nothing the explorers did left an error behind (e.g. a traceback in an Output).
    errors = nb.error_outputs(nb.cells())
    assert not errors, '%s: errors after using the explorers:\n%s' % (name, errors)
    nb.save()
    assert nb.saved_error_outputs() == [], name


def _drive_explorer(nb, stem, n, check):
    ex = nb.explorer(n)
    what = '%s explorer #%d (%s)' % (stem, n, check.what)
    state = ex.wait_settled()
    assert not state['loading'], '%s did not render: %r' % (what, state)
    assert state['error'] == '', '%s starts with an error: %r' % (what, state['error'])
    assert state['output'].strip() or state['images'], '%s shows nothing' % what
    shot_valid = shot_invalid = False
    for step in check.steps:
        before = state
        for label, value in step.values.items():
            state = ex.set(label, value)
        desc = '%s after setting %s' % (what, step.values)
        assert 'Traceback' not in state['output'], '%s: traceback:\n%s' % (desc, state['output'])
        if step.error:
            assert re.search(step.error, state['error'], re.S), (
                '%s: expected the sentence /%s/, the explorer shows %r'
                % (desc, step.error, state['error'] or state['output'][:500]))
            if not shot_invalid:
                nb.screenshot('%s-explorer%d-invalid' % (stem, n), ex.locator)
                shot_invalid = True
            continue
        assert state['error'] == '', '%s: unexpected sentence %r' % (desc, state['error'])
        for pattern in step.shows:
            assert re.search(pattern, state['output']), (
                '%s: /%s/ not in the output:\n%s' % (desc, pattern, state['output'][:3000]))
        if step.redraws:
            assert state['images'] and state['images'] != before['images'], (
                '%s: the figure was not redrawn (images %s -> %s)'
                % (desc, before['images'], state['images']))
        if not shot_valid:
            nb.screenshot('%s-explorer%d' % (stem, n), ex.locator)
            shot_valid = True
