"""MNIST: the four verified IDX files (``mnist``) and the IDX format itself (``idx``)."""

from lecture_utils.data.mnist import *  # noqa: F403 - load_mnist and friends, as notebooks import them
from lecture_utils.data.mnist import __all__  # noqa: F401
