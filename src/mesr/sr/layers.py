"""Custom Keras layers of the super-resolution networks.

Every custom operation is a :class:`keras.layers.Layer` subclass with a
``get_config()`` and a registered serialisation name (never a ``Lambda``), so
that models built here save to ``.keras`` files and reload (STYLE §16). None of
these layers holds weights, so they never take part in weight loading by layer
name.
"""

import keras
import tensorflow as tf

__all__ = [
    "CropToScale",
    "GaussianNoiseInjection",
    "MultiplyBeta",
    "PixelShuffle",
    "PixelUnshuffle",
    "ReflectPadToMultiple",
]


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


@keras.saving.register_keras_serializable(package="mesr")
class PixelUnshuffle(keras.layers.Layer):
    """PyTorch's ``pixel_unshuffle`` in NHWC: ``scale x scale`` blocks become channels.

    ``out[b, h, w, c*s*s + i*s + j] = x[b, h*s + i, w*s + j, c]``: the channels
    of one input channel stay together, as ``torch.nn.functional.pixel_unshuffle``
    orders them (NCHW). ``tf.nn.space_to_depth`` orders them
    ``(i*s + j)*C + c`` instead, which would scramble the weights of the first
    convolution. Height and width must be multiples of ``scale``.

    Parameters
    ----------
    scale : int
        Block side.
    """

    def __init__(self, scale, **kwargs):
        super().__init__(**kwargs)
        self.scale = int(scale)

    def call(self, inputs):
        s = self.scale
        shape = tf.shape(inputs)
        batch, height, width, channels = shape[0], shape[1] // s, shape[2] // s, shape[3]
        x = tf.reshape(inputs, tf.stack([batch, height, s, width, s, channels]))
        x = tf.transpose(x, [0, 1, 3, 5, 2, 4])  # (b, h, w, c, i, j)
        return tf.reshape(x, tf.stack([batch, height, width, channels * s * s]))

    def compute_output_shape(self, input_shape):
        batch, height, width, channels = input_shape
        s = self.scale
        return (
            batch,
            None if height is None else height // s,
            None if width is None else width // s,
            None if channels is None else channels * s * s,
        )

    def get_config(self):
        config = super().get_config()
        config.update({"scale": self.scale})
        return config


@keras.saving.register_keras_serializable(package="mesr")
class ReflectPadToMultiple(keras.layers.Layer):
    """Pad the bottom and right edges by reflection up to a multiple of ``multiple`` pixels.

    Real-ESRGAN's inference (``RealESRGANer.pre_process``) pads x2 inputs so,
    reflecting without repeating the edge pixel; :class:`CropToScale` removes the
    padding's output afterwards. A side that is already a multiple is left as it is.

    Parameters
    ----------
    multiple : int
        The height and width are padded to multiples of it (reflection needs
        sides of at least ``multiple`` pixels).
    """

    def __init__(self, multiple, **kwargs):
        super().__init__(**kwargs)
        self.multiple = int(multiple)

    def call(self, inputs):
        m = self.multiple
        shape = tf.shape(inputs)
        pad_h, pad_w = (m - shape[1] % m) % m, (m - shape[2] % m) % m
        return tf.pad(inputs, [[0, 0], [0, pad_h], [0, pad_w], [0, 0]], mode="REFLECT")

    def compute_output_shape(self, input_shape):
        batch, height, width, channels = input_shape
        m = self.multiple
        return (
            batch,
            None if height is None else -(-height // m) * m,
            None if width is None else -(-width // m) * m,
            channels,
        )

    def get_config(self):
        config = super().get_config()
        config.update({"multiple": self.multiple})
        return config


@keras.saving.register_keras_serializable(package="mesr")
class CropToScale(keras.layers.Layer):
    """Crop an image to ``scale`` times the size of a reference: called on ``[image, reference]``.

    Parameters
    ----------
    scale : int
        Size ratio of the output to the reference.
    """

    def __init__(self, scale, **kwargs):
        super().__init__(**kwargs)
        self.scale = int(scale)

    def call(self, inputs):
        image, reference = inputs
        shape = tf.shape(reference)
        return image[:, : shape[1] * self.scale, : shape[2] * self.scale, :]

    def compute_output_shape(self, input_shape):
        (batch, _, _, channels), (_, height, width, _) = input_shape
        s = self.scale
        return (batch, None if height is None else height * s, None if width is None else width * s, channels)

    def get_config(self):
        config = super().get_config()
        config.update({"scale": self.scale})
        return config
