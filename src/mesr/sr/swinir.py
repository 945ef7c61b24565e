"""SwinIR's real-world SR network (SwinIR-M, ``nearest+conv``), loadable from its published ``.pth`` files.

SwinIR (Liang et al. 2021) extracts shallow features with one convolution,
deep features with residual Swin Transformer blocks (RSTB: Swin layers that
attend within 8 x 8 windows, every other layer with windows shifted by half a
window, then a convolution and a residual connection), and reconstructs the
image. Its real-world SR models (``003_realSR_BSRGAN_DFO_s64w8_SwinIR-M_x{2,4}_GAN.pth``,
state dicts under ``params_ema``) reconstruct with nearest-neighbour x2
upsamplings and convolutions (``upsampler='nearest+conv'``), one RSTB
convolution (``resi_connection='1conv'``), RGB in 0..1 (``img_range=1``) and
no absolute position embedding. This module builds that configuration only,
following ``models/network_swinir.py`` of JingyunLiang/SwinIR. That file
builds ``nearest+conv`` at x4 only; at x2 the model here has one nearest x2
upsampling and no ``conv_up2``, as the copies of the file that run the
published x2 model have it (``if self.upscale == 4`` around ``conv_up2``; the
x2 file is one 64-channel 3x3 convolution smaller than the x4 one).

The shifted-window attention masks and the relative position index depend on
the frame size and are computed once, in numpy, when the model is built, so a
model serves one (height, width) of LR frames (``input_size``); its weights do
not depend on it.

Layer names are the original's module names with ``_`` for ``.``
(``conv_first``, ``patch_embed_norm``,
``layers_{i}_residual_group_blocks_{j}_{norm1,attn,norm2,mlp_fc1,mlp_fc2}``,
``layers_{i}_conv``, ``norm``, ``conv_after_body``,
``conv_before_upsample_0``, ``conv_up1``, ``conv_up2``, ``conv_hr``,
``conv_last``), so that :func:`load_pth_weights` maps every tensor of the file
to one layer by name (:func:`torch_name`). The weights are PyTorch ``.pth``
files, read without PyTorch by :func:`mesr.sr.pth.load_state_dict`.
"""

import logging
import numbers
import re

import keras
import numpy as np
import tensorflow as tf

from mesr._checks import check_integer, check_option, check_positive
from mesr.sr.layers import CropToScale, ReflectPadToMultiple
from mesr.sr.pth import assign_state_dict, torch_layout

__all__ = [
    "IMG_SIZE",
    "RGB_MEAN",
    "SCALES",
    "ChannelOffset",
    "ShiftedWindowAttention",
    "build_swinir",
    "load_pth_weights",
    "torch_name",
]

logger = logging.getLogger(__name__)

#: Upscaling factors: x4 (two nearest x2 stages) and x2 (one).
SCALES = (2, 4)

#: The RGB mean subtracted from the input and added back to the output (DIV2K's, as the original has it).
RGB_MEAN = (0.4488, 0.4371, 0.4040)

#: The ``img_size`` the published real-SR models were built with (main_test_swinir.py, task real_sr).
IMG_SIZE = 64

_EPSILON = 1e-5  # torch.nn.LayerNorm
_NUM_FEAT = 64  # channels of the reconstruction convolutions
_SLOPE = 0.2  # the reconstruction's LeakyReLU
_SLOPE_BEFORE_UPSAMPLE = 0.01  # nn.LeakyReLU() in conv_before_upsample: PyTorch's default slope
_MASK = -100.0  # attention logits between positions of different regions of a shifted window
_BLOCK = re.compile(r"layers_(\d+)_residual_group_blocks_(\d+)_(norm1|attn|norm2|mlp_fc1|mlp_fc2)")
_RSTB_CONV = re.compile(r"layers_(\d+)_conv")
_SYMBOLS = "embed_dim, depths, num_heads, window_size, mlp_ratio, img_size"
_FIXED_NAMES = {"patch_embed_norm": "patch_embed.norm", "conv_before_upsample_0": "conv_before_upsample.0"}


def _relative_position_index(window):
    """``WindowAttention.relative_position_index``: (w*w, w*w) indices into the (2w-1)**2 bias table."""
    coords = np.stack(np.meshgrid(np.arange(window), np.arange(window), indexing="ij")).reshape(2, -1)
    relative = (coords[:, :, None] - coords[:, None, :]).transpose(1, 2, 0) + (window - 1)
    return (relative[:, :, 0] * (2 * window - 1) + relative[:, :, 1]).astype(np.int64)


def _attention_mask(height, width, window, shift):
    """``SwinTransformerBlock.calculate_mask``: (windows, w*w, w*w) of 0 within a region, -100 across regions.

    After the cyclic shift, windows at the bottom and right edges hold pixels
    from opposite edges of the image; labelling the nine regions of the
    shifted image and masking pairs of positions with different labels keeps
    attention within image-contiguous regions.
    """
    labels = np.zeros((height, width))
    bounds = (slice(0, -window), slice(-window, -shift), slice(-shift, None))
    for k, (rows, cols) in enumerate((rows, cols) for rows in bounds for cols in bounds):
        labels[rows, cols] = k
    windows = labels.reshape(height // window, window, width // window, window).transpose(0, 2, 1, 3)
    windows = windows.reshape(-1, window * window)
    return np.where(windows[:, None, :] != windows[:, :, None], _MASK, 0.0).astype(np.float32)


@keras.saving.register_keras_serializable(package="mesr")
class ChannelOffset(keras.layers.Layer):
    """Add a constant vector along the channel axis (the original's ``- self.mean`` and ``+ self.mean``).

    Parameters
    ----------
    offset : sequence of float
        One value per channel.
    """

    def __init__(self, offset, **kwargs):
        super().__init__(**kwargs)
        self.offset = tuple(float(v) for v in offset)

    def call(self, inputs):
        return inputs + tf.constant(self.offset, dtype=inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"offset": list(self.offset)})
        return config


@keras.saving.register_keras_serializable(package="mesr")
class ShiftedWindowAttention(keras.layers.Layer):
    """Swin's (shifted-)window multi-head self-attention with relative position bias, on NHWC features.

    The attention part of the original's ``SwinTransformerBlock``: roll the
    features by ``-shift`` pixels along height and width (``torch.roll``),
    partition them into ``window x window`` windows, attend within each window
    (``WindowAttention``: ``qkv`` linear with bias, scaled dot products
    ``head_dim**-0.5``, plus the bias ``relative_position_bias_table[index]``
    and, when shifted, the mask of the original's ``calculate_mask``; softmax;
    ``proj`` linear), merge the windows and roll back by ``+shift``. Height and
    width must be known when the layer is built (:attr:`frame_size`) and be
    multiples of ``window``; the relative position index and the mask are
    computed then, in numpy, and held as constants
    (:attr:`relative_position_index`, :attr:`attention_mask`), not as weights.
    The layer then takes frames of that size only.

    Weights, in this order: ``relative_position_bias_table`` ((2w-1)**2, heads),
    ``qkv_kernel`` (C, 3C), ``qkv_bias`` (3C,), ``proj_kernel`` (C, C),
    ``proj_bias`` (C,), the kernels in Keras' (in, out) layout.

    Parameters
    ----------
    num_heads : int
        Attention heads; they must divide the channels.
    window_size : int
        Window side.
    shift_size : int
        Cyclic shift, 0 (plain windows) or less than ``window_size``.

    Raises
    ------
    ValueError
        If the shift is not in 0..window_size-1, or (when built) the frame is
        not a multiple of the window or the heads do not divide the channels.
    """

    def __init__(self, num_heads, window_size, shift_size=0, **kwargs):
        super().__init__(**kwargs)
        self.num_heads, self.window_size, self.shift_size = int(num_heads), int(window_size), int(shift_size)
        if not 0 <= self.shift_size < self.window_size:
            raise ValueError(f"shift_size must be in 0..{self.window_size - 1} (window_size - 1), got {shift_size!r}")
        self.relative_position_index = _relative_position_index(self.window_size)
        self.frame_size, self.attention_mask = None, None

    def build(self, input_shape):
        _, height, width, channels = input_shape
        w, s = self.window_size, self.shift_size
        if height is None or width is None or height % w or width % w:
            raise ValueError(f"layer {self.name!r}: height and width must be multiples of {w}, got {height}x{width}")
        if channels % self.num_heads:
            raise ValueError(f"layer {self.name!r}: {self.num_heads} heads do not divide {channels} channels")
        self.frame_size = (int(height), int(width))
        self.attention_mask = _attention_mask(height, width, w, s) if s else None
        normal = keras.initializers.RandomNormal(stddev=0.02)  # timm's trunc_normal_(std=.02), bounds +-2: untruncated
        self.relative_position_bias_table = self.add_weight(
            shape=((2 * w - 1) ** 2, self.num_heads), initializer=normal, name="relative_position_bias_table"
        )
        self.qkv_kernel = self.add_weight(shape=(channels, 3 * channels), initializer=normal, name="qkv_kernel")
        self.qkv_bias = self.add_weight(shape=(3 * channels,), initializer="zeros", name="qkv_bias")
        self.proj_kernel = self.add_weight(shape=(channels, channels), initializer=normal, name="proj_kernel")
        self.proj_bias = self.add_weight(shape=(channels,), initializer="zeros", name="proj_bias")

    def call(self, inputs):
        w, s, heads = self.window_size, self.shift_size, self.num_heads
        (height, width), channels = self.frame_size, self.qkv_kernel.shape[0]  # also when traced with unknown sizes
        rows, cols, tokens, head_dim = height // w, width // w, w * w, channels // heads
        x = tf.roll(inputs, shift=[-s, -s], axis=[1, 2]) if s else inputs
        x = tf.reshape(x, [-1, rows, w, cols, w, channels])
        x = tf.reshape(tf.transpose(x, [0, 1, 3, 2, 4, 5]), [-1, rows * cols, tokens, channels])  # (b, win, n, c)
        qkv = tf.matmul(x, self.qkv_kernel) + self.qkv_bias
        qkv = tf.reshape(qkv, [-1, rows * cols, tokens, 3, heads, head_dim])
        q, k, v = tf.unstack(tf.transpose(qkv, [3, 0, 1, 4, 2, 5]))  # each (b, win, head, n, d)
        attention = tf.matmul(q * head_dim**-0.5, k, transpose_b=True)  # (b, win, head, n, n)
        bias = tf.gather(self.relative_position_bias_table, self.relative_position_index.reshape(-1))
        attention += tf.transpose(tf.reshape(bias, [tokens, tokens, heads]), [2, 0, 1])
        if s:
            attention += tf.constant(self.attention_mask[:, None], dtype=attention.dtype)  # (win, 1, n, n)
        x = tf.matmul(tf.nn.softmax(attention, axis=-1), v)
        x = tf.reshape(tf.transpose(x, [0, 1, 3, 2, 4]), [-1, rows * cols, tokens, channels])
        x = tf.matmul(x, self.proj_kernel) + self.proj_bias
        x = tf.reshape(x, [-1, rows, cols, w, w, channels])
        x = tf.reshape(tf.transpose(x, [0, 1, 3, 2, 4, 5]), [-1, height, width, channels])
        return tf.roll(x, shift=[s, s], axis=[1, 2]) if s else x

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"num_heads": self.num_heads, "window_size": self.window_size, "shift_size": self.shift_size})
        return config


def _conv(filters, name):
    # torch.nn.Conv2d's default, kaiming_uniform_(a=sqrt(5)): bound 1 / sqrt(fan_in)
    init = keras.initializers.VarianceScaling(scale=1 / 3, mode="fan_in", distribution="uniform")
    return keras.layers.Conv2D(filters, 3, padding="same", kernel_initializer=init, name=name)


def _dense(units, name, activation=None):
    init = keras.initializers.RandomNormal(stddev=0.02)
    return keras.layers.Dense(units, activation=activation, kernel_initializer=init, name=name)


def _norm(name):
    return keras.layers.LayerNormalization(epsilon=_EPSILON, name=name)


def _swin_layer(block_in, *, prefix, num_heads, window, shift, hidden):
    """The original's ``SwinTransformerBlock`` (``{prefix}``): ``x + attn(norm1(x))``, then ``x + mlp(norm2(x))``."""
    x = ShiftedWindowAttention(num_heads, window, shift, name=f"{prefix}_attn")(_norm(f"{prefix}_norm1")(block_in))
    x = keras.layers.Add(name=f"{prefix}_add_attn")([block_in, x])
    y = _dense(hidden, f"{prefix}_mlp_fc1", activation="gelu")(_norm(f"{prefix}_norm2")(x))  # exact (erf) GELU
    y = _dense(block_in.shape[-1], f"{prefix}_mlp_fc2")(y)
    return keras.layers.Add(name=f"{prefix}_add_mlp")([x, y])


def _rstb(block_in, *, i, depth, num_heads, window, shift, hidden):
    """The original's ``RSTB`` ``layers.{i}``: ``depth`` Swin layers, a 3x3 convolution, ``+ block_in``."""
    x = block_in
    for j in range(depth):
        prefix = f"layers_{i}_residual_group_blocks_{j}"
        x = _swin_layer(
            x, prefix=prefix, num_heads=num_heads, window=window, shift=shift if j % 2 else 0, hidden=hidden
        )
    x = _conv(block_in.shape[-1], f"layers_{i}_conv")(x)
    return keras.layers.Add(name=f"layers_{i}_add")([block_in, x])


def _check_pair(name, value):
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value, value)
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 2:
        raise ValueError(f"{name} must be (height, width), two positive integers, got {value!r}")
    return tuple(check_integer(name, v) for v in value)


def _check_stages(depths, num_heads, embed_dim):
    stages = []
    for name, value in (("depths", depths), ("num_heads", num_heads)):
        if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) == 0:
            raise ValueError(f"{name} must be a non-empty sequence of positive integers, got {value!r}")
        stages.append(tuple(check_integer(name, v) for v in value))
    depths, num_heads = stages
    if len(depths) != len(num_heads):
        raise ValueError(f"depths and num_heads must have one value per RSTB, got {len(depths)} and {len(num_heads)}")
    for heads in num_heads:
        if embed_dim % heads:
            raise ValueError(f"num_heads must divide embed_dim {embed_dim}, got {heads} in {num_heads}")
    return depths, num_heads


def build_swinir(
    *,
    embed_dim=180,
    depths=(6, 6, 6, 6, 6, 6),
    num_heads=(6, 6, 6, 6, 6, 6),
    window_size=8,
    mlp_ratio=2,
    scale=4,
    input_size,
    img_size=IMG_SIZE,
):
    """Build SwinIR for real-world SR (``upsampler='nearest+conv'``, ``resi_connection='1conv'``) in Keras.

    Parameters
    ----------
    embed_dim : int, optional
        Feature channels, default 180 (SwinIR-M).
    depths : sequence of int, optional
        Swin layers per RSTB, one value per RSTB; default six RSTBs of 6.
    num_heads : sequence of int, optional
        Attention heads per RSTB (each must divide ``embed_dim``); default 6 each.
    window_size : int, optional
        Attention window side, default 8. Frames are padded to multiples of it.
    mlp_ratio : float, optional
        Hidden width of the Swin layers' MLP as a multiple of ``embed_dim``
        (``int(embed_dim * mlp_ratio)``), default 2.
    scale : {2, 4}, optional
        Upscaling factor, default 4.
    input_size : (int, int)
        (height, width) of the LR frames the model is built for. Each side
        needs less padding to a multiple of ``window_size`` than its length
        (reflection padding).
    img_size : int or (int, int), optional
        The original's ``img_size`` (the training patch), default
        :data:`IMG_SIZE` (64, the published real-SR models'). It decides one
        thing only, as in the original: when its smaller side is at most
        ``window_size``, the Swin layers attend within windows of that side and
        never shift (their bias tables shrink accordingly); otherwise windows
        are ``window_size`` and every odd layer shifts them by
        ``window_size // 2``, whatever ``input_size`` is.

    Returns
    -------
    keras.Model
        Named ``swinir``. Input ``LR`` of shape (batch, H, W, 3) with
        (H, W) = ``input_size``, RGB in 0..1; output of shape (batch,
        scale*H, scale*W, 3), linear (not clipped).

    Raises
    ------
    ValueError
        If a size or symbol is not a positive integer (``mlp_ratio``: a
        positive number), ``depths`` and ``num_heads`` differ in length, a
        head count does not divide ``embed_dim``, the scale is not 2 or 4, a
        side of ``input_size`` is too short for the reflection padding, or the
        padded frame is not a multiple of a window shrunk by ``img_size``.

    Notes
    -----
    As the original's ``forward``: ``pad_to_window``
    (:class:`~mesr.sr.layers.ReflectPadToMultiple`, bottom and right edges, to
    multiples of ``window_size``, like ``F.pad(..., 'reflect')``, which does
    not repeat the edge pixel) -> ``sub_mean`` (:class:`ChannelOffset`,
    - :data:`RGB_MEAN`) -> ``conv_first`` (embed_dim) -> ``patch_embed_norm``
    (LayerNorm; features stay (H, W, C): the original's flattening to tokens
    changes no value) -> RSTBs ``layers_{i}`` (Swin layers
    ``layers_{i}_residual_group_blocks_{j}``: ``norm1``, ``attn``
    (:class:`ShiftedWindowAttention`), residual add, ``norm2``, ``mlp_fc1``
    (GELU, exact), ``mlp_fc2``, residual add; then ``layers_{i}_conv`` and the
    RSTB's residual add) -> ``norm`` (LayerNorm) -> ``conv_after_body``, added
    to ``conv_first``'s output -> ``conv_before_upsample_0`` (64 channels) and
    LeakyReLU 0.01 (``conv_before_upsample_1``: ``nn.LeakyReLU()``'s default
    slope) -> nearest x2 and ``conv_up1`` (LeakyReLU 0.2) -> at x4 only
    nearest x2 and ``conv_up2`` (LeakyReLU 0.2) -> ``conv_hr`` (LeakyReLU 0.2)
    -> ``conv_last`` (3) -> ``add_mean`` -> ``crop`` to scale*H x scale*W
    (:class:`~mesr.sr.layers.CropToScale`). Convolutions 3x3 with bias,
    LayerNorms with epsilon 1e-5, linear layers with bias. SwinIR-M (the
    defaults): 11,715,559 parameters at x4, 11,678,631 at x2 (the published
    files' tensors, without their buffers ``relative_position_index`` and
    ``attn_mask``).

    The original's test script (``main_test_swinir.py``) pads frames itself
    before the network, by mirroring with the edge pixel repeated and by
    1..window_size pixels even on multiples; this model pads as the network's
    own ``check_image_size`` does.

    References
    ----------
    Liang, J., Cao, J., Sun, G., Zhang, K., Van Gool, L. & Timofte, R. (2021).
    SwinIR: Image Restoration Using Swin Transformer. ICCV Workshops.
    doi:10.1109/ICCVW54120.2021.00210

    Liu, Z., Lin, Y., Cao, Y., Hu, H., Wei, Y., Zhang, Z., Lin, S. & Guo, B.
    (2021). Swin Transformer: Hierarchical Vision Transformer using Shifted
    Windows. ICCV. doi:10.1109/ICCV48922.2021.00986

    Examples
    --------
    >>> model = build_swinir(embed_dim=12, depths=(2,), num_heads=(3,), window_size=4, scale=2, input_size=(6, 10))
    >>> model.output_shape
    (None, 12, 20, 3)
    >>> build_swinir(scale=4, input_size=(16, 16)).count_params()
    11715559
    """
    embed_dim = check_integer("embed_dim", embed_dim)
    window_size = check_integer("window_size", window_size)
    check_positive("mlp_ratio", mlp_ratio)
    check_option("scale", scale, SCALES)
    scale = int(scale)
    depths, num_heads = _check_stages(depths, num_heads, embed_dim)
    hidden = int(embed_dim * mlp_ratio)
    if hidden < 1:
        raise ValueError(
            f"mlp_ratio must give at least one hidden unit (int(embed_dim * mlp_ratio)), got {mlp_ratio!r}"
        )
    height, width = _check_pair("input_size", input_size)
    img_size = _check_pair("img_size", img_size)
    padded = tuple(-(-side // window_size) * window_size for side in (height, width))
    if any(p - side >= side for p, side in zip(padded, (height, width))):
        raise ValueError(
            f"input_size must be at least window_size - (side mod window_size) + 1 px per side for reflection "
            f"padding to multiples of window_size {window_size}, got {height}x{width}"
        )
    if min(img_size) <= window_size:  # the original: small images attend within one window, unshifted
        window, shift = min(img_size), 0
    else:
        window, shift = window_size, window_size // 2
    if padded[0] % window or padded[1] % window:
        raise ValueError(
            f"img_size {img_size} shrinks the windows to {window} px, which do not tile the padded "
            f"{padded[0]}x{padded[1]} px frames (input_size {height}x{width})"
        )

    lr = keras.Input(shape=(height, width, 3), name="LR")
    x = ReflectPadToMultiple(window_size, name="pad_to_window")(lr)
    x = ChannelOffset([-m for m in RGB_MEAN], name="sub_mean")(x)
    first = _conv(embed_dim, "conv_first")(x)
    x = _norm("patch_embed_norm")(first)
    for i, (depth, heads) in enumerate(zip(depths, num_heads)):
        x = _rstb(x, i=i, depth=depth, num_heads=heads, window=window, shift=shift, hidden=hidden)
    x = _norm("norm")(x)
    x = keras.layers.Add(name="body_add")([first, _conv(embed_dim, "conv_after_body")(x)])
    x = _conv(_NUM_FEAT, "conv_before_upsample_0")(x)
    x = keras.layers.LeakyReLU(negative_slope=_SLOPE_BEFORE_UPSAMPLE, name="conv_before_upsample_1")(x)
    for k in (1, 2) if scale == 4 else (1,):
        x = keras.layers.UpSampling2D(size=2, interpolation="nearest", name=f"upsample{k}")(x)
        x = keras.layers.LeakyReLU(negative_slope=_SLOPE, name=f"conv_up{k}_lrelu")(_conv(_NUM_FEAT, f"conv_up{k}")(x))
    x = keras.layers.LeakyReLU(negative_slope=_SLOPE, name="conv_hr_lrelu")(_conv(_NUM_FEAT, "conv_hr")(x))
    x = ChannelOffset(RGB_MEAN, name="add_mean")(_conv(3, "conv_last")(x))
    sr = CropToScale(scale, name="crop")([x, lr])
    model = keras.Model(inputs=lr, outputs=sr, name="swinir")
    logger.debug(
        "built swinir embed_dim %d depths %s heads %s window %d (attention %d, shift %d) x%d for %dx%d: %d parameters",
        embed_dim,
        depths,
        num_heads,
        window_size,
        window,
        shift,
        scale,
        height,
        width,
        model.count_params(),
    )
    return model


def torch_name(layer_name):
    """The original's module name of a layer of :func:`build_swinir` that has weights.

    Parameters
    ----------
    layer_name : str
        A Keras layer name (``conv_first``, ``layers_0_residual_group_blocks_1_attn``...).

    Returns
    -------
    str
        The prefix of its tensors in the original's state dict (``conv_first``,
        ``layers.0.residual_group.blocks.1.attn``...).

    Examples
    --------
    >>> torch_name("layers_5_residual_group_blocks_3_mlp_fc2")
    'layers.5.residual_group.blocks.3.mlp.fc2'
    >>> torch_name("layers_2_conv")
    'layers.2.conv'
    >>> torch_name("conv_before_upsample_0")
    'conv_before_upsample.0'
    >>> torch_name("conv_up1")
    'conv_up1'
    """
    match = _BLOCK.fullmatch(layer_name)
    if match:
        return f"layers.{match[1]}.residual_group.blocks.{match[2]}.{match[3].replace('_', '.')}"
    match = _RSTB_CONV.fullmatch(layer_name)
    if match:
        return f"layers.{match[1]}.conv"
    return _FIXED_NAMES.get(layer_name, layer_name)


def _layout(layer):
    """:func:`~mesr.sr.pth.torch_layout`, and the tensors of an attention layer (linear weights transposed)."""
    if not isinstance(layer, ShiftedWindowAttention):
        return torch_layout(layer)
    table = layer.relative_position_bias_table
    qkv_in, qkv_out = layer.qkv_kernel.shape
    proj_in, proj_out = layer.proj_kernel.shape
    return [
        ("relative_position_bias_table", table, None, tuple(table.shape)),
        ("qkv.weight", layer.qkv_kernel, np.transpose, (qkv_out, qkv_in)),
        ("qkv.bias", layer.qkv_bias, None, (qkv_out,)),
        ("proj.weight", layer.proj_kernel, np.transpose, (proj_out, proj_in)),
        ("proj.bias", layer.proj_bias, None, (proj_out,)),
    ]


def _original_buffers(layer, prefix, tensors):
    """The buffers of an attention layer that the model computes itself: its index (checked) and shifted mask."""
    if not isinstance(layer, ShiftedWindowAttention):
        return set()
    keys = set()
    key = f"{prefix}.relative_position_index"
    if key in tensors:
        index = tensors[key]
        if index.shape != layer.relative_position_index.shape or not np.array_equal(
            index, layer.relative_position_index
        ):
            raise ValueError(
                f"buffer {key!r} (shape {index.shape}) differs from the relative position index of layer "
                f"{layer.name!r} (window {layer.window_size}); is the window size that of the file?"
            )
        keys.add(key)
    if layer.shift_size:
        keys.add(f"{prefix.removesuffix('.attn')}.attn_mask")
    return keys


def load_pth_weights(model, path):
    """Load a SwinIR state dict (a ``.pth`` file) into ``model``, strictly.

    Each layer with weights takes the tensors ``{name}.{suffix}`` of the file,
    ``name`` being :func:`torch_name` of the layer: convolutions ``weight``
    (PyTorch's (out, in, kh, kw), transposed to Keras' (kh, kw, in, out)) and
    ``bias``; linear layers ``weight`` ((out, in), transposed) and ``bias``;
    LayerNorms ``weight`` (gamma) and ``bias`` (beta); attention layers
    ``relative_position_bias_table``, ``qkv.weight``, ``qkv.bias``,
    ``proj.weight`` and ``proj.bias``. Every tensor of the file must be used
    once, except the original's buffers, which the model computes itself:
    ``{block}.attn.relative_position_index`` (checked: it must equal the
    model's) and ``{block}.attn_mask`` (only for blocks the model shifts; its
    values depend on the original's ``img_size`` and are not used). Values are
    cast to the layer's dtype (float32).

    Parameters
    ----------
    model : keras.Model
        A model of :func:`build_swinir` with the file's embed_dim, depths,
        num_heads, window_size, mlp_ratio and scale (any ``input_size``).
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
        As :func:`mesr.sr.pth.assign_state_dict`, and a ``ValueError`` when a
        ``relative_position_index`` differs from the model's; the model is then
        left unchanged.

    Examples
    --------
    >>> model = build_swinir(scale=4, input_size=(64, 64))  # doctest: +SKIP
    >>> model = load_pth_weights(model, "003_realSR_BSRGAN_DFO_s64w8_SwinIR-M_x4_GAN.pth")  # doctest: +SKIP
    """
    return assign_state_dict(
        model, path, torch_name=torch_name, symbols=_SYMBOLS, layout=_layout, buffers=_original_buffers
    )
