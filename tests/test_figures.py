"""Tests of mesr.report.figures: files written as PNG and PDF, provenance in their metadata, same bytes twice."""

import json

import matplotlib.pyplot
import matplotlib.text
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from mesr.io import save_clip
from mesr.report.figures import (
    accuracy_figure,
    confusion_figure,
    draw_psnr_accuracy,
    figure6,
    figure7,
    psnr_accuracy_figure,
)

PROVENANCE = {"config_sha256": "3f2a9c1e0b7d", "git_commit": "abc1234", "packages": {"numpy": "2.4.6"}}
SIZES = {
    "HR128": 32,
    "LR64": 16,
    "LR32": 8,
    "SR64-esrgan": 32,
    "SR64-psnr_small": 32,
    "SR64-bicubic": 32,
    "SR32-esrgan": 32,
    "SR32-nesrgan_plus": 32,
}
CLIP = "s1_ne_01"


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """Set folders (one clip of 3 frames), quality TSVs and metrics files."""
    root = tmp_path_factory.mktemp("results")
    rng = np.random.default_rng(0)
    sets = {}
    for name, size in SIZES.items():
        sets[name] = root / "sets" / name
        save_clip(sets[name] / f"{CLIP}.npy", rng.integers(0, 256, (3, size, size, 3)).astype(np.uint8))
    quality, metrics = {}, {}
    for index, name in enumerate(n for n in SIZES if n != "HR128"):
        quality[name] = root / "quality" / f"{name}.tsv"
        quality[name].parent.mkdir(parents=True, exist_ok=True)
        pd.DataFrame(
            {
                "clip_id": [CLIP] * 2,
                "frame": [0, 1],
                "psnr_y": [25.0 + index, 26.0 + index],
                "ssim_y": [0.8, 0.85],
                "psnr_rgb": [24.0, 25.0],
                "ssim_rgb": [0.8, 0.8],
            }
        ).to_csv(quality[name], sep="\t", index=False)
    for index, name in enumerate(SIZES):
        for d, descriptor in enumerate(("lbp_top", "lpq_top")):
            path = root / "evaluation" / name / descriptor / "metrics.json"
            path.parent.mkdir(parents=True)
            accuracy = 0.40 + 0.01 * index + 0.02 * d
            path.write_text(
                json.dumps(
                    {
                        "accuracy": accuracy,
                        "uf1": 0.4,
                        "uar": 0.41,
                        "recall": {},
                        "confusion": [[5, 1, 0], [2, 3, 1], [0, 1, 4]],
                        "labels": ["negative", "positive", "surprise"],
                    }
                )
            )
            metrics[(name, descriptor)] = path
    return {"sets": sets, "quality": quality, "metrics": metrics}


def draw(kind, results, folder):
    """Draw one figure into ``folder``; return its (png, pdf) paths."""
    outputs = [folder / f"{kind}.png", folder / f"{kind}.pdf"]
    sets = results["sets"]
    if kind == "figure6":
        figure6({n: sets[n] for n in ("HR128", "LR64", "LR32")}, outputs, clip_id=CLIP, frame=1, provenance=PROVENANCE)
    elif kind == "figure7":
        figure7(
            {n: f for n, f in sets.items() if not n.startswith("LR")},
            outputs,
            clip_id=CLIP,
            frame=2,
            provenance=PROVENANCE,
        )
    elif kind == "confusion":
        confusion_figure(
            results["metrics"][("HR128", "lbp_top")], outputs, title="HR128, LBP-TOP", provenance=PROVENANCE
        )
    elif kind == "accuracy":
        accuracy_figure(results["metrics"], outputs, provenance=PROVENANCE)
    else:
        psnr_accuracy_figure(results["quality"], results["metrics"], outputs, provenance=PROVENANCE)
    return outputs


@pytest.mark.parametrize("kind", ["figure6", "figure7", "confusion", "accuracy", "psnr_accuracy"])
def test_figures_are_png_and_pdf_with_provenance_and_reproducible(kind, results, tmp_path):
    png, pdf = draw(kind, results, tmp_path / "a")
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert pdf.read_bytes().startswith(b"%PDF-")
    with Image.open(png) as image:
        assert image.format == "PNG" and image.size[0] > 300
        assert "config 3f2a9c1e0b7d, commit abc1234, numpy 2.4.6" in image.text["Description"]
    assert b"3f2a9c1e0b7d" in pdf.read_bytes() and b"abc1234" in pdf.read_bytes()
    assert b"CreationDate" not in pdf.read_bytes()
    again = draw(kind, results, tmp_path / "b")
    assert [p.read_bytes() for p in again] == [png.read_bytes(), pdf.read_bytes()]
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == sorted([png.name, pdf.name])  # no temporary files


def test_figure7_is_a_grid_of_the_sr_sets_with_hr_first(results, tmp_path):
    sets = {n: f for n, f in results["sets"].items() if not n.startswith("LR")}
    png, _ = draw("figure7", results, tmp_path)
    with Image.open(png) as image:
        width, height = image.size
    assert width > height  # two rows (SR 64, SR 32) of up to 1 + 3 panels
    # a set of only one resolution gives one row
    one_row = [tmp_path / "one.png"]
    figure7(
        {"HR128": sets["HR128"], "SR32-esrgan": sets["SR32-esrgan"]},
        one_row,
        clip_id=CLIP,
        frame=0,
        provenance=PROVENANCE,
    )
    with Image.open(one_row[0]) as image:
        assert image.size[0] > image.size[1]


def test_figure7_errors(results, tmp_path):
    sets = results["sets"]
    outputs = [tmp_path / "f.png"]
    with pytest.raises(ValueError, match=r"HR128 and SR sets \(LR sets are Figure 6's\), got 'LR64'"):
        figure7({"HR128": sets["HR128"], "LR64": sets["LR64"]}, outputs, clip_id=CLIP, frame=0, provenance=PROVENANCE)
    with pytest.raises(ValueError, match="at least one SR set"):
        figure7({"HR128": sets["HR128"]}, outputs, clip_id=CLIP, frame=0, provenance=PROVENANCE)
    with pytest.raises(ValueError, match=r"SR64-esrgan/s1_ne_01\.npy: frame 3 is outside the clip \(3 frames\)"):
        figure7({"SR64-esrgan": sets["SR64-esrgan"]}, outputs, clip_id=CLIP, frame=3, provenance=PROVENANCE)
    with pytest.raises(ValueError, match="unsupported figure format '.svg'"):
        figure7(
            {"SR64-esrgan": sets["SR64-esrgan"]}, [tmp_path / "f.svg"], clip_id=CLIP, frame=0, provenance=PROVENANCE
        )
    assert not outputs[0].exists()


def test_psnr_accuracy_figure_errors(results, tmp_path):
    outputs = [tmp_path / "p.png"]
    only_hr = {k: v for k, v in results["metrics"].items() if k[0] == "HR128"}
    with pytest.raises(ValueError, match="no \\(set, descriptor\\) has both a quality TSV and a metrics file"):
        psnr_accuracy_figure(results["quality"], only_hr, outputs, provenance=PROVENANCE)
    bad = tmp_path / "SR64-esrgan.tsv"
    bad.write_text("clip_id\tframe\n")
    with pytest.raises(ValueError, match=r"SR64-esrgan\.tsv: missing column"):
        psnr_accuracy_figure({"SR64-esrgan": bad}, results["metrics"], outputs, provenance=PROVENANCE)
    assert not outputs[0].exists()


def text_boxes(figure):
    """Window extents of every visible text of a drawn figure (tick labels, axis labels, legend entries)."""
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    return [
        (t.get_text(), t.get_window_extent(renderer))
        for t in figure.findobj(matplotlib.text.Text)
        if t.get_visible() and t.get_text().strip()
    ]


def test_psnr_accuracy_figure_labels_never_overlap(results):
    """Sets of equal PSNR and accuracy (the case that used to print labels on each other) stay readable."""
    crowded = dict(results["quality"])
    for name in ("SR64-psnr_small", "SR64-bicubic"):  # same PSNR as SR64-esrgan
        crowded[name] = results["quality"]["SR64-esrgan"]
    figure = draw_psnr_accuracy(crowded, results["metrics"])
    boxes = text_boxes(figure)
    legend = figure.axes[0].get_legend()
    labels = [t.get_text() for t in legend.get_texts()]
    assert {
        "ESRGAN 64",
        "RDN psnr-small 64",
        "Bicubic 64",
        "LR 64 (bicubic)",
        "LBP-TOP",
        "LPQ-TOP",
        "HR128, LBP-TOP",
        "chance (1/3)",
    } <= set(labels)
    assert "majority class (35.3%)" in labels  # 6 of the 17 clips of the fixture
    overlaps = [(a, b) for i, (a, box_a) in enumerate(boxes) for b, box_b in boxes[i + 1 :] if box_a.overlaps(box_b)]
    assert not overlaps
    # the legend stands beside the axes, off the points
    figure.canvas.draw()
    assert not legend.get_window_extent().overlaps(figure.axes[0].get_window_extent())
    matplotlib.pyplot.close(figure)


def test_accuracy_figure_draws_the_intervals_and_baselines(results, tmp_path):
    metrics = {}
    for key, path in results["metrics"].items():
        content = json.loads(path.read_text())
        content["ci95"] = {"accuracy": [content["accuracy"] - 0.1, content["accuracy"] + 0.05]}
        metrics[key] = tmp_path / f"{key[0]}_{key[1]}.json"
        metrics[key].write_text(json.dumps(content))
    png, _ = draw("accuracy", {**results, "metrics": metrics}, tmp_path)
    with_bars = np.asarray(Image.open(png).convert("L"))
    png_plain, _ = draw("accuracy", results, tmp_path / "plain")
    assert with_bars.shape == np.asarray(Image.open(png_plain).convert("L")).shape
    assert not np.array_equal(with_bars, np.asarray(Image.open(png_plain).convert("L")))  # the error bars
