"""The seed document's own kind of program, written with exactly its calls, must keep working.

The seed builds a model with ``mynn.model.Model()``, ``model.add(...)``, the ``set_*`` methods and
``model.train(X, y, epochs=, print_every=, validation_data=, batch_size=)``. Seeds (``rng=``) are
added only where the data, the initial weights or the shuffling would otherwise be random.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np

import mynn
import mynn.activations
import mynn.datasets
import mynn.layers
import mynn.loss
import mynn.metrics
import mynn.model
import mynn.optimizers


def seed_spiral_network() -> mynn.model.Model:
    """The seed's classifier for the spiral data, built with its calls: 2-64-64-3, ReLU,
    Softmax, categorical cross-entropy and accuracy (each program sets its own optimizer)."""
    model = mynn.model.Model()
    model.add(mynn.layers.Dense(2, 64, rng=0))
    model.add(mynn.activations.ReLU())
    model.add(mynn.layers.Dense(64, 64, rng=0))
    model.add(mynn.activations.ReLU())
    model.add(mynn.layers.Dense(64, 3, rng=0))
    model.add(mynn.activations.Softmax())
    model.set_loss(mynn.loss.CategoricalCrossentropy())
    model.set_accuracy(mynn.metrics.CategoricalAccuracy())
    return model


def test_spiral_three_classes_reaches_90_percent_within_300_epochs(capsys):
    X, y = mynn.datasets.spiral_classification(1000, 3, rng=0)

    model = seed_spiral_network()
    model.set_optimizer(
        mynn.optimizers.Adam(
            learning_rate=0.005, decay=5e-5, epsilon=1e-7, beta_1=0.9, beta_2=0.999
        )
    )

    # Train in rounds of 25 epochs (one shuffling Generator throughout, so the rounds are one
    # run) and stop as soon as the training accuracy reaches 0.90: the claim is "within 300".
    shuffle = np.random.default_rng(0)
    accuracy, epochs = [], 0
    while epochs < 300 and (not accuracy or accuracy[-1] < 0.90):
        history = model.train(
            X, y, epochs=25, print_every=25, validation_data=(X, y), batch_size=128, rng=shuffle
        )
        accuracy += history["accuracy"]
        epochs += 25
    assert accuracy[-1] >= 0.90, f"training accuracy {accuracy[-1]:.3f} after {epochs} epochs"
    assert accuracy[0] < 0.6  # it was learned, not given
    assert history["val_accuracy"][-1] >= 0.90

    loss, evaluated = model.evaluate(X, y, batch_size=128)
    assert evaluated >= 0.90 and loss < 0.35, (loss, evaluated)
    # the same batches as evaluate, so the same products: equal classes, exactly
    predictions = model.predict(X, batch_size=128)
    assert predictions.shape == (3000,) and np.mean(predictions == y) == evaluated
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("epoch  1/25") and len(printed) == 2 * (epochs // 25)


def test_head_tail_split_of_spiral_data_learns():
    # The seed's own classification program, with exactly its calls: the first 80% of the
    # rows train, the last 20% validate. It only learns if the generator's rows are not
    # grouped by class (a tail of class 2 alone once gave 0.01-0.04 validation accuracy).
    X, y = mynn.datasets.spiral_classification(1000, 3, rng=0)
    split_idx = int(len(X) * 0.8)
    X_train, y_train = X[:split_idx], y[:split_idx]
    X_val, y_val = X[split_idx:], y[split_idx:]
    assert np.bincount(y_val).min() >= 150, np.bincount(y_val)  # every class in both parts

    model = seed_spiral_network()
    model.set_optimizer(mynn.optimizers.Adagrad(learning_rate=0.0273, decay=0.0, epsilon=0.001))

    # Rounds of 10 epochs (one shuffling Generator throughout, so the rounds are one run),
    # stopping at 0.75 validation accuracy: the claim is "within 300 epochs". Measured with
    # seeds 0 to 3 in place of 0: 0.75 first reached after 13 to 20 epochs, 0.885 to 0.922
    # after all 300.
    shuffle = np.random.default_rng(0)
    val_accuracy, epochs = [], 0
    while epochs < 300 and (not val_accuracy or val_accuracy[-1] < 0.75):
        history = model.train(
            X_train, y_train, epochs=10, print_every=100, validation_data=(X_val, y_val),
            batch_size=32, rng=shuffle,
        )
        val_accuracy += history["val_accuracy"]
        epochs += 10
    assert val_accuracy[-1] >= 0.75, f"validation accuracy {val_accuracy[-1]:.3f} after {epochs}"
    assert val_accuracy[0] < 0.6, val_accuracy  # it was learned, not given


def test_linear_regression_recovers_weights_and_bias():
    X, y, (weights, bias) = mynn.datasets.linear(3, 500, rng=0)

    model = mynn.model.Model()
    model.add(mynn.layers.Dense(3, 1, rng=0))
    model.add(mynn.activations.Linear())
    model.set_loss(mynn.loss.MeanSquaredError())
    model.set_optimizer(
        mynn.optimizers.Adam(learning_rate=0.05, decay=1e-3, epsilon=1e-7, beta_1=0.9, beta_2=0.999)
    )
    model.set_accuracy(mynn.metrics.RegressionAccuracy())
    history = model.train(
        X, y, epochs=100, print_every=100, validation_data=(X, y), batch_size=50, rng=0
    )

    layer = model.layers[0]
    np.testing.assert_allclose(layer.weights[:, 0], weights, atol=1e-6)
    np.testing.assert_allclose(layer.biases, [bias], atol=1e-6)
    assert history["loss"][-1] < 1e-10 < history["loss"][0]
    loss, accuracy = model.evaluate(X, y, batch_size=50)
    assert loss < 1e-10 and accuracy == 1.0
    np.testing.assert_allclose(model.predict(X), y, atol=1e-5)


def test_import_mynn_does_not_import_matplotlib():
    code = (
        "import sys, mynn; print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'matplotlib', 'scipy', 'sklearn', 'torch', 'pandas'}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]", result.stdout


def test_public_api_is_reexported():
    for name in mynn.__all__:
        assert hasattr(mynn, name), name
    assert mynn.Dense is mynn.layers.Dense and mynn.Model is mynn.model.Model
