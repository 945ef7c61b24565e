"""Learning-rate schedules of the training stages (docs/models.md#training-recipes).

A stage's learning rate at its (0-based) step ``t``, with ``lr`` its
``learning_rate``, ``W`` its ``warmup_steps`` and ``N`` its ``steps``:

- warm-up, ``t < W``: ``lr * (t + 1) / W``, a linear ramp whose first step is
  not wasted at rate 0;
- then ``'step'`` (ISR's schedule): ``lr * decay_factor ** (t // decay_steps)``,
  constant when ``decay_steps`` is null (``t`` counts from the stage's start,
  so with ``W = 0`` this is ISR's formula);
- or ``'cosine'``: ``lr * (1 + cos(pi * (t - W) / (N - W))) / 2``, from ``lr``
  after the warm-up down towards 0 at the stage's last step.

Short trainings from scratch (the demo's minutes on a CPU) need the large
early rates that only a warm-up keeps stable (a ReLU network started at a
large rate can collapse to a constant output), and gain most from the low
rates at the end that the cosine reaches smoothly.
"""

import math

import keras
from keras import ops

__all__ = ["SCHEDULES", "LearningRate"]

#: Schedule names a stage's ``schedule`` may take.
SCHEDULES = ("step", "cosine")


class LearningRate(keras.optimizers.schedules.LearningRateSchedule):
    """The learning rate of one training stage, for ``keras.optimizers.Adam``.

    Parameters
    ----------
    stage : dict
        A resolved stage of the training config: ``steps``, ``learning_rate``,
        ``schedule`` ('step' or 'cosine'), ``warmup_steps``, ``decay_steps``
        (int or None) and ``decay_factor``.

    Notes
    -----
    Called by the optimiser with its iteration count (the stage's step, as
    each stage has its own optimiser). :meth:`value` gives the same rate as a
    Python float, for logs and the training curve.

    Examples
    --------
    >>> rate = LearningRate({"steps": 10, "learning_rate": 1.0, "schedule": "cosine", "warmup_steps": 2,
    ...                      "decay_steps": None, "decay_factor": 0.5})
    >>> [round(rate.value(t), 3) for t in range(10)]
    [0.5, 1.0, 1.0, 0.962, 0.854, 0.691, 0.5, 0.309, 0.146, 0.038]
    """

    def __init__(self, stage):
        self.stage = {
            key: stage[key]
            for key in ("steps", "learning_rate", "schedule", "warmup_steps", "decay_steps", "decay_factor")
        }

    def value(self, step):
        """The rate at the stage's 0-based step ``step``, as a float."""
        stage, step = self.stage, int(step)
        peak, warmup = float(stage["learning_rate"]), stage["warmup_steps"]
        if step < warmup:
            return peak * (step + 1) / warmup
        if stage["schedule"] == "cosine":
            return peak * (1 + math.cos(math.pi * (step - warmup) / (stage["steps"] - warmup))) / 2
        if stage["decay_steps"] is None:
            return peak
        return peak * stage["decay_factor"] ** (step // stage["decay_steps"])

    def __call__(self, step):
        stage = self.stage
        step = ops.cast(step, "float32")
        peak, warmup = float(stage["learning_rate"]), float(stage["warmup_steps"])
        if stage["schedule"] == "cosine":
            span = float(max(stage["steps"] - stage["warmup_steps"], 1))
            after = peak * (1 + ops.cos(math.pi * (step - warmup) / span)) / 2
        elif stage["decay_steps"] is None:
            after = ops.convert_to_tensor(peak, "float32")
        else:
            after = peak * ops.power(float(stage["decay_factor"]), ops.floor(step / float(stage["decay_steps"])))
        if stage["warmup_steps"] == 0:
            return after
        return ops.where(step < warmup, peak * (step + 1) / warmup, after)

    def get_config(self):
        return {"stage": dict(self.stage)}
