"""Learning-rate schedules of the training stages: hand-computed values, graph equal to the float formula."""

import keras
import numpy as np
import pytest

from mesr.sr.schedules import LearningRate


def stage(**settings):
    return {
        "steps": 10,
        "learning_rate": 1e-3,
        "schedule": "step",
        "warmup_steps": 0,
        "decay_steps": None,
        "decay_factor": 0.5,
        **settings,
    }


@pytest.mark.parametrize(
    "settings, expected",
    [
        # ISR: halved every 3 steps, counted from the stage's start
        ({"decay_steps": 3}, [1e-3] * 3 + [5e-4] * 3 + [2.5e-4] * 3 + [1.25e-4]),
        # constant
        ({}, [1e-3] * 10),
        # a linear warm-up over 4 steps, then ISR's steps (the warm-up counts in t // decay_steps)
        ({"warmup_steps": 4, "decay_steps": 5}, [2.5e-4, 5e-4, 7.5e-4, 1e-3, 1e-3] + [5e-4] * 5),
        # cosine over the 8 steps after a 2-step warm-up: 1e-3 * (1 + cos(pi * k / 8)) / 2, k = 0..7
        (
            {"schedule": "cosine", "warmup_steps": 2},
            [5e-4, 1e-3, 1e-3, 9.6194e-4, 8.5355e-4, 6.9134e-4, 5e-4, 3.0866e-4, 1.4645e-4, 3.806e-5],
        ),
        # cosine without warm-up: from the peak at step 0
        ({"schedule": "cosine", "steps": 4}, [1e-3, 8.5355e-4, 5e-4, 1.4645e-4]),
    ],
)
def test_rates_match_hand_computed_values(settings, expected):
    rate = LearningRate(stage(**settings))
    values = [rate.value(t) for t in range(len(expected))]
    assert values == pytest.approx(expected, rel=1e-4)
    # the graph the optimiser calls gives the same numbers
    graph = [float(rate(np.int64(t))) for t in range(len(expected))]
    np.testing.assert_allclose(graph, values, rtol=1e-6, atol=1e-6 * 1e-3)  # float32 near the cosine's end


def test_adam_applies_the_scheduled_rate():
    rate = LearningRate(stage(schedule="cosine", warmup_steps=2, steps=6, learning_rate=0.1))
    variable = keras.Variable(np.zeros(1, np.float32))
    optimizer = keras.optimizers.SGD(learning_rate=rate)
    moved = []
    for _ in range(6):
        before = float(variable.numpy()[0])
        optimizer.apply_gradients([(np.ones(1, np.float32), variable)])
        moved.append(before - float(variable.numpy()[0]))
    # plain SGD with gradient 1 moves the variable by exactly the rate of each step
    np.testing.assert_allclose(moved, [rate.value(t) for t in range(6)], rtol=1e-5)
