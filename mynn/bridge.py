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

Classes are matched exactly, in both directions: a subclass may compute something else, so
it is refused, and so is a module whose computation the bridge cannot read from its class and
weights (hooks, quantized or compiled wrappers, frozen or tied parameters; see
[from_torch][mynn.bridge.from_torch]). Each refusal says what to convert instead.

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
    from torch.nn.utils import parametrize, prune
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
# Every class the bridge converts, mynn's and torch's: matched by exact type, never a subclass.
_COUNTERPARTS = {
    Dense: nn.Linear,
    Dropout: nn.Dropout,
    LeakyReLU: nn.LeakyReLU,
    Softmax: nn.Softmax,
    **dict(_SIMPLE_ACTIVATIONS),
}
_MYNN_NAMES = "Dense, Dropout, ReLU, LeakyReLU, Sigmoid, Tanh, Softmax, Linear"
_TORCH_NAMES = "Linear, Dropout, ReLU, LeakyReLU, Sigmoid, Tanh, Softmax, Identity"
_OUTPUTS = (Softmax, Sigmoid)  # what logits=True leaves out and output= appends


# --- layers -----------------------------------------------------------------------------


def to_torch(model: Model, *, logits: bool = False) -> nn.Sequential:
    """Build a ``torch.nn.Sequential`` that computes what ``model`` computes, with its weights.

    Each mynn layer becomes one module at the same index (see the table in
    [mynn.bridge][]). Weights and biases are copied (the two networks share no memory) in the
    model's dtype; a Dense layer's ``weights`` of shape ``(n_inputs, n_neurons)`` become the
    ``weight`` of shape ``(out_features, in_features)`` of ``nn.Linear``, the transpose.

    Layers are matched by exact class: a subclass of Dense or Softmax, or a layer whose
    ``forward`` or ``backward`` was replaced on the instance, is refused, since it may compute
    something other than the class the bridge knows.

    The module is returned in training mode, as torch creates every module: call ``.eval()``
    before comparing outputs when the model has Dropout (a mynn model has no mode:
    ``forward`` infers unless told ``training=True``). Dropout draws its masks from torch's
    random numbers, not from the layer's ``rng``: the two draw different masks.
    Regularization factors are not part of a torch module;
    [to_torch_optimizer][mynn.bridge.to_torch_optimizer] turns L2 factors into the
    optimizer's ``weight_decay``.

    Args:
        model: A mynn model made of the layers in the table.
        logits: Keep the final Softmax or Sigmoid (``False``, the default: the module returns
            what ``model.forward`` returns) or leave it out (``True``: the module returns the
            scores before it, which torch's ``nn.CrossEntropyLoss`` and
            ``nn.BCEWithLogitsLoss`` expect). [from_torch][mynn.bridge.from_torch]'s
            ``output`` puts it back.

    Returns:
        A ``Sequential`` whose module ``i`` is layer ``i`` of the model.

    Raises:
        TypeError: If ``model`` is not a mynn Model or holds a layer without a torch
            counterpart (the message names it: a class the bridge does not know, a subclass
            of one it knows, a replaced ``forward``), or ``logits`` is not a bool.
        ValueError: If ``logits=True`` and the model does not end in Softmax or Sigmoid, or a
            Dense layer's ``weights`` or ``biases`` were replaced by an array of another
            shape or dtype than the layer's sizes and dtype.

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
    for index, layer in enumerate(layers):
        _check_layer("to_torch cannot convert", index, layer)
    if logits:
        if not layers or type(layers[-1]) not in _OUTPUTS:
            last = repr(layers[-1]) if layers else "no layer"
            raise ValueError(
                "logits=True leaves out a final Softmax or Sigmoid, but the model ends in "
                f"{last}. Received: logits=True"
            )
        layers = layers[:-1]
    return nn.Sequential(*(_module_of(layer) for layer in layers))


def _check_layer(prefix: str, index: int, layer: Layer) -> None:
    """Refuse a mynn layer that is not exactly one of the classes the bridge converts."""
    where = f"{prefix} layer {index}, {layer!r}"
    kind = type(layer)
    if kind not in _COUNTERPARTS:
        known = next((cls for cls in _COUNTERPARTS if isinstance(layer, cls)), None)
        if known is not None:
            raise TypeError(
                f"{where}: {kind.__name__} is a subclass of {known.__name__}, and a subclass "
                "may compute something else, which the bridge cannot see. Use a plain "
                f"{known.__name__}, or write the torch module yourself. "
                f"Received: a layer of type {kind.__name__}"
            )
        raise TypeError(
            f"{where}: it has no torch counterpart. Supported: {_MYNN_NAMES}. "
            f"Received: a layer of type {kind.__name__}"
        )
    if kind is Dense:
        for name, shape in (
            ("weights", (layer.n_inputs, layer.n_neurons)),
            ("biases", (layer.n_neurons,)),
        ):
            array = getattr(layer, name)
            if getattr(array, "shape", None) != shape or array.dtype != layer.dtype:
                found = f"{type(array).__name__} of shape {getattr(array, 'shape', None)}"
                if hasattr(array, "dtype"):
                    found += f" and dtype {array.dtype}"
                raise ValueError(
                    f"{where}: its {name} were replaced by an array it does not describe; a "
                    f"Dense layer of these sizes holds {name} of shape {shape} and dtype "
                    f"{layer.dtype.name} (make a new Dense for other sizes). "
                    f"Received: {name} {found}"
                )
    for method in ("forward", "backward"):
        if method in vars(layer):
            raise TypeError(
                f"{where}: its {method} was replaced on the instance, so it may compute "
                f"something other than {kind.__name__}; delete it (del layer.{method}) or "
                f"write the torch module yourself. Received: layer.{method}="
                f"{vars(layer)[method]!r}"
            )


def _module_of(layer: Layer) -> nn.Module:
    kind = type(layer)
    if kind is Dense:
        linear = nn.utils.skip_init(  # no random initialization: the weights are copied in
            nn.Linear, layer.n_inputs, layer.n_neurons, dtype=_DTYPES[layer.dtype]
        )
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(layer.weights.T))
            linear.bias.copy_(torch.from_numpy(layer.biases))
        return linear
    if kind is Dropout:
        return nn.Dropout(p=layer.rate)
    if kind is LeakyReLU:
        return nn.LeakyReLU(negative_slope=layer.alpha)
    if kind is Softmax:
        return nn.Softmax(dim=1)
    return _COUNTERPARTS[kind]()


def from_torch(
    module: nn.Sequential,
    *,
    output: Softmax | Sigmoid | None = None,
    rng: np.random.Generator | int | None = None,
) -> Model:
    """Build a mynn [Model][mynn.model.Model] from a ``Sequential`` of supported modules.

    The reverse of [to_torch][mynn.bridge.to_torch]: each module becomes one mynn layer at the
    same index, weights copied (``weight.T`` becomes the Dense ``weights``). The model has no
    loss, optimizer or metric yet: set them before training.

    A PyTorch classifier usually ends in logits and leaves the softmax to its loss
    (``nn.CrossEntropyLoss``), while mynn's cross-entropy losses read probabilities: pass
    ``output=Softmax()`` (or ``Sigmoid()`` for ``nn.BCEWithLogitsLoss``'s networks) to append
    the activation, the reverse of ``to_torch(model, logits=True)``.

    The bridge converts what it can read from a module's class and weights, and refuses the
    rest rather than convert it into a network that computes something else:

    - classes are matched exactly: a subclass of ``nn.Linear`` (with its own ``forward``,
      parametrized, quantization-aware, lazy) or of ``nn.Sequential`` is refused, and so are
      quantized, ``torch.compile``'d and TorchScript modules (the message says what to
      convert instead: ``module._orig_mod`` for a compiled one, ``.float()`` for float16);
    - hooks are refused (forward, forward pre-, backward and backward pre-hooks of the
      ``Sequential`` or of a module, global module hooks, gradient hooks on a parameter), as
      is a ``forward`` replaced on the instance: they change what the module computes where
      the bridge cannot see. Remove them first (``handle.remove()``;
      ``torch.nn.utils.prune.remove`` for pruning);
    - frozen parameters (``requires_grad=False``) are refused: mynn trains every weight and
      bias of a model, so the frozen ones would be trained after the conversion. Unfreeze
      them (``module.requires_grad_(True)``) to convert them as trainable;
    - two parameters that lie in one storage are refused: one Linear twice, tied weights, and
      also separate views of one buffer (two Linears' weights, or a Linear's weight and bias),
      even with no element in common, since the check compares storages, not elements. mynn's
      layers own their weights, so the converted model would train tied weights apart;
      replacing the second Linear by ``copy.deepcopy`` of it gives it weights of its own (a
      deep copy of the whole network keeps a Linear used twice, and tied weights, tied).

    The training mode is not carried over, because a mynn model has none: ``forward``,
    ``predict`` and ``evaluate`` infer (Dropout off, as in ``.eval()``) and ``train`` trains
    (Dropout on, as in ``.train()``), whatever mode the module was in. A Dropout whose mode
    differs from the ``Sequential``'s (``module[i].eval()`` alone: off even while the network
    trains) has no mynn counterpart and is refused. Dropout draws its masks from ``rng``, not
    from torch's random numbers.

    Args:
        module: A ``torch.nn.Sequential`` of ``nn.Linear`` (with bias, float32 or float64, one
            dtype for all), ``nn.Dropout``, ``nn.ReLU``, ``nn.LeakyReLU``, ``nn.Sigmoid``,
            ``nn.Tanh``, ``nn.Softmax(dim=1)`` (or ``dim=-1``) and ``nn.Identity``.
        output: ``None`` (the default: the model ends where the module ends), or a
            ``Softmax()`` or ``Sigmoid()`` to append as the model's last layer.
        rng: Source of the Dropout layers' masks (one Generator shared by all of them): a
            ``np.random.Generator``, an int random seed or ``None``.

    Returns:
        A mynn Model whose layer ``i`` is module ``i``, followed by ``output`` if given.

    Raises:
        TypeError: If ``module`` is not exactly a ``Sequential``, or one of its modules has
            no mynn counterpart (an unknown class, a subclass of a known one, a quantized or
            compiled wrapper), or a Linear's dtype is neither float32 nor float64 (the message
            names the module and its index), or ``output`` is not ``Softmax()``,
            ``Sigmoid()`` or ``None``, or ``rng`` is not a ``np.random.Generator``, an int or
            ``None`` (a bool or a float included).
        ValueError: If a module's settings have no mynn equivalent: a Linear without bias,
            Linear layers of different dtypes, a Softmax whose ``dim`` is not 1 or -1
            (``nn.Softmax()``, with ``dim=None``, included), a slope or dropout rate outside
            mynn's range; or if a Linear's ``in_features`` differ from the previous Linear's
            ``out_features``, or a Linear's bias has another shape than
            ``(out_features,)``; or if a module has a hook, a replaced ``forward``, a frozen
            or meta-device parameter, or a parameter in the same storage as another parameter
            (see above), or a Dropout is in another mode than the ``Sequential``; or if
            ``output`` would follow a final Softmax or Sigmoid, or is a Softmax of a single
            output (always 1); or if ``rng`` is a negative int.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> from mynn import Softmax
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

        A classifier that ends in logits, made to end in probabilities:

        >>> logits = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
        >>> from_torch(logits, output=Softmax()).layers[-1]
        Softmax()
    """
    prefix = "from_torch cannot convert"
    _check_sequential(prefix, "module", module)
    if output is not None and type(output) not in _OUTPUTS:
        raise TypeError(
            "output must be Softmax(), Sigmoid() or None: the activation appended to a "
            "network that ends in logits (the reverse of to_torch(model, logits=True)). "
            f"Received: output={output!r}"
        )
    layers = _layers_of(module, prefix, as_generator(rng))
    if output is not None:
        _check_output(layers, output)
        layers.append(output)
    return Model(layers)


def _check_output(layers: list[Layer], output: Layer) -> None:
    if layers and type(layers[-1]) in _OUTPUTS:
        raise ValueError(
            f"the module already ends in {type(layers[-1]).__name__}, so output={output!r} "
            "would apply a second activation to its probabilities; leave output=None (or "
            f"convert the module without its last activation). Received: output={output!r}"
        )
    dense = [layer for layer in layers if type(layer) is Dense]
    if type(output) is Softmax and dense and dense[-1].n_neurons == 1:
        raise ValueError(
            "a Softmax over a single output is 1 whatever the input: a network with one "
            "output ends in Sigmoid() (nn.BCEWithLogitsLoss's networks do). "
            "Received: output=Softmax() for a module with 1 output"
        )


def _check_sequential(prefix: str, name: str, module: object) -> None:
    """Refuse anything but a plain ``nn.Sequential`` whose computation the bridge can read."""
    if type(module) is nn.Sequential:
        _check_visible(f"{prefix} {name}", module)
        return
    hint = _hint(module) if isinstance(module, nn.Module) else ""
    if isinstance(module, nn.Sequential) and not hint:
        hint = (
            f"{type(module).__name__} is a subclass of Sequential, and a subclass may compute "
            "something else in its forward, which the bridge cannot see. "
        )
    raise TypeError(
        f"{name} must be a torch.nn.Sequential. {hint}Received: {name}={type(module).__name__}"
    )


def _class_name(child: nn.Module) -> str:
    """``Linear`` for ``nn.Linear``, the full path for a class outside ``torch.nn``'s names."""
    kind = type(child)
    if getattr(nn, kind.__name__, None) is kind:
        return kind.__name__
    return f"{kind.__module__}.{kind.__qualname__}"


def _hint(child: nn.Module) -> str:
    """What to convert instead of a module the bridge cannot read, as sentences; or ""."""
    origin = type(child).__module__
    if isinstance(getattr(child, "_orig_mod", None), nn.Module):
        return (
            "A torch.compile'd module wraps the one it compiles: convert the original, "
            "module._orig_mod (compiling changes neither its weights nor what it computes). "
        )
    if isinstance(child, torch.jit.ScriptModule):
        return "A TorchScript module is compiled code: convert the module you scripted. "
    if origin.startswith(("torch.ao.nn.q", "torch.ao.nn.intrinsic", "torch.nn.q")):
        return (
            "A quantized or quantization-aware module computes with quantized weights, "
            "which mynn does not have: convert the float network from before quantization "
            "(a QAT module's to_float() returns an nn.Linear of its weights before fake "
            "quantization, whose outputs differ slightly). "
        )
    if isinstance(child, nn.modules.lazy.LazyModuleMixin):
        return (
            "A lazy module has no weights before its first forward pass: run one batch "
            "through the network first (the module then becomes a plain Linear). "
        )
    if parametrize.is_parametrized(child):
        return (
            "Its weights are computed by a parametrization: make their current values plain "
            "parameters first, with torch.nn.utils.parametrize.remove_parametrizations("
            "module, 'weight'). "
        )
    if type(child) is nn.Sequential:
        return "Flatten the nested Sequential into one: nn.Sequential(*inner, *rest). "
    if type(child) is nn.LogSoftmax:
        return (
            "mynn's classifiers end in Softmax, whose probabilities CategoricalCrossentropy "
            "reads (NLLLoss reads LogSoftmax's log-probabilities): leave the LogSoftmax out "
            "and pass output=Softmax(). "
        )
    if type(child) in _COUNTERPARTS.values():
        return f"Wrap a single module in one: nn.Sequential({type(child).__name__}(...)). "
    known = next((cls for cls in _COUNTERPARTS.values() if isinstance(child, cls)), None)
    if known is not None:
        return (
            f"{type(child).__name__} is a subclass of {known.__name__}, and a subclass may "
            "compute something else in its forward, which the bridge cannot see: use a "
            f"plain nn.{known.__name__}. "
        )
    return ""


# (attribute of a module, what to call it) for the hooks that change what a module computes
_HOOKS = (
    ("_forward_hooks", "a forward hook"),
    ("_forward_pre_hooks", "a forward pre-hook"),
    ("_backward_hooks", "a backward hook"),
    ("_backward_pre_hooks", "a backward pre-hook"),
)


def _check_visible(where: str, module: nn.Module) -> None:
    """Refuse hooks and a replaced ``forward``: what they compute is out of the bridge's view."""
    if "forward" in vars(module):
        raise ValueError(
            f"{where}: its forward was replaced on the instance, so it may compute something "
            "the bridge cannot see; delete it (del module.forward) first. "
            f"Received: forward={vars(module)['forward']!r}"
        )
    for attribute, kind in _HOOKS:
        hooks = getattr(module, attribute, None)
        if hooks:
            remedy = "remove it (call .remove() on the handle its register_... method returned)"
            for hook in hooks.values():
                name = type(hook).__name__
                if isinstance(hook, prune.BasePruningMethod):
                    remedy = "make the pruning permanent: torch.nn.utils.prune.remove(module, name)"
                elif name in ("WeightNorm", "SpectralNorm"):
                    remover = "remove_" + name.lower().replace("norm", "_norm")
                    remedy = f"make the weight a plain parameter: torch.nn.utils.{remover}(module)"
            raise ValueError(
                f"{where}: it has {kind}, which may change its output or its gradients where the "
                f"bridge cannot see; {remedy} before converting. "
                f"Received: {len(hooks)} {kind.split(' ', 1)[1]}(s): {list(hooks.values())!r}"
            )
    for name, parameter in module.named_parameters(recurse=False):
        hooks = getattr(parameter, "_backward_hooks", None) or {}
        hooks = [*hooks.values(), *(getattr(parameter, "_post_accumulate_grad_hooks", None) or {})]
        if hooks:
            raise ValueError(
                f"{where}: it has a gradient hook on its {name} (Tensor.register_hook), which "
                "may change its gradients where the bridge cannot see, and a mynn model would "
                "not; remove it (call .remove() on the handle) before converting. "
                f"Received: {len(hooks)} hook(s) on {name}"
            )


def _check_global_hooks(prefix: str) -> None:
    """Refuse the hooks torch applies to every module (register_module_forward_hook, ...)."""
    from torch.nn.modules import module as torch_module  # where torch keeps them

    for attribute, kind in _HOOKS:
        hooks = getattr(torch_module, "_global" + attribute, None)
        if hooks:
            raise ValueError(
                f"{prefix} the module: {kind} is registered for every module (by a "
                "torch.nn.modules.module.register_module_... function), which may change what "
                "each module computes where the bridge cannot see; remove it (call .remove() "
                f"on its handle) first. Received: {len(hooks)} global hook(s)"
            )


def _layers_of(module: nn.Sequential, prefix: str, generator: np.random.Generator) -> list:
    """The mynn layers of a plain Sequential's modules, after every check the bridge makes."""
    _check_global_hooks(prefix)
    children = list(module)
    layers = [_layer_of(prefix, index, child, generator) for index, child in enumerate(children)]
    dtypes = {child.weight.dtype for child in children if type(child) is nn.Linear}
    if len(dtypes) > 1:
        raise ValueError(
            f"{prefix} the module: the Linear modules must share one dtype, as a mynn model's "
            "Dense layers do; convert all with .float() or .double(). Received: Linear "
            f"modules of dtypes {sorted(str(d) for d in dtypes)}"
        )
    for index, child in enumerate(children):
        if type(child) is nn.Dropout and child.training != module.training:
            modes = {True: "training", False: "eval"}
            effect = (
                "drops units even when the network infers"
                if child.training
                else "drops nothing even while the network trains"
            )
            raise ValueError(
                f"{prefix} module {index}, {child!r}: it is in {modes[child.training]} mode "
                f"while the Sequential is in {modes[module.training]} mode, so in torch it "
                f"{effect}. A mynn model has no mode (Dropout drops while it trains, never when it "
                "infers): put the whole network in one mode (module.train() or module.eval()) "
                "or leave the Dropout out. "
                f"Received: module[{index}].training={child.training}, "
                f"module.training={module.training}"
            )
    owners: dict[int, str] = {}
    for index, child in enumerate(children):
        for name, parameter in child.named_parameters(recurse=False):
            key = parameter.untyped_storage().data_ptr()
            here = f"module {index}'s {name}"
            if key in owners:
                raise ValueError(
                    f"{prefix} the module: {here} shares its memory with {owners[key]} (the "
                    "same module twice, tied weights, or views of one buffer: the check "
                    "compares storages, not elements); a mynn layer owns its weights, so the "
                    "converted model would train them apart. Give each Linear weights of "
                    "its own (replace one by copy.deepcopy of it), or keep the tied network "
                    "in torch. "
                    f"Received: {here} and {owners[key]} in one storage"
                )
            owners[key] = here
    return layers


def _layer_of(prefix: str, index: int, child: nn.Module, generator: np.random.Generator) -> Layer:
    where = f"{prefix} module {index}, {child!r}"
    if type(child) not in _COUNTERPARTS.values():
        kind = _class_name(child)
        raise TypeError(
            f"{where}: mynn has no counterpart of {kind}. {_hint(child)}"
            f"Supported: {_TORCH_NAMES}. Received: a module of type {kind}"
        )
    _check_visible(where, child)
    try:
        if type(child) is nn.Linear:
            return _dense_of(child)
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
    except (TypeError, ValueError) as error:
        raise type(error)(f"{where}: {error}") from error
    for mynn_type, torch_type in _SIMPLE_ACTIVATIONS:
        if type(child) is torch_type:
            return mynn_type()
    raise AssertionError(f"unreachable: {type(child).__name__} is in _COUNTERPARTS")


def _dense_of(linear: nn.Linear) -> Dense:
    if linear.bias is None:
        raise ValueError("mynn's Dense always has biases. Received: a Linear with bias=False")
    weight, bias = linear.weight, linear.bias
    numpy_dtype = {value: key for key, value in _DTYPES.items()}.get(weight.dtype)
    if numpy_dtype is None:
        raise TypeError(
            "mynn computes in float32 or float64: convert the module with .float() "
            f"or .double() first. Received: weight of dtype {weight.dtype}"
        )
    for name, parameter in (("weight", weight), ("bias", bias)):
        if parameter.is_meta:
            raise ValueError(
                f"its {name} is on the meta device, which holds shapes but no "
                "numbers; give it values first (module.to_empty(device='cpu'), then "
                f"load_state_dict). Received: {name} on device meta"
            )
        if not parameter.requires_grad:
            raise ValueError(
                f"its {name} is frozen, and mynn trains every weight and bias of a "
                "model, so it would be trained after the conversion; unfreeze it "
                "(module.requires_grad_(True)) to convert it as trainable, or keep the "
                f"training with frozen parameters in torch. Received: {name} with "
                "requires_grad=False"
            )
    out_features, in_features = weight.shape
    if tuple(bias.shape) != (out_features,):
        raise ValueError(
            f"its bias must have shape ({out_features},), one per output, as a "
            f"Dense layer's biases do. Received: bias of shape {tuple(bias.shape)}"
        )
    # rng=0: the initial weights are overwritten at once, so they need no fresh entropy.
    dense = Dense(in_features, out_features, rng=0, dtype=numpy_dtype)
    dense.weights = weight.detach().cpu().numpy().T.copy()  # C order, as Dense makes
    dense.biases = bias.detach().cpu().numpy().copy()
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
    outside, $\text{buf} \leftarrow \mu\,\text{buf} + g$,
    $\theta \leftarrow \theta - \eta_t\,\text{buf}$, so a new rate rescales the whole history.
    The two agree while $\eta_t\,\text{buf} = -v$. When the rate changes from $\eta_{t-1}$ to
    $\eta_t$, this scheduler multiplies every ``momentum_buffer`` of the optimizer by
    $\eta_{t-1}/\eta_t$, which keeps $\eta_t\,\text{buf} = -v$ and so makes torch's SGD
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

    Raises:
        TypeError: If ``optimizer`` is not a ``torch.optim.Optimizer``, or ``decay`` is not a
            real number.
        ValueError: If ``decay`` is negative or not finite, or ``iterations`` is not a
            non-negative integer.

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
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise TypeError(
                "optimizer must be a torch.optim.Optimizer. "
                f"Received: optimizer of type {type(optimizer).__name__}"
            )
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

    An L2 factor $\lambda_2$ of a Dense layer's weights (penalty $\lambda_2\sum w^2$, gradient
    $2\lambda_2 w$) becomes ``weight_decay`` $= 2\lambda_2$ of that parameter's group, which
    adds the same $2\lambda_2 w$ to the gradient (and $\lambda_2^b$ of its biases becomes
    $2\lambda_2^b$ of theirs); compute the torch loss without the penalty.

    The optimizer's state belongs to the model's weights, so ``module`` must hold them: the
    model's network as it is now, module for module, its weights and biases equal to the
    model's bit for bit (as ``to_torch`` copies them) and in the model's dtype. A module
    trained or changed since ``to_torch``, or made for another model, is refused, and the
    message says which parameter differs and by how much; so is everything
    [from_torch][mynn.bridge.from_torch] refuses (hooks, subclasses, frozen parameters, tied
    weights, a Dropout in another mode than the network), since a torch run through those
    would not continue mynn's. Build the module with ``to_torch`` just before calling this.

    Args:
        model: The mynn model, with its optimizer set (trained or not).
        module: Its network in torch; its parameters are what the returned optimizer updates.

    Returns:
        ``(optimizer, scheduler)``.

    Raises:
        TypeError: If the arguments are not a mynn Model and a plain ``Sequential``, or the
            model's optimizer is not SGD, Adagrad, RMSProp or Adam, or a layer or module is
            one the bridge does not convert.
        ValueError: If the model has no optimizer, a Dense layer has an L1 factor (torch
            optimizers have no L1 penalty: add it to the loss yourself), or ``module`` is not
            the model's network with the model's weights (another length, another module
            where the model has a layer, another shape, dtype or value of a weight or bias),
            or has what ``from_torch`` refuses.

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
    prefix = "to_torch_optimizer cannot continue the run on"
    _check_sequential(prefix, "module", module)
    mynn_optimizer = model.optimizer
    if mynn_optimizer is None:
        raise ValueError(
            "the model has no optimizer to convert; call model.set_optimizer() first. "
            "Received: model.optimizer=None"
        )
    torch_class, kwargs, state_keys = _torch_counterpart(mynn_optimizer)
    _check_twin(prefix, model, module)

    # (mynn parameter name, mynn value, torch parameter, weight_decay), in the model's order
    pairs = []
    for index, layer in enumerate(model.layers):
        if type(layer) is not Dense:
            continue
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


def _check_twin(prefix: str, model: Model, module: nn.Sequential) -> None:
    """Refuse a module that is not the model's network with the model's weights, as of now."""
    layers = list(model.layers)
    for index, layer in enumerate(layers):
        _check_layer(prefix, index, layer)
    lengths = [len(layers)]
    if layers and type(layers[-1]) in _OUTPUTS:
        lengths.append(len(layers) - 1)  # to_torch(model, logits=True)
    if len(module) not in lengths:
        counted = " or ".join(str(length) for length in lengths)
        raise ValueError(
            f"module must be the model's network in torch, as to_torch(model) makes it: "
            f"{counted} module(s) for the model's {len(layers)} layer(s). "
            f"Received: a Sequential of {len(module)} module(s)"
        )
    twins = _layers_of(module, prefix, np.random.default_rng(0))  # no mask is ever drawn
    for index, (layer, twin) in enumerate(zip(layers, twins)):
        child = module[index]
        where = f"{prefix} module {index}, {child!r}"
        if type(twin) is not type(layer):
            raise ValueError(
                f"{where}: the model's layer {index} is {layer!r}, which to_torch makes into "
                f"{_module_of(layer)!r}; build the module with to_torch(model). "
                f"Received: module[{index}]={child!r}"
            )
        if type(layer) is not Dense:
            if twin.get_config() != layer.get_config():
                raise ValueError(
                    f"{where}: the model's layer {index} is {layer!r}, which to_torch makes "
                    f"into {_module_of(layer)!r}; build the module with to_torch(model). "
                    f"Received: module[{index}]={child!r}"
                )
            continue
        if twin.dtype != layer.dtype:
            raise ValueError(
                f"{where}: the model computes in {layer.dtype}, and a run in another dtype "
                "rounds differently; build the module with to_torch(model), which keeps the "
                f"model's dtype. Received: weight of dtype {child.weight.dtype}"
            )
        for torch_name, mynn_name in (("weight", "weights"), ("bias", "biases")):
            ours, theirs = getattr(layer, mynn_name), getattr(twin, mynn_name)
            if ours.shape != theirs.shape:
                shape = ours.T.shape
                raise ValueError(
                    f"{where}: the model's layer {index}, {layer!r}, needs a {torch_name} of "
                    f"shape {shape}; build the module with to_torch(model). "
                    f"Received: {torch_name} of shape {theirs.T.shape}"
                )
            if not np.array_equal(ours, theirs, equal_nan=True):
                differ = ~((ours == theirs) | (np.isnan(ours) & np.isnan(theirs)))
                with np.errstate(invalid="ignore", over="ignore"):
                    gaps = np.abs(ours - theirs)[differ]
                finite = gaps[np.isfinite(gaps)]
                how = f"by up to {finite.max():.3g}" if finite.size else "to NaN or infinity"
                if 0 < finite.size < gaps.size:
                    how += f", {gaps.size - finite.size} to NaN or infinity"
                raise ValueError(
                    f"{where}: its {torch_name} is no longer the model's layer {index} "
                    f"{mynn_name} ({int(differ.sum())} of {differ.size} values differ, {how}). "
                    "The optimizer's state belongs to the model's weights, "
                    "so a run from other weights would not continue the model's: build the "
                    "module with to_torch(model) just before to_torch_optimizer (or bring "
                    "the module's weights into mynn with from_torch). "
                    f"Received: module[{index}].{torch_name} other than "
                    f"model.layers[{index}].{mynn_name}" + (".T" if torch_name == "weight" else "")
                )
