import os
from pathlib import Path

# The tests never wait on the network: data comes from this machine or the
# embedded subset (d2lhelpers.settings reads this variable).
os.environ.setdefault('D2L_OFFLINE', '1')
# Matplotlib's configuration and font cache inside the project, as `make test`
# sets it: a stale ~/.cache/matplotlib must not change what the tests see.
os.environ.setdefault('MPLCONFIGDIR', str(Path(__file__).resolve().parent.parent
                                          / '.cache' / 'matplotlib'))

import d2lhelpers  # noqa: E402,F401  (sets OMP_NUM_THREADS before mxnet loads)
