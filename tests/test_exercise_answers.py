"""Every exercise of the four sections has a worked answer, collapsed when the
notebook opens (issue 16).

The convention, read off the notebooks (nothing per exercise is listed here):
- the exercises live under a ``## 练习`` heading, up to the next heading of
  level 1-2 or the notebook's end;
- each exercise is a markdown cell whose heading is ``### 练习 N`` (N = 1, 2,
  ... in order), its text starting with ``N.`` or ``**N.``;
- the very next cell is the answer's heading, exactly ``#### 参考答案``, with
  JupyterLab 4's cell metadata ``"jp-MarkdownHeadingCollapsed": true``;
- the answer's cells follow, up to the next exercise.

Whether a cell is hidden is computed as JupyterLab 4.6 does it (checked in
``jlab_core.*.js``: ``MarkdownCell`` reads ``jp-MarkdownHeadingCollapsed``;
a cell's heading level is the smallest level among its headings; a collapsed
heading hides the following cells up to the next cell whose level is <= its
own). So an answer with a ``###`` heading inside, or an exercise without its
heading, fails here as it would show wrongly in JupyterLab.
"""
import pathlib
import re

import nbformat
import pytest

NOTEBOOKS = pathlib.Path(__file__).resolve().parent.parent / 'notebooks'
SECTION_NOTEBOOKS = ['01_googlenet.ipynb', '02_batch_norm.ipynb', '03_resnet.ipynb',
                     '04_densenet.ipynb']
# The book's exercises plus the notebook's own, as counted when the answers
# were written: fewer means an exercise was dropped.
AT_LEAST = {'01_googlenet.ipynb': 4, '02_batch_norm.ipynb': 5, '03_resnet.ipynb': 4,
            '04_densenet.ipynb': 3}
COLLAPSED = 'jp-MarkdownHeadingCollapsed'
ANSWER_HEADING = '#### 参考答案'
EXERCISE_HEADING = re.compile(r'^###\s+练习\s*(\d+)')
NUMBERED_ITEM = re.compile(r'^(?:\*\*)?(\d+)\.\s')
ATX_HEADING = re.compile(r'^ {0,3}(#{1,6})(?:\s|$)')
FENCE = re.compile(r'^ {0,3}(```|~~~)')
NO_HEADING = 7  # JupyterLab's level for a cell without a heading


def heading_level(cell):
    """The smallest ATX heading level in a markdown cell (outside code fences)."""
    if cell.cell_type != 'markdown':
        return NO_HEADING
    level, fenced = NO_HEADING, False
    for line in cell.source.splitlines():
        if FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            m = ATX_HEADING.match(line)
            if m:
                level = min(level, len(m.group(1)))
    return level


def hidden_cells(cells):
    """Indices JupyterLab hides when the notebook opens (collapsed headings)."""
    hidden, i = set(), 0
    while i < len(cells):
        level = heading_level(cells[i])
        if level < NO_HEADING and cells[i].metadata.get(COLLAPSED) is True:
            j = i + 1
            while j < len(cells) and heading_level(cells[j]) > level:
                hidden.add(j)
                j += 1
            i = j
        else:
            i += 1
    return hidden


def exercise_section(cells):
    """``(start, end)`` cell indices of the ``## 练习`` section (start: its heading)."""
    starts = [i for i, c in enumerate(cells)
              if heading_level(c) == 2 and c.source.lstrip().startswith('## 练习')]
    assert len(starts) == 1, 'expected one "## 练习" heading cell, found %d' % len(starts)
    start = starts[0]
    end = next((i for i in range(start + 1, len(cells)) if heading_level(cells[i]) <= 2),
               len(cells))
    return start, end


def exercises(cells):
    """``[(number, cell index), ...]`` of the exercise cells, in order."""
    start, end = exercise_section(cells)
    found = []
    for i in range(start + 1, end):
        if heading_level(cells[i]) == 3:
            m = EXERCISE_HEADING.match(cells[i].source.lstrip())
            assert m, 'cell %d: a level-3 heading in 练习 must read "### 练习 N"' % i
            found.append((int(m.group(1)), i))
    return found


def answer_range(cells, index, following):
    """Cell indices of the answer after exercise cell ``index`` (heading excluded)."""
    _, end = exercise_section(cells)
    stop = following if following is not None else end
    return range(index + 2, stop)


def check_answers(cells, at_least):
    """The convention's assertions for one notebook's cells."""
    found = exercises(cells)
    numbers = [n for n, _ in found]
    assert numbers == list(range(1, len(found) + 1)), 'exercises numbered %s' % numbers
    hidden = hidden_cells(cells)
    for k, (number, index) in enumerate(found):
        where = '练习 %d (cell %d)' % (number, index)
        body = [l for l in cells[index].source.splitlines()[1:] if l.strip()]
        m = NUMBERED_ITEM.match(body[0].lstrip()) if body else None
        assert m and int(m.group(1)) == number, \
            '%s: its text should start with "%d." or "**%d."' % (where, number, number)
        assert index not in hidden, '%s is hidden inside the answer above it' % where
        head = cells[index + 1] if index + 1 < len(cells) else None
        assert head is not None and head.cell_type == 'markdown' \
            and head.source.strip() == ANSWER_HEADING, \
            '%s: the next cell should be exactly "%s"' % (where, ANSWER_HEADING)
        assert head.metadata.get(COLLAPSED) is True, \
            '%s: its 参考答案 heading is not collapsed (%s: true)' % (where, COLLAPSED)
        following = found[k + 1][1] if k + 1 < len(found) else None
        answer = answer_range(cells, index, following)
        assert len(answer) > 0, '%s: the answer has no cells' % where
        for i in answer:
            m = NUMBERED_ITEM.match(cells[i].source.lstrip()) \
                if cells[i].cell_type == 'markdown' else None
            assert not (m and int(m.group(1)) > number), (
                'cell %d in the answer to %s starts like exercise %s: give it its own '
                '"### 练习 %s" heading' % (i, where, m.group(1), m.group(1)))
        shown = [i for i in answer if i not in hidden]
        assert not shown, '%s: answer cells %s are visible when the notebook opens' % (
            where, shown)
    assert len(found) >= at_least, '%d exercises, expected at least %d' % (len(found), at_least)


@pytest.mark.parametrize('notebook', SECTION_NOTEBOOKS)
def test_every_exercise_has_a_collapsed_answer(notebook):
    cells = nbformat.read(str(NOTEBOOKS / notebook), as_version=4).cells
    check_answers(cells, AT_LEAST[notebook])


# ------------------------------------------- the checks notice mistakes
def md(source, **metadata):
    return nbformat.v4.new_markdown_cell(source, metadata=metadata)


def good_cells():
    return [md('## 小结\n\n* 要点'), md('## 练习'),
            md('### 练习 1\n\n1. 第一题'), md(ANSWER_HEADING, **{COLLAPSED: True}),
            md('说明'), nbformat.v4.new_code_cell('print(1)'),
            md('### 练习 2\n\n**2. 第二题**'), md(ANSWER_HEADING, **{COLLAPSED: True}),
            md('只需指向上文。')]


def test_a_well_formed_section_passes():
    check_answers(good_cells(), 2)
    assert hidden_cells(good_cells()) == {4, 5, 8}


@pytest.mark.parametrize('spoil, message', [
    (lambda c: c[3].metadata.pop(COLLAPSED), 'not collapsed'),
    (lambda c: setattr(c[4], 'source', '### 细节\n\n说明'), 'level-3 heading'),
    (lambda c: setattr(c[4], 'source', '#### 细节\n\n说明'), 'visible'),
    (lambda c: setattr(c[6], 'source', '2. 第二题'), 'starts like exercise 2'),
    (lambda c: c.pop(7), 'should be exactly'),
    (lambda c: setattr(c[6], 'source', '### 练习 3\n\n3. 第二题'), 'numbered'),
    (lambda c: setattr(c[2], 'source', '### 练习 1\n\n第一题'), 'should start with'),
    (lambda c: c.pop(8), 'no cells'),
])
def test_the_checks_notice_a_spoiled_section(spoil, message):
    cells = good_cells()
    spoil(cells)
    with pytest.raises(AssertionError, match=message):
        check_answers(cells, 2)


def test_too_few_exercises_fail():
    with pytest.raises(AssertionError, match='at least 3'):
        check_answers(good_cells(), 3)


def test_a_heading_in_a_code_fence_does_not_count():
    cell = md('说明\n\n```\n# 注释，不是标题\n```')
    assert heading_level(cell) == NO_HEADING
    assert heading_level(md('文字\n\n#### 参考答案\n\n## 练习')) == 2
