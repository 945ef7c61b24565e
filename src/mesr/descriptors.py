"""Dynamic texture descriptors of face clips: LBP-TOP and LPQ-TOP (docs/descriptors.md).

A clip is described by codes computed on three orthogonal planes (XY, XT,
YT) around every centre voxel, histogrammed per spatial block and plane.
Both descriptors return a 1-D float64 vector in the order
``((block_row * cols + block_col) * 3 + plane) * bins + bin``.

Conventions (docs/descriptors.md, plus the choices its text leaves open):

* Input: (T, H, W) integer values; uint8 is used as is, anything else is
  converted once to float64 (exact for integers below 2**53).
* Arguments are ordered (x, y, t) for radii and windows, (XY, XT, YT) for
  point counts, (rows, cols) for blocks. A code belongs to the block of its
  centre voxel: ``block_row = floor(y * rows / H)``, ``block_col =
  floor(x * cols / W)`` with (H, W) the frame size.
* LBP-TOP neighbour offsets are ``R * cos(a)``, ``R * sin(a)`` with
  ``a = 2 * pi * p / P``, taken as the exact real numbers: float64 values
  within 1e-9 of a multiple of 1/2 are snapped to it first, so that rounding
  half up (``floor(d + 0.5)``, ``nearest``) does not depend on the last bit
  of ``cos``. Bilinear neighbours whose offsets are whole numbers (the
  axis-aligned ones for whole radii) are compared exactly (``v >= c``); on
  integer data this is what the ``>= c - 1e-6`` rule gives for the true
  weights 0 and 1.
* LPQ-TOP coefficients are exact zero in exact arithmetic in flat regions
  (and for symmetric patterns), where float64 leaves rounding noise of
  either sign. A coefficient counts as ``>= 0`` when it is at least
  ``-1e-12 * w_rows * w_cols * max|volume|``: exact zeros give bit 1 as the
  rule of docs/descriptors.md does in exact arithmetic, independently of the summation
  order. The margin (6.4e-9 for a 5x5 window on uint8) is far above the
  float64 error (~1e-12) and far below the coefficients of real texture.
"""

import functools
import inspect
import json
import logging
import math
import numbers
from pathlib import Path

import cv2
import numpy as np

from mesr._checks import check_array, check_option, check_positive

__all__ = ["lbp_top", "lpq_top", "to_grey", "extract_set", "DESCRIPTORS"]

logger = logging.getLogger(__name__)

#: Descriptor names accepted by :func:`extract_set`.
DESCRIPTORS = ("lbp_top", "lpq_top")

_MAPPINGS = ("u2", None)
_INTERPOLATIONS = ("bilinear", "nearest")
#: Bilinear neighbours count as >= the centre down to this margin (docs/descriptors.md).
_BILINEAR_MARGIN = 1e-6
#: float64 offsets this close to a multiple of 1/2 are taken as that multiple.
_OFFSET_SNAP = 1e-9
#: LPQ coefficients >= -_LPQ_ZERO * w_rows * w_cols * max|volume| count as >= 0.
_LPQ_ZERO = 1e-12
#: Diagonal of A in the LPQ decorrelation (docs/descriptors.md).
_LPQ_A = (1.000007, 1.000006, 1.000005, 1.000004, 1.000003, 1.000002, 1.000001, 1.0)
#: Largest P for mapping=None (2**P bins per block and plane).
_MAX_POINTS_RAW = 16
#: Largest P at all (codes are held in uint32).
_MAX_POINTS = 32
#: Raw-code histograms are folded afterwards when 2**P is at most this.
_FOLD_LIMIT = 4096
#: Planes in output order.
_PLANES = ("XY", "XT", "YT")
#: u2 bins come from a lookup table up to this P, by binary search above.
_TABLE_LIMIT = 16


# ---------------------------------------------------------------------------
# argument checks


def _check_ints(name, value, length, *, minimum=1, odd=False):
    """Return ``value`` as a tuple of ``length`` Python ints >= ``minimum``."""
    if isinstance(value, (str, bytes)) or not np.iterable(value) or len(value) != length:
        raise ValueError(f"{name} must be a sequence of {length} integers, got {value!r}")
    out = []
    for item in value:
        if isinstance(item, (bool, np.bool_)) or not isinstance(item, numbers.Integral):
            raise ValueError(f"{name} must hold integers, got {value!r}")
        if item < minimum or (odd and item % 2 == 0):
            kind = f"odd integers >= {minimum}" if odd else f"integers >= {minimum}"
            raise ValueError(f"{name} must hold {kind}, got {value!r}")
        out.append(int(item))
    return tuple(out)


def _check_radii(radii):
    if isinstance(radii, (str, bytes)) or not np.iterable(radii) or len(radii) != 3:
        raise ValueError(f"radii must be a sequence of 3 numbers (x, y, t), got {radii!r}")
    for radius in radii:
        if isinstance(radius, (bool, np.bool_)) or not isinstance(radius, numbers.Real):
            raise ValueError(f"radii must hold numbers, got {radii!r}")
        check_positive("radii", radius)
    return tuple(float(r) for r in radii)


def _check_volume(volume):
    volume = check_array("volume", volume, ndim=3, integer_valued=True)
    if volume.dtype == np.uint8:
        return np.ascontiguousarray(volume)
    return np.ascontiguousarray(volume, dtype=np.float64)


def _check_blocks(blocks, shape):
    blocks = _check_ints("blocks", blocks, 2)
    if blocks[0] > shape[1] or blocks[1] > shape[2]:
        raise ValueError(
            f"blocks {blocks} (rows, cols) larger than the frame ({shape[1]} rows, {shape[2]} cols) of volume"
        )
    return blocks


# ---------------------------------------------------------------------------
# shared histogramming


def _block_ids(ys, xs, frame, blocks):
    """Block index of each centre (y, x): (len(ys), len(xs)) int array."""
    rows, cols = blocks
    return np.add.outer((ys * rows // frame[0]) * cols, xs * cols // frame[1])


def _histograms(codes, origin, frame, blocks, n_codes):
    """Counts of ``codes`` (Tc, Hc, Wc) per block: (rows * cols, n_codes) float64.

    ``origin`` = (y0, x0) is the frame position of ``codes[:, 0, 0]``.
    """
    ys = np.arange(origin[0], origin[0] + codes.shape[1])
    xs = np.arange(origin[1], origin[1] + codes.shape[2])
    n_blocks = blocks[0] * blocks[1]
    index = (_block_ids(ys, xs, frame, blocks) * n_codes)[None] + codes
    counts = np.bincount(index.ravel(), minlength=n_blocks * n_codes)
    return counts.reshape(n_blocks, n_codes).astype(np.float64)


def _normalise(counts):
    totals = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)


def _assemble(per_plane):
    """Concatenate (n_blocks, bins) plane histograms in the order of docs/descriptors.md."""
    return np.ascontiguousarray(np.concatenate([_normalise(h) for h in per_plane], axis=1).ravel())


# ---------------------------------------------------------------------------
# LBP-TOP


@functools.lru_cache(maxsize=None)
def _uniform_codes(points):
    """Sorted P-bit codes with at most two circular 0/1 transitions."""
    full = (1 << points) - 1
    codes = {0, full}
    for run in range(1, points):
        ones = (1 << run) - 1
        for start in range(points):
            codes.add(((ones << start) | (ones >> (points - start))) & full)
    out = np.array(sorted(codes), dtype=np.int64)
    out.setflags(write=False)
    return out


@functools.lru_cache(maxsize=None)
def _u2_table(points):
    """u2 bin of every P-bit code (P <= _TABLE_LIMIT): uniform codes 0.., the rest last."""
    uniform = _uniform_codes(points)
    table = np.full(1 << points, len(uniform), dtype=np.int64)
    table[uniform] = np.arange(len(uniform))
    table.setflags(write=False)
    return table


def _n_bins(points, mapping):
    return points * (points - 1) + 3 if mapping == "u2" else 1 << points


def _snap(value):
    """The float64 ``value`` as the exact multiple of 1/2 it rounds from, if any."""
    half = round(2.0 * value) / 2.0
    return half if abs(value - half) < _OFFSET_SNAP else value


@functools.lru_cache(maxsize=None)
def _lbp_neighbours(plane, radii, points, interpolation):
    """Neighbours of one plane as ``("int", (dt, dy, dx))`` or ``("bil", (dt, dy, dx))``.

    Offsets follow docs/descriptors.md (y grows downwards); ``"int"`` offsets are whole
    numbers (rounded half up for ``nearest``), ``"bil"`` ones are float.
    """
    rx, ry, rt = radii
    out = []
    for p in range(points):
        angle = 2.0 * np.pi * p / points
        cos, sin = float(np.cos(angle)), float(np.sin(angle))
        if plane == "XY":
            offset = (0.0, -ry * sin, rx * cos)
        elif plane == "XT":
            offset = (rt * sin, 0.0, rx * cos)
        else:
            offset = (rt * cos, -ry * sin, 0.0)
        offset = tuple(_snap(d) + 0.0 for d in offset)  # + 0.0 turns -0.0 into 0.0
        if interpolation == "nearest" or all(d == math.floor(d) for d in offset):
            out.append(("int", tuple(math.floor(d + 0.5) for d in offset)))
        else:
            out.append(("bil", offset))
    return tuple(out)


#: Per plane, the volume axes (t=0, y=1, x=2) along the rows and the cols of
#: the 2-D image that cv2 works on: XY (T*H, W), XT (T, H*W), YT (T, W*H)
#: (the last from the (T, W, H) transpose). Neighbour offsets along the
#: plane's axes are then offsets in that image; rows or cols that run into
#: the next frame, row or column only reach voxels outside the centre set.
_LAYOUT = {"XY": (1, 2), "XT": (0, 2), "YT": (0, 1)}


def _layout_image(volume, plane, cache):
    """The 2-D image of ``plane`` (see ``_LAYOUT``), built once per call and dtype."""
    key = (plane, volume.dtype.str)
    if key not in cache:
        T, H, W = volume.shape
        if plane == "XY":
            cache[key] = volume.reshape(T * H, W)
        elif plane == "XT":
            cache[key] = volume.reshape(T, H * W)
        else:
            cache[key] = np.ascontiguousarray(volume.transpose(0, 2, 1)).reshape(T, W * H)
    return cache[key]


def _from_layout(image, plane, shape):
    """A layout image back as a (T, H, W) view."""
    T, H, W = shape
    if plane == "YT":
        return image.reshape(T, W, H).transpose(0, 2, 1)
    return image.reshape(T, H, W)


@functools.lru_cache(maxsize=None)
def _bilinear_kernel(d_rows, d_cols):
    """cv2.filter2D kernel and anchor giving ``bilinear(neighbour) - centre``.

    The neighbour at offset (d_rows, d_cols) is interpolated from its cell
    ``floor(d)..ceil(d)`` with weights ``(1 - f)`` and ``f``, ``f = d - floor(d)``.
    """
    f_r, c_r = math.floor(d_rows), math.ceil(d_rows)
    f_c, c_c = math.floor(d_cols), math.ceil(d_cols)
    t_r, t_c = d_rows - f_r, d_cols - f_c
    r0, c0 = min(f_r, 0), min(f_c, 0)
    kernel = np.zeros((max(c_r, 0) - r0 + 1, max(c_c, 0) - c0 + 1))
    kernel[f_r - r0, f_c - c0] += (1 - t_r) * (1 - t_c)
    kernel[f_r - r0, c_c - c0] += (1 - t_r) * t_c
    kernel[c_r - r0, f_c - c0] += t_r * (1 - t_c)
    kernel[c_r - r0, c_c - c0] += t_r * t_c
    kernel[-r0, -c0] -= 1.0
    kernel.setflags(write=False)
    return kernel, (-c0, -r0)


def _code_dtype(points):
    return np.uint8 if points <= 8 else np.uint16 if points <= 16 else np.uint32


def _set_bit(code, mask, p):
    """``code |= 2**p`` where ``mask`` (0 or 255, uint8) is set; in place."""
    if code.dtype == np.uint8:
        np.bitwise_and(mask, np.uint8(1 << p), out=mask)
        np.bitwise_or(code, mask, out=code)
    else:
        code |= (mask >> 7).astype(code.dtype) << code.dtype.type(p)


def _lbp_top_codes(volume, radii, points, interpolation):
    """LBP codes of the three planes over the common centre set.

    Each plane is computed on its 2-D layout image (``_LAYOUT``) with
    contiguous cv2 operations: whole-number neighbours by direct comparison,
    the others by one ``filter2D`` giving ``bilinear - centre``.

    Parameters
    ----------
    volume : (T, H, W) ndarray of uint8 or float64 (integer values)
    radii : tuple of 3 float
    points : tuple of 3 int
    interpolation : {"bilinear", "nearest"}

    Returns
    -------
    codes : list of 3 (Tc, Hc, Wc) ndarrays of unsigned int
        XY, XT, YT codes of the centres (views).
    origin : tuple of 3 int
        (t, y, x) position of ``codes[k][0, 0, 0]`` in ``volume``.
    """
    T, H, W = volume.shape
    borders = (math.ceil(radii[2]), math.ceil(max(radii[0], radii[1])), math.ceil(max(radii[0], radii[1])))
    centre_region = tuple(slice(b, n - b) for b, n in zip(borders, volume.shape))
    layouts = {}
    volume_f = None
    codes = []
    for plane, n_points in zip(_PLANES, points):
        rows_axis, cols_axis = _LAYOUT[plane]
        image = _layout_image(volume, plane, layouts)
        n_rows, n_cols = image.shape
        b_r, b_c = borders[rows_axis], borders[cols_axis]
        band = (slice(b_r, n_rows - b_r), slice(b_c, n_cols - b_c))
        code = np.zeros(image.shape, dtype=_code_dtype(n_points))
        for p, (kind, offset) in enumerate(_lbp_neighbours(plane, radii, n_points, interpolation)):
            d_r, d_c = offset[rows_axis], offset[cols_axis]
            if kind == "int":
                neighbour = image[b_r + d_r : n_rows - b_r + d_r, b_c + d_c : n_cols - b_c + d_c]
                _set_bit(code[band], cv2.compare(neighbour, image[band], cv2.CMP_GE), p)
            else:
                if volume_f is None:
                    volume_f = volume.astype(np.float64, copy=False)
                image_f = _layout_image(volume_f, plane, layouts)
                kernel, anchor = _bilinear_kernel(d_r, d_c)
                difference = cv2.filter2D(image_f, cv2.CV_64F, kernel, anchor=anchor, borderType=cv2.BORDER_REFLECT)
                _set_bit(code, cv2.compare(difference, -_BILINEAR_MARGIN, cv2.CMP_GE), p)
        codes.append(_from_layout(code, plane, volume.shape)[centre_region])
    return codes, borders


def _lbp_histograms(code, origin, frame, blocks, points, mapping):
    """Per-block counts of one plane's codes in the bins of ``mapping``."""
    n_codes = 1 << points
    if mapping is None:
        return _histograms(code, origin, frame, blocks, n_codes)
    n_bins = _n_bins(points, mapping)
    if n_codes <= _FOLD_LIMIT:
        raw = _histograms(code, origin, frame, blocks, n_codes)
        folded = np.zeros((raw.shape[0], n_bins))
        np.add.at(folded.T, _u2_table(points), raw.T)
        return folded
    if points <= _TABLE_LIMIT:
        mapped = _u2_table(points)[code]
    else:
        uniform = _uniform_codes(points)
        mapped = np.searchsorted(uniform, code)
        hit = uniform[np.minimum(mapped, len(uniform) - 1)] == code
        mapped[~hit] = len(uniform)
    return _histograms(mapped, origin, frame, blocks, n_bins)


def lbp_top(volume, *, radii=(1, 1, 1), points=(8, 8, 8), blocks=(1, 1), mapping="u2", interpolation="bilinear"):
    """Local binary patterns on three orthogonal planes (LBP-TOP) of a grey clip.

    Every voxel at least ``ceil(max(Rx, Ry))`` from the x and y borders and
    ``ceil(Rt)`` from the t borders is a centre. On each plane, neighbour
    ``p`` of ``P`` at angle ``a = 2 pi p / P`` sits at
    ``(x + Rx cos a, y - Ry sin a, t)`` (XY), ``(x + Rx cos a, y, t + Rt sin a)``
    (XT) or ``(x, y - Ry sin a, t + Rt cos a)`` (YT), with y growing
    downwards; bit ``p`` is 1 when the neighbour is >= the centre (bilinear:
    >= centre - 1e-6). Codes are histogrammed per block and plane and each
    histogram is normalised to sum 1 (all zeros for a block without centre).

    Parameters
    ----------
    volume : (T, H, W) array_like of uint8, or of integer-valued float
        Grey frames in temporal order.
    radii : tuple of 3 float, optional
        (Rx, Ry, Rt), positive; need not be whole numbers.
    points : tuple of 3 int, optional
        Neighbour counts of the (XY, XT, YT) planes, 1 to 32 (1 to 16 with
        ``mapping=None``). Each plane has its own number of bins.
    blocks : tuple of 2 int, optional
        (rows, cols) of the spatial block grid, at most the frame size.
    mapping : {"u2", None}, optional
        ``"u2"``: the P(P - 1) + 2 uniform codes in ascending order take bins
        0.. and all other codes the last bin (59 bins for P = 8); ``None``:
        the 2**P raw codes.
    interpolation : {"bilinear", "nearest"}, optional
        ``"nearest"`` rounds offsets half up (``floor(d + 0.5)``);
        ``"bilinear"`` interpolates in the plane's two axes.

    Returns
    -------
    (rows * cols * (bins_XY + bins_XT + bins_YT),) ndarray of float64
        Histograms ordered blocks row-major, then planes XY, XT, YT, then bins.

    Raises
    ------
    ValueError
        If ``volume`` is not 3-D with integer values, is too small for the
        radii (fewer than ``2 ceil(Rt) + 1`` frames, or frames smaller than
        ``2 ceil(max(Rx, Ry)) + 1``), or an option is out of range or unknown.

    References
    ----------
    .. [1] G. Zhao and M. Pietikainen, "Dynamic texture recognition using
       local binary patterns with an application to facial expressions",
       IEEE TPAMI 29(6), 2007. :doi:`10.1109/TPAMI.2007.1110`

    Examples
    --------
    >>> import numpy as np
    >>> volume = np.random.default_rng(0).integers(0, 256, (8, 16, 16), dtype=np.uint8)
    >>> lbp_top(volume, blocks=(2, 2)).shape
    (708,)
    >>> float(lbp_top(np.full((3, 3, 3), 7, np.uint8))[57])  # flat: code 255, the last uniform bin
    1.0
    """
    volume = _check_volume(volume)
    radii = _check_radii(radii)
    points = _check_ints("points", points, 3)
    mapping = check_option("mapping", mapping, _MAPPINGS)
    interpolation = check_option("interpolation", interpolation, _INTERPOLATIONS)
    limit = _MAX_POINTS if mapping == "u2" else _MAX_POINTS_RAW
    if max(points) > limit:
        raise ValueError(f"points must be at most {limit} with mapping={mapping!r}, got {points}")
    T, H, W = volume.shape
    b, bt = math.ceil(max(radii[0], radii[1])), math.ceil(radii[2])
    if T < 2 * bt + 1:
        raise ValueError(
            f"volume has {T} frames, too few for the temporal radius radii[2]={radii[2]} (needs at least {2 * bt + 1})"
        )
    if min(H, W) < 2 * b + 1:
        raise ValueError(
            f"volume frames are {H}x{W}, too small for the spatial radii {radii[:2]} "
            f"(need at least {2 * b + 1}x{2 * b + 1})"
        )
    blocks = _check_blocks(blocks, volume.shape)
    codes, origin = _lbp_top_codes(volume, radii, points, interpolation)
    per_plane = [
        _lbp_histograms(code, origin[1:], (H, W), blocks, n_points, mapping) for code, n_points in zip(codes, points)
    ]
    return _assemble(per_plane)


# ---------------------------------------------------------------------------
# LPQ-TOP


def _stft_filters(size):
    """w0, w1, w2 of docs/descriptors.md for a window of ``size`` (k = -r..r)."""
    k = np.arange(size) - size // 2
    w1 = np.exp(-2j * np.pi * k / size)
    return np.ones(size, dtype=complex), w1, np.conj(w1)


@functools.lru_cache(maxsize=None)
def _lpq_kernels(rows, cols, decorrelation):
    """The 8 real cv2.filter2D (correlation) kernels of LPQ on a (rows, cols) window.

    ``decorrelation`` is None, ``("euclid", rho)`` (XY) or
    ``("separable", rho_rows, rho_cols)`` (XT, YT). Returns (8, rows, cols):
    kernel j gives coefficient j, after decorrelation when asked.
    """
    r0, r1, _ = _stft_filters(rows)
    c0, c1, c2 = _stft_filters(cols)
    complex_filters = [np.outer(r0, c1), np.outer(r1, c0), np.outer(r1, c1), np.outer(r1, c2)]
    real = np.stack([part(f) for f in complex_filters for part in (np.real, np.imag)])  # (8, rows, cols)
    # true convolution = correlation with the filter reversed along both axes
    kernels = real[:, ::-1, ::-1]
    if decorrelation is not None:
        matrix = real.reshape(8, -1, order="F")  # window positions column-major (M of docs/descriptors.md)
        pos_r, pos_c = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
        pos_r, pos_c = pos_r.ravel(order="F"), pos_c.ravel(order="F")
        d_r = np.abs(pos_r[:, None] - pos_r[None, :])
        d_c = np.abs(pos_c[:, None] - pos_c[None, :])
        if decorrelation[0] == "euclid":
            covariance = decorrelation[1] ** np.hypot(d_r, d_c)
        else:
            covariance = decorrelation[1] ** d_r * decorrelation[2] ** d_c
        d = matrix @ covariance @ matrix.T
        a = np.diag(_LPQ_A)
        _, _, vh = np.linalg.svd(a @ d @ a)
        v = vh.T
        largest = v[np.argmax(np.abs(v), axis=0), np.arange(8)]
        v = v * np.where(largest < 0, -1.0, 1.0)
        kernels = np.einsum("mj,mrc->jrc", v, kernels)
    kernels = np.ascontiguousarray(kernels)
    kernels.setflags(write=False)
    return kernels


def _lpq_top_codes(volume, window, decorrelation):
    """LPQ codes of every slice of the three planes.

    Parameters
    ----------
    volume : (T, H, W) ndarray of float64 (integer values)
    window : tuple of 3 odd int
        (wx, wy, wt).
    decorrelation : None or tuple of 2 float

    Returns
    -------
    list of 3 (codes, origin)
        Per plane XY, XT, YT: uint8 codes over the plane's valid centres
        (Tc, Hc, Wc) and the (t, y, x) position of ``codes[0, 0, 0]``.
    """
    T, H, W = volume.shape
    wx, wy, wt = window
    rx, ry, rt = wx // 2, wy // 2, wt // 2
    scale = max(float(np.abs(volume).max()), 1.0)
    layouts = {}
    out = []
    for plane in _PLANES:
        if plane == "XY":
            spec_shape, region = (wy, wx), (slice(None), slice(ry, H - ry), slice(rx, W - rx))
            decorr = None if decorrelation is None else ("euclid", decorrelation[0])
        elif plane == "XT":
            spec_shape, region = (wx, wt), (slice(rt, T - rt), slice(None), slice(rx, W - rx))
            decorr = None if decorrelation is None else ("separable",) + tuple(decorrelation)
        else:
            spec_shape, region = (wy, wt), (slice(rt, T - rt), slice(ry, H - ry), slice(None))
            decorr = None if decorrelation is None else ("separable",) + tuple(decorrelation)
        kernels = _lpq_kernels(*spec_shape, decorr)
        if plane != "XY":  # the layout image has t along its rows, docs/descriptors.md has t along the cols
            kernels = np.ascontiguousarray(kernels.transpose(0, 2, 1))
        threshold = -_LPQ_ZERO * spec_shape[0] * spec_shape[1] * scale
        image = _layout_image(volume, plane, layouts)
        code = np.zeros(image.shape, dtype=np.uint8)
        for j in range(8):
            coefficient = cv2.filter2D(image, cv2.CV_64F, kernels[j], borderType=cv2.BORDER_REFLECT)
            _set_bit(code, cv2.compare(coefficient, threshold, cv2.CMP_GE), j)
        out.append((_from_layout(code, plane, volume.shape)[region], tuple(s.start or 0 for s in region)))
    return out


def lpq_top(volume, *, window=(5, 5, 5), decorrelation=(0.1, 0.1), blocks=(1, 1)):
    """Local phase quantisation on three orthogonal planes (LPQ-TOP) of a grey clip.

    Each 2-D slice (XY: one per frame; XT: one per row, rows x and cols t;
    YT: one per column, rows y and cols t) is filtered by four separable
    short-term Fourier filters (true convolution, 'valid' positions only);
    the real and imaginary parts give 8 coefficients, optionally decorrelated
    (docs/descriptors.md), and bit j is 1 when coefficient j >= 0 (256 codes). Codes are
    histogrammed per block and plane and normalised to sum 1.

    Parameters
    ----------
    volume : (T, H, W) array_like of uint8, or of integer-valued float
        Grey frames in temporal order.
    window : tuple of 3 int, optional
        (wx, wy, wt), odd, >= 3, at most the volume's size along that axis.
        XY slices use (wy, wx), XT (wx, wt), YT (wy, wt) as (rows, cols).
    decorrelation : None or tuple of 2 float, optional
        (rho_s, rho_t) in [0, 1): correlation of neighbouring pixels in space
        and in time used to whiten the coefficients; None skips whitening.
    blocks : tuple of 2 int, optional
        (rows, cols) of the spatial block grid, at most the frame size.

    Returns
    -------
    (rows * cols * 3 * 256,) ndarray of float64
        Histograms ordered blocks row-major, then planes XY, XT, YT, then codes.

    Raises
    ------
    ValueError
        If ``volume`` is not 3-D with integer values or is smaller than the
        window along an axis, or an option is out of range.

    Notes
    -----
    A coefficient that is zero in exact arithmetic (flat regions) computes as
    rounding noise; values >= ``-1e-12 * rows * cols * max|volume|`` count as
    >= 0, so such coefficients give bit 1 whatever the summation order.

    References
    ----------
    .. [1] J. Paivarinta, E. Rahtu and J. Heikkila, "Volume local phase
       quantization for blur-insensitive dynamic texture classification",
       SCIA 2011, LNCS 6688, pp. 360-369. :doi:`10.1007/978-3-642-21227-7_11`

    Examples
    --------
    >>> import numpy as np
    >>> volume = np.random.default_rng(0).integers(0, 256, (8, 16, 16), dtype=np.uint8)
    >>> lpq_top(volume, blocks=(2, 2)).shape
    (3072,)
    >>> float(lpq_top(np.full((5, 5, 5), 7, np.uint8), decorrelation=None)[255])  # flat: code 255
    1.0
    """
    volume = _check_volume(volume)
    window = _check_ints("window", window, 3, minimum=3, odd=True)
    if decorrelation is not None:
        if isinstance(decorrelation, (str, bytes)) or not np.iterable(decorrelation) or len(decorrelation) != 2:
            raise ValueError(f"decorrelation must be None or (rho_s, rho_t), got {decorrelation!r}")
        for rho in decorrelation:
            if isinstance(rho, (bool, np.bool_)) or not isinstance(rho, numbers.Real) or not 0 <= rho < 1:
                raise ValueError(f"decorrelation must hold numbers in [0, 1), got {decorrelation!r}")
        decorrelation = tuple(float(rho) for rho in decorrelation)
    T, H, W = volume.shape
    for axis, (name, size, length) in enumerate(zip("xyt", window, (W, H, T))):
        if size > length:
            what = "frames" if name == "t" else ("columns" if name == "x" else "rows")
            raise ValueError(f"volume has {length} {what}, fewer than window[{axis}]={size} ({name})")
    blocks = _check_blocks(blocks, volume.shape)
    per_plane = [
        _histograms(code, origin[1:], (H, W), blocks, 256)
        for code, origin in _lpq_top_codes(volume.astype(np.float64, copy=False), window, decorrelation)
    ]
    return _assemble(per_plane)


# ---------------------------------------------------------------------------
# the features stage


def to_grey(clip):
    """Grey frames of an RGB clip, as OpenCV's RGB-to-grey (BT.601, rounded).

    Parameters
    ----------
    clip : (T, H, W, 3) array_like of uint8
        RGB frames.

    Returns
    -------
    (T, H, W) ndarray of uint8
        ``cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)`` of every frame.

    Raises
    ------
    ValueError
        If ``clip`` is not a (T, H, W, 3) uint8 array.

    Examples
    --------
    >>> import numpy as np
    >>> to_grey(np.full((2, 4, 4, 3), (255, 0, 0), np.uint8))[0, 0, 0]  # 0.299 * 255
    np.uint8(76)
    """
    clip = check_array("clip", clip, ndim=4)
    if clip.dtype != np.uint8 or clip.shape[-1] != 3:
        raise ValueError(f"clip must be (T, H, W, 3) uint8 RGB, got {clip.dtype} {clip.shape}")
    T, H, W, _ = clip.shape
    if clip.size == 0:
        return np.zeros((T, H, W), dtype=np.uint8)
    # the conversion is per pixel, so the frames can go through as one tall image
    grey = cv2.cvtColor(np.ascontiguousarray(clip).reshape(T * H, W, 3), cv2.COLOR_RGB2GRAY)
    return grey.reshape(T, H, W)


#: Keyword arguments of each descriptor and their defaults, read from its signature.
_PARAMETERS = {
    function.__name__: {
        name: parameter.default
        for name, parameter in inspect.signature(function).parameters.items()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY
    }
    for function in (lbp_top, lpq_top)
}


def _check_temporal(temporal):
    if temporal is None or (isinstance(temporal, str) and temporal.lower() == "none"):
        return None
    if isinstance(temporal, (bool, np.bool_)) or not isinstance(temporal, numbers.Integral) or temporal < 2:
        raise ValueError(f"temporal must be None, 'none' or a number of frames >= 2, got {temporal!r}")
    return int(temporal)


def _frames_needed(descriptor, params):
    """(minimum frames, the setting that asks for them) of a descriptor's settings, or None if invalid."""
    key = "radii" if descriptor == "lbp_top" else "window"
    value = params.get(key, _PARAMETERS[descriptor][key])
    try:
        along_t = float(value[2])
    except (TypeError, ValueError, IndexError):
        return None  # the descriptor's own checks will name the problem
    needed = 2 * math.ceil(along_t) + 1 if descriptor == "lbp_top" else int(along_t)
    return needed, f"{key}[2] (t) = {value[2]} (features.{descriptor}.{key})"


def extract_set(set_dir, manifest, *, descriptor, params=None, temporal=None, frame_rates=None, output):
    """Describe every clip of a set and write the features stage's ``.npz``.

    Each clip ``{set_dir}/{clip_id}.npy`` ((T, H, W, 3) uint8 RGB) is turned
    grey (:func:`to_grey`), optionally resampled in time by TIM
    (:func:`mesr.temporal.tim`, then rounded and clipped to uint8) and
    described by ``descriptor``.

    Parameters
    ----------
    set_dir : path-like
        Directory of the set, ``results/sets/{set}``.
    manifest : path-like
        Manifest TSV (docs/data.md#manifest) with at least the columns ``clip_id``,
        ``subject`` and ``label`` (and ``dataset``, kept when present); rows
        are described in file order.
    descriptor : {"lbp_top", "lpq_top"}
    params : dict, optional
        Keyword arguments of the descriptor (lists are taken as tuples);
        missing ones take the descriptor's defaults.
    temporal : None, "none" or int, optional
        None/"none" keeps the frames; an int N >= 2 resamples every clip to
        N frames with TIM.
    frame_rates : dict, optional
        Dataset name -> frames per second, for the message on a clip too
        short for the descriptor (a clip of 5 frames is 50 ms at 100 fps).
    output : path-like
        The ``.npz`` to write (atomically) with arrays ``features`` (N, D)
        float64, ``clip_id`` (N,) str, ``subject`` (N,) str, ``label`` (N,)
        str, ``dataset`` (N,) str when the manifest has the column, and
        ``params`` (JSON of descriptor, params and temporal).

    Returns
    -------
    pathlib.Path
        ``output``.

    Raises
    ------
    ValueError
        If an option is unknown or invalid, the manifest lacks a column or
        lists no clip, or a clip file is missing, unreadable or too small for
        the descriptor (the message names the file; a clip with fewer frames
        than the temporal radius or window needs names the clip, its frame
        count and duration at its dataset's frame rate, the setting and the
        minimum, and suggests TIM).

    References
    ----------
    .. [1] Z. Zhou, G. Zhao and M. Pietikainen, "Towards a practical
       lipreading system", CVPR 2011. :doi:`10.1109/CVPR.2011.5995345`

    Examples
    --------
    >>> extract_set("results/sets/HR128", "results/manifest.tsv", descriptor="lbp_top",
    ...             params={"radii": [1, 1, 2], "blocks": [8, 8]},
    ...             output="results/features/HR128/lbp_top.npz")  # doctest: +SKIP
    """
    import pandas as pd

    from mesr.io import atomic_path, load_clip
    from mesr.temporal import tim

    descriptor = check_option("descriptor", descriptor, DESCRIPTORS)
    params = {} if params is None else dict(params)
    unknown = sorted(set(params) - set(_PARAMETERS[descriptor]))
    if unknown:
        valid = ", ".join(_PARAMETERS[descriptor])
        raise ValueError(f"params has unknown key(s) {unknown} for {descriptor}; valid: {valid}")
    params = {key: tuple(value) if isinstance(value, list) else value for key, value in params.items()}
    temporal = _check_temporal(temporal)
    function = lbp_top if descriptor == "lbp_top" else lpq_top

    manifest = Path(manifest)
    table = pd.read_csv(manifest, sep="\t", dtype={"clip_id": str, "subject": str, "label": str, "dataset": str})
    missing = [column for column in ("clip_id", "subject", "label") if column not in table.columns]
    if missing:
        raise ValueError(f"{manifest}: manifest lacks column(s) {missing}")
    if table.empty:
        raise ValueError(f"{manifest}: manifest lists no clips")
    subjects = table["subject"].to_numpy().astype(str)

    needed = _frames_needed(descriptor, params)
    if needed is not None and temporal is not None and temporal < needed[0]:
        raise ValueError(
            f"features.temporal = {temporal} resamples every clip to {temporal} frames, too few for {descriptor} "
            f"with {needed[1]}: it needs at least {needed[0]} frames; raise features.temporal or lower the setting"
        )
    features = []
    datasets = table["dataset"] if "dataset" in table.columns else [None] * len(table)
    for clip_id, dataset in zip(table["clip_id"], datasets):
        path = Path(set_dir) / f"{clip_id}.npy"
        volume = to_grey(load_clip(path))
        if temporal is not None and volume.shape[0] < 2:
            raise ValueError(
                f"clip {clip_id} ({path}) has {volume.shape[0]} frame; features.temporal (TIM to {temporal} frames) "
                f"needs clips of at least 2 frames: remove the clip from the dataset"
            )
        if needed is not None and temporal is None and volume.shape[0] < needed[0]:
            fps = (frame_rates or {}).get(dataset)
            duration = f" ({1000 * volume.shape[0] / fps:.0f} ms at {dataset}'s {fps} fps)" if fps else ""
            raise ValueError(
                f"clip {clip_id} ({path}) has {volume.shape[0]} frame(s){duration}, too few for {descriptor} with "
                f"{needed[1]}: it needs at least {needed[0]} frames; resample every clip with features.temporal "
                f"(TIM, e.g. features.temporal: 10), lower the setting or remove the clip"
            )
        try:
            if temporal is not None:
                volume = np.clip(np.rint(tim(volume, temporal)), 0, 255).astype(np.uint8)
            features.append(function(volume, **params))
        except ValueError as error:
            raise ValueError(f"{path}: {error}") from error
        logger.debug("%s: %s of %d frames", path, descriptor, volume.shape[0])
    lengths = {len(f) for f in features}
    if len(lengths) != 1:
        raise ValueError(f"{set_dir}: clips give features of different lengths {sorted(lengths)}")

    record = json.dumps({"descriptor": descriptor, "params": params, "temporal": temporal}, sort_keys=True)
    arrays = {
        "features": np.stack(features).astype(np.float64),
        "clip_id": table["clip_id"].to_numpy().astype(str),
        "subject": subjects,
        "label": table["label"].to_numpy().astype(str),
        **({"dataset": table["dataset"].to_numpy().astype(str)} if "dataset" in table.columns else {}),
        "params": np.array(record),
    }
    output = Path(output)
    with atomic_path(output) as temporary:
        with open(temporary, "wb") as handle:  # a handle, so numpy does not append ".npz"
            np.savez(handle, **arrays)
    logger.info("%s: %d clips, %d %s features each", output, len(features), features[0].size, descriptor)
    return output
