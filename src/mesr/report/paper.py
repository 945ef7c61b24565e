"""The paper's published numbers (docs/reports.md#the-papers-numbers), as data for side-by-side columns.

Sharma, Coleman, Yogarajah, Taggart & Samarasinghe (ICPRAM 2022), "Evaluation
of GAN Generated Super Resolution Images for Micro Expression Recognition".

Rows are keyed by our set names (docs/layout.md#sets-and-naming): ``HR128``, ``LR64``, ``LR32``,
``SR64-{model}`` and ``SR32-{model}``. The paper's methods map to these config
model keys:

=================  ==================  ====================
config key         paper's name         scales in the paper
=================  ==================  ====================
``esrgan``         ESRGAN               SR64 (x2), SR32 (x4)
``psnr_large``     RDN psnr-large       SR64 (x2)
``psnr_small``     RDN psnr-small       SR64 (x2)
``noise_cancel``   RDN noise-cancel     SR64 (x2)
``nesrgan_plus``   nESRGAN+             SR32 (x4)
=================  ==================  ====================

Models of a config that the paper does not have (e.g. ``bicubic``) keep their
key as display name unless listed in :data:`MODEL_NAMES`.

Descriptor keys are the names of the :mod:`mesr.descriptors` functions,
``lbp_top`` and ``lpq_top`` (LBP-TOP, LPQ-TOP). The Table 2 column "Li et
al. 2019" is the accuracy that Li et al. (2019) reported and the paper quotes
(``None`` where the paper gives none).

Values are copied as printed: PSNR in dB, SSIM in 0..1, accuracies in percent.
"""

import re

__all__ = [
    "PAPER_MODELS",
    "MODEL_NAMES",
    "DESCRIPTORS",
    "DESCRIPTOR_NAMES",
    "DATASET_NAMES",
    "MEGC2019_BASELINE",
    "dataset_order",
    "TABLE1",
    "TABLE2",
    "TABLE2_ROWS",
    "set_name",
    "parse_set",
]

#: The paper's models, in the order of its tables.
PAPER_MODELS = ("esrgan", "psnr_large", "psnr_small", "noise_cancel", "nesrgan_plus")

#: Display name of each model key (the paper's method names; ``bicubic``, and the keys of config/modern-sr.yaml).
MODEL_NAMES = {
    "esrgan": "ESRGAN",
    "psnr_large": "RDN psnr-large",
    "psnr_small": "RDN psnr-small",
    "noise_cancel": "RDN noise-cancel",
    "nesrgan_plus": "nESRGAN+",
    "bicubic": "Bicubic",
    "real_esrgan": "Real-ESRGAN",
    "swinir": "SwinIR",
}

#: Descriptor keys, in the order of Table 2's columns.
DESCRIPTORS = ("lbp_top", "lpq_top")

#: Display name of each dataset adapter (``dataset.name``; the composite's parts), in the order of the tables.
DATASET_NAMES = {
    "smic_hs": "SMIC",
    "smic_vis": "SMIC-VIS",
    "smic_nir": "SMIC-NIR",
    "casme2": "CASME II",
    "samm": "SAMM",
    "casme3_a": "CAS(ME)^3 A",
}


def dataset_order(names):
    """Dataset names in the order of :data:`DATASET_NAMES`, others after them alphabetically.

    >>> dataset_order(["samm", "smic_hs", "casme2"])
    ['smic_hs', 'casme2', 'samm']
    """
    known = list(DATASET_NAMES)
    return sorted(names, key=lambda name: (known.index(name) if name in known else len(known), name))


#: The MEGC 2019 composite's LBP-TOP baseline (See et al., FG 2019, "MEGC 2019 - The Second Facial
#: Micro-Expressions Grand Challenge"), (UF1, UAR) as printed, for the whole composite and each part. Its
#: settings: radii (1, 1, 4), 4 points on every plane, 5x5 blocks, TIM to 10 frames.
MEGC2019_BASELINE = {
    "composite": (0.5882, 0.5785),
    "smic_hs": (0.2000, 0.5280),
    "casme2": (0.7026, 0.7429),
    "samm": (0.3954, 0.4102),
}

#: Display name of each descriptor key.
DESCRIPTOR_NAMES = {"lbp_top": "LBP-TOP", "lpq_top": "LPQ-TOP", "bi_woof": "Bi-WOOF", "ststnet": "STSTNet"}

#: Table 1: PSNR (dB) and SSIM of every SR set against HR128.
TABLE1 = {
    "SR64-esrgan": {"psnr": 35.79, "ssim": 0.9826},
    "SR64-psnr_large": {"psnr": 36.58, "ssim": 0.9789},
    "SR64-psnr_small": {"psnr": 37.41, "ssim": 0.9827},
    "SR64-noise_cancel": {"psnr": 30.38, "ssim": 0.9412},
    "SR32-esrgan": {"psnr": 29.5, "ssim": 0.8502},
    "SR32-nesrgan_plus": {"psnr": 23.08, "ssim": 0.7601},
}

#: Table 2: LOSO accuracy (%) with LBP-TOP and LPQ-TOP, and Li et al. (2019)'s accuracy.
TABLE2 = {
    "HR128": {"lbp_top": 50.06, "lpq_top": 52.43, "li2019": 50.00},
    "SR64-esrgan": {"lbp_top": 51.43, "lpq_top": 52.43, "li2019": 52.44},
    "SR64-psnr_large": {"lbp_top": 50.67, "lpq_top": 52.00, "li2019": None},
    "SR64-psnr_small": {"lbp_top": 51.45, "lpq_top": 52.43, "li2019": None},
    "SR64-noise_cancel": {"lbp_top": 49.39, "lpq_top": 51.82, "li2019": None},
    "SR32-esrgan": {"lbp_top": 49.82, "lpq_top": 50.60, "li2019": 51.83},
    "SR32-nesrgan_plus": {"lbp_top": 49.24, "lpq_top": 50.00, "li2019": None},
    "LR64": {"lbp_top": 49.2, "lpq_top": 49.39, "li2019": 50.00},
    "LR32": {"lbp_top": 44.25, "lpq_top": 48.17, "li2019": 46.95},
}

#: Rows of Table 2 in the paper's order.
TABLE2_ROWS = tuple(TABLE2)

_SET_PATTERN = re.compile(r"^(?:(HR)(128)|(LR)(64|32)|(SR)(64|32)-([A-Za-z0-9_]+))$")


def set_name(kind, resolution, model=None):
    """Our set name (docs/layout.md#sets-and-naming) from its parts.

    Parameters
    ----------
    kind : {"HR", "LR", "SR"}
    resolution : int
        128 for HR; 64 or 32 (the LR input size) for LR and SR.
    model : str, optional
        Config model key; required for SR, forbidden otherwise.

    Returns
    -------
    str

    Examples
    --------
    >>> set_name("SR", 64, "psnr_small")
    'SR64-psnr_small'
    """
    name = f"{kind}{resolution}" if model is None else f"{kind}{resolution}-{model}"
    parse_set(name)
    return name


def parse_set(name):
    """Split a set name into ``(kind, resolution, model)``.

    Parameters
    ----------
    name : str
        ``HR128``, ``LR64``, ``LR32``, ``SR64-{model}`` or ``SR32-{model}``
        (model keys: letters, digits and underscores).

    Returns
    -------
    tuple
        ``(kind, resolution, model)``, ``model`` None for HR and LR sets.

    Raises
    ------
    ValueError
        If ``name`` is not a set name.

    Examples
    --------
    >>> parse_set("SR32-esrgan")
    ('SR', 32, 'esrgan')
    >>> parse_set("LR64")
    ('LR', 64, None)
    """
    match = _SET_PATTERN.match(name) if isinstance(name, str) else None
    if match is None:
        raise ValueError(f"set name must be one of HR128, LR64, LR32, SR64-<model>, SR32-<model>, got {name!r}")
    groups = [g for g in match.groups() if g is not None]
    kind, resolution = groups[0], int(groups[1])
    return kind, resolution, (groups[2] if len(groups) > 2 else None)
