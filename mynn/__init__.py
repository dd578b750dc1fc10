"""mynn: neural networks from scratch on numpy alone.

Each object lives in the module named after its part of the seed document (``mynn.layers``,
``mynn.activations``, ``mynn.loss``, ...), and each module lists its public names in
``__all__``. The package re-exports exactly those names, so ``from mynn import Dense`` and
``from mynn.layers import Dense`` are the same class, and a name added to a module's
``__all__`` is public here too. (``mynn.exercises`` and ``mynn.bridge``, which needs
PyTorch, are imported by name.)
"""

from . import (
    activations,
    datasets,
    diagnostics,
    gradcheck,
    layers,
    loss,
    metrics,
    mnist,
    model,
    optimizers,
    saving,
)
from .activations import *  # noqa: F403
from .datasets import *  # noqa: F403
from .diagnostics import *  # noqa: F403
from .gradcheck import *  # noqa: F403
from .layers import *  # noqa: F403
from .loss import *  # noqa: F403
from .metrics import *  # noqa: F403
from .mnist import *  # noqa: F403
from .model import *  # noqa: F403
from .optimizers import *  # noqa: F403
from .saving import *  # noqa: F403

__version__ = "0.1.0"

__all__ = [
    name
    for module in (
        layers,
        activations,
        loss,
        optimizers,
        metrics,
        model,
        saving,
        gradcheck,
        diagnostics,
        datasets,
        mnist,
    )
    for name in module.__all__
]
