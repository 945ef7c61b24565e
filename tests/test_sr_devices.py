"""A job that asked for a GPU and got none says so (docs/layout.md#gpu)."""

import socket

import pytest
import tensorflow as tf

from mesr.sr.devices import check_gpu

GPUS = tf.config.list_physical_devices("GPU")


def test_nothing_requested_nothing_checked(caplog):
    assert check_gpu(0) == [] and caplog.text == ""


@pytest.mark.skipif(bool(GPUS), reason="this machine has a GPU")
def test_a_requested_gpu_that_tensorflow_cannot_see_is_a_warning_naming_node_and_build(caplog):
    assert check_gpu(1) == []
    build = "CUDA" if tf.sysconfig.get_build_info().get("is_cuda_build") else "CPU-only build"
    assert f"{socket.gethostname()}: the job requested 1 GPU(s), but TensorFlow {tf.__version__} (" in caplog.text
    assert build in caplog.text and "runs on the CPU" in caplog.text and "requirements-gpu.txt" in caplog.text


@pytest.mark.skipif(bool(GPUS), reason="this machine has a GPU")
def test_require_gpu_makes_it_an_error():
    with pytest.raises(RuntimeError, match=r"requested 1 GPU\(s\), but TensorFlow .* sees none.*require_gpu: true"):
        check_gpu(1, require=True)


@pytest.mark.skipif(not GPUS, reason="this machine has no GPU")
def test_a_visible_gpu_is_returned(caplog):
    assert check_gpu(1, require=True) == GPUS and "TensorFlow sees" in caplog.text
