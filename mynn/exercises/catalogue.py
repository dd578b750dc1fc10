"""The catalogue: every exercise, by name, in the order of the chapters.

To add an exercise: write the function that builds it in ``concepts.py`` or ``optimization.py``
(its inputs, the right answer, the known mistakes), add it below, then give it, in
``tests/test_exercises.py``, an answer that hard-codes something and a right answer written
another way. A page that asks for it ends its solution with ``check("name", function)``.
"""

from __future__ import annotations

from . import concepts, optimization
from .engine import Exercise

__all__ = ["EXERCISES"]

EXERCISES: dict[str, Exercise] = {
    exercise.name: exercise
    for exercise in (
        concepts.neuron(),
        concepts.neuron_batch(),
        concepts.count_parameters(),
        concepts.layer_forward(),
        concepts.relu(),
        concepts.sigmoid_derivative(),
        concepts.softmax(),
        concepts.two_layer_forward(),
        concepts.predicted_classes(),
        concepts.mse(),
        concepts.categorical_crossentropy(),
        optimization.gradient_descent_step(),
        optimization.gradient_descent_steps(),
        optimization.chain_rule_square(),
        optimization.chain_rule(),
        optimization.weights_gradient(),
        optimization.bias_gradient(),
        optimization.inputs_gradient(),
        optimization.relu_backward(),
        optimization.decayed_learning_rate(),
        optimization.momentum_step(),
        optimization.adam_step(),
        concepts.accuracy(),
    )
}
"""Every exercise, by name: the keys ``check`` accepts."""
