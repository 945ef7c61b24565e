"""A synthetic SMIC-HS: procedural faces with micro-expressions, in the real layout (docs/data.md#synthetic-smic-hs).

SMIC-HS cannot be shipped, so the demo study and the tests run on this twin.
Each subject has its own appearance (skin tone and texture, face proportions,
eye, brow and mouth placement). Each clip is a short, low-amplitude facial
movement with onset, apex and offset:

- positive: lip corners rise, the lower lids lift slightly;
- negative: brows lower and draw together, lips press;
- surprise: brows and upper lids rise, the mouth opens.

Amplitude (a few pixels on the original crop) and timing vary per clip, some
clips blink, illumination flickers and every frame carries sensor noise. The
movements survive at 128x128 but shrink below a pixel at 32x32, which is the
effect the study measures.

The tree follows docs/data.md#smic-hs-as-received exactly: BMP frames, unpadded subject folders,
5 to 8 digit absolute frame numbers, crop sizes varying between clips,
``NIR/`` and ``VIS/`` siblings, a ``non_micro/`` folder and a ``Thumbs.db``.
"""

import logging

import cv2
import numpy as np

from mesr._checks import check_integer
from mesr.io import atomic_dir
from mesr.data.smic import CLASSES

__all__ = ["PRESETS", "SMIC_COUNTS", "generate", "render_clip", "subject_appearance"]

logger = logging.getLogger(__name__)

#: Clips per subject (negative, positive, surprise) of the real SMIC-HS (docs/data.md#smic-hs-as-received).
SMIC_COUNTS = {
    1: (3, 2, 1),
    2: (0, 1, 5),
    3: (22, 11, 6),
    4: (10, 4, 5),
    5: (1, 0, 1),
    6: (2, 0, 2),
    8: (9, 4, 0),
    9: (0, 1, 3),
    11: (3, 3, 1),
    12: (0, 8, 1),
    13: (0, 10, 0),
    14: (3, 2, 5),
    15: (1, 1, 2),
    18: (2, 0, 5),
    19: (0, 1, 1),
    20: (14, 3, 5),
}

#: Size presets: clips per subject and class, and the range of clip lengths in frames.
PRESETS = {
    "mini": {"counts": {s: (1, 1, 1) for s in (1, 2, 3, 4)}, "frames": (10, 14)},
    "demo": {"counts": {s: (2, 2, 2) for s in (1, 2, 3, 4, 5, 6, 8, 9)}, "frames": (16, 24)},
    "smic": {"counts": SMIC_COUNTS, "frames": (16, 58)},
}

# Movement at the apex, in pixels of a 160 px wide crop, for each class.
_MOTIONS = {
    "negative": {"brow_drop": 1.3, "brow_knit": 1.0, "lip_press": 0.27},
    "positive": {"corner_lift": 1.9, "lid_open": -0.11},
    "surprise": {"brow_drop": -1.9, "lid_open": 0.21, "mouth_open": 1.8},
}
# The skin around a moving part moves this many times as far as the part's outline: the
# fine skin texture carries most of the signal, sub-pixel and blurred away at 32x32.
_SKIN_FLOW_GAIN = 3.3
_TEXTURE_SCALE = 1.2  # pixels
_SENSOR_NOISE = 1.0  # grey levels
_BLINK = 0.15  # probability that a clip blinks
_EDGE = 0.6  # pixels of anti-aliasing on every shape


#: SMIC modality folder of each SMIC twin.
_SMIC_MODALITIES = {"smic_hs": "HS", "smic_vis": "VIS", "smic_nir": "NIR"}
#: Clip lengths of the 25 fps VIS and NIR twins (about 10 frames, as the real ones).
_VIS_FRAMES = (9, 13)


def generate(root, *, dataset="smic_hs", preset="demo", seed=0):
    """Write the synthetic twin of a dataset under ``root``.

    Parameters
    ----------
    root : path-like
        Destination; for SMIC ``root/SMIC_all_cropped/{HS|VIS|NIR}/...`` is
        created, the other two modalities as small siblings the loader must
        ignore. Written under a temporary name and renamed, so a killed run
        leaves no tree that looks complete.
    dataset : str
        ``smic_hs`` (HS: 100 fps, ``reg_image{n}.bmp`` with 5-8 digit
        numbers), ``smic_vis`` or ``smic_nir`` (25 fps, clips of 9-13 frames,
        ``reg_{nnnnn}.bmp``; NIR frames grey), ``casme2``
        (:func:`mesr.data.synthetic_casme2.write_casme2`), ``samm``
        (:func:`mesr.data.synthetic_samm.write_samm`), ``casme3_a``
        (:func:`mesr.data.synthetic_casme3.write_casme3`), ``megc2019``
        (:func:`mesr.data.synthetic_megc2019.write_megc2019`: the three
        parts and the organisers' ground truth).
    preset : {"mini", "demo", "smic"}
        Size: ``mini`` (12 clips of 4 subjects, for tests), ``demo`` (48 clips
        of 8 subjects, the README quick start), ``smic`` (the 164 clips of
        SMIC-HS with its per-subject counts and 16-58 frames, for benchmarks).
    seed : int
        Everything (appearance, movement, noise, sizes, frame numbers)
        follows from it: the same seed writes identical files.

    Returns
    -------
    list of str
        The clip ids written.

    Raises
    ------
    ValueError
        For an unknown preset or a negative seed.

    Examples
    --------
    >>> ids = generate(tmp_path / "smic", preset="mini", seed=0)  # doctest: +SKIP
    >>> ids[:2]  # doctest: +SKIP
    ['s1_ne_01', 's1_po_01']
    """
    if preset not in PRESETS:
        raise ValueError(f"preset must be one of {', '.join(map(repr, PRESETS))}, got {preset!r}")
    seed = check_integer("seed", seed, allow_zero=True)
    if dataset == "casme2":
        from mesr.data.synthetic_casme2 import write_casme2

        return write_casme2(root, preset=preset, seed=seed)
    if dataset == "samm":
        from mesr.data.synthetic_samm import write_samm

        return write_samm(root, preset=preset, seed=seed)
    if dataset == "casme3_a":
        from mesr.data.synthetic_casme3 import write_casme3

        return write_casme3(root, preset=preset, seed=seed)
    if dataset == "megc2019":
        from mesr.data.synthetic_megc2019 import write_megc2019

        return write_megc2019(root, preset=preset, seed=seed)
    if dataset not in _SMIC_MODALITIES:
        valid = ", ".join(map(repr, [*_SMIC_MODALITIES, "casme2", "samm", "casme3_a", "megc2019"]))
        raise ValueError(f"dataset must be one of {valid}, got {dataset!r}")
    with atomic_dir(root) as staging:
        clip_ids = _write_tree(staging, PRESETS[preset], seed, _SMIC_MODALITIES[dataset])
    return clip_ids


def _write_tree(staging, spec, seed, modality="HS"):
    folder = staging / "SMIC_all_cropped" / modality
    clip_ids = []
    index = 0
    for subject, counts in spec["counts"].items():
        appearance = subject_appearance(np.random.default_rng([seed, subject]))
        for label, count in zip(CLASSES, counts):
            for number in range(1, count + 1):
                # HS keeps the streams it always had; VIS and NIR share theirs, so they show the same clip
                rng = np.random.default_rng([seed, subject, index] + ([] if modality == "HS" else [1]))
                clip_id = f"s{subject}_{CLASSES[label]}_{number:02d}"
                clip_dir = folder / f"s{subject}" / "micro" / label / clip_id
                lengths = spec["frames"] if modality == "HS" else _VIS_FRAMES
                n_frames = int(rng.integers(lengths[0], lengths[1] + 1))
                clip = render_clip(appearance, label, n_frames, rng)
                if modality == "HS":
                    # 5- to 8-digit absolute frame numbers, all widths present in every preset.
                    digits = 5 + index % 4
                    first = int(rng.integers(10 ** (digits - 1), 10**digits - n_frames))
                    _write_frames(clip_dir, clip, first)
                else:
                    if modality == "NIR":  # near infrared: one channel, stored as grey BMPs
                        clip = np.repeat(clip.mean(axis=3, keepdims=True).round().astype(np.uint8), 3, axis=3)
                    _write_frames(clip_dir, clip, int(rng.integers(1000, 90000)), name="reg_{:05d}.bmp")
                clip_ids.append(clip_id)
                index += 1
        logger.info("subject s%d: %d clips", subject, sum(counts))
    _write_siblings(staging / "SMIC_all_cropped", folder, seed)
    return clip_ids


def subject_appearance(rng):
    """A subject's fixed looks: colours, proportions and the texture seed (the twins of every dataset draw them)."""
    return {
        "skin": rng.uniform([175, 125, 100], [235, 190, 165]),
        "hair": rng.uniform([25, 20, 15], [80, 60, 45]),
        "lips": rng.uniform([150, 70, 70], [200, 110, 105]),
        "face_width": rng.uniform(0.40, 0.47),
        "eye_gap": rng.uniform(0.34, 0.42),
        "eye_height": rng.uniform(0.36, 0.42),
        "eye_size": rng.uniform(0.85, 1.15),
        "brow_gap": rng.uniform(0.06, 0.09),
        "brow_thickness": rng.uniform(2.0, 3.2),
        "mouth_height": rng.uniform(0.72, 0.78),
        "mouth_width": rng.uniform(0.14, 0.19),
        "texture_seed": int(rng.integers(2**31)),
    }


def _envelope(n_frames, rng):
    """Onset-apex-offset profile in [0, 1], one value per frame."""
    t = np.arange(n_frames) / (n_frames - 1)
    onset = rng.uniform(0.1, 0.3)
    apex = onset + rng.uniform(0.15, 0.3)
    offset = min(apex + rng.uniform(0.1, 0.25), 1.0)
    end = min(offset + rng.uniform(0.15, 0.3), 1.0)
    rise = np.clip((t - onset) / (apex - onset), 0, 1)
    fall = np.clip((t - offset) / max(end - offset, 1e-6), 0, 1)
    smooth = lambda x: x * x * (3 - 2 * x)  # noqa: E731 - smoothstep
    return smooth(rise) * (1 - smooth(fall))


def render_clip(looks, label, n_frames, rng):
    """Render one clip of class ``label`` (negative, positive, surprise) as (T, H, W, 3) uint8 RGB at a random
    crop size, with onset, apex and offset; the twins of every dataset render their clips with it."""
    width = int(rng.integers(140, 191))
    height = int(rng.integers(170, 231))
    unit = width / 160.0
    strength = rng.uniform(0.6, 1.3)
    envelope = _envelope(n_frames, rng)[:, None, None]
    motion = {k: v * strength * envelope for k, v in _MOTIONS[label].items()}
    blink = np.zeros_like(envelope)
    if rng.random() < _BLINK:  # blinks happen in every class and carry no label
        centre = rng.integers(1, n_frames - 1)
        blink[:, 0, 0] = np.exp(-0.5 * ((np.arange(n_frames) - centre) / 0.8) ** 2)
    flicker = 1 + 0.02 * np.sin(2 * np.pi * rng.uniform(0.5, 2) * np.arange(n_frames) / n_frames)[:, None, None]

    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    y, x = y[None], x[None]
    cx, cy = width / 2 + rng.normal(0, 2), height * 0.5
    ax, ay = looks["face_width"] * width, 0.45 * height
    texture_rng = np.random.default_rng(looks["texture_seed"])
    texture = cv2.GaussianBlur(texture_rng.normal(0, 1, (height, width)).astype(np.float32), (0, 0), _TEXTURE_SCALE)
    texture = 1 + 0.05 * texture + 0.015 * texture_rng.normal(0, 1, (height, width)).astype(np.float32)
    shade = 1 - 0.12 * ((x - cx) / ax) ** 2 - 0.05 * (y - cy) / ay

    get = lambda name: motion.get(name, 0.0)  # noqa: E731
    eye_y = cy - (0.5 - looks["eye_height"]) * 2 * ay
    eye_xs = [cx + side * looks["eye_gap"] * ax for side in (-1, 1)]
    mx, my, mw = cx, cy + (looks["mouth_height"] - 0.5) * 2 * ay, looks["mouth_width"] * 2 * ax
    flow = _skin_flow(get, unit, eye_xs, eye_y, eye_y - looks["brow_gap"] * 2 * ay, (mx, my, mw))
    skin_texture = _warp(texture, flow, x[0], y[0], n_frames)
    image = looks["skin"] * (skin_texture * shade)[..., None]
    face = _inside(1 - np.hypot((x - cx) / ax, (y - cy) / ay), 1.5 / ax)
    image = _paint(image, 1 - face, looks["hair"] * texture[..., None])

    for side in (-1, 1):
        ex = cx + side * looks["eye_gap"] * ax
        ew, eh = 11 * unit * looks["eye_size"], 4.2 * unit * looks["eye_size"]
        opening = np.clip(eh * (1 + get("lid_open")) * (1 - blink), 0.05, None)
        half_height = opening * np.sqrt(np.clip(1 - ((x - ex) / ew) ** 2, 0, None))
        eye = _band(y, eye_y - half_height, eye_y + half_height)
        image = _paint(image, eye, np.array([228, 222, 215]))
        iris = eye * _inside(4.0 * unit - np.hypot(x - ex, y - eye_y), 1)
        image = _paint(image, iris, np.array([55, 40, 30]))
        # Brow: an arc whose inner end drops when knitting.
        bx, bw = ex + side * 2 * unit, 14 * unit
        along = (x - bx) / bw
        inner = np.clip(-side * along, 0, 1)
        brow_y = eye_y - looks["brow_gap"] * 2 * ay + get("brow_drop") * unit + get("brow_knit") * unit * inner
        centre_line = brow_y - 3 * unit * (1 - along**2)
        brow = np.exp(-(((y - centre_line) / (looks["brow_thickness"] * unit)) ** 2)) * _inside(1 - np.abs(along), 0.05)
        image = _paint(image, 0.85 * brow, looks["hair"])
    # Nose: two nostrils and a soft shadow.
    nose_y = cy + 0.3 * ay
    for side in (-1, 1):
        nostril = _inside(1 - np.hypot((x - cx - side * 5 * unit) / (3 * unit), (y - nose_y) / (1.8 * unit)), 0.2)
        image = _paint(image, 0.7 * nostril, looks["skin"] * 0.45)
    # Mouth: lip line bending up at the corners, lips pressing thin, a gap opening.
    along = (x - mx) / mw
    span = np.clip(1 - along**2, 0, None)
    line = my - get("corner_lift") * unit * along**2
    gap = get("mouth_open") * unit * span
    lip = 3.2 * unit * (1 - get("lip_press")) * np.sqrt(span)
    within = _inside(1 - np.abs(along), 0.03)
    upper = _band(y, line - gap / 2 - lip, line - gap / 2)
    lower = _band(y, line + gap / 2, line + gap / 2 + 1.2 * lip)
    image = _paint(image, within * np.clip(upper + lower, 0, 1), looks["lips"])
    opening = np.maximum(_band(y, line - gap / 2, line + gap / 2), np.exp(-(((y - line) / 0.7) ** 2)))
    image = _paint(image, within * opening, np.array([70, 30, 30]))

    image *= flicker[..., None]
    image += rng.normal(0, _SENSOR_NOISE, image.shape)
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def _skin_flow(get, unit, eye_xs, eye_y, brow_y, mouth):
    """Displacement of the skin, (dx, dy) per frame, as Gaussian bumps around the moving parts.

    Muscles drag the skin texture along: this fine-scale motion is what
    survives at 128x128 and vanishes at 32x32.
    """
    mx, my, mw = mouth
    bumps = []  # (x, y, sigma, dx, dy), displacements of shape (T, 1, 1)
    for side, ex in zip((-1, 1), eye_xs):
        bumps.append((ex, brow_y, 16 * unit, 0.0, get("brow_drop") * unit))
        bumps.append((ex - side * 6 * unit, brow_y, 9 * unit, -side * 0.8 * get("brow_knit") * unit, 0.0))
        bumps.append((ex, eye_y - 8 * unit, 7 * unit, 0.0, -6 * get("lid_open") * unit))
        bumps.append((ex, eye_y + 14 * unit, 13 * unit, 0.0, -0.5 * get("corner_lift") * unit))
        bumps.append((mx + side * mw, my, 11 * unit, 0.0, -get("corner_lift") * unit))
    bumps.append((mx, my - 6 * unit, 7 * unit, 0.0, 4 * get("lip_press") * unit))
    bumps.append((mx, my + 7 * unit, 7 * unit, 0.0, -4 * get("lip_press") * unit))
    bumps.append((mx, my + 20 * unit, 16 * unit, 0.0, get("mouth_open") * unit))
    return bumps


def _warp(texture, bumps, x, y, n_frames):
    """The static texture (H, W) moved by the bumps of :func:`_skin_flow`, one frame per time step."""
    dx = np.zeros((n_frames,) + x.shape, np.float32)
    dy = np.zeros_like(dx)
    for bx, by, sigma, move_x, move_y in bumps:
        weight = np.exp(-((x - bx) ** 2 + (y - by) ** 2) / (2 * sigma**2))
        dx += _SKIN_FLOW_GAIN * np.asarray(move_x, np.float32) * weight
        dy += _SKIN_FLOW_GAIN * np.asarray(move_y, np.float32) * weight
    return np.stack(
        [
            cv2.remap(texture, x - dx[t], y - dy[t], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
            for t in range(n_frames)
        ]
    )


def _inside(signed, softness):
    """Soft indicator of ``signed > 0`` with an edge about ``_EDGE`` pixels wide."""
    return 1 / (1 + np.exp(-np.clip(signed / (np.asarray(softness) * _EDGE + 1e-6), -30, 30)))


def _band(y, top, bottom):
    """Soft indicator of top < y < bottom (zero for an empty band)."""
    return np.clip(np.minimum(y - top, bottom - y) / _EDGE + 0.5, 0, 1) * (bottom > top)


def _paint(image, alpha, colour):
    """Alpha-blend ``colour`` over ``image`` with per-pixel ``alpha`` of shape (T, H, W) or (H, W)."""
    alpha = np.asarray(alpha, np.float32)[..., None]
    return image * (1 - alpha) + np.asarray(colour, np.float32) * alpha


def _write_frames(clip_dir, clip, first_frame, name="reg_image{}.bmp"):
    clip_dir.mkdir(parents=True, exist_ok=True)
    for offset, frame in enumerate(clip):
        path = clip_dir / name.format(first_frame + offset)
        if not cv2.imwrite(str(path), frame[..., ::-1]):
            raise OSError(f"{path}: cannot write BMP")


def _write_siblings(cropped, folder, seed):
    """The parts of a real copy that the workflow must ignore: the other modalities, non_micro, Thumbs.db."""
    rng = np.random.default_rng([seed, 999])
    small = rng.integers(0, 256, (4, 24, 20, 3), dtype=np.uint8)
    for modality in ("NIR", "VIS", "HS"):
        if modality != folder.name:
            name = "reg_image{}.bmp" if modality == "HS" else "reg_{:05d}.bmp"
            _write_frames(cropped / modality / "s1" / "micro" / "negative" / "s1_ne_01", small, 1000, name=name)
    first_subject = min(p.name for p in folder.iterdir())
    _write_frames(folder / first_subject / "non_micro" / f"{first_subject}_non_01", small, 2000)
    first_clip = next((folder / first_subject / "micro").glob("*/*"))
    (first_clip / "Thumbs.db").write_bytes(b"\x00" * 64)
