"""The one way the benchmark scripts write their results into README.md."""
import re


def replace_block(readme, mark, text):
    """Put ``text`` between the markers ``mark = (start, end)`` of the file
    ``readme`` (a pathlib.Path), appending the block when the markers are not
    there yet; written to a temporary file and renamed: all or nothing."""
    old = readme.read_text()
    block = '%s\n%s\n%s' % (mark[0], text, mark[1])
    if mark[0] in old:
        new = re.sub(re.escape(mark[0]) + '.*?' + re.escape(mark[1]),
                     lambda _: block, old, flags=re.S)
    else:
        new = old.rstrip('\n') + '\n\n' + block + '\n'
    tmp = readme.with_suffix('.md.tmp')
    tmp.write_text(new)
    tmp.replace(readme)
