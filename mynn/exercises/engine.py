"""How an answer is judged: trials on fresh inputs, the first wrong one explained.

[first_failure][mynn.exercises.engine.first_failure] draws the inputs of each trial with the
exercise's ``make_inputs``, computes the right result with its ``reference``, calls the answer
through a [Runner][mynn.exercises.running.Runner] (time limit, printed output kept short) and
stops at the first trial where the answer raises, runs out of time, changes its inputs or returns
something [differences][mynn.exercises.compare.differences] finds wrong.
[run][mynn.exercises.engine.run] turns that into the message: the trial and its inputs, what
differs and, when the answer gives the same result as one of the exercise's known mistakes, what
to fix. A known mistake's hint shows only if the mistake also agrees with the answer on the
trials before the failing one and on the ``CONFIRMING`` (3) trials after it (drawn next from the
same random numbers, the answer's printed output and warnings set aside): an answer that returns
0 where a mistake always does, for another reason, is not told to fix that mistake once one of
those trials tells the two apart.

The checker's own arithmetic (drawing the inputs, the right result, the known mistakes) runs
with numpy's floating-point errors ignored, whatever ``np.seterr`` says: a softmax of scores
near -1000 underflows to 0 by design. The answer runs under the caller's settings."""

from __future__ import annotations

import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .compare import KINDS, differences, same
from .running import Outcome, Printed, Runner

__all__ = ["CONFIRMING", "Exercise", "ExerciseError", "Failure", "first_failure", "run"]

CONFIRMING = 3
"""Trials after the failing one on which a known mistake must agree with the answer too,
before its hint is shown."""


class ExerciseError(AssertionError):
    """Raised by [check][mynn.exercises.check] when an answer is wrong; the message says why.

    Attributes:
        inputs: The keyword arguments of the failing trial, as they were before the call.
        expected: The right result for them.
        received: What the answer returned (None if it raised or ran out of time).
    """

    def __init__(self, message: str, inputs=None, expected=None, received=None) -> None:
        super().__init__(message)
        self.inputs, self.expected, self.received = inputs, expected, received


@dataclass(frozen=True)
class Exercise:
    """One exercise: what to write, how to draw its inputs, the right answer, typical mistakes.

    Attributes:
        name: Key in [EXERCISES][mynn.exercises.EXERCISES], passed to ``check``.
        task: What the function must compute, with its signature and conventions.
        make_inputs: ``make_inputs(rng, trial)`` draws the keyword arguments of trial number
            ``trial`` (from 0) with the Generator ``rng``. For ``momentum_step`` and
            ``adam_step``, trials 4, 8, ... take the shapes that the same Generator drew for
            the trial before: draw the trials in order with one Generator, as ``check`` does.
        reference: The right answer.
        returns: What the answer returns, one of ``"number"``, ``"count"`` (an integer),
            ``"array"`` (float64) and ``"indices"`` (an integer array); for a tuple, what each
            element is.
        parts: For an answer that returns a tuple, the name of each element.
        mistakes: ``(wrong function, hint)`` pairs: when an answer gives the same result as a
            wrong function (or raises the same error) on the trial it fails, and agrees with it
            on the other trials tried, the message shows its hint.

    A failure's message ends with the call that runs the same trials again: for an exercise of
    [EXERCISES][mynn.exercises.EXERCISES] by its ``name``, for one of your own by the Exercise
    object itself (the message writes ``check(<your Exercise "name">, ...)``), since ``check``
    finds no exercise of that name (see the example).

    Examples:
        An exercise of your own, checked like the others:

        >>> import numpy as np
        >>> from mynn.exercises import Exercise, check
        >>> def doubled(x):
        ...     return 2 * x
        >>> square = Exercise(
        ...     "square",
        ...     "square(x) -> array: x**2 element-wise",
        ...     make_inputs=lambda rng, trial: {"x": rng.normal(size=2 + trial)},
        ...     reference=lambda x: x**2,
        ...     mistakes=((doubled, "x**2 multiplies x by itself, not by 2"),),
        ... )
        >>> check(square, lambda x: x * x)
        'square: correct on 5 random inputs'
        >>> try:
        ...     check(square, doubled, rng=1)
        ... except AssertionError as error:
        ...     lines = str(error).splitlines()
        >>> print(lines[-2])
        Likely mistake: x**2 multiplies x by itself, not by 2.
        >>> print(lines[-1].split(";")[0])  # "square" is not in EXERCISES
        Same trials: check(<your Exercise "square">, doubled, rng=1)
    """

    name: str
    task: str
    make_inputs: Callable[[np.random.Generator, int], dict]
    reference: Callable[..., object]
    returns: str = "array"
    parts: tuple[str, ...] = ()
    mistakes: tuple[tuple[Callable[..., object], str], ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.returns not in KINDS:
            raise ValueError(
                f"returns must be one of {sorted(KINDS)}. Received: returns={self.returns!r}"
            )


def _copy(inputs: dict) -> dict:
    return {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in inputs.items()}


def _number(value: float) -> str:
    """4 significant digits, or up to 10 where 4 would make it look rounder than it is
    (``3.0000003``, not ``3``, for a start near the minimum 3)."""
    text = f"{value:.4g}"
    shown = text.split("e")[0].lstrip("-").replace(".", "").strip("0")
    if float(text) != value and len(shown) < 4:
        text = f"{value:.10g}"
    return text


def _describe(inputs: dict) -> str:
    parts = []
    for key, value in inputs.items():
        if isinstance(value, np.ndarray):
            parts.append(f"{key} of shape {value.shape}")
        elif isinstance(value, float):
            parts.append(f"{key}={_number(value)}")
        else:
            parts.append(f"{key}={value!r}")
    return ", ".join(parts)


def _raised(error: BaseException) -> tuple[type, str]:
    return type(error), str(error)


def _matching(exercise: Exercise, outcome: Outcome, inputs: dict, expected) -> list[tuple]:
    """The known mistakes that give the answer's result (or raise its error) on this trial.

    A mistake that gives the right result on these inputs says nothing about the answer.
    """
    found = []
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for wrong, hint in exercise.mistakes:
            try:
                result = wrong(**_copy(inputs))
            except Exception as error:  # matches an answer that raises the same error
                if outcome.status == "raised" and _raised(error) == _raised(outcome.error):
                    found.append((wrong, hint))
                continue
            if (
                outcome.status == "returned"
                and same(outcome.value, result)
                and not same(result, expected)
            ):
                found.append((wrong, hint))
    return found


def _agrees(wrong: Callable, inputs: dict, outcome: Outcome) -> bool:
    """Whether a mistake behaves as the answer did on another trial: the same result, or an
    error where the answer raised one too (not necessarily the same: two ways of writing one
    mistake can fail with different messages on a shape that does not fit)."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = wrong(**_copy(inputs))
        except Exception:
            return outcome.status == "raised"
    return outcome.status == "returned" and same(outcome.value, result)


def _hints(
    exercise: Exercise,
    function: Callable,
    failure: Failure,
    generator: np.random.Generator,
    time_limit: float,
) -> list[str]:
    """The hints of the known mistakes that explain the failing trial and agree with the
    answer on the trials before it and on ``CONFIRMING`` trials after it."""
    found = _matching(exercise, failure.outcome, failure.inputs, failure.expected)
    if not found:
        return []
    others = list(failure.earlier)
    with Runner(function, time_limit, Printed()) as runner:  # what it prints is set aside
        for trial in range(failure.trial + 1, failure.trial + 1 + CONFIRMING):
            with np.errstate(all="ignore"):
                inputs = exercise.make_inputs(generator, trial)
            outcome = runner.call(_copy(inputs))
            if outcome.status == "timed out":
                return []  # nothing to compare with
            others.append((inputs, outcome))
    hints = [
        hint
        for wrong, hint in found
        if all(_agrees(wrong, inputs, outcome) for inputs, outcome in others)
    ]
    return list(dict.fromkeys(hints))


def _where_it_raised(error: BaseException, function: Callable) -> str:
    """`` (line 3: return e / e.sum(axis=1))`` for the answer's deepest frame, if known."""
    filename = getattr(getattr(function, "__code__", None), "co_filename", None)
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == filename]
    if not frames:
        return ""
    frame = frames[-1]
    return f" (line {frame.lineno}: {frame.line})" if frame.line else f" (line {frame.lineno})"


def _changed(inputs: dict, originals: dict) -> str | None:
    for key, value in inputs.items():
        if isinstance(value, np.ndarray) and (
            value.shape != originals[key].shape or value.tobytes() != originals[key].tobytes()
        ):
            return key
    return None


def _timed_out(outcome: Outcome, time_limit: float) -> list[str]:
    limit = f"your function did not return within the time limit of {time_limit:g} s"
    if outcome.importing:
        lines = [
            f"{limit}: it was importing {outcome.importing[-1]} when the time was up (the "
            "first import of a large module can take that long: import it at the top of your "
            "file, before checking, or pass a larger time_limit)"
        ]
    else:
        lines = [
            f"{limit}: an endless loop? (a while loop whose condition never turns false, a "
            "counter never updated; if it is only slow, pass a larger time_limit)"
        ]
    if outcome.where:
        lines.append(f"when the time was up it was running {outcome.where}")
    if outcome.caught:
        lines.append(
            "it caught the stop and went on: a bare `except:` or `except BaseException:` catches "
            "everything, the stop included; catch `Exception` instead"
        )
    if not outcome.stopped and outcome.caught:
        lines.append(
            "it had not stopped when this verdict was given and may still be running in the "
            "background, using a processor; if it is, restart Python (in a notebook, the "
            "kernel) to end it"
        )
    elif not outcome.stopped:
        lines.append(
            "it had not stopped when this verdict was given: it is inside one long call that "
            "Python cannot interrupt (time.sleep, a long computation in C), and stops in the "
            "background when that call returns"
        )
    if outcome.removed:
        names = ", ".join(outcome.removed)
        lines.append(
            f"the stop left {names} half-imported: taken out of sys.modules, so the next import "
            "runs it again from the start"
        )
    return lines


def _floating_point(error: FloatingPointError) -> str:
    text = (
        "numpy raised it because np.seterr (or np.errstate) is set to raise on this "
        "floating-point error (numpy's default is a warning, and silence for an underflow)"
    )
    if "underflow" in str(error):
        text += (
            "; an underflow to 0 is expected at the edges the trials reach (exp(-1000) in a "
            "softmax of far scores): np.seterr(under='ignore') lets it through"
        )
    return text


def _changed_input(name: str) -> list[str]:
    return [
        f"your function changed its input {name!r} in place; leave the inputs alone and return "
        f"a new array: `{name} -= ...`, `{name} *= ...` and `{name}[...] = ...` change the array "
        f"itself, so write `{name} = {name} - ...` or work on {name}.copy()"
    ]


def _function_name(function: Callable) -> str:
    name = getattr(function, "__name__", "")
    return name if name.isidentifier() else "your_function"


def _same_trials(exercise: Exercise, function: Callable, seed: int) -> str:
    """The call that runs the same trials again: by name for an exercise of EXERCISES."""
    from .catalogue import EXERCISES  # the catalogue imports this module

    answer = _function_name(function)
    if EXERCISES.get(exercise.name) is exercise:
        call = f'check("{exercise.name}", {answer}, rng={seed})'
    else:  # check("name", ...) would find no exercise, or another one
        call = f'check(<your Exercise "{exercise.name}">, {answer}, rng={seed})'
    return f"Same trials: {call}; this trial's inputs: error.inputs"


@dataclass
class Failure:
    """The first trial an answer got wrong.

    Attributes:
        trial: Its number, from 0.
        inputs: Its keyword arguments, as they were before the call.
        expected: The right result.
        outcome: What the call gave.
        lines: What went wrong, in words.
        hintable: Whether a known mistake may explain it (not for a timeout or a changed input).
        earlier: The trials before it, which the answer got right: ``(inputs, outcome)``.
    """

    trial: int
    inputs: dict
    expected: object
    outcome: Outcome
    lines: list[str]
    hintable: bool
    earlier: list[tuple[dict, Outcome]] = field(default_factory=list)


def _judge(exercise, function, outcome, time_limit, trial, inputs, originals, expected):
    """The failure of one trial, or None if the answer is right."""
    hintable = False
    if outcome.status == "timed out":
        lines = _timed_out(outcome, time_limit)
    elif outcome.status == "raised":
        error = outcome.error
        lines = [
            f"your function raised {type(error).__name__}: {str(error).strip()}"
            f"{_where_it_raised(error, function)}"
        ]
        if isinstance(error, FloatingPointError):
            lines.append(_floating_point(error))
        hintable = True
    elif changed := _changed(inputs, originals):
        lines = _changed_input(changed)
    else:
        with np.errstate(all="ignore"):
            lines = differences(outcome.value, expected, exercise.returns, exercise.parts)
        hintable = True
    if not lines:
        return None
    return Failure(trial, originals, expected, outcome, lines, hintable)


def first_failure(
    exercise: Exercise,
    function: Callable,
    *,
    trials: int,
    generator: np.random.Generator,
    time_limit: float,
    printed: Printed | None = None,
) -> Failure | None:
    """Run ``function`` on ``trials`` trials of ``exercise``; the first it gets wrong, if any.

    What it prints goes to ``printed``. This decides whether an answer passes;
    [run][mynn.exercises.engine.run] then reports it.

    Examples:
        >>> import numpy as np
        >>> from mynn.exercises import EXERCISES
        >>> def relu(x):
        ...     return np.abs(x)
        >>> failure = first_failure(
        ...     EXERCISES["relu"], relu, trials=5, generator=np.random.default_rng(0),
        ...     time_limit=2.0,
        ... )
        >>> failure.trial, failure.lines[0]
        (0, '7 of 16 entries differ; the first at index [0, 0]: expected 0, received 0.1321')
    """
    earlier = []
    with Runner(function, time_limit, printed) as runner:
        for trial in range(trials):
            with np.errstate(all="ignore"):  # the checker's arithmetic, not the answer's
                inputs = exercise.make_inputs(generator, trial)
                originals = _copy(inputs)
                expected = exercise.reference(**_copy(inputs))
            outcome = runner.call(inputs)
            failure = _judge(
                exercise, function, outcome, time_limit, trial, inputs, originals, expected
            )
            if failure:
                failure.earlier = earlier
                return failure
            earlier.append((originals, outcome))
    return None


def run(
    exercise: Exercise,
    function: Callable,
    *,
    trials: int,
    generator: np.random.Generator,
    seed: int | None,
    time_limit: float,
) -> str:
    """Judge ``function`` on ``trials`` trials of ``exercise``; see [check][mynn.exercises.check].

    ``seed`` is the int the generator was made from (None if unknown): a failure's message
    shows it so that the same trials can be run again.
    """
    printed = Printed()
    failure = first_failure(
        exercise,
        function,
        trials=trials,
        generator=generator,
        time_limit=time_limit,
        printed=printed,
    )
    shown = printed.render()
    if shown:  # before the verdict, so that the verdict is what shows last
        print(shown, flush=True)
        shortened = ", shortened" if printed.lines > len(printed.head) + len(printed.tail) else ""
        lines = f"{printed.lines:,} line{'s' * (printed.lines != 1)}"
        note = f"your function printed {lines} (shown above{shortened})"
    if failure is None:
        verdict = f"{exercise.name}: correct on {trials} random input{'s' * (trials != 1)}"
        return f"{verdict}; {note}" if shown else verdict
    if (
        failure.trial == 0
        and failure.outcome.status == "raised"
        and type(failure.outcome.error) is NotImplementedError
    ):  # the starting point of an answer cell: nothing is written yet
        return (
            f"{exercise.name}: not answered yet (it raises NotImplementedError); "
            "write it and run again"
        )
    message = [
        f"{exercise.name}, trial {failure.trial + 1} of {trials} ({_describe(failure.inputs)}):",
        *failure.lines,
    ]
    hints = []
    if failure.hintable:
        hints = _hints(exercise, function, failure, generator, time_limit)
    if len(hints) == 1:
        message.append(f"Likely mistake: {hints[0]}.")
    elif hints:
        message.append("Likely mistake, one of: " + "; or ".join(hints) + ".")
    if failure.outcome.warnings:
        message.append("your function warned: " + "; ".join(failure.outcome.warnings))
    if shown:
        message.append(note[0].upper() + note[1:] + ".")
    if seed is not None:
        message.append(_same_trials(exercise, function, seed))
    raise ExerciseError(
        "\n".join(message),
        inputs=failure.inputs,
        expected=failure.expected,
        received=failure.outcome.value,
    )
