# Helpers of every stage, in three sections: validation, constants, input functions.
import os
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

# --------------------------------------------------------------------------- validation

# An overlay config drops a model of config/config.yaml by setting it to null.
config["models"] = {k: v for k, v in config.get("models", {}).items() if v is not None}
validate(config, schema="../../config/schema.yaml", set_default=True)

# The library lives in src/ and is importable without installation (docs/layout.md): through PYTHONPATH for
# the jobs' processes, and through this process's sys.path for scripts run in conda envs (--sdm conda),
# where Snakemake removes PYTHONPATH but appends its own sys.path to every script's (its preamble).
SRC = str(Path(workflow.basedir) / "src")
os.environ.update(PYTHONPATH=os.pathsep.join(filter(None, [SRC, os.environ.get("PYTHONPATH")])))
if SRC not in sys.path:
    sys.path.append(SRC)


from mesr.sr import PTH_ARCHS
from mesr.sr.published import check_published, is_published, published


def check_model_params():
    """Each network's params must be its arch's symbols, and fit the published weights it names: say which key
    is wrong before anything runs."""
    from mesr.sr import check_params  # the check of mesr.sr.build, without TensorFlow

    for key, spec in config["models"].items():
        if spec["arch"] == "bicubic":
            continue
        try:
            check_params(spec["arch"], spec["params"], name=f"models.{key}.params")
            for scale in spec["scales"]:
                name = spec["weights"].get(f"x{scale}")
                if name is None and spec["arch"] in PTH_ARCHS:
                    raise ValueError(
                        f"models.{key}.weights.x{scale}: arch {spec['arch']} is not trained by mesr; give its "
                        f"PyTorch weights (a .pth file, {{url, sha256}} or a published name)"
                    )
                if is_published(name):
                    check_published(
                        name,
                        arch=spec["arch"],
                        params=spec["params"],
                        scale=scale,
                        where=f"models.{key}.weights.x{scale}",
                    )
        except ValueError as error:
            raise WorkflowError(str(error)) from None


check_model_params()

from mesr.data.datasets import adapter, class_labels, frame_rate

if config["evaluation"]["labels"] is None:
    config["evaluation"]["labels"] = class_labels(config["dataset"]["name"], config["dataset"]["classes"])


def study_datasets():
    """The datasets whose clips the study holds: the composite's parts, or the one dataset."""
    return list(getattr(adapter(config["dataset"]["name"])[0], "PARTS", [config["dataset"]["name"]]))


def check_sources():
    """dataset.source, or for a composite each part's source and the ground truth, must be set."""
    dataset = config["dataset"]
    if study_datasets() == [dataset["name"]] or dataset["source"] == "synthetic":
        if not dataset["source"]:
            raise WorkflowError(
                "dataset.source is not set: give the SMIC-HS folder, archive or URL in a config file "
                "(e.g. snakemake --configfile my.yaml with 'dataset: {source: /data/SMIC}'), "
                "or use the synthetic data: --configfile config/demo.yaml"
            )
        return
    missing = [f"sources.{part}" for part in study_datasets() if not dataset["sources"].get(part)]
    missing += [] if dataset["ground_truth"] else ["ground_truth"]
    if missing:
        raise WorkflowError(
            f"dataset.{', dataset.'.join(missing)} not set: the {dataset['name']} composite needs each part's "
            f"source (dataset.sources: {{{', '.join(study_datasets())}}}) and the organisers' ground truth "
            "(dataset.ground_truth), or source: synthetic (docs/data.md#megc-2019-composite)"
        )


check_sources()


def dataset_options():
    """Keyword arguments of the adapter's scan: the variant (a mapping part -> variant for a composite), checked
    against the adapters' variants before anything runs."""
    name, variant = config["dataset"]["name"], config["dataset"]["variant"]
    if variant is None:
        return {}
    composite = study_datasets() != [name]
    if composite != isinstance(variant, dict):
        kind = "a mapping part -> variant" if composite else "one variant name"
        raise WorkflowError(f"dataset.variant of {name} must be {kind}, got {variant!r}")
    for part, value in (variant if composite else {name: variant}).items():
        valid = getattr(adapter(part)[0], "VARIANTS", ()) if part in study_datasets() else ()
        if value not in valid:
            raise WorkflowError(
                f"dataset.variant {value!r} is not a variant of {part} "
                f"(valid: {', '.join(valid) or 'none, leave it unset'})"
            )
    return {"variant": variant}


def cross_database_pairs():
    """(train, test) of evaluation.cross_database, checked: two different datasets of the study."""
    pairs = [tuple(pair) for pair in config["evaluation"]["cross_database"]]
    for train, test in pairs:
        unknown = [name for name in (train, test) if name not in study_datasets()]
        if unknown or train == test:
            problem = f"{', '.join(unknown)} not in the study" if unknown else "train and test are the same"
            raise WorkflowError(
                f"evaluation.cross_database [{train}, {test}]: {problem} "
                f"(the study's datasets: {', '.join(study_datasets())})"
            )
    return pairs


# --------------------------------------------------------------------------- constants

DATASET = f"resources/{config['dataset']['name']}"
DATASET_OPTIONS = dataset_options()
FRAME_RATES = {name: frame_rate(name) for name in study_datasets()}
CROSS_DATABASE = cross_database_pairs()
# The SVM settings of every evaluation (the cross-database pairs are what to evaluate, not how).
SVM_SETTINGS = {key: value for key, value in config["evaluation"].items() if key != "cross_database"}
DOWNLOADS = "resources/downloads"
HR = "HR128"
HR_SIDE = 128
# Methods in the order of the tables: texture descriptors, Bi-WOOF on the flow (all three a LOSO SVM), STSTNet.
DESCRIPTORS = ("lbp_top", "lpq_top", "bi_woof", "ststnet")
TEXTURE = ("lbp_top", "lpq_top")

# Library code as input: each job lists the modules of src/mesr its script imports (directly or through
# other modules), so that editing a module reruns the jobs of the stages that use it and nothing upstream
# (Snakemake reruns a job whose input is newer than its output, as it does for the scripts themselves).
# Paths are relative to the working directory, so that moving a clone together with its results/ reruns
# nothing. tests/test_incremental.py checks that these lists cover every import.
LIBRARY = Path(workflow.basedir) / "src" / "mesr"
_COMMON = ["__init__.py", "_checks.py", "io.py", "logs.py"]
_DATA = [
    "data/__init__.py",
    "data/acquire.py",
    "data/casme2.py",
    "data/casme3.py",
    "data/datasets.py",
    "data/faces.py",
    "data/megc2019.py",
    "data/samm.py",
    "data/sheets.py",
    "data/smic.py",
    "data/synthetic.py",
    "data/synthetic_casme2.py",
    "data/synthetic_casme3.py",
    "data/synthetic_megc2019.py",
    "data/synthetic_samm.py",
    "data/twins.py",
]
_BICUBIC = ["sr/__init__.py", "sr/bicubic.py"]
_NETWORKS = [*_BICUBIC, "sr/devices.py", "sr/inference.py", "sr/layers.py", "sr/weights.py"]
STAGE_SOURCES = {
    "data": _DATA,
    "degrade": [*_DATA, "degrade.py"],
    "training_images": [*_DATA, "degrade.py", "sr/__init__.py", "sr/patches.py"],
    "train": [*_DATA, "degrade.py", *_NETWORKS, "sr/losses.py", "sr/patches.py", "sr/schedules.py", "sr/training.py"],
    "superres": [*_DATA, *_NETWORKS],
    "quality": [*_DATA, *_BICUBIC, "quality.py"],
    "features": ["descriptors.py", "temporal.py"],
    "flow": ["descriptors.py", "flow.py", "temporal.py"],
    "bi_woof": ["biwoof.py"],
    "evaluate": ["evaluate.py"],
    "ststnet": ["evaluate.py", "sr/__init__.py", "sr/devices.py", "ststnet.py"],
    "report": [
        *_DATA,
        *_BICUBIC,
        "evaluate.py",
        "quality.py",
        "report/__init__.py",
        "report/figures.py",
        "report/paper.py",
        "report/provenance.py",
        "report/tables.py",
    ],
}
#: Network modules per architecture (mesr.sr.build imports the one a model needs, by name).
ARCH_SOURCES = {
    "bicubic": [],
    "rdn": ["sr/rdn.py"],
    "rrdn": ["sr/rrdn.py", "sr/rdn.py", "sr/layers.py"],
    "nesrgan_plus": ["sr/nesrgan_plus.py", "sr/rdn.py", "sr/layers.py"],
    "realesrgan": ["sr/realesrgan.py", "sr/layers.py", "sr/pth.py"],
    "swinir": ["sr/swinir.py", "sr/layers.py", "sr/pth.py"],
}


wildcard_constraints:
    size="64|32",
    scale="2|4",
    set="HR128|LR64|LR32|SR(64|32)-[A-Za-z0-9_]+",
    model="|".join(config["models"]) or "(?!)",
    descriptor="|".join(DESCRIPTORS),
    train="[a-z0-9_]+",
    test="[a-z0-9_]+",


# --------------------------------------------------------------------------- sets, models, descriptors


def scale_of(size):
    """Upscaling factor of a set size: 2 for 64 (LR64, SR64-*), 4 for 32."""
    return HR_SIDE // int(size)


def size_of(set_name):
    """Frame side of a set from its name: 128 for HR128, 64 for LR64 and SR64-{model}, 32 for ..."""
    return int(set_name.split("-", 1)[0][2:])


def set_dir(name):
    return f"results/sets/{name}"


def models():
    """The configured models."""
    return config["models"]


def descriptors():
    """Descriptors the config asks for, in the order of the tables."""
    return [name for name in DESCRIPTORS if name in config["features"]["descriptors"]]


def lr_sets():
    """LR set names of the configured scales: LR64 for x2, LR32 for x4."""
    return [f"LR{HR_SIDE // scale}" for scale in sorted(config["degrade"]["scales"])]


def sr_sets():
    """SR set names: SR64-{model} for models run at x2, then SR32-{model} for x4."""
    return [
        f"SR{HR_SIDE // scale}-{key}" for scale in (2, 4) for key, spec in models().items() if scale in spec["scales"]
    ]


def study_sets():
    """Every set the study describes and classifies, in the order of Table 2."""
    return [HR] + sr_sets() + lr_sets()


def quality_sets():
    """Sets scored against HR128: every SR set, and every LR set upscaled bicubically."""
    return sr_sets() + lr_sets()


def evaluation_pairs():
    """(set, descriptor) of every evaluation of the study, in the order of the tables."""
    return [(s, d) for s in study_sets() for d in descriptors()]


def evaluation_files(name):
    """``name`` (metrics.json, predictions.tsv) of every evaluation, in the order of evaluation_pairs()."""
    return [f"results/evaluation/{s}/{d}/{name}" for s, d in evaluation_pairs()]


def cross_evaluations():
    """(set, descriptor, train, test) of every cross-database evaluation: the SVM's methods (not STSTNet)."""
    return [(s, d, train, test) for s, d in evaluation_pairs() if d != "ststnet" for train, test in CROSS_DATABASE]


def cross_files(name):
    """``name`` of every cross-database evaluation, in the order of cross_evaluations()."""
    return [f"results/evaluation/{s}/{d}/cross/{train}-{test}/{name}" for s, d, train, test in cross_evaluations()]


def quality_files():
    """Quality TSV of every set of quality_sets(), in that order."""
    return [f"results/quality/{name}.tsv" for name in quality_sets()]


def trained():
    """(model, scale) pairs the workflow trains: networks without weights for a scale they run."""
    return [
        (key, scale)
        for key, spec in models().items()
        if spec["arch"] != "bicubic"
        for scale in spec["scales"]
        if spec["weights"].get(f"x{scale}") is None
    ]


def expand_trained(pattern):
    """``pattern`` filled in for every (model, scale) the workflow trains, in the order of ``trained()``."""
    return [pattern.format(model=model, scale=scale) for model, scale in trained()]


def table_files(stem):
    return [f"results/tables/{stem}.{suffix}" for suffix in ("md", "csv", "tex")]


def figure_files(stem):
    return [f"results/figures/{stem}.{suffix}" for suffix in ("png", "pdf")]


def frame_sets(figure):
    """Sets shown in Figure 6 (HR128 and the LR sets) or Figure 7 (HR128 and the SR sets), in display order."""
    return [HR] + (lr_sets() if figure == 6 else sr_sets())


def final_outputs():
    """Everything the workflow produces."""
    return [
        "results/manifest.tsv",
        "results/data/gaps.tsv",
        *figure_files("figure6"),
        *figure_files("figure7"),
        *table_files("table1"),
        *table_files("table2"),
        *table_files("table2_extended"),
        *figure_files("accuracy"),
        *figure_files("psnr_accuracy"),
        *(table_files("training") if trained() else []),
        "results/config.yaml",
        *expand_trained("results/models/{model}/x{scale}/heldout.json"),
        *[path for stem in expand_trained("training/{model}_x{scale}") for path in figure_files(stem)],
        *[path for s, d in evaluation_pairs() for path in figure_files(f"confusion/{s}_{d}")],
        *evaluation_files("megc_log.txt"),
        *(table_files("megc") + figure_files("per_dataset") if len(study_datasets()) > 1 else []),
        *(table_files("cross_database") if CROSS_DATABASE else []),
    ]


def training_settings(model):
    spec = models()[model]
    if not spec.get("training"):
        raise WorkflowError(
            f"models.{model} has no weights for every scale it runs and no training settings: "
            f"give models.{model}.weights.x<scale> or models.{model}.training"
        )
    return spec["training"]


# --------------------------------------------------------------------------- input and param functions


def get_sources(stage):
    """Input function: the library modules a job of ``stage`` runs (plus its model's architecture)."""

    def sources(wildcards):
        names = _COMMON + STAGE_SOURCES[stage]
        model = wildcards.get("model")
        if model is not None:
            names = names + ARCH_SOURCES[models()[model]["arch"]]
        return sorted({os.path.relpath(LIBRARY / name) for name in names})

    return sources


def get_face_crop_source(wildcards):
    """The dataset and the face regions, for Figure 6 to show the source frame when faces are cropped."""
    if config["preprocess"]["face_crop"] == "none":
        return {}
    return {"dataset": DATASET, "faces": "results/data/faces.tsv"}


def get_lr_params(wildcards):
    """Degradation settings of one LR set, from its size."""
    scale = scale_of(wildcards.size)
    if scale not in config["degrade"]["scales"]:
        raise WorkflowError(f"LR{wildcards.size} needs scale {scale} in degrade.scales")
    return {
        "scale": scale,
        "blur_sigma": config["degrade"]["blur_sigma"][f"x{scale}"],
        "noise_sigma": config["degrade"]["noise_sigma"],
        "seed": config["degrade"]["seed"],
        "phase": config["degrade"]["phase"],
    }


def model_settings(model, scale):
    """The network of ``model`` at ``scale``: arch, params and scale."""
    spec = models()[model]
    return {"arch": spec["arch"], "params": spec["params"], "scale": scale}


def get_model_settings(wildcards):
    """What the superres job of one (model, size) depends on: changing it reruns only that job."""
    scale = scale_of(wildcards.size)
    if scale not in models()[wildcards.model]["scales"]:
        raise WorkflowError(f"models.{wildcards.model}.scales does not include {scale} (set SR{wildcards.size})")
    return model_settings(wildcards.model, scale)


def get_convert_settings(wildcards):
    return model_settings(wildcards.model, int(wildcards.scale))


def get_superres_gpu(wildcards):
    return 0 if models()[wildcards.model]["arch"] == "bicubic" else 1


def weights_format(model):
    """``pth`` for the networks published as PyTorch files (converted before use), else ``hdf5``."""
    return "pth" if models()[model]["arch"] in PTH_ARCHS else "hdf5"


def given_weights(model, scale):
    """The weights file a model's config gives for a scale, downloaded if needed; None when trained here."""
    given = models()[model]["weights"].get(f"x{scale}")
    if isinstance(given, dict) or is_published(given):
        return f"resources/weights/{model}/x{scale}.{weights_format(model)}"
    return given


def get_weights(wildcards):
    """HDF5 weights of a network at one scale: given, downloaded, converted from PyTorch, or trained here."""
    model, scale = wildcards.model, scale_of(wildcards.size)
    if models()[model]["arch"] == "bicubic":
        return []
    given = given_weights(model, scale)
    if given is None:
        return f"results/models/{model}/x{scale}/weights.hdf5"
    if weights_format(model) == "pth" and not given.endswith((".hdf5", ".h5")):
        return f"results/models/{model}/x{scale}/converted.hdf5"
    return given


def get_pth_weights(wildcards):
    return given_weights(wildcards.model, int(wildcards.scale))


def get_pth_source(wildcards):
    """What a converted file records as its source: the URL it was downloaded from, or the path given."""
    given = models()[wildcards.model]["weights"][f"x{wildcards.scale}"]
    if is_published(given):
        return published(given).url
    return given["url"] if isinstance(given, dict) else given


def get_weights_download(wildcards):
    """URL, SHA-256 and (for published weights) size of a weights file to download."""
    given = models()[wildcards.model]["weights"][f"x{wildcards.scale}"]
    if is_published(given):
        entry = published(given)
        return {"url": entry.url, "sha256": entry.sha256, "size": entry.size}
    return given


def get_training_images(wildcards):
    images = training_settings(wildcards.model)["images"]
    return "resources/training/skimage/train" if images == "skimage" else images


def get_heldout_images(wildcards):
    images = training_settings(wildcards.model)["images"]
    return "resources/training/skimage/heldout" if images == "skimage" else images


def get_training_params(wildcards):
    """Everything a training depends on: changing it retrains only this (model, scale)."""
    spec = models()[wildcards.model]
    settings = dict(training_settings(wildcards.model))
    settings.pop("images")
    return {
        "arch": spec["arch"],
        "params": spec["params"],
        "scale": int(wildcards.scale),
        "seed": settings.pop("seed", 0),
        "training": settings,
    }


def get_set_dir(wildcards):
    return set_dir(wildcards.set)


def get_quality_params(wildcards):
    """Scale of a scored set, and whether it is an LR set to upscale first."""
    return {"scale": scale_of(size_of(wildcards.set)), "upscale_lr": wildcards.set.startswith("LR")}


def get_descriptor_params(wildcards):
    """Keyword arguments of one descriptor: changing them reruns only its jobs."""
    return config["features"][wildcards.descriptor]
