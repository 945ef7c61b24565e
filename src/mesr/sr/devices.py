"""Whether a job that asked for a GPU got one (docs/layout.md#gpu).

On a cluster, the networks' jobs request ``gpu=1`` and the scheduler gives
them a node with a GPU; the job then trains on the CPU, silently and many
times slower, when TensorFlow cannot use it: the CPU-only build
(``tensorflow-cpu`` of requirements.txt), a driver too old for the build's
CUDA, or ``CUDA_VISIBLE_DEVICES`` hiding it. :func:`check_gpu` says so in the
job's log, naming the node and the build, or stops the job (``require_gpu``).
"""

import logging
import os
import socket

__all__ = ["check_gpu"]

logger = logging.getLogger(__name__)


def check_gpu(requested, *, require=False):
    """Compare the GPUs a job requested with those TensorFlow sees; warn, or raise, when it sees none.

    Parameters
    ----------
    requested : int
        GPUs the job requested (its ``resources: gpu``); 0 checks nothing (and imports nothing).
    require : bool
        Raise instead of warning (config ``require_gpu``).

    Returns
    -------
    list
        TensorFlow's physical GPU devices.

    Raises
    ------
    RuntimeError
        With ``require``, when a GPU was requested and none is visible.
    """
    if not requested:
        return []
    import tensorflow as tf  # only jobs that asked for a GPU pay for the import

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        build = tf.sysconfig.get_build_info()
        kind = f"CUDA {build['cuda_version']} build" if build.get("is_cuda_build") else "CPU-only build"
        message = (
            f"{socket.gethostname()}: the job requested {requested} GPU(s), but TensorFlow {tf.__version__} "
            f"({kind}) sees none, so it runs on the CPU. Install the GPU build (requirements-gpu.txt, or "
            f"--sdm conda), check the NVIDIA driver (nvidia-smi) and CUDA_VISIBLE_DEVICES="
            f"{os.environ.get('CUDA_VISIBLE_DEVICES')!r}; require_gpu: true makes this an error"
        )
        if require:
            raise RuntimeError(message)
        logger.warning(message)
    else:
        logger.info("TensorFlow sees %s", ", ".join(gpu.name for gpu in gpus))
    return gpus
