"""Residual Dense Network (RDN), layer for layer as idealo's ISR builds it.

The layer names are ISR's, so that ISR's published RDN weight files
(``rdn-C6-D20-G64-G064-x2_PSNR_epoch086.hdf5`` and the others of docs/models.md) load
by layer name. ISR's default ``'ups'`` upscaling is used (the one its published
weights were trained with): ``UPN1`` (64, 5x5, ReLU) -> ``UPN2`` (32, 3x3, ReLU)
-> ``UPN3`` (3*s^2, 3x3, linear) -> nearest ``UpSampling2D(s)`` -> ``SR``.
"""

import logging

import keras

from mesr._checks import check_integer, check_option

__all__ = ["SCALES", "build_rdn"]

logger = logging.getLogger(__name__)

#: Upscaling factors the builder accepts.
SCALES = (2, 3, 4, 8)

_INIT_EXTREME = 0.05


def _init():
    """A fresh RandomUniform(-0.05, 0.05) initializer (one per layer, so layers differ)."""
    return keras.initializers.RandomUniform(minval=-_INIT_EXTREME, maxval=_INIT_EXTREME)


def _conv(filters, kernel_size, name):
    return keras.layers.Conv2D(filters, kernel_size=kernel_size, padding="same", kernel_initializer=_init(), name=name)


def _rdbs(x, *, C, D, G, G0, kernel_size):
    """The D residual dense blocks; returns the concatenation of their outputs."""
    outputs = []
    block_in = x
    for d in range(1, D + 1):
        x = block_in
        for c in range(1, C + 1):
            f = _conv(G, kernel_size, f"F_{d}_{c}")(x)
            f = keras.layers.Activation("relu", name=f"F_{d}_{c}_Relu")(f)
            x = keras.layers.Concatenate(axis=3, name=f"RDB_Concat_{d}_{c}")([x, f])
        x = _conv(G0, 1, f"LFF_{d}")(x)
        block_in = keras.layers.Add(name=f"LRL_{d}")([x, block_in])
        outputs.append(block_in)
    if D == 1:
        return outputs[0]
    return keras.layers.Concatenate(axis=3, name="LRLs_Concat")(outputs)


def _upn(x, *, scale):
    """ISR's 'ups' upscaling path."""
    x = _conv(64, 5, "UPN1")(x)
    x = keras.layers.Activation("relu", name="UPN1_Relu")(x)
    x = _conv(32, 3, "UPN2")(x)
    x = keras.layers.Activation("relu", name="UPN2_Relu")(x)
    x = _conv(3 * scale**2, 3, "UPN3")(x)
    return keras.layers.UpSampling2D(size=scale, interpolation="nearest", name="UPsample")(x)


def build_rdn(*, C, D, G, G0, scale, kernel_size=3):
    """Build the Residual Dense Network of Zhang et al. (2018) as in idealo's ISR.

    Parameters
    ----------
    C : int
        Convolutions per residual dense block.
    D : int
        Number of residual dense blocks.
    G : int
        Filters of the convolutions inside a block (growth rate).
    G0 : int
        Filters of the block outputs and of the shallow features.
    scale : {2, 3, 4, 8}
        Upscaling factor.
    kernel_size : int, optional
        Kernel size of the 3x3 convolutions (odd).

    Returns
    -------
    keras.Model
        Input ``LR`` of shape (batch, H, W, 3), RGB in 0..1, any H and W;
        output ``SR`` of shape (batch, scale*H, scale*W, 3), linear (not clipped).

    Raises
    ------
    ValueError
        If a symbol is not a positive integer or the scale is not supported.

    Notes
    -----
    ``F_m1`` (G0, 3x3) -> ``F_0`` (G0, 3x3) -> D blocks of C ``F_{d}_{c}`` (G,
    3x3, ReLU, dense concatenation ``RDB_Concat_{d}_{c}``), ``LFF_{d}`` (G0,
    1x1) and the local residual ``LRL_{d}`` -> ``LRLs_Concat`` -> ``GFF_1``
    (G0, 1x1) -> ``GFF_2`` (G0, 3x3) -> ``FDF`` = GFF_2 + F_m1 -> ``UPN1`` ->
    ``UPN2`` -> ``UPN3`` -> ``UPsample`` -> ``SR`` (3, 3x3). All convolutions
    have biases and RandomUniform(-0.05, 0.05) kernels. With D = 1 there is
    nothing to concatenate and ``LRLs_Concat`` is absent (it has no weights).
    Parameters: C6 D20 G64 G0 64 x2 = 16,347,635; C3 D10 G64 G0 64 x2 = 2,619,635.

    References
    ----------
    Zhang, Y., Tian, Y., Kong, Y., Zhong, B. & Fu, Y. (2018). Residual Dense
    Network for Image Super-Resolution. CVPR. doi:10.1109/CVPR.2018.00262

    Examples
    --------
    >>> model = build_rdn(C=3, D=10, G=64, G0=64, scale=2)
    >>> model.count_params()
    2619635
    """
    for name, value in dict(C=C, D=D, G=G, G0=G0, kernel_size=kernel_size).items():
        check_integer(name, value)
    if kernel_size % 2 != 1:
        raise ValueError(f"kernel_size must be odd, got {kernel_size!r}")
    check_option("scale", scale, SCALES)
    C, D, G, G0, scale, kernel_size = (int(v) for v in (C, D, G, G0, scale, kernel_size))
    lr = keras.Input(shape=(None, None, 3), name="LR")
    f_m1 = _conv(G0, kernel_size, "F_m1")(lr)
    f_0 = _conv(G0, kernel_size, "F_0")(f_m1)
    fd = _rdbs(f_0, C=C, D=D, G=G, G0=G0, kernel_size=kernel_size)
    gff1 = _conv(G0, 1, "GFF_1")(fd)
    gff2 = _conv(G0, kernel_size, "GFF_2")(gff1)
    fdf = keras.layers.Add(name="FDF")([gff2, f_m1])
    fu = _upn(fdf, scale=scale)
    sr = _conv(3, kernel_size, "SR")(fu)
    model = keras.Model(inputs=lr, outputs=sr, name="rdn")
    logger.debug("built RDN C%d D%d G%d G0 %d x%d: %d parameters", C, D, G, G0, scale, model.count_params())
    return model
