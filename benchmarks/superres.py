"""Throughput of the super-resolution stage against the bare network call (run on demand).

    python benchmarks/superres.py [--frames 16] [--clips 4] [--models psnr_small,esrgan]

For each of the paper's networks at its paper size (LR64 -> 128 for x2 models, LR32 -> 128 for x4;
random weights: speed does not depend on them), measured in one run on the same frames:

* frames per second of the bare ``model(x)`` call on float32 batches (the reference);
* frames per second of the whole stage, ``mesr.sr.superresolve_set`` (reading the LR clips,
  converting, batching, running, clipping, rounding and writing the SR clips), and its ratio to the
  reference: the target is at least 0.8 (issue "The super-resolution networks...");
* whether XLA compilation helps: a ``tf.function(jit_compile=True)`` of the model against the same
  ``tf.function`` without XLA (the graph the stage runs).

Target: stage / bare >= 0.80 for every model. The stage builds and loads its network once per job, so
measure with realistic clip counts (the defaults: 6 clips of 34 frames) rather than a handful of frames.
"""

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import tensorflow as tf  # noqa: E402

from mesr.io import save_clip  # noqa: E402
from mesr.sr import build, save_weights, superresolve_set  # noqa: E402

#: The paper's networks (docs/models.md) and the LR size each runs on.
MODELS = {
    "esrgan_x2": ("rrdn", {"C": 4, "D": 3, "G": 32, "G0": 32, "T": 10}, 2),
    "esrgan": ("rrdn", {"C": 4, "D": 3, "G": 32, "G0": 32, "T": 10}, 4),
    "psnr_large": ("rdn", {"C": 6, "D": 20, "G": 64, "G0": 64}, 2),
    "psnr_small": ("rdn", {"C": 3, "D": 10, "G": 64, "G0": 64}, 2),
    "nesrgan_plus": ("nesrgan_plus", {"nf": 64, "gc": 32, "nb": 10}, 4),
}


def frames_per_second(call, frames, repeats):
    call(frames[:1])  # trace and warm up
    start = time.perf_counter()
    for _ in range(repeats):
        call(frames)
    return repeats * len(frames) / (time.perf_counter() - start)


def measure(name, frames_per_clip, clips, batch_size, workdir):
    arch, params, scale = MODELS[name]
    model = build(arch, params, scale)
    size = 128 // scale
    rng = np.random.default_rng(0)
    lr_dir = workdir / f"LR{size}"
    ids = [f"s1_ne_{k:02d}" for k in range(1, clips + 1)]
    for clip_id in ids:
        save_clip(lr_dir / f"{clip_id}.npy", rng.integers(0, 256, (frames_per_clip, size, size, 3), dtype=np.uint8))
    pd.DataFrame({"clip_id": ids}).to_csv(workdir / "manifest.tsv", sep="\t", index=False)
    weights = save_weights(model, workdir / f"{name}.hdf5")
    batch = tf.constant(rng.random((min(batch_size, frames_per_clip), size, size, 3), dtype=np.float32))

    def bare(x):
        return model(x, training=False).numpy()

    graph = tf.function(lambda x: model(x, training=False))
    xla = tf.function(lambda x: model(x, training=False), jit_compile=True)
    n_frames = clips * frames_per_clip
    repeats = max(1, n_frames // len(batch))
    bare_fps = frames_per_second(bare, batch, repeats)
    graph_fps = frames_per_second(lambda x: graph(x).numpy(), batch, repeats)
    xla_fps = frames_per_second(lambda x: xla(x).numpy(), batch, repeats)
    superresolve_set(
        lr_dir,
        workdir / "warm",
        workdir / "manifest.tsv",
        arch=arch,
        params=params,
        scale=scale,
        weights=weights,
        batch_size=batch_size,
    )  # builds, loads and traces once
    start = time.perf_counter()
    superresolve_set(
        lr_dir,
        workdir / f"SR{size}-{name}",
        workdir / "manifest.tsv",
        arch=arch,
        params=params,
        scale=scale,
        weights=weights,
        batch_size=batch_size,
    )
    stage_fps = n_frames / (time.perf_counter() - start)
    return {
        "model": name,
        "arch": arch,
        "scale": scale,
        "bare_fps": bare_fps,
        "stage_fps": stage_fps,
        "stage/bare": stage_fps / bare_fps,
        "xla/graph": xla_fps / graph_fps,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=34, help="frames per clip (SMIC-HS: 34 on average)")
    parser.add_argument("--clips", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--models", default=",".join(MODELS), help=f"comma-separated, from {', '.join(MODELS)}")
    args = parser.parse_args()
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, TensorFlow {tf.__version__}, "
        f"GPUs: {len(tf.config.list_physical_devices('GPU'))}"
    )
    rows = []
    for name in args.models.split(","):
        with tempfile.TemporaryDirectory() as workdir:
            rows.append(measure(name, args.frames, args.clips, args.batch_size, Path(workdir)))
        print(pd.DataFrame(rows[-1:]).to_string(index=False, header=len(rows) == 1, float_format="%.2f"), flush=True)
    table = pd.DataFrame(rows)
    met = (table["stage/bare"] >= 0.8).all()
    print(f"\ntarget stage/bare >= 0.80: {'MET' if met else 'NOT MET'} (lowest {table['stage/bare'].min():.2f})")
    helps = table[table["xla/graph"] > 1.05].model.tolist()
    print(
        f"XLA helps on this machine for: {', '.join(helps) if helps else 'none'} "
        f"(xla/graph from {table['xla/graph'].min():.2f} to {table['xla/graph'].max():.2f})"
    )


if __name__ == "__main__":
    main()
