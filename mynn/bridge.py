r"""Move a network between mynn and PyTorch, weights and training state included.

mynn itself needs numpy alone; this module is the one place that uses PyTorch, and importing
``mynn`` never imports it. Three functions and one scheduler:

- [to_torch][mynn.bridge.to_torch]: a mynn [Model][mynn.model.Model] as a
  ``torch.nn.Sequential`` with the same weights;
- [from_torch][mynn.bridge.from_torch]: a ``Sequential`` of supported modules as a mynn
  ``Model``;
- [to_torch_optimizer][mynn.bridge.to_torch_optimizer]: the torch optimizer and scheduler that
  continue a mynn optimizer's run step for step, its moments, caches and step count carried
  over;
- [InverseTimeDecay][mynn.bridge.InverseTimeDecay]: mynn's learning-rate decay
  $\eta_t = \eta / (1 + \text{decay}\cdot t)$ as a torch scheduler.

The layers map one to one, and each module keeps its mynn index in the ``Sequential``:

| mynn | torch |
|---|---|
| [Dense][mynn.layers.Dense] | ``nn.Linear``, whose ``weight`` is the transpose of ``weights`` |
| [Dropout][mynn.layers.Dropout] ``(rate)`` | ``nn.Dropout(p=rate)`` |
| [ReLU][mynn.activations.ReLU] | ``nn.ReLU`` |
| [LeakyReLU][mynn.activations.LeakyReLU] ``(alpha)`` | ``nn.LeakyReLU(negative_slope=alpha)`` |
| [Sigmoid][mynn.activations.Sigmoid] | ``nn.Sigmoid`` |
| [Tanh][mynn.activations.Tanh] | ``nn.Tanh`` |
| [Softmax][mynn.activations.Softmax] | ``nn.Softmax(dim=1)`` |
| [Linear][mynn.activations.Linear] | ``nn.Identity`` |

Without PyTorch, importing this module raises an ``ImportError`` that says how to install a
CPU build.
"""

from __future__ import annotations

import numpy as np

from ._validation import as_generator, check_number
from .activations import LeakyReLU, Linear, ReLU, Sigmoid, Softmax, Tanh
from .layers import Dense, Dropout, Layer
from .model import Model
from .optimizers import SGD, Adagrad, Adam, Optimizer, RMSProp

# How to install PyTorch for the bridge: part of the ImportError raised without it.
_INSTALL_HINT = (
    "The bridge runs on the CPU, so a CPU build of PyTorch is all it needs:\n"
    "    pip install torch --index-url https://download.pytorch.org/whl/cpu\n"
    "A plain `pip install torch` on Linux downloads a CUDA build of several GB instead.\n"
    "Where your package index already serves the CPU build (as on the machines mynn is\n"
    "tested on), `pip install torch==2.13.0` is enough: 2.13.0 is the version the bridge\n"
    "is tested with."
)

try:
    import torch
    from torch import nn
except ImportError as error:  # torch is optional: only this module needs it
    raise ImportError(
        f"mynn.bridge needs PyTorch, which could not be imported ({error}).\n{_INSTALL_HINT}",
        name="torch",
    ) from error

__all__ = ["to_torch", "from_torch", "to_torch_optimizer", "InverseTimeDecay"]

_DTYPES = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}
_SIMPLE_ACTIVATIONS = (
    (ReLU, nn.ReLU),
    (Sigmoid, nn.Sigmoid),
    (Tanh, nn.Tanh),
    (Linear, nn.Identity),
)


# --- layers -----------------------------------------------------------------------------


def to_torch(model: Model, *, logits: bool = False) -> nn.Sequential:
    """Build a ``torch.nn.Sequential`` that computes what ``model`` computes, with its weights.

    Each mynn layer becomes one module at the same index (see the table in
    [mynn.bridge][]). Weights and biases are copied (the two networks share no memory) in the
    model's dtype; a Dense layer's ``weights`` of shape ``(n_inputs, n_neurons)`` become the
    ``weight`` of shape ``(out_features, in_features)`` of ``nn.Linear``, the transpose.

    The module is returned in training mode, as torch creates every module: call ``.eval()``
    before comparing outputs when the model has Dropout. Regularization factors are not part
    of a torch module; [to_torch_optimizer][mynn.bridge.to_torch_optimizer] turns L2 factors
    into the optimizer's ``weight_decay``.

    Args:
        model: A mynn model made of the layers in the table.
        logits: Keep the final Softmax or Sigmoid (``False``, the default: the module returns
            what ``model.forward`` returns) or leave it out (``True``: the module returns the
            scores before it, which torch's ``nn.CrossEntropyLoss`` and
            ``nn.BCEWithLogitsLoss`` expect).

    Returns:
        A ``Sequential`` whose module ``i`` is layer ``i`` of the model.

    Raises:
        TypeError: If ``model`` is not a mynn Model or holds a layer without a torch
            counterpart (the message names it), or ``logits`` is not a bool.
        ValueError: If ``logits=True`` and the model does not end in Softmax or Sigmoid.

    Examples:
        >>> import numpy as np, torch
        >>> from mynn import Dense, Model, ReLU, Softmax
        >>> from mynn.bridge import to_torch
        >>> model = Model([Dense(4, 8, rng=0), ReLU(), Dense(8, 3, rng=1), Softmax()])
        >>> module = to_torch(model)
        >>> module
        Sequential(
          (0): Linear(in_features=4, out_features=8, bias=True)
          (1): ReLU()
          (2): Linear(in_features=8, out_features=3, bias=True)
          (3): Softmax(dim=1)
        )
        >>> X = np.random.default_rng(0).normal(size=(5, 4))
        >>> with torch.no_grad():
        ...     torch_output = module(torch.from_numpy(X)).numpy()
        >>> bool(np.abs(torch_output - model.forward(X)).max() < 1e-12)
        True
    """
    if not isinstance(model, Model):
        raise TypeError(f"model must be a mynn Model. Received: model={model!r}")
    if not isinstance(logits, bool):
        raise TypeError(f"logits must be True or False. Received: logits={logits!r}")
    layers = list(model.layers)
    if logits:
        if not layers or not isinstance(layers[-1], (Softmax, Sigmoid)):
            last = repr(layers[-1]) if layers else "no layer"
            raise ValueError(
                "logits=True leaves out a final Softmax or Sigmoid, but the model ends in "
                f"{last}. Received: logits=True"
            )
        layers = layers[:-1]
    return nn.Sequential(*(_module_of(index, layer) for index, layer in enumerate(layers)))


def _module_of(index: int, layer: Layer) -> nn.Module:
    if isinstance(layer, Dense):
        linear = nn.utils.skip_init(  # no random initialization: the weights are copied in
            nn.Linear, layer.n_inputs, layer.n_neurons, dtype=_DTYPES[layer.dtype]
        )
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(layer.weights.T))
            linear.bias.copy_(torch.from_numpy(layer.biases))
        return linear
    if isinstance(layer, Dropout):
        return nn.Dropout(p=layer.rate)
    if isinstance(layer, LeakyReLU):
        return nn.LeakyReLU(negative_slope=layer.alpha)
    if isinstance(layer, Softmax):
        return nn.Softmax(dim=1)
    for mynn_type, torch_type in _SIMPLE_ACTIVATIONS:
        if type(layer) is mynn_type:
            return torch_type()
    raise TypeError(
        f"to_torch cannot convert layer {index}, {layer!r}: it has no torch counterpart. "
        "Supported: Dense, Dropout, ReLU, LeakyReLU, Sigmoid, Tanh, Softmax, Linear."
    )


def from_torch(module: nn.Sequential, *, rng: np.random.Generator | int | None = None) -> Model:
    """Build a mynn [Model][mynn.model.Model] from a ``Sequential`` of supported modules.

    The reverse of [to_torch][mynn.bridge.to_torch]: each module becomes one mynn layer at the
    same index, weights copied (``weight.T`` becomes the Dense ``weights``). The model has no
    loss, optimizer or metric yet: set them before training.

    Args:
        module: A ``torch.nn.Sequential`` of ``nn.Linear`` (with bias, float32 or float64, one
            dtype for all), ``nn.Dropout``, ``nn.ReLU``, ``nn.LeakyReLU``, ``nn.Sigmoid``,
            ``nn.Tanh``, ``nn.Softmax(dim=1)`` (or ``dim=-1``) and ``nn.Identity``.
        rng: Source of the Dropout layers' masks (one Generator shared by all of them): a
            ``np.random.Generator``, an int random seed or ``None``.

    Returns:
        A mynn Model whose layer ``i`` is module ``i``.

    Raises:
        TypeError: If ``module`` is not a ``Sequential``, or one of its modules has no mynn
            counterpart, or a Linear's dtype is neither float32 nor float64 (the message
            names the module and its index).
        ValueError: If a module's settings have no mynn equivalent: a Linear without bias,
            Linear layers of different dtypes, a Softmax whose ``dim`` is not 1 or -1
            (``nn.Softmax()``, with ``dim=None``, included), a slope or dropout rate outside
            mynn's range; or if a Linear's ``in_features`` differ from the previous Linear's
            ``out_features``.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> from mynn.bridge import from_torch
        >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
        <torch._C.Generator object at ...>
        >>> module = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1), nn.Sigmoid())
        >>> model = from_torch(module)
        >>> print(*model.layers, sep="\\n")
        Dense(n_inputs=4, n_neurons=8, dtype='float32')
        Tanh()
        Dense(n_inputs=8, n_neurons=1, dtype='float32')
        Sigmoid()
        >>> bool((model.layers[0].weights == module[0].weight.detach().numpy().T).all())
        True
    """
    if not isinstance(module, nn.Sequential):
        raise TypeError(
            f"module must be a torch.nn.Sequential. Received: module={type(module).__name__}"
        )
    generator = as_generator(rng)
    children = list(module)
    dtypes = {child.weight.dtype for child in children if isinstance(child, nn.Linear)}
    if len(dtypes) > 1:
        raise ValueError(
            "the Linear modules must share one dtype, as a mynn model's Dense layers do. "
            f"Received: Linear modules of dtypes {sorted(str(d) for d in dtypes)}"
        )
    return Model([_layer_of(index, child, generator) for index, child in enumerate(children)])


def _layer_of(index: int, child: nn.Module, generator: np.random.Generator) -> Layer:
    where = f"module {index}, {child!r}"
    try:
        if isinstance(child, nn.Linear):
            return _dense_of(where, child)
        if type(child) is nn.Dropout:
            return Dropout(child.p, rng=generator)
        if type(child) is nn.LeakyReLU:
            return LeakyReLU(alpha=child.negative_slope)
        if type(child) is nn.Softmax:
            if child.dim not in (1, -1):
                raise ValueError(
                    "mynn's Softmax normalizes each row (dim=1) of a (n_samples, n_classes) "
                    f"batch. Received: dim={child.dim!r}"
                )
            return Softmax()
    except ValueError as error:
        raise ValueError(f"from_torch cannot convert {where}: {error}") from error
    for mynn_type, torch_type in _SIMPLE_ACTIVATIONS:
        if type(child) is torch_type:
            return mynn_type()
    raise TypeError(
        f"from_torch cannot convert {where}: mynn has no counterpart of "
        f"{type(child).__name__}. Supported: Linear, Dropout, ReLU, LeakyReLU, Sigmoid, Tanh, "
        "Softmax, Identity."
    )


def _dense_of(where: str, linear: nn.Linear) -> Dense:
    if linear.bias is None:
        raise ValueError("mynn's Dense always has biases. Received: a Linear with bias=False")
    numpy_dtype = {value: key for key, value in _DTYPES.items()}.get(linear.weight.dtype)
    if numpy_dtype is None:
        raise TypeError(
            f"from_torch cannot convert {where}: mynn computes in float32 or float64. "
            f"Received: weight of dtype {linear.weight.dtype}"
        )
    # rng=0: the initial weights are overwritten at once, so they need no fresh entropy.
    dense = Dense(linear.in_features, linear.out_features, rng=0, dtype=numpy_dtype)
    dense.weights = linear.weight.detach().cpu().numpy().T.copy()  # C order, as Dense makes
    dense.biases = linear.bias.detach().cpu().numpy().copy()
    return dense


# --- optimizers -------------------------------------------------------------------------


class InverseTimeDecay(torch.optim.lr_scheduler.LRScheduler):
    r"""mynn's learning-rate decay as a torch scheduler, SGD with momentum included.

    $$
    \eta_t = \frac{\eta}{1 + \text{decay}\cdot t}
    $$

    with $t$ the number of steps taken (starting from ``iterations``), computed as mynn computes
    [current_learning_rate][mynn.optimizers.Optimizer.current_learning_rate].
    Call ``step()`` after each ``optimizer.step()``, as for every torch scheduler.

    **Momentum correction.** mynn's SGD keeps each step's own rate inside the velocity,
    $v \leftarrow \mu v - \eta_t g$, $\theta \leftarrow \theta + v$; torch's keeps the rate
    outside, $b \leftarrow \mu b + g$, $\theta \leftarrow \theta - \eta_t b$, so a new rate
    rescales the whole history. The two agree while $\eta_t b = -v$. When the rate changes
    from $\eta_{t-1}$ to $\eta_t$, this scheduler multiplies every ``momentum_buffer`` of the
    optimizer by $\eta_{t-1}/\eta_t$, which keeps $\eta_t b = -v$ and so makes torch's SGD
    take mynn's steps: the same in exact arithmetic, and equal up to rounding in floating
    point (not bit for bit). Goyal et al. (2017) describe the same bookkeeping the other way
    round: they rescale the rate-inside velocity by $\eta_t/\eta_{t-1}$ so that it follows the
    rate-outside form, and call that factor the *momentum correction*. Optimizers without a
    ``momentum_buffer`` (Adagrad, RMSprop without momentum, Adam) are untouched.

    Args:
        optimizer: The torch optimizer whose rate it sets; ``lr`` of each parameter group is
            taken as $\eta$.
        decay: The decay factor, non-negative (0 keeps the rate constant).
        iterations: Steps already taken, $t$ of the first step (a run continued from mynn
            passes the mynn optimizer's ``iterations``).

    Examples:
        >>> import torch
        >>> from mynn.bridge import InverseTimeDecay
        >>> w = torch.zeros(1, requires_grad=True)
        >>> optimizer = torch.optim.SGD([w], lr=1.0)
        >>> scheduler = InverseTimeDecay(optimizer, decay=0.5, iterations=2)
        >>> scheduler.get_last_lr()  # 1 / (1 + 0.5 * 2)
        [0.5]
        >>> optimizer.step(); scheduler.step(); scheduler.get_last_lr()  # 1 / (1 + 0.5 * 3)
        [0.4]
    """

    def __init__(
        self, optimizer: torch.optim.Optimizer, decay: float, *, iterations: int = 0
    ) -> None:
        self.decay = check_number("decay", decay, low=0.0)
        if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 0:
            raise ValueError(
                f"iterations must be a non-negative integer. Received: iterations={iterations!r}"
            )
        self.iterations = iterations
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        """The rate of the next step for each parameter group: $\\eta / (1 + \\text{decay}\\,t)$."""
        t = self.iterations + self.last_epoch
        return [base / (1.0 + self.decay * t) for base in self.base_lrs]

    def step(self, epoch: None = None) -> None:
        """Move to the next step's rate and rescale momentum buffers to it (see above)."""
        before = [group["lr"] for group in self.optimizer.param_groups]
        super().step(epoch)
        for group, old in zip(self.optimizer.param_groups, before):
            if group["lr"] == old:
                continue
            for parameter in group["params"]:
                buffer = self.optimizer.state.get(parameter, {}).get("momentum_buffer")
                if buffer is not None:
                    buffer.mul_(old / group["lr"])


# mynn optimizer -> (torch class, its keyword arguments, {mynn buffer: torch state key})
def _torch_counterpart(optimizer: Optimizer):
    kind = type(optimizer)
    if kind is SGD:
        buffers = {"momentum": "momentum_buffer"} if optimizer.momentum else {}
        return torch.optim.SGD, {"momentum": optimizer.momentum}, buffers
    if kind is Adagrad:
        return torch.optim.Adagrad, {"eps": optimizer.epsilon}, {"cache": "sum"}
    if kind is RMSProp:
        kwargs = {"alpha": optimizer.rho, "eps": optimizer.epsilon}
        return torch.optim.RMSprop, kwargs, {"cache": "square_avg"}
    if kind is Adam:
        kwargs = {"betas": (optimizer.beta_1, optimizer.beta_2), "eps": optimizer.epsilon}
        return torch.optim.Adam, kwargs, {"momentum": "exp_avg", "cache": "exp_avg_sq"}
    raise TypeError(
        "to_torch_optimizer converts mynn's SGD, Adagrad, RMSProp and Adam. "
        f"Received: model.optimizer={optimizer!r}"
    )


def to_torch_optimizer(
    model: Model, module: nn.Sequential
) -> tuple[torch.optim.Optimizer, InverseTimeDecay]:
    r"""The torch optimizer and scheduler that continue ``model.optimizer``'s run on ``module``.

    ``module`` is the model's network in torch, as [to_torch][mynn.bridge.to_torch] makes it
    (module ``i`` is layer ``i``). The optimizer is torch's own class with mynn's settings,
    not torch's defaults:

    - ``SGD(learning_rate, momentum=mu)`` becomes ``SGD(lr, momentum=mu)``; the velocity $v$
      becomes ``momentum_buffer`` $= -v/\eta_t$;
    - ``Adagrad(epsilon=1e-7)`` becomes ``Adagrad(eps=1e-7)`` (torch's default is 1e-10);
      ``cache`` becomes ``sum``;
    - ``RMSProp(rho=0.9, epsilon=1e-7)`` becomes ``RMSprop(alpha=0.9, eps=1e-7)`` (torch's
      defaults 0.99, 1e-8); ``cache`` becomes ``square_avg``;
    - ``Adam(beta_1, beta_2, epsilon=1e-7)`` becomes ``Adam(betas=(beta_1, beta_2), eps=1e-7)``
      (torch's default 1e-8); ``momentum`` and ``cache`` become ``exp_avg`` and ``exp_avg_sq``.

    The step count (``iterations``) becomes each parameter's ``step`` and the scheduler's
    starting point, so Adam's bias correction and the decayed rate carry on where mynn left
    them. The scheduler, an [InverseTimeDecay][mynn.bridge.InverseTimeDecay], is returned even
    without decay (it then keeps the rate constant), so one training loop fits every case:
    ``loss.backward(); optimizer.step(); scheduler.step()``.

    An L2 factor $\lambda$ of a Dense layer (penalty $\lambda\sum w^2$, gradient $2\lambda w$)
    becomes ``weight_decay`` $= 2\lambda$ of that parameter's group, which adds the same
    $2\lambda w$ to the gradient; compute the torch loss without the penalty.

    Args:
        model: The mynn model, with its optimizer set (trained or not).
        module: Its network in torch; its parameters are what the returned optimizer updates.

    Returns:
        ``(optimizer, scheduler)``.

    Raises:
        TypeError: If the arguments are not a mynn Model and a ``Sequential``, or the model's
            optimizer is not SGD, Adagrad, RMSProp or Adam.
        ValueError: If the model has no optimizer, a Dense layer has an L1 factor (torch
            optimizers have no L1 penalty: add it to the loss yourself), or ``module`` does
            not hold an ``nn.Linear`` of the right shape where the model has a Dense layer.

    Examples:
        >>> import numpy as np, torch
        >>> from mynn import Adam, Dense, Linear, MeanSquaredError, Model
        >>> from mynn.bridge import to_torch, to_torch_optimizer
        >>> model = Model([Dense(1, 1, rng=0), Linear()])
        >>> model.set_loss(MeanSquaredError())
        >>> model.set_optimizer(Adam(learning_rate=0.1, decay=0.01))
        >>> X, y = np.linspace(-1, 1, 8)[:, None], np.linspace(0, 2, 8)[:, None]
        >>> _ = model.train(X, y, epochs=3, verbose=0)  # three mynn steps
        >>> module = to_torch(model)
        >>> optimizer, scheduler = to_torch_optimizer(model, module)
        >>> type(optimizer).__name__, optimizer.param_groups[0]["eps"]
        ('Adam', 1e-07)
        >>> optimizer.param_groups[0]["lr"] == model.optimizer.current_learning_rate  # 0.1 / 1.03
        True
        >>> float(optimizer.state[module[0].weight]["step"])  # Adam's bias correction goes on
        3.0
    """
    if not isinstance(model, Model):
        raise TypeError(f"model must be a mynn Model. Received: model={model!r}")
    if not isinstance(module, nn.Sequential):
        raise TypeError(
            f"module must be a torch.nn.Sequential. Received: module={type(module).__name__}"
        )
    mynn_optimizer = model.optimizer
    if mynn_optimizer is None:
        raise ValueError("the model has no optimizer to convert; call model.set_optimizer().")
    torch_class, kwargs, state_keys = _torch_counterpart(mynn_optimizer)

    # (mynn parameter name, mynn value, torch parameter, weight_decay), in the model's order
    pairs = []
    for index, layer in enumerate(model.layers):
        if not isinstance(layer, Dense):
            continue
        _check_linear(module, index, layer)
        for torch_name, mynn_name, l1, l2 in (
            ("weight", "weights", layer.weight_regularizer_l1, layer.weight_regularizer_l2),
            ("bias", "biases", layer.bias_regularizer_l1, layer.bias_regularizer_l2),
        ):
            if l1:
                raise ValueError(
                    f"layer {index}, {layer!r}, has an L1 penalty, which torch optimizers "
                    f"cannot apply; add l1 * {torch_name}.abs().sum() to the torch loss "
                    f"instead. Received: {torch_name}_regularizer_l1={l1!r}"
                )
            parameter = getattr(module[index], torch_name)
            value = getattr(layer, mynn_name)
            pairs.append((f"{index}.{mynn_name}", value, parameter, 2 * l2))

    groups: dict[float, list] = {}
    for _, _, parameter, weight_decay in pairs:
        groups.setdefault(weight_decay, []).append(parameter)
    param_groups = [{"params": params, "weight_decay": wd} for wd, params in groups.items()]
    torch_optimizer = torch_class(param_groups, lr=mynn_optimizer.learning_rate, **kwargs)
    scheduler = InverseTimeDecay(
        torch_optimizer, mynn_optimizer.decay, iterations=mynn_optimizer.iterations
    )

    # The state goes in through load_state_dict, which keys it by the parameters' positions.
    position = {
        id(parameter): i
        for i, parameter in enumerate(p for group in param_groups for p in group["params"])
    }
    rate = scheduler.get_last_lr()[0]  # the rate of the next step
    state = {}
    for name, value, parameter, _ in pairs:
        buffers = mynn_optimizer.state.get(name, {})
        entry = {}
        for mynn_key, torch_key in state_keys.items():
            array = buffers.get(mynn_key)
            if array is None or array.shape != value.shape:
                array = np.zeros_like(value)
            tensor = torch.tensor(array.T if array.ndim == 2 else array)
            if torch_key == "momentum_buffer":
                tensor = tensor.neg_().div_(rate)  # torch's buffer b, with rate * b = -v
            entry[torch_key] = tensor
        if torch_class is not torch.optim.SGD:
            entry["step"] = torch.tensor(float(mynn_optimizer.iterations))
        if entry:
            state[position[id(parameter)]] = entry
    saved = torch_optimizer.state_dict()
    saved["state"] = state
    torch_optimizer.load_state_dict(saved)
    return torch_optimizer, scheduler


def _check_linear(module: nn.Sequential, index: int, dense: Dense) -> None:
    child = module[index] if index < len(module) else None
    expected = (dense.n_neurons, dense.n_inputs)
    if not isinstance(child, nn.Linear) or tuple(child.weight.shape) != expected:
        found = "nothing" if child is None else repr(child)
        raise ValueError(
            f"module must hold, at index {index}, an nn.Linear with weight of shape {expected} "
            f"for the model's layer {dense!r} (use to_torch(model)). Received: {found}"
        )
