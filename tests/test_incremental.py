"""Exact reruns: after one completed run of the mini study, a change reruns only what depends on it.

The study is the session's mini run (tests/conftest.py), made from a copy of the repository so that its
library modules can be edited without touching the real ones; every test then asks ``snakemake -n`` what it
would run after one change to the config or to the code, and compares the scheduled jobs with the exact
expected set. An edited module is restored, content and mtime, before the test ends.
"""

import os
import re
import time

import pytest
from code_deps import ARCH_MODULES, closure, module_file
from workflow_runs import MINI, REPO, snakemake

pytestmark = pytest.mark.workflow

#: Jobs that gather every set: they rerun whenever one set or one model changes.
AGGREGATES = {
    "report_table1",
    "report_table2",
    "report_accuracy",
    "report_psnr_accuracy",
    "report_figure7",
    "report_training_table",
    "all",
}
#: ... and those that gather every descriptor's results (Table 1, Figure 7 and the training table show none).
DESCRIPTOR_AGGREGATES = AGGREGATES - {"report_table1", "report_figure7", "report_training_table"}


def parse_jobs(output):
    """Jobs a dry run lists: [(rule, wildcards dict, input list)]."""
    jobs, current = [], None
    for line in output.splitlines():
        match = re.match(r"^(?:local)?rule (\w+):$", line)
        if match:
            current = {"rule": match.group(1), "wildcards": {}, "input": []}
            jobs.append(current)
        elif current is not None and line.startswith("    "):
            key, _, value = line.strip().partition(": ")
            if key == "wildcards":
                current["wildcards"] = dict(item.split("=", 1) for item in value.split(", "))
            elif key == "input":
                current["input"] = value.split(", ")
        elif line.strip() == "" or not line.startswith(" "):
            current = None
    return jobs


def key(job):
    return (job["rule"], tuple(sorted(job["wildcards"].items())))


@pytest.fixture(scope="module")
def study(mini_repo, mini_run):
    """(Snakefile of the repository copy, work directory of the completed mini run, every job of its DAG)."""
    snakefile = mini_repo / "Snakefile"
    everything = parse_jobs(snakemake(mini_run, "-n", "--forceall", config=MINI, snakefile=snakefile).stdout)
    return snakefile, mini_run, everything


def scheduled(study, config=MINI):
    snakefile, workdir, _ = study
    return {key(job) for job in parse_jobs(snakemake(workdir, "-n", config=config, snakefile=snakefile).stdout)}


def expected(study, select):
    return {key(job) for job in study[2] if select(job["rule"], job["wildcards"])}


def with_model(model, **changes):
    config = {**MINI, "models": dict(MINI["models"])}
    config["models"][model] = {**config["models"][model], **changes}
    return config


def test_the_dag_is_the_mini_study(study):
    rules = {job["rule"] for job in study[2]}
    assert len(study[2]) == 115
    assert rules >= {
        "data_acquire",
        "degrade_lr",
        "train_model",
        "superres_upscale",
        "quality_score",
        "features_extract",
        "features_flow",
        "features_biwoof",
        "evaluate_loso",
        "evaluate_ststnet",
        "report_table2",
        "report_config",
        "all",
    }


def test_nothing_changed_nothing_to_do(study):
    result = snakemake(study[1], "-n", config=MINI, snakefile=study[0])
    assert "Nothing to be done" in result.stdout + result.stderr


@pytest.mark.parametrize(
    "model, changes, sets",
    [
        (
            "psnr_small",
            {
                "training": {
                    **MINI["models"]["psnr_small"]["training"],
                    "psnr": {**MINI["models"]["psnr_small"]["training"]["psnr"], "steps": 13},
                }
            },
            {"SR64-psnr_small"},
        ),
        ("esrgan", {"params": {**MINI["models"]["esrgan"]["params"], "G0": 5}}, {"SR32-esrgan"}),
    ],
    ids=["psnr_small-training-steps", "esrgan-params"],
)
def test_one_model_reruns_only_its_own_jobs(study, model, changes, sets):
    """Its training, held-out score, curve, SR set, quality, features, evaluation; then the aggregates."""
    want = expected(
        study,
        lambda rule, wc: wc.get("model") == model or wc.get("set") in sets or rule in AGGREGATES | {"report_config"},
    )
    assert scheduled(study, with_model(model, **changes)) == want
    assert {"train_model", "superres_upscale", "quality_score", "features_extract", "evaluate_loso"} <= {
        rule for rule, _ in want
    }


def with_features(**changes):
    return {**MINI, "features": {**MINI["features"], **changes}}


def test_one_descriptor_reruns_only_its_own_jobs(study):
    config = with_features(lbp_top={"radii": [1, 1, 1]})
    want = expected(
        study, lambda rule, wc: wc.get("descriptor") == "lbp_top" or rule in DESCRIPTOR_AGGREGATES | {"report_config"}
    )
    assert scheduled(study, config) == want
    assert len([job for job in want if job[0] == "features_extract"]) == 7  # every set, one descriptor


def test_bi_woof_settings_rerun_only_bi_woof(study):
    want = expected(
        study,
        lambda rule, wc: (
            rule == "features_biwoof"
            or wc.get("descriptor") == "bi_woof"
            or rule in DESCRIPTOR_AGGREGATES | {"report_config"}
        ),
    )
    assert scheduled(study, with_features(bi_woof={"bins": 6})) == want
    assert "features_flow" not in {rule for rule, _ in want}


def test_the_flow_reruns_flow_bi_woof_and_ststnet_and_nothing_upstream(study):
    want = expected(
        study,
        lambda rule, wc: (
            rule in {"features_flow", "features_biwoof", "evaluate_ststnet"}
            or wc.get("descriptor") in {"bi_woof", "ststnet"}
            or rule in DESCRIPTOR_AGGREGATES | {"report_config"}
        ),
    )
    assert scheduled(study, with_features(flow={"method": "dis", "apex": "middle"})) == want
    assert not {"features_extract", "quality_score", "superres_upscale"} & {rule for rule, _ in want}


@pytest.mark.parametrize(
    "module, select",
    [
        # descriptors: every features job, then everything downstream; nothing upstream (no SR, no quality)
        # (the flow greys its frames with mesr.descriptors.to_grey: the flow methods rerun too)
        (
            "descriptors.py",
            lambda rule, wc: (
                rule
                in {"features_extract", "features_flow", "features_biwoof", "evaluate_loso", "evaluate_ststnet"}
                | {"report_confusion"}
                | DESCRIPTOR_AGGREGATES
            ),
        ),
        # one architecture: the models built on it (esrgan), not the others (psnr_small is an RDN)
        (
            "sr/rrdn.py",
            lambda rule, wc: wc.get("model") == "esrgan" or wc.get("set") == "SR32-esrgan" or rule in AGGREGATES,
        ),
        # the SVM: every evaluation (STSTNet writes its results with it), and the report jobs (Table 2 imports
        # mesr.evaluate for McNemar)
        (
            "evaluate.py",
            lambda rule, wc: (
                rule in {"evaluate_loso", "evaluate_ststnet"} or rule.startswith("report_") or rule == "all"
            ),
        ),
    ],
    ids=["descriptors", "rrdn", "evaluate"],
)
def test_edited_module_reruns_its_stage_and_nothing_upstream(study, module, select):
    path = study[0].parent / "src" / "mesr" / module
    text, before = path.read_text(), path.stat()
    path.write_text(text + "\n# an edit\n")  # Snakemake 9 compares checksums too: touching alone reruns nothing
    try:
        assert scheduled(study) == expected(study, select)
    finally:
        path.write_text(text)
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert scheduled(study) == set()


def test_touching_a_module_without_editing_it_reruns_nothing(study):
    path = study[0].parent / "src" / "mesr" / "descriptors.py"
    before = path.stat()
    now = time.time()
    os.utime(path, (now, now))
    try:
        assert scheduled(study) == set()
    finally:
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


#: A composite study with a cross-database pair: the rules the mini study does not run (per-dataset and
#: cross-database evaluations and reports), planned only.
COMPOSITE = {
    **MINI,
    "dataset": {"name": "megc2019", "source": "synthetic", "synthetic": {"preset": "mini"}},
    "evaluation": {"cross_database": [["casme2", "samm"]]},
    "models": {  # and the networks converted from PyTorch files (config/demo-modern-sr.yaml's)
        **MINI["models"],
        "real_esrgan": {
            "arch": "realesrgan",
            "params": {"nf": 16, "gc": 8, "nb": 1},
            "scales": [2],
            "weights": {"x2": str(REPO / "config" / "weights" / "realesrgan-x2.pth")},
        },
        "swinir": {
            "arch": "swinir",
            "params": {"embed_dim": 16, "depths": [2], "num_heads": [2], "window_size": 8, "mlp_ratio": 2},
            "scales": [4],
            "weights": {"x4": str(REPO / "config" / "weights" / "swinir-x4.pth")},
        },
    },
}


def test_code_inputs_cover_every_import_of_the_scripts(study, tmp_path):
    """Each job lists, as input, every library module its script imports (directly or not)."""
    rules_dir = REPO / "workflow" / "rules"
    scripts = {}
    for smk in rules_dir.glob("*.smk"):
        for rule, script in re.findall(
            r"^rule (\w+):.*?\n    script:\n        \"([^\"]+)\"", smk.read_text(), flags=re.S | re.M
        ):
            scripts[rule] = (rules_dir / script).resolve()
    archs = {name: closure(module_file(name))[0] | {module_file(name)} for name in ARCH_MODULES}
    # config/config.yaml's, kept by MINI, and COMPOSITE's
    arch_of = {
        "psnr_small": "rdn",
        "esrgan": "rrdn",
        "bicubic": "bicubic",
        "real_esrgan": "realesrgan",
        "swinir": "swinir",
    }
    composite = parse_jobs(snakemake(tmp_path, "-n", config=COMPOSITE, snakefile=study[0]).stdout)
    checked = set()
    for workdir, jobs in ((study[1], study[2]), (tmp_path, composite)):
        for job in jobs:
            if job["rule"] not in scripts:
                continue
            needed, _ = closure(scripts[job["rule"]])
            model = job["wildcards"].get("model")
            if model is not None:  # mesr.sr.build imports only this model's architecture
                needed -= set().union(*archs.values())
                if arch_of[model] != "bicubic":
                    needed |= archs[f"mesr.sr.{arch_of[model]}"]
            copy = study[0].parent / "src"
            listed = {
                (workdir / path).resolve().relative_to(copy)
                for path in job["input"]
                if (workdir / path).resolve().is_relative_to(copy)
            }
            missing = sorted(str(p) for p in {p.relative_to(REPO / "src") for p in needed} - listed)
            assert not missing, f"{job['rule']} {job['wildcards']}: library modules missing from its input: {missing}"
            checked.add(job["rule"])
    assert checked == set(scripts) - {"superres_download"}  # no weights to download in either study
