"""Tests of Table 1 (mesr.report.tables.table1) from generated quality TSVs."""

import numpy as np
import pandas as pd
import pytest

from mesr.io import save_clip
from mesr.quality import quality_set
from mesr.report import paper
from mesr.report.tables import LR_UPSCALED, table1, table1_rows, write_table

PROVENANCE = {"config_sha256": "3f2a9c1e0b7d", "git_commit": "abc1234", "packages": {"numpy": "2.4.6"}}
COLUMNS_T1 = [
    "Resolution",
    "Method",
    "Set",
    "PSNR (ours)",
    "PSNR (paper)",
    "PSNR (ours - paper)",
    "SSIM (ours)",
    "SSIM (paper)",
    "SSIM (ours - paper)",
    "PSNR RGB (ours)",
    "SSIM RGB (ours)",
]


def write_quality(folder, set_name, psnr_y, ssim_y, psnr_rgb=None, ssim_rgb=None):
    """A quality TSV of len(psnr_y) frames over two clips."""
    n = len(psnr_y)
    table = pd.DataFrame(
        {
            "clip_id": ["s1_ne_01"] * (n // 2) + ["s2_po_01"] * (n - n // 2),
            "frame": list(range(n // 2)) + list(range(n - n // 2)),
            "psnr_y": psnr_y,
            "ssim_y": ssim_y,
            "psnr_rgb": psnr_rgb or [p - 1 for p in psnr_y],
            "ssim_rgb": ssim_rgb or [s - 0.01 for s in ssim_y],
        }
    )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{set_name}.tsv"
    table.to_csv(path, sep="\t", index=False)
    return path


@pytest.fixture
def quality(tmp_path):
    root = tmp_path / "quality"
    write_quality(root, "SR64-esrgan", [35.0, 36.0], [0.98, 0.99], [34.0, 34.5], [0.97, 0.975])
    write_quality(root, "SR64-psnr_small", [37.40, 37.42, 37.4], [0.9827, 0.9827, 0.9827])  # == paper when rounded
    write_quality(root, "SR32-nesrgan_plus", [25.123, 25.127], [0.8, 0.8])
    write_quality(root, "SR64-bicubic", [30.0, 31.0], [0.9, 0.95])
    write_quality(root, "LR64", [29.0, 30.0], [0.9, 0.92])
    # SR64-psnr_large, SR64-noise_cancel, SR32-esrgan, LR32 never ran
    return root


#: Sets of the config of the ``quality`` fixture (LR32 included: its file is absent).
SETS = ["SR64-esrgan", "SR64-psnr_small", "SR32-nesrgan_plus", "SR64-bicubic", "LR64", "LR32"]


def quality_files(root, sets=SETS):
    """{set: path of its quality TSV} as the workflow passes them, the absent ones included."""
    return {name: root / f"{name}.tsv" for name in sets}


def test_table1_rows():
    assert table1_rows() == list(paper.TABLE1) + ["LR64", "LR32"]
    assert table1_rows(["HR128", "SR32-bicubic", "SR64-bicubic"], models=["bicubic"]) == [
        "SR64-esrgan",
        "SR64-psnr_large",
        "SR64-psnr_small",
        "SR64-noise_cancel",
        "SR64-bicubic",
        "SR32-esrgan",
        "SR32-nesrgan_plus",
        "SR32-bicubic",
        "LR64",
        "LR32",
    ]


def test_table1_from_the_quality_files_of_the_config(quality):
    df = table1(quality_files(quality), provenance=PROVENANCE)
    assert list(df.columns) == COLUMNS_T1
    assert list(df["Set"]) == [
        "SR64-esrgan",
        "SR64-psnr_large",
        "SR64-psnr_small",
        "SR64-noise_cancel",
        "SR64-bicubic",
        "SR32-esrgan",
        "SR32-nesrgan_plus",
        "LR64",
        "LR32",
    ]
    rows = df.set_index("Set")
    # means 35.5 dB / 0.985; paper 35.79 / 0.9826
    assert rows.loc["SR64-esrgan"].tolist() == [
        "SR 64",
        "ESRGAN",
        "35.50",
        "35.79",
        "-0.29",
        "0.9850",
        "0.9826",
        "+0.0024",
        "34.25",
        "0.9725",
    ]
    assert rows.loc["SR64-psnr_large"].tolist() == [
        "SR 64",
        "RDN psnr-large",
        "not run",
        "36.58",
        "n.a.",
        "not run",
        "0.9789",
        "n.a.",
        "not run",
        "not run",
    ]
    # rounding to the paper's value gives +0.00, never -0.00
    assert rows.loc["SR64-psnr_small", ["PSNR (ours)", "PSNR (ours - paper)", "SSIM (ours - paper)"]].tolist() == [
        "37.41",
        "+0.00",
        "+0.0000",
    ]
    assert rows.loc["SR32-nesrgan_plus", ["Method", "PSNR (ours)", "PSNR (paper)", "PSNR (ours - paper)"]].tolist() == [
        "nESRGAN+",
        "25.12",
        "23.08",
        "+2.04",
    ]
    assert rows.loc["SR64-bicubic"].tolist() == [
        "SR 64",
        "Bicubic",
        "30.50",
        "-",
        "-",
        "0.9250",
        "-",
        "-",
        "29.50",
        "0.9150",
    ]
    assert rows.loc["LR64"].tolist() == ["LR 64", LR_UPSCALED, "29.50", "-", "-", "0.9100", "-", "-", "28.50", "0.9000"]
    assert rows.loc["LR32", ["Method", "PSNR (ours)", "PSNR (paper)"]].tolist() == [LR_UPSCALED, "not run", "-"]
    assert rows.loc["SR32-esrgan", "PSNR (paper)"] == "29.50"
    assert df.attrs["provenance"] == PROVENANCE


def test_table1_sets_the_config_does_not_produce_are_not_run(quality):
    df = table1(quality_files(quality, ["SR64-esrgan", "LR64"])).set_index("Set")
    assert "SR64-bicubic" not in df.index  # a stale file of a set the config dropped
    assert df.loc["SR32-nesrgan_plus", "PSNR (ours)"] == "not run"
    assert df.loc["SR64-esrgan", "PSNR (ours)"] == "35.50"
    assert df.loc["LR64", "SSIM (ours)"] == "0.9100"


def test_table1_from_a_mapping(quality, tmp_path):
    df = table1({"SR64-esrgan": quality / "SR64-esrgan.tsv", "SR32-esrgan": tmp_path / "absent.tsv"}).set_index("Set")
    assert df.loc["SR64-esrgan", "PSNR (ours)"] == "35.50"
    assert df.loc["SR32-esrgan", "PSNR (ours)"] == "not run"
    with pytest.raises(ValueError, match="set name must be one of"):
        table1({"SR128-esrgan": quality / "SR64-esrgan.tsv"})
    with pytest.raises(ValueError, match="quality must be a mapping"):
        table1(quality)


def test_table1_infinite_psnr(tmp_path):
    write_quality(tmp_path, "SR64-esrgan", [np.inf, 40.0], [1.0, 0.99])
    row = table1(quality_files(tmp_path, ["SR64-esrgan"])).set_index("Set").loc["SR64-esrgan"]
    assert row[["PSNR (ours)", "PSNR (ours - paper)"]].tolist() == ["inf", "+inf"]


def test_table1_rejects_a_malformed_quality_file(tmp_path):
    (tmp_path / "SR64-esrgan.tsv").write_text("clip_id\tframe\tpsnr\n")
    with pytest.raises(ValueError, match=r"SR64-esrgan\.tsv: missing column\(s\)"):
        table1(quality_files(tmp_path, ["SR64-esrgan"]))


def test_table1_from_quality_set_outputs(tmp_path):
    """End to end: clips -> quality_set -> Table 1."""
    rng = np.random.default_rng(0)
    hr = rng.integers(0, 256, (2, 24, 24, 3)).astype(np.uint8)
    save_clip(tmp_path / "sets/HR128/c1.npy", hr)
    save_clip(tmp_path / "sets/SR64-esrgan/c1.npy", np.clip(hr + rng.normal(0, 5, hr.shape), 0, 255).astype(np.uint8))
    save_clip(tmp_path / "sets/LR64/c1.npy", hr[:, ::2, ::2])
    means = quality_set(
        tmp_path / "sets/HR128", tmp_path / "sets/SR64-esrgan", ["c1"], tmp_path / "quality/SR64-esrgan.tsv", scale=2
    )
    quality_set(
        tmp_path / "sets/HR128", tmp_path / "sets/LR64", ["c1"], tmp_path / "quality/LR64.tsv", scale=2, upscale_lr=True
    )
    rows = table1(quality_files(tmp_path / "quality", ["SR64-esrgan", "LR64"])).set_index("Set")
    assert rows.loc["SR64-esrgan", "PSNR (ours)"] == f"{means['psnr_y']:.2f}"
    assert rows.loc["SR64-esrgan", "SSIM RGB (ours)"] == f"{means['ssim_rgb']:.4f}"
    assert rows.loc["LR64", "PSNR (ours)"] != "not run"


def test_table1_written_with_provenance(quality, tmp_path):
    df = table1(quality_files(quality), provenance=PROVENANCE)
    caption = "PSNR (dB) and SSIM on Y of every set against HR128, ours beside the paper's."
    md, csv, tex = write_table(df, tmp_path / "tables" / "table1", caption=caption)
    assert [p.name for p in (md, csv, tex)] == ["table1.md", "table1.csv", "table1.tex"]
    back = pd.read_csv(csv, comment="#", dtype=str, keep_default_na=False)
    assert back.columns.tolist() == COLUMNS_T1
    assert back.values.tolist() == df.values.tolist()
    text = md.read_text()
    assert "| SR 64 | ESRGAN | SR64-esrgan | 35.50 | 35.79 | -0.29 | 0.9850 | 0.9826 | +0.0024 |" in text
    assert "Provenance: config_sha256: 3f2a9c1e0b7d; git_commit: abc1234; packages: numpy 2.4.6" in text
    assert csv.read_text().startswith(f"# caption: {caption}\n# config_sha256: 3f2a9c1e0b7d\n")
    tex_text = tex.read_text()
    assert "% config_sha256: 3f2a9c1e0b7d" in tex_text and r"\label{tab:table1}" in tex_text
    assert r"SR64-esrgan & 35.50 & 35.79 & -0.29" in tex_text.replace(r"\_", "_")
