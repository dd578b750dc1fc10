"""Saving and loading: bit-exact round trips, exact resumption, atomic writes, hostile files."""

from __future__ import annotations

import json
import os
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest

import mynn.saving
from mynn.activations import Linear, ReLU, Softmax
from mynn.datasets import linear, spiral_classification
from mynn.layers import Dense, Dropout
from mynn.loss import CategoricalCrossentropy, MeanSquaredError
from mynn.metrics import CategoricalAccuracy, RegressionAccuracy
from mynn.model import Model
from mynn.optimizers import SGD, Adagrad, Adam, RMSProp
from mynn.saving import load_model, save_model

X_SPIRAL, Y_SPIRAL = spiral_classification(30, 3, rng=0)


def classifier(optimizer=None, dtype=np.float64) -> Model:
    model = Model()
    model.add(
        Dense(2, 16, rng=0, dtype=dtype, weight_regularizer_l2=1e-4, bias_regularizer_l1=1e-5)
    )
    model.add(ReLU())
    model.add(Dropout(0.1, rng=5))
    model.add(Dense(16, 3, rng=1, dtype=dtype, weight_initializer="he"))
    model.add(Softmax())
    model.set_loss(CategoricalCrossentropy())
    model.set_optimizer(optimizer or Adam(learning_rate=0.01, decay=1e-3))
    model.set_accuracy(CategoricalAccuracy())
    return model


def optimizer_buffers(model: Model) -> dict:
    return {
        (name, buffer): value
        for name, buffers in model.optimizer.state.items()
        for buffer, value in buffers.items()
        if buffer != "scratch"
    }


def assert_same_model(a: Model, b: Model) -> None:
    assert [repr(layer) for layer in a.layers] == [repr(layer) for layer in b.layers]
    assert [type(layer) for layer in a.layers] == [type(layer) for layer in b.layers]
    for (na, va, _), (nb, vb, _) in zip(a.parameters(), b.parameters(), strict=True):
        assert na == nb and va.dtype == vb.dtype and va.shape == vb.shape
        np.testing.assert_array_equal(va, vb)
    assert repr(a.loss) == repr(b.loss) and repr(a.accuracy) == repr(b.accuracy)
    assert type(a.optimizer) is type(b.optimizer)
    assert a.optimizer.get_config() == b.optimizer.get_config()
    assert a.optimizer.iterations == b.optimizer.iterations
    state_a, state_b = optimizer_buffers(a), optimizer_buffers(b)
    assert state_a.keys() == state_b.keys()
    for key in state_a:
        assert state_a[key].dtype == state_b[key].dtype, key
        np.testing.assert_array_equal(state_a[key], state_b[key], err_msg=str(key))


# ------------------------------------------------------------------ round trips
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    "optimizer",
    [
        lambda: SGD(learning_rate=0.05),
        lambda: SGD(learning_rate=0.05, momentum=0.9, decay=1e-3),
        lambda: Adagrad(learning_rate=0.05),
        lambda: RMSProp(learning_rate=0.01, rho=0.8),
        lambda: Adam(learning_rate=0.01, decay=1e-3, beta_1=0.8),
    ],
    ids=["sgd", "momentum", "adagrad", "rmsprop", "adam"],
)
def test_round_trip_is_bit_exact(tmp_path, dtype, optimizer):
    model = classifier(optimizer(), dtype)
    model.train(X_SPIRAL, Y_SPIRAL, epochs=2, batch_size=32, verbose=0, rng=0)
    path = tmp_path / "model.npz"
    model.save(path)
    loaded = Model.load(path)
    assert_same_model(model, loaded)
    assert loaded.dtype == dtype
    if not isinstance(model.optimizer, SGD) or model.optimizer.momentum:
        assert optimizer_buffers(model)  # there was state to compare
    np.testing.assert_array_equal(loaded.predict(X_SPIRAL), model.predict(X_SPIRAL))
    assert loaded.evaluate(X_SPIRAL, Y_SPIRAL) == model.evaluate(X_SPIRAL, Y_SPIRAL)


def test_round_trip_regression_with_derived_precision(tmp_path):
    X, y, _ = linear(3, 40, rng=0)
    model = Model([Dense(3, 1, rng=0), Linear()])
    model.set_loss(MeanSquaredError())
    model.set_optimizer(SGD(learning_rate=0.1))
    model.set_accuracy(RegressionAccuracy())
    model.train(X, y, epochs=2, verbose=0)
    save_model(model, str(tmp_path / "reg.npz"))  # a str path works too
    loaded = load_model(tmp_path / "reg.npz")
    assert loaded.accuracy.precision == model.accuracy.precision == pytest.approx(np.std(y) / 250)
    assert_same_model(model, loaded)


def test_untrained_model_without_loss_or_optimizer(tmp_path):
    model = Model([Dense(2, 3, rng=0), ReLU()])
    model.save(tmp_path / "bare.npz")
    loaded = Model.load(tmp_path / "bare.npz")
    assert loaded.loss is None and loaded.optimizer is None and loaded.accuracy is None
    np.testing.assert_array_equal(loaded.layers[0].weights, model.layers[0].weights)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_resumed_training_matches_uninterrupted_training(tmp_path, dtype):
    g = np.random.default_rng(42)
    model = classifier(dtype=dtype)
    first = model.train(X_SPIRAL, Y_SPIRAL, epochs=3, batch_size=16, verbose=0, rng=g)
    model.save(tmp_path / "checkpoint.npz")
    resumed = Model.load(tmp_path / "checkpoint.npz")
    second = resumed.train(X_SPIRAL, Y_SPIRAL, epochs=3, batch_size=16, verbose=0, rng=g)

    twin = classifier(dtype=dtype)
    full = twin.train(
        X_SPIRAL, Y_SPIRAL, epochs=6, batch_size=16, verbose=0, rng=np.random.default_rng(42)
    )
    for (name, a, _), (_, b, _) in zip(resumed.parameters(), twin.parameters(), strict=True):
        assert np.array_equal(a, b), name
    assert_same_model(resumed, twin)
    assert first["loss"] + second["loss"] == full["loss"]
    assert first["accuracy"] + second["accuracy"] == full["accuracy"]


# ------------------------------------------------------------------ atomic writes
def write_old_file(path: Path) -> bytes:
    Model([Dense(2, 2, rng=1)]).save(path)
    return path.read_bytes()


def test_failed_savez_leaves_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    old = write_old_file(path)
    real_savez = np.savez

    def savez_then_crash(file, **arrays):
        real_savez(file, **dict(list(arrays.items())[:1]))  # half the archive is written ...
        raise OSError("disk full")  # ... then the disk fills up

    monkeypatch.setattr(np, "savez", savez_then_crash)
    with pytest.raises(OSError, match="disk full"):
        classifier().save(path)
    assert path.read_bytes() == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]
    with pytest.raises(OSError, match="disk full"):
        classifier().save(tmp_path / "new.npz")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]


def test_failed_rename_leaves_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    old = write_old_file(path)

    def replace_fails(src, dst):
        raise PermissionError("rename refused")

    monkeypatch.setattr(os, "replace", replace_fails)
    with pytest.raises(PermissionError, match="rename refused"):
        classifier().save(path)
    assert path.read_bytes() == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]
    assert isinstance(load_model(path), Model)


def test_interrupted_save_leaves_no_temporary(tmp_path, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", interrupted)
    with pytest.raises(KeyboardInterrupt):
        classifier().save(tmp_path / "model.npz")
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ hostile or broken files
def meta_bytes(meta: dict) -> np.ndarray:
    return np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)


class MakeDirectoryWhenUnpickled:
    """Unpickling this object creates a directory: proof that the file's code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def test_the_pickle_payload_is_armed(tmp_path):
    marker = tmp_path / "armed"
    pickle.loads(pickle.dumps(MakeDirectoryWhenUnpickled(marker)))
    assert marker.is_dir()  # so the tests below would notice if loading ran it


def test_object_array_in_npz_is_rejected_and_not_executed(tmp_path):
    marker = tmp_path / "executed"
    path = tmp_path / "evil.npz"
    good = tmp_path / "good.npz"
    Model([Dense(2, 2, rng=0)]).save(good)
    with np.load(good) as archive:
        arrays = {name: archive[name] for name in archive.files}
    arrays["layers/0/weights"] = np.array([MakeDirectoryWhenUnpickled(marker)], dtype=object)
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match=r"evil\.npz.*not a readable mynn model file.*pickle"):
        load_model(path)
    assert not marker.exists()


def test_object_array_as_metadata_is_rejected_and_not_executed(tmp_path):
    marker = tmp_path / "executed"
    path = tmp_path / "evil.npz"
    np.savez(path, __meta__=np.array([MakeDirectoryWhenUnpickled(marker)], dtype=object))
    with pytest.raises(ValueError, match=r"not a readable mynn model file"):
        load_model(path)
    assert not marker.exists()


def test_plain_pickle_file_is_rejected_and_not_executed(tmp_path):
    marker = tmp_path / "executed"
    path = tmp_path / "model.npz"
    path.write_bytes(pickle.dumps(MakeDirectoryWhenUnpickled(marker)))
    with pytest.raises(ValueError, match=r"not a readable mynn model file"):
        load_model(path)
    assert not marker.exists()


def test_npz_without_mynn_metadata(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, weights=np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"other\.npz.*no mynn metadata"):
        load_model(path)


def test_metadata_without_the_mynn_marker(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, __meta__=meta_bytes({"format": "keras", "format_version": 1, "layers": []}))
    with pytest.raises(
        ValueError, match=r"is not a mynn model file: its metadata has no mynn marker"
    ):
        load_model(path)


def test_random_bytes(tmp_path):
    path = tmp_path / "noise.npz"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    with pytest.raises(ValueError, match=r"noise\.npz.*not a readable mynn model file"):
        load_model(path)


@pytest.mark.parametrize("keep", [0.1, 0.5, 0.9])
def test_truncated_file(tmp_path, keep):
    path = tmp_path / "model.npz"
    classifier().save(path)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(ValueError, match=r"not a readable mynn model file"):
        load_model(path)


def test_single_npy_array(tmp_path):
    path = tmp_path / "weights.npy"
    np.save(path, np.ones((2, 2)))
    with pytest.raises(
        ValueError, match=r"weights\.npy.*not a readable mynn model file.*single array"
    ):
        load_model(path)


def test_newer_format_version(tmp_path):
    path = tmp_path / "future.npz"
    np.savez(
        path, __meta__=meta_bytes({"format": "mynn-model", "format_version": 999, "layers": []})
    )
    with pytest.raises(ValueError, match=r"format version 999; this mynn reads versions up to 1"):
        load_model(path)


def test_unknown_class_and_missing_or_wrong_arrays(tmp_path):
    base = {"format": "mynn-model", "format_version": mynn.saving.FORMAT_VERSION}
    path = tmp_path / "bad.npz"
    np.savez(path, __meta__=meta_bytes({**base, "layers": [{"class": "Popen", "config": {}}]}))
    with pytest.raises(ValueError, match=r"unknown layer class 'Popen'"):
        load_model(path)
    dense = {"class": "Dense", "config": {"n_inputs": 2, "n_neurons": 3}}
    np.savez(path, __meta__=meta_bytes({**base, "layers": [dense]}))
    with pytest.raises(ValueError, match=r"incomplete or damaged mynn model.*layers/0/weights"):
        load_model(path)
    np.savez(
        path,
        __meta__=meta_bytes({**base, "layers": [dense]}),
        **{"layers/0/weights": np.ones((3, 2)), "layers/0/biases": np.ones(3)},
    )
    with pytest.raises(
        ValueError, match=r"layers/0/weights in the file has shape \(3, 2\).*needs shape \(2, 3\)"
    ):
        load_model(path)
    np.savez(
        path,
        __meta__=meta_bytes(
            {**base, "layers": [{"class": "Dense", "config": {"n_inputs": 2, "units": 3}}]}
        ),
    )
    with pytest.raises(ValueError, match=r"incomplete or damaged"):
        load_model(path)


def test_missing_file():
    with pytest.raises(FileNotFoundError, match=r"no model file at '.*nowhere\.npz'"):
        load_model("/nonexistent/nowhere.npz")


def test_saved_file_is_a_plain_npz_without_pickles(tmp_path):
    path = tmp_path / "model.npz"
    classifier().save(path)
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
    assert "__meta__.npy" in names and "layers/0/weights.npy" in names
    with np.load(path, allow_pickle=False) as archive:  # loads without pickle: no object arrays
        assert all(archive[name].dtype != object for name in archive.files)
        meta = json.loads(archive["__meta__"].tobytes())
    assert meta["format"] == "mynn-model" and meta["format_version"] == 1
    assert [entry["class"] for entry in meta["layers"]] == [
        "Dense",
        "ReLU",
        "Dropout",
        "Dense",
        "Softmax",
    ]


@pytest.mark.parametrize("loaded_first", [False, True], ids=["trained", "trained-saved-loaded"])
@pytest.mark.parametrize("change", ["replaced", "moved", "dropout deleted"])
def test_a_file_saved_after_a_layer_changes_holds_the_state_the_next_train_uses(
    tmp_path, change, loaded_first
):
    # The Model page's rule, optimizer state stays with its layer, holds for a file saved
    # before the next train(): a moved layer's moments go with it, a new layer has none.
    X, y = spiral_classification(20, 3, rng=0)

    def trained():
        model = Model(
            [Dense(2, 16, rng=0), ReLU(), Dense(16, 16, rng=1), ReLU(), Dropout(0.1, rng=4),
             Dense(16, 16, rng=2), ReLU(), Dense(16, 3, rng=3), Softmax()]
        )
        model.set_loss(CategoricalCrossentropy())
        model.set_optimizer(Adam(0.01))
        model.train(X, y, epochs=2, batch_size=20, verbose=0, rng=0)
        return model

    def change_it(model):
        if change == "replaced":
            model.layers[2] = Dense(16, 16, rng=9)
        elif change == "moved":
            model.layers[2], model.layers[5] = model.layers[5], model.layers[2]
        else:
            del model.layers[4]  # the Dense layer after it moves from place 5 to place 4
        return model

    # the rule as a model that never left memory follows it (tests/test_model.py checks that)
    reference = change_it(trained())
    model = trained()
    if loaded_first:  # a checkpoint read back, then changed: the same rule holds
        save_model(model, tmp_path / "checkpoint.npz")
        model = load_model(tmp_path / "checkpoint.npz")
    change_it(model)
    save_model(model, tmp_path / "model.npz")
    loaded = load_model(tmp_path / "model.npz")
    for each in (reference, model, loaded):
        each.train(X, y, epochs=1, batch_size=20, verbose=0, rng=1)
    for each in (model, loaded):
        for (name, a, _), (_, b, _) in zip(reference.parameters(), each.parameters()):
            np.testing.assert_array_equal(a, b, err_msg=f"{change}: {name}")
        # (a model also keeps state under names it no longer has, which no step uses)
        for name, _, _ in reference.parameters():
            for kind, array in reference.optimizer.state[name].items():
                np.testing.assert_array_equal(
                    array, each.optimizer.state[name][kind], err_msg=name
                )
