"""mynn: neural networks from scratch on numpy alone.

The public API is re-exported here; each object lives in the module named after its part of
the seed document (``mynn.layers``, ``mynn.activations``, ``mynn.loss``, ...).
"""

from .activations import Activation, LeakyReLU, Linear, ReLU, Sigmoid, Softmax, Tanh
from .datasets import (
    linear,
    load_digits,
    one_hot,
    sine,
    spiral_classification,
    standardize,
    train_test_split,
    vertical,
)
from .diagnostics import Diagnosis, Signal, diagnose, expected_initial_loss, overfit_one_batch
from .gradcheck import gradient_check, numerical_gradient, relative_error
from .layers import Dense, Dropout, Layer
from .loss import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    Loss,
    MeanAbsoluteError,
    MeanSquaredError,
    softmax_crossentropy_gradient,
)
from .metrics import Accuracy, BinaryAccuracy, CategoricalAccuracy, RegressionAccuracy
from .mnist import load_fashion_mnist, load_mnist
from .model import Model
from .optimizers import SGD, Adagrad, Adam, Optimizer, RMSProp
from .saving import load_model, save_model

__version__ = "0.1.0"

__all__ = [
    "Layer",
    "Dense",
    "Dropout",
    "Activation",
    "ReLU",
    "LeakyReLU",
    "Sigmoid",
    "Tanh",
    "Softmax",
    "Linear",
    "Loss",
    "MeanSquaredError",
    "MeanAbsoluteError",
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "softmax_crossentropy_gradient",
    "Optimizer",
    "SGD",
    "Adagrad",
    "RMSProp",
    "Adam",
    "Accuracy",
    "CategoricalAccuracy",
    "BinaryAccuracy",
    "RegressionAccuracy",
    "Model",
    "save_model",
    "load_model",
    "gradient_check",
    "diagnose",
    "Diagnosis",
    "Signal",
    "expected_initial_loss",
    "overfit_one_batch",
    "numerical_gradient",
    "relative_error",
    "spiral_classification",
    "vertical",
    "sine",
    "linear",
    "train_test_split",
    "one_hot",
    "standardize",
    "load_digits",
    "load_mnist",
    "load_fashion_mnist",
]
