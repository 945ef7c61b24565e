"""Published weights by name (docs/models.md#published-weights): where each file lives, its size and digest.

A model's ``weights.x<scale>`` may name a published file instead of giving a
path or a URL: ``isr:psnr-large``, ``isr:psnr-small``, ``isr:noise-cancel``
(idealo ISR's RDNs, x2) and ``isr:gans`` (ISR's ESRGAN generator, x4), Keras-2
HDF5 files; ``realesrgan:x2plus``, ``realesrgan:x4plus`` (Real-ESRGAN) and
``swinir:realsr-m-x2``, ``swinir:realsr-m-x4`` (SwinIR-M real-SR, GAN), PyTorch
``.pth`` files that the workflow converts (:func:`mesr.sr.convert_pth`). The
workflow downloads the file once, on the machine where snakemake runs, into
``resources/weights/`` and checks its size and SHA-256 before anything uses
it; a file already there with the right digest is not downloaded again.

Each name also fixes the architecture, its parameters and the scale the file
was trained for, so that a config whose model would not fit the file is
refused before anything runs, naming both.
"""

from dataclasses import dataclass

__all__ = ["PUBLISHED", "SOURCES", "Published", "check_published", "is_published", "published"]

_ISR = "https://public-asai-dl-models.s3.eu-central-1.amazonaws.com/ISR/"
_REALESRGAN = "https://github.com/xinntao/Real-ESRGAN/releases/download/"
_SWINIR = "https://github.com/JingyunLiang/SwinIR/releases/download/v0.0/"
#: SwinIR-M as its real-SR models use it (main_test_swinir.py, task real_sr).
_SWINIR_M = {"embed_dim": 180, "depths": [6] * 6, "num_heads": [6] * 6, "window_size": 8, "mlp_ratio": 2}


@dataclass(frozen=True)
class Published:
    """One published weights file: its address, size in bytes, SHA-256, and the network it belongs to."""

    url: str
    size: int
    sha256: str
    arch: str
    params: dict
    scale: int


#: Published weights by name. ISR's addresses and digests are those of the ISR repository's Git LFS pointers;
#: Real-ESRGAN's and SwinIR's are their GitHub releases, with the sizes and digests of the OpenModelDB records.
PUBLISHED = {
    "isr:psnr-large": Published(
        url=_ISR + "rdn-C6-D20-G64-G064-x2/PSNR-driven/rdn-C6-D20-G64-G064-x2_PSNR_epoch086.hdf5",
        size=66_071_288,
        sha256="1816f1d37bbdbc724e5ab3429b402d00f78194a1b08628a1e44df6a3fcb5161b",
        arch="rdn",
        params={"C": 6, "D": 20, "G": 64, "G0": 64},
        scale=2,
    ),
    "isr:psnr-small": Published(
        url=_ISR + "rdn-C3-D10-G64-G064-x2/PSNR-driven/rdn-C3-D10-G64-G064-x2_PSNR_epoch134.hdf5",
        size=10_694_096,
        sha256="b76993189e63fb34dd46d1d40b40498fdb1e298c04185575a1c634e11c86cffd",
        arch="rdn",
        params={"C": 3, "D": 10, "G": 64, "G0": 64},
        scale=2,
    ),
    "isr:noise-cancel": Published(
        url=_ISR + "rdn-C6-D20-G64-G064-x2/ArtefactCancelling/rdn-C6-D20-G64-G064-x2_ArtefactCancelling_epoch219.hdf5",
        size=66_071_288,
        sha256="a361e56e2efd1096dbd149aa5e053db61c6f4815140c4686c6a1b0b94b6b137a",
        arch="rdn",
        params={"C": 6, "D": 20, "G": 64, "G0": 64},
        scale=2,
    ),
    "isr:gans": Published(
        url=_ISR + "rrdn-C4-D3-G32-G032-T10-x4-GANS/rrdn-C4-D3-G32-G032-T10-x4_epoch299.hdf5",
        size=17_462_488,
        sha256="104dfd5363470092edf9ec9a971510951462f574edfa6e83dd374d0983d34026",
        arch="rrdn",
        params={"C": 4, "D": 3, "G": 32, "G0": 32, "T": 10},
        scale=4,
    ),
    "realesrgan:x4plus": Published(
        url=_REALESRGAN + "v0.1.0/RealESRGAN_x4plus.pth",
        size=67_040_989,
        sha256="4fa0d38905f75ac06eb49a7951b426670021be3018265fd191d2125df9d682f1",
        arch="realesrgan",
        params={"nf": 64, "gc": 32, "nb": 23},
        scale=4,
    ),
    "realesrgan:x2plus": Published(
        url=_REALESRGAN + "v0.2.1/RealESRGAN_x2plus.pth",
        size=67_061_725,
        sha256="49fafd45f8fd7aa8d31ab2a22d14d91b536c34494a5cfe31eb5d89c2fa266abb",
        arch="realesrgan",
        params={"nf": 64, "gc": 32, "nb": 23},
        scale=2,
    ),
    "swinir:realsr-m-x2": Published(
        url=_SWINIR + "003_realSR_BSRGAN_DFO_s64w8_SwinIR-M_x2_GAN.pth",
        size=66_974_517,
        sha256="f397408977a3e07eb06afb7238d453a12ef35ebab7328a54241f307860dbe342",
        arch="swinir",
        params=_SWINIR_M,
        scale=2,
    ),
    "swinir:realsr-m-x4": Published(
        url=_SWINIR + "003_realSR_BSRGAN_DFO_s64w8_SwinIR-M_x4_GAN.pth",
        size=67_129_861,
        sha256="b9afb61e65e04eb7f8aba5095d070bbe9af28df76acd0c9405aeb33b814bcfc6",
        arch="swinir",
        params=_SWINIR_M,
        scale=4,
    ),
}


#: The prefixes of the names: a ``weights`` string starting with one of them and ``:`` is a name, not a path.
SOURCES = tuple(dict.fromkeys(name.split(":", 1)[0] for name in PUBLISHED))


def is_published(weights):
    """Whether a ``weights.x<scale>`` value names a published file (``isr:...``, ``realesrgan:...``) rather than a path.

    >>> is_published("isr:psnr-small"), is_published("/models/rdn.hdf5"), is_published(None)
    (True, False, False)
    """
    return isinstance(weights, str) and weights.split(":", 1)[0] in SOURCES


def published(name):
    """The :class:`Published` entry of a name.

    Raises
    ------
    ValueError
        If the name is unknown (the message lists the known ones).
    """
    if name not in PUBLISHED:
        raise ValueError(f"unknown published weights {name!r}; known: {', '.join(PUBLISHED)}")
    return PUBLISHED[name]


def check_published(name, *, arch, params, scale, where):
    """Refuse a model that the published file ``name`` does not fit, naming ``where`` (e.g. ``models.esrgan``).

    The architecture, every parameter the file fixes and the scale must match.

    Raises
    ------
    ValueError
        On an unknown name or a mismatch (the message names both values).

    Examples
    --------
    >>> check_published("isr:psnr-small", arch="rdn", params={"C": 3, "D": 10, "G": 64, "G0": 64}, scale=2,
    ...                 where="models.psnr_small")
    """
    entry = published(name)
    given = {key: params.get(key) for key in entry.params}
    if arch != entry.arch or given != entry.params or scale != entry.scale:
        raise ValueError(
            f"{where}: {name} holds a {entry.arch} with {entry.params} at x{entry.scale}, "
            f"but the model is a {arch} with {given} at x{scale}"
        )
