"""Training the SR networks: patch sampler, PSNR and GAN stages, checkpoints and resumption, outputs."""

import copy
import logging

import cv2
import numpy as np
import pandas as pd
import pytest
import skimage.data
import yaml

from workflow_runs import REPO

from mesr.degrade import degrade
from mesr.sr import build, load_weights
from mesr.sr.patches import PatchSampler, read_training_images
from mesr.sr.training import CURVE_COLUMNS, resolve_training_config, train_model

TINY = {
    "rdn": {"C": 2, "D": 2, "G": 8, "G0": 8},
    "rrdn": {"C": 2, "D": 2, "G": 8, "G0": 8, "T": 1},
    "nesrgan_plus": {"nf": 8, "gc": 4, "nb": 1},
}

#: A tiny GAN recipe: PSNR then GAN stage, the relativistic loss, random VGG19 features.
GAN_RECIPE = {
    "patch_size": 8,
    "batch_size": 2,
    "psnr": {"steps": 3, "learning_rate": 1e-3, "decay_steps": 2},
    "gan": {"steps": 3, "relativistic": True, "discriminator_filters": 4},
    "perceptual": {"weights": "random", "layers": ["block2_conv2"]},
    "validation": {"every": 2, "patches": 3},
    "checkpoint_every": 2,
}


@pytest.fixture(scope="module")
def image_dir(tmp_path_factory):
    """Three natural HR images of 64x64 to 96x80 px, as PNG files."""
    folder = tmp_path_factory.mktemp("hr_images")
    data = skimage.data
    sources = {"astronaut": data.astronaut(), "coffee": data.coffee(), "chelsea": data.chelsea()}
    for (name, image), size in zip(sources.items(), [(64, 64), (96, 80), (80, 72)]):
        small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        cv2.imwrite(str(folder / f"{name}.png"), small[..., ::-1])
    return folder


@pytest.fixture(scope="module")
def noise_images():
    """Random-texture images, so that any 32 px crop is found at exactly one place."""
    rng = np.random.default_rng(5)
    return [rng.integers(0, 256, (48, 56, 3), dtype=np.uint8), rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)]


def run(tmp, *, arch="nesrgan_plus", training=None, seed=0, callback=None, images):
    return train_model(
        arch=arch,
        params=TINY[arch],
        scale=2,
        training=training or GAN_RECIPE,
        images=images,
        output=tmp / "out" / "weights.hdf5",
        checkpoint_dir=tmp / "checkpoints",
        curve=tmp / "out" / "curve.tsv",
        seed=seed,
        callback=callback,
    )


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory, image_dir):
    """One complete tiny PSNR + GAN training of nESRGAN+, with its per-step losses."""
    tmp = tmp_path_factory.mktemp("uninterrupted")
    steps = []
    record = run(tmp, images=image_dir, callback=lambda step, losses: steps.append(step))
    return tmp, record, steps


# --- patch sampler -------------------------------------------------------------------------------


@pytest.mark.parametrize("scale", [2, 4])
def test_sampler_pairs_are_the_degradation_of_their_hr_patch(noise_images, scale):
    sampler = PatchSampler(noise_images, scale=scale, patch_size=8, blur_sigma=None, noise_sigma=0, seed=1)
    lr, hr = sampler.batch(0, 5)
    assert lr.shape == (5, 8, 8, 3) and hr.shape == (5, 8 * scale, 8 * scale, 3)
    assert lr.dtype == hr.dtype == np.uint8
    sigma = {2: 0.8, 4: 1.6}[scale]  # docs/degradation.md
    for low, high in zip(lr, hr):
        expected = degrade(high[None], scale=scale, blur_sigma=sigma, noise_sigma=0, seed=0, clip_id="any")[0]
        np.testing.assert_array_equal(low, expected)


def test_sampler_adds_the_configured_noise(noise_images):
    noisy = PatchSampler(noise_images, scale=2, patch_size=16, noise_sigma=1.0, seed=1)
    clean = PatchSampler(noise_images, scale=2, patch_size=16, noise_sigma=0.0, seed=1)
    (lr_noisy, hr_noisy), (lr_clean, hr_clean) = noisy.batch(0, 8), clean.batch(0, 8)
    np.testing.assert_array_equal(hr_noisy, hr_clean)
    diff = lr_noisy.astype(float) - lr_clean.astype(float)
    assert 0.7 < diff.std() < 1.4 and abs(diff.mean()) < 0.2


def test_sampler_bicubic_operator_is_opencv_inter_cubic(noise_images):
    sampler = PatchSampler(noise_images, scale=2, patch_size=8, lr_operator="bicubic", seed=3)
    lr, hr = sampler.batch(4, 4)
    for low, high in zip(lr, hr):
        np.testing.assert_array_equal(low, cv2.resize(high, (8, 8), interpolation=cv2.INTER_CUBIC))


def test_sampler_augments_hr_and_lr_alike(noise_images):
    sampler = PatchSampler(noise_images, scale=2, patch_size=16, noise_sigma=0, seed=0)
    lr, hr = sampler.batch(0, 16)
    transforms_used = set()
    for low, high in zip(lr, hr):
        found = []
        for index, image in enumerate(noise_images):
            for turns in range(4):
                for flip in (False, True):
                    candidate = high[:, ::-1] if flip else high  # undo the flip, then the rotation
                    candidate = np.rot90(candidate, -turns)
                    for top in range(image.shape[0] - 31):
                        for left in range(image.shape[1] - 31):
                            if np.array_equal(image[top : top + 32, left : left + 32], candidate):
                                found.append((index, turns, flip))
        assert len(found) == 1  # an augmented crop of exactly one place
        transforms_used.add(found[0][1:])
        # LR is the operator applied to the augmented HR patch: LR and HR are augmented alike
        np.testing.assert_array_equal(
            low, degrade(high[None], scale=2, blur_sigma=0.8, noise_sigma=0, seed=0, clip_id="x")[0]
        )
    assert len(transforms_used) > 2
    plain = PatchSampler(noise_images, scale=2, patch_size=16, noise_sigma=0, augment=False, seed=0)
    assert not np.array_equal(plain.batch(0, 16)[1], hr)


def test_sampler_is_a_pure_function_of_seed_and_batch_index(noise_images):
    first = PatchSampler(noise_images, scale=2, patch_size=8, seed=7)
    again = PatchSampler(noise_images, scale=2, patch_size=8, seed=7)
    other = PatchSampler(noise_images, scale=2, patch_size=8, seed=8)
    later = first.batch(3, 4)
    first.batch(0, 4)  # drawing other batches first changes nothing
    for got, expected in zip(again.batch(3, 4), later):
        np.testing.assert_array_equal(got, expected)
    assert not np.array_equal(first.batch(2, 4)[1], later[1])
    assert not np.array_equal(other.batch(3, 4)[1], later[1])
    validation = first.validation_pairs(4)
    np.testing.assert_array_equal(validation[1], again.validation_pairs(4)[1])
    assert not np.array_equal(validation[1], first.batch(0, 4)[1])


def test_sampler_jpeg_quality_compresses_the_lr_input(noise_images):
    plain = PatchSampler(noise_images, scale=2, patch_size=16, seed=2)
    jpeg = PatchSampler(noise_images, scale=2, patch_size=16, jpeg_quality=30, seed=2)
    (lr_plain, hr_plain), (lr_jpeg, hr_jpeg) = plain.batch(1, 3), jpeg.batch(1, 3)
    np.testing.assert_array_equal(hr_plain, hr_jpeg)
    assert not np.array_equal(lr_plain, lr_jpeg)
    for low, compressed in zip(lr_plain, lr_jpeg):
        _, buffer = cv2.imencode(".jpg", low[..., ::-1].copy(), [cv2.IMWRITE_JPEG_QUALITY, 30])
        np.testing.assert_array_equal(compressed, cv2.imdecode(buffer, cv2.IMREAD_COLOR)[..., ::-1])


def test_sampler_validates_its_options(noise_images):
    with pytest.raises(ValueError, match="lr_operator must be one of 'degrade', 'bicubic'"):
        PatchSampler(noise_images, scale=2, patch_size=8, lr_operator="area")
    with pytest.raises(ValueError, match="jpeg_quality must be an integer in 1..100"):
        PatchSampler(noise_images, scale=2, patch_size=8, jpeg_quality=0)
    with pytest.raises(ValueError, match="smaller than the 64 px HR patch"):
        PatchSampler(noise_images, scale=2, patch_size=32)


def test_read_training_images_reads_rgb_and_skips_small_ones(tmp_path, caplog):
    image = np.zeros((40, 50, 3), np.uint8)
    image[..., 0] = 200  # red
    cv2.imwrite(str(tmp_path / "b.png"), image[..., ::-1])
    cv2.imwrite(str(tmp_path / "a.jpg"), np.zeros((20, 20, 3), np.uint8))
    (tmp_path / "notes.txt").write_text("not an image")
    with caplog.at_level(logging.WARNING, logger="mesr.sr.patches"):
        names, images = read_training_images(tmp_path, min_side=32)
    assert names == ["b.png"]
    np.testing.assert_array_equal(images[0], image)
    assert "skipping training image" in caplog.text and "a.jpg" in caplog.text
    with pytest.raises(ValueError, match="none of its 2 images is at least 64x64"):
        read_training_images(tmp_path, min_side=64)


def test_read_training_images_rejects_an_empty_or_missing_directory(tmp_path):
    (tmp_path / "readme.md").write_text("no images here")
    with pytest.raises(ValueError, match=f"{tmp_path} holds no image"):
        read_training_images(tmp_path)
    with pytest.raises(ValueError, match="does not exist or is not a directory"):
        read_training_images(tmp_path / "absent")


# --- settings ------------------------------------------------------------------------------------


def test_resolve_training_config_fills_defaults_and_validates():
    config = resolve_training_config({"gan": {"steps": 5}, "jpeg_quality": 50}, scale=2)
    assert config["blur_sigma"] == 0.8 and config["noise_sigma"] == 1.0 and config["patch_size"] == 32
    assert config["psnr"]["learning_rate"] == 4e-4 and config["psnr"]["beta_2"] == 0.999
    assert config["gan"]["loss_weights"] == {"generator": 1.0, "discriminator": 0.003, "features": 1 / 12}
    assert config["perceptual"]["layers"] == ["block2_conv2", "block3_conv3"]
    with pytest.raises(ValueError, match="training.psnr has unknown key 'epochs' \\(valid: steps, learning_rate"):
        resolve_training_config({"psnr": {"epochs": 3}}, scale=2)
    with pytest.raises(ValueError, match="training.batch_size must be a positive integer, got 0"):
        resolve_training_config({"batch_size": 0}, scale=2)
    with pytest.raises(ValueError, match="training.lr_operator must be one of"):
        resolve_training_config({"lr_operator": "nearest"}, scale=2)
    with pytest.raises(ValueError, match="training.gan.beta_1 must be a finite number > 0 and < 1, got 1.0"):
        resolve_training_config({"gan": {"beta_1": 1.0}}, scale=2)
    with pytest.raises(ValueError, match="at least one step"):
        resolve_training_config({"psnr": {"steps": 0}}, scale=2)
    with pytest.raises(ValueError, match="training.psnr.schedule must be one of 'step', 'cosine', got 'linear'"):
        resolve_training_config({"psnr": {"schedule": "linear"}}, scale=2)
    with pytest.raises(ValueError, match="training.gan.warmup_steps must be a non-negative integer, got -1"):
        resolve_training_config({"gan": {"warmup_steps": -1}}, scale=2)
    with pytest.raises(ValueError, match="training.gan has unknown key 'epochs' \\(valid: steps, .*, relativistic"):
        resolve_training_config({"gan": {"epochs": 3}}, scale=2)
    with pytest.raises(ValueError, match="training.gan must be null or a mapping, got 5"):
        resolve_training_config({"gan": 5}, scale=2)
    with pytest.raises(ValueError, match="training.patch_size must be an integer >= 4, got 16.0"):
        resolve_training_config({"patch_size": 16.0}, scale=2)
    with pytest.raises(ValueError, match="training.noise_sigma must be a finite number >= 0, got nan"):
        resolve_training_config({"noise_sigma": float("nan")}, scale=2)
    with pytest.raises(ValueError, match="training.perceptual.layers\\[1\\] must be a string, got 3"):
        resolve_training_config({"perceptual": {"layers": ["block1_conv1", 3]}}, scale=2)


def test_training_defaults_and_ranges_come_from_the_config_schema():
    """One source: the library fills in what Snakemake fills in from config/schema.yaml, in the same order."""
    from snakemake.utils import validate

    from mesr.sr.patches import LR_OPERATORS
    from mesr.sr.schedules import SCHEDULES
    from mesr.sr.training import SCHEMA

    given = {"images": "skimage", "patch_size": 8, "psnr": {"steps": 4}, "gan": {"steps": 2, "relativistic": True}}
    config = {"dataset": {"source": "synthetic"}, "models": {"m": {"arch": "rdn", "training": copy.deepcopy(given)}}}
    validate(config, str(SCHEMA), set_default=True)
    filled = config["models"]["m"]["training"]
    assert filled["gan"]["learning_rate"] == 1e-4 and filled["psnr"]["learning_rate"] == 4e-4
    settings = {key: value for key, value in filled.items() if key not in ("images", "seed")}
    given.pop("images")
    resolved = resolve_training_config(given, scale=4)
    assert resolve_training_config(settings, scale=4) == resolved
    assert list(resolved) == [
        key
        for key in yaml.safe_load(SCHEMA.read_text())["$defs"]["training"]["properties"]
        if key not in ("images", "seed")
    ]
    defs = yaml.safe_load(SCHEMA.read_text())["$defs"]
    assert tuple(defs["training"]["properties"]["lr_operator"]["enum"]) == LR_OPERATORS
    assert tuple(defs["psnr_stage"]["properties"]["schedule"]["enum"]) == SCHEDULES
    assert tuple(defs["gan_stage"]["properties"]["schedule"]["enum"]) == SCHEDULES


@pytest.mark.parametrize(
    "weights, message",
    [
        (None, "training.perceptual.weights is not set"),
        ("/nonexistent/vgg19.h5", "VGG19 weights file /nonexistent/vgg19.h5 does not exist"),
    ],
)
def test_gan_stage_without_vgg19_weights_says_how_to_supply_them(tmp_path, image_dir, weights, message):
    training = {**GAN_RECIPE, "perceptual": {"weights": weights}}
    with pytest.raises(ValueError, match=message) as error:
        run(tmp_path, training=training, images=image_dir)
    text = str(error.value)
    assert "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5" in text
    assert "training.perceptual.weights: random" in text
    assert not (tmp_path / "out").exists()


def test_vgg19_weights_load_from_a_local_keras2_file(tmp_path):
    import keras

    from mesr.sr.losses import build_feature_extractor
    from mesr.sr.weights import save_weights

    keras.utils.set_random_seed(11)
    source = keras.applications.VGG19(include_top=False, weights=None)
    save_weights(source, tmp_path / "vgg19_notop.h5")
    model, sha256 = build_feature_extractor(tmp_path / "vgg19_notop.h5", layers=["block2_conv2"], seed=0)
    assert len(sha256) == 64
    x = np.random.default_rng(0).uniform(size=(1, 16, 16, 3)).astype(np.float32)
    bgr = x[..., ::-1] * 255.0 - np.array([103.939, 116.779, 123.68], np.float32)  # caffe preprocessing
    cut = keras.Model(source.input, source.get_layer("block2_conv2").output)
    np.testing.assert_allclose(model(x)[0].numpy(), cut(bgr).numpy(), rtol=1e-5, atol=1e-4)


# --- training ------------------------------------------------------------------------------------


def test_psnr_steps_lower_the_loss(tmp_path, image_dir):
    losses = []
    training = {
        "patch_size": 8,
        "batch_size": 4,
        "psnr": {"steps": 40, "learning_rate": 2e-3},
        "validation": {"every": 40, "patches": 4},
        "checkpoint_every": 40,
    }
    record = run(
        tmp_path,
        arch="rdn",
        training=training,
        images=image_dir,
        callback=lambda step, terms: losses.append(terms["loss"]),
    )
    assert len(losses) == 40 and set(record["steps"].values()) == {40, 0}
    assert np.mean(losses[-8:]) < 0.7 * np.mean(losses[:8])


@pytest.mark.parametrize("arch, relativistic", [("rrdn", False), ("nesrgan_plus", True)])
def test_one_gan_step_changes_generator_and_discriminator(tmp_path, noise_images, arch, relativistic):
    from mesr.sr.training import _Run, _Trainer

    training = {**GAN_RECIPE, "gan": {**GAN_RECIPE["gan"], "relativistic": relativistic}}
    config = resolve_training_config(training, scale=2)
    run = _Run(
        arch=arch,
        params=TINY[arch],
        scale=2,
        config=config,
        seed=0,
        images=tmp_path,
        output=tmp_path / "weights.hdf5",
        checkpoint_dir=tmp_path,
        curve=tmp_path / "curve.tsv",
        vgg_weights="random",
    )
    trainer = _Trainer(run)
    generator = [w.copy() for w in trainer.generator.get_weights()]
    discriminator = [w.copy() for w in trainer.discriminator.get_weights()]
    lr, hr = PatchSampler(noise_images, scale=2, patch_size=8, seed=0).batch(0, 2)
    terms = trainer.train_step("gan", lr, hr)
    assert set(terms) == {"loss", "content", "adversarial", "perceptual", "discriminator"}
    assert all(np.isfinite(value) for value in terms.values())
    assert any(not np.array_equal(a, b) for a, b in zip(generator, trainer.generator.get_weights()))
    assert any(not np.array_equal(a, b) for a, b in zip(discriminator, trainer.discriminator.get_weights()))


def test_resumed_training_ends_with_the_uninterrupted_weights(tmp_path, image_dir, uninterrupted, caplog):
    reference_dir, _, reference_steps = uninterrupted
    assert reference_steps == [1, 2, 3, 4, 5, 6]

    def killed_after_5(step, losses):
        if step == 5:
            raise KeyboardInterrupt("killed")

    with pytest.raises(KeyboardInterrupt):
        run(tmp_path, images=image_dir, callback=killed_after_5)
    assert not (tmp_path / "out" / "weights.hdf5").exists()
    steps = []
    with caplog.at_level(logging.INFO, logger="mesr.sr.training"):
        record = run(tmp_path, images=image_dir, callback=lambda step, losses: steps.append(step))
    assert "resuming from the checkpoint of step 4" in caplog.text
    assert steps == [5, 6] and record["steps"]["total"] == 6
    model = build("nesrgan_plus", TINY["nesrgan_plus"], 2)
    resumed = load_weights(model, tmp_path / "out" / "weights.hdf5").get_weights()
    expected = load_weights(model, reference_dir / "out" / "weights.hdf5").get_weights()
    for got, want in zip(resumed, expected):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)
    reference_curve = pd.read_csv(reference_dir / "out" / "curve.tsv", sep="\t")
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "out" / "curve.tsv", sep="\t"), reference_curve, rtol=1e-4)


def test_a_checkpoint_of_other_settings_is_not_resumed(tmp_path, image_dir, uninterrupted, caplog):
    reference_dir, _, _ = uninterrupted
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "checkpoint.npz").write_bytes(
        (reference_dir / "checkpoints" / "checkpoint.npz").read_bytes()
    )
    steps = []
    with caplog.at_level(logging.WARNING, logger="mesr.sr.training"):
        run(
            tmp_path,
            images=image_dir,
            seed=1,
            callback=lambda step, losses: steps.append(step),
            training={**GAN_RECIPE, "gan": None},
        )
    assert "is of other settings" in caplog.text and steps == [1, 2, 3]


def test_outputs_weights_settings_and_curve(image_dir, uninterrupted):
    folder, record, _ = uninterrupted
    out = folder / "out"
    trained = load_weights(build("nesrgan_plus", TINY["nesrgan_plus"], 2), out / "weights.hdf5")
    again = load_weights(build("nesrgan_plus", TINY["nesrgan_plus"], 2), out / "weights.hdf5")
    x = np.random.default_rng(0).uniform(size=(1, 6, 7, 3)).astype(np.float32)
    np.testing.assert_array_equal(trained(x).numpy(), again(x).numpy())
    written = yaml.safe_load((out / "weights.yaml").read_text())
    assert written == record
    assert written["seed"] == 0 and written["steps"] == {"psnr": 3, "gan": 3, "total": 6}
    assert written["perceptual_weights_random"] is True and written["perceptual"]["sha256"] is None
    assert written["training"]["gan"]["relativistic"] is True and written["training"]["blur_sigma"] == 0.8
    assert written["validation"]["psnr_bicubic"] > 10 and np.isfinite(written["validation"]["psnr"])
    curve = pd.read_csv(out / "curve.tsv", sep="\t")
    assert tuple(curve.columns) == CURVE_COLUMNS
    assert curve["step"].tolist() == [0, 2, 3, 4, 6] and curve["stage"].tolist() == ["psnr"] * 3 + ["gan"] * 2
    assert curve.loc[1:2, "adversarial"].isna().all() and curve.loc[3:, "perceptual"].notna().all()
    assert curve["learning_rate"].tolist() == pytest.approx([1e-3, 1e-3, 5e-4, 1e-4, 1e-4])
    assert curve["val_psnr"].iloc[-1] == pytest.approx(written["validation"]["psnr"], abs=1e-3)


def test_curve_follows_a_warmup_and_cosine_schedule(tmp_path, image_dir):
    psnr = {"steps": 6, "learning_rate": 1e-3, "schedule": "cosine", "warmup_steps": 2}
    run(tmp_path, arch="rdn", images=image_dir, training={**GAN_RECIPE, "gan": None, "psnr": psnr})
    curve = pd.read_csv(tmp_path / "out" / "curve.tsv", sep="\t")
    # rows at steps 0, 2, 4, 6 show the rate of the step just taken (0-based 0, 1, 3, 5)
    assert curve["step"].tolist() == [0, 2, 4, 6]
    expected = [5e-4, 1e-3, 1e-3 * (1 + np.cos(np.pi / 4)) / 2, 1e-3 * (1 + np.cos(3 * np.pi / 4)) / 2]
    assert curve["learning_rate"].tolist() == pytest.approx(expected, rel=1e-5)


def test_the_papers_recipes_in_config_yaml():
    """ESRGAN: Adam 4e-4 halved every 100 epochs (1000 steps) in both stages; nESRGAN+: Adam 1e-4; demo noise-cancel
    with the artefact-cancelling GAN stage."""
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())["models"]
    recipes = {
        model: {k: v for k, v in config[model]["training"].items() if k != "images"}
        for model in config
        if config[model].get("training")
    }
    assert set(recipes) == {"esrgan", "nesrgan_plus"}  # the RDNs run ISR's published weights
    esrgan = recipes["esrgan"]
    for stage in ("psnr", "gan"):
        assert esrgan[stage] == {"learning_rate": 4.0e-4, "decay_steps": 100000, "decay_factor": 0.5}
        resolved = resolve_training_config(esrgan, scale=4)[stage]
        assert (resolved["schedule"], resolved["learning_rate"], resolved["decay_steps"]) == ("step", 4e-4, 100000)
    nesrgan = resolve_training_config(recipes["nesrgan_plus"], scale=4)
    assert nesrgan["psnr"]["learning_rate"] == nesrgan["gan"]["learning_rate"] == 1e-4
    assert nesrgan["gan"]["relativistic"] is True
    demo = yaml.safe_load((REPO / "config" / "demo.yaml").read_text())["models"]["noise_cancel"]["training"]
    assert demo["jpeg_quality"] == 50 and demo["gan"]["steps"] > 0 and demo["perceptual"] == {"weights": "random"}
