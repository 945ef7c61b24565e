"""STSTNet: architecture and parameter count, input preparation, determinism, LOSO outputs, input errors."""

import json
import re

import numpy as np
import pandas as pd
import pytest

from mesr.evaluate import evaluate_features, read_metrics
from mesr.ststnet import CHANNELS, fit_ststnet, prepare_flow, ststnet, ststnet_loso

LABELS = ("negative", "positive", "surprise")
#: Training settings of the tiny sets: a few steps per fold, enough for clearly different flows.
FAST = dict(epochs=30, learning_rate=1e-2, batch_size=4)


def trainable(model):
    return sum(int(np.prod(weight.shape)) for weight in model.trainable_weights)


def synthetic_flow(*, clips_per_class=2, subjects=("s1", "s2", "s10"), size=32, seed=0):
    """Flow maps of three clearly different motions, one per class, with noise.

    negative: uniform motion to the right (u = +1.5 px); positive: uniform
    motion up (v = -1.5 px); surprise: radial expansion from the centre. The
    strain is the magnitude of the flow's spatial gradient.
    """
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    centre = (size - 1) / 2
    motions = {
        "negative": (np.full_like(xx, 1.5), np.zeros_like(xx)),
        "positive": (np.zeros_like(xx), np.full_like(xx, -1.5)),
        "surprise": ((xx - centre) / centre * 1.5, (yy - centre) / centre * 1.5),
    }
    u, v, strain, clip_id, subject, label = [], [], [], [], [], []
    for s in subjects:
        for name, (mu, mv) in motions.items():
            for c in range(clips_per_class):
                cu = mu + rng.normal(0, 0.3, mu.shape).astype(np.float32)
                cv = mv + rng.normal(0, 0.3, mv.shape).astype(np.float32)
                uy, ux = np.gradient(cu)
                vy, vx = np.gradient(cv)
                u.append(cu)
                v.append(cv)
                strain.append(np.sqrt(ux**2 + vy**2 + 0.5 * (uy + vx) ** 2))
                clip_id.append(f"{s}_{name[:2]}_{c + 1:02d}")
                subject.append(s)
                label.append(name)
    n = len(u)
    return {
        "u": np.stack(u).astype(np.float32),
        "v": np.stack(v).astype(np.float32),
        "strain": np.stack(strain).astype(np.float32),
        "clip_id": np.array(clip_id),
        "subject": np.array(subject),
        "label": np.array(label),
        "apex": np.full(n, 5),
        "apex_source": np.array(["annotated"] * n),
        "params": json.dumps({"method": "synthetic", "size": size}),
    }


def write_flow(path, arrays):
    np.savez(path, **arrays)
    return path


@pytest.fixture(scope="module")
def flow_set(tmp_path_factory):
    """A tiny flow file of 3 subjects x 6 clips, subjects s1 and s2 in dataset 'a', s10 in 'b', shuffled rows."""
    arrays = synthetic_flow()
    arrays["dataset"] = np.where(arrays["subject"] == "s10", "b", "a")
    order = np.random.default_rng(1).permutation(arrays["u"].shape[0])
    arrays = {key: (value[order] if isinstance(value, np.ndarray) else value) for key, value in arrays.items()}
    return write_flow(tmp_path_factory.mktemp("flow") / "flow.npz", arrays)


@pytest.fixture(scope="module")
def loso_run(flow_set, tmp_path_factory):
    output = tmp_path_factory.mktemp("ststnet")
    summary = ststnet_loso(flow_set, output, labels=LABELS, bootstrap=200, **FAST)
    return output, summary


def test_parameters_of_the_paper_network():
    """1683 learnables: convolutions over the 3 channels 448, batch norm 32, dense 400 x 3 + 3."""
    model = ststnet()
    convolutions = sum((3 * 3 * 3 + 1) * f for f in (3, 5, 8))
    assert convolutions == 448
    assert trainable(model) == convolutions + 2 * 16 + (5 * 5 * 16 * 3 + 3) == 1683
    assert model.count_params() == 1683 + 2 * 16  # with the moving mean and variance
    assert [model.get_layer(f"stream{k}_conv").kernel.shape for k in (1, 2, 3)] == [
        (3, 3, 3, 3),
        (3, 3, 3, 5),
        (3, 3, 3, 8),
    ]


def test_shapes_through_the_network():
    model = ststnet()
    assert tuple(model.input.shape) == (None, 28, 28, 3)
    for k, filters in zip((1, 2, 3), (3, 5, 8)):
        assert tuple(model.get_layer(f"stream{k}_maxpool").output.shape) == (None, 10, 10, filters)
    assert tuple(model.get_layer("avgpool").output.shape) == (None, 5, 5, 16)
    assert tuple(model.get_layer("flatten").output.shape) == (None, 400)
    probabilities = model(np.zeros((2, 28, 28, 3), np.float32), training=False).numpy()
    assert probabilities.shape == (2, 3)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-6)
    other = ststnet(classes=5, input_size=32, filters=(4, 4))
    assert tuple(other.output.shape) == (None, 5)
    assert tuple(other.get_layer("flatten").output.shape) == (None, 5 * 5 * 8)  # 32 -> 11 -> 5


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"classes": 1}, "classes must be at least 2"),
        ({"input_size": 3}, "input_size must be at least 4"),
        ({"filters": ()}, "filters must be a non-empty"),
        ({"filters": (3, 0)}, r"filters\[1\] must be a positive integer"),
        ({"classes": 2.0}, "classes must be a positive integer"),
    ],
)
def test_bad_architecture(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ststnet(**kwargs)


def test_prepare_flow_resizes_and_keeps_pixels_of_the_resized_map():
    rng = np.random.default_rng(0)
    u = np.full((2, 128, 64), 4.0, np.float32)  # 4 px at width 64: 28 / 64 * 4 = 1.75 px at 28
    v = np.full((2, 128, 64), -8.0, np.float32)  # -8 px at height 128: -1.75 px
    strain = rng.random((2, 128, 64)).astype(np.float32)
    x = prepare_flow(u, v, strain)
    assert x.shape == (2, 28, 28, 3) and x.dtype == np.float32
    np.testing.assert_allclose(x[..., 0], 1.75, rtol=1e-6)
    np.testing.assert_allclose(x[..., 1], -1.75, rtol=1e-6)
    assert CHANNELS == ("u", "v", "strain")
    # strain: a plain area average, not rescaled
    np.testing.assert_allclose(x[..., 2].mean(), strain.mean(), rtol=1e-4)
    # a set smaller than the input is enlarged (bilinear) and its flow scaled up
    small = prepare_flow(np.ones((1, 16, 16)), np.zeros((1, 16, 16)), np.zeros((1, 16, 16)))
    np.testing.assert_allclose(small[..., 0], 28 / 16, rtol=1e-6)


def test_prepare_flow_refuses_bad_maps():
    maps = np.zeros((2, 8, 8), np.float32)
    with pytest.raises(ValueError, match="same shape"):
        prepare_flow(maps, maps, np.zeros((2, 8, 9), np.float32))
    with pytest.raises(ValueError, match="v holds NaN"):
        prepare_flow(maps, np.full_like(maps, np.nan), maps)
    with pytest.raises(ValueError, match=r"u must be a 3-D"):
        prepare_flow(maps[0], maps[0], maps[0])


def test_one_fold_is_deterministic():
    """Two trainings of the same fold with the same seed: the same weights and predictions; another seed differs."""
    arrays = synthetic_flow(clips_per_class=2, subjects=("s1", "s2"))
    x = prepare_flow(arrays["u"], arrays["v"], arrays["strain"])
    y = np.array([LABELS.index(label) for label in arrays["label"]])
    runs = [fit_ststnet(x, y, classes=3, seed=seed, **FAST) for seed in (3, 3, 4)]
    first, second, other = ([w for w in model.get_weights()] for model in runs)
    assert all(np.array_equal(a, b) for a, b in zip(first, second))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other))
    predictions = [model(x, training=False).numpy() for model in runs[:2]]
    np.testing.assert_array_equal(predictions[0], predictions[1])


def test_loso_learns_the_synthetic_motions(loso_run):
    output, summary = loso_run
    assert summary["accuracy"] >= 0.8  # chance is 1/3
    assert summary["n"] == 18 and summary["n_subjects"] == 3


def test_loso_outputs_have_the_format_of_evaluate_features(loso_run, flow_set, tmp_path):
    """Same columns, rows, folds and metrics keys as the SVM evaluation of the same clips."""
    output, summary = loso_run
    content = read_metrics(output / "metrics.json")
    assert content == json.loads(json.dumps(summary))
    ours = pd.read_csv(output / "predictions.tsv", sep="\t", dtype=str)

    with np.load(flow_set) as data:
        arrays = {name: data[name] for name in data.files}
    features = tmp_path / "features.npz"
    np.savez(
        features,
        features=arrays["u"].reshape(len(arrays["u"]), -1)[:, :16],
        **{key: arrays[key] for key in ("clip_id", "subject", "label", "dataset", "params")},
    )
    svm = evaluate_features(features, tmp_path / "svm", labels=LABELS, bootstrap=200)
    theirs = pd.read_csv(tmp_path / "svm" / "predictions.tsv", sep="\t", dtype=str)
    assert list(ours.columns) == list(theirs.columns) == ["clip_id", "dataset", "subject", "true", "predicted", "fold"]
    for column in ("clip_id", "dataset", "subject", "true", "fold"):
        assert ours[column].tolist() == theirs[column].tolist()
    assert ours["fold"].tolist() == ["0"] * 6 + ["1"] * 6 + ["2"] * 6  # s1, s2, s10: natural order
    assert set(content) == set(svm)
    assert list(content["per_dataset"]) == ["a", "b"]
    assert content["per_subject"]["s10"]["n"] == 6
    assert set(content["ci95"]) == {"accuracy", "uf1", "uar"}
    assert content["features_params"] == {"method": "synthetic", "size": 32}
    classifier = content["classifier"]
    assert classifier["model"] == "STSTNet"
    assert classifier["parameters"] == 1683
    assert (classifier["epochs"], classifier["learning_rate"], classifier["batch_size"], classifier["seed"]) == (
        30,
        1e-2,
        4,
        0,
    )
    assert classifier["fold_subjects"] == ["s1", "s2", "s10"]


def test_loso_without_datasets_and_bootstrap(tmp_path):
    arrays = synthetic_flow(clips_per_class=1, subjects=("s1", "s2"), size=28)
    path = write_flow(tmp_path / "flow.npz", arrays)
    summary = ststnet_loso(path, tmp_path / "out", labels=LABELS, bootstrap=0, epochs=2, batch_size=8)
    table = pd.read_csv(tmp_path / "out" / "predictions.tsv", sep="\t")
    assert list(table.columns) == ["clip_id", "subject", "true", "predicted", "fold"]
    assert "per_dataset" not in summary and "ci95" not in summary
    assert summary["bootstrap"] == {"resamples": 0, "seed": 0, "unit": "subject"}


def _broken(arrays, **changes):
    arrays = dict(arrays)
    for key, value in changes.items():
        if value is None:
            del arrays[key]
        else:
            arrays[key] = value
    return arrays


@pytest.mark.parametrize(
    "change, message",
    [
        ({"strain": None}, r"missing array\(s\) \['strain'\]"),
        ({"v": np.zeros((12, 32, 31), np.float32)}, "'v' must have the shape"),
        ({"u": np.zeros((12, 32, 32), np.int64)}, "'u' must be a 3-D"),
        ({"strain": np.full((12, 32, 32), np.nan, np.float32)}, "'strain' holds NaN"),
        ({"subject": np.array(["s1"] * 11)}, r"'subject' must have shape \(12,\)"),
        ({"clip_id": np.array(["c"] * 12)}, "duplicate clip ids"),
        ({"params": "{not json"}, "'params' is not a JSON string"),
        ({"label": np.array(["anger"] * 12)}, "'label' holds classes"),
        ({"subject": np.array(["s1"] * 12)}, "LOSO needs at least two subjects"),
        ({"dataset": np.array(["a", "b"] * 6)}, r"subject\(s\) in more than one dataset"),
    ],
)
def test_malformed_flow_files_are_refused_naming_the_file(tmp_path, change, message):
    arrays = synthetic_flow(clips_per_class=2, subjects=("s1", "s2"))
    path = write_flow(tmp_path / "broken.npz", _broken(arrays, **change))
    with pytest.raises(ValueError, match=message) as error:
        ststnet_loso(path, tmp_path / "out", labels=LABELS, epochs=1)
    assert str(path) in str(error.value)
    assert not (tmp_path / "out").exists()


def test_unreadable_file_and_bad_settings(tmp_path):
    path = tmp_path / "flow.npz"
    path.write_text("not an archive")
    with pytest.raises(ValueError, match=re.escape(str(path)) + ": cannot read flow file"):
        ststnet_loso(path, tmp_path / "out")
    with pytest.raises(FileNotFoundError):
        ststnet_loso(tmp_path / "absent.npz", tmp_path / "out")
    good = write_flow(tmp_path / "good.npz", synthetic_flow(clips_per_class=1, subjects=("s1", "s2")))
    for setting, value in (("epochs", 0), ("learning_rate", -1.0), ("batch_size", 1.5), ("bootstrap", -1)):
        with pytest.raises(ValueError, match=setting):
            ststnet_loso(good, tmp_path / "out", **{setting: value})


def test_single_class_training_fold_is_refused(tmp_path):
    arrays = synthetic_flow(clips_per_class=1, subjects=("s1", "s2"))
    arrays["label"] = np.where(arrays["subject"] == "s1", "negative", arrays["label"])
    path = write_flow(tmp_path / "flow.npz", arrays)
    with pytest.raises(ValueError, match=r"fold 1 \(test subject s2\): the training subjects hold a single class"):
        ststnet_loso(path, tmp_path / "out", labels=LABELS, epochs=1)
