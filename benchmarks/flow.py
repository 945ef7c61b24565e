"""Speed of mesr.flow.optical_flow against OpenCV's own call (run on demand).

    python benchmarks/flow.py [--pairs 20] [--repeats 3] [--seed 0] [--threads N]

Measured in one run on the same seeded frame pairs (128x128 uint8, a smooth
random texture and its copy moved by a random sub-pixel shift of up to 2
pixels), for both methods with their defaults (TV-L1: OpenCV's; DIS: preset
MEDIUM):

* frame pairs per second of :func:`mesr.flow.optical_flow`;
* frame pairs per second of OpenCV alone: one flow object created beforehand
  and ``calc`` called on each pair; the ratio ours / OpenCV (> 1: ours
  faster) shows what the checks and the fresh object of every call cost.
  Both run in turn in each round, best of ``--repeats`` rounds; whether the
  flows are equal is checked;
* the mean error of the recovered shift (median flow over the interior), to
  show both did the same work;
* the flow stage's time for a SMIC-sized set (164 clips of ~34 frames) at the
  measured speed: one flow per clip with an annotated apex, 33 with
  ``max_flow``.

No target: the ratio should stay close to 1 (the flow itself dominates).
"""

import argparse
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src")]

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from mesr.flow import optical_flow  # noqa: E402

SIZE = 128
CLIPS, FRAMES = 164, 34


def frame_pairs(n, rng):
    """``n`` (first, second, (dx, dy)) pairs of SIZE x SIZE uint8 frames."""
    pairs = []
    for _ in range(n):
        image = cv2.GaussianBlur(rng.normal(size=(SIZE, SIZE)), (0, 0), 2.5)
        image = 30 + 190 * (image - image.min()) / (image.max() - image.min())
        shift = rng.uniform(-2, 2, 2)
        matrix = np.float64([[1, 0, shift[0]], [0, 1, shift[1]]])
        moved = cv2.warpAffine(image, matrix, (SIZE, SIZE), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
        to_uint8 = lambda a: np.clip(np.rint(a), 0, 255).astype(np.uint8)  # noqa: E731
        pairs.append((to_uint8(image), to_uint8(moved), shift))
    return pairs


def interleaved(functions, repeats):
    """Smallest wall time (seconds) of each function over ``repeats`` rounds, and its last result.

    The functions run in turn within each round, so that a change of machine
    load hits all of them alike.
    """
    times, results = [float("inf")] * len(functions), [None] * len(functions)
    for _ in range(repeats):
        for i, function in enumerate(functions):
            start = time.perf_counter()
            results[i] = function()
            times[i] = min(times[i], time.perf_counter() - start)
    return times, results


def shift_error(flows, pairs):
    """Mean distance between the median interior flow and the true shift (pixels)."""
    errors = [
        np.hypot(*(np.median(flow[16:-16, 16:-16].reshape(-1, 2), axis=0) - shift))
        for flow, (_, _, shift) in zip(flows, pairs)
    ]
    return float(np.mean(errors))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=20, help="frame pairs per timing (default 20)")
    parser.add_argument("--repeats", type=int, default=3, help="repeats of each timing (best of, default 3)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="cv2.setNumThreads (default: OpenCV's)")
    args = parser.parse_args()
    if args.threads is not None:
        cv2.setNumThreads(args.threads)
    pairs = frame_pairs(args.pairs, np.random.default_rng(args.seed))

    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"python {platform.python_version()}, numpy {np.__version__}, opencv {cv2.__version__} "
        f"({cv2.getNumThreads()} threads)"
    )
    print(f"\n{args.pairs} frame pairs of {SIZE}x{SIZE}, shifts up to 2 px, best of {args.repeats}")
    print(f"  {'method':6s} {'ours pairs/s':>13s} {'OpenCV pairs/s':>15s} {'ours/OpenCV':>12s} {'shift error px':>15s}")
    opencv = {
        "tvl1": lambda: cv2.optflow.DualTVL1OpticalFlow_create(),
        "dis": lambda: cv2.DISOpticalFlow_create(cv2.DISOpticalFlow_PRESET_MEDIUM),
    }
    speeds = {}
    for method, create in opencv.items():
        algorithm = create()
        (ours, theirs), (flows, reference) = interleaved(
            [
                lambda: [optical_flow(a, b, method=method) for a, b, _ in pairs],
                lambda: [algorithm.calc(a, b, None) for a, b, _ in pairs],
            ],
            args.repeats,
        )
        same = all(np.array_equal(f, r) for f, r in zip(flows, reference))
        speeds[method] = args.pairs / ours
        print(
            f"  {method:6s} {args.pairs / ours:13.1f} {args.pairs / theirs:15.1f} {theirs / ours:12.3f} "
            f"{shift_error(flows, pairs):15.3f}{'' if same else '  (flows differ from OpenCV!)'}"
        )

    print(f"\nflow stage on a SMIC-sized set ({CLIPS} clips of {FRAMES} frames) at these speeds")
    for method, speed in speeds.items():
        annotated, max_flow = CLIPS / speed, CLIPS * (FRAMES - 1) / speed
        print(f"  {method:6s} annotated apex {annotated:8.1f} s   max_flow apex {max_flow:8.1f} s")


if __name__ == "__main__":
    main()
