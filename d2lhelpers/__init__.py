"""Helpers behind the d2l-modern-cnns notebooks.

Import this package before ``mxnet``: it sets ``OMP_NUM_THREADS`` so that
MXNet uses every physical core (see ``_threads``).
"""
from ._threads import configure_threads

OMP_THREADS = configure_threads()

# The rest imports mxnet, so it comes after the thread setup.
from . import (cost, data, diagram, experiments, explorers, hybrid,  # noqa: E402
               models, plan, settings, shapes, throughput, timeline, train, widgets)
from .context import try_gpu, try_all_gpus, describe_device  # noqa: E402
from .data import (load_data_fashion_mnist, get_fashion_mnist_labels,  # noqa: E402
                   show_fashion_mnist)
from .settings import training_settings  # noqa: E402
from .plan import plan_training  # noqa: E402
from .shapes import shape_table, param_count  # noqa: E402
from .train import train_ch5, evaluate_accuracy, TrainingDiverged  # noqa: E402
from .widgets import Explorer  # noqa: E402
from .fonts import use_cjk_font  # noqa: E402

CJK_FONT = use_cjk_font()  # every figure draws Chinese with one font

__version__ = '0.1.0'
