"""STSTNet: a shallow triple-stream CNN on onset-apex optical flow, cross-validated LOSO (docs/evaluation.md).

Liong, Gan, See, Khor and Huang (2019) classify a micro-expression from three
maps of its onset -> apex motion: the horizontal and vertical optical flow
``u``, ``v`` and the optical strain, resized to 28x28 and stacked as the three
channels of one image. The network (:func:`ststnet`) is the one of the
authors' code (github.com/christy1206/STSTNet: ``main.py``, the PyTorch
version released beside the MATLAB network ``STSTNet.mat``):

* three streams, each a 3x3 convolution over all three channels (the
  "three-dimensional" of the name: every filter spans u, v and strain) with
  3, 5 and 8 filters, then ReLU, batch normalisation, 3x3 max pooling of
  stride 3 and dropout 0.5; 28x28 -> 10x10 per stream;
* the streams concatenated (16 channels), 2x2 average pooling of stride 2
  (5x5x16), flattened (400) and a dense softmax layer of one unit per class.

:func:`prepare_flow` turns the maps of a flow file into the network's input
and :func:`ststnet_loso` runs the leave-one-subject-out evaluation over the
folds of :func:`mesr.evaluate.loso_folds` (those of the SVM evaluations) and writes the same
``predictions.tsv`` and ``metrics.json`` (:func:`mesr.evaluate.write_loso_outputs`).

Reproducibility. Every fold seeds Python, NumPy and TensorFlow with
``keras.utils.set_random_seed(seed)`` before building its model, and the
batches of every epoch are a pure function of ``(seed, epoch)``, so a fold's
model depends only on the seed and its training clips (not on the folds run
before it); ``tf.config.experimental.enable_op_determinism()`` (process-wide,
as :mod:`mesr.sr.training`) makes the kernels deterministic, so two runs on
the same machine and TensorFlow build give the same weights and predictions,
multi-threaded as they are (no single-threading is needed). Another machine,
thread count or device (CPU, GPU) may round differently in the last bits,
and so change a few predictions. TensorFlow and Keras are imported only when
a network is built or trained.
"""

import logging
import time
from pathlib import Path

import cv2
import numpy as np

from mesr._checks import check_integer, check_positive
from mesr.evaluate import DEFAULT_LABELS, loso_clips, loso_folds, write_loso_outputs
from mesr.io import check_clip_arrays, load_npz

__all__ = [
    "BATCH_SIZE",
    "CHANNELS",
    "EPOCHS",
    "FILTERS",
    "INPUT_SIZE",
    "LEARNING_RATE",
    "fit_ststnet",
    "prepare_flow",
    "ststnet",
    "ststnet_loso",
]

logger = logging.getLogger(__name__)

#: Side of the square input maps (the paper's 28x28).
INPUT_SIZE = 28
#: Filters of the three streams' convolutions.
FILTERS = (3, 5, 8)
#: The input's channels, in order: the arrays of the flow file.
CHANNELS = ("u", "v", "strain")
#: Training defaults of the authors' PyTorch code (``main.py``): epochs, Adam's learning rate, batch size.
EPOCHS = 800
LEARNING_RATE = 5e-5
BATCH_SIZE = 256

#: Arrays a flow file must hold; ``dataset`` (and the flow stage's ``apex``, ``apex_source``) are optional here.
_FLOW_ARRAYS = ("u", "v", "strain", "clip_id", "subject", "label", "params")
#: Batch normalisation as PyTorch's defaults, those of the authors' code (Keras' momentum 0.9 is PyTorch's 0.1).
_BN_MOMENTUM = 0.9
_BN_EPSILON = 1e-5
#: Adam's epsilon as PyTorch's default (Keras' is 1e-7); beta_1 0.9 and beta_2 0.999 are both libraries' defaults.
_ADAM_EPSILON = 1e-8
_DROPOUT = 0.5


def _pooled_size(input_size):
    """Side of the map after the 3x3/3 max pooling ('same': ceil) and the 2x2/2 average pooling (floor)."""
    return -(-input_size // 3) // 2


def ststnet(*, classes=3, input_size=INPUT_SIZE, filters=FILTERS):
    """Build STSTNet (Liong et al., 2019) as the authors' code does.

    Parameters
    ----------
    classes : int, optional
        Number of classes (units of the softmax layer), >= 2.
    input_size : int, optional
        Side of the square input maps, >= 4; the paper's 28.
    filters : sequence of int, optional
        Filters of each stream's convolution (one stream per entry); the
        paper's ``(3, 5, 8)``.

    Returns
    -------
    keras.Model
        Input ``flow`` of shape (batch, input_size, input_size, 3), the
        channels u, v and strain (:func:`prepare_flow`); output ``softmax``
        of shape (batch, classes), class probabilities.

    Raises
    ------
    ValueError
        If an argument is not a positive integer (a sequence of them for
        ``filters``) or is too small.

    Notes
    -----
    Stream ``k`` (1-based): ``stream{k}_conv`` (``filters[k-1]`` filters,
    3x3, stride 1, 'same' padding, bias) -> ``stream{k}_relu`` ->
    ``stream{k}_batchnorm`` (momentum 0.9, epsilon 1e-5: PyTorch's defaults)
    -> ``stream{k}_maxpool`` (3x3, stride 3, 'same': 28 -> 10, the padding of
    one pixel on each side of the authors' ``MaxPool2d(3, 3, padding=1)``)
    -> ``stream{k}_dropout`` (0.5). Then ``streams_concat`` -> ``avgpool``
    (2x2, stride 2, no padding: 10 -> 5) -> ``flatten`` -> ``softmax``
    (dense). Kernels Glorot-uniform, biases zero (Keras' defaults).

    The authors' convolutions pad by 2 pixels (``Conv2d(3, f, 3,
    padding=2)``: 30x30 maps whose outer ring sees only the image's border
    row or column, and whose last row and column the pooling then skips);
    'same' padding keeps
    the 28x28 grid aligned with the input, gives the same 10x10 pooled maps
    and the same parameters.

    Parameters for 3 classes, 28x28, (3, 5, 8): convolutions 3 * (27 + 1) +
    5 * (27 + 1) + 8 * (27 + 1) = 448 (each 3x3 filter spans the 3
    channels); batch normalisation 2 * 16 = 32 trainable (scale, offset) and
    2 * 16 = 32 non-trainable (moving mean and variance); dense 400 * 3 + 3
    = 1203. Trainable 448 + 32 + 1203 = 1683, the learnables of the
    authors' network; ``count_params()`` also counts the 32 moving
    statistics: 1715.

    References
    ----------
    Liong, S.-T., Gan, Y. S., See, J., Khor, H.-Q. & Huang, Y.-C. (2019).
    Shallow Triple Stream Three-dimensional CNN (STSTNet) for
    Micro-expression Recognition. 14th IEEE International Conference on
    Automatic Face & Gesture Recognition (FG 2019), 1-5.
    doi:10.1109/FG.2019.8756567, arXiv:1902.03634

    Examples
    --------
    >>> model = ststnet()
    >>> sum(int(np.prod(w.shape)) for w in model.trainable_weights), model.count_params()
    (1683, 1715)
    """
    classes = check_integer("classes", classes)
    if classes < 2:
        raise ValueError(f"classes must be at least 2, got {classes}")
    input_size = check_integer("input_size", input_size)
    if _pooled_size(input_size) < 1:
        raise ValueError(f"input_size must be at least 4 (a 1x1 map after both poolings), got {input_size}")
    if isinstance(filters, (str, bytes)) or not hasattr(filters, "__iter__"):
        raise ValueError(f"filters must be a non-empty sequence of positive integers, got {filters!r}")
    filters = [check_integer(f"filters[{k}]", f) for k, f in enumerate(filters)]
    if not filters:
        raise ValueError("filters must be a non-empty sequence of positive integers, got []")

    import keras

    flow = keras.Input(shape=(input_size, input_size, len(CHANNELS)), name="flow")
    streams = []
    for k, n_filters in enumerate(filters, start=1):
        x = keras.layers.Conv2D(n_filters, 3, padding="same", name=f"stream{k}_conv")(flow)
        x = keras.layers.Activation("relu", name=f"stream{k}_relu")(x)
        x = keras.layers.BatchNormalization(momentum=_BN_MOMENTUM, epsilon=_BN_EPSILON, name=f"stream{k}_batchnorm")(x)
        x = keras.layers.MaxPooling2D(pool_size=3, strides=3, padding="same", name=f"stream{k}_maxpool")(x)
        streams.append(keras.layers.Dropout(_DROPOUT, name=f"stream{k}_dropout")(x))
    x = streams[0] if len(streams) == 1 else keras.layers.Concatenate(axis=-1, name="streams_concat")(streams)
    x = keras.layers.AveragePooling2D(pool_size=2, strides=2, padding="valid", name="avgpool")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    probabilities = keras.layers.Dense(classes, activation="softmax", name="softmax")(x)
    model = keras.Model(inputs=flow, outputs=probabilities, name="ststnet")
    logger.debug(
        "built STSTNet %s, %d classes, %dx%d: %d weights",
        filters,
        classes,
        input_size,
        input_size,
        model.count_params(),
    )
    return model


def _trainable_parameters(model):
    return int(sum(int(np.prod(weight.shape)) for weight in model.trainable_weights))


def prepare_flow(u, v, strain, *, size=INPUT_SIZE):
    """The network's input from a set's flow maps: resized, u and v in pixels of the resized map.

    Parameters
    ----------
    u, v : (N, H, W) array_like of float
        Horizontal and vertical onset -> apex displacement of every clip, in
        pixels of the set's resolution.
    strain : (N, H, W) array_like of float
        Optical strain magnitude of every clip (dimensionless).
    size : int, optional
        Side of the square output maps.

    Returns
    -------
    (N, size, size, 3) ndarray of float32
        Channels u, v, strain (:data:`CHANNELS`).

    Raises
    ------
    ValueError
        If the maps have different shapes, are not 3-D, not finite, or
        ``size`` is not a positive integer.

    Notes
    -----
    Every map is resized with OpenCV: ``INTER_AREA`` (the mean over each
    output pixel's footprint, the anti-aliased reduction) when neither side
    grows, ``INTER_LINEAR`` otherwise. A displacement of d pixels at width W
    is d * size / W pixels of the resized map, so u is multiplied by
    ``size / W`` and v by ``size / H``: the flow of a 128x128 set and of a
    32x32 set of the same motion then have the same values. Strain, a ratio
    of displacements to distances, does not change with the scale. No
    per-clip normalisation: the authors' inputs were per-image normalised
    8-bit pictures, which discards the magnitude of the motion, the very
    thing that the resolution of a set changes; :func:`ststnet_loso`
    instead standardises each channel with statistics of the training
    subjects.

    Examples
    --------
    >>> u = np.full((1, 56, 56), 2.0)
    >>> x = prepare_flow(u, np.zeros_like(u), np.zeros_like(u))
    >>> x.shape, float(x[0, 0, 0, 0])
    ((1, 28, 28, 3), 1.0)
    """
    size = check_integer("size", size)
    maps = {}
    for name, value in zip(CHANNELS, (u, v, strain)):
        array = np.asarray(value)
        if array.ndim != 3 or array.dtype.kind not in "iuf":
            raise ValueError(f"{name} must be a 3-D (N, H, W) numeric array, got {array.dtype} {array.shape}")
        if not np.all(np.isfinite(array)):
            raise ValueError(f"{name} holds NaN or infinite values")
        maps[name] = array.astype(np.float32, copy=False)
    shapes = {name: array.shape for name, array in maps.items()}
    if len(set(shapes.values())) != 1:
        raise ValueError(f"u, v and strain must have the same shape, got {shapes}")
    n, height, width = maps["u"].shape
    if height < 1 or width < 1:
        raise ValueError(f"the maps must have at least one pixel, got {height}x{width}")
    interpolation = cv2.INTER_AREA if height >= size and width >= size else cv2.INTER_LINEAR
    scale = np.array([size / width, size / height, 1.0], dtype=np.float32)
    stacked = np.stack([maps[name] for name in CHANNELS], axis=-1)  # (N, H, W, 3)
    out = np.empty((n, size, size, len(CHANNELS)), dtype=np.float32)
    for i in range(n):
        out[i] = cv2.resize(stacked[i], (size, size), interpolation=interpolation)
    out *= scale
    return out


def _standardise(train, test):
    """Both sets scaled by each channel's mean and standard deviation over the training clips and pixels."""
    mean = train.mean(axis=(0, 1, 2), dtype=np.float64)
    std = train.std(axis=(0, 1, 2), dtype=np.float64)
    std[std == 0] = 1.0  # a constant channel: centred only

    def scale(x):
        return ((x - mean) / std).astype(np.float32)

    return scale(train), scale(test)


def fit_ststnet(
    inputs,
    targets,
    *,
    classes,
    epochs=EPOCHS,
    learning_rate=LEARNING_RATE,
    batch_size=BATCH_SIZE,
    seed=0,
    filters=FILTERS,
):
    """Train a fresh, seeded STSTNet with Adam and categorical cross-entropy.

    Parameters
    ----------
    inputs : (N, S, S, 3) array_like of float
        Training inputs (:func:`prepare_flow`, standardised).
    targets : (N,) array_like of int
        Class index of every input, in ``0 .. classes - 1``.
    classes : int
        Number of classes.
    epochs : int, optional
        Passes over the training set.
    learning_rate : float, optional
        Adam's learning rate (beta_1 0.9, beta_2 0.999, epsilon 1e-8).
    batch_size : int, optional
        Inputs per step; the last batch of an epoch may be smaller.
    seed : int, optional
        Seed of the initial weights, the dropout masks and the batches.
    filters : sequence of int, optional
        As in :func:`ststnet`.

    Returns
    -------
    keras.Model
        The trained network.

    Raises
    ------
    ValueError
        On malformed arguments.

    Notes
    -----
    Enables TensorFlow's op determinism (process-wide), then seeds with
    ``keras.utils.set_random_seed(seed)`` before building the network. Each
    epoch visits the inputs in the order of a permutation drawn from
    ``numpy.random.default_rng((seed, epoch))`` (the authors' loader does not
    shuffle, which with their batch of 256 and a SMIC training fold of at
    most 164 clips is one full batch per epoch anyway).
    """
    inputs = np.asarray(inputs, dtype=np.float32)
    targets = np.asarray(targets)
    if inputs.ndim != 4 or inputs.shape[1] != inputs.shape[2] or inputs.shape[3] != len(CHANNELS):
        raise ValueError(f"inputs must have shape (N, S, S, {len(CHANNELS)}), got {inputs.shape}")
    if targets.shape != (inputs.shape[0],) or targets.dtype.kind not in "iu":
        raise ValueError(f"targets must be ({inputs.shape[0]},) integers, got {targets.dtype} {targets.shape}")
    if inputs.shape[0] == 0:
        raise ValueError("inputs hold no sample")
    classes = check_integer("classes", classes)
    if targets.min() < 0 or targets.max() >= classes:
        raise ValueError(f"targets must lie in 0..{classes - 1}, got {targets.min()}..{targets.max()}")
    epochs = check_integer("epochs", epochs)
    check_positive("learning_rate", learning_rate)
    batch_size = check_integer("batch_size", batch_size)
    seed = check_integer("seed", seed, allow_zero=True)

    import keras
    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()
    keras.utils.set_random_seed(seed)
    model = ststnet(classes=classes, input_size=inputs.shape[1], filters=filters)
    optimizer = keras.optimizers.Adam(learning_rate=learning_rate, epsilon=_ADAM_EPSILON)
    loss = keras.losses.CategoricalCrossentropy()
    x = tf.constant(inputs)
    y = tf.constant(np.eye(classes, dtype=np.float32)[targets])
    variables = model.trainable_variables

    @tf.function(reduce_retracing=True)
    def step(batch):
        with tf.GradientTape() as tape:
            value = loss(tf.gather(y, batch), model(tf.gather(x, batch), training=True))
        optimizer.apply_gradients(zip(tape.gradient(value, variables), variables))
        return value

    n = inputs.shape[0]
    for epoch in range(epochs):
        order = np.random.default_rng((seed, epoch)).permutation(n)
        for start in range(0, n, batch_size):
            step(tf.constant(order[start : start + batch_size], dtype=tf.int32))
    return model


def _predict(model, inputs, batch_size):
    """Class probabilities, batch by batch, dropout off."""
    parts = [
        model(inputs[start : start + batch_size], training=False).numpy()
        for start in range(0, inputs.shape[0], batch_size)
    ]
    return np.concatenate(parts, axis=0)


def _read_flow(path):
    """Read and check a flow ``.npz``: ``(u, v, strain, clip_ids, subjects, labels, params, datasets)``."""
    arrays, datasets = load_npz(path, _FLOW_ARRAYS, what="flow")
    shape = arrays["u"].shape
    for name in CHANNELS:
        array = arrays[name]
        if array.ndim != 3 or array.dtype.kind != "f":
            raise ValueError(f"{path}: '{name}' must be a 3-D (N, H, W) float array, got {array.dtype} {array.shape}")
        if array.shape != shape:
            raise ValueError(f"{path}: '{name}' must have the shape {shape} of 'u', got {array.shape}")
        if not np.all(np.isfinite(array)):
            raise ValueError(f"{path}: '{name}' holds NaN or infinite values")
    if 0 in shape:
        raise ValueError(f"{path}: the flow maps are empty, shape {shape}")
    clip_ids, subjects, labels, params, datasets = check_clip_arrays(path, arrays, datasets, shape[0], like="u")
    return arrays["u"], arrays["v"], arrays["strain"], clip_ids, subjects, labels, params, datasets


def _device():
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    return f"GPU ({', '.join(gpu.name for gpu in gpus)})" if gpus else "CPU"


def ststnet_loso(
    flow_npz,
    output_dir,
    *,
    epochs=EPOCHS,
    learning_rate=LEARNING_RATE,
    batch_size=BATCH_SIZE,
    seed=0,
    labels=DEFAULT_LABELS,
    bootstrap=2000,
    bootstrap_seed=0,
):
    """Evaluate STSTNet leave-one-subject-out on one flow file and write its predictions and metrics.

    Parameters
    ----------
    flow_npz : path-like
        ``.npz`` of the flow stage with arrays ``u``, ``v``, ``strain`` (N, H,
        W) float (onset -> apex flow in pixels of the set's resolution, and
        optical strain), ``clip_id``, ``subject``, ``label`` (N,) and
        ``params`` (a JSON string); optionally ``dataset`` (N,) str. Other
        arrays (``apex``, ``apex_source``) are ignored.
    output_dir : path-like
        Folder that receives ``predictions.tsv`` and ``metrics.json``
        (created if needed).
    epochs, learning_rate, batch_size : optional
        Training settings (:func:`fit_ststnet`); the defaults are the
        authors' (800 epochs, 5e-5, 256).
    seed : int, optional
        Seed of every fold's network (:func:`fit_ststnet`).
    labels : sequence of str, optional
        All classes in confusion-matrix order (softmax unit k is
        ``labels[k]``); default the SMIC-HS classes.
    bootstrap : int, optional
        Subject-level bootstrap resamples of the 95% confidence intervals
        (:func:`mesr.evaluate.bootstrap_ci`); 0 for none.
    bootstrap_seed : int, optional
        Seed of the bootstrap.

    Returns
    -------
    dict
        The content written to ``metrics.json``, with the keys of
        :func:`mesr.evaluate.evaluate_features` (``per_dataset`` with several
        datasets, ``ci95`` with ``bootstrap`` > 0); ``classifier`` describes
        the network, its input, the training settings, the trainable
        parameters, the device and the test subject of every fold
        (``fold_subjects``); ``features_params`` holds the flow file's
        ``params``.

    Raises
    ------
    ValueError
        Naming the file: a missing or malformed array, duplicate clip ids,
        labels outside ``labels``, fewer than two subjects, a subject found
        in two datasets; naming the fold: training subjects of a single
        class. Bad settings are refused before any training.

    Notes
    -----
    Clips are sorted by subject then clip id (the manifest order) and fold k
    tests the k-th subject in natural order, as in
    :func:`mesr.evaluate.evaluate_features`, so the folds and the rows of
    ``predictions.tsv`` are those of the SVM evaluations of the same clips.
    In every fold the inputs (:func:`prepare_flow`) are standardised per
    channel with the mean and standard deviation over the training clips
    (the counterpart of the SVM's scaler fit on the training fold), a fresh
    network is trained on the training subjects only (:func:`fit_ststnet`,
    seeded with ``seed`` in every fold) and predicts the test subject's
    clips (the class of highest probability, the first on a tie).
    TensorFlow places the work on a GPU when it sees one.
    """
    path = Path(flow_npz)
    epochs = check_integer("epochs", epochs)
    check_positive("learning_rate", learning_rate)
    batch_size = check_integer("batch_size", batch_size)
    seed = check_integer("seed", seed, allow_zero=True)
    bootstrap = check_integer("bootstrap", bootstrap, allow_zero=True)
    bootstrap_seed = check_integer("bootstrap_seed", bootstrap_seed, allow_zero=True)

    u, v, strain, clip_ids, subjects, true, params, datasets = _read_flow(path)
    labels, order = loso_clips(path, clip_ids, subjects, true, labels)
    n_subjects = np.unique(subjects).size
    u, v, strain, clip_ids, subjects, true = (a[order] for a in (u, v, strain, clip_ids, subjects, true))
    if datasets is not None:
        datasets = datasets[order]
    inputs = prepare_flow(u, v, strain, size=INPUT_SIZE)
    targets = np.array([labels.index(label) for label in true.tolist()], dtype=np.int64)
    logger.info(
        "%s: %d clips, %d subjects, %d dataset(s), flow %dx%d -> %dx%d; STSTNet on the %s, "
        "%d epochs, learning rate %g, batch %d, seed %d",
        path,
        len(clip_ids),
        n_subjects,
        1 if datasets is None else np.unique(datasets).size,
        u.shape[1],
        u.shape[2],
        INPUT_SIZE,
        INPUT_SIZE,
        _device(),
        epochs,
        learning_rate,
        batch_size,
        seed,
    )

    predicted = np.empty(len(true), dtype=object)
    fold = np.full(len(true), -1, dtype=np.int64)
    fold_subjects = []
    for k, test_subject, train, test in loso_folds(subjects, true, source=path):
        started = time.perf_counter()
        x_train, x_test = _standardise(inputs[train], inputs[test])
        model = fit_ststnet(
            x_train,
            targets[train],
            classes=len(labels),
            epochs=epochs,
            learning_rate=learning_rate,
            batch_size=batch_size,
            seed=seed,
        )
        probabilities = _predict(model, x_test, batch_size)
        predicted[test] = [labels[i] for i in np.argmax(probabilities, axis=1)]
        fold[test] = k
        fold_subjects.append(test_subject)
        logger.info(
            "fold %d/%d: test subject %s, %d train / %d test samples, accuracy %.4f, %.1f s",
            k + 1,
            n_subjects,
            test_subject,
            train.size,
            test.size,
            float(np.mean(predicted[test] == true[test])),
            time.perf_counter() - started,
        )
    predicted = predicted.astype(str)

    import keras
    import tensorflow as tf

    classifier = {
        "model": "STSTNet",
        "reference": (
            "Liong et al. (2019), doi:10.1109/FG.2019.8756567; the authors' code github.com/christy1206/STSTNet"
        ),
        "cv": "leave-one-subject-out, the folds of the SVM evaluations (natural subject order)",
        "architecture": (
            f"3 streams on the {INPUT_SIZE}x{INPUT_SIZE}x3 input (u, v, strain): conv 3x3 'same' "
            f"({', '.join(map(str, FILTERS))} filters), ReLU, batch norm, max pool 3x3/3, dropout {_DROPOUT}; "
            "concatenated, average pool 2x2/2, dense softmax"
        ),
        "input": (
            f"u, v, strain resized to {INPUT_SIZE}x{INPUT_SIZE} (OpenCV INTER_AREA when reducing, INTER_LINEAR "
            "when enlarging), u and v multiplied by the resize factor (pixels of the resized map)"
        ),
        "scaling": "per-channel mean and standard deviation of the training fold",
        "parameters": _trainable_parameters(model),
        "optimizer": "Adam (beta_1 0.9, beta_2 0.999, epsilon 1e-8)",
        "loss": "categorical cross-entropy",
        "epochs": epochs,
        "learning_rate": learning_rate,
        "batch_size": batch_size,
        "seed": seed,
        "deterministic": True,
        "device": _device(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "fold_subjects": fold_subjects,
    }
    summary = write_loso_outputs(
        output_dir,
        clip_ids=clip_ids,
        subjects=subjects,
        true=true,
        predicted=predicted,
        fold=fold,
        labels=labels,
        datasets=datasets,
        classifier=classifier,
        features_params=params,
        bootstrap=bootstrap,
        seed=bootstrap_seed,
    )
    logger.info("%s: accuracy %.4f, UF1 %.4f, UAR %.4f", path, summary["accuracy"], summary["uf1"], summary["uar"])
    return summary
