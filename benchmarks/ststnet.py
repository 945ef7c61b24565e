"""Time of one STSTNet leave-one-subject-out evaluation on a SMIC-sized flow set (run on demand).

    python benchmarks/ststnet.py [--clips 164] [--subjects 16] [--size 128] [--epochs 800] [--threads N]

Writes a flow file of seeded random maps (u, v, strain at ``--size`` x ``--size``, the SMIC-HS class
proportions 70 / 51 / 43 negative / positive / surprise, clips spread unevenly over the subjects),
runs ``mesr.ststnet.ststnet_loso`` on it with the authors' training settings (800 epochs, learning
rate 5e-5, batch 256: one step per epoch for a SMIC training fold), and prints the machine, the
time of the whole evaluation, its time per fold and per training step. Random flows carry no class:
the accuracy printed is near chance, and only the time means something. No target.
"""

import argparse
import json
import logging
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import numpy as np  # noqa: E402

#: SMIC-HS: 164 clips of 16 subjects, 70 negative, 51 positive, 43 surprise.
SMIC_CLASSES = {"negative": 70, "positive": 51, "surprise": 43}


def write_flow_set(path, *, clips, subjects, size, seed):
    """A flow file of random maps, the SMIC class proportions and an uneven spread of clips over subjects."""
    rng = np.random.default_rng(seed)
    total = sum(SMIC_CLASSES.values())
    counts = [round(clips * n / total) for n in SMIC_CLASSES.values()]
    counts[0] += clips - sum(counts)
    labels = np.repeat(list(SMIC_CLASSES), counts)
    rng.shuffle(labels)
    weights = rng.uniform(0.3, 1.7, subjects)
    subject = np.array([f"s{k + 1}" for k in rng.choice(subjects, size=clips, p=weights / weights.sum())])
    subject[:subjects] = [f"s{k + 1}" for k in range(subjects)]  # every subject has a clip
    shape = (clips, size, size)
    np.savez(
        path,
        u=rng.normal(0, 1, shape).astype(np.float32),
        v=rng.normal(0, 1, shape).astype(np.float32),
        strain=np.abs(rng.normal(0, 0.05, shape)).astype(np.float32),
        clip_id=np.array([f"{s}_{i:03d}" for i, s in enumerate(subject)]),
        subject=subject,
        label=labels,
        apex=np.full(clips, 10),
        apex_source=np.array(["annotated"] * clips),
        params=json.dumps({"benchmark": "random flows", "size": size, "seed": seed}),
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=164)
    parser.add_argument("--subjects", type=int, default=16)
    parser.add_argument("--size", type=int, default=128, help="side of the flow maps (resized to 28)")
    parser.add_argument("--epochs", type=int, default=800)
    parser.add_argument("--learning-rate", type=float, default=5e-5)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="TensorFlow CPU threads (default: all)")
    parser.add_argument("--verbose", action="store_true", help="log every fold")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")

    import tensorflow as tf

    if args.threads is not None:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    from mesr.ststnet import ststnet_loso

    gpus = tf.config.list_physical_devices("GPU")
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs "
        f"(TensorFlow threads: {args.threads or 'all'}), GPUs: {', '.join(g.name for g in gpus) or 'none'}, "
        f"TensorFlow {tf.__version__}, Python {platform.python_version()}"
    )
    with tempfile.TemporaryDirectory() as workdir:
        workdir = Path(workdir)
        flow = workdir / "flow.npz"
        write_flow_set(flow, clips=args.clips, subjects=args.subjects, size=args.size, seed=args.seed)
        start = time.perf_counter()
        summary = ststnet_loso(
            flow,
            workdir / "out",
            epochs=args.epochs,
            learning_rate=args.learning_rate,
            batch_size=args.batch_size,
            seed=args.seed,
        )
        seconds = time.perf_counter() - start
    folds = summary["n_subjects"]
    train = args.clips - args.clips / folds  # mean training clips per fold
    steps = folds * args.epochs * int(np.ceil(train / args.batch_size))
    print(
        f"{args.clips} clips of {folds} subjects, {args.size}x{args.size} -> 28x28, {args.epochs} epochs, "
        f"batch {args.batch_size}, learning rate {args.learning_rate:g}, {summary['classifier']['parameters']} "
        f"trainable parameters, on the {summary['classifier']['device']}"
    )
    print(
        f"LOSO: {seconds:.1f} s ({seconds / 60:.1f} min), {seconds / folds:.1f} s per fold, "
        f"about {1000 * seconds / steps:.1f} ms per training step ({steps} steps); "
        f"accuracy {summary['accuracy']:.3f} (random flows: chance)"
    )


if __name__ == "__main__":
    main()
