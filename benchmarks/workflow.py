"""Wall time of the demo study end to end, and of the rerun after one model's settings change (run on demand).

    python benchmarks/workflow.py [--cores 2] [--model psnr_small] [--workdir DIR]

In a temporary work directory (or ``--workdir``, kept), with this repository's Snakefile:

1. the demo study (``config/demo.yaml``: synthetic SMIC-HS, five small models trained by the
   workflow) from nothing to the HTML report's inputs, ``snakemake --cores N``;
2. an overlay config that changes one model's training seed; ``snakemake -n`` lists what it would
   rerun (that model's training, SR sets, quality, features and evaluations, plus the tables,
   figures and resolved config), then the rerun itself.

Targets (issue "Cluster-ready and incremental", 2-core machine): the full demo run in under
10 minutes; the rerun after one model's change in under 25% of the full run.
"""

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FULL_TARGET_S = 600
RATIO_TARGET = 0.25


def snakemake(workdir, *arguments):
    command = [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(ROOT / "Snakefile"),
        "--directory",
        str(workdir),
        *arguments,
    ]
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, cwd=workdir)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"snakemake failed ({result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result.stdout + result.stderr, elapsed


def scheduled(output):
    """Jobs per rule that a dry run lists."""
    return Counter(re.findall(r"^(?:local)?rule (\w+):$", output, flags=re.M))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--model", default="psnr_small", help="the model whose training seed changes")
    parser.add_argument("--workdir", type=Path, help="work directory to use and keep (default: a temporary one)")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="mesr-workflow-benchmark-"))
    workdir.mkdir(parents=True, exist_ok=True)
    demo = str(ROOT / "config" / "demo.yaml")
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, --cores {args.cores}, "
        f"work directory {workdir}",
        flush=True,
    )
    try:
        plan, _ = snakemake(workdir, "-n", "--cores", str(args.cores), "--configfile", demo)
        print(f"full run: {sum(scheduled(plan).values())} jobs", flush=True)
        _, full = snakemake(workdir, "--cores", str(args.cores), "--configfile", demo)
        print(f"full run: {full:.1f} s", flush=True)

        overlay = workdir / "benchmark-overlay.yaml"
        overlay.write_text(f"models:\n  {args.model}:\n    training:\n      seed: 12345\n")
        plan, _ = snakemake(workdir, "-n", "--cores", str(args.cores), "--configfile", demo, str(overlay))
        jobs = scheduled(plan)
        print(
            f"after {args.model}'s training seed changed: {sum(jobs.values())} jobs "
            f"({', '.join(f'{rule} {n}' for rule, n in sorted(jobs.items()))})",
            flush=True,
        )
        _, rerun = snakemake(workdir, "--cores", str(args.cores), "--configfile", demo, str(overlay))
        print(f"rerun: {rerun:.1f} s", flush=True)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)

    ratio = rerun / full
    print(
        f"\nrerun / full run = {ratio:.2f}: target < {RATIO_TARGET:.2f} {'MET' if ratio < RATIO_TARGET else 'NOT MET'}"
    )
    print(
        f"full run {full / 60:.1f} min: target < {FULL_TARGET_S // 60} min "
        f"{'MET' if full < FULL_TARGET_S else 'NOT MET'}"
    )


if __name__ == "__main__":
    main()
