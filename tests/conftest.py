import os

# The tests never wait on the network: data comes from this machine or the
# embedded subset (d2lhelpers.data reads this variable).
os.environ.setdefault('D2L_OFFLINE', '1')

import d2lhelpers  # noqa: E402,F401  (sets OMP_NUM_THREADS before mxnet loads)
