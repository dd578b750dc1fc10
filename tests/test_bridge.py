"""mynn.bridge: networks and optimizers moved to PyTorch and back.

The tests marked ``needs_torch`` are skipped without PyTorch, and fail under CI=true
(pytest_pages.py). The first two tests run without it.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import warnings
from copy import deepcopy

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_bad_input import FUZZ, X3, Y3, case_id, regressor
from test_bad_input import classifier as small_classifier

from mynn import (
    SGD,
    Adagrad,
    Adam,
    BinaryCrossentropy,
    CategoricalCrossentropy,
    Dense,
    Dropout,
    LeakyReLU,
    Linear,
    MeanSquaredError,
    Model,
    ReLU,
    RMSProp,
    Sigmoid,
    Softmax,
    Tanh,
)
from mynn.layers import Layer

if importlib.util.find_spec("torch") is not None:
    import torch

    from mynn import bridge

needs_torch = pytest.mark.requires("torch")

DTYPES = [np.float32, np.float64]
# One mynn layer of each supported kind with the torch module it must become.
LAYERS = [
    (
        "Dense",
        lambda dtype: Dense(5, 3, rng=0, dtype=dtype),
        "Linear(in_features=5, out_features=3, bias=True)",
    ),
    ("Dropout", lambda dtype: Dropout(0.25, rng=0), "Dropout(p=0.25, inplace=False)"),
    ("ReLU", lambda dtype: ReLU(), "ReLU()"),
    ("LeakyReLU", lambda dtype: LeakyReLU(alpha=0.2), "LeakyReLU(negative_slope=0.2)"),
    ("Sigmoid", lambda dtype: Sigmoid(), "Sigmoid()"),
    ("Tanh", lambda dtype: Tanh(), "Tanh()"),
    ("Softmax", lambda dtype: Softmax(), "Softmax(dim=1)"),
    ("Linear", lambda dtype: Linear(), "Identity()"),
]


def tolerance(dtype) -> float:
    # The same formulas, computed by numpy (BLAS) and by PyTorch's kernels, which may sum
    # in another order: a few units in the last place, on values of order 1.
    return 1e-12 if dtype == np.float64 else 1e-5


# --- torch stays optional -----------------------------------------------------------------


def test_importing_mynn_never_imports_torch():
    code = (
        "import pkgutil, importlib, sys, mynn\n"
        "for info in pkgutil.iter_modules(mynn.__path__):\n"
        "    if info.name != 'bridge':\n"
        "        importlib.import_module('mynn.' + info.name)\n"
        "loaded = sorted(name for name in sys.modules if name.split('.')[0] == 'torch')\n"
        "assert not loaded, loaded\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout == "ok\n", result.stderr


def test_without_torch_the_bridge_says_how_to_install_a_cpu_build():
    # sys.modules["torch"] = None makes `import torch` fail, as it does where torch is absent.
    code = (
        "import sys\n"
        "sys.modules['torch'] = None\n"
        "try:\n"
        "    import mynn.bridge\n"
        "except ImportError as error:\n"
        "    assert error.name == 'torch', error.name\n"
        "    print(error)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    message = result.stdout
    assert message.startswith("mynn.bridge needs PyTorch"), message
    assert "pip install torch --index-url https://download.pytorch.org/whl/cpu" in message
    assert "pip install torch==2.13.0" in message and "CUDA build of several GB" in message


# --- layers: each one, both ways ------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("name, make, expected", LAYERS, ids=[row[0] for row in LAYERS])
@needs_torch
def test_each_layer_computes_the_same_forward_and_backward(name, make, expected, dtype):
    layer = make(dtype)
    module = bridge.to_torch(Model([layer]))[0]
    assert repr(module) == expected
    rng = np.random.default_rng(1)
    X = rng.normal(size=(7, 5)).astype(dtype)  # normal draws: never exactly on ReLU's kink at 0
    output = layer.forward(X)  # inference: Dropout passes its input through
    G = rng.normal(size=output.shape).astype(dtype)
    dX = layer.backward(G)

    X_t = torch.tensor(X, requires_grad=True)
    module.eval()
    torch_output = module(X_t)
    torch_output.backward(torch.from_numpy(G))
    assert torch_output.dtype == X_t.dtype
    tol = tolerance(dtype)
    np.testing.assert_allclose(torch_output.detach().numpy(), output, rtol=0, atol=tol)
    np.testing.assert_allclose(X_t.grad.numpy(), dX, rtol=0, atol=tol)
    if name == "Dense":
        np.testing.assert_allclose(module.weight.grad.numpy().T, layer.dweights, rtol=0, atol=tol)
        np.testing.assert_allclose(module.bias.grad.numpy(), layer.dbiases, rtol=0, atol=tol)


def every_layer_model(dtype) -> Model:
    return Model(
        [
            Dense(6, 8, rng=0, dtype=dtype),
            ReLU(),
            Dense(8, 8, rng=1, dtype=dtype),
            LeakyReLU(alpha=0.05),
            Dropout(0.3, rng=0),
            Dense(8, 8, rng=2, dtype=dtype),
            Sigmoid(),
            Dense(8, 8, rng=3, dtype=dtype),
            Tanh(),
            Dense(8, 8, rng=4, dtype=dtype),
            Linear(),
            Dense(8, 4, rng=5, dtype=dtype),
            Softmax(),
        ]
    )


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@needs_torch
def test_round_trip_from_mynn(dtype):
    model = every_layer_model(dtype)
    module = bridge.to_torch(model)
    back = bridge.from_torch(module)
    assert [type(layer) for layer in back.layers] == [type(layer) for layer in model.layers]
    assert [layer.get_config() for layer in back.layers] == [
        layer.get_config() for layer in model.layers
    ]
    for original, copy in zip(model.layers, back.layers):
        if isinstance(original, Dense):
            assert copy.weights.dtype == copy.biases.dtype == np.dtype(dtype)
            assert copy.weights.flags.c_contiguous
            np.testing.assert_array_equal(copy.weights, original.weights)  # copied, bit for bit
            np.testing.assert_array_equal(copy.biases, original.biases)
    X = np.random.default_rng(2).normal(size=(9, 6)).astype(dtype)
    module.eval()
    with torch.no_grad():
        torch_output = module(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(torch_output, model.forward(X), rtol=0, atol=tolerance(dtype))
    np.testing.assert_array_equal(back.forward(X), model.forward(X))  # same library, same data


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@needs_torch
def test_round_trip_from_torch(dtype):
    nn = torch.nn
    torch_dtype = {np.float32: torch.float32, np.float64: torch.float64}[dtype]
    generator = torch.Generator().manual_seed(0)
    module = nn.Sequential(
        nn.Linear(6, 8),
        nn.ReLU(),
        nn.Linear(8, 8),
        nn.LeakyReLU(0.1),
        nn.Dropout(0.2),
        nn.Linear(8, 8),
        nn.Sigmoid(),
        nn.Linear(8, 8),
        nn.Tanh(),
        nn.Linear(8, 8),
        nn.Identity(),
        nn.Linear(8, 3),
        nn.Softmax(dim=-1),
    ).to(torch_dtype)
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator, dtype=torch_dtype))
    model = bridge.from_torch(module, rng=0)
    assert model.dtype == np.dtype(dtype)
    back = bridge.to_torch(model)
    assert repr(back).replace("dim=1", "dim=-1") == repr(module)
    for key, value in module.state_dict().items():
        assert back.state_dict()[key].dtype == value.dtype
        assert torch.equal(back.state_dict()[key], value), key
    X = np.random.default_rng(3).normal(size=(9, 6)).astype(dtype)
    module.eval()
    with torch.no_grad():
        torch_output = module(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(model.forward(X), torch_output, rtol=0, atol=tolerance(dtype))


@needs_torch
def test_copies_share_no_memory_and_leave_torch_random_state_alone():
    model = Model([Dense(3, 2, rng=0)])
    before = torch.random.get_rng_state()
    module = bridge.to_torch(model)
    assert torch.equal(torch.random.get_rng_state(), before)  # weights copied, not drawn
    with torch.no_grad():
        module[0].weight.add_(1.0)
    assert not np.array_equal(module[0].weight.detach().numpy().T, model.layers[0].weights)
    back = bridge.from_torch(module)
    back.layers[0].biases += 1.0
    assert not torch.equal(module[0].bias.detach(), torch.from_numpy(back.layers[0].biases))


@needs_torch
def test_gradients_of_a_network_agree():
    model = Model([Dense(5, 7, rng=0), Tanh(), Dense(7, 3, rng=1), Softmax()])
    model.set_loss(CategoricalCrossentropy())
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(11, 5)), rng.integers(0, 3, size=11)
    model.backward(model.forward(X, training=True), y)
    scores = bridge.to_torch(model, logits=True)
    assert len(scores) == 3
    loss = torch.nn.functional.cross_entropy(scores(torch.from_numpy(X)), torch.from_numpy(y))
    loss.backward()
    assert abs(loss.item() - model.loss.calculate(model.forward(X), y)) < 1e-12
    for index in (0, 2):
        np.testing.assert_allclose(
            scores[index].weight.grad.numpy().T, model.layers[index].dweights, rtol=0, atol=1e-12
        )
        np.testing.assert_allclose(
            scores[index].bias.grad.numpy(), model.layers[index].dbiases, rtol=0, atol=1e-12
        )


@needs_torch
def test_logits_leaves_out_a_final_sigmoid_or_softmax():
    for last in (Sigmoid(), Softmax()):
        model = Model([Dense(2, 1 + isinstance(last, Softmax), rng=0), last])
        module = bridge.to_torch(model, logits=True)
        assert [type(m).__name__ for m in module] == ["Linear"]
    with pytest.raises(ValueError, match=r"ends in Tanh\(\)\. Received: logits=True"):
        bridge.to_torch(Model([Dense(2, 2, rng=0), Tanh()]), logits=True)


# --- conversion errors ----------------------------------------------------------------------


class Square(Layer):
    def forward(self, inputs, training=False):
        return inputs**2


@needs_torch
def test_to_torch_errors_name_the_culprit():
    with pytest.raises(TypeError, match=r"model must be a mynn Model\. Received: model=\[\]"):
        bridge.to_torch([])
    with pytest.raises(TypeError, match=r"cannot convert layer 1, Square\(\): it has no torch"):
        bridge.to_torch(Model([Dense(2, 2, rng=0), Square()]))
    with pytest.raises(TypeError, match=r"Received: logits='yes'"):
        bridge.to_torch(Model([Dense(2, 2, rng=0)]), logits="yes")


@needs_torch
def test_from_torch_errors_name_the_module():
    nn = torch.nn
    with pytest.raises(
        TypeError, match=r"nn\.Sequential\(Linear\(\.\.\.\)\)\. Received: module=Linear"
    ):
        bridge.from_torch(nn.Linear(2, 2))
    with pytest.raises(TypeError, match=r"module 1, GELU\(.*\): mynn has no counterpart of GELU"):
        bridge.from_torch(nn.Sequential(nn.Linear(2, 2), nn.GELU()))
    with pytest.raises(ValueError, match=r"module 0, .*bias=False.*: mynn's Dense always has bias"):
        bridge.from_torch(nn.Sequential(nn.Linear(2, 2, bias=False)))
    with pytest.raises(ValueError, match=r"share one dtype.*torch\.float32', 'torch\.float64"):
        bridge.from_torch(nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2).double()))
    with pytest.raises(
        TypeError,
        match=r"\.float\(\) or \.double\(\) first\. Received: weight of dtype torch\.float16",
    ):
        bridge.from_torch(nn.Sequential(nn.Linear(2, 2).half()))
    with pytest.raises(ValueError, match=r"module 1, Softmax\(dim=0\): .*Received: dim=0"):
        bridge.from_torch(nn.Sequential(nn.Linear(2, 2), nn.Softmax(dim=0)))
    with pytest.raises(ValueError, match=r"module 0, LeakyReLU.*Received: alpha=1\.5"):
        bridge.from_torch(nn.Sequential(nn.LeakyReLU(1.5)))
    with pytest.raises(ValueError, match=r"module 0, Dropout.*Received: rate=1\.0"):
        bridge.from_torch(nn.Sequential(nn.Dropout(1.0)))


# --- exact classes: a subclass may compute something else ---------------------------------

# Every mynn class the bridge converts, made as a layer of width 3 (so any of them fits after
# Dense(3, 3)).
MYNN_KINDS = {
    "Dense": (Dense, lambda cls: cls(3, 3, rng=1)),
    "Dropout": (Dropout, lambda cls: cls(0.25, rng=0)),
    "ReLU": (ReLU, lambda cls: cls()),
    "LeakyReLU": (LeakyReLU, lambda cls: cls(alpha=0.1)),
    "Sigmoid": (Sigmoid, lambda cls: cls()),
    "Tanh": (Tanh, lambda cls: cls()),
    "Softmax": (Softmax, lambda cls: cls()),
    "Linear": (Linear, lambda cls: cls()),
}


def subclass_of(base: type, name: str, twice: bool):
    """A subclass of ``base``: one that doubles the output, or one that changes nothing."""
    if not twice:
        return type(f"Plain{name}", (base,), {})

    def forward(self, *args, **kwargs):
        return 2 * base.forward(self, *args, **kwargs)

    return type(f"Twice{name}", (base,), {"forward": forward})


@pytest.mark.parametrize("twice", [True, False], ids=["own forward", "nothing overridden"])
@pytest.mark.parametrize("name", MYNN_KINDS)
@needs_torch
def test_to_torch_refuses_a_subclass_of_every_layer_it_knows(name, twice):
    base, make = MYNN_KINDS[name]
    cls = subclass_of(base, name, twice)
    model = Model([Dense(3, 3, rng=0), make(cls)])
    if twice:  # the plain class the bridge made of it before computes another function
        X = np.random.default_rng(0).normal(size=(4, 3))
        plain = Model([Dense(3, 3, rng=0), make(base)])
        assert not np.allclose(model.forward(X), plain.forward(X))
    pattern = rf"to_torch cannot convert layer 1, .*{cls.__name__} is a subclass of {name}"
    with pytest.raises(TypeError, match=pattern + r".*Received: a layer of type " + cls.__name__):
        bridge.to_torch(model)


@needs_torch
def test_a_softmax_subclass_at_the_end_is_refused_with_or_without_logits():
    cls = subclass_of(Softmax, "Softmax", twice=True)
    model = Model([Dense(3, 3, rng=0), cls()])
    for logits in (False, True):
        with pytest.raises(TypeError, match=r"layer 1, TwiceSoftmax\(\): .* subclass of Softmax"):
            bridge.to_torch(model, logits=logits)


@pytest.mark.parametrize("method", ["forward", "backward"])
@needs_torch
def test_to_torch_refuses_a_method_replaced_on_the_instance(method):
    dense = Dense(3, 3, rng=0)
    original = getattr(dense, method)
    setattr(dense, method, lambda *args, **kwargs: 2 * original(*args, **kwargs))
    with pytest.raises(TypeError, match=rf"layer 0, .*its {method} was replaced on the instance"):
        bridge.to_torch(Model([dense]))
    delattr(dense, method)  # what the message says to do
    assert repr(bridge.to_torch(Model([dense]))[0]).startswith("Linear(")


def compiled(module):
    """``torch.compile(module)``: nothing is compiled before the first call (none here)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # importing torch._dynamo warns about torch.jit
        return torch.compile(module)


def torch_kinds():
    """Every torch class the bridge converts, as a module of width 3."""
    nn = torch.nn
    return {
        "Linear": lambda: nn.Linear(3, 3),
        "Dropout": lambda: nn.Dropout(0.25),
        "ReLU": nn.ReLU,
        "LeakyReLU": lambda: nn.LeakyReLU(0.1),
        "Sigmoid": nn.Sigmoid,
        "Tanh": nn.Tanh,
        "Softmax": lambda: nn.Softmax(dim=1),
        "Identity": nn.Identity,
    }


@pytest.mark.parametrize("twice", [True, False], ids=["own forward", "nothing overridden"])
@pytest.mark.parametrize(
    "name", ["Linear", "Dropout", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softmax", "Identity"]
)
@needs_torch
def test_from_torch_refuses_a_subclass_of_every_module_it_knows(name, twice):
    plain = torch_kinds()[name]()
    cls = subclass_of(type(plain), name, twice)
    child = deepcopy(plain)
    child.__class__ = cls  # the same settings and weights, under the subclass
    module = torch.nn.Sequential(torch.nn.Linear(3, 3), child)
    pattern = (
        rf"module 1, .*: mynn has no counterpart of [\w.]*\.{cls.__name__}\. "
        rf"{cls.__name__} is a subclass of {name}.*use a plain nn\.{name}\."
    )
    with pytest.raises(TypeError, match=pattern):
        bridge.from_torch(module)
    bridge.from_torch(torch.nn.Sequential(torch.nn.Linear(3, 3), plain))  # the plain one passes


@needs_torch
def test_from_torch_refuses_a_subclass_of_sequential_and_says_what_to_convert():
    nn = torch.nn

    class Residual(nn.Sequential):
        def forward(self, inputs):
            return inputs + super().forward(inputs)

    with pytest.raises(TypeError, match=r"Residual is a subclass of Sequential.*module=Residual"):
        bridge.from_torch(Residual(nn.Linear(3, 3)))
    with pytest.raises(TypeError, match=r"Flatten the nested Sequential.*module of type Sequen"):
        bridge.from_torch(nn.Sequential(nn.Sequential(nn.Linear(3, 3)), nn.ReLU()))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.jit.script is deprecated in torch 2.13
        scripted = torch.jit.script(nn.Sequential(nn.Linear(3, 3)))
    with pytest.raises(TypeError, match=r"TorchScript module is compiled code"):
        bridge.from_torch(scripted)
    with pytest.raises(TypeError, match=r"LogSoftmax out and pass output=Softmax\(\)"):
        bridge.from_torch(nn.Sequential(nn.Linear(3, 3), nn.LogSoftmax(dim=1)))


@needs_torch
def test_compiled_modules_are_refused_and_their_original_converts():
    nn = torch.nn
    torch.manual_seed(0)
    module = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    wrapper = compiled(module)
    with pytest.raises(TypeError, match=r"module\._orig_mod .*Received: module=OptimizedModule"):
        bridge.from_torch(wrapper)
    inner = nn.Sequential(compiled(nn.Linear(3, 3)))
    with pytest.raises(TypeError, match=r"(?s)module 0, .*OptimizedModule.*module\._orig_mod"):
        bridge.from_torch(inner)
    model = bridge.from_torch(wrapper._orig_mod)  # what the message says to convert
    assert np.array_equal(model.layers[0].weights, module[0].weight.detach().numpy().T)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        module.compile()  # compiled in place: the class and weights stay, and so does the function
    assert len(bridge.from_torch(module).layers) == 3


@needs_torch
def test_quantized_and_quantization_aware_linears_are_refused():
    nn = torch.nn
    from torch.ao.nn import qat
    from torch.ao.quantization import get_default_qat_qconfig, quantize_dynamic

    aware = qat.Linear(3, 2, qconfig=get_default_qat_qconfig())
    assert isinstance(aware, nn.Linear)  # accepted as a plain Linear before
    with pytest.raises(
        TypeError, match=r"(?s)module 0, .*quantization-aware module .*to_float\(\)"
    ):
        bridge.from_torch(nn.Sequential(aware))
    as_float = bridge.from_torch(nn.Sequential(aware.to_float()))  # the hint's way out
    assert np.array_equal(as_float.layers[0].weights, aware.weight.detach().numpy().T)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch announces the API's move to torchao
        quantized = quantize_dynamic(nn.Sequential(nn.Linear(3, 2)), {nn.Linear}, torch.qint8)
    with pytest.raises(TypeError, match=r"counterpart of torch\.ao\.nn\.quantized\.dynamic.*"):
        bridge.from_torch(quantized)


@needs_torch
def test_a_lazy_linear_is_refused_until_its_first_forward_pass():
    nn = torch.nn
    module = nn.Sequential(nn.LazyLinear(2))
    with pytest.raises(TypeError, match=r"module 0, .*lazy module has no weights .*LazyLinear"):
        bridge.from_torch(module)
    module(torch.ones(1, 3))  # the hint's way out: it becomes a plain Linear
    assert bridge.from_torch(module).layers[0].n_inputs == 3


# --- hooks and parametrizations: a module changed where the bridge cannot see --------------


def install_hook(kind: str, linear):
    """Register a hook of ``kind`` on ``linear`` that changes its output or gradients; return
    the call that removes it (the message's remedy) and the pattern the refusal must match."""
    nn = torch.nn
    utils = nn.utils
    if kind == "forward hook":
        return linear.register_forward_hook(lambda m, i, o: 2 * o).remove, "a forward hook"
    if kind == "forward hook with kwargs":
        hook = lambda m, a, k, o: 2 * o  # noqa: E731
        return linear.register_forward_hook(hook, with_kwargs=True).remove, "a forward hook"
    if kind == "forward pre-hook":
        return linear.register_forward_pre_hook(lambda m, i: (2 * i[0],)).remove, "pre-hook"
    if kind == "full backward hook":
        handle = linear.register_full_backward_hook(lambda m, gi, go: (2 * gi[0],))
        return handle.remove, "a backward hook"
    if kind == "backward pre-hook":
        handle = linear.register_full_backward_pre_hook(lambda m, go: (2 * go[0],))
        return handle.remove, "a backward pre-hook"
    if kind == "old backward hook":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return linear.register_backward_hook(lambda m, gi, go: None).remove, "a backward hook"
    if kind == "gradient hook":
        return linear.weight.register_hook(lambda g: 2 * g).remove, "gradient hook on its weight"
    if kind == "post-accumulate hook":
        handle = linear.bias.register_post_accumulate_grad_hook(lambda p: None)
        return handle.remove, "gradient hook on its bias"
    if kind == "pruning":
        utils.prune.l1_unstructured(linear, "weight", amount=0.5)
        return (lambda: utils.prune.remove(linear, "weight")), r"prune\.remove\(module, name\)"
    if kind == "old weight norm":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # deprecated for parametrizations.weight_norm
            utils.weight_norm(linear)
        return (lambda: utils.remove_weight_norm(linear)), r"utils\.remove_weight_norm\(module\)"
    if kind == "old spectral norm":
        utils.spectral_norm(linear)
        return (lambda: utils.remove_spectral_norm(linear)), r"remove_spectral_norm\(module\)"
    raise AssertionError(kind)


HOOKS = [
    "forward hook",
    "forward hook with kwargs",
    "forward pre-hook",
    "full backward hook",
    "backward pre-hook",
    "old backward hook",
    "gradient hook",
    "post-accumulate hook",
    "pruning",
    "old weight norm",
    "old spectral norm",
]


@pytest.mark.parametrize("kind", HOOKS)
@needs_torch
def test_a_hooked_linear_is_refused_and_converts_once_the_hook_is_gone(kind):
    nn = torch.nn
    torch.manual_seed(0)
    linear = nn.Linear(3, 3)
    module = nn.Sequential(nn.Tanh(), linear)
    remove, pattern = install_hook(kind, linear)
    with pytest.raises(ValueError, match=rf"from_torch cannot convert module 1, .*{pattern}"):
        bridge.from_torch(module)
    remove()
    model = bridge.from_torch(module)  # the remedy the message names is enough
    X = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    with torch.no_grad():
        expected = module(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(model.forward(X), expected, rtol=0, atol=1e-6)


@pytest.mark.parametrize("where", ["Sequential", "activation"])
@needs_torch
def test_hooks_on_the_sequential_or_an_activation_are_refused(where):
    nn = torch.nn
    module = nn.Sequential(nn.Linear(3, 3), nn.Tanh())
    target = module if where == "Sequential" else module[1]
    handle = target.register_forward_hook(lambda m, i, o: o + 1)
    named = r"module: it has" if where == "Sequential" else r"module 1, Tanh\(\): it has"
    with pytest.raises(ValueError, match=named + r" a forward hook.*Received: 1 forward hook"):
        bridge.from_torch(module)
    handle.remove()
    bridge.from_torch(module)


@pytest.mark.parametrize("kind", ["forward", "forward_pre", "full_backward"])
@needs_torch
def test_global_module_hooks_are_refused(kind):
    from torch.nn.modules import module as torch_module

    register = getattr(torch_module, f"register_module_{kind}_hook")
    handle = register(lambda *args: None)
    try:
        with pytest.raises(ValueError, match=r"registered for every module.*1 global hook"):
            bridge.from_torch(torch.nn.Sequential(torch.nn.Linear(3, 3)))
    finally:
        handle.remove()
    bridge.from_torch(torch.nn.Sequential(torch.nn.Linear(3, 3)))


@pytest.mark.parametrize("kind", ["orthogonal", "weight_norm", "spectral_norm"])
@needs_torch
def test_a_parametrized_linear_is_refused_until_the_parametrization_is_removed(kind):
    nn = torch.nn
    torch.manual_seed(0)
    linear = getattr(nn.utils.parametrizations, kind)(nn.Linear(3, 3))
    module = nn.Sequential(linear).eval()  # spectral_norm's power iteration stops in eval mode
    with pytest.raises(TypeError, match=r"ParametrizedLinear.*remove_parametrizations"):
        bridge.from_torch(module)
    with torch.no_grad():
        X = torch.randn(4, 3)
        expected = module(X).numpy()
    for name in list(linear.parametrizations):
        nn.utils.parametrize.remove_parametrizations(linear, name)
    model = bridge.from_torch(module)
    np.testing.assert_allclose(model.forward(X.numpy()), expected, rtol=0, atol=1e-6)


@needs_torch
def test_a_forward_replaced_on_a_torch_module_is_refused():
    linear = torch.nn.Linear(3, 3)
    linear.forward = lambda inputs: 2 * torch.nn.Linear.forward(linear, inputs)
    module = torch.nn.Sequential(linear)
    with pytest.raises(ValueError, match=r"module 0, .*its forward was replaced on the instance"):
        bridge.from_torch(module)
    del linear.forward
    bridge.from_torch(module)


# --- frozen parameters, modes, tied weights, devices ----------------------------------------


@pytest.mark.parametrize("frozen", ["weight", "bias", "module"])
@needs_torch
def test_frozen_parameters_are_refused_until_unfrozen(frozen):
    nn = torch.nn
    module = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    if frozen == "module":
        module[2].requires_grad_(False)
    else:
        getattr(module[2], frozen).requires_grad_(False)
    name = "weight" if frozen == "module" else frozen
    pattern = rf"module 2, .*its {name} is frozen, .*Received: {name} with requires_grad=False"
    with pytest.raises(ValueError, match=pattern):
        bridge.from_torch(module)
    module.requires_grad_(True)  # the message's remedy
    assert len(bridge.from_torch(module).layers) == 3


@pytest.mark.parametrize("mode", ["train", "eval"])
@needs_torch
def test_a_network_in_one_mode_converts_and_mynn_chooses_the_mode_per_call(mode):
    nn = torch.nn
    torch.manual_seed(0)
    module = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 2))
    getattr(module, mode)()
    model = bridge.from_torch(module, rng=0)
    X = np.random.default_rng(0).normal(size=(6, 3)).astype(np.float32)
    with torch.no_grad():
        inferred = module.eval()(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(model.forward(X), inferred, rtol=0, atol=1e-6)  # Dropout off
    dropped = model.forward(X, training=True)  # and on when the model trains
    assert not np.allclose(dropped, model.forward(X))


@pytest.mark.parametrize("sequential_mode", ["train", "eval"])
@needs_torch
def test_a_dropout_in_another_mode_than_its_network_is_refused(sequential_mode):
    nn = torch.nn
    module = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5), nn.Linear(3, 2))
    getattr(module, sequential_mode)()
    other = "eval" if sequential_mode == "train" else "train"
    getattr(module[1], other)()
    with pytest.raises(ValueError, match=r"module 1, Dropout.*mode while the Sequential is in"):
        bridge.from_torch(module)
    module.train()
    bridge.from_torch(module)


@needs_torch
def test_to_torch_returns_a_module_in_training_mode():
    module = bridge.to_torch(every_layer_model(np.float64))
    assert module.training and all(child.training for child in module)


@pytest.mark.parametrize("how", ["same module twice", "shared parameter", "shared storage"])
@needs_torch
def test_tied_weights_are_refused(how):
    nn = torch.nn
    first, second = nn.Linear(3, 3), nn.Linear(3, 3)
    if how == "same module twice":
        second = first
    elif how == "shared parameter":
        second.weight = first.weight
    else:
        second.bias = nn.Parameter(first.weight.data[0])  # a view of the first's weight
    module = nn.Sequential(first, nn.Tanh(), second)
    shared = "weight" if how != "shared storage" else "bias"
    pattern = rf"module 2's {shared} shares its memory with module 0's weight.*train them apart"
    with pytest.raises(ValueError, match=pattern):
        bridge.from_torch(module)


@needs_torch
def test_stateless_modules_may_appear_twice():
    nn = torch.nn
    relu, drop = nn.ReLU(), nn.Dropout(0.1)
    module = nn.Sequential(nn.Linear(3, 3), relu, drop, nn.Linear(3, 3), relu, drop)
    model = bridge.from_torch(module)
    assert [type(layer).__name__ for layer in model.layers] == [
        "Dense",
        "ReLU",
        "Dropout",
        "Dense",
        "ReLU",
        "Dropout",
    ]


@needs_torch
def test_parameters_without_values_or_of_the_wrong_shape_are_refused():
    nn = torch.nn
    with pytest.raises(ValueError, match=r"module 0, .*meta device.*Received: weight on device me"):
        bridge.from_torch(nn.Sequential(nn.Linear(3, 3, device="meta")))
    linear = nn.Linear(3, 4)
    linear.bias = nn.Parameter(torch.zeros(1))  # broadcasts in torch
    with pytest.raises(ValueError, match=r"bias must have shape \(4,\).*bias of shape \(1,\)"):
        bridge.from_torch(nn.Sequential(linear))


# --- many networks drawn at random: right numbers or a refusal naming the module -----------

GOOD = ["linear", "relu", "leaky", "sigmoid", "tanh", "identity", "dropout", "softmax"]
BAD = [
    "sub linear",
    "sub relu",
    "forward hook",
    "pre-hook",
    "backward hook",
    "gradient hook",
    "frozen weight",
    "frozen bias",
    "other-mode dropout",
    "tied",
    "half",
    "no bias",
    "replaced forward",
    "gelu",
    "lazy",
    "compiled",
]


def drawn_module(kind: str, previous: list):
    """One module of width 4 of ``kind``; ``previous`` holds the modules before it."""
    nn = torch.nn
    simple = {
        "relu": nn.ReLU,
        "leaky": lambda: nn.LeakyReLU(0.2),
        "sigmoid": nn.Sigmoid,
        "tanh": nn.Tanh,
        "identity": nn.Identity,
        "dropout": lambda: nn.Dropout(0.3),
        "softmax": lambda: nn.Softmax(dim=-1),
        "gelu": nn.GELU,
        "lazy": lambda: nn.LazyLinear(4),
    }
    if kind in simple:
        return simple[kind]()
    if kind == "sub relu":
        return subclass_of(nn.ReLU, "ReLU", twice=True)()
    if kind == "sub linear":
        return subclass_of(nn.Linear, "Linear", twice=True)(4, 4)
    if kind == "tied":
        earlier = [m for m in previous if type(m) is nn.Linear]
        return earlier[-1] if earlier else nn.Linear(4, 4)
    linear = nn.Linear(4, 4, bias=kind != "no bias")
    if kind == "forward hook":
        linear.register_forward_hook(lambda m, i, o: o + 1)
    elif kind == "pre-hook":
        linear.register_forward_pre_hook(lambda m, i: None)
    elif kind == "backward hook":
        linear.register_full_backward_hook(lambda m, gi, go: None)
    elif kind == "gradient hook":
        linear.bias.register_hook(lambda g: g)
    elif kind == "frozen weight":
        linear.weight.requires_grad_(False)
    elif kind == "frozen bias":
        linear.bias.requires_grad_(False)
    elif kind == "half":
        linear.half()
    elif kind == "replaced forward":
        linear.forward = lambda inputs: inputs
    elif kind == "compiled":
        return compiled(linear)
    elif kind == "other-mode dropout":
        return nn.Dropout(0.3).eval()
    return linear


@settings(max_examples=80, deadline=None, derandomize=True, database=None)
@given(
    kinds=st.lists(st.sampled_from(GOOD + BAD), min_size=1, max_size=7),
    seed=st.integers(0, 2**16),
    eval_mode=st.booleans(),
)
@needs_torch
def test_any_network_converts_exactly_or_is_refused_naming_a_culprit(kinds, seed, eval_mode):
    torch.manual_seed(seed)
    modules = [torch.nn.Linear(4, 4)]
    for kind in kinds:
        modules.append(drawn_module(kind, modules))
    module = torch.nn.Sequential(*modules)
    if eval_mode:  # a whole network in eval mode: its odd Dropout is then in training mode
        module.eval()
        for child, kind in zip(modules[1:], kinds):
            if kind == "other-mode dropout":
                child.train()
    culprits = {index + 1 for index, kind in enumerate(kinds) if kind in BAD}
    try:
        model = bridge.from_torch(module, rng=seed)
    except (TypeError, ValueError) as error:
        named = {int(n) for n in re.findall(r"module (\d+)", str(error))}
        assert culprits and named & culprits, (kinds, str(error))
        assert "Received:" in str(error), str(error)
        return
    assert not culprits, (kinds, "converted")
    X = np.random.default_rng(seed).normal(size=(5, 4)).astype(np.float32)
    with torch.no_grad():
        expected = module.eval()(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(model.forward(X), expected, rtol=0, atol=1e-5)
    for layer, child in zip(model.layers, modules):
        if isinstance(child, torch.nn.Linear):
            assert np.array_equal(layer.weights, child.weight.detach().numpy().T)


# --- output=: the activation a network that ends in logits leaves to its loss --------------


@needs_torch
def test_a_torch_classifier_on_logits_trains_in_mynn_with_output_softmax():
    nn, F = torch.nn, torch.nn.functional
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))  # the usual classifier
    rng = np.random.default_rng(0)
    X = rng.normal(size=(32, 4)).astype(np.float32)
    y = rng.integers(0, 3, size=32)

    bare = bridge.from_torch(net)
    bare.set_loss(CategoricalCrossentropy())
    bare.set_optimizer(SGD(learning_rate=0.1))
    with pytest.raises(ValueError, match=r"end the model with Softmax\(\)"):  # was loss 7.557
        bare.evaluate(X, y)

    model = bridge.from_torch(net, output=Softmax())
    assert type(model.layers[-1]) is Softmax and len(model.layers) == 4
    model.set_loss(CategoricalCrossentropy())
    model.set_optimizer(SGD(learning_rate=0.1))
    X_t, y_t = torch.from_numpy(X), torch.from_numpy(y)
    mynn_loss, _ = model.evaluate(X, y)
    torch_loss = F.cross_entropy(net(X_t), y_t).item()
    assert abs(mynn_loss - torch_loss) < 1e-6, (mynn_loss, torch_loss)

    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    for _ in range(5):  # five full-batch steps in each library
        optimizer.zero_grad()
        F.cross_entropy(net(X_t), y_t).backward()
        optimizer.step()
    model.train(X, y, epochs=5, verbose=0)
    for index in (0, 2):
        gap = np.abs(model.layers[index].weights - net[index].weight.detach().numpy().T).max()
        assert gap < 1e-5, (index, gap)  # float32, two libraries' kernels


@needs_torch
def test_output_sigmoid_matches_bce_with_logits():
    nn, F = torch.nn, torch.nn.functional
    torch.manual_seed(1)
    net = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2)).double()
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(20, 3)), rng.integers(0, 2, size=(20, 2)).astype(np.float64)
    model = bridge.from_torch(net, output=Sigmoid())
    model.set_loss(BinaryCrossentropy())
    mynn_loss, _ = model.evaluate(X, y)
    torch_loss = F.binary_cross_entropy_with_logits(net(torch.from_numpy(X)), torch.from_numpy(y))
    assert abs(mynn_loss - torch_loss.item()) < 1e-12  # logits of order 1: no clipping


@pytest.mark.parametrize("last", [Softmax, Sigmoid])
@needs_torch
def test_output_is_the_reverse_of_logits_true(last):
    model = Model([Dense(4, 6, rng=0), Tanh(), Dense(6, 3, rng=1), last()])
    back = bridge.from_torch(bridge.to_torch(model, logits=True), output=last())
    assert [type(layer) for layer in back.layers] == [type(layer) for layer in model.layers]
    X = np.random.default_rng(0).normal(size=(5, 4))
    np.testing.assert_array_equal(back.forward(X), model.forward(X))


@needs_torch
def test_output_errors():
    nn = torch.nn
    logits = nn.Sequential(nn.Linear(3, 2))
    for wrong in ("softmax", Softmax, ReLU(), Linear(), subclass_of(Softmax, "Softmax", True)()):
        with pytest.raises(TypeError, match=r"output must be Softmax\(\), Sigmoid\(\) or None"):
            bridge.from_torch(logits, output=wrong)
    for end in (nn.Softmax(dim=1), nn.Sigmoid()):
        for output in (Softmax(), Sigmoid()):
            with pytest.raises(ValueError, match=r"already ends in .*second activation"):
                bridge.from_torch(nn.Sequential(nn.Linear(3, 2), end), output=output)
    with pytest.raises(ValueError, match=r"Softmax over a single output is 1 .*Sigmoid\(\)"):
        bridge.from_torch(nn.Sequential(nn.Linear(3, 1)), output=Softmax())
    assert (
        type(bridge.from_torch(nn.Sequential(nn.Linear(3, 1)), output=Sigmoid()).layers[-1])
        is Sigmoid
    )


# --- optimizers: continue a mynn run in torch ---------------------------------------------

OPTIMIZERS = {
    "SGD": lambda: SGD(learning_rate=0.5),
    "SGD decay": lambda: SGD(learning_rate=0.5, decay=0.1),
    "SGD momentum": lambda: SGD(learning_rate=0.2, momentum=0.9),
    "SGD momentum decay": lambda: SGD(learning_rate=0.5, momentum=0.9, decay=0.1),
    "Adagrad": lambda: Adagrad(learning_rate=0.2),
    "Adagrad decay": lambda: Adagrad(learning_rate=0.2, decay=0.05),
    "RMSProp": lambda: RMSProp(learning_rate=0.01, rho=0.8),
    "RMSProp decay": lambda: RMSProp(learning_rate=0.01, decay=0.05),
    "Adam": lambda: Adam(learning_rate=0.02, beta_1=0.8, beta_2=0.99),
    "Adam decay": lambda: Adam(learning_rate=0.02, decay=0.05),
}


def classifier(make_optimizer, dtype=np.float64, l2=0.0) -> Model:
    model = Model(
        [
            Dense(5, 8, rng=0, dtype=dtype, weight_regularizer_l2=l2, bias_regularizer_l2=l2 / 2),
            Tanh(),
            Dense(8, 3, rng=1, dtype=dtype, weight_regularizer_l2=2 * l2),
            Softmax(),
        ]
    )
    model.set_loss(CategoricalCrossentropy())
    model.set_optimizer(make_optimizer())
    return model


def mynn_step(model, X, y) -> None:
    model.backward(model.forward(X, training=True), y)
    model.optimizer.step(model.parameters())


def continue_in_torch(model, X, y, steps: int) -> float:
    """Take ``steps`` more steps in mynn and, from the same start, in torch; the largest gap."""
    module = bridge.to_torch(model, logits=True)
    optimizer, scheduler = bridge.to_torch_optimizer(model, module)
    X_t, y_t = torch.from_numpy(X), torch.from_numpy(y)
    gap = 0.0
    for _ in range(steps):
        mynn_step(model, X, y)
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(module(X_t), y_t).backward()
        optimizer.step()
        scheduler.step()
        for index in (0, 2):
            dense, linear = model.layers[index], module[index]
            gap = max(
                gap,
                np.abs(dense.weights - linear.weight.detach().numpy().T).max(),
                np.abs(dense.biases - linear.bias.detach().numpy()).max(),
            )
    assert optimizer.param_groups[0]["lr"] == model.optimizer.current_learning_rate
    return gap


def data(dtype=np.float64):
    rng = np.random.default_rng(0)
    return rng.normal(size=(40, 5)).astype(dtype), rng.integers(0, 3, size=40)


@pytest.mark.parametrize("mynn_steps", [0, 6])
@pytest.mark.parametrize("name", OPTIMIZERS)
@needs_torch
def test_torch_continues_the_trajectory_in_float64(name, mynn_steps):
    X, y = data()
    model = classifier(OPTIMIZERS[name])
    for _ in range(mynn_steps):
        mynn_step(model, X, y)
    moved = np.abs(model.layers[0].weights - classifier(OPTIMIZERS[name]).layers[0].weights).max()
    gap = continue_in_torch(model, X, y, steps=25)
    assert gap < 1e-10, (name, gap)
    trained = np.abs(model.layers[0].weights - classifier(OPTIMIZERS[name]).layers[0].weights).max()
    assert trained > moved + 0.01, (name, moved, trained)  # the steps went somewhere


@pytest.mark.parametrize("name", OPTIMIZERS)
@needs_torch
def test_torch_continues_the_trajectory_with_l2_and_in_float32(name):
    X, y = data()
    model = classifier(OPTIMIZERS[name], l2=1e-3)
    for _ in range(6):
        mynn_step(model, X, y)
    assert continue_in_torch(model, X, y, steps=25) < 1e-10, name

    X32, y32 = data(np.float32)
    model = classifier(OPTIMIZERS[name], dtype=np.float32)
    for _ in range(6):
        mynn_step(model, X32, y32)
    # float32 rounds at ~6e-8 per operation; over 25 steps of two libraries' kernels the
    # weights (of order 1) drift apart by 1e-7 to 2e-6 (measured; Adagrad the most, where a
    # division by a small sqrt(cache) magnifies the rounding): 1e-5 leaves 5x.
    assert continue_in_torch(model, X32, y32, steps=25) < 1e-5, name


@needs_torch
def test_state_is_carried_over():
    X, y = data()
    model = classifier(lambda: Adam(learning_rate=0.02, decay=0.05))
    for _ in range(4):
        mynn_step(model, X, y)
    module = bridge.to_torch(model, logits=True)
    optimizer, scheduler = bridge.to_torch_optimizer(model, module)
    state = optimizer.state[module[0].weight]
    mynn_state = model.optimizer.state["0.weights"]
    assert torch.equal(state["exp_avg"], torch.from_numpy(mynn_state["momentum"].T.copy()))
    assert torch.equal(state["exp_avg_sq"], torch.from_numpy(mynn_state["cache"].T.copy()))
    assert float(state["step"]) == 4.0 and scheduler.iterations == 4
    assert optimizer.param_groups[0]["lr"] == model.optimizer.current_learning_rate
    assert optimizer.param_groups[0]["eps"] == 1e-7
    mynn_state["momentum"][0, 0] += 1.0  # the torch state is a copy
    assert not torch.equal(state["exp_avg"], torch.from_numpy(mynn_state["momentum"].T.copy()))


@needs_torch
def test_l2_becomes_weight_decay_of_twice_the_factor():
    model = classifier(lambda: SGD(0.1), l2=1e-3)
    optimizer, _ = bridge.to_torch_optimizer(model, bridge.to_torch(model, logits=True))
    decays = sorted(group["weight_decay"] for group in optimizer.param_groups)
    assert decays == [0.0, 1e-3, 2e-3, 4e-3]


@needs_torch
def test_plain_torch_momentum_drifts_under_decay():
    """Why InverseTimeDecay rescales momentum buffers: without it the runs part."""
    X, y = data()
    model = classifier(lambda: SGD(learning_rate=0.5, momentum=0.9, decay=0.1))
    module = bridge.to_torch(model, logits=True)
    optimizer = torch.optim.SGD(module.parameters(), lr=0.5, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda t: 1 / (1 + 0.1 * t))
    for _ in range(25):
        mynn_step(model, X, y)
        optimizer.zero_grad()
        logits = module(torch.from_numpy(X))
        torch.nn.functional.cross_entropy(logits, torch.from_numpy(y)).backward()
        optimizer.step()
        scheduler.step()
    gap = np.abs(model.layers[0].weights - module[0].weight.detach().numpy().T).max()
    assert gap > 0.01, gap


@needs_torch
def test_inverse_time_decay_gives_mynns_rates():
    parameter = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([parameter], lr=0.3)
    scheduler = bridge.InverseTimeDecay(optimizer, 0.07, iterations=5)
    mynn_optimizer = SGD(learning_rate=0.3, decay=0.07)
    mynn_optimizer.iterations = 5
    for _ in range(20):
        assert optimizer.param_groups[0]["lr"] == mynn_optimizer.current_learning_rate
        parameter.grad = torch.zeros(1)
        optimizer.step()
        scheduler.step()
        mynn_optimizer.iterations += 1
    with pytest.raises(ValueError, match=r"Received: decay=-1"):
        bridge.InverseTimeDecay(optimizer, -1)
    with pytest.raises(ValueError, match=r"Received: iterations=1\.5"):
        bridge.InverseTimeDecay(optimizer, 0.1, iterations=1.5)


@needs_torch
def test_to_torch_optimizer_errors():
    module = bridge.to_torch(classifier(lambda: SGD(0.1)), logits=True)
    bare = Model([Dense(5, 8, rng=0), Tanh(), Dense(8, 3, rng=1)])
    with pytest.raises(ValueError, match="no optimizer"):
        bridge.to_torch_optimizer(bare, module)
    with pytest.raises(TypeError, match=r"Received: module=list"):
        bridge.to_torch_optimizer(classifier(lambda: SGD(0.1)), list(module))

    class Nesterov(SGD):
        pass

    with pytest.raises(
        TypeError, match=r"SGD, Adagrad, RMSProp and Adam\. Received: model\.optimizer=Nesterov"
    ):
        bridge.to_torch_optimizer(classifier(Nesterov), module)
    l1 = Model([Dense(5, 8, rng=0, bias_regularizer_l1=0.01)])
    l1.set_optimizer(SGD(0.1))
    with pytest.raises(ValueError, match=r"L1 penalty.*Received: bias_regularizer_l1=0\.01"):
        bridge.to_torch_optimizer(l1, bridge.to_torch(l1))
    wide = Model([Dense(5, 9, rng=0), Tanh(), Dense(9, 3, rng=1)])
    wide.set_loss(MeanSquaredError())
    wide.set_optimizer(SGD(0.1))
    with pytest.raises(
        ValueError, match=r"module 0, .* needs a weight of shape \(9, 5\).*Received: weight of "
    ):
        bridge.to_torch_optimizer(wide, module)
    with pytest.raises(ValueError, match=r"3 module\(s\) for the model's 3 layer\(s\)\. Rec"):
        bridge.to_torch_optimizer(wide, bridge.to_torch(wide)[:2])


# --- to_torch_optimizer: the module must hold the model's network, as of now ----------------


def adam_run(steps: int = 3) -> Model:
    X, y = data()
    model = classifier(lambda: Adam(learning_rate=0.02))
    for _ in range(steps):
        mynn_step(model, X, y)
    return model


@needs_torch
def test_a_module_trained_since_to_torch_is_refused():
    X, y = data()
    model = adam_run()
    module = bridge.to_torch(model, logits=True)
    optimizer = torch.optim.SGD(module.parameters(), lr=0.1)  # one torch step on the twin
    torch.nn.functional.cross_entropy(module(torch.from_numpy(X)), torch.from_numpy(y)).backward()
    optimizer.step()
    pattern = (
        r"module 0, Linear.*: its weight is no longer the model's layer 0 weights \(40 of 40 "
        r"values differ, by up to .*to_torch\(model\) just before.*"
        r"Received: module\[0\]\.weight other than model\.layers\[0\]\.weights\.T"
    )
    with pytest.raises(ValueError, match=pattern):
        bridge.to_torch_optimizer(model, module)


@needs_torch
def test_a_model_trained_since_to_torch_is_refused():
    X, y = data()
    model = adam_run()
    module = bridge.to_torch(model, logits=True)
    mynn_step(model, X, y)  # the model moves on, the module stays behind
    with pytest.raises(ValueError, match=r"module 0, .*its weight is no longer the model's"):
        bridge.to_torch_optimizer(model, module)
    bridge.to_torch_optimizer(model, bridge.to_torch(model, logits=True))  # made anew: accepted


@needs_torch
def test_the_module_of_another_model_is_refused():
    model = adam_run()
    other = classifier(lambda: Adam(learning_rate=0.02))  # the same layers, untrained
    with pytest.raises(ValueError, match=r"no longer the model's layer 0 weights"):
        bridge.to_torch_optimizer(model, bridge.to_torch(other))


@needs_torch
def test_a_module_in_another_dtype_is_refused():
    model = adam_run()
    with pytest.raises(ValueError, match=r"computes in float64.*weight of dtype torch\.float32"):
        bridge.to_torch_optimizer(model, bridge.to_torch(model).float())


@needs_torch
def test_a_module_with_other_layers_is_refused():
    nn = torch.nn
    model = adam_run()
    module = bridge.to_torch(model)
    swapped = nn.Sequential(module[0], nn.ReLU(), module[2], module[3])
    with pytest.raises(ValueError, match=r"module 1, ReLU\(\): the model's layer 1 is Tanh\(\)"):
        bridge.to_torch_optimizer(model, swapped)
    with pytest.raises(ValueError, match=r"4 or 3 module\(s\) for the model's 4 layer\(s\)"):
        bridge.to_torch_optimizer(model, module[:2])
    leaky = Model([Dense(5, 8, rng=0), LeakyReLU(alpha=0.1), Dropout(0.2), Dense(8, 3, rng=1)])
    leaky.set_optimizer(SGD(0.1))
    twin = bridge.to_torch(leaky)
    bridge.to_torch_optimizer(leaky, twin)
    for index, changed in ((1, nn.LeakyReLU(0.2)), (2, nn.Dropout(0.5))):
        other = nn.Sequential(*(changed if i == index else m for i, m in enumerate(twin)))
        with pytest.raises(ValueError, match=rf"module {index}, .*which to_torch makes into"):
            bridge.to_torch_optimizer(leaky, other)


@pytest.mark.parametrize("change", ["frozen", "hook", "other-mode dropout", "subclass"])
@needs_torch
def test_what_from_torch_refuses_to_torch_optimizer_refuses(change):
    model = Model([Dense(5, 8, rng=0), Tanh(), Dropout(0.2), Dense(8, 3, rng=1), Softmax()])
    model.set_optimizer(Adam())
    module = bridge.to_torch(model, logits=True)
    if change == "frozen":
        module[3].bias.requires_grad_(False)
        pattern = r"module 3, .*its bias is frozen"
    elif change == "hook":
        module[0].register_forward_hook(lambda m, i, o: o)
        pattern = r"module 0, .*it has a forward hook"
    elif change == "other-mode dropout":
        module[2].eval()
        pattern = r"module 2, Dropout.*eval mode while the Sequential is in training mode"
    else:
        module[0].__class__ = subclass_of(torch.nn.Linear, "Linear", twice=True)
        pattern = r"module 0, .*TwiceLinear is a subclass of Linear"
    with pytest.raises(
        (TypeError, ValueError), match="to_torch_optimizer cannot continue the run on " + pattern
    ):
        bridge.to_torch_optimizer(model, module)


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(
    index=st.sampled_from([0, 2]),
    name=st.sampled_from(["weight", "bias"]),
    position=st.integers(0, 39),
    change=st.sampled_from(["next float", "add", "nan", "sign"]),
    amount=st.floats(1e-12, 10.0),
)
@needs_torch
def test_any_changed_number_in_the_module_is_refused(index, name, position, change, amount):
    model = adam_run(steps=2)
    module = bridge.to_torch(model, logits=True)
    parameter = getattr(module[index], name)
    flat = parameter.detach().view(-1)
    position %= flat.numel()
    with torch.no_grad():
        value = flat[position].item()
        new = {
            "next float": np.nextafter(value, np.inf),  # one unit in the last place
            "add": value + amount,
            "nan": np.nan,
            "sign": -value if value != 0 else amount,
        }[change]
        flat[position] = new
    size = flat.numel()
    pattern = rf"module {index}, .*its {name} is no longer .* \(1 of {size} values differ"
    with pytest.raises(ValueError, match=pattern):
        bridge.to_torch_optimizer(model, module)


@pytest.mark.parametrize(
    "name, value, found",
    [
        ("weights", np.zeros((4, 2)), r"ndarray of shape \(4, 2\) and dtype float64"),
        ("weights", np.zeros((3, 2)), r"ndarray of shape \(3, 2\) and dtype float64"),
        ("biases", np.zeros(1, dtype=np.float32), r"ndarray of shape \(1,\) and dtype float32"),
        ("biases", [0.0, 0.0], r"list of shape None"),
    ],
)
@needs_torch
def test_dense_arrays_replaced_by_others_are_refused_by_to_torch(name, value, found):
    dense = Dense(3, 2, rng=0, dtype=np.float32)
    setattr(dense, name, value)
    pattern = rf"layer 0, .*its {name} were replaced .*shape \(.*\) and dtype float32.*{found}"
    with pytest.raises(ValueError, match=pattern):
        bridge.to_torch(Model([dense]))


# ------------------------------------------------ bad input, by the house rules of test_bad_input
# (here, not in test_bad_input.py: .ci/package runs that file against the wheel, without torch)
# The bridge's public names are not in mynn.__all__ (PyTorch is optional). Their cases import
# torch only when they run, so this list is collected on a machine without it, and the tests
# that run them are skipped there (failed under CI=true, pytest_pages.py).


def _bridge():
    from mynn import bridge

    return bridge


def _nn():
    from torch import nn

    return nn


class DoubledDense(Dense):
    """A Dense layer of the user's own, which the bridge cannot read."""

    def forward(self, inputs, training=False):
        return 2 * super().forward(inputs, training)


def _with(module, change):
    change(module)
    return module


def _stale_pair():
    """A model and its torch twin, the model trained one epoch since the twin was made."""
    model = small_classifier()
    module = _bridge().to_torch(model, logits=True)
    model.train(X3, Y3, epochs=1, verbose=0)
    return model, module


def _replaced_forward():
    dense = Dense(2, 2, rng=0)
    dense.forward = lambda inputs, training=False: inputs
    return Model([dense])


def _tied():
    linear = _nn().Linear(2, 2)
    return _nn().Sequential(linear, _nn().ReLU(), linear)


BRIDGE_CASES = [
    ("to_torch", lambda: _bridge().to_torch([]), TypeError, r"Received: model=\[\]"),
    (
        "to_torch",
        lambda: _bridge().to_torch(small_classifier(), logits="yes"),
        TypeError,
        r"logits must be True or False\. Received: logits='yes'",
    ),
    (
        "to_torch",
        lambda: _bridge().to_torch(Model([DoubledDense(2, 2, rng=0)])),
        TypeError,
        r"layer 0, .*DoubledDense is a subclass of Dense.*Received: a layer of type DoubledDense",
    ),
    (
        "to_torch",
        lambda: _bridge().to_torch(_replaced_forward()),
        TypeError,
        r"layer 0, .*its forward was replaced on the instance.*Received: layer\.forward=",
    ),
    (
        "to_torch",
        lambda: _bridge().to_torch(regressor(), logits=True),
        ValueError,
        r"ends in Linear\(\)\. Received: logits=True",
    ),
    (
        "from_torch",
        lambda: _bridge().from_torch(_nn().Linear(2, 2)),
        TypeError,
        r"nn\.Sequential\(Linear\(\.\.\.\)\)\. Received: module=Linear",
    ),
    (
        "from_torch",
        lambda: _bridge().from_torch(_nn().Sequential(_nn().GELU())),
        TypeError,
        r"module 0, GELU.*Received: a module of type GELU",
    ),
    (
        "from_torch",
        lambda: _bridge().from_torch(_nn().Sequential(_nn().Linear(2, 2).half())),
        TypeError,
        r"\.float\(\) or \.double\(\) first\. Received: weight of dtype torch\.float16",
    ),
    (
        "from_torch",
        lambda: _bridge().from_torch(
            _with(_nn().Sequential(_nn().Linear(2, 2)), lambda m: m[0].register_forward_hook(print))
        ),
        ValueError,
        r"module 0, .*it has a forward hook.*Received: 1 forward hook",
    ),
    (
        "from_torch",
        lambda: _bridge().from_torch(
            _with(_nn().Sequential(_nn().Linear(2, 2)), lambda m: m.requires_grad_(False))
        ),
        ValueError,
        r"module 0, .*frozen.*Received: weight with requires_grad=False",
    ),
    (
        "from_torch",
        lambda: _bridge().from_torch(
            _with(_nn().Sequential(_nn().Linear(2, 2), _nn().Dropout()), lambda m: m[1].eval())
        ),
        ValueError,
        r"module 1, Dropout.*Received: module\[1\]\.training=False, module\.training",
    ),
    (
        "from_torch",
        lambda: _bridge().from_torch(_tied()),
        ValueError,
        r"module 2's weight shares its memory with module 0's weight.*Received: module 2's weig",
    ),
    (
        "from_torch",
        lambda: _bridge().from_torch(_nn().Sequential(_nn().Linear(2, 2)), output="softmax"),
        TypeError,
        r"output must be Softmax\(\), Sigmoid\(\) or None.*Received: output='softmax'",
    ),
    (
        "from_torch",
        lambda: _bridge().from_torch(
            _nn().Sequential(_nn().Linear(2, 2), _nn().Softmax(1)), output=Softmax()
        ),
        ValueError,
        r"already ends in Softmax.*Received: output=Softmax\(\)",
    ),
    (
        "to_torch_optimizer",
        lambda: _bridge().to_torch_optimizer(None, _nn().Sequential()),
        TypeError,
        r"model must be a mynn Model\. Received: model=None",
    ),
    (
        "to_torch_optimizer",
        lambda: _bridge().to_torch_optimizer(
            small_classifier(), list(_bridge().to_torch(small_classifier()))
        ),
        TypeError,
        r"module must be a torch\.nn\.Sequential\. Received: module=list",
    ),
    (
        "to_torch_optimizer",
        lambda: _bridge().to_torch_optimizer(Model([Dense(2, 2, rng=0)]), _nn().Sequential()),
        ValueError,
        r"no optimizer.*Received: model\.optimizer=None",
    ),
    (
        "to_torch_optimizer",
        lambda: _bridge().to_torch_optimizer(*_stale_pair()),
        ValueError,
        r"module 0, .*its weight is no longer the model's layer 0 weights \([1-8] of 8 values diff",
    ),
    (
        "to_torch_optimizer",
        lambda: _bridge().to_torch_optimizer(
            small_classifier(), _bridge().to_torch(small_classifier()).float()
        ),
        ValueError,
        r"computes in float64.*Received: weight of dtype torch\.float32",
    ),
    (
        "InverseTimeDecay",
        lambda: _bridge().InverseTimeDecay([], 0.1),
        TypeError,
        r"optimizer must be a torch\.optim\.Optimizer\. Received: optimizer of type list",
    ),
    (
        "InverseTimeDecay",
        lambda: _bridge().InverseTimeDecay(
            _bridge().to_torch_optimizer(
                small_classifier(), _bridge().to_torch(small_classifier())
            )[0],
            -1,
        ),
        ValueError,
        r"Received: decay=-1",
    ),
]


@pytest.mark.requires("torch")
@pytest.mark.parametrize("case", BRIDGE_CASES, ids=[case_id(case) for case in BRIDGE_CASES])
def test_the_bridge_refuses_bad_input_by_name(case):
    _, call, error, pattern = case
    with pytest.raises(error) as caught:
        call()
    assert type(caught.value) is error, (type(caught.value), caught.value)
    message = str(caught.value)
    assert re.search(pattern, message), message
    assert "Received:" in message, message


@pytest.mark.requires("torch")
def test_every_public_name_of_the_bridge_has_bad_input_cases():
    assert {name for name, *_ in BRIDGE_CASES} == set(_bridge().__all__)


NOT_OUTPUTS = st.one_of(
    st.text(max_size=8),
    st.integers(),
    st.booleans(),
    st.sampled_from([Softmax, Sigmoid, ReLU(), Tanh(), Linear(), LeakyReLU(), Dense(2, 2, rng=0)]),
)


@pytest.mark.requires("torch")
@FUZZ
@given(output=NOT_OUTPUTS)
def test_from_torch_takes_no_output_but_softmax_or_sigmoid(output):
    module = _nn().Sequential(_nn().Linear(2, 2))
    with pytest.raises(
        TypeError, match=r"output must be Softmax\(\), Sigmoid\(\) or None: .*Received: output="
    ):
        _bridge().from_torch(module, output=output)


@pytest.mark.requires("torch")
@pytest.mark.parametrize(
    ("rng", "error", "message"),
    [
        ("x", TypeError, r"rng must be a numpy\.random\.Generator, an int seed or None"),
        (1.5, TypeError, r"rng must be a numpy\.random\.Generator, an int seed or None"),
        (True, TypeError, r"rng must be a numpy\.random\.Generator, an int seed or None"),
        (np.random.RandomState(0), TypeError, r"rng must be a numpy\.random\.Generator"),
        (-1, ValueError, r"an int seed must be 0 or more\. Received: rng=-1"),
    ],
    ids=["str", "float", "bool", "RandomState", "negative"],
)
def test_from_torch_refuses_a_bad_rng_as_documented(rng, error, message):
    module = _nn().Sequential(_nn().Linear(2, 2), _nn().Dropout(0.5))
    with pytest.raises(error, match=message):
        _bridge().from_torch(module, rng=rng)
    documented = " ".join(_bridge().from_torch.__doc__.split())
    assert "or ``rng`` is not a ``np.random.Generator``" in documented
    assert "or if ``rng`` is a negative int" in documented


@pytest.mark.requires("torch")
@FUZZ
@given(logits=st.one_of(st.integers(), st.text(max_size=4), st.none(), st.floats()))
def test_to_torch_takes_logits_as_a_bool_only(logits):
    with pytest.raises(TypeError, match=r"logits must be True or False\. Received: logits="):
        _bridge().to_torch(small_classifier(), logits=logits)
