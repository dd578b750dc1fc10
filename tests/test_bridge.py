"""mynn.bridge: networks and optimizers moved to PyTorch and back.

The tests marked ``needs_torch`` are skipped without PyTorch, and fail under CI=true
(pytest_pages.py). The first two tests run without it.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import numpy as np
import pytest

from mynn import (
    SGD,
    Adagrad,
    Adam,
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
    with pytest.raises(TypeError, match=r"Sequential\. Received: module=Linear"):
        bridge.from_torch(nn.Linear(2, 2))
    with pytest.raises(TypeError, match=r"module 1, GELU\(.*\): mynn has no counterpart of GELU"):
        bridge.from_torch(nn.Sequential(nn.Linear(2, 2), nn.GELU()))
    with pytest.raises(ValueError, match=r"module 0, .*bias=False.*: mynn's Dense always has bias"):
        bridge.from_torch(nn.Sequential(nn.Linear(2, 2, bias=False)))
    with pytest.raises(ValueError, match=r"share one dtype.*torch\.float32', 'torch\.float64"):
        bridge.from_torch(nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2).double()))
    with pytest.raises(TypeError, match=r"or float64\. Received: weight of dtype torch\.float16"):
        bridge.from_torch(nn.Sequential(nn.Linear(2, 2).half()))
    with pytest.raises(ValueError, match=r"module 1, Softmax\(dim=0\): .*Received: dim=0"):
        bridge.from_torch(nn.Sequential(nn.Linear(2, 2), nn.Softmax(dim=0)))
    with pytest.raises(ValueError, match=r"module 0, LeakyReLU.*Received: alpha=1\.5"):
        bridge.from_torch(nn.Sequential(nn.LeakyReLU(1.5)))
    with pytest.raises(ValueError, match=r"module 0, Dropout.*Received: rate=1\.0"):
        bridge.from_torch(nn.Sequential(nn.Dropout(1.0)))


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
    wide = Model([Dense(5, 9, rng=0)])
    wide.set_loss(MeanSquaredError())
    wide.set_optimizer(SGD(0.1))
    with pytest.raises(ValueError, match=r"index 0, an nn\.Linear with weight of shape \(9, 5\)"):
        bridge.to_torch_optimizer(wide, module)
