"""Training the super-resolution networks inside the workflow (SPEC §6, "Training recipes").

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
import hashlib
import json
import logging
import math
import numbers
import os
import time
from pathlib import Path

import numpy as np
import yaml

from mesr._checks import check_integer, check_option
from mesr.io import atomic_path, write_text
from mesr.sr.patches import LR_OPERATORS, PatchSampler, default_blur_sigma, read_training_images
from mesr.sr.schedules import SCHEDULES, LearningRate

__all__ = ["CURVE_COLUMNS", "DEFAULTS", "GAN_DEFAULTS", "heldout_psnr", "resolve_training_config", "train_model"]

logger = logging.getLogger(__name__)

#: Settings of ``training:`` and their defaults (``gan: null``: no GAN stage).
DEFAULTS = {
    "lr_operator": "degrade",  # 'degrade' (SPEC §5 operator) or 'bicubic'
    "blur_sigma": None,  # blur of 'degrade' in HR px; null: 0.4 * scale (SPEC §5: 0.8 at x2, 1.6 at x4)
    "noise_sigma": 1.0,  # noise of 'degrade' in grey levels
    "jpeg_quality": None,  # JPEG quality of the LR inputs (noise-cancel: 50); null: none
    "patch_size": 32,  # LR patch side
    "batch_size": 16,
    "augment": True,  # random rot90 and flips
    "psnr": {
        "steps": 100000,
        "learning_rate": 4e-4,
        "schedule": "step",  # 'step' (ISR) or 'cosine' (mesr.sr.schedules)
        "warmup_steps": 0,
        "decay_steps": 100000,  # 'step' only; null: constant learning rate
        "decay_factor": 0.5,
        "beta_1": 0.9,
        "beta_2": 0.999,
    },
    "gan": None,
    "perceptual": {
        "weights": None,  # path of the Keras VGG19 ImageNet no-top .h5 file, or 'random' (demo only)
        "layers": ["block2_conv2", "block3_conv3"],
        "feature_scale": 1 / 12.75,  # SRGAN's rescaling of the VGG feature maps
    },
    "validation": {"every": 1000, "patches": 64},
    "checkpoint_every": 1000,
    "deterministic": True,
}

#: Defaults of ``training.gan`` when a GAN stage is configured.
GAN_DEFAULTS = {
    "steps": 50000,
    "learning_rate": 1e-4,
    "schedule": "step",
    "warmup_steps": 0,
    "decay_steps": None,
    "decay_factor": 0.5,
    "beta_1": 0.9,
    "beta_2": 0.999,
    "loss_weights": {"generator": 1.0, "discriminator": 0.003, "features": 1 / 12},
    "relativistic": False,
    "discriminator_filters": 64,
}

#: Columns of the training-curve TSV, in order.
CURVE_COLUMNS = ("step", "stage", "loss", "content", "adversarial", "perceptual", "discriminator",
                 "learning_rate", "val_psnr", "val_psnr_bicubic")  # fmt: skip

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

    Parameters
    ----------
    training : dict or None
        The model's ``training:`` settings (see ``DEFAULTS`` and
        ``GAN_DEFAULTS``); missing keys take their defaults.
    scale : int
        Upscaling factor (resolves ``blur_sigma: null``).

    Returns
    -------
    dict
        A new, complete mapping (``gan`` complete or None, ``blur_sigma`` a number).

    Raises
    ------
    ValueError
        If a key is unknown (the message lists the valid ones) or a value out
        of range (the message names the key).

    Examples
    --------
    >>> config = resolve_training_config({"psnr": {"steps": 10}}, scale=4)
    >>> config["psnr"]["steps"], config["blur_sigma"], config["gan"]
    (10, 1.6, None)
    """
    if training is None:
        training = {}
    config = _merge("training", DEFAULTS, training)
    if config["gan"] is not None:
        config["gan"] = _merge("training.gan", GAN_DEFAULTS, config["gan"])
    check_option("training.lr_operator", config["lr_operator"], LR_OPERATORS)
    if config["blur_sigma"] is None:
        config["blur_sigma"] = default_blur_sigma(scale)
    _number("training.blur_sigma", config["blur_sigma"])
    _number("training.noise_sigma", config["noise_sigma"], allow_zero=True)
    if config["jpeg_quality"] is not None:
        check_integer("training.jpeg_quality", config["jpeg_quality"])
        if config["jpeg_quality"] > 100:
            raise ValueError(f"training.jpeg_quality must be in 1..100, got {config['jpeg_quality']!r}")
    for key in ("patch_size", "batch_size", "checkpoint_every"):
        check_integer(f"training.{key}", config[key])
    for key in ("augment", "deterministic"):
        if not isinstance(config[key], bool):
            raise ValueError(f"training.{key} must be true or false, got {config[key]!r}")
    for stage in ("psnr", "gan"):
        if config[stage] is not None:
            _check_stage(f"training.{stage}", config[stage])
    check_integer("training.validation.every", config["validation"]["every"])
    check_integer("training.validation.patches", config["validation"]["patches"])
    perceptual = config["perceptual"]
    layers = perceptual["layers"]
    if isinstance(layers, str) or not layers or not all(isinstance(name, str) for name in layers):
        raise ValueError(f"training.perceptual.layers must be a non-empty list of VGG19 layer names, got {layers!r}")
    perceptual["layers"] = list(layers)
    _number("training.perceptual.feature_scale", perceptual["feature_scale"])
    if perceptual["weights"] is not None and not isinstance(perceptual["weights"], (str, os.PathLike)):
        raise ValueError(f"training.perceptual.weights must be a path, 'random' or null, got {perceptual['weights']!r}")
    if perceptual["weights"] is not None:
        perceptual["weights"] = str(perceptual["weights"])
    if config["psnr"]["steps"] + (config["gan"]["steps"] if config["gan"] else 0) < 1:
        raise ValueError("training must have at least one step (training.psnr.steps + training.gan.steps)")
    return config


def train_model(*, arch, params, scale, training, images, output, checkpoint_dir, curve, seed=0, threads=None,
                callback=None):
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
    from mesr.sr.bicubic import upscale_bicubic

    params, scale = _check_build_args(arch, params, scale)
    config = resolve_training_config(training, scale=scale)
    if threads is not None:
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(int(threads))
        tf.config.threading.set_inter_op_parallelism_threads(int(threads))
    seed = check_integer("seed", seed, allow_zero=True)
    if callback is not None and not callable(callback):
        raise ValueError(f"callback must be callable or None, got {callback!r}")
    output, checkpoint_dir, curve = Path(output), Path(checkpoint_dir), Path(curve)
    vgg_weights = _vgg_weights(config, arch, output)
    patch = config["patch_size"]
    names, hr_images, sampler = _sampler(config, images, scale, seed)
    val_lr, val_hr = sampler.validation_pairs(config["validation"]["patches"])
    val_bicubic = _mean_psnr(upscale_bicubic(val_lr, scale), val_hr)

    trainer = _Trainer(arch, params, scale, config, seed, vgg_weights)
    fingerprint = _fingerprint(arch, params, scale, config, seed, names, hr_images)
    psnr_steps = config["psnr"]["steps"]
    total = psnr_steps + (config["gan"]["steps"] if config["gan"] else 0)
    checkpoint = checkpoint_dir / "checkpoint.npz"
    rows = checkpoint_dir / "curve.tsv"  # the curve so far; ``curve`` is written only at the end
    step, sums, count = trainer.restore(checkpoint, fingerprint)
    val_psnr = trainer.validation_psnr(val_lr)
    if step == 0:
        _start_curve(rows)
        _curve_row(rows, 0, _stage(0, psnr_steps), None, trainer.learning_rate(0), val_psnr(val_hr), val_bicubic)
    else:
        _truncate_curve(rows, step)
    logger.info("training %s x%d for %d steps (PSNR %d, GAN %d) on %d images, batch %d x %d px, seed %d",
                arch, scale, total, psnr_steps, total - psnr_steps, len(names), config["batch_size"], patch, seed)
    every, started, start_step = config["validation"]["every"], time.perf_counter(), step
    final = {"val_psnr": None}
    while step < total:
        stage = _stage(step, psnr_steps)
        lr, hr = sampler.batch(step, config["batch_size"])
        losses = trainer.train_step(stage, lr, hr)
        step += 1
        sums = {term: sums.get(term, 0.0) + losses.get(term, 0.0) for term in losses}
        count += 1
        if step % every == 0 or step == psnr_steps or step == total:
            means = {term: value / count for term, value in sums.items()}
            final["val_psnr"] = val_psnr(val_hr)
            rate = trainer.learning_rate(step - 1)
            _curve_row(rows, step, stage, means, rate, final["val_psnr"], val_bicubic)
            speed = (step - start_step) / (time.perf_counter() - started)
            logger.info("step %d/%d (%s): loss %.5f, lr %.3g, validation PSNR %.3f dB (bicubic %.3f dB), %.2f steps/s",
                        step, total, stage, means["loss"], rate, final["val_psnr"], val_bicubic, speed)
            sums, count = {}, 0
        if step % config["checkpoint_every"] == 0 or step == total:
            trainer.save(checkpoint, fingerprint, step, sums, count)
        if callback is not None:
            callback(step, losses)
    if final["val_psnr"] is None:  # resumed from the final checkpoint
        final["val_psnr"] = val_psnr(val_hr)
    write_text(curve, rows.read_text(encoding="utf-8"))
    return _write_outputs(trainer, output, curve, arch=arch, params=params, scale=scale, seed=seed, config=config,
                          images=images, names=names, steps=(psnr_steps, total - psnr_steps),
                          val=(final["val_psnr"], val_bicubic), vgg_weights=vgg_weights)  # fmt: skip


def heldout_psnr(*, arch, params, scale, weights, training, images, output, seed=0, pairs=64):
    """PSNR of a trained network and of bicubic upscaling on patches of held-out images.

    The LR inputs are made by the model's own training operator (SPEC §5
    degradation or bicubic, JPEG when configured), so the comparison asks
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
    logger.info("held-out PSNR of %s x%d: %.3f dB (bicubic %.3f dB)", arch, scale, result["psnr"],
                result["psnr_bicubic"])
    write_text(output, json.dumps(result, indent=2) + "\n")
    return result


def _sampler(config, images, scale, seed):
    """The training images and the patch sampler of a resolved training config."""
    patch = config["patch_size"]
    names, hr_images = read_training_images(images, min_side=patch * scale)
    sampler = PatchSampler(hr_images, scale=scale, patch_size=patch, lr_operator=config["lr_operator"],
                           blur_sigma=config["blur_sigma"], noise_sigma=config["noise_sigma"],
                           jpeg_quality=config["jpeg_quality"], augment=config["augment"], seed=seed)  # fmt: skip
    return names, hr_images, sampler


class _Trainer:
    """Networks, optimisers and compiled training steps of one training run."""

    def __init__(self, arch, params, scale, config, seed, vgg_weights):
        import keras
        import tensorflow as tf

        from mesr.sr import build

        self.tf, self.config = tf, config
        if config["deterministic"]:
            tf.config.experimental.enable_op_determinism()
        gpus = tf.config.list_physical_devices("GPU")
        self.device = f"GPU ({', '.join(g.name for g in gpus)})" if gpus else "CPU"
        logger.info("TensorFlow %s trains on the %s", tf.__version__, self.device)
        keras.utils.set_random_seed(seed)
        self.generator = build(arch, params, scale)
        self.optimizers = {"psnr": _adam(config["psnr"])}
        self.optimizers["psnr"].build(self.generator.trainable_variables)
        self.steps = {"psnr": tf.function(self._psnr_step)}
        self.discriminator = self.features = self.vgg_sha256 = None
        gan = config["gan"]
        if gan is not None:
            from mesr.sr.losses import build_discriminator, build_feature_extractor

            keras.utils.set_random_seed(seed)
            hr_size = config["patch_size"] * scale
            self.discriminator = build_discriminator(hr_size, filters=gan["discriminator_filters"])
            if vgg_weights is not None:
                self.features, self.vgg_sha256 = build_feature_extractor(
                    vgg_weights, layers=config["perceptual"]["layers"], seed=seed
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
                perceptual = perceptual_loss(self.features(sr, training=False), self.features(hr, training=False),
                                             feature_scale=self.config["perceptual"]["feature_scale"])  # fmt: skip
                loss = loss + weights["features"] * perceptual
                terms["perceptual"] = perceptual
        g_vars, d_vars = self.generator.trainable_variables, self.discriminator.trainable_variables
        g_grads, d_grads = g_tape.gradient(loss, g_vars), d_tape.gradient(d_loss, d_vars)
        self.optimizers["gan_generator"].apply_gradients(zip(g_grads, g_vars))
        self.optimizers["gan_discriminator"].apply_gradients(zip(d_grads, d_vars))
        return {"loss": loss, **terms}

    def validation_psnr(self, val_lr):
        """A function of the HR patches giving the generator's mean validation PSNR."""
        from mesr.sr.inference import upscale

        def evaluate(val_hr):
            sr = upscale(self.generator, val_lr, scale=val_hr.shape[1] // val_lr.shape[1],
                         batch_size=self.config["batch_size"])  # fmt: skip
            return _mean_psnr(sr, val_hr)

        return evaluate

    def save(self, path, fingerprint, step, sums, count):
        """Write the checkpoint atomically."""
        variables = self._variables()
        meta = {"fingerprint": fingerprint, "step": step, "sums": sums, "count": count,
                "shapes": [list(v.shape) for v in variables]}  # fmt: skip
        arrays = {f"v{i}": np.asarray(v.numpy()) for i, v in enumerate(variables)}
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as handle:
                np.savez(handle, meta=np.array(json.dumps(meta)), **arrays)
        logger.info("checkpoint at step %d: %s", step, path)

    def restore(self, path, fingerprint):
        """Load the checkpoint if it matches the settings; return (step, loss sums, count)."""
        if not path.is_file():
            return 0, {}, 0
        with np.load(path, allow_pickle=False) as stored:
            meta = json.loads(str(stored["meta"]))
            variables = self._variables()
            if meta["fingerprint"] != fingerprint or meta["shapes"] != [list(v.shape) for v in variables]:
                logger.warning("checkpoint %s is of other settings: ignored, training starts afresh", path)
                return 0, {}, 0
            for i, variable in enumerate(variables):
                variable.assign(stored[f"v{i}"])
        logger.info("resuming from the checkpoint of step %d: %s", meta["step"], path)
        return meta["step"], meta["sums"], meta["count"]


def _write_outputs(trainer, output, curve, *, arch, params, scale, seed, config, images, names, steps, val,
                   vgg_weights):  # fmt: skip
    import keras
    import tensorflow as tf

    from mesr.sr.weights import save_weights

    output.parent.mkdir(parents=True, exist_ok=True)
    save_weights(trainer.generator, output)
    perceptual = None
    if vgg_weights is not None:
        perceptual = {"weights": vgg_weights, "random": vgg_weights == "random", "sha256": trainer.vgg_sha256,
                      "layers": list(config["perceptual"]["layers"])}  # fmt: skip
    record = {
        "weights": output.name,
        "arch": arch,
        "params": {key: value for key, value in params.items()},
        "scale": scale,
        "seed": seed,
        "images": {"directory": str(images), "count": len(names)},
        "steps": {"psnr": steps[0], "gan": steps[1], "total": steps[0] + steps[1]},
        "validation": {"patches": config["validation"]["patches"], "psnr": round(float(val[0]), 4),
                       "psnr_bicubic": round(float(val[1]), 4)},  # fmt: skip
        "perceptual_weights_random": bool(perceptual and perceptual["random"]),
        "perceptual": perceptual,
        "curve": curve.name,
        "device": trainer.device,
        "versions": {"tensorflow": tf.__version__, "keras": keras.__version__},
        "training": copy.deepcopy(config),  # a copy: no YAML anchors for shared lists
    }
    write_text(output.with_suffix(".yaml"), yaml.safe_dump(record, sort_keys=False, default_flow_style=False))
    logger.info("trained %s x%d: validation PSNR %.3f dB (bicubic %.3f dB); weights in %s",
                arch, scale, val[0], val[1], output)  # fmt: skip
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


def _stage(step, psnr_steps):
    return "psnr" if step < psnr_steps else "gan"


def _mean_psnr(test, reference):
    """Mean over patches of the RGB PSNR (data range 255), accumulated in float64."""
    diff = test.astype(np.float64) - reference.astype(np.float64)
    mse = np.maximum(np.mean(diff**2, axis=(1, 2, 3)), 1e-10)
    return float(np.mean(10 * np.log10(255.0**2 / mse)))


def _fingerprint(arch, params, scale, config, seed, names, images):
    """SHA-256 of everything that determines the trained weights (not the checkpoint cadence)."""
    settings = copy.deepcopy(config)
    settings.pop("checkpoint_every")
    content = {"arch": arch, "params": params, "scale": scale, "seed": seed, "training": settings,
               "images": [[name, list(image.shape)] for name, image in zip(names, images)]}  # fmt: skip
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


def _merge(prefix, defaults, given):
    """``defaults`` updated by ``given``, recursively for nested mappings; unknown keys are errors."""
    if not isinstance(given, dict):
        raise ValueError(f"{prefix} must be a mapping, got {given!r}")
    merged = copy.deepcopy(defaults)
    for key, value in given.items():
        if key not in defaults:
            raise ValueError(f"{prefix} has unknown key {key!r} (valid: {', '.join(defaults)})")
        if isinstance(defaults[key], dict):
            merged[key] = _merge(f"{prefix}.{key}", defaults[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _check_stage(prefix, stage):
    check_integer(f"{prefix}.steps", stage["steps"], allow_zero=True)
    _number(f"{prefix}.learning_rate", stage["learning_rate"])
    check_option(f"{prefix}.schedule", stage["schedule"], SCHEDULES)
    check_integer(f"{prefix}.warmup_steps", stage["warmup_steps"], allow_zero=True)
    if stage["decay_steps"] is not None:
        check_integer(f"{prefix}.decay_steps", stage["decay_steps"])
    _number(f"{prefix}.decay_factor", stage["decay_factor"])
    for key in ("beta_1", "beta_2"):
        _number(f"{prefix}.{key}", stage[key])
        if stage[key] >= 1:
            raise ValueError(f"{prefix}.{key} must be below 1, got {stage[key]!r}")
    if "loss_weights" in stage:
        for key, value in stage["loss_weights"].items():
            _number(f"{prefix}.loss_weights.{key}", value, allow_zero=True)
        if not isinstance(stage["relativistic"], bool):
            raise ValueError(f"{prefix}.relativistic must be true or false, got {stage['relativistic']!r}")
        check_integer(f"{prefix}.discriminator_filters", stage["discriminator_filters"])


def _number(name, value, *, allow_zero=False):
    if (isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value)
            or value < 0 or (value == 0 and not allow_zero)):  # fmt: skip
        raise ValueError(f"{name} must be a finite number {'>= 0' if allow_zero else '> 0'}, got {value!r}")
