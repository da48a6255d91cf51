"""Helpers behind the d2l-modern-cnns notebooks.

Import this package before ``mxnet``: it sets ``OMP_NUM_THREADS`` so that
MXNet uses every physical core (see ``_threads``).
"""
from ._threads import configure_threads

OMP_THREADS = configure_threads()

from .context import try_gpu, try_all_gpus, describe_device  # noqa: E402

__version__ = '0.1.0'
