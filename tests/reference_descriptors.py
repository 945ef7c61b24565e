"""Slow reference implementations of LBP-TOP and LPQ-TOP, straight from docs/descriptors.md.

Plain Python loops over voxels, sharing no code with ``mesr.descriptors``;
used by ``tests/test_descriptors.py`` and ``benchmarks/descriptors.py``.
Two conventions the text of docs/descriptors.md leaves open are written here the same way as
the library documents them, but independently:

* nearest: offsets are exact reals rounded half up; ``floor(d + 0.5 + 1e-9)``
  absorbs the float64 error of ``cos``/``sin`` at exact halves.
* LPQ: a coefficient counts as ``>= 0`` when it is at least
  ``-1e-12 * rows * cols * max|volume|`` (exact zeros computed in float).
"""

import cmath
import math

import numpy as np


def u2_bins(points):
    """Dict code -> u2 bin by enumerating all codes and counting transitions."""
    uniform = []
    for code in range(2**points):
        bits = [(code >> i) & 1 for i in range(points)]
        transitions = sum(bits[i] != bits[(i + 1) % points] for i in range(points))
        if transitions <= 2:
            uniform.append(code)
    uniform.sort()
    rank = {code: i for i, code in enumerate(uniform)}
    return {code: rank.get(code, len(uniform)) for code in range(2**points)}


def _bilinear(get, row, col):
    """Bilinear interpolation at (row, col) of an image read by ``get(r, c)``."""
    r0, c0 = math.floor(row), math.floor(col)
    fr, fc = row - r0, col - c0
    value = 0.0
    for r, wr in ((r0, 1.0 - fr), (r0 + 1, fr)):
        for c, wc in ((c0, 1.0 - fc), (c0 + 1, fc)):
            if wr * wc != 0.0:
                value += wr * wc * get(r, c)
    return value


def _finish(counts, n_blocks, bins):
    """Normalise counts[block][plane] and lay them out block, plane, bin."""
    out = []
    for block in range(n_blocks):
        for plane in range(3):
            total = sum(counts[block][plane])
            out.extend(c / total if total else 0.0 for c in counts[block][plane])
    return np.array(out, dtype=np.float64)


def lbp_top_reference(volume, radii=(1, 1, 1), points=(8, 8, 8), blocks=(1, 1), mapping="u2", interpolation="bilinear"):
    """LBP-TOP by loops over voxels (docs/descriptors.md)."""
    v = np.asarray(volume, dtype=np.float64)
    T, H, W = v.shape
    rx, ry, rt = radii
    rows, cols = blocks
    border, border_t = math.ceil(max(rx, ry)), math.ceil(rt)
    tables = [u2_bins(p) if mapping == "u2" else None for p in points]
    bins = [p * (p - 1) + 3 if mapping == "u2" else 2**p for p in points]
    counts = [[[0] * bins[k] for k in range(3)] for _ in range(rows * cols)]
    for t in range(border_t, T - border_t):
        for y in range(border, H - border):
            for x in range(border, W - border):
                centre = v[t, y, x]
                block = (y * rows // H) * cols + (x * cols // W)
                for plane in range(3):
                    n = points[plane]
                    code = 0
                    for p in range(n):
                        a = 2 * math.pi * p / n
                        # (t, y, x) position of the neighbour, and the plane's two axes
                        if plane == 0:
                            pos, axes = [t, y - ry * math.sin(a), x + rx * math.cos(a)], (1, 2)
                        elif plane == 1:
                            pos, axes = [t + rt * math.sin(a), y, x + rx * math.cos(a)], (0, 2)
                        else:
                            pos, axes = [t + rt * math.cos(a), y - ry * math.sin(a), x], (0, 1)
                        if interpolation == "nearest":
                            centre_pos = (t, y, x)
                            idx = [c + math.floor(q - c + 0.5 + 1e-9) for q, c in zip(pos, centre_pos)]
                            bit = v[idx[0], idx[1], idx[2]] >= centre
                        else:

                            def get(r, c, pos=pos, axes=axes):
                                idx = list(pos)
                                idx[axes[0]], idx[axes[1]] = r, c
                                return v[int(idx[0]), int(idx[1]), int(idx[2])]

                            bit = _bilinear(get, pos[axes[0]], pos[axes[1]]) >= centre - 1e-6
                        code += int(bit) << p
                    counts[block][plane][tables[plane][code] if tables[plane] else code] += 1
    return _finish(counts, rows * cols, bins)


def lpq_decorrelation(rows, cols, rho_rows, rho_cols, euclid):
    """V of docs/descriptors.md by explicit loops and an eigendecomposition (columns signed)."""

    def filters(w):
        r = w // 2
        w1 = [cmath.exp(-2j * math.pi * k / w) for k in range(-r, r + 1)]
        return [1.0] * w, w1, [z.conjugate() for z in w1]

    a0, a1, _ = filters(rows)
    b0, b1, b2 = filters(cols)
    pairs = [(a0, b1), (a1, b0), (a1, b1), (a1, b2)]
    positions = [(r, c) for c in range(cols) for r in range(rows)]  # column-major
    matrix = []
    for fr, fc in pairs:
        values = [fr[r] * fc[c] for r, c in positions]
        matrix.append([z.real for z in values])
        matrix.append([z.imag for z in values])
    n = len(positions)
    cov = np.empty((n, n))
    for i, (r1, c1) in enumerate(positions):
        for j, (r2, c2) in enumerate(positions):
            if euclid:
                cov[i, j] = rho_rows ** math.sqrt((r1 - r2) ** 2 + (c1 - c2) ** 2)
            else:
                cov[i, j] = rho_rows ** abs(r1 - r2) * rho_cols ** abs(c1 - c2)
    m = np.array(matrix)
    d = m @ cov @ m.T
    scale = np.array([1.000007, 1.000006, 1.000005, 1.000004, 1.000003, 1.000002, 1.000001, 1.0])
    sym = scale[:, None] * d * scale[None, :]
    values, vectors = np.linalg.eigh((sym + sym.T) / 2)  # A D A is symmetric positive definite
    vectors = vectors[:, np.argsort(values)[::-1]]  # svd order: decreasing singular values
    for j in range(8):
        k = int(np.argmax(np.abs(vectors[:, j])))
        if vectors[k, j] < 0:
            vectors[:, j] = -vectors[:, j]
    return vectors


def _lpq_slice_codes(get, n_rows, n_cols, w_rows, w_cols, decorr, tol):
    """Yield (row, col, code) of the valid positions of one slice read by ``get``."""

    def filters(w):
        r = w // 2
        w1 = {k: cmath.exp(-2j * math.pi * k / w) for k in range(-r, r + 1)}
        return {k: 1.0 for k in w1}, w1, {k: z.conjugate() for k, z in w1.items()}

    r_r, r_c = w_rows // 2, w_cols // 2
    f0r, f1r, _ = filters(w_rows)
    f0c, f1c, f2c = filters(w_cols)
    pairs = [(f0r, f1c), (f1r, f0c), (f1r, f1c), (f1r, f2c)]
    for row in range(r_r, n_rows - r_r):
        for col in range(r_c, n_cols - r_c):
            coefficients = []
            for fr, fc in pairs:
                total = 0j
                for a in range(-r_r, r_r + 1):
                    for b in range(-r_c, r_c + 1):
                        total += get(row - a, col - b) * fr[a] * fc[b]  # true convolution
                coefficients += [total.real, total.imag]
            if decorr is not None:
                coefficients = [sum(coefficients[m] * decorr[m, j] for m in range(8)) for j in range(8)]
            code = sum(1 << j for j, c in enumerate(coefficients) if c >= tol)
            yield row, col, code


def lpq_top_reference(volume, window=(5, 5, 5), decorrelation=(0.1, 0.1), blocks=(1, 1)):
    """LPQ-TOP by loops over slices and positions (docs/descriptors.md)."""
    v = np.asarray(volume, dtype=np.float64)
    T, H, W = v.shape
    wx, wy, wt = window
    rows, cols = blocks
    scale = max(float(np.abs(v).max()), 1.0)
    counts = [[[0] * 256 for _ in range(3)] for _ in range(rows * cols)]

    def add(plane, y, x, code):
        counts[(y * rows // H) * cols + (x * cols // W)][plane][code] += 1

    def decorr(r, c, euclid):
        if decorrelation is None:
            return None
        rho_s, rho_t = decorrelation
        return lpq_decorrelation(r, c, rho_s, rho_s if euclid else rho_t, euclid)

    # XY: one slice per frame, rows y, cols x
    d = decorr(wy, wx, True)
    for t in range(T):
        for y, x, code in _lpq_slice_codes(lambda r, c: v[t, r, c], H, W, wy, wx, d, -1e-12 * wy * wx * scale):
            add(0, y, x, code)
    # XT: one slice per row y, rows x, cols t
    d = decorr(wx, wt, False)
    for y in range(H):
        for x, t, code in _lpq_slice_codes(lambda r, c: v[c, y, r], W, T, wx, wt, d, -1e-12 * wx * wt * scale):
            add(1, y, x, code)
    # YT: one slice per column x, rows y, cols t
    d = decorr(wy, wt, False)
    for x in range(W):
        for y, t, code in _lpq_slice_codes(lambda r, c: v[c, r, x], H, T, wy, wt, d, -1e-12 * wy * wt * scale):
            add(2, y, x, code)
    return _finish(counts, rows * cols, [256] * 3)
