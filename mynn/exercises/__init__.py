"""Exercises that check themselves.

Each exercise asks for a small function (the sigmoid's derivative, the biases' gradient, one
Adam step, ...). [check][mynn.exercises.check] calls it on several random inputs and compares
what it returns with the right result. When the answer is wrong it says on which inputs, what
differs (the first differing entry, the largest errors, which element of a tuple) and, when the
answer makes a known mistake, what to fix.

What the checks draw and decide:

- Every trial draws everything an answer could type in instead of reading it: sizes,
  hyper-parameters (learning rates, momentum, Adam's betas and epsilon, anywhere in a sensible
  part of their valid range) and values. Two trials in a row never share a batch size, a width
  or a number of classes (but for momentum and Adam, below), and where sizes meet in a
  product (the batch of a neuron, a dense layer's forward pass and its weights' and inputs'
  gradients, the two-layer network's first layer) the numbers of samples, inputs and neurons
  differ from each other unless all are 1.
- Among the first five trials (the default number), and again four trials later, each edge
  where a mistake hides has a trial of its own. The third trial has every size at its
  smallest, 1 wherever 1 is allowed (where an ``np.squeeze`` shows), Adam's first step
  (``t = 1``) and a decay at iteration 0. The second trial has large values and the fourth
  tiny ones: ReLU's inputs up to 10 to 1000, then at most 1e-9 to 1e-7; the sigmoid's out to
  20 to 40; a decay late and strong enough to bring the learning rate below 1e-6; an Adam step
  late (``t`` from 1000 to 20,000) while ``beta_2**t`` still counts; the neuron's output below
  0, then above. For momentum and Adam, whose answer could keep state between calls, the fifth
  trial has the shapes of the fourth again, with new values.
- Every other trial (the second, the fourth, ...) has scores near +-1000, in rows far apart,
  for the softmax and the two-layer network. Gradient descent starts above its minimum on the
  first, third, ... trials and below it on the others, within 4e-7 of it on the third, and
  with a learning rate above 0.5, which steps past it, on the second.
- Every trial has exact zeros at ReLU's kink, and ties for the most probable class and, with
  two rows or more, near-ties: probabilities a relative 1e-11 to 1e-9 apart, closer than
  float32 (about 1e-7) or rounding to a few decimals can resolve.
- By default each call draws new inputs, so an answer cannot be fitted to the numbers an earlier
  message showed; a failure's message gives the random seed that runs the same trials again.
- Results are float64, as the inputs are: an answer computed in float32 is rejected with a
  message that says so (mynn keeps the dtype of the data). Numbers are right within a relative
  error of 1e-9 ([RTOL][mynn.exercises.compare.RTOL]), or an absolute one of 1e-12 for results
  near 0 ([ATOL][mynn.exercises.compare.ATOL]).
- Conventions, the same as mynn's: ReLU's derivative at exactly 0 is 0; on a tie the first
  (lowest) class index is the most probable, as ``np.argmax`` says.
- Each call of an answer has a time limit, which holds against an answer that catches the stop
  or takes long to import a module (the verdict says which), except where Python has no threads
  (in the browser, behind the site's Run buttons: see [running][mynn.exercises.running]); what
  an answer prints is shown, at most 15 lines, before the verdict.

The exercises themselves are in ``mynn/exercises/concepts.py`` and ``optimization.py``, one
function each, gathered in ``catalogue.py``; how an answer is judged is in
[engine][mynn.exercises.engine], [compare][mynn.exercises.compare] and
[running][mynn.exercises.running], documented below.

Examples:
    >>> import numpy as np
    >>> from mynn.exercises import check
    >>> def relu(x):
    ...     return np.maximum(x, 0)
    >>> check("relu", relu)
    'relu: correct on 5 random inputs'
    >>> def bias_gradient(dvalues):
    ...     return dvalues.sum(axis=1)          # wrong axis
    >>> try:
    ...     check("bias_gradient", bias_gradient, rng=0)
    ... except AssertionError as error:
    ...     print(error)
    bias_gradient, trial 1 of 5 (dvalues of shape (4, 3)):
    expected shape (3,), received (4,)
    Likely mistake: sum over the samples (axis=0), one number per neuron, not over the neurons.
    Same trials: check("bias_gradient", bias_gradient, rng=0); this trial's inputs: error.inputs
"""

from __future__ import annotations

import difflib
from collections.abc import Callable

import numpy as np

from .._validation import as_generator, check_number, check_positive_int
from .catalogue import EXERCISES
from .engine import Exercise, ExerciseError, run

__all__ = ["ExerciseError", "Exercise", "EXERCISES", "check"]

ExerciseError.__module__ = __name__  # a traceback names it mynn.exercises.ExerciseError


def _exercise(name) -> Exercise:
    if isinstance(name, Exercise):
        return name
    if name in EXERCISES:
        return EXERCISES[name]
    close = difflib.get_close_matches(str(name), EXERCISES, n=1)
    guess = f" Did you mean {close[0]!r}?" if close else ""
    raise KeyError(
        f"no exercise {name!r}; choose one of {sorted(EXERCISES)}.{guess} Received: name={name!r}"
    )


def check(
    name: str | Exercise,
    function: Callable,
    *,
    trials: int = 5,
    rng: np.random.Generator | int | None = None,
    time_limit: float = 2.0,
) -> str:
    """Check ``function`` against the exercise ``name`` on ``trials`` random inputs.

    Args:
        name: An exercise in [EXERCISES][mynn.exercises.EXERCISES], or an
            [Exercise][mynn.exercises.Exercise] of your own.
        function: Your answer, called with the keyword arguments the task names.
        trials: How many random inputs to try (sizes change from one trial to the next, so
            use at least 2).
        rng: Generator or int random seed for the inputs. None (the default) draws new
            inputs on every call and names, in a failure's message, the random seed that draws
            them again.
        time_limit: Seconds each call of ``function`` may take; one that goes on after being
            told to stop is out of time too, whatever it returns.

    Returns:
        A one-line confirmation; or, for an answer that raises ``NotImplementedError`` on the
        first trial (the starting point the exercises' answer cells give, or code of its own
        or called by it that raises that error), a line saying that it is not answered yet, so
        that an unwritten answer is not reported as a wrong one.

    Raises:
        KeyError: If there is no exercise ``name``.
        TypeError: If ``function`` is not callable.
        ExerciseError: If the answer is wrong, raises, runs out of time or changes its inputs;
            the message names the trial and its inputs, says what differs and, for a known
            mistake, what to fix. Its ``inputs``, ``expected`` and ``received`` attributes
            hold the failing trial's arrays.

    Examples:
        >>> import numpy as np
        >>> def softmax(x):
        ...     e = np.exp(x - x.max(axis=1, keepdims=True))
        ...     return e / e.sum(axis=1, keepdims=True)
        >>> check("softmax", softmax, trials=20)
        'softmax: correct on 20 random inputs'
        >>> def relu(x):
        ...     raise NotImplementedError  # your answer here
        >>> check("relu", relu)
        'relu: not answered yet (it raises NotImplementedError); write it and run again'
    """
    exercise = _exercise(name)
    if not callable(function):
        raise TypeError(
            "function must be your answer, a callable such as relu (not relu(x)). "
            f"Received: function={function!r}"
        )
    trials = check_positive_int("trials", trials)
    time_limit = check_number("time_limit", time_limit, low=0.0, low_open=True)
    if rng is None:
        seed = int(np.random.SeedSequence().generate_state(1)[0])  # fresh entropy, shown on failure
    elif isinstance(rng, np.random.Generator):
        seed = None
    else:
        seed = rng
    generator = as_generator(rng if seed is None else seed)
    return run(
        exercise, function, trials=trials, generator=generator, seed=seed, time_limit=time_limit
    )
