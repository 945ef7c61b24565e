"""Bi-Weighted Oriented Optical Flow (Bi-WOOF) of an onset-to-apex flow (docs/descriptors.md).

Bi-WOOF (Liong, See, Wong, Phan 2018) describes a clip by the one flow
from its onset to its apex (:mod:`mesr.flow`): per spatial block, a
histogram of flow orientations in which every pixel votes with its flow
magnitude (the local weight), normalised and then scaled by the block's mean
optical strain (the global weight).

Conventions:

* Flow is (u, v) with u along x (columns, to the right) and v along y (rows,
  downwards), as :func:`mesr.flow.optical_flow` gives it. A pixel's
  orientation is ``theta = arctan2(v, u)`` in image axes: 0 is motion to the
  right, pi/2 downwards, -pi/2 upwards, +-pi to the left.
* ``bins`` equal bins cover [-pi, pi): bin k holds
  ``-pi + 2 pi k / bins <= theta < -pi + 2 pi (k + 1) / bins``, computed as
  ``floor((theta + pi) * bins / (2 pi)) mod bins`` (``theta = pi``, which
  ``arctan2`` returns for leftward motion, falls in bin 0 with ``-pi``). With
  8 bins, rightward motion (theta = 0) falls in bin 4, [0, pi/4).
* Blocks as the texture descriptors of :mod:`mesr.descriptors`: with (H, W)
  the frame size, pixel (y, x) belongs to block row ``floor(y * rows / H)``
  and block col ``floor(x * cols / W)``; every pixel belongs to a block.
* Each block's magnitude-weighted histogram is normalised to sum 1 (a block
  without motion gives zeros), then multiplied by the block's mean strain.
  The vector is ordered ``(block_row * cols + block_col) * bins + bin``.
"""

import json
import logging
import numbers
from pathlib import Path

import numpy as np

from mesr._checks import check_array

__all__ = ["bi_woof", "extract_biwoof_set"]

logger = logging.getLogger(__name__)

#: Keyword arguments of :func:`bi_woof` and their defaults.
_DEFAULTS = {"blocks": (5, 5), "bins": 8}


def _check_blocks(blocks, shape):
    if (
        isinstance(blocks, (str, bytes))
        or not np.iterable(blocks)
        or len(blocks) != 2
        or any(isinstance(b, (bool, np.bool_)) or not isinstance(b, numbers.Integral) or b < 1 for b in blocks)
    ):
        raise ValueError(f"blocks must be (rows, cols), two integers >= 1, got {blocks!r}")
    blocks = (int(blocks[0]), int(blocks[1]))
    if blocks[0] > shape[0] or blocks[1] > shape[1]:
        raise ValueError(
            f"blocks {blocks} (rows, cols) larger than the frame ({shape[0]} rows, {shape[1]} cols) of the flow"
        )
    return blocks


def _check_bins(bins):
    if isinstance(bins, (bool, np.bool_)) or not isinstance(bins, numbers.Integral) or bins < 1:
        raise ValueError(f"bins must be an integer >= 1, got {bins!r}")
    return int(bins)


def bi_woof(u, v, strain, *, blocks=(5, 5), bins=8):
    """Bi-Weighted Oriented Optical Flow histogram of one flow field.

    Parameters
    ----------
    u, v : (H, W) array_like of float
        Flow along x (right) and y (down), onset to apex.
    strain : (H, W) array_like of float
        Optical strain magnitude of the flow (:func:`mesr.flow.optical_strain`);
        any finite values are accepted.
    blocks : tuple of 2 int, optional
        (rows, cols) of the block grid, at most the frame size.
    bins : int, optional
        Orientation bins over [-pi, pi), >= 1.

    Returns
    -------
    (rows * cols * bins,) ndarray of float64
        Per block (row-major), the orientation histogram weighted by flow
        magnitude, normalised to sum 1 (zeros for a block without motion),
        times the block's mean strain.

    Raises
    ------
    ValueError
        If the arrays are not 2-D of one size or hold NaN or infinite values,
        or ``blocks`` or ``bins`` is invalid.

    References
    ----------
    .. [1] S.-T. Liong, J. See, K. Wong and R. C.-W. Phan, "Less is more:
       Micro-expression recognition from video using apex frame", Signal
       Processing: Image Communication 62, 2018. :doi:`10.1016/j.image.2017.11.006`

    Examples
    --------
    >>> import numpy as np
    >>> u, v = np.ones((4, 4)), np.zeros((4, 4))  # everything moves right
    >>> bi_woof(u, v, np.full((4, 4), 0.5), blocks=(1, 1), bins=8)
    array([0. , 0. , 0. , 0. , 0.5, 0. , 0. , 0. ])
    """
    arrays = []
    for name, array in (("u", u), ("v", v), ("strain", strain)):
        array = check_array(name, array, ndim=2)
        if array.dtype.kind not in "iuf":
            raise ValueError(f"{name} must be numeric, got dtype {array.dtype}")
        array = array.astype(np.float64, copy=False)
        if not np.all(np.isfinite(array)):
            raise ValueError(f"{name} holds NaN or infinite values")
        arrays.append(array)
    u, v, strain = arrays
    if not u.shape == v.shape == strain.shape:
        raise ValueError(f"u, v and strain differ in size: {u.shape}, {v.shape}, {strain.shape}")
    blocks = _check_blocks(blocks, u.shape)
    bins = _check_bins(bins)

    H, W = u.shape
    rows, cols = blocks
    n_blocks = rows * cols
    block = np.add.outer((np.arange(H) * rows // H) * cols, np.arange(W) * cols // W).ravel()
    theta = np.arctan2(v, u).ravel()
    orientation = np.floor((theta + np.pi) * (bins / (2.0 * np.pi))).astype(np.int64) % bins
    magnitude = np.hypot(u, v).ravel()
    histogram = np.bincount(block * bins + orientation, weights=magnitude, minlength=n_blocks * bins)
    histogram = histogram.reshape(n_blocks, bins)
    totals = histogram.sum(axis=1, keepdims=True)
    histogram = np.divide(histogram, totals, out=np.zeros_like(histogram), where=totals > 0)
    mean_strain = np.bincount(block, weights=strain.ravel(), minlength=n_blocks) / np.bincount(
        block, minlength=n_blocks
    )
    return np.ascontiguousarray((histogram * mean_strain[:, None]).ravel())


def _check_params(params):
    params = {} if params is None else dict(params)
    unknown = sorted(set(params) - set(_DEFAULTS))
    if unknown:
        raise ValueError(f"params has unknown key(s) {unknown} for bi_woof; valid: {', '.join(_DEFAULTS)}")
    params = {**_DEFAULTS, **params}
    if isinstance(params["blocks"], list):
        params["blocks"] = tuple(params["blocks"])
    _check_bins(params["bins"])
    return params


def extract_biwoof_set(flow_npz, *, params=None, output):
    """Bi-WOOF features of every clip of a flow file, written as the features stage's ``.npz``.

    Parameters
    ----------
    flow_npz : path-like
        ``.npz`` of :func:`mesr.flow.extract_flow_set` (arrays ``u``, ``v``,
        ``strain`` (N, H, W), ``clip_id``, ``subject``, ``label``, optionally
        ``dataset``, and ``params``).
    params : dict, optional
        Keyword arguments of :func:`bi_woof` (``blocks``, ``bins``; lists are
        taken as tuples); missing ones take its defaults.
    output : path-like
        The ``.npz`` to write (atomically), in the format of
        :func:`mesr.descriptors.extract_set`: ``features`` (N, D) float64,
        ``clip_id``, ``subject``, ``label`` (N,) str, ``dataset`` (N,) str
        when the flow file has it, and ``params``, a JSON string
        ``{"descriptor": "bi_woof", "params": {"blocks", "bins"},
        "temporal": null, "flow": <the flow file's params>}``. The LOSO SVM
        (:func:`mesr.evaluate.evaluate_features`) reads it unchanged.

    Returns
    -------
    pathlib.Path
        ``output``.

    Raises
    ------
    ValueError
        If a parameter is unknown or invalid, or the flow file cannot be
        read, lacks an array or has arrays of inconsistent shapes (the
        message names the file and, for a clip's own problem, the clip).

    Examples
    --------
    >>> extract_biwoof_set("results/flow/HR128/tvl1.npz", params={"blocks": [5, 5], "bins": 8},
    ...                    output="results/features/HR128/bi_woof.npz")  # doctest: +SKIP
    """
    from mesr.io import atomic_path, check_clip_arrays, load_npz

    params = _check_params(params)
    path = Path(flow_npz)
    arrays, datasets = load_npz(path, ("u", "v", "strain", "clip_id", "subject", "label", "params"), what="flow")
    u, v, strain = arrays["u"], arrays["v"], arrays["strain"]
    if u.ndim != 3 or not u.shape == v.shape == strain.shape:
        raise ValueError(
            f"{path}: u, v and strain must be (N, H, W) of one shape, got {u.shape}, {v.shape}, {strain.shape}"
        )
    if u.shape[0] == 0:
        raise ValueError(f"{path}: the flow file holds no clip")
    clip_ids, subjects, labels, flow_params, datasets = check_clip_arrays(path, arrays, datasets, u.shape[0], like="u")

    features = []
    for index, clip_id in enumerate(clip_ids):
        try:
            features.append(bi_woof(u[index], v[index], strain[index], **params))
        except ValueError as error:
            raise ValueError(f"{path}: clip {clip_id}: {error}") from error

    record = json.dumps(
        {"descriptor": "bi_woof", "params": params, "temporal": None, "flow": flow_params}, sort_keys=True
    )
    out = {
        "features": np.stack(features).astype(np.float64),
        "clip_id": clip_ids,
        "subject": subjects.astype(str),
        "label": labels,
        **({"dataset": datasets} if datasets is not None else {}),
        "params": np.array(record),
    }
    output = Path(output)
    with atomic_path(output) as temporary:
        with open(temporary, "wb") as handle:  # a handle, so numpy does not append ".npz"
            np.savez(handle, **out)
    logger.info("%s: %d clips, %d bi_woof features each", output, len(clip_ids), out["features"].shape[1])
    return output
