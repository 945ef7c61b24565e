"""Residual in Residual Dense Network (RRDN, the ESRGAN generator) as idealo's ISR builds it.

The layer names are ISR's, so that ISR's published weights
``rrdn-C4-D3-G32-G032-T10-x4_epoch299.hdf5`` load by layer name. The residual
scalings (ISR's ``MultiplyBeta``) and the pixel shuffle are custom layers with
``get_config()`` (:mod:`mesr.sr.layers`); they hold no weights.
"""

import logging

import keras

from mesr._checks import check_integer, check_option
from mesr.sr.layers import MultiplyBeta, PixelShuffle

__all__ = ["BETA", "SCALES", "build_rrdn"]

logger = logging.getLogger(__name__)

#: Upscaling factors the builder accepts.
SCALES = (2, 3, 4, 8)

#: Residual scaling of the dense blocks and of the RRDB output.
BETA = 0.2

_INIT_EXTREME = 0.05


def _conv(filters, name, kernel_size=3):
    return keras.layers.Conv2D(
        filters,
        kernel_size=kernel_size,
        padding="same",
        kernel_initializer=keras.initializers.RandomUniform(minval=-_INIT_EXTREME, maxval=_INIT_EXTREME),
        name=name,
    )


def _dense_block(x, *, t, d, C, G, G0):
    """Dense block d of RRDB t: C conv+ReLU with dense concatenation, then ``LFF`` (G0, 3x3)."""
    for c in range(1, C + 1):
        f = _conv(G, f"F_{t}_{d}_{c}")(x)
        f = keras.layers.Activation("relu", name=f"F_{t}_{d}_{c}_Relu")(f)
        x = keras.layers.Concatenate(axis=3, name=f"RDB_Concat_{t}_{d}_{c}")([x, f])
    return _conv(G0, f"LFF_{t}_{d}")(x)


def _rrdb(block_in, *, t, C, D, G, G0):
    """Residual in residual dense block t: ``block_in + beta * (D residual dense blocks)``."""
    x = block_in
    for d in range(1, D + 1):
        lff = _dense_block(x, t=t, d=d, C=C, G=G, G0=G0)
        lff = MultiplyBeta(BETA, name=f"LFF_{t}_{d}_beta")(lff)
        x = keras.layers.Add(name=f"LRL_{t}_{d}")([x, lff])
    x = MultiplyBeta(BETA, name=f"RRDB_{t}_beta")(x)
    return keras.layers.Add(name=f"RRDB_{t}_out")([block_in, x])


def build_rrdn(*, C, D, G, G0, T, scale):
    """Build the RRDN (ESRGAN generator) of Wang et al. (2018) as in idealo's ISR.

    Parameters
    ----------
    C : int
        Convolutions per dense block.
    D : int
        Dense blocks per RRDB.
    G : int
        Filters of the convolutions inside a dense block (growth rate).
    G0 : int
        Filters of the block outputs and of the shallow features.
    T : int
        Number of RRDBs.
    scale : {2, 3, 4, 8}
        Upscaling factor.

    Returns
    -------
    keras.Model
        Input ``LR_input`` of shape (batch, H, W, 3), RGB in 0..1, any H and W;
        output ``SR`` of shape (batch, scale*H, scale*W, 3), linear (not clipped).

    Raises
    ------
    ValueError
        If a symbol is not a positive integer or the scale is not supported.

    Notes
    -----
    ``Pre_blocks_conv`` (G0, 3x3) -> T RRDBs (each: D dense blocks of C
    ``F_{t}_{d}_{c}`` (G, 3x3, ReLU, dense concatenation), ``LFF_{t}_{d}``
    (G0, 3x3), ``LRL_{t}_{d}`` = x + 0.2 * LFF; ``RRDB_{t}_out`` = input +
    0.2 * x) -> ``post_blocks_conv`` (G0, 3x3) -> ``GRL`` = post + pre ->
    ``PreShuffle`` (3*s^2, 3x3) -> pixel shuffle (depth_to_space, s) -> ``SR``
    (3, 3x3, linear). RandomUniform(-0.05, 0.05) kernels, biases everywhere.
    C4 D3 G32 G0 32 T10 x4 = 4,176,100 parameters.

    References
    ----------
    Wang, X., Yu, K., Wu, S., Gu, J., Liu, Y., Dong, C., Qiao, Y. & Loy, C. C.
    (2018). ESRGAN: Enhanced Super-Resolution Generative Adversarial Networks.
    ECCV Workshops. doi:10.1007/978-3-030-11021-5_5

    Examples
    --------
    >>> model = build_rrdn(C=4, D=3, G=32, G0=32, T=10, scale=4)
    >>> model.count_params()
    4176100
    """
    for name, value in dict(C=C, D=D, G=G, G0=G0, T=T).items():
        check_integer(name, value)
    check_option("scale", scale, SCALES)
    C, D, G, G0, T, scale = (int(v) for v in (C, D, G, G0, T, scale))
    lr = keras.Input(shape=(None, None, 3), name="LR_input")
    pre = _conv(G0, "Pre_blocks_conv")(lr)
    x = pre
    for t in range(1, T + 1):
        x = _rrdb(x, t=t, C=C, D=D, G=G, G0=G0)
    post = _conv(G0, "post_blocks_conv")(x)
    grl = keras.layers.Add(name="GRL")([post, pre])
    x = _conv(3 * scale**2, "PreShuffle")(grl)
    x = PixelShuffle(scale, name="PixelShuffle")(x)
    sr = _conv(3, "SR")(x)
    model = keras.Model(inputs=lr, outputs=sr, name="rrdn")
    logger.debug("built RRDN C%d D%d G%d G0 %d T%d x%d: %d parameters", C, D, G, G0, T, scale, model.count_params())
    return model
