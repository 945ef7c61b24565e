"""Temporal interpolation model (TIM) of Zhou, Zhao & Pietikainen (docs/descriptors.md).

TIM resamples a clip to a fixed number of frames along a curve fitted to
the frames by graph embedding: the frames are projected on their principal
components and each component is written in the basis of the path graph's
Laplacian eigenvectors ``sin(p k pi + pi (T - k) / (2 T))``, which can be
evaluated at any position ``p`` in ``[1/T, 1]``.
"""

import logging
import numbers

import numpy as np

from mesr._checks import check_array

__all__ = ["tim"]

logger = logging.getLogger(__name__)


def _basis(n_input, positions):
    """``B[k - 1, i] = sin(p_i k pi + pi (T - k) / (2 T))`` for k = 1..T-1: (T - 1, len(positions))."""
    k = np.arange(1, n_input)[:, None]
    return np.sin(np.asarray(positions)[None, :] * k * np.pi + np.pi * (n_input - k) / (2 * n_input))


def tim(volume, n_frames):
    """Resample a clip to ``n_frames`` frames with the temporal interpolation model.

    Frames are vectors ``x_1 .. x_T`` with mean ``mu``; the economy SVD of
    the centred frames, kept to T - 1 components, gives ``U`` and
    ``Y = S V^T`` ((T - 1) x T). With ``B[k, i] = b_k(i / T)``,
    ``b_k(p) = sin(p k pi + pi (T - k) / (2 T))`` (k = 1..T-1), ``M`` solves
    ``Y = M B``; output frame j is ``U M b(p_j) + mu`` at
    ``p_j = linspace(1/T, 1, n_frames)[j]``. The first and last frames are
    kept, and ``n_frames = T`` returns the input up to float rounding.

    Parameters
    ----------
    volume : (T, H, W) or (T, H, W, C) array_like of real numbers
        Frames in temporal order, T >= 2. Whole frames (all channels) are the
        vectors of the model.
    n_frames : int
        Number of output frames, >= 2.

    Returns
    -------
    (n_frames, H, W) or (n_frames, H, W, C) ndarray of float64
        Interpolated frames, neither rounded nor clipped.

    Raises
    ------
    ValueError
        If ``volume`` is not 3-D or 4-D, has fewer than 2 frames or
        non-finite values, or ``n_frames`` is not an integer >= 2.

    References
    ----------
    .. [1] Z. Zhou, G. Zhao and M. Pietikainen, "Towards a practical
       lipreading system", CVPR 2011, pp. 137-144.
       :doi:`10.1109/CVPR.2011.5995345`

    Examples
    --------
    >>> import numpy as np
    >>> clip = np.random.default_rng(0).integers(0, 256, (5, 4, 4)).astype(float)
    >>> out = tim(clip, 9)
    >>> out.shape, bool(np.allclose(out[0], clip[0]) and np.allclose(out[-1], clip[-1]))
    ((9, 4, 4), True)
    """
    volume = check_array("volume", volume, ndim=(3, 4))
    if volume.dtype.kind not in "iuf":
        raise ValueError(f"volume must hold real numbers, got dtype {volume.dtype}")
    if isinstance(n_frames, (bool, np.bool_)) or not isinstance(n_frames, numbers.Integral) or n_frames < 2:
        raise ValueError(f"n_frames must be an integer >= 2 (first and last frames are kept), got {n_frames!r}")
    n_input = volume.shape[0]
    if n_input < 2:
        raise ValueError(f"volume must have at least 2 frames (T >= 2), got T={n_input}")
    frames = volume.reshape(n_input, -1).astype(np.float64).T  # D x T, one column per frame
    if not np.all(np.isfinite(frames)):
        raise ValueError("volume must hold finite values")
    mean = frames.mean(axis=1, keepdims=True)
    u, s, vh = np.linalg.svd(frames - mean, full_matrices=False)
    u, s, vh = u[:, : n_input - 1], s[: n_input - 1], vh[: n_input - 1]
    y = s[:, None] * vh  # (T - 1) x T
    b = _basis(n_input, np.arange(1, n_input + 1) / n_input)
    m = np.linalg.lstsq(b.T, y.T, rcond=None)[0].T  # Y = M B
    positions = np.linspace(1 / n_input, 1, int(n_frames))
    out = u @ (m @ _basis(n_input, positions)) + mean  # D x n_frames
    logger.debug("TIM: %d frames -> %d", n_input, n_frames)
    return np.ascontiguousarray(out.T).reshape((int(n_frames),) + volume.shape[1:])
