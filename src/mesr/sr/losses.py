"""The GAN stage's networks and losses: patch discriminator, VGG19 features, adversarial terms (docs/models.md).

- :func:`build_discriminator`: ISR's SRGAN-style discriminator. Conv 3x3 +
  LeakyReLU 0.2, then seven blocks conv 3x3 + LeakyReLU 0.2 + BatchNorm
  (momentum 0.8) with ``filters`` x (1, 2, 2, 4, 4, 8, 8) channels and
  strides (2, 1, 2, 1, 1, 1, 1), then Dense(16 * filters) + LeakyReLU and
  Dense(1) applied at every position (no flattening, as ISR): a *patch*
  discriminator whose output is one real/fake logit per position of a map
  a quarter of the input size. It outputs logits (ISR: a sigmoid); the
  losses below use the numerically stable logit form of binary cross-entropy.
- :func:`build_feature_extractor`: Keras' VGG19 (no top) up to the requested
  layers (ISR: ``block2_conv2``, ``block3_conv3``), fed 0..1 RGB images scaled
  to 0..255 and preprocessed as ``keras.applications.vgg19.preprocess_input``
  (RGB to BGR, ImageNet mean subtracted, the convention of its ImageNet
  weights). The weights come from a local file only; nothing is downloaded.
- Adversarial losses: the standard GAN of SRGAN/ISR, or the relativistic
  average GAN of ESRGAN (Wang et al. 2018, eqs. 1-2), with the means taken
  over the batch and all discriminator positions.
"""

import hashlib
import logging
from pathlib import Path

import keras
import tensorflow as tf

from mesr._checks import check_integer

__all__ = [
    "VGG19_NOTOP_FILE",
    "VGG19_NOTOP_URL",
    "adversarial_losses",
    "build_discriminator",
    "build_feature_extractor",
    "perceptual_loss",
]

logger = logging.getLogger(__name__)

#: The Keras ImageNet VGG19 weights without the classifier, as Keras names it.
VGG19_NOTOP_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"

#: Where Keras downloads that file from (to fetch it once, by hand, where the network is reachable).
VGG19_NOTOP_URL = "https://storage.googleapis.com/tensorflow/keras-applications/vgg19/" + VGG19_NOTOP_FILE

_VGG_MEAN_BGR = (103.939, 116.779, 123.68)
_BLOCK_FACTORS = (1, 2, 2, 4, 4, 8, 8)
_BLOCK_STRIDES = (2, 1, 2, 1, 1, 1, 1)
_SLOPE = 0.2


def build_discriminator(patch_size, *, filters=64):
    """Build ISR's SRGAN-style patch discriminator.

    Parameters
    ----------
    patch_size : int
        Side of the HR patches it judges (``patch_size * scale`` of the LR patches).
    filters : int, optional
        Channels of the first convolutions (ISR, SRGAN: 64); the later blocks
        have 2, 4 and 8 times as many.

    Returns
    -------
    keras.Model
        Input (batch, patch_size, patch_size, 3), RGB 0..1; output (batch,
        ceil(patch_size/4), ceil(patch_size/4), 1): real-vs-fake logits.

    Raises
    ------
    ValueError
        If ``patch_size`` or ``filters`` is not a positive integer.

    References
    ----------
    Ledig, C. et al. (2017). Photo-Realistic Single Image Super-Resolution
    Using a Generative Adversarial Network. CVPR. doi:10.1109/CVPR.2017.19

    ISR's ``Discriminator``: https://github.com/idealo/image-super-resolution

    Examples
    --------
    >>> build_discriminator(64, filters=8).output_shape
    (None, 16, 16, 1)
    """
    patch_size, filters = check_integer("patch_size", patch_size), check_integer("filters", filters)
    hr = keras.Input(shape=(patch_size, patch_size, 3), name="HR")
    x = keras.layers.Conv2D(filters, 3, padding="same", name="Conv_1")(hr)
    x = keras.layers.LeakyReLU(negative_slope=_SLOPE, name="Conv_1_lrelu")(x)
    for index, (factor, strides) in enumerate(zip(_BLOCK_FACTORS, _BLOCK_STRIDES), start=2):
        x = keras.layers.Conv2D(filters * factor, 3, strides=strides, padding="same", name=f"Conv_{index}")(x)
        x = keras.layers.LeakyReLU(negative_slope=_SLOPE, name=f"Conv_{index}_lrelu")(x)
        x = keras.layers.BatchNormalization(momentum=0.8, name=f"BN_{index}")(x)
    x = keras.layers.Dense(filters * 16, name="Dense_1")(x)
    x = keras.layers.LeakyReLU(negative_slope=_SLOPE, name="Dense_1_lrelu")(x)
    logits = keras.layers.Dense(1, name="Dense_last")(x)
    return keras.Model(inputs=hr, outputs=logits, name="discriminator")


def build_feature_extractor(weights, *, layers=("block2_conv2", "block3_conv3"), seed=0):
    """VGG19 feature maps for the perceptual loss, from a local weights file.

    Parameters
    ----------
    weights : str or path-like or 'random'
        The Keras ImageNet VGG19 no-top file (``VGG19_NOTOP_FILE``, a Keras-2
        HDF5 weights file; any file with those layers works), loaded strictly
        by layer name with :func:`mesr.sr.weights.load_weights`; or
        ``'random'``: randomly initialised weights (seeded), for demonstrations
        only; a warning is logged.
    layers : sequence of str, optional
        VGG19 layers whose outputs are returned.
    seed : int, optional
        Seed of the random weights.

    Returns
    -------
    model : keras.Model
        Frozen; input (batch, H, W, 3) RGB 0..1, preprocessed inside (0..255,
        BGR, ImageNet mean subtracted); outputs: one feature map per layer.
    sha256 : str or None
        SHA-256 of the weights file (``None`` for random weights).

    Raises
    ------
    ValueError
        If a layer is not a VGG19 layer (the message lists them), or the file
        does not hold VGG19 weights (the message names the first layer that
        does not match).
    FileNotFoundError
        If the weights file does not exist.

    Examples
    --------
    >>> model, _ = build_feature_extractor("random")  # doctest: +SKIP
    >>> [output.shape[-1] for output in model.outputs]  # doctest: +SKIP
    [128, 256]
    """
    from mesr.sr.weights import load_weights

    keras.utils.set_random_seed(seed)
    vgg = keras.applications.VGG19(include_top=False, weights=None, input_shape=(None, None, 3))
    names = [layer.name for layer in vgg.layers]
    layers = list(layers)
    if not layers:
        raise ValueError("perceptual layers must name at least one VGG19 layer")
    for name in layers:
        if name not in names:
            raise ValueError(f"perceptual layer {name!r} is not a VGG19 layer (valid: {', '.join(names[1:])})")
    sha256 = None
    if isinstance(weights, str) and weights == "random":
        logger.warning(
            "the perceptual loss uses a randomly initialised VGG19 (perceptual.weights: random): "
            "for demonstrations only, its features are not ImageNet features"
        )
    else:
        load_weights(vgg, weights)
        sha256 = hashlib.sha256(Path(weights).read_bytes()).hexdigest()
    vgg.trainable = False
    rgb = keras.Input(shape=(None, None, 3), name="RGB")
    x = _VggPreprocess(name="vgg19_preprocess")(rgb)
    cut = keras.Model(vgg.input, [vgg.get_layer(name).output for name in layers], name="vgg19_cut")
    cut.trainable = False
    outputs = cut(x)
    model = keras.Model(rgb, outputs if len(layers) > 1 else [outputs], name="feature_extractor")
    model.trainable = False
    return model, sha256


@keras.saving.register_keras_serializable(package="mesr")
class _VggPreprocess(keras.layers.Layer):
    """0..1 RGB to the input of Keras' VGG19: x255, RGB to BGR, ImageNet mean subtracted."""

    def call(self, inputs):
        bgr = inputs[..., ::-1] * 255.0
        return bgr - tf.constant(_VGG_MEAN_BGR, dtype=inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape


def perceptual_loss(features_sr, features_hr, *, feature_scale=1.0):
    """Mean over layers of the MSE between (scaled) feature maps.

    Parameters
    ----------
    features_sr, features_hr : list of tf.Tensor
        Feature maps of the SR and HR patches, one per layer.
    feature_scale : float, optional
        Factor applied to the feature maps before the MSE (SRGAN: 1/12.75).

    Returns
    -------
    tf.Tensor
        Scalar: ``mean_l mean((feature_scale * (f_sr_l - f_hr_l))**2)``, the
        per-layer weights ``1/len(layers)`` being ISR's.

    Examples
    --------
    >>> float(perceptual_loss([tf.ones((1, 2, 2, 1))], [tf.zeros((1, 2, 2, 1))], feature_scale=0.5))
    0.25
    """
    if not isinstance(features_sr, (list, tuple)):
        features_sr, features_hr = [features_sr], [features_hr]
    terms = [
        tf.reduce_mean(tf.square(feature_scale * (sr - tf.stop_gradient(hr))))
        for sr, hr in zip(features_sr, features_hr)
    ]
    return tf.add_n(terms) / len(terms)


def adversarial_losses(real_logits, fake_logits, *, relativistic):
    """Discriminator and generator adversarial losses from the discriminator's logits.

    Parameters
    ----------
    real_logits, fake_logits : tf.Tensor
        Discriminator outputs C(x) for HR and SR patches (any shape).
    relativistic : bool
        ``False``: the standard GAN (SRGAN, ISR): ``L_D = (BCE(1, C(hr)) +
        BCE(0, C(sr))) / 2``, ``L_G = BCE(1, C(sr))``. ``True``: the
        relativistic average GAN of ESRGAN, with ``D_Ra(a, b) = sigmoid(C(a) -
        mean C(b))``: ``L_D = (BCE(1, D_Ra(hr, sr)) + BCE(0, D_Ra(sr, hr))) / 2``,
        ``L_G = (BCE(0, D_Ra(hr, sr)) + BCE(1, D_Ra(sr, hr))) / 2``.

    Returns
    -------
    discriminator_loss, generator_loss : tf.Tensor
        Scalars (means over the batch and all positions).

    References
    ----------
    Ledig et al. (2017) doi:10.1109/CVPR.2017.19; Wang et al. (2018)
    doi:10.1007/978-3-030-11021-5_5 (relativistic average GAN).

    Examples
    --------
    >>> d_loss, g_loss = adversarial_losses(tf.zeros((2, 4, 4, 1)), tf.zeros((2, 4, 4, 1)), relativistic=True)
    >>> round(float(d_loss), 4), round(float(g_loss), 4)
    (0.6931, 0.6931)
    """
    if relativistic:
        real = real_logits - tf.reduce_mean(fake_logits)
        fake = fake_logits - tf.reduce_mean(real_logits)
        d_loss = (_bce(1.0, real) + _bce(0.0, fake)) / 2
        g_loss = (_bce(0.0, real) + _bce(1.0, fake)) / 2
    else:
        d_loss = (_bce(1.0, real_logits) + _bce(0.0, fake_logits)) / 2
        g_loss = _bce(1.0, fake_logits)
    return d_loss, g_loss


def _bce(label, logits):
    """Mean binary cross-entropy of logits against a constant label."""
    labels = tf.fill(tf.shape(logits), tf.cast(label, logits.dtype))
    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits))
