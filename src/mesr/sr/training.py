"""Training the super-resolution networks inside the workflow (docs/models.md#training-recipes).

:func:`train_model` trains one (model, scale) of the config's registry and
writes the weights file the inference stage reads. The recipe is ISR's:

1. PSNR stage: MAE loss, Adam(beta_1 0.9, beta_2 0.999), the learning rate
   of :class:`~mesr.sr.schedules.LearningRate`: ISR's ``'step'`` schedule
   ``learning_rate * decay_factor ** (stage_step // decay_steps)`` (4e-4
   halved every 100 epochs of 1000 steps), or a linear warm-up and a
   ``'cosine'`` decay (the demo's short trainings).
2. GAN stage (optional), starting from the PSNR stage's generator, with fresh
   Adam optimisers for generator and discriminator: generator loss
   ``w_generator * MAE(SR, HR) + w_discriminator * adversarial + w_features *
   perceptual`` (ISR's weights 1, 0.003, 1/12), the adversarial term of
   SRGAN or, with ``relativistic: true``, ESRGAN's relativistic average GAN;
   the patch discriminator and VGG19 features of :mod:`mesr.sr.losses`.

Settings. Every option of ``training:``, its default and its range live in
the workflow's config schema (``config/schema.yaml``: ``$defs/training``,
``psnr_stage``, ``gan_stage``); Snakemake fills in the defaults of the
workflow's config, :func:`resolve_training_config` those of any other caller,
from the same file. A new option is an entry there and its use in the step of
the trainer that needs it.

Every step the generator runs with ``training=True``, which turns on the
nESRGAN+ noise injection (the other networks have no training-only layers);
validation runs with ``training=False``.

Reproducibility and resumption. TensorFlow is seeded with
``keras.utils.set_random_seed(seed)`` and, with ``deterministic: true``
(default), ``tf.config.experimental.enable_op_determinism()`` (process-wide).
Batch k is a pure function of (seed, k) (:class:`~mesr.sr.patches.PatchSampler`).
Every ``checkpoint_every`` steps and at the end, ``{checkpoint_dir}/checkpoint.npz``
is replaced atomically; it holds every variable of the generator (including
the noise layers' random-generator states), the discriminator (including
BatchNorm statistics) and the optimisers, the step count, the curve's running
loss sums and a fingerprint of the settings. A restarted training resumes from
it and ends with the same weights as an uninterrupted one; a checkpoint of
other settings is ignored (with a warning) and training starts afresh.

Outputs. ``output``: the generator's weights, Keras-2 HDF5
(:func:`mesr.sr.weights.save_weights`). ``output`` with suffix ``.yaml``: the
settings, seed, steps done, final validation PSNR, whether the perceptual
loss used random VGG19 weights (STYLE §17). ``curve``: the training curve, a
tab-separated table (see ``CURVE_COLUMNS``), written row by row to
``{checkpoint_dir}/curve.tsv`` (cut back to the checkpoint on resumption) and
copied to ``curve`` atomically at the end, so that a killed training leaves no
curve that looks complete and a resumed one keeps the rows before its
checkpoint (the workflow deletes a killed job's outputs): one row at step 0
and one every ``validation.every`` steps and at the end of each stage; losses
are means over the steps since the previous row; ``NA`` where a term does not
apply (adversarial, perceptual and discriminator losses in the PSNR stage).
Validation PSNR: RGB, data range 255, mean over a fixed set of held-out patch
pairs of the SR output rounded to uint8 as at inference, beside bicubic
upscaling (OpenCV) of the same LR patches.
"""

import copy
import dataclasses
import functools
import hashlib
import json
import logging
import math
import numbers
import os
import time
from pathlib import Path

import jsonschema
import numpy as np
import yaml

from mesr._checks import check_integer
from mesr.io import atomic_path, write_text
from mesr.sr.patches import PatchSampler, default_blur_sigma, read_training_images
from mesr.sr.schedules import LearningRate

__all__ = ["CURVE_COLUMNS", "SCHEMA", "heldout_psnr", "resolve_training_config", "train_model"]

logger = logging.getLogger(__name__)

#: The workflow's config schema. Its ``$defs/training`` holds every training setting with its
#: default and range; :func:`resolve_training_config` reads them from there (the library runs from
#: the repository: ``src/mesr/sr/`` -> ``config/``).
SCHEMA = Path(__file__).resolve().parents[3] / "config" / "schema.yaml"

#: Keys of ``training:`` that only the workflow reads (:func:`train_model` takes the seed as an argument).
_WORKFLOW_KEYS = ("images", "seed")

#: Columns of the training-curve TSV, in order.
CURVE_COLUMNS = (
    "step",
    "stage",
    "loss",
    "content",
    "adversarial",
    "perceptual",
    "discriminator",
    "learning_rate",
    "val_psnr",
    "val_psnr_bicubic",
)

_TERMS = ("loss", "content", "adversarial", "perceptual", "discriminator")

_VGG_HELP = (
    "The GAN stage's perceptual loss needs the Keras ImageNet VGG19 weights without the classifier, "
    "from a local file (nothing is downloaded at run time): get '{file}' (Keras downloads it from {url}; "
    "a machine where keras.applications.VGG19(weights='imagenet', include_top=False) has run keeps it "
    "in ~/.keras/models/), and put its path in the model's training.perceptual.weights; or set "
    "training.perceptual.weights: random (random VGG19 features, for demonstrations only; the report "
    "says so)."
)


def resolve_training_config(training, *, scale):
    """Fill in the defaults of a ``training:`` mapping and validate it.

    The defaults and ranges are those of ``$defs/training`` in the workflow's
    config schema (:data:`SCHEMA`, less ``images`` and ``seed``), filled in as
    Snakemake fills them: a mapping given for a key (``psnr``, ``gan``, ...)
    is completed key by key, ``gan`` only when given (its defaults differ
    from those of ``psnr``).

    Parameters
    ----------
    training : dict or None
        The model's ``training:`` settings; missing keys take their defaults.
    scale : int
        Upscaling factor (resolves ``blur_sigma: null``).

    Returns
    -------
    dict
        A new, complete mapping, keys in the schema's order (``gan`` complete
        or None, ``blur_sigma`` a number, ``perceptual.weights`` a str or None).

    Raises
    ------
    ValueError
        If a key is unknown (the message lists the valid ones) or a value out
        of range (the message names the key, e.g. ``training.psnr.steps``).

    Examples
    --------
    >>> config = resolve_training_config({"psnr": {"steps": 10}}, scale=4)
    >>> config["psnr"]["steps"], config["blur_sigma"], config["gan"]
    (10, 1.6, None)
    """
    schema = _settings_schema()
    config = _fill(schema, {} if training is None else training, schema["$defs"])
    _validate(config, schema)
    perceptual = config["perceptual"]
    perceptual["layers"] = list(perceptual["layers"])
    if perceptual["weights"] is not None:
        perceptual["weights"] = str(perceptual["weights"])
    if config["blur_sigma"] is None:
        config["blur_sigma"] = default_blur_sigma(scale)
    if config["psnr"]["steps"] + (config["gan"]["steps"] if config["gan"] else 0) < 1:
        raise ValueError("training must have at least one step (training.psnr.steps + training.gan.steps)")
    return config


@functools.cache
def _settings_schema():
    """``$defs/training`` of :data:`SCHEMA` less the workflow's keys, with the ``$defs`` it refers to."""
    with open(SCHEMA, encoding="utf-8") as handle:
        defs = yaml.safe_load(handle)["$defs"]
    settings = copy.deepcopy(defs["training"])
    settings.update(type="object", required=[], **{"$defs": defs})
    for key in _WORKFLOW_KEYS:
        del settings["properties"][key]
    return settings


def _resolve(schema, defs):
    """``schema`` with its ``$ref`` (``#/$defs/<name>``) replaced by what it refers to."""
    if "$ref" not in schema:
        return schema
    target = defs[schema["$ref"].removeprefix("#/$defs/")]
    return {**target, **{key: value for key, value in schema.items() if key != "$ref"}}


def _fill(schema, value, defs):
    """A copy of ``value`` with the defaults of ``schema`` filled in, as Snakemake's ``validate`` does.

    A missing key with a ``default`` takes it; mappings are filled recursively, also through a
    ``$ref`` and into the mapping branch of a ``oneOf``. Keys come in the schema's order, unknown
    ones after them (the validation names them).
    """
    schema = _resolve(schema, defs)
    if not isinstance(value, dict):
        return copy.deepcopy(value)
    branches = [schema, *(_resolve(branch, defs) for branch in schema.get("oneOf", ()))]
    properties = next((branch["properties"] for branch in branches if "properties" in branch), {})
    filled = {}
    for key, subschema in properties.items():
        if key in value:
            filled[key] = _fill(subschema, value[key], defs)
        elif "default" in subschema:
            filled[key] = _fill(subschema, subschema["default"], defs)
    filled.update({key: copy.deepcopy(item) for key, item in value.items() if key not in properties})
    return filled


def _is_integer(checker, value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_number(checker, value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


#: JSON Schema on Python values: numpy integers are integers and 16.0 is not, numbers are finite,
#: a tuple is an array, a path-like object a string (``perceptual.weights``).
_Validator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator,
    type_checker=jsonschema.Draft202012Validator.TYPE_CHECKER.redefine_many(
        {
            "integer": _is_integer,
            "number": _is_number,
            "array": lambda checker, value: isinstance(value, (list, tuple)),
            "string": lambda checker, value: isinstance(value, (str, os.PathLike)),
        }
    ),
)


def _validate(config, schema):
    """Raise a ValueError naming the key (``training.psnr.steps``) if ``config`` breaks ``schema``."""
    error = jsonschema.exceptions.best_match(_Validator(schema).iter_errors(config))
    if error is None:
        return
    name = "training" + "".join(f"[{key}]" if isinstance(key, int) else f".{key}" for key in error.absolute_path)
    if error.validator == "additionalProperties":
        valid = list(error.schema["properties"])
        unknown = next(key for key in error.instance if key not in valid)
        raise ValueError(f"{name} has unknown key {unknown!r} (valid: {', '.join(valid)})")
    raise ValueError(f"{name} must be {_expected(error.schema, schema['$defs'])}, got {error.instance!r}")


def _expected(schema, defs):
    """What ``schema`` accepts, in words: 'a positive integer', "one of 'step', 'cosine'", ..."""
    schema = _resolve(schema, defs)
    if "oneOf" in schema:
        return " or ".join(_expected(branch, defs) for branch in schema["oneOf"])
    if "enum" in schema:
        return "one of " + ", ".join(repr(option) for option in schema["enum"])
    types = [schema["type"]] if isinstance(schema["type"], str) else schema["type"]
    return " or ".join(_type_in_words(kind, schema) for kind in types)


def _type_in_words(kind, schema):
    if kind == "integer":
        low, high = schema.get("minimum"), schema.get("maximum")
        if high is not None:
            return f"an integer in {low}..{high}"
        return {None: "an integer", 0: "a non-negative integer", 1: "a positive integer"}.get(
            low, f"an integer >= {low}"
        )
    if kind == "number":
        operators = {"exclusiveMinimum": ">", "minimum": ">=", "maximum": "<=", "exclusiveMaximum": "<"}
        bounds = " and ".join(f"{operator} {schema[key]}" for key, operator in operators.items() if key in schema)
        return f"a finite number {bounds}".rstrip()
    if kind == "array":
        return "a non-empty list" if schema.get("minItems") else "a list"
    return {"boolean": "true or false", "string": "a string", "object": "a mapping", "null": "null"}[kind]


def train_model(
    *, arch, params, scale, training, images, output, checkpoint_dir, curve, seed=0, threads=None, callback=None
):
    """Train one super-resolution network and write its weights, settings and training curve.

    Parameters
    ----------
    arch : {'rdn', 'rrdn', 'nesrgan_plus'}
        Architecture (as for :func:`mesr.sr.build`).
    params : dict
        The architecture's parameters.
    scale : int
        Upscaling factor.
    training : dict or None
        The model's ``training:`` settings (:func:`resolve_training_config`).
    images : str or path-like
        Directory of HR training images (png, jpg, bmp, tif).
    output : str or path-like
        Weights file to write (Keras-2 HDF5; ISR names it
        :func:`mesr.sr.weights_filename`); the settings go to the same path with
        suffix ``.yaml``. Its directory is created if missing.
    checkpoint_dir : str or path-like
        Folder of the checkpoint and of the curve so far (created if
        missing); a checkpoint of the same settings found there is resumed.
    curve : str or path-like
        Training-curve TSV (``CURVE_COLUMNS``), written atomically at the end.
    seed : int, optional
        Seed of patches, noise, weight initialisation and TensorFlow (STYLE §15).
    threads : int or None, optional
        CPU threads TensorFlow may use (the job's ``threads``); ``None``: all.
    callback : callable or None, optional
        Called as ``callback(step, losses)`` after every step (``losses``: dict
        of the step's loss terms) and after any checkpoint of that step; an
        exception it raises stops the training and propagates (checkpoints
        written so far stay, so a later call resumes).

    Returns
    -------
    dict
        The settings written to the ``.yaml`` file.

    Raises
    ------
    ValueError
        If the arch, params, scale, settings or seed are invalid; if the
        images directory holds no usable image; if a GAN stage with a
        perceptual loss is configured without VGG19 weights (the message says
        how to supply them).

    References
    ----------
    ISR: https://github.com/idealo/image-super-resolution ; Ledig, C. et al.
    (2017) SRGAN, CVPR, doi:10.1109/CVPR.2017.19 ; Wang, X. et al. (2018)
    ESRGAN, ECCV Workshops, doi:10.1007/978-3-030-11021-5_5

    Examples
    --------
    >>> train_model(arch="rdn", params={"C": 3, "D": 10, "G": 64, "G0": 64}, scale=2,
    ...             training={"psnr": {"steps": 1000}}, images="DIV2K_train_HR",
    ...             output="weights/rdn-C3-D10-G64-G064-x2.hdf5", checkpoint_dir="checkpoints",
    ...             curve="curve.tsv", seed=0)  # doctest: +SKIP
    """
    from mesr.sr import _check_build_args

    params, scale = _check_build_args(arch, params, scale)
    config = resolve_training_config(training, scale=scale)
    _use_threads(threads)
    seed = check_integer("seed", seed, allow_zero=True)
    if callback is not None and not callable(callback):
        raise ValueError(f"callback must be callable or None, got {callback!r}")
    output = Path(output)
    run = _Run(
        arch=arch,
        params=params,
        scale=scale,
        config=config,
        seed=seed,
        images=images,
        output=output,
        checkpoint_dir=Path(checkpoint_dir),
        curve=Path(curve),
        vgg_weights=_vgg_weights(config, arch, output),
    )
    inputs = _Inputs.read(run)
    trainer = _Trainer(run)
    progress = _start(run, inputs, trainer)
    _train(run, inputs, trainer, progress, callback)
    return _finish(run, inputs, trainer, progress)


@dataclasses.dataclass(frozen=True)
class _Run:
    """What one training run was asked for, checked: network, settings, seed, files."""

    arch: str
    params: dict
    scale: int
    config: dict  # resolve_training_config's
    seed: int
    images: object  # the images argument, recorded in the .yaml file
    output: Path
    checkpoint_dir: Path
    curve: Path
    vgg_weights: object  # path, 'random' or None (_vgg_weights)

    @property
    def psnr_steps(self):
        return self.config["psnr"]["steps"]

    @property
    def total_steps(self):
        return self.psnr_steps + (self.config["gan"]["steps"] if self.config["gan"] else 0)

    @property
    def checkpoint(self):
        return self.checkpoint_dir / "checkpoint.npz"

    @property
    def rows(self):
        """The curve so far; ``curve`` is written only at the end."""
        return self.checkpoint_dir / "curve.tsv"

    def stage(self, step):
        """Stage of (0-based) global step ``step``."""
        return "psnr" if step < self.psnr_steps else "gan"


@dataclasses.dataclass(frozen=True)
class _Inputs:
    """The run's images, patch sampler, fixed validation pairs with bicubic's PSNR, and its fingerprint."""

    names: list
    hr_images: list
    sampler: PatchSampler
    val_lr: np.ndarray
    val_hr: np.ndarray
    val_bicubic: float
    fingerprint: str  # of the settings and images: a checkpoint of another is not resumed

    @classmethod
    def read(cls, run):
        from mesr.sr.bicubic import upscale_bicubic

        names, hr_images, sampler = _sampler(run.config, run.images, run.scale, run.seed)
        val_lr, val_hr = sampler.validation_pairs(run.config["validation"]["patches"])
        val_bicubic = _mean_psnr(upscale_bicubic(val_lr, run.scale), val_hr)
        return cls(names, hr_images, sampler, val_lr, val_hr, val_bicubic, _fingerprint(run, names, hr_images))


@dataclasses.dataclass
class _Progress:
    """Where a run stands: steps done, loss sums over the steps since the last curve row, last validation PSNR."""

    step: int = 0
    sums: dict = dataclasses.field(default_factory=dict)
    count: int = 0
    val_psnr: float = None  # None until a validation of this session

    def add(self, losses):
        """Count one step of loss terms ``losses``."""
        self.step += 1
        self.sums = {term: self.sums.get(term, 0.0) + losses.get(term, 0.0) for term in losses}
        self.count += 1

    def take_means(self):
        """Mean loss terms since the last row; the sums start again."""
        means = {term: value / self.count for term, value in self.sums.items()}
        self.sums, self.count = {}, 0
        return means


def _use_threads(threads):
    if threads is not None:
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(int(threads))
        tf.config.threading.set_inter_op_parallelism_threads(int(threads))


def _start(run, inputs, trainer):
    """Resume from a checkpoint of the same settings (the curve cut back to it), or start the curve at step 0."""
    progress = trainer.restore(run.checkpoint, inputs.fingerprint)
    if progress.step == 0:
        _start_curve(run.rows)
        rate, val_psnr = trainer.learning_rate(0), trainer.validation_psnr(inputs)
        _curve_row(run.rows, 0, run.stage(0), None, rate, val_psnr, inputs.val_bicubic)
    else:
        _truncate_curve(run.rows, progress.step)
    config = run.config
    logger.info(
        "training %s x%d for %d steps (PSNR %d, GAN %d) on %d images, batch %d x %d px, seed %d",
        run.arch,
        run.scale,
        run.total_steps,
        run.psnr_steps,
        run.total_steps - run.psnr_steps,
        len(inputs.names),
        config["batch_size"],
        config["patch_size"],
        run.seed,
    )
    return progress


def _train(run, inputs, trainer, progress, callback):
    """The stage loop: one step, then a curve row, a checkpoint and the callback when due."""
    every, started, start_step = run.config["validation"]["every"], time.perf_counter(), progress.step
    while progress.step < run.total_steps:
        stage = run.stage(progress.step)
        lr, hr = inputs.sampler.batch(progress.step, run.config["batch_size"])
        losses = trainer.train_step(stage, lr, hr)
        progress.add(losses)
        step = progress.step
        if step % every == 0 or step == run.psnr_steps or step == run.total_steps:
            means, rate = _validation_row(run, inputs, trainer, progress, stage)
            speed = (step - start_step) / (time.perf_counter() - started)
            logger.info(
                "step %d/%d (%s): loss %.5f, lr %.3g, validation PSNR %.3f dB (bicubic %.3f dB), %.2f steps/s",
                *(step, run.total_steps, stage, means["loss"], rate, progress.val_psnr, inputs.val_bicubic, speed),
            )
        if step % run.config["checkpoint_every"] == 0 or step == run.total_steps:
            trainer.save(run.checkpoint, inputs.fingerprint, progress)
        if callback is not None:
            callback(step, losses)


def _validation_row(run, inputs, trainer, progress, stage):
    """Validate, append the curve row of the steps since the last one; return (mean losses, learning rate)."""
    means = progress.take_means()
    progress.val_psnr = trainer.validation_psnr(inputs)
    rate = trainer.learning_rate(progress.step - 1)
    _curve_row(run.rows, progress.step, stage, means, rate, progress.val_psnr, inputs.val_bicubic)
    return means, rate


def _finish(run, inputs, trainer, progress):
    """Copy the curve into place and write the weights and their settings."""
    if progress.val_psnr is None:  # resumed from the final checkpoint
        progress.val_psnr = trainer.validation_psnr(inputs)
    write_text(run.curve, run.rows.read_text(encoding="utf-8"))
    return _write_outputs(run, inputs, trainer, progress)


def heldout_psnr(*, arch, params, scale, weights, training, images, output, seed=0, pairs=64):
    """PSNR of a trained network and of bicubic upscaling on patches of held-out images.

    The LR inputs are made by the model's own training operator (the
    degradation of docs/degradation.md or bicubic, JPEG when configured), so the comparison asks
    whether training beat the baseline on images it never saw.

    Parameters
    ----------
    arch, params, scale
        The network, as for :func:`mesr.sr.build`.
    weights : path-like
        Its trained weights.
    training : dict
        The model's ``training:`` settings (patch size and LR operator are used).
    images : path-like
        Folder of held-out HR images.
    output : path-like
        JSON file written with ``psnr`` (the network), ``psnr_bicubic``,
        ``pairs`` and ``images``.
    seed : int, optional
        Seed of the patch positions and noise.
    pairs : int, optional
        Number of (LR, HR) patch pairs.

    Returns
    -------
    dict
        What is written to ``output``.
    """
    from mesr.sr import build, load_weights
    from mesr.sr.bicubic import upscale_bicubic
    from mesr.sr.inference import upscale

    config = resolve_training_config(training, scale=scale)
    names, _, sampler = _sampler(config, images, scale, seed)
    lr, hr = sampler.validation_pairs(pairs)
    model = build(arch, params, scale)
    load_weights(model, weights)
    result = {
        "psnr": _mean_psnr(upscale(model, lr, scale=scale), hr),
        "psnr_bicubic": _mean_psnr(upscale_bicubic(lr, scale), hr),
        "pairs": pairs,
        "images": list(names),
    }
    logger.info(
        "held-out PSNR of %s x%d: %.3f dB (bicubic %.3f dB)", arch, scale, result["psnr"], result["psnr_bicubic"]
    )
    write_text(output, json.dumps(result, indent=2) + "\n")
    return result


def _sampler(config, images, scale, seed):
    """The training images and the patch sampler of a resolved training config."""
    patch = config["patch_size"]
    names, hr_images = read_training_images(images, min_side=patch * scale)
    sampler = PatchSampler(
        hr_images,
        scale=scale,
        patch_size=patch,
        lr_operator=config["lr_operator"],
        blur_sigma=config["blur_sigma"],
        noise_sigma=config["noise_sigma"],
        phase=config["phase"],
        jpeg_quality=config["jpeg_quality"],
        augment=config["augment"],
        seed=seed,
    )
    return names, hr_images, sampler


class _Trainer:
    """Networks, optimisers and compiled training steps of one training run."""

    def __init__(self, run):
        import keras
        import tensorflow as tf

        from mesr.sr import build

        config, seed = run.config, run.seed
        self.tf, self.config, self.scale = tf, config, run.scale
        if config["deterministic"]:
            tf.config.experimental.enable_op_determinism()
        gpus = tf.config.list_physical_devices("GPU")
        self.device = f"GPU ({', '.join(g.name for g in gpus)})" if gpus else "CPU"
        logger.info("TensorFlow %s trains on the %s", tf.__version__, self.device)
        keras.utils.set_random_seed(seed)
        self.generator = build(run.arch, run.params, run.scale)
        self.optimizers = {"psnr": _adam(config["psnr"])}
        self.optimizers["psnr"].build(self.generator.trainable_variables)
        self.steps = {"psnr": tf.function(self._psnr_step)}
        self.discriminator = self.features = self.vgg_sha256 = None
        gan = config["gan"]
        if gan is not None:
            from mesr.sr.losses import build_discriminator, build_feature_extractor

            keras.utils.set_random_seed(seed)
            hr_size = config["patch_size"] * run.scale
            self.discriminator = build_discriminator(hr_size, filters=gan["discriminator_filters"])
            if run.vgg_weights is not None:
                self.features, self.vgg_sha256 = build_feature_extractor(
                    run.vgg_weights, layers=config["perceptual"]["layers"], seed=seed
                )
            self.optimizers["gan_generator"] = _adam(gan)
            self.optimizers["gan_generator"].build(self.generator.trainable_variables)
            self.optimizers["gan_discriminator"] = _adam(gan)
            self.optimizers["gan_discriminator"].build(self.discriminator.trainable_variables)
            self.steps["gan"] = tf.function(self._gan_step)

    def _variables(self):
        variables = list(self.generator.variables)
        if self.discriminator is not None:
            variables += list(self.discriminator.variables)
        for name in sorted(self.optimizers):
            variables += list(self.optimizers[name].variables)
        return variables

    def learning_rate(self, step):
        """Learning rate of the generator at (0-based) global step ``step``."""
        psnr_steps = self.config["psnr"]["steps"]
        if step < psnr_steps:
            return LearningRate(self.config["psnr"]).value(step)
        return LearningRate(self.config["gan"]).value(step - psnr_steps)

    def train_step(self, stage, lr, hr):
        tf = self.tf
        lr = tf.convert_to_tensor(lr.astype(np.float32) / 255.0)
        hr = tf.convert_to_tensor(hr.astype(np.float32) / 255.0)
        return {term: float(value) for term, value in self.steps[stage](lr, hr).items()}

    def _psnr_step(self, lr, hr):
        tf = self.tf
        with tf.GradientTape() as tape:
            sr = self.generator(lr, training=True)
            loss = tf.reduce_mean(tf.abs(sr - hr))
        variables = self.generator.trainable_variables
        self.optimizers["psnr"].apply_gradients(zip(tape.gradient(loss, variables), variables))
        return {"loss": loss, "content": loss}

    def _gan_step(self, lr, hr):
        from mesr.sr.losses import adversarial_losses, perceptual_loss

        tf, gan = self.tf, self.config["gan"]
        weights = gan["loss_weights"]
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            sr = self.generator(lr, training=True)
            real = self.discriminator(hr, training=True)
            fake = self.discriminator(sr, training=True)
            d_loss, adversarial = adversarial_losses(real, fake, relativistic=gan["relativistic"])
            content = tf.reduce_mean(tf.abs(sr - hr))
            loss = weights["generator"] * content + weights["discriminator"] * adversarial
            terms = {"content": content, "adversarial": adversarial, "discriminator": d_loss}
            if self.features is not None:
                perceptual = perceptual_loss(
                    self.features(sr, training=False),
                    self.features(hr, training=False),
                    feature_scale=self.config["perceptual"]["feature_scale"],
                )
                loss = loss + weights["features"] * perceptual
                terms["perceptual"] = perceptual
        g_vars, d_vars = self.generator.trainable_variables, self.discriminator.trainable_variables
        g_grads, d_grads = g_tape.gradient(loss, g_vars), d_tape.gradient(d_loss, d_vars)
        self.optimizers["gan_generator"].apply_gradients(zip(g_grads, g_vars))
        self.optimizers["gan_discriminator"].apply_gradients(zip(d_grads, d_vars))
        return {"loss": loss, **terms}

    def validation_psnr(self, inputs):
        """The generator's mean PSNR on the validation pairs of ``inputs`` (an ``_Inputs``)."""
        from mesr.sr.inference import upscale

        sr = upscale(self.generator, inputs.val_lr, scale=self.scale, batch_size=self.config["batch_size"])
        return _mean_psnr(sr, inputs.val_hr)

    def save(self, path, fingerprint, progress):
        """Write the checkpoint of ``progress`` (a ``_Progress``) atomically."""
        variables = self._variables()
        step = progress.step
        meta = {
            "fingerprint": fingerprint,
            "step": step,
            "sums": progress.sums,
            "count": progress.count,
            "shapes": [list(v.shape) for v in variables],
        }
        arrays = {f"v{i}": np.asarray(v.numpy()) for i, v in enumerate(variables)}
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as handle:
                np.savez(handle, meta=np.array(json.dumps(meta)), **arrays)
        logger.info("checkpoint at step %d: %s", step, path)

    def restore(self, path, fingerprint):
        """Load the checkpoint if it matches the settings; return the ``_Progress`` it holds (or a fresh one)."""
        if not path.is_file():
            return _Progress()
        with np.load(path, allow_pickle=False) as stored:
            meta = json.loads(str(stored["meta"]))
            variables = self._variables()
            if meta["fingerprint"] != fingerprint or meta["shapes"] != [list(v.shape) for v in variables]:
                logger.warning("checkpoint %s is of other settings: ignored, training starts afresh", path)
                return _Progress()
            for i, variable in enumerate(variables):
                variable.assign(stored[f"v{i}"])
        logger.info("resuming from the checkpoint of step %d: %s", meta["step"], path)
        return _Progress(step=meta["step"], sums=meta["sums"], count=meta["count"])


def _write_outputs(run, inputs, trainer, progress):
    """Write the generator's weights and, beside them, the ``.yaml`` record of the run; return the record."""
    import keras
    import tensorflow as tf

    from mesr.sr.weights import save_weights

    run.output.parent.mkdir(parents=True, exist_ok=True)
    save_weights(trainer.generator, run.output)
    config, vgg_weights = run.config, run.vgg_weights
    perceptual = None
    if vgg_weights is not None:
        perceptual = {
            "weights": vgg_weights,
            "random": vgg_weights == "random",
            "sha256": trainer.vgg_sha256,
            "layers": list(config["perceptual"]["layers"]),
        }
    record = {
        "weights": run.output.name,
        "arch": run.arch,
        "params": dict(run.params),
        "scale": run.scale,
        "seed": run.seed,
        "images": {"directory": str(run.images), "count": len(inputs.names)},
        "steps": {"psnr": run.psnr_steps, "gan": run.total_steps - run.psnr_steps, "total": run.total_steps},
        "validation": {
            "patches": config["validation"]["patches"],
            "psnr": round(float(progress.val_psnr), 4),
            "psnr_bicubic": round(float(inputs.val_bicubic), 4),
        },
        "perceptual_weights_random": bool(perceptual and perceptual["random"]),
        "perceptual": perceptual,
        "curve": run.curve.name,
        "device": trainer.device,
        "versions": {"tensorflow": tf.__version__, "keras": keras.__version__},
        "training": copy.deepcopy(config),  # a copy: no YAML anchors for shared lists
    }
    write_text(run.output.with_suffix(".yaml"), yaml.safe_dump(record, sort_keys=False, default_flow_style=False))
    logger.info(
        "trained %s x%d: validation PSNR %.3f dB (bicubic %.3f dB); weights in %s",
        *(run.arch, run.scale, progress.val_psnr, inputs.val_bicubic, run.output),
    )
    return record


def _vgg_weights(config, arch, output):
    """The VGG19 weights the run needs (path, 'random' or None); errors say how to supply them."""
    gan = config["gan"]
    if gan is None or gan["loss_weights"]["features"] == 0:
        return None
    from mesr.sr.losses import VGG19_NOTOP_FILE, VGG19_NOTOP_URL

    weights = config["perceptual"]["weights"]
    help_text = _VGG_HELP.format(file=VGG19_NOTOP_FILE, url=VGG19_NOTOP_URL)
    if weights is None:
        raise ValueError(f"training.perceptual.weights is not set for {arch} ({output.name}). {help_text}")
    if weights == "random":
        return weights
    if not Path(weights).is_file():
        raise ValueError(f"training.perceptual.weights: VGG19 weights file {weights} does not exist. {help_text}")
    return weights


def _adam(stage):
    import keras

    return keras.optimizers.Adam(learning_rate=LearningRate(stage), beta_1=stage["beta_1"], beta_2=stage["beta_2"])


def _mean_psnr(test, reference):
    """Mean over patches of the RGB PSNR (data range 255), accumulated in float64."""
    diff = test.astype(np.float64) - reference.astype(np.float64)
    mse = np.maximum(np.mean(diff**2, axis=(1, 2, 3)), 1e-10)
    return float(np.mean(10 * np.log10(255.0**2 / mse)))


def _fingerprint(run, names, images):
    """SHA-256 of everything that determines the trained weights (not the checkpoint cadence)."""
    settings = copy.deepcopy(run.config)
    settings.pop("checkpoint_every")
    content = {
        "arch": run.arch,
        "params": run.params,
        "scale": run.scale,
        "seed": run.seed,
        "training": settings,
        "images": [[name, list(image.shape)] for name, image in zip(names, images)],
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode("utf8")).hexdigest()


def _start_curve(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, "\t".join(CURVE_COLUMNS) + "\n")


def _curve_row(path, step, stage, means, rate, val_psnr, val_bicubic):
    """Append one row to the curve and flush it to disk."""
    means = means or {}
    cells = [str(step), stage] + [_cell(means.get(term)) for term in _TERMS]
    cells += [_cell(rate), _cell(val_psnr), _cell(val_bicubic)]
    with open(path, "a", encoding="utf-8", newline="") as handle:
        handle.write("\t".join(cells) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def _cell(value):
    return "NA" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.6g}"


def _truncate_curve(path, step):
    """Drop the rows a killed run wrote after the checkpoint being resumed."""
    if not path.is_file():
        _start_curve(path)
        return
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = lines[:1] + [line for line in lines[1:] if line.strip() and int(line.split("\t", 1)[0]) <= step]
    write_text(path, "".join(kept))
