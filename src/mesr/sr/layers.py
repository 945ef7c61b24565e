"""Custom Keras layers of the super-resolution networks.

Every custom operation is a :class:`keras.layers.Layer` subclass with a
``get_config()`` and a registered serialisation name (never a ``Lambda``), so
that models built here save to ``.keras`` files and reload (STYLE §16). None of
these layers holds weights, so they never take part in weight loading by layer
name.
"""

import keras
import tensorflow as tf

__all__ = ["GaussianNoiseInjection", "MultiplyBeta", "PixelShuffle"]


@keras.saving.register_keras_serializable(package="mesr")
class PixelShuffle(keras.layers.Layer):
    """Rearrange ``scale**2`` channel groups into a ``scale``-times larger image.

    Equal to ``tf.nn.depth_to_space(x, scale)`` (NHWC):
    ``out[b, h*s + i, w*s + j, c] = x[b, h, w, (i*s + j)*C + c]``, the layout of
    ISR's RRDN (and of the ESPCN sub-pixel convolution).

    Parameters
    ----------
    scale : int
        Upscaling factor; the input must have ``C * scale**2`` channels.
    """

    def __init__(self, scale, **kwargs):
        super().__init__(**kwargs)
        self.scale = int(scale)

    def call(self, inputs):
        return tf.nn.depth_to_space(inputs, block_size=self.scale, data_format="NHWC")

    def compute_output_shape(self, input_shape):
        batch, height, width, channels = input_shape
        s = self.scale
        return (
            batch,
            None if height is None else height * s,
            None if width is None else width * s,
            None if channels is None else channels // (s * s),
        )

    def get_config(self):
        config = super().get_config()
        config.update({"scale": self.scale})
        return config


@keras.saving.register_keras_serializable(package="mesr")
class MultiplyBeta(keras.layers.Layer):
    """Multiply by a constant residual scaling factor ``beta`` (ESRGAN: 0.2).

    Parameters
    ----------
    beta : float
        The scaling factor.
    """

    def __init__(self, beta, **kwargs):
        super().__init__(**kwargs)
        self.beta = float(beta)

    def call(self, inputs):
        return inputs * self.beta

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"beta": self.beta})
        return config


@keras.saving.register_keras_serializable(package="mesr")
class GaussianNoiseInjection(keras.layers.Layer):
    """Add signal-proportional Gaussian noise ``x + N(0, 1) * sigma * x``, in training only.

    The noise of nESRGAN+ (Rakotonirina & Rasoanaivo 2020), injected at the
    output of every dense block. At inference (``training`` false or absent)
    the layer is the identity.

    Parameters
    ----------
    sigma : float, optional
        Relative noise amplitude (the paper's 0.1).
    seed : int or None, optional
        Seed of the layer's random generator (STYLE §15); ``None`` draws one
        from Keras' global seed (``keras.utils.set_random_seed``).
    """

    def __init__(self, sigma=0.1, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.sigma = float(sigma)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=None):
        if not training or self.sigma == 0:
            return inputs
        noise = keras.random.normal(keras.ops.shape(inputs), dtype=inputs.dtype, seed=self.seed_generator)
        return inputs + noise * self.sigma * inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"sigma": self.sigma, "seed": self.seed})
        return config
