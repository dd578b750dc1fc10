"""Small data sets to learn on, and the helpers every experiment needs.

Every function that draws random numbers takes ``rng`` (a ``np.random.Generator``, an int random
seed or ``None``), so the same random seed gives the same data (with the same numpy version:
numpy does not promise its random streams across versions). The generators of labelled classes
return their samples in random order, not grouped by class, so a slice of the rows (the first
80% for training, the last 20% for validation, say) holds each class in about its share. That is
a matter of chance, not a guarantee: a slice of a few rows can miss a class (see the example of
[spiral_classification][mynn.datasets.spiral_classification]).

The generators and [one_hot][mynn.datasets.one_hot] make no arrays larger than
[MAX_BYTES][mynn.datasets.MAX_BYTES] (1 GiB) in one call: asked for ``10**9`` samples, they say
how many bytes that would take instead of leaving numpy to fail (or the system to swap)
halfway. Nor does a generator return a NaN or an infinity: a noise, spread or period so large
that the numbers overflow is refused by name.
"""

from __future__ import annotations

import numpy as np

from ._validation import (
    as_array,
    as_float_array,
    as_generator,
    check_bool,
    check_dtype,
    check_number,
    check_positive_int,
    check_same_length,
    first_non_finite,
)

__all__ = [
    "spiral_classification",
    "vertical",
    "circles",
    "xor",
    "blobs",
    "curve",
    "sine",
    "linear",
    "train_test_split",
    "one_hot",
    "standardize",
    "load_digits",
]

MAX_BYTES = 2**30
"""The most bytes (1 GiB) that the arrays one call returns may take together.

A larger request is refused with a ``ValueError`` that gives its size in bytes, before any
memory is taken: numpy would otherwise fail with a ``MemoryError`` halfway, or on a system
that overcommits memory start a process that swaps until the system stops. Making the data
takes up to about 3.5 times the returned size while it works (3.3 times for
[spiral_classification][mynn.datasets.spiral_classification] and
[vertical][mynn.datasets.vertical], measured with ``tracemalloc``). To make more on purpose, raise
the limit: ``mynn.datasets.MAX_BYTES = 8 * 2**30`` (set it on the module: it is not copied into
the ``mynn`` package, so that there is only one).
"""


def _check_size(caller: str, n_bytes: int, received: str, hint: str = "") -> None:
    """Refuse a call whose returned arrays would take more than ``MAX_BYTES`` bytes."""
    if n_bytes > MAX_BYTES:
        raise ValueError(
            f"{caller} would return arrays of {n_bytes:,} bytes in all, more than the limit of "
            f"{MAX_BYTES:,} bytes (mynn.datasets.MAX_BYTES): ask for less, or raise "
            f"mynn.datasets.MAX_BYTES if you have the memory.{hint} Received: {received}"
        )


def _check_finite(array: np.ndarray, problem: str, received: str) -> np.ndarray:
    """Refuse generated data that overflowed to inf (or NaN), naming the argument behind it."""
    if first_non_finite(array) is not None:
        raise ValueError(f"{problem}; use a smaller value. Received: {received}")
    return array


def spiral_classification(
    samples: int, classes: int, *, noise: float = 0.2, rng: np.random.Generator | int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    r"""Points on ``classes`` interleaved spiral arms in the plane: a classic non-linear task.

    Arm $c$ has ``samples`` points at radii $r$ evenly spaced from 0 to 1, each with the angle
    parameter $\varphi = 4c + 4r + \text{noise}\cdot\mathcal N(0, 1)$, placed at
    $(r\sin 2.5\varphi,\ r\cos 2.5\varphi)$: its polar angle, measured from the vertical axis,
    is $2.5\varphi$. The first point of every arm ($r = 0$) is the origin, so the data holds
    ``classes`` copies of $(0, 0)$, one per class: with two classes or more, no classifier gets
    every training point right. The rows come in random order (drawn from ``rng``), so a
    head/tail split of them holds each class in about its share; a split with only a few rows
    can miss a class.

    Args:
        samples: Points per class.
        classes: Number of classes (arms).
        noise: Standard deviation of the normal noise added to $\varphi$ (the polar angle
            $2.5\varphi$ gets 2.5 times as much).
        rng: Generator, int random seed or ``None``.

    Returns:
        ``X`` of shape ``(samples * classes, 2)`` (float64) and ``y`` of shape
        ``(samples * classes,)`` (int64 class indices, ``samples`` of each), rows shuffled.

    Raises:
        ValueError: If ``samples`` or ``classes`` is not a positive integer, the arrays would
            take more than [MAX_BYTES][mynn.datasets.MAX_BYTES] bytes, ``noise`` is negative
            or so large that the angles overflow, or ``rng`` is a negative seed.
        TypeError: If ``noise`` is not a real number or ``rng`` not a Generator, int or None.

    Examples:
        >>> import numpy as np
        >>> from mynn.datasets import spiral_classification
        >>> X, y = spiral_classification(100, 3, rng=0)
        >>> X.shape, y.shape, np.bincount(y).tolist()
        ((300, 2), (300,), [100, 100, 100])
        >>> np.bincount(y[240:]).tolist()  # here the last 20% holds every class
        [19, 23, 18]
        >>> int((np.hypot(X[:, 0], X[:, 1]) == 0).sum())  # one per arm at (0, 0)
        3
        >>> _, y_small = spiral_classification(5, 3, rng=1)
        >>> np.bincount(y_small[-3:], minlength=3).tolist()  # 3 rows, 1 class
        [0, 0, 3]
    """
    samples = check_positive_int("samples", samples)
    classes = check_positive_int("classes", classes)
    noise = check_number("noise", noise, low=0.0)
    _check_size(
        "spiral_classification",
        samples * classes * 3 * 8,  # X: 2 float64 per point, y: 1 int64
        f"samples={samples}, classes={classes}",
    )
    generator = as_generator(rng)
    radius = np.tile(np.linspace(0.0, 1.0, samples), classes)
    arm = np.repeat(np.arange(classes), samples)
    with np.errstate(over="ignore", invalid="ignore"):  # refused below, by name
        theta = 4.0 * arm + 4.0 * radius + noise * generator.standard_normal(samples * classes)
        X = np.column_stack([radius * np.sin(2.5 * theta), radius * np.cos(2.5 * theta)])
    _check_finite(
        X,
        "noise is so large that the angles overflow float64 (NaN points)",
        f"noise={noise!r}",
    )
    return _shuffled(X, arm, generator)


def _shuffled(
    X: np.ndarray, labels: np.ndarray, generator: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Rows of ``X`` and ``labels`` in one random order, labels as int64."""
    order = generator.permutation(len(X))
    return X[order], labels[order].astype(np.int64)


def vertical(
    samples: int, classes: int, *, spread: float = 0.1, rng: np.random.Generator | int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Classes as vertical clusters side by side, which overlap: a task for straight boundaries.

    Class ``c`` is centred at ``x = (c + 1) / (classes + 1)``, ``y = 0.5``, with normal noise of
    standard deviation ``spread`` horizontally and twice that vertically. Neighbouring centres
    are ``1 / (classes + 1)`` apart, 2.5 standard deviations for 3 classes at the default
    spread, so the clusters overlap: even the best classifier (vertical boundaries midway
    between the centres) gets only about 95% of the points right with 2 classes and 86% with 3.
    The rows come in random order (drawn from ``rng``), so a head/tail split of them holds each
    class in about its share.

    Returns:
        ``X`` of shape ``(samples * classes, 2)`` and ``y`` of shape ``(samples * classes,)``
        (int64 class indices, ``samples`` of each), rows shuffled.

    Raises:
        ValueError: If ``samples`` or ``classes`` is not a positive integer, the arrays would
            take more than [MAX_BYTES][mynn.datasets.MAX_BYTES] bytes, or ``spread`` is
            negative or so large that the points overflow.

    Examples:
        >>> from mynn.datasets import vertical
        >>> X, y = vertical(50, 2, rng=0)
        >>> X.shape, int(y.sum())
        ((100, 2), 50)

        The best boundaries (midway between the centres), scored on many points:

        >>> import numpy as np
        >>> for classes in (2, 3):
        ...     X, y = vertical(1000, classes, rng=0)
        ...     centres = (np.arange(classes) + 1) / (classes + 1)
        ...     nearest = np.abs(X[:, :1] - centres).argmin(axis=1)
        ...     print(classes, "classes:", round(float((nearest == y).mean()), 3))
        2 classes: 0.953
        3 classes: 0.858
    """
    samples = check_positive_int("samples", samples)
    classes = check_positive_int("classes", classes)
    spread = check_number("spread", spread, low=0.0)
    _check_size("vertical", samples * classes * 3 * 8, f"samples={samples}, classes={classes}")
    generator = as_generator(rng)
    arm = np.repeat(np.arange(classes), samples)
    with np.errstate(over="ignore"):  # refused below, by name
        x = (arm + 1) / (classes + 1) + spread * generator.standard_normal(len(arm))
        y = 0.5 + 2 * spread * generator.standard_normal(len(arm))
    X = _check_finite(
        np.column_stack([x, y]),
        "spread is so large that the points overflow float64 (inf values)",
        f"spread={spread!r}",
    )
    return _shuffled(X, arm, generator)


def _check_points(caller: str, samples: int, classes: int) -> None:
    """Refuse ``samples * classes`` labelled points of the plane that would pass MAX_BYTES."""
    _check_size(
        caller,
        samples * classes * 3 * 8,  # X: 2 float64 per point, y: 1 int64
        f"samples={samples}" + (f", classes={classes}" if caller == "blobs" else ""),
    )


def _noisy(caller: str, X: np.ndarray, noise: float, generator: np.random.Generator) -> np.ndarray:
    """``X`` plus normal noise of standard deviation ``noise``, refused by name if it overflows."""
    if noise:
        with np.errstate(over="ignore", invalid="ignore"):  # refused below, by name
            X = X + noise * generator.standard_normal(X.shape)
    return _check_finite(
        X, f"noise is so large that the points of {caller} overflow float64", f"noise={noise!r}"
    )


def circles(
    samples: int, *, noise: float = 0.0, rng: np.random.Generator | int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    r"""Two classes in the plane: a disc (class 0) inside a ring (class 1).

    Class 0 has ``samples`` points at radii drawn uniformly from $[0, 0.5]$, class 1 as many
    at radii from $[0.7, 1]$, each at an angle drawn uniformly from $[0, 2\pi)$; then normal
    noise of standard deviation ``noise`` is added to each coordinate. Without noise a circle
    of radius 0.6 separates the classes, which no straight line does. The rows come in random
    order (drawn from ``rng``).

    Args:
        samples: Points per class.
        noise: Standard deviation of the normal noise added to each coordinate.
        rng: Generator, int random seed or ``None``.

    Returns:
        ``X`` of shape ``(2 * samples, 2)`` (float64) and ``y`` of shape ``(2 * samples,)``
        (int64 labels 0 and 1, ``samples`` of each), rows shuffled.

    Raises:
        ValueError: If ``samples`` is not a positive integer, the arrays would take more than
            [MAX_BYTES][mynn.datasets.MAX_BYTES] bytes, ``noise`` is negative or so large
            that the points overflow, or ``rng`` is a negative seed.
        TypeError: If ``noise`` is not a real number or ``rng`` not a Generator, int or None.

    Examples:
        >>> import numpy as np
        >>> from mynn.datasets import circles
        >>> X, y = circles(100, rng=0)
        >>> X.shape, y.shape, np.unique(y, return_counts=True)[1].tolist()
        ((200, 2), (200,), [100, 100])
        >>> radius = np.hypot(X[:, 0], X[:, 1])
        >>> bool((radius[y == 0] <= 0.5).all() and (radius[y == 1] >= 0.7).all())
        True
    """
    samples = check_positive_int("samples", samples)
    noise = check_number("noise", noise, low=0.0)
    _check_points("circles", samples, 2)
    generator = as_generator(rng)
    labels = np.repeat(np.arange(2), samples)
    radius = np.concatenate(
        [generator.uniform(0.0, 0.5, samples), generator.uniform(0.7, 1.0, samples)]
    )
    angle = generator.uniform(0.0, 2 * np.pi, 2 * samples)
    X = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
    return _shuffled(_noisy("circles", X, noise, generator), labels, generator)


def xor(
    samples: int, *, noise: float = 0.0, rng: np.random.Generator | int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    r"""Two classes in the four quadrants of the square $[-1, 1]^2$, labelled like XOR.

    A point is of class 1 when its two coordinates have opposite signs (the second and fourth
    quadrants) and of class 0 when they have the same sign: the label is the exclusive or of
    "$x_1 < 0$" and "$x_2 < 0$". Each coordinate's size is drawn uniformly from
    $[0.05, 1]$, so every point keeps a margin of 0.05 from both axes; each class has
    ``samples`` points, each in one of its class's two quadrants drawn with equal chances.
    Then normal noise of standard deviation ``noise`` is added to
    each coordinate (the labels stay those of the points before the noise). The rows come in
    random order (drawn from ``rng``).

    Args:
        samples: Points per class.
        noise: Standard deviation of the normal noise added to each coordinate.
        rng: Generator, int random seed or ``None``.

    Returns:
        ``X`` of shape ``(2 * samples, 2)`` (float64) and ``y`` of shape ``(2 * samples,)``
        (int64 labels 0 and 1, ``samples`` of each), rows shuffled.

    Raises:
        ValueError: If ``samples`` is not a positive integer, the arrays would take more than
            [MAX_BYTES][mynn.datasets.MAX_BYTES] bytes, ``noise`` is negative or so large
            that the points overflow, or ``rng`` is a negative seed.
        TypeError: If ``noise`` is not a real number or ``rng`` not a Generator, int or None.

    Examples:
        >>> import numpy as np
        >>> from mynn.datasets import xor
        >>> X, y = xor(50, rng=0)
        >>> X.shape, np.unique(y, return_counts=True)[1].tolist()
        ((100, 2), [50, 50])
        >>> bool(((X[:, 0] * X[:, 1] < 0) == (y == 1)).all())
        True
    """
    samples = check_positive_int("samples", samples)
    noise = check_number("noise", noise, low=0.0)
    _check_points("xor", samples, 2)
    generator = as_generator(rng)
    labels = np.repeat(np.arange(2), samples)
    size = generator.uniform(0.05, 1.0, (2 * samples, 2))
    first_sign = generator.choice(np.array([-1.0, 1.0]), 2 * samples)
    second_sign = np.where(labels == 1, -first_sign, first_sign)
    X = size * np.column_stack([first_sign, second_sign])
    return _shuffled(_noisy("xor", X, noise, generator), labels, generator)


def blobs(
    samples: int,
    classes: int,
    *,
    spread: float = 0.15,
    rng: np.random.Generator | int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Gaussian clusters, one per class, with centres evenly spaced on a circle of radius 0.6.

    Class $c$ of $K$ (``classes``) is centred at $0.6\,(\cos 2\pi c/K,\ \sin 2\pi c/K)$ (the
    centre of a single class is $(0.6, 0)$), with normal noise of standard deviation
    ``spread`` on each coordinate. Neighbouring centres are $1.2 \sin(\pi/K)$ apart: 1.04 for
    3 classes, about 7 standard deviations at the default spread of 0.15. The rows come in random
    order (drawn from ``rng``).

    Args:
        samples: Points per class.
        classes: Number of classes (clusters).
        spread: Standard deviation of each cluster along each coordinate.
        rng: Generator, int random seed or ``None``.

    Returns:
        ``X`` of shape ``(samples * classes, 2)`` (float64) and ``y`` of shape
        ``(samples * classes,)`` (int64 class indices, ``samples`` of each), rows shuffled.

    Raises:
        ValueError: If ``samples`` or ``classes`` is not a positive integer, the arrays would
            take more than [MAX_BYTES][mynn.datasets.MAX_BYTES] bytes, ``spread`` is negative
            or so large that the points overflow, or ``rng`` is a negative seed.
        TypeError: If ``spread`` is not a real number or ``rng`` not a Generator, int or None.

    Examples:
        >>> import numpy as np
        >>> from mynn.datasets import blobs
        >>> X, y = blobs(200, 3, spread=0.1, rng=0)
        >>> X.shape, np.unique(y, return_counts=True)[1].tolist()
        ((600, 2), [200, 200, 200])
        >>> np.round(X[y == 0].mean(axis=0), 1).tolist()  # near (0.6, 0)
        [0.6, 0.0]
    """
    samples = check_positive_int("samples", samples)
    classes = check_positive_int("classes", classes)
    spread = check_number("spread", spread, low=0.0)
    _check_points("blobs", samples, classes)
    generator = as_generator(rng)
    labels = np.repeat(np.arange(classes), samples)
    angle = 2 * np.pi * labels / classes
    centres = 0.6 * np.column_stack([np.cos(angle), np.sin(angle)])
    with np.errstate(over="ignore", invalid="ignore"):  # refused below, by name
        X = centres + spread * generator.standard_normal((samples * classes, 2))
    _check_finite(
        X, "spread is so large that the points overflow float64 (inf values)", f"spread={spread!r}"
    )
    return _shuffled(X, labels, generator)


def curve(
    samples: int, *, noise: float = 0.0, rng: np.random.Generator | int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    r"""A regression task with one input: $y = \sin(\pi x)$ plus normal noise, $x$ in $[-1, 1]$.

    The inputs $x$ are drawn uniformly from $[-1, 1]$ (in random order); each target is
    $\sin(\pi x)$ plus normal noise of standard deviation ``noise``. Unlike
    [sine][mynn.datasets.sine] (evenly spaced points of $[0, 1]$, no noise), the points are
    random, so a part of them split off for testing lies between the training points.

    Args:
        samples: Number of points.
        noise: Standard deviation of the normal noise added to the targets.
        rng: Generator, int random seed or ``None``.

    Returns:
        ``X`` and ``y``, both of shape ``(samples, 1)`` (float64).

    Raises:
        ValueError: If ``samples`` is not a positive integer, the arrays would take more than
            [MAX_BYTES][mynn.datasets.MAX_BYTES] bytes, ``noise`` is negative or so large
            that the targets overflow, or ``rng`` is a negative seed.
        TypeError: If ``noise`` is not a real number or ``rng`` not a Generator, int or None.

    Examples:
        >>> import numpy as np
        >>> from mynn.datasets import curve
        >>> X, y = curve(100, rng=0)
        >>> X.shape, y.shape
        ((100, 1), (100, 1))
        >>> bool(np.allclose(y, np.sin(np.pi * X)))  # no noise: on the curve
        True
    """
    samples = check_positive_int("samples", samples)
    noise = check_number("noise", noise, low=0.0)
    _check_size("curve", samples * 2 * 8, f"samples={samples}")
    generator = as_generator(rng)
    X = generator.uniform(-1.0, 1.0, (samples, 1))
    y = np.sin(np.pi * X)
    if noise:
        with np.errstate(over="ignore", invalid="ignore"):  # refused below, by name
            y = y + noise * generator.standard_normal(y.shape)
    return X, _check_finite(
        y, "noise is so large that the targets overflow float64 (inf values)", f"noise={noise!r}"
    )


def sine(samples: int = 1000, *, periods: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    r"""The curve $y = \sin(2\pi \cdot \text{periods}\cdot x)$ at ``samples`` points of [0, 1].

    Returns:
        ``X`` and ``y``, both of shape ``(samples, 1)``.

    Raises:
        ValueError: If ``samples`` is not a positive integer, the arrays would take more than
            [MAX_BYTES][mynn.datasets.MAX_BYTES] bytes, or ``periods`` is not positive or so
            large that $2\pi\cdot\text{periods}\cdot x$ overflows.

    Examples:
        >>> from mynn.datasets import sine
        >>> X, y = sine(5)
        >>> [round(v, 6) for v in y.ravel().tolist()]
        [0.0, 1.0, 0.0, -1.0, -0.0]
    """
    samples = check_positive_int("samples", samples)
    periods = check_number("periods", periods, low=0.0, low_open=True)
    _check_size("sine", samples * 2 * 8, f"samples={samples}")
    X = np.linspace(0.0, 1.0, samples).reshape(-1, 1)
    with np.errstate(over="ignore", invalid="ignore"):  # refused below, by name
        y = np.sin(2 * np.pi * periods * X)
    return X, _check_finite(
        y,
        "periods is so large that 2 pi periods x overflows float64 (NaN values)",
        f"periods={periods!r}",
    )


def linear(
    nfeatures: int,
    nsamples: int,
    weights: np.ndarray | None = None,
    bias: float | None = None,
    *,
    noise: float = 0.0,
    rng: np.random.Generator | int | None = None,
) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, float]]:
    r"""Samples of a linear function $y = X w + b$ (plus optional normal noise).

    Args:
        nfeatures: Number of input features.
        nsamples: Number of samples.
        weights: The true weights, shape ``(nfeatures,)``; drawn from N(0, 1) when ``None``.
        bias: The true bias; drawn from N(0, 1) when ``None``.
        noise: Standard deviation of noise added to ``y``.
        rng: Generator, int random seed or ``None`` (for ``X``, the noise, and weights/bias
            when drawn).

    Returns:
        ``(X, y, (weights, bias))`` with ``X`` of shape ``(nsamples, nfeatures)`` drawn
        uniformly from [-1, 1] and ``y`` of shape ``(nsamples, 1)``.

    Raises:
        ValueError: If ``nfeatures`` or ``nsamples`` is not a positive integer, the arrays
            would take more than [MAX_BYTES][mynn.datasets.MAX_BYTES] bytes, ``weights`` has
            the wrong shape or a NaN or inf, or the weights, bias and noise are so large that
            ``y`` overflows.
        TypeError: If ``bias`` or ``noise`` is not a real number.

    Examples:
        >>> import numpy as np
        >>> from mynn.datasets import linear
        >>> X, y, (w, b) = linear(2, 10, weights=[1.0, -2.0], bias=0.5, rng=0)
        >>> X.shape, y.shape
        ((10, 2), (10, 1))
        >>> bool(np.allclose(y[:, 0], X @ w + b))
        True
    """
    nfeatures = check_positive_int("nfeatures", nfeatures)
    nsamples = check_positive_int("nsamples", nsamples)
    noise = check_number("noise", noise, low=0.0)
    _check_size(
        "linear",
        (nsamples * (nfeatures + 1) + nfeatures) * 8,  # X, y and the weights, float64
        f"nfeatures={nfeatures}, nsamples={nsamples}",
    )
    generator = as_generator(rng)
    if weights is None:
        weights = generator.standard_normal(nfeatures)
    weights = as_float_array("weights", weights).reshape(-1)
    if weights.shape != (nfeatures,):
        raise ValueError(
            f"weights must have shape ({nfeatures},). Received: weights of shape {weights.shape}"
        )
    bias = float(generator.standard_normal()) if bias is None else check_number("bias", bias)
    X = generator.uniform(-1.0, 1.0, size=(nsamples, nfeatures))
    with np.errstate(over="ignore", invalid="ignore"):  # refused below, by name
        y = X @ weights + bias
        if noise:
            y = y + noise * generator.standard_normal(nsamples)
    _check_finite(
        y,
        "the weights, bias or noise are so large that y = X w + b + noise overflows float64",
        f"largest |weight| {np.abs(weights).max():g}, bias={bias!r}, noise={noise!r}",
    )
    return X, y.reshape(-1, 1), (weights, bias)


def train_test_split(
    X: np.ndarray,
    y: np.ndarray,
    *,
    test_size: float = 0.2,
    rng: np.random.Generator | int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Shuffle the samples and split them into a training and a test part.

    The test part gets ``round(len(X) * test_size)`` samples (Python's ``round``: a half goes
    to the even number, so 2 of 5 samples at ``test_size=0.5``), the training part the rest.

    Args:
        X: Inputs, first axis the samples (at least 2).
        y: Targets, same number of samples.
        test_size: Share of samples for the test part, in (0, 1): a fraction, not a count.
        rng: Generator, int random seed or ``None``.

    Returns:
        ``X_train, X_test, y_train, y_test``.

    Raises:
        ValueError: If ``X`` or ``y`` is a single value, they differ in length, ``X`` holds
            fewer than 2 samples, or ``test_size`` is outside (0, 1) or leaves one part empty.

    Examples:
        >>> import numpy as np
        >>> from mynn.datasets import train_test_split
        >>> X_train, X_test, y_train, y_test = train_test_split(
        ...     np.arange(20).reshape(10, 2), np.arange(10), test_size=0.3, rng=0)
        >>> len(X_train), len(X_test)
        (7, 3)
        >>> bool((X_test[:, 0] // 2 == y_test).all())
        True
    """
    X, y = as_array("X", X), as_array("y", y)
    for name, array in (("X", X), ("y", y)):
        if array.ndim == 0:
            raise ValueError(
                f"{name} must be an array whose first axis is the samples. "
                f"Received: {name}={array!r}, a single value"
            )
    check_same_length("X", X, "y", y)
    if len(X) < 2:
        raise ValueError(
            "X and y must hold at least 2 samples, one for each part. "
            f"Received: X with {len(X)} sample{'s' * (len(X) != 1)}"
        )
    number = check_number("test_size", test_size)
    if number >= 1 and number < len(X) and number == int(number):
        raise ValueError(
            "test_size must be a share of the samples in (0, 1), not a count: for "
            f"{int(number)} of the {len(X)} samples, pass test_size={int(number)}/{len(X)}. "
            f"Received: test_size={test_size!r}"
        )
    test_size = check_number(
        "test_size", test_size, low=0.0, high=1.0, low_open=True, high_open=True
    )
    n_test = int(round(len(X) * test_size))
    if n_test == 0 or n_test == len(X):
        raise ValueError(
            f"test_size must leave at least one of the {len(X)} samples on each side. "
            f"Received: test_size={test_size}"
        )
    order = as_generator(rng).permutation(len(X))
    test, train = order[:n_test], order[n_test:]
    return X[train], X[test], y[train], y[test]


def one_hot(
    labels: np.ndarray, n_classes: int | None = None, dtype: type | str | np.dtype = np.float64
) -> np.ndarray:
    """One-hot rows for integer class labels.

    Args:
        labels: Class indices of shape ``(n_samples,)``, from 0 to ``n_classes - 1``.
        n_classes: Number of classes (default: the largest label plus one).
        dtype: dtype of the result: any integer, boolean or float dtype.

    Returns:
        Array of shape ``(n_samples, n_classes)``.

    Raises:
        TypeError: If ``dtype`` is not numeric or ``labels`` are not numbers.
        ValueError: If ``labels`` is not 1-D, holds a label that is not a whole number in
            ``[0, n_classes)``, or the result would take more than
            [MAX_BYTES][mynn.datasets.MAX_BYTES] bytes (labels such as years, 1999 and 2005,
            are not class indices: number them first with
            ``np.unique(labels, return_inverse=True)``).

    Examples:
        >>> from mynn.datasets import one_hot
        >>> one_hot([0, 2, 1]).tolist()
        [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]]
    """
    from .loss import check_labels

    try:
        resolved = None if dtype is None else np.dtype(dtype)
    except (TypeError, ValueError, KeyError, SyntaxError):
        resolved = None
    if resolved is None or resolved.kind not in "biuf" or resolved.fields is not None:
        raise TypeError(
            f"dtype must be a numeric dtype (integer, boolean or float). Received: dtype={dtype!r}"
        )
    labels = as_array("labels", labels)
    if labels.ndim != 1:
        raise ValueError(
            f"labels must be 1-D class indices. Received: labels of shape {labels.shape}"
        )
    given = n_classes is not None
    if not given:
        n_classes = int(check_labels(labels, np.iinfo(np.int64).max).max()) + 1
    n_classes = check_positive_int("n_classes", n_classes)
    labels = check_labels(labels, n_classes)
    _check_size(
        "one_hot",
        len(labels) * n_classes * resolved.itemsize,
        f"{len(labels)} labels, n_classes={n_classes}"
        + ("" if given else " (the largest label plus one)")
        + f", dtype={resolved.name}",
        " Labels that are not class indices 0, 1, 2, ... (years, say) can be numbered with "
        "np.unique(labels, return_inverse=True).",
    )
    result = np.zeros((len(labels), n_classes), dtype=resolved)
    result[np.arange(len(labels)), labels] = 1
    return result


def standardize(
    X: np.ndarray, mean: np.ndarray | None = None, std: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Scale each feature to zero mean and unit standard deviation.

    Compute ``mean`` and ``std`` on the training set and pass them again for the test set, so
    both are scaled the same way.

    A constant feature is only centred, and its ``std`` is returned as 1. Constant means
    constant up to rounding: a standard deviation of at most $10\,\varepsilon\,|\text{mean}|$
    ($\varepsilon$ the machine epsilon of ``X``'s dtype, 2.2e-16 for float64) is treated as 0.
    Such a spread is a few units in the last digit of the values, and dividing by it would
    turn the next value that differs into a huge number. A ``std`` you pass goes through the
    same rule. (scikit-learn's ``StandardScaler`` treats a near-constant feature the same way,
    with a bound that grows with the number of samples, $n\,\varepsilon\,|\text{mean}|$, to
    cover its summation error.) The statistics are computed so that a constant feature gets a
    standard deviation of exactly 0 where numpy's ``X.std(axis=0)`` does not (a column of
    seven 0.1 values has ``np.std`` 1.4e-17): float64 sums, each feature divided by a power
    of two first (so huge values do not overflow), and the mean corrected by the mean of the
    deviations from it (the corrected two-pass algorithm, analysed by Chan, Golub and LeVeque
    in 1983).

    Args:
        X: Data of shape ``(n_samples, n_features)``.
        mean: Per-feature means of shape ``(n_features,)``; computed from ``X`` when ``None``.
        std: Per-feature standard deviations (0 or more) of shape ``(n_features,)``; computed
            from ``X`` when ``None``.

    Returns:
        ``(X_scaled, mean, std)``, all in the dtype of ``X`` (float64 for integer data); ``std``
        holds 1 where the feature is constant.

    Raises:
        TypeError: If an argument does not hold real numbers.
        ValueError: If ``X`` is not 2-D, empty or not finite, or ``mean`` or ``std`` has the
            wrong shape, a NaN or inf, or (``std``) a negative value; or if a scaled value is
            too large for the dtype (a test value very far from the training mean, in units of
            a tiny standard deviation).

    Examples:
        >>> import numpy as np
        >>> from mynn.datasets import standardize
        >>> X_train = np.array([[1.0, 5.0], [3.0, 5.0]])
        >>> scaled, mean, std = standardize(X_train)
        >>> scaled.tolist()
        [[-1.0, 0.0], [1.0, 0.0]]
        >>> standardize(np.array([[5.0, 6.0]]), mean, std)[0].tolist()
        [[3.0, 1.0]]
        >>> std.tolist()  # the second feature was constant: only centred
        [1.0, 1.0]

        A constant column of 0.1, whose ``np.std`` is not 0: it is only centred too, so a
        test value of 0.2 becomes 0.1, not 7e15:

        >>> column = np.full((7, 1), 0.1)
        >>> float(column.std(axis=0)[0])
        1.3877787807814457e-17
        >>> scaled, mean, std = standardize(column)
        >>> mean.tolist(), std.tolist(), scaled.ravel().tolist()
        ([0.1], [1.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
        >>> standardize(np.array([[0.2]]), mean, std)[0].tolist()
        [[0.1]]
    """
    X = as_float_array("X", X, ndim=2)
    eps = np.finfo(X.dtype).eps
    if mean is None or std is None:
        computed_mean, computed_std = _mean_and_std(X)
    if mean is None:
        mean = computed_mean.astype(X.dtype)
    else:
        mean = _feature_vector("mean", mean, X)
    if std is None:
        std = computed_std
    else:
        std = _feature_vector("std", std, X)
        if (std < 0).any():
            raise ValueError(
                f"std must hold standard deviations, 0 or more. Received: std with {std.min()}"
            )
    constant = std <= 10 * eps * np.abs(mean.astype(np.float64))
    std = np.where(constant, 1.0, std).astype(X.dtype)
    with np.errstate(over="ignore", invalid="ignore"):
        scaled = X - mean
        scaled /= std
        if first_non_finite(scaled) is not None:  # X - mean overflowed: once more, quartered
            scaled = X / 4 - mean / 4
            scaled /= std / 4
    bad = first_non_finite(scaled)
    if bad is not None:
        row, column = bad[1]
        value, centre, spread = X[row, column].item(), mean[column].item(), std[column].item()
        raise ValueError(
            f"X[{row}, {column}] is too far from its feature's mean, in standard deviations, "
            f"for {X.dtype.name}: ({value!r} - {centre!r}) / {spread!r} overflows. Check the "
            f"value, and the mean and std it is scaled with. Received: X[{row}, {column}]={value!r}"
        )
    return scaled, mean, std


def _mean_and_std(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean and standard deviation of ``X``, in float64, exact for a constant one.

    Each feature is divided by a power of two near its largest magnitude (exact in floating
    point), so neither the sums nor the squares overflow; the mean is then corrected by the
    mean of the deviations from it, which makes it exact for a constant feature in every case
    measured (float32 and float64, 3 to a million samples), so its deviations are 0.
    """
    work = X.astype(np.float64)  # a copy: float32 values are exact in float64
    peak = np.maximum(work.max(axis=0), -work.min(axis=0))  # largest |value|, no copy
    scale = np.ldexp(1.0, np.frexp(peak)[1] - 1)  # 2**(e - 1) with peak < 2**e; 0.5 for zeros
    work /= scale  # every value now within (-2, 2)
    mean = work.mean(axis=0)
    work -= mean
    correction = work.mean(axis=0)
    work -= correction
    mean += correction
    variance = np.einsum("ij,ij->j", work, work) / len(work)
    return mean * scale, np.sqrt(variance) * scale


def _feature_vector(name: str, values, X: np.ndarray) -> np.ndarray:
    """``mean`` or ``std`` of ``standardize``: one finite number per feature of ``X``."""
    vector = as_float_array(name, values, X.dtype)
    if vector.shape not in ((X.shape[1],), (1, X.shape[1])):
        raise ValueError(
            f"{name} must have one value per feature of X, shape ({X.shape[1]},). "
            f"Received: {name} of shape {vector.shape}"
        )
    return vector.reshape(-1)


def load_digits(
    *, as_images: bool = False, dtype: np.dtype | type = np.float64
) -> tuple[np.ndarray, np.ndarray]:
    """The UCI optical handwritten digits: 1,797 images of 8x8 pixels, bundled with mynn.

    Source: the "Optical Recognition of Handwritten Digits" data set of the UCI Machine
    Learning Repository (E. Alpaydin and C. Kaynak, 1998; licence CC BY 4.0,
    <https://doi.org/10.24432/C50P49>), in the copy scikit-learn distributes: the 1,797
    samples of the set's test part, written by 13 people. Each pixel counts the "on" pixels
    of a 4x4 block of a 32x32 bitmap, so the raw values are integers from 0 to 16. The file
    ``mynn/data/digits.npz`` (uint8, about 45 KB) was made by ``scripts/make_digits.py``; loading
    it needs numpy alone and no network.

    Args:
        as_images: Return ``X`` as images of shape ``(1797, 8, 8)`` instead of flat rows of
            shape ``(1797, 64)`` (row-major: pixel ``(r, c)`` is column ``8 * r + c``).
        dtype: Float dtype of ``X`` (float32 or float64).

    Returns:
        ``(X, y)``, with ``X`` of shape ``(1797, 64)`` (or ``(1797, 8, 8)``) and dtype ``dtype``,
        the pixel values divided by 16 so they lie in [0, 1]; ``y`` of shape ``(1797,)``,
        int64 digit labels 0 to 9 (between 174 and 183 samples of each).

    Raises:
        TypeError: If ``dtype`` is not float32 or float64, or ``as_images`` is not a bool.

    Examples:
        >>> import numpy as np
        >>> from mynn.datasets import load_digits
        >>> X, y = load_digits()
        >>> X.shape, X.dtype.name, y.shape, y.dtype.name
        ((1797, 64), 'float64', (1797,), 'int64')
        >>> float(X.min()), float(X.max()), np.bincount(y).tolist()
        (0.0, 1.0, [178, 182, 177, 183, 181, 182, 181, 179, 174, 180])
        >>> images, _ = load_digits(as_images=True, dtype=np.float32)
        >>> images.shape, images.dtype.name
        ((1797, 8, 8), 'float32')
    """
    from importlib.resources import files

    dtype = check_dtype(dtype)
    as_images = check_bool("as_images", as_images)
    path = files("mynn") / "data" / "digits.npz"
    with path.open("rb") as handle, np.load(handle, allow_pickle=False) as archive:
        images, labels = archive["images"], archive["labels"]
    X = images.astype(dtype) / dtype.type(16)
    if not as_images:
        X = X.reshape(len(X), -1)
    return X, labels.astype(np.int64)
