"""Real-ESRGAN's generator: BasicSR's ``RRDBNet``, loadable from its published ``.pth`` files.

Real-ESRGAN (Wang et al. 2021) keeps ESRGAN's generator and publishes it as
PyTorch state dicts of BasicSR's ``basicsr.archs.rrdbnet_arch.RRDBNet``
(``RealESRGAN_x4plus.pth``, ``RealESRGAN_x2plus.pth``, under ``params_ema``).
The network is the plain ESRGAN RRDBNet of :mod:`mesr.sr.nesrgan_plus`
(``plus=False``) at x4; at x2 BasicSR puts a pixel-unshuffle by 2 in front (the
input's 2x2 blocks become 12 channels) and keeps both x2 upsampling stages.
ISR's RRDN (:mod:`mesr.sr.rrdn`) is another layout (C ReLU convolutions and a
fusion convolution per dense block, pixel-shuffle upsampling).

Layer names are BasicSR's module names with ``_`` for ``.`` (``conv_first``,
``body_{i}_rdb{j}_conv{k}`` with i from 0 as in BasicSR, j = 1..3,
k = 1..5, ``conv_body``, ``conv_up1``, ``conv_up2``, ``conv_hr``,
``conv_last``), so that :func:`load_pth_weights` maps every tensor of the file
to one layer by name. Its weights are PyTorch ``.pth`` files, read without
PyTorch by :func:`mesr.sr.pth.load_state_dict`, not the Keras-2 HDF5 files of
the other architectures (docs/models.md, Weights files).
"""

import logging
import re

import keras

from mesr._checks import check_integer, check_option
from mesr.sr.layers import CropToScale, MultiplyBeta, PixelUnshuffle, ReflectPadToMultiple
from mesr.sr.pth import assign_state_dict

__all__ = [
    "BETA",
    "SCALES",
    "build_realesrgan",
    "load_pth_weights",
    "torch_name",
]

logger = logging.getLogger(__name__)

#: Upscaling factors: x4 (the ESRGAN generator) and x2 (pixel-unshuffle by 2 in front).
SCALES = (2, 4)

#: Residual scaling of the dense blocks and of the RRDB output.
BETA = 0.2

_SLOPE = 0.2
_BODY = re.compile(r"body_(\d+)_rdb([1-3])_conv([1-5])")


def _init(dense_block):
    if dense_block:  # BasicSR's default_init_weights(..., 0.1): kaiming_normal_ (fan-in) times 0.1
        return keras.initializers.VarianceScaling(scale=0.02, mode="fan_in", distribution="untruncated_normal")
    # torch.nn.Conv2d's default, kaiming_uniform_(a=sqrt(5)): bound 1 / sqrt(fan_in)
    return keras.initializers.VarianceScaling(scale=1 / 3, mode="fan_in", distribution="uniform")


def _conv(filters, name, *, dense_block=False):
    return keras.layers.Conv2D(filters, 3, padding="same", kernel_initializer=_init(dense_block), name=name)


def _lrelu(name):
    return keras.layers.LeakyReLU(negative_slope=_SLOPE, name=name)


def _rdb(block_in, *, prefix, nf, gc):
    """BasicSR's ``ResidualDenseBlock``: five convolutions with dense connections, ``x + 0.2 * conv5``."""
    features = [block_in]
    for k in range(1, 5):
        x = features[0] if k == 1 else keras.layers.Concatenate(axis=3, name=f"{prefix}_concat{k}")(features)
        features.append(_lrelu(f"{prefix}_lrelu{k}")(_conv(gc, f"{prefix}_conv{k}", dense_block=True)(x)))
    x = keras.layers.Concatenate(axis=3, name=f"{prefix}_concat5")(features)
    x = MultiplyBeta(BETA, name=f"{prefix}_beta")(_conv(nf, f"{prefix}_conv5", dense_block=True)(x))
    return keras.layers.Add(name=f"{prefix}_out")([block_in, x])


def _rrdb(block_in, *, i, nf, gc):
    """BasicSR's ``RRDB`` ``body.{i}``: three dense blocks ``rdb1..rdb3``, ``x + 0.2 * rdb3(rdb2(rdb1(x)))``."""
    x = block_in
    for j in range(1, 4):
        x = _rdb(x, prefix=f"body_{i}_rdb{j}", nf=nf, gc=gc)
    x = MultiplyBeta(BETA, name=f"body_{i}_beta")(x)
    return keras.layers.Add(name=f"body_{i}_out")([block_in, x])


def build_realesrgan(*, nf=64, gc=32, nb=23, scale=4):
    """Build BasicSR's ``RRDBNet`` (Real-ESRGAN's and ESRGAN's generator) in Keras.

    Parameters
    ----------
    nf : int, optional
        Feature channels (BasicSR's ``num_feat``), default 64.
    gc : int, optional
        Growth channels of the dense blocks (``num_grow_ch``), default 32.
    nb : int, optional
        Number of RRDBs (``num_block``), default 23 (Real-ESRGAN's x4plus and
        x2plus; the anime model uses 6).
    scale : {2, 4}, optional
        Upscaling factor, default 4.

    Returns
    -------
    keras.Model
        Named ``realesrgan``. Input ``LR`` of shape (batch, H, W, 3), RGB in
        0..1, any H and W (at x2 at least 2 x 2); output of shape (batch,
        scale*H, scale*W, 3), linear (not clipped).

    Raises
    ------
    ValueError
        If a symbol is not a positive integer or the scale is not 2 or 4.

    Notes
    -----
    x2 only: ``pad_to_even`` (:class:`ReflectPadToMultiple`, bottom and right
    edges) and ``pixel_unshuffle`` (:class:`PixelUnshuffle`, by 2: 12
    channels). Then ``conv_first`` (nf) -> nb RRDBs ``body_{i}`` (i = 0..nb-1;
    three dense blocks ``body_{i}_rdb{j}`` whose ``conv1``..``conv4`` (gc,
    LeakyReLU 0.2) see the block input and the earlier outputs concatenated and
    ``conv5`` (nf, linear) all of them; a dense block returns input + 0.2 *
    conv5, an RRDB input + 0.2 * rdb3) -> ``conv_body`` (nf), added to
    ``conv_first``'s output -> twice nearest x2 upsampling and ``conv_up1``,
    ``conv_up2`` (nf, LeakyReLU 0.2) -> ``conv_hr`` (nf, LeakyReLU 0.2) ->
    ``conv_last`` (3); x2 then crops the padding's output (``crop``,
    :class:`CropToScale`). All convolutions 3x3 with bias. nf 64, gc 32, nb 23:
    16,697,987 parameters at x4, 16,703,171 at x2.

    References
    ----------
    Wang, X., Xie, L., Dong, C. & Shan, Y. (2021). Real-ESRGAN: Training
    Real-World Blind Super-Resolution with Pure Synthetic Data. ICCV Workshops.
    doi:10.1109/ICCVW54120.2021.00217

    Wang, X., Yu, K., Wu, S., Gu, J., Liu, Y., Dong, C., Qiao, Y. & Loy, C. C.
    (2018). ESRGAN: Enhanced Super-Resolution Generative Adversarial Networks.
    ECCV Workshops. doi:10.1007/978-3-030-11021-5_5

    Examples
    --------
    >>> build_realesrgan(nf=64, gc=32, nb=23, scale=2).count_params()
    16703171
    """
    for name, value in dict(nf=nf, gc=gc, nb=nb).items():
        check_integer(name, value)
    check_option("scale", scale, SCALES)
    nf, gc, nb, scale = (int(v) for v in (nf, gc, nb, scale))
    lr = keras.Input(shape=(None, None, 3), name="LR")
    x = lr
    if scale == 2:
        x = ReflectPadToMultiple(2, name="pad_to_even")(x)
        x = PixelUnshuffle(2, name="pixel_unshuffle")(x)
    first = _conv(nf, "conv_first")(x)
    x = first
    for i in range(nb):
        x = _rrdb(x, i=i, nf=nf, gc=gc)
    x = keras.layers.Add(name="body_add")([first, _conv(nf, "conv_body")(x)])
    for k in (1, 2):
        x = keras.layers.UpSampling2D(size=2, interpolation="nearest", name=f"upsample{k}")(x)
        x = _lrelu(f"conv_up{k}_lrelu")(_conv(nf, f"conv_up{k}")(x))
    x = _lrelu("conv_hr_lrelu")(_conv(nf, "conv_hr")(x))
    sr = _conv(3, "conv_last")(x)
    if scale == 2:
        sr = CropToScale(2, name="crop")([sr, lr])
    model = keras.Model(inputs=lr, outputs=sr, name="realesrgan")
    logger.debug("built realesrgan nf %d gc %d nb %d x%d: %d parameters", nf, gc, nb, scale, model.count_params())
    return model


def torch_name(layer_name):
    """The BasicSR module name of a convolution of :func:`build_realesrgan`.

    Parameters
    ----------
    layer_name : str
        A Keras layer name (``conv_first``, ``body_0_rdb1_conv1``...).

    Returns
    -------
    str
        The name of its tensors' prefix in BasicSR's state dict
        (``conv_first``, ``body.0.rdb1.conv1``...).

    Examples
    --------
    >>> torch_name("body_12_rdb3_conv5")
    'body.12.rdb3.conv5'
    >>> torch_name("conv_up1")
    'conv_up1'
    """
    match = _BODY.fullmatch(layer_name)
    return f"body.{match[1]}.rdb{match[2]}.conv{match[3]}" if match else layer_name


def load_pth_weights(model, path):
    """Load a BasicSR ``RRDBNet`` state dict (a ``.pth`` file) into ``model``, strictly.

    Every convolution of ``model`` takes ``{name}.weight`` (PyTorch's
    (out, in, kh, kw), transposed to Keras' (kh, kw, in, out)) and
    ``{name}.bias`` from the file, ``name`` being :func:`torch_name` of the
    layer; every tensor of the file must be used. Values are cast to the
    layer's dtype (float32; Real-ESRGAN also publishes float16 files).

    Parameters
    ----------
    model : keras.Model
        A model of :func:`build_realesrgan` with the file's nf, gc, nb and scale.
    path : str or path-like
        A ``.pth`` file (:func:`mesr.sr.pth.load_state_dict`: either layout;
        the state dict under ``params_ema``, else ``params``, else the file).

    Returns
    -------
    keras.Model
        ``model``, with its weights replaced.

    Raises
    ------
    FileNotFoundError, ValueError
        As :func:`mesr.sr.pth.assign_state_dict`; the model is then left unchanged.

    Examples
    --------
    >>> model = load_pth_weights(build_realesrgan(scale=4), "RealESRGAN_x4plus.pth")  # doctest: +SKIP
    """
    return assign_state_dict(model, path, torch_name=torch_name, symbols="nf, gc, nb")
