"""The exercise checkers accept right answers and name the typical wrong ones."""

import numpy as np
import pytest

from mynn.exercises import EXERCISES, ExerciseError, check


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_reference_answer_passes(name):
    exercise = EXERCISES[name]
    assert check(name, exercise.reference) == f"{name}: correct on 5 random inputs"


@pytest.mark.parametrize(
    ("name", "index"),
    [(name, i) for name, ex in sorted(EXERCISES.items()) for i in range(len(ex.mistakes))],
)
def test_known_mistake_is_rejected_with_its_hint(name, index):
    wrong, hint = EXERCISES[name].mistakes[index]
    with pytest.raises(ExerciseError) as caught:
        check(name, wrong)
    message = str(caught.value)
    assert hint in message, message
    assert "expected" in message and "received" in message and "trial 1" in message


def test_every_exercise_names_at_least_one_mistake():
    assert all(exercise.mistakes for exercise in EXERCISES.values())


def test_handwritten_answers():
    def sigmoid_derivative(x):
        s = 1 / (1 + np.exp(-x))
        return s * (1 - s)

    def adam_step(w, grad, m, v, t, learning_rate, beta_1, beta_2, epsilon):
        m = beta_1 * m + (1 - beta_1) * grad
        v = beta_2 * v + (1 - beta_2) * grad**2
        m_hat, v_hat = m / (1 - beta_1**t), v / (1 - beta_2**t)
        return w - learning_rate * m_hat / (np.sqrt(v_hat) + epsilon), m, v

    assert check("sigmoid_derivative", sigmoid_derivative).startswith("sigmoid_derivative: correct")
    assert check("adam_step", adam_step).startswith("adam_step: correct")


def test_a_naive_softmax_fails_on_large_scores():
    def naive(x):
        e = np.exp(x)
        return e / e.sum(axis=1, keepdims=True)

    with np.errstate(over="ignore", invalid="ignore"), pytest.raises(ExerciseError, match="softmax, trial 1"):
        check("softmax", naive)


def test_errors_mutation_and_wrong_shape_are_reported():
    def raises(dvalues):
        raise ValueError("boom")

    def mutates(dvalues):
        dvalues *= 2
        return dvalues.sum(axis=0) / 2

    with pytest.raises(ExerciseError, match="raised ValueError: boom"):
        check("bias_gradient", raises)
    with pytest.raises(ExerciseError, match="changed its input 'dvalues' in place"):
        check("bias_gradient", mutates)
    with pytest.raises(ExerciseError, match=r"Shapes: expected \[\(3,\)\], received \[\(1, 3\)\]"):
        check("bias_gradient", lambda dvalues: dvalues.sum(axis=0, keepdims=True))


def test_unknown_exercise_and_bad_trials():
    with pytest.raises(KeyError, match="no exercise 'nope'"):
        check("nope", lambda: None)
    with pytest.raises(ValueError, match="trials must be a positive integer"):
        check("relu", lambda x: x, trials=0)
