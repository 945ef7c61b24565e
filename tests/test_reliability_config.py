"""Reliability under a bad configuration (docs/reliability.md): the workflow refuses to start and names the key.

Checked with ``snakemake -n``: nothing runs, nothing is written under results/. A missing
dataset.source, a negative noise sigma and an unknown key are tested in tests/test_workflow.py;
weights of another architecture (found only when the file is read) in tests/test_reliability_data.py.
"""

import pytest
from workflow_runs import MINI, TINY_TRAINING, snakemake

pytestmark = pytest.mark.workflow


def overlay(**sections):
    return {**MINI, **sections}


@pytest.mark.parametrize(
    "config, key, problem",
    [
        (
            overlay(models={**MINI["models"], "psnr_small": {"arch": "srcnn"}}),
            "['models']['psnr_small']['arch']",
            "'srcnn' is not one of ['bicubic', 'rdn', 'rrdn', 'nesrgan_plus', 'realesrgan', 'swinir']",
        ),
        (
            overlay(models={**MINI["models"], "bicubic": {"arch": "bicubic", "scales": [3]}}),
            "['models']['bicubic']['scales'][0]",
            "3 is not one of [2, 4]",
        ),
        (overlay(degrade={"scales": [8]}), "['degrade']['scales'][0]", "8 is not one of [2, 4]"),
        (
            overlay(degrade={"blur_sigma": {"x2": -0.5}}),
            "['degrade']['blur_sigma']['x2']",
            "-0.5 is less than or equal to the minimum of 0",
        ),
        (
            overlay(features={"lpq_top": {"window": [5, 4, 5]}}),
            "['features']['lpq_top']['window'][1]",
            "4 should not be valid under {'multipleOf': 2}",
        ),
        (
            overlay(features={"lbp_top": {"radii": [1, 1, 0]}}),
            "['features']['lbp_top']['radii'][2]",
            "0 is less than or equal to the minimum of 0",
        ),
        (
            overlay(features={"temporal": 1}),
            "['features']['temporal']",
            "1 is not valid under any of the given schemas",
        ),
        (
            overlay(
                models={
                    **MINI["models"],
                    "psnr_small": {
                        **MINI["models"]["psnr_small"],
                        "training": {**TINY_TRAINING, "psnr": {"learning_rate": 0}},
                    },
                }
            ),
            "['models']['psnr_small']['training']['psnr']['learning_rate']",
            "0 is less than or equal to the minimum of 0",
        ),
    ],
    ids=[
        "unknown-arch",
        "unsupported-model-scale",
        "unsupported-degrade-scale",
        "negative-sigma",
        "even-lpq-window",
        "zero-radius",
        "temporal-of-one-frame",
        "zero-learning-rate",
    ],
)
def test_invalid_config_refused_naming_the_key(tmp_path, config, key, problem):
    result = snakemake(tmp_path, "-n", "--cores", "1", config=config, check=False)
    console = result.stdout + result.stderr
    assert result.returncode != 0
    assert f"On instance{key}" in console and problem in console
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize(
    "params, problem",
    [
        ({"C": 1, "D": 1, "G": 4}, "missing G0"),
        ({"C": 1, "D": 1, "G": 4, "G0": 4, "T": 2}, "unknown T"),
    ],
    ids=["missing-symbol", "symbol-of-another-arch"],
)
def test_model_params_not_fitting_the_arch_named(tmp_path, params, problem):
    tiny = {"arch": "rdn", "params": params, "scales": [2], "weights": {"x2": str(tmp_path / "tiny.hdf5")}}
    config = overlay(models={**MINI["models"], "tiny": tiny})
    result = snakemake(tmp_path, "-n", "--cores", "1", config=config, check=False)
    console = result.stdout + result.stderr
    assert result.returncode != 0
    assert "models.tiny.params: arch rdn needs C, D, G, G0" in console and problem in console


def test_missing_weights_file_named_before_anything_runs(tmp_path):
    config = overlay(
        models={
            **MINI["models"],
            "psnr_small": {**MINI["models"]["psnr_small"], "weights": {"x2": str(tmp_path / "absent.hdf5")}},
        }
    )
    result = snakemake(tmp_path / "run", "-n", "--cores", "1", config=config, check=False)
    console = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Missing input files for rule superres_upscale" in console and str(tmp_path / "absent.hdf5") in console
