"""Tests of mesr.report.tables (Table 2 from result files, writers) and mesr.report.paper."""

import json

import pandas as pd
import pytest
import yaml

from mesr.report import paper
from mesr.report.tables import table2, table2_extended, table2_rows, training_table, write_table

PROVENANCE = {"config_hash": "3f2a9c1", "git_commit": "abc1234", "packages": {"numpy": "2.4.6", "pandas": "3.1.1"}}
PAPER_ROWS = [
    "HR128",
    "SR64-esrgan",
    "SR64-psnr_large",
    "SR64-psnr_small",
    "SR64-noise_cancel",
    "SR32-esrgan",
    "SR32-nesrgan_plus",
    "LR64",
    "LR32",
]
CLIPS = [f"s{s}_ne_{i:02d}" for s in (1, 2) for i in range(5)]


def write_result(root, set_name, descriptor, correct, *, accuracy=None, uf1=0.4, uar=0.45):
    """metrics.json and predictions.tsv for 10 clips, ``correct`` a 10-character string of 1/0."""
    folder = root / set_name / descriptor
    folder.mkdir(parents=True)
    true = ["negative", "positive"] * 5
    predicted = [t if c == "1" else "surprise" for t, c in zip(true, correct)]
    pd.DataFrame(
        {
            "clip_id": CLIPS,
            "subject": [1] * 5 + [2] * 5,
            "true": true,
            "predicted": predicted,
            "fold": [0] * 5 + [1] * 5,
        }
    ).to_csv(folder / "predictions.tsv", sep="\t", index=False)
    accuracy = correct.count("1") / 10 if accuracy is None else accuracy
    labels = ["negative", "positive", "surprise"]
    confusion = [[sum(t == a and p == b for t, p in zip(true, predicted)) for b in labels] for a in labels]
    metrics = {"accuracy": accuracy, "uf1": uf1, "uar": uar, "recall": {}, "confusion": confusion, "labels": labels}
    (folder / "metrics.json").write_text(json.dumps(metrics))
    return folder / "metrics.json"


@pytest.fixture
def evaluation(tmp_path):
    root = tmp_path / "evaluation"
    write_result(root, "HR128", "lbp_top", "1111100000", accuracy=0.50061)
    write_result(root, "HR128", "lpq_top", "1111100000")
    write_result(root, "SR64-esrgan", "lbp_top", "1111111111", accuracy=0.515625, uf1=0.33333, uar=0.123456)
    write_result(root, "SR64-bicubic", "lbp_top", "0000000000")
    write_result(root, "SR32-esrgan", "lbp_top", "1111100000")
    write_result(root, "LR64", "lbp_top", "1111100000")
    # SR64-psnr_large, SR32-nesrgan_plus, LR32 ... never ran
    return root


#: Sets of the config of the ``evaluation`` fixture.
SETS = ["HR128", "SR64-esrgan", "SR64-bicubic", "SR32-esrgan", "LR64"]


def result_files(root, name, sets=SETS):
    """{(set, descriptor): path of its ``name``} as the workflow passes them, the absent ones included."""
    return {(s, d): root / s / d / name for s in sets for d in ("lbp_top", "lpq_top")}


def metrics_and_predictions(root):
    return result_files(root, "metrics.json"), result_files(root, "predictions.tsv")


def test_table2_rows_in_the_papers_order():
    assert table2_rows() == PAPER_ROWS
    rows = table2_rows(
        ["SR32-zeta", "SR64-bicubic", "SR32-bicubic", "SR64-nesrgan_plus", "LR64"], models=["zeta", "bicubic"]
    )
    assert rows == [
        "HR128",
        "SR64-esrgan",
        "SR64-psnr_large",
        "SR64-psnr_small",
        "SR64-noise_cancel",
        "SR64-nesrgan_plus",
        "SR64-bicubic",
        "SR32-esrgan",
        "SR32-nesrgan_plus",
        "SR32-zeta",
        "SR32-bicubic",
        "LR64",
        "LR32",
    ]
    with pytest.raises(ValueError, match="set name must be one of HR128, LR64, LR32"):
        table2_rows(["SR16-esrgan"])


def test_table2_from_the_evaluations_of_the_config(evaluation):
    df = table2(result_files(evaluation, "metrics.json"), provenance=PROVENANCE)
    assert list(df.columns) == [
        "Resolution",
        "Method",
        "Set",
        "LBP-TOP (ours)",
        "LBP-TOP (paper)",
        "LPQ-TOP (ours)",
        "LPQ-TOP (paper)",
        "Li et al. 2019",
    ]
    assert list(df["Set"]) == PAPER_ROWS[:5] + ["SR64-bicubic"] + PAPER_ROWS[5:] + ["-"]
    # the baseline of always answering the most frequent class: 5 negative of 10 clips, from the labels
    assert df.iloc[-1].tolist() == ["-", "majority class", "-", "50.00", "-", "50.00", "-", "-"]
    rows = df.set_index("Set")
    assert rows.loc["HR128"].tolist() == ["HR 128", "-", "50.06", "50.06", "50.00", "52.43", "50.00"]
    assert rows.loc["SR64-esrgan"].tolist() == ["SR 64", "ESRGAN", "51.56", "51.43", "not run", "52.43", "52.44"]
    assert rows.loc["SR64-psnr_large"].tolist() == [
        "SR 64",
        "RDN psnr-large",
        "not run",
        "50.67",
        "not run",
        "52.00",
        "-",
    ]
    assert rows.loc["SR64-bicubic"].tolist() == ["SR 64", "Bicubic", "0.00", "-", "not run", "-", "-"]
    assert rows.loc["SR32-nesrgan_plus", "Method"] == "nESRGAN+"
    assert rows.loc["LR64", "LBP-TOP (paper)"] == "49.20"
    assert rows.loc["LR32"].tolist() == ["LR 32", "-", "not run", "44.25", "not run", "48.17", "46.95"]
    assert df.attrs["provenance"] == PROVENANCE


def test_table2_sets_the_config_does_not_produce_are_not_run(evaluation):
    df = table2(result_files(evaluation, "metrics.json", ["HR128", "LR64"]), models=["esrgan"]).set_index("Set")
    assert "SR64-bicubic" not in df.index  # a stale result of a set the config dropped
    assert df.loc["SR64-esrgan", "LBP-TOP (ours)"] == "not run"
    assert df.loc["HR128", "LBP-TOP (ours)"] == "50.06"
    assert df.loc["LR64", "LBP-TOP (ours)"] == "50.00"


def test_table2_from_a_mapping(evaluation, tmp_path):
    mapping = {
        ("SR64-esrgan", "lbp_top"): evaluation / "SR64-esrgan" / "lbp_top" / "metrics.json",
        ("LR32", "lbp_top"): tmp_path / "absent" / "metrics.json",
    }
    df = table2(mapping).set_index("Set")
    assert list(df.index) == PAPER_ROWS + ["-"]
    assert df.loc["-", ["LBP-TOP (ours)", "LPQ-TOP (ours)"]].tolist() == ["50.00", "not run"]  # no LPQ-TOP result
    assert df.loc["SR64-esrgan", "LBP-TOP (ours)"] == "51.56"
    assert df.loc["LR32", "LBP-TOP (ours)"] == "not run"
    assert df.loc["HR128", "LBP-TOP (ours)"] == "not run"
    with pytest.raises(ValueError, match="metrics keys must be"):
        table2({"SR64-esrgan": "x"})
    with pytest.raises(ValueError, match="metrics must be a mapping"):
        table2(evaluation)


def test_table2_rejects_a_bad_metrics_file(evaluation):
    (evaluation / "LR64" / "lbp_top" / "metrics.json").write_text('{"accuracy": 0.5}')
    with pytest.raises(ValueError, match=r"LR64/lbp_top/metrics\.json: missing key\(s\) \['uf1', 'uar', 'confusion'"):
        table2(result_files(evaluation, "metrics.json"))


def test_table2_extended_with_exact_mcnemar(evaluation):
    df = table2_extended(*metrics_and_predictions(evaluation)).set_index("Set")
    lbp = [f"LBP-TOP {c}" for c in ("accuracy", "UF1", "UAR", "p vs LR", "p vs HR128")]
    # SR64-esrgan right on all 10 clips; LR64 and HR128 right on 5: b = 0, c = 5 -> p = 2 * 0.5**5
    assert df.loc["SR64-esrgan", lbp].tolist() == ["51.56", "33.33", "12.35", "0.0625", "0.0625"]
    # SR32-esrgan and HR128 right on the same clips: b = c = 0 -> p = 1; LR32 never ran
    assert df.loc["SR32-esrgan", lbp].tolist() == ["50.00", "40.00", "45.00", "n.a.", "1"]
    # SR64-bicubic wrong everywhere: b = 5, c = 0 against LR64
    assert df.loc["SR64-bicubic", lbp[3:]].tolist() == ["0.0625", "0.0625"]
    assert df.loc["SR64-psnr_large", lbp].tolist() == ["not run"] * 5
    assert df.loc["HR128", lbp[3:]].tolist() == ["-", "-"]
    assert df.loc["LR64", lbp].tolist() == ["50.00", "40.00", "45.00", "-", "-"]
    assert df.loc["HR128", "LPQ-TOP accuracy"] == "50.00"
    assert df.loc["SR64-esrgan", "LPQ-TOP p vs HR128"] == "not run"
    # the fixture's files have no subject-mean accuracy nor intervals: shown as not applicable
    assert df.loc["HR128", ["LBP-TOP subject-mean accuracy", "LBP-TOP UF1 95% CI"]].tolist() == ["-", "-"]
    # always 'negative': 5 of 10 right; F1 negative 2*5/(5+10), the others 0; recall 1 and 0 over 2 classes
    majority = df.loc[
        "-", ["Method", "LBP-TOP accuracy", "LBP-TOP UF1", "LBP-TOP UAR", "LBP-TOP accuracy 95% CI", "LBP-TOP p vs LR"]
    ]
    assert majority.tolist() == ["majority class", "50.00", "22.22", "50.00", "-", "-"]


def test_table2_extended_shows_the_bootstrap_intervals_and_the_subject_mean(evaluation):
    path = evaluation / "HR128" / "lbp_top" / "metrics.json"
    content = json.loads(path.read_text())
    content.update(subject_mean_accuracy=0.48, ci95={"accuracy": [0.3, 0.7], "uf1": [0.25, 0.55], "uar": [0.3, 0.6]})
    path.write_text(json.dumps(content))
    row = table2_extended(*metrics_and_predictions(evaluation)).set_index("Set").loc["HR128"]
    columns = ["accuracy", "accuracy 95% CI", "subject-mean accuracy", "UF1", "UF1 95% CI", "UAR", "UAR 95% CI"]
    assert row[[f"LBP-TOP {c}" for c in columns]].tolist() == [
        "50.06",
        "[30.00, 70.00]",
        "48.00",
        "40.00",
        "[25.00, 55.00]",
        "45.00",
        "[30.00, 60.00]",
    ]


def test_table2_extended_matches_clips_by_id(evaluation):
    # reorder the LR64 predictions and drop two clips: pairs are matched on clip_id
    path = evaluation / "LR64" / "lbp_top" / "predictions.tsv"
    predictions = pd.read_csv(path, sep="\t").iloc[::-1]
    predictions[predictions["clip_id"] != "s2_ne_04"].iloc[1:].to_csv(path, sep="\t", index=False)
    df = table2_extended(*metrics_and_predictions(evaluation)).set_index("Set")
    # 8 shared clips: s1_ne_00..04 right in both, s2_ne_00..02 right in SR64 only: b = 3, c = 0 -> 2/8
    assert df.loc["SR64-esrgan", "LBP-TOP p vs LR"] == "0.25"
    predictions.assign(true="surprise").to_csv(path, sep="\t", index=False)
    with pytest.raises(ValueError, match="disagree on the true labels"):
        table2_extended(*metrics_and_predictions(evaluation))


def test_write_table_md_csv_tex(evaluation, tmp_path):
    df = table2(result_files(evaluation, "metrics.json"), provenance=PROVENANCE)
    paths = write_table(df, tmp_path / "tables" / "table2", caption="LOSO accuracy (%) per set & descriptor.")
    assert [p.name for p in paths] == ["table2.md", "table2.csv", "table2.tex"]
    assert sorted(p.name for p in (tmp_path / "tables").iterdir()) == ["table2.csv", "table2.md", "table2.tex"]

    md = paths[0].read_text().splitlines()
    assert md[0] == "**LOSO accuracy (%) per set & descriptor.**"
    assert md[2].startswith("| Resolution | Method | Set | LBP-TOP (ours) |")
    assert md[3] == "|:---|:---|:---|---:|---:|---:|---:|---:|"
    assert md[4] == "| HR 128 | - | HR128 | 50.06 | 50.06 | 50.00 | 52.43 | 50.00 |"
    assert md[-1] == "Provenance: config_hash: 3f2a9c1; git_commit: abc1234; packages: numpy 2.4.6, pandas 3.1.1"

    text = paths[1].read_text()
    assert text.startswith(
        "# caption: LOSO accuracy (%) per set & descriptor.\n# config_hash: 3f2a9c1\n"
        "# git_commit: abc1234\n# packages: numpy 2.4.6, pandas 3.1.1\nResolution,"
    )
    back = pd.read_csv(paths[1], comment="#", dtype=str)
    pd.testing.assert_frame_equal(back, df.astype(str), check_dtype=False)
    assert back.loc[1, "LPQ-TOP (ours)"] == "not run"

    tex = paths[2].read_text()
    assert tex.startswith("% provenance\n% config_hash: 3f2a9c1\n% git_commit: abc1234\n")
    for line in (
        r"\begin{table}[htbp]",
        r"\caption{LOSO accuracy (\%) per set \& descriptor.}",
        r"\label{tab:table2}",
        r"\begin{tabular}{lllrrrrr}",
        r"\toprule",
        r"\midrule",
        r"\bottomrule",
        r"SR 64 & RDN psnr-large & SR64-psnr\_large & not run & 50.67 & not run & 52.00 & - \\",
        r"\end{table}",
    ):
        assert line in tex.splitlines()


def test_write_table_is_generic_and_checks_provenance(tmp_path):
    df = pd.DataFrame({"Method": ["ESRGAN", "nESRGAN+"], "PSNR": [35.79, None], "SSIM": ["0.9826", "x|y"]})
    with pytest.raises(ValueError, match="provenance must be a non-empty dict"):
        write_table(df, tmp_path / "t")
    md, csv, tex = write_table(df, tmp_path / "t", provenance={"git_commit": "abc"})
    assert "| nESRGAN+ |  | x\\|y |" in md.read_text()
    assert "|:---|---:|:---|" in md.read_text()  # numbers (or empty cells) right, text left
    assert csv.read_text() == "# git_commit: abc\nMethod,PSNR,SSIM\nESRGAN,35.79,0.9826\nnESRGAN+,,x|y\n"
    assert r"\caption" not in tex.read_text()
    with pytest.raises(ValueError, match="must not contain '#'"):
        write_table(df.assign(Method=["#1", "#2"]), tmp_path / "u", provenance={"git_commit": "abc"})
    assert not (tmp_path / "u.md").exists()


def test_paper_numbers_and_set_names():
    assert list(paper.TABLE2) == PAPER_ROWS
    assert paper.TABLE2["LR32"] == {"lbp_top": 44.25, "lpq_top": 48.17, "li2019": 46.95}
    assert paper.TABLE1["SR32-nesrgan_plus"] == {"psnr": 23.08, "ssim": 0.7601}
    assert set(paper.TABLE1) < set(paper.TABLE2)
    assert {paper.parse_set(s)[2] for s in paper.TABLE2} - {None} == set(paper.PAPER_MODELS)
    assert paper.parse_set("SR64-psnr_small") == ("SR", 64, "psnr_small")
    assert paper.set_name("LR", 32) == "LR32"
    with pytest.raises(ValueError, match="set name must be one of"):
        paper.parse_set("SR64")


def write_trained(root, model, scale, *, heldout, bicubic, random_vgg=None):
    """weights.yaml and heldout.json of one trained network, with the fields the training stage writes."""
    folder = root / model / f"x{scale}"
    folder.mkdir(parents=True)
    perceptual = None if random_vgg is None else {"weights": "random" if random_vgg else "vgg.h5", "random": random_vgg}
    settings = {
        "steps": {"psnr": 6000, "gan": 0 if random_vgg is None else 20, "total": 6000},
        "validation": {"patches": 32, "psnr": 33.2049, "psnr_bicubic": 32.3579},
        "perceptual": perceptual,
    }
    (folder / "weights.yaml").write_text(yaml.safe_dump(settings))
    (folder / "heldout.json").write_text(json.dumps({"psnr": heldout, "psnr_bicubic": bicubic, "pairs": 64}))
    return model, scale, folder / "weights.yaml", folder / "heldout.json"


def test_training_table_compares_each_network_with_bicubic(tmp_path):
    trained = [
        write_trained(tmp_path, "psnr_small", 2, heldout=35.2196, bicubic=34.3214),
        write_trained(tmp_path, "esrgan", 4, heldout=31.1949, bicubic=31.1991, random_vgg=True),
        write_trained(tmp_path, "my_rdn", 2, heldout=30.0, bicubic=29.996, random_vgg=False),
    ]
    table = training_table(trained, provenance=PROVENANCE)
    assert table["Method"].tolist() == ["RDN psnr-small", "ESRGAN", "my_rdn"]
    assert table["Scale"].tolist() == ["x2", "x4", "x2"] and table["Steps"].tolist() == [
        "6000 + 0",
        "6000 + 20",
        "6000 + 20",
    ]
    assert table["Held-out PSNR"].tolist() == ["35.22", "31.19", "30.00"]
    assert table["Held-out bicubic"].tolist() == ["34.32", "31.20", "30.00"]
    # displayed values subtract to the displayed gain, and an equal pair is +0.00, not -0.00
    assert table["Gain over bicubic"].tolist() == ["+0.90", "-0.01", "+0.00"]
    assert table["Validation PSNR"].tolist() == ["33.20"] * 3 and table["Validation bicubic"].tolist() == ["32.36"] * 3
    assert table["Perceptual features"].tolist() == ["-", "random VGG19", "ImageNet VGG19"]
    written = write_table(table, tmp_path / "training")
    assert [p.name for p in written] == ["training.md", "training.csv", "training.tex"]
    assert pd.read_csv(tmp_path / "training.csv", comment="#", dtype=str)["Gain over bicubic"].tolist() == [
        "+0.90",
        "-0.01",
        "+0.00",
    ]


def test_training_table_names_a_file_missing_a_field(tmp_path):
    model, scale, settings, heldout = write_trained(tmp_path, "psnr_small", 2, heldout=35.0, bicubic=34.0)
    heldout.write_text(json.dumps({"psnr": 35.0}))
    with pytest.raises(ValueError, match=f"{heldout}: missing psnr_bicubic"):
        training_table([(model, scale, settings, heldout)])
    settings.write_text(": not yaml :\n  - [")
    with pytest.raises(ValueError, match=f"{settings}: cannot be read"):
        training_table([(model, scale, settings, heldout)])
