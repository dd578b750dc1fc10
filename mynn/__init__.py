"""mynn: neural networks from scratch on numpy alone.

The building blocks live in modules named after the seed document's parts (``mynn.layers``,
``mynn.activations``, ``mynn.loss``, ...); what the seed does not cover lives in modules named
after what it adds (``mynn.gradcheck``, ``mynn.saving``, ``mynn.diagnostics``, ``mynn.mnist``,
...). Each module lists its public names in ``__all__``, and the package re-exports exactly
those names, so ``from mynn import Dense`` and ``from mynn.layers import Dense`` are the same
class, and a name added to a module's ``__all__`` is public here too. Three modules are not
re-exported and are imported by name: ``mynn.exercises``, ``mynn.bridge`` (which needs
PyTorch) and ``mynn.figures`` (for matplotlib figures).
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
