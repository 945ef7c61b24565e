"""Dense optical flow and optical strain of face clips, onset to apex (docs/descriptors.md).

The flow of a clip is computed once, from its onset (the clip's first frame)
to its apex, and described by Bi-WOOF (:mod:`mesr.biwoof`).

Conventions:

* Frames are grey (T, H, W) uint8, as :func:`mesr.descriptors.to_grey` makes
  them. y is the row index and grows downwards; x is the column.
* A flow is (H, W, 2) float32 with ``flow[..., 0] = u`` (along x, positive to
  the right) and ``flow[..., 1] = v`` (along y, positive downwards), in
  pixels, from ``first`` to ``second``: ``first[y, x]`` is seen at
  ``second[y + v, x + u]``.
* Both methods are OpenCV's (contrib build): ``tvl1``,
  ``cv2.optflow.DualTVL1OpticalFlow`` (Zach, Pock, Bischof 2007; Wedel et al.
  2009), the usual flow of Bi-WOOF; ``dis``, ``cv2.DISOpticalFlow`` (Kroeger
  et al. 2016), much faster. Both are deterministic: the same frames give the
  same flow, bit for bit, whatever OpenCV's thread count.
* Optical strain is the Frobenius norm of the infinitesimal strain tensor
  of the flow, its spatial derivatives taken by ``numpy.gradient`` (central
  differences inside, one-sided at the border, 1 pixel spacing).
* The apex is an index into the clip (0 is the onset frame).
"""

import json
import logging
import numbers
from pathlib import Path

import cv2
import numpy as np

from mesr._checks import check_array, check_option

__all__ = [
    "APEX_MODES",
    "APEX_SEARCH",
    "FLOW_METHODS",
    "apex_frame",
    "extract_flow_set",
    "flow_parameters",
    "optical_flow",
    "optical_strain",
]

logger = logging.getLogger(__name__)

#: Optical flow methods of :func:`optical_flow`.
FLOW_METHODS = ("tvl1", "dis")
#: Apex rules of :func:`apex_frame`.
APEX_MODES = ("annotated", "max_flow", "middle")
#: Flow method of the apex search (``max_flow``) in :func:`extract_flow_set`: DIS, about 100 times faster than
#: TV-L1 at 128x128; the onset-to-apex flow kept is then computed with the configured method.
APEX_SEARCH = "dis"

#: Parameter name -> (OpenCV setter suffix, kind) of each method; kind is "int", "float" or "bool".
_SETTERS = {
    "tvl1": {
        "tau": ("Tau", "float"),
        "lambda": ("Lambda", "float"),
        "theta": ("Theta", "float"),
        "gamma": ("Gamma", "float"),
        "epsilon": ("Epsilon", "float"),
        "scales_number": ("ScalesNumber", "int"),
        "warpings_number": ("WarpingsNumber", "int"),
        "inner_iterations": ("InnerIterations", "int"),
        "outer_iterations": ("OuterIterations", "int"),
        "scale_step": ("ScaleStep", "float"),
        "median_filtering": ("MedianFiltering", "int"),
    },
    "dis": {
        "finest_scale": ("FinestScale", "int"),
        "patch_size": ("PatchSize", "int"),
        "patch_stride": ("PatchStride", "int"),
        "gradient_descent_iterations": ("GradientDescentIterations", "int"),
        "variational_refinement_iterations": ("VariationalRefinementIterations", "int"),
        "variational_refinement_alpha": ("VariationalRefinementAlpha", "float"),
        "variational_refinement_delta": ("VariationalRefinementDelta", "float"),
        "variational_refinement_gamma": ("VariationalRefinementGamma", "float"),
        "use_mean_normalization": ("UseMeanNormalization", "bool"),
        "use_spatial_propagation": ("UseSpatialPropagation", "bool"),
    },
}
#: Presets of ``dis`` (``preset`` parameter), applied before the other parameters.
_DIS_PRESETS = {
    "ultrafast": cv2.DISOpticalFlow_PRESET_ULTRAFAST,
    "fast": cv2.DISOpticalFlow_PRESET_FAST,
    "medium": cv2.DISOpticalFlow_PRESET_MEDIUM,
}


# ---------------------------------------------------------------------------
# optical flow


def _check_params(method, params):
    """``params`` checked against ``method``'s names and kinds, as a new dict (``lambda_`` -> ``lambda``)."""
    out = {}
    for key, value in dict(params).items():
        key = "lambda" if key == "lambda_" else key
        if method == "dis" and key == "preset":
            out[key] = check_option("dis preset", value, tuple(_DIS_PRESETS))
            continue
        if key not in _SETTERS[method]:
            valid = ", ".join(list(_SETTERS[method]) + (["preset"] if method == "dis" else []))
            raise ValueError(f"unknown {method} optical flow parameter {key!r}; valid: {valid}")
        kind = _SETTERS[method][key][1]
        if kind == "bool":
            if not isinstance(value, (bool, np.bool_)):
                raise ValueError(f"{method} parameter {key} must be true or false, got {value!r}")
            out[key] = bool(value)
        elif kind == "int":
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < 1:
                raise ValueError(f"{method} parameter {key} must be an integer >= 1, got {value!r}")
            if key == "median_filtering" and value % 2 == 0:
                raise ValueError(f"{method} parameter median_filtering must be odd (1: none), got {value!r}")
            out[key] = int(value)
        else:
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or not np.isfinite(value):
                raise ValueError(f"{method} parameter {key} must be a finite number, got {value!r}")
            if value < 0 or (value == 0 and key not in ("gamma",)):
                raise ValueError(f"{method} parameter {key} must be > 0, got {value!r}")
            if key == "scale_step" and value >= 1:
                raise ValueError(f"{method} parameter scale_step must be below 1, got {value!r}")
            out[key] = float(value)
    return out


def _create(method, params):
    """A configured OpenCV flow object of ``method`` with the checked ``params``."""
    if method == "tvl1":
        algorithm = cv2.optflow.DualTVL1OpticalFlow_create()
    else:
        algorithm = cv2.DISOpticalFlow_create(_DIS_PRESETS[params.get("preset", "medium")])
    for key, value in params.items():
        if key != "preset":
            getattr(algorithm, "set" + _SETTERS[method][key][0])(value)
    return algorithm


def flow_parameters(method="tvl1", params=None):
    """Every parameter of a flow method as it will be used: ``params`` over OpenCV's defaults.

    Parameters
    ----------
    method : {"tvl1", "dis"}
    params : dict, optional
        Parameters of :func:`optical_flow`.

    Returns
    -------
    dict
        Name -> value of every parameter (and ``preset`` for ``dis``), read
        back from the configured OpenCV object; what the flow stage records.

    Raises
    ------
    ValueError
        If ``method`` or a parameter is unknown, or a value is of the wrong kind.

    Examples
    --------
    >>> flow_parameters("tvl1")["lambda"]
    0.15
    """
    method = check_option("method", method, FLOW_METHODS)
    params = _check_params(method, {} if params is None else params)
    algorithm = _create(method, params)
    out = {"preset": params.get("preset", "medium")} if method == "dis" else {}
    for key, (suffix, kind) in _SETTERS[method].items():
        value = getattr(algorithm, "get" + suffix)()
        out[key] = bool(value) if kind == "bool" else int(value) if kind == "int" else round(float(value), 7)
    return out


def optical_flow(first, second, *, method="tvl1", **params):
    """Dense optical flow from grey frame ``first`` to grey frame ``second``.

    Parameters
    ----------
    first, second : (H, W) array_like of uint8
        Grey frames of the same size.
    method : {"tvl1", "dis"}, optional
        ``"tvl1"``: ``cv2.optflow.DualTVL1OpticalFlow`` (TV-L1). ``"dis"``:
        ``cv2.DISOpticalFlow`` (dense inverse search), preset MEDIUM unless
        ``preset`` says otherwise; about 50x faster than TV-L1, less exact.
    **params
        Settings of the method, each passed to the OpenCV setter of the same
        name (``lambda`` -> ``setLambda``, ``scales_number`` ->
        ``setScalesNumber``); those not given keep OpenCV's defaults.
        ``tvl1`` (OpenCV 5.1 defaults): ``tau`` 0.25 (time step), ``lambda``
        0.15 (data term weight, also ``lambda_``), ``theta`` 0.3 (tightness),
        ``gamma`` 0.0 (illumination term), ``epsilon`` 0.01 (stopping
        criterion), ``scales_number`` 5, ``warpings_number`` 5,
        ``inner_iterations`` 30, ``outer_iterations`` 10, ``scale_step`` 0.8,
        ``median_filtering`` 5 (median filter of the flow between warps).
        ``dis``: ``preset`` ("ultrafast", "fast", "medium"), then
        ``finest_scale``, ``patch_size``, ``patch_stride``,
        ``gradient_descent_iterations``, ``variational_refinement_iterations``,
        ``variational_refinement_alpha``, ``variational_refinement_delta``,
        ``variational_refinement_gamma``, ``use_mean_normalization``,
        ``use_spatial_propagation``. :func:`flow_parameters` lists the values
        in force. Every call configures a fresh OpenCV object, so a flow
        never depends on earlier calls.

    Returns
    -------
    (H, W, 2) ndarray of float32
        ``[..., 0]`` is u (x, positive to the right), ``[..., 1]`` is v (y,
        positive downwards), in pixels: ``first[y, x]`` moves to
        ``second[y + v, x + u]``. Deterministic.

    Raises
    ------
    ValueError
        If the frames are not 2-D uint8 of one size, ``method`` or a
        parameter is unknown or invalid, or OpenCV refuses the frames.

    References
    ----------
    .. [1] C. Zach, T. Pock and H. Bischof, "A duality based approach for
       realtime TV-L1 optical flow", DAGM 2007. :doi:`10.1007/978-3-540-74936-3_22`
    .. [2] T. Kroeger, R. Timofte, D. Dai and L. Van Gool, "Fast optical flow
       using dense inverse search", ECCV 2016. :doi:`10.1007/978-3-319-46493-0_29`

    Examples
    --------
    >>> import numpy as np
    >>> frame = np.random.default_rng(0).integers(0, 256, (32, 32), dtype=np.uint8)
    >>> optical_flow(frame, frame, method="dis").shape
    (32, 32, 2)
    """
    method = check_option("method", method, FLOW_METHODS)
    params = _check_params(method, params)
    frames = []
    for name, frame in (("first", first), ("second", second)):
        frame = check_array(name, frame, ndim=2)
        if frame.dtype != np.uint8:
            raise ValueError(f"{name} must be a grey uint8 frame, got {frame.dtype}")
        frames.append(np.ascontiguousarray(frame))
    if frames[0].shape != frames[1].shape:
        raise ValueError(f"first and second differ in size: {frames[0].shape} and {frames[1].shape}")
    try:
        flow = _create(method, params).calc(frames[0], frames[1], None)
    except cv2.error as error:
        raise ValueError(f"{method} optical flow failed on {frames[0].shape} frames: {error}") from error
    return flow


def optical_strain(u, v):
    """Magnitude of the optical strain of a flow field (Liong et al.).

    With the infinitesimal strain tensor of the displacement (u, v),
    ``e_xx = du/dx``, ``e_yy = dv/dy`` and ``e_xy = e_yx = (du/dy + dv/dx) / 2``,
    the magnitude is its Frobenius norm,
    ``sqrt(e_xx**2 + e_yy**2 + 2 * e_xy**2)``.

    Parameters
    ----------
    u, v : (H, W) array_like of float
        Flow along x (columns) and y (rows, downwards), H and W at least 2.

    Returns
    -------
    (H, W) ndarray of float64
        Strain magnitude, >= 0.

    Raises
    ------
    ValueError
        If ``u`` and ``v`` are not 2-D of one size of at least 2x2, or hold
        NaN or infinite values.

    Notes
    -----
    Derivatives are ``numpy.gradient`` with 1 pixel spacing: central
    differences ``(f[i + 1] - f[i - 1]) / 2`` inside the frame, one-sided
    ``f[1] - f[0]`` and ``f[-1] - f[-2]`` on the first and last row or column.
    They are exact on linear fields, everywhere.

    References
    ----------
    .. [1] S.-T. Liong, J. See, R. C.-W. Phan, Y.-H. Oh, A. C. Le Ngo,
       K. Wong and S.-W. Tan, "Spontaneous subtle expression detection and
       recognition based on facial strain", Signal Processing: Image
       Communication 47, 2016. :doi:`10.1016/j.image.2016.06.004`

    Examples
    --------
    >>> import numpy as np
    >>> y, x = np.mgrid[0:4, 0:5].astype(float)
    >>> round(float(optical_strain(0.1 * x, 0.2 * y)[2, 2]), 6)  # sqrt(0.1**2 + 0.2**2)
    0.223607
    """
    u = check_array("u", u, ndim=2).astype(np.float64, copy=False)
    v = check_array("v", v, ndim=2).astype(np.float64, copy=False)
    if u.shape != v.shape:
        raise ValueError(f"u and v differ in size: {u.shape} and {v.shape}")
    if min(u.shape) < 2:
        raise ValueError(f"u and v must be at least 2x2 for their derivatives, got {u.shape}")
    if not (np.all(np.isfinite(u)) and np.all(np.isfinite(v))):
        raise ValueError("u and v must hold finite values")
    du_dy, du_dx = np.gradient(u)
    dv_dy, dv_dx = np.gradient(v)
    e_xy = 0.5 * (du_dy + dv_dx)
    return np.sqrt(du_dx**2 + dv_dy**2 + 2.0 * e_xy**2)


# ---------------------------------------------------------------------------
# apex


def _grey_clip(grey_clip):
    grey_clip = check_array("grey_clip", grey_clip, ndim=3)
    if grey_clip.dtype != np.uint8:
        raise ValueError(f"grey_clip must be (T, H, W) uint8, got {grey_clip.dtype}")
    return grey_clip


def _max_flow(grey, method, params):
    """(index, flow) of the frame whose flow from frame 0 has the largest mean magnitude (first on ties)."""
    best, best_flow, best_magnitude = None, None, -1.0
    for index in range(1, grey.shape[0]):
        flow = optical_flow(grey[0], grey[index], method=method, **params)
        magnitude = float(np.mean(np.hypot(flow[..., 0], flow[..., 1], dtype=np.float64)))
        if magnitude > best_magnitude:
            best, best_flow, best_magnitude = index, flow, magnitude
    return best, best_flow


def _choose_apex(grey, mode, annotated, method, params, name):
    """``(index, source, flow)``: the apex, the rule that chose it and, for max_flow, its flow (else None)."""
    n_frames = grey.shape[0]
    if n_frames < 2:
        raise ValueError(f"{name} has {n_frames} frame: the onset-to-apex flow needs at least 2 frames")
    if mode == "middle":
        return n_frames // 2, "middle", None
    if mode == "annotated":
        if annotated is None:
            logger.info("%s: no annotated apex; using max_flow", name)
        else:
            if isinstance(annotated, (bool, np.bool_)) or not isinstance(annotated, numbers.Integral):
                raise ValueError(f"{name}: annotated apex must be an integer index or None, got {annotated!r}")
            if 1 <= annotated < n_frames:
                return int(annotated), "annotated", None
            why = (
                "is the onset frame, whose flow from the onset is zero"
                if annotated == 0
                else f"is outside the clip's frames 0..{n_frames - 1}"
            )
            logger.warning("%s: annotated apex index %d %s; using max_flow", name, annotated, why)
    index, flow = _max_flow(grey, method, params)
    return index, "max_flow", flow


def apex_frame(grey_clip, *, mode, annotated=None, method="tvl1", params=None):
    """The apex of a clip, as an index into its frames, and the rule that chose it.

    Parameters
    ----------
    grey_clip : (T, H, W) array_like of uint8
        Grey frames, onset first; T >= 2.
    mode : {"annotated", "max_flow", "middle"}
        ``"annotated"``: ``annotated`` when it lies in 1..T-1, else (None, 0,
        the onset itself, or outside the clip) ``max_flow``, with a log
        message saying why. ``"max_flow"``: the frame t in 1..T-1 whose flow
        from frame 0 (the onset) has the largest mean magnitude
        ``mean(sqrt(u**2 + v**2))`` (the first such frame on ties); frame 0
        is excluded. ``"middle"``: ``T // 2``.
    annotated : int, optional
        Annotated apex as an index into the clip (apex frame number minus the
        clip's first frame number).
    method : {"tvl1", "dis"}, optional
        Flow method of ``max_flow`` (:func:`optical_flow`).
    params : dict, optional
        Its parameters.

    Returns
    -------
    index : int
        Apex index, in 1..T-1 (never the onset frame 0).
    source : {"annotated", "max_flow", "middle"}
        The rule that decided: ``"max_flow"`` also when ``annotated`` fell back.

    Raises
    ------
    ValueError
        If the clip is not (T, H, W) uint8 with T >= 2, or an option is invalid.

    Notes
    -----
    ``max_flow`` computes T - 1 flows; with TV-L1 on 128x128 frames that is
    about 0.2 s per frame on a 2-core machine (benchmarks/flow.py).

    Examples
    --------
    >>> import numpy as np
    >>> apex_frame(np.zeros((7, 8, 8), np.uint8), mode="middle")
    (3, 'middle')
    >>> apex_frame(np.zeros((7, 8, 8), np.uint8), mode="annotated", annotated=5)
    (5, 'annotated')
    """
    grey_clip = _grey_clip(grey_clip)
    mode = check_option("mode", mode, APEX_MODES)
    method = check_option("method", method, FLOW_METHODS)
    params = _check_params(method, {} if params is None else params)
    index, source, _ = _choose_apex(grey_clip, mode, annotated, method, params, "grey_clip")
    return index, source


# ---------------------------------------------------------------------------
# the flow stage


def _annotated_index(row, columns):
    """Annotated apex of a manifest row as an index into the clip (``apex - first_frame``), or None."""
    import pandas as pd

    if "apex" not in columns or "first_frame" not in columns or pd.isna(row["apex"]) or pd.isna(row["first_frame"]):
        return None
    return int(row["apex"]) - int(row["first_frame"])


def extract_flow_set(set_dir, manifest, *, apex="annotated", method="tvl1", params=None, output):
    """Onset-to-apex optical flow and strain of every clip of a set, written as one ``.npz``.

    Each clip ``{set_dir}/{clip_id}.npy`` ((T, H, W, 3) uint8 RGB) is turned
    grey (:func:`mesr.descriptors.to_grey`); its apex is chosen
    (:func:`apex_frame`); the flow from frame 0 (the onset) to the apex and
    its strain (:func:`optical_strain`) are kept.

    Parameters
    ----------
    set_dir : path-like
        Directory of the set, ``results/sets/{set}``.
    manifest : path-like
        Manifest TSV (docs/data.md#manifest) with at least ``clip_id``,
        ``subject`` and ``label`` (``dataset`` is kept when present); rows are
        processed in file order. The annotated apex index of a clip is
        ``apex - first_frame`` when both columns are filled (SMIC has no apex:
        ``annotated`` then falls back to ``max_flow``). Frame numbers absent
        from a clip (``missing_frames``) are not accounted for: the index
        counts frame numbers.
    apex : {"annotated", "max_flow", "middle"}, optional
        Apex rule (:func:`apex_frame`); its ``max_flow`` search uses
        :data:`APEX_SEARCH` (DIS with its defaults), whatever ``method``.
    method : {"tvl1", "dis"}, optional
        Flow method of the onset-to-apex flow kept (:func:`optical_flow`).
    params : dict, optional
        Its parameters.
    output : path-like
        The ``.npz`` to write (atomically), with arrays ``u``, ``v``,
        ``strain`` (N, H, W) float32, ``clip_id``, ``subject``, ``label`` (N,)
        str, ``dataset`` (N,) str when the manifest has the column, ``apex``
        (N,) int64 (index in the clip), ``apex_source`` (N,) str, and
        ``params``, a JSON string ``{"method", "params", "apex", "apex_search"}`` with every
        flow parameter in force (:func:`flow_parameters`).

    Returns
    -------
    pathlib.Path
        ``output``.

    Raises
    ------
    ValueError
        If an option is invalid, the manifest lacks a column or lists no
        clip, or a clip is missing, unreadable, of one frame, or of another
        frame size than the set's first clip (the message names the clip and
        its file).

    Examples
    --------
    >>> extract_flow_set("results/sets/HR128", "results/manifest.tsv", apex="annotated",
    ...                  output="results/flow/HR128/tvl1.npz")  # doctest: +SKIP
    """
    import pandas as pd

    from mesr.descriptors import to_grey
    from mesr.io import atomic_path, load_clip

    apex = check_option("apex", apex, APEX_MODES)
    method = check_option("method", method, FLOW_METHODS)
    params = _check_params(method, {} if params is None else params)
    resolved = flow_parameters(method, params)

    manifest = Path(manifest)
    # the dtypes of mesr.data.datasets.read_manifest, without importing the data package (and its rule inputs)
    strings = {name: str for name in ("clip_id", "dataset", "subject", "label", "emotion", "path")}
    table = pd.read_csv(manifest, sep="\t", dtype={**strings, "first_frame": "Int64", "apex": "Int64"})
    missing = [column for column in ("clip_id", "subject", "label") if column not in table.columns]
    if missing:
        raise ValueError(f"{manifest}: manifest lacks column(s) {missing}")
    if table.empty:
        raise ValueError(f"{manifest}: manifest lists no clips")

    us, vs, strains, indices, sources = [], [], [], [], []
    shape = None
    for _, row in table.iterrows():
        clip_id = row["clip_id"]
        path = Path(set_dir) / f"{clip_id}.npy"
        grey = to_grey(load_clip(path))
        name = f"clip {clip_id} ({path})"
        if shape is None:
            shape = grey.shape[1:]
        elif grey.shape[1:] != shape:
            raise ValueError(
                f"{name} has {grey.shape[1]}x{grey.shape[2]} frames, the set's first clip {table['clip_id'].iloc[0]} "
                f"{shape[0]}x{shape[1]}: all clips of a set must share the frame size"
            )
        annotated = _annotated_index(row, table.columns) if apex == "annotated" else None
        try:
            # the search for the apex uses DIS (T - 1 flows: TV-L1's cost would dominate the stage), the kept
            # onset-to-apex flow the configured method
            index, source, flow = _choose_apex(grey, apex, annotated, APEX_SEARCH, {}, name)
            if flow is None or method != APEX_SEARCH or params:
                flow = optical_flow(grey[0], grey[index], method=method, **params)
            strain = optical_strain(flow[..., 0], flow[..., 1])
        except ValueError as error:
            message = str(error)
            raise ValueError(message if str(path) in message else f"{name}: {message}") from error
        us.append(flow[..., 0])
        vs.append(flow[..., 1])
        strains.append(strain.astype(np.float32))
        indices.append(index)
        sources.append(source)
        logger.debug("%s: apex %d (%s) of %d frames", name, index, source, grey.shape[0])

    record = json.dumps(
        {"method": method, "params": resolved, "apex": apex, "apex_search": APEX_SEARCH}, sort_keys=True
    )
    arrays = {
        "u": np.stack(us).astype(np.float32),
        "v": np.stack(vs).astype(np.float32),
        "strain": np.stack(strains),
        "clip_id": table["clip_id"].to_numpy().astype(str),
        "subject": table["subject"].to_numpy().astype(str),
        "label": table["label"].to_numpy().astype(str),
        **({"dataset": table["dataset"].to_numpy().astype(str)} if "dataset" in table.columns else {}),
        "apex": np.array(indices, dtype=np.int64),
        "apex_source": np.array(sources, dtype=str),
        "params": np.array(record),
    }
    output = Path(output)
    with atomic_path(output) as temporary:
        with open(temporary, "wb") as handle:  # a handle, so numpy does not append ".npz"
            np.savez(handle, **arrays)
    counts = {s: sources.count(s) for s in APEX_MODES if s in sources}
    logger.info("%s: %d clips, %s flow, apex %s %s", output, len(us), method, apex, counts)
    return output
