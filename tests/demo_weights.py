"""The small Real-ESRGAN and SwinIR networks of ``config/demo-modern-sr.yaml``, written as PyTorch files.

Nothing trains these architectures here (their weights come from their authors), so the demo's are set by
hand: each network passes the colour channels straight through its trunk (``conv_first`` and the upsampling
convolutions copy channels 0-2, offset by +1 so that the LeakyReLUs let them through) and upscales them by
nearest neighbour, while every other weight is random and the residual branches (``conv_body``,
``conv_after_body``) add a small random correction. The output is nearest-neighbour upscaling (at x2,
Real-ESRGAN's pixel-unshuffle first averages each 2x2 block) plus a few grey levels of network noise: a
network whose every tensor is used, whose result is predictable, and no claim about real SR.

``python tests/demo_weights.py config/weights`` rewrites the files; ``tests/test_modern_sr.py`` checks that
the committed ones hold these arrays.
"""

import sys
from pathlib import Path

from test_sr_realesrgan import basicsr_state, write_state
from test_sr_swinir import swinir_state

REALESRGAN = {"nf": 16, "gc": 8, "nb": 1}
SWINIR = {"embed_dim": 16, "depths": [2], "num_heads": [2], "window_size": 8, "mlp_ratio": 2}
#: File name -> (architecture, scale).
FILES = {
    "realesrgan-x2.pth": ("realesrgan", 2),
    "realesrgan-x4.pth": ("realesrgan", 4),
    "swinir-x2.pth": ("swinir", 2),
    "swinir-x4.pth": ("swinir", 4),
}
_CORRECTION = 0.02  # gain of the random residual branches


def _pass_colours(state, name, *, sources=None, bias=0.0):
    """Make output channels 0-2 of convolution ``name`` copy input channels ``sources[c]`` (averaged), plus ``bias``."""
    weight = state[f"{name}.weight"]
    weight[:3] = 0
    for channel in range(3):
        for source in sources[channel] if sources else [channel]:
            weight[channel, source, 1, 1] = 1 / (len(sources[channel]) if sources else 1)
    state[f"{name}.bias"][:3] = bias


def _scale(state, name, gain):
    state[f"{name}.weight"] *= gain
    state[f"{name}.bias"] *= gain


def realesrgan_state(scale):
    state = {key: value.copy() for key, value in basicsr_state(**REALESRGAN, scale=scale, seed=scale).items()}
    # at x2 the pixel-unshuffle puts the 2x2 block of colour c in channels 4c..4c+3
    _pass_colours(
        state, "conv_first", sources=[range(4 * c, 4 * c + 4) for c in range(3)] if scale == 2 else None, bias=1
    )
    _scale(state, "conv_body", _CORRECTION)
    for name in ("conv_up1", "conv_up2", "conv_hr"):
        _pass_colours(state, name)
    _pass_colours(state, "conv_last", bias=-1)
    return state


def swinir_state_of(scale):
    state = {key: value.copy() for key, value in swinir_state(**SWINIR, scale=scale, seed=scale, buffers=False).items()}
    _pass_colours(state, "conv_first", bias=1)  # the input is x - mean: x - mean + 1 > 0
    _scale(state, "conv_after_body", _CORRECTION)
    for name in ("conv_before_upsample.0", "conv_up1", "conv_up2", "conv_hr"):
        if f"{name}.weight" in state:
            _pass_colours(state, name)
    _pass_colours(state, "conv_last", bias=-1)  # the mean is added back after it
    return state


def demo_state(filename):
    arch, scale = FILES[filename]
    return realesrgan_state(scale) if arch == "realesrgan" else swinir_state_of(scale)


def write_demo_weights(folder):
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for filename in FILES:
        write_state(folder / filename, demo_state(filename))
    return folder


if __name__ == "__main__":
    write_demo_weights(sys.argv[1])
