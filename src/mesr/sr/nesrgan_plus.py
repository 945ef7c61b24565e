"""nESRGAN+ generator: ESRGAN's RRDBNet with the nESRGAN+ dense block (docs/models.md).

``plus=False`` gives the plain ESRGAN RRDBNet (Wang et al. 2018, the
``xinntao/ESRGAN`` layout), which proves the structure against its well-known
parameter count (nf 64, gc 32, nb 23, x4: 16,697,987). ``plus=True`` (the
default) adds to every dense block a 1x1 convolution of the block input (nf ->
gc, no bias) to the second output and the second output to the fourth (nf 64,
gc 32, nb 23, x4: 16,839,299; the paper's nb 10: 7,406,915). With ``noise=True``
each dense block output passes through a :class:`~mesr.sr.layers.GaussianNoiseInjection`
that adds ``N(0, 1) * 0.1 * x`` during training only.

Layer names are index-based (1-based, as ISR's): ``conv_first``,
``RRDB_{b}_dense_{d}_conv{k}`` (k = 1..5), ``RRDB_{b}_dense_{d}_conv1x1``,
``trunk_conv``, ``upconv{k}``, ``HRconv``, ``conv_last``.
Kernels are initialised as in ESRGAN's code: the dense-block convolutions with
Kaiming normal (fan-in) scaled by 0.1, the others with PyTorch's default
(uniform, variance 1 / (3 fan-in)); biases at zero. Scaling every layer by 0.1
would shrink the signal a hundredfold across the trunk and upsampling convs,
and the network would barely train.
"""

import logging

import keras

from mesr._checks import check_integer, check_option
from mesr.sr.layers import GaussianNoiseInjection, MultiplyBeta

__all__ = ["BETA", "NOISE_SIGMA", "SCALES", "build_nesrgan_plus"]

logger = logging.getLogger(__name__)

#: Upscaling factors the builder accepts (powers of two: one x2 stage each).
SCALES = (2, 4, 8)

#: Residual scaling of the dense blocks and of the RRDB output.
BETA = 0.2

#: Relative amplitude of the training noise of nESRGAN+.
NOISE_SIGMA = 0.1

_SLOPE = 0.2


def _init(dense_block):
    if dense_block:  # torch.nn.init.kaiming_normal_(fan_in, a=0) then *0.1: std = sqrt(2 / fan_in) * 0.1
        return keras.initializers.VarianceScaling(scale=0.02, mode="fan_in", distribution="untruncated_normal")
    # torch.nn.Conv2d's default, kaiming_uniform_(a=sqrt(5)): bound 1 / sqrt(fan_in)
    return keras.initializers.VarianceScaling(scale=1 / 3, mode="fan_in", distribution="uniform")


def _conv(filters, name, *, kernel_size=3, use_bias=True, dense_block=False):
    return keras.layers.Conv2D(
        filters,
        kernel_size=kernel_size,
        padding="same",
        use_bias=use_bias,
        kernel_initializer=_init(dense_block),
        name=name,
    )


def _lrelu(name):
    return keras.layers.LeakyReLU(negative_slope=_SLOPE, name=name)


def _dense_block(block_in, *, prefix, nf, gc, plus, noise):
    """Residual dense block with five convolutions: ``block_in + 0.2 * conv5(...)``."""
    features = [block_in]
    for k in range(1, 5):
        x = features[0] if k == 1 else keras.layers.Concatenate(axis=3, name=f"{prefix}_concat{k}")(features)
        x = _lrelu(f"{prefix}_lrelu{k}")(_conv(gc, f"{prefix}_conv{k}", dense_block=True)(x))
        if plus and k == 2:
            skip = _conv(gc, f"{prefix}_conv1x1", kernel_size=1, use_bias=False, dense_block=True)(block_in)
            x = keras.layers.Add(name=f"{prefix}_add2")([x, skip])
        elif plus and k == 4:
            x = keras.layers.Add(name=f"{prefix}_add4")([x, features[2]])
        features.append(x)
    x = keras.layers.Concatenate(axis=3, name=f"{prefix}_concat5")(features)
    x = _conv(nf, f"{prefix}_conv5", dense_block=True)(x)
    x = MultiplyBeta(BETA, name=f"{prefix}_beta")(x)
    x = keras.layers.Add(name=f"{prefix}_out")([block_in, x])
    if noise:
        x = GaussianNoiseInjection(NOISE_SIGMA, name=f"{prefix}_noise")(x)
    return x


def _rrdb(block_in, *, b, nf, gc, plus, noise):
    """Residual in residual dense block b: ``block_in + 0.2 * (3 dense blocks)``."""
    x = block_in
    for d in range(1, 4):
        x = _dense_block(x, prefix=f"RRDB_{b}_dense_{d}", nf=nf, gc=gc, plus=plus, noise=noise)
    x = MultiplyBeta(BETA, name=f"RRDB_{b}_beta")(x)
    return keras.layers.Add(name=f"RRDB_{b}_out")([block_in, x])


def build_nesrgan_plus(*, nf, gc, nb, scale, noise=True, plus=True):
    """Build the nESRGAN+ generator (or, with ``plus=False``, ESRGAN's RRDBNet).

    Parameters
    ----------
    nf : int
        Feature channels of the trunk and of the dense block outputs.
    gc : int
        Growth channels of the dense block convolutions 1-4.
    nb : int
        Number of RRDBs (the paper: 10).
    scale : {2, 4, 8}
        Upscaling factor, reached by log2(scale) nearest x2 upsampling stages.
    noise : bool, optional
        Insert the nESRGAN+ Gaussian noise layers at every dense block output
        (default). They act only when the model is called with
        ``training=True`` (the generator's training); inference is unaffected.
        Adds no weights.
    plus : bool, optional
        The nESRGAN+ dense block (default); ``False`` gives plain ESRGAN.

    Returns
    -------
    keras.Model
        Input ``LR`` of shape (batch, H, W, 3), RGB in 0..1, any H and W;
        output ``conv_last`` of shape (batch, scale*H, scale*W, 3), linear.

    Raises
    ------
    ValueError
        If a symbol is not a positive integer, a flag not a bool, or the
        scale is not supported.

    Notes
    -----
    ``conv_first`` (nf) -> nb RRDBs -> ``trunk_conv`` (nf), added to
    ``conv_first`` (``trunk_add``) -> log2(s) x [nearest x2 upsampling
    ``upsample{k}``, ``upconv{k}`` (nf), LeakyReLU 0.2] -> ``HRconv`` (nf) +
    LeakyReLU -> ``conv_last`` (3). All 3x3 with bias. An RRDB is 3 dense
    blocks and returns input + 0.2 * out. A dense block: x1..x4 = LReLU(conv_k
    (concat of the block input and earlier x)) with gc filters, x5 = conv5 (nf,
    linear), output input + 0.2 * x5. nESRGAN+: x2 += conv1x1(input) (nf -> gc,
    no bias), x4 += x2. Parameters (x4, nf 64, gc 32): nb 23 = 16,839,299
    (plain: 16,697,987); nb 10 = 7,406,915.

    References
    ----------
    Wang, X., Yu, K., Wu, S., Gu, J., Liu, Y., Dong, C., Qiao, Y. & Loy, C. C.
    (2018). ESRGAN: Enhanced Super-Resolution Generative Adversarial Networks.
    ECCV Workshops. doi:10.1007/978-3-030-11021-5_5

    Rakotonirina, N. C. & Rasoanaivo, A. (2020). ESRGAN+: Further Improving
    Enhanced Super-Resolution Generative Adversarial Network. ICASSP.
    doi:10.1109/ICASSP40776.2020.9054071

    Examples
    --------
    >>> model = build_nesrgan_plus(nf=64, gc=32, nb=10, scale=4)
    >>> model.count_params()
    7406915
    """
    for name, value in dict(nf=nf, gc=gc, nb=nb).items():
        check_integer(name, value)
    for name, flag in (("noise", noise), ("plus", plus)):
        if not isinstance(flag, bool):
            raise ValueError(f"{name} must be a bool, got {flag!r}")
    check_option("scale", scale, SCALES)
    nf, gc, nb, scale = (int(v) for v in (nf, gc, nb, scale))
    lr = keras.Input(shape=(None, None, 3), name="LR")
    first = _conv(nf, "conv_first")(lr)
    x = first
    for b in range(1, nb + 1):
        x = _rrdb(x, b=b, nf=nf, gc=gc, plus=plus, noise=noise)
    x = _conv(nf, "trunk_conv")(x)
    x = keras.layers.Add(name="trunk_add")([first, x])
    for k in range(1, scale.bit_length()):
        x = keras.layers.UpSampling2D(size=2, interpolation="nearest", name=f"upsample{k}")(x)
        x = _lrelu(f"upconv{k}_lrelu")(_conv(nf, f"upconv{k}")(x))
    x = _lrelu("HRconv_lrelu")(_conv(nf, "HRconv")(x))
    sr = _conv(3, "conv_last")(x)
    name = "nesrgan_plus" if plus else "esrgan"
    model = keras.Model(inputs=lr, outputs=sr, name=name)
    logger.debug("built %s nf %d gc %d nb %d x%d: %d parameters", name, nf, gc, nb, scale, model.count_params())
    return model
