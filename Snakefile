# mesr: super-resolution for micro-expression recognition, from raw SMIC-HS to the paper's tables.
# Sharma et al., ICPRAM 2022. Stages and conventions: README.md and workflow/report/workflow.rst.
from snakemake.utils import min_version

min_version("9.0")


configfile: f"{workflow.basedir}/config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/degrade.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/superres.smk"
include: "workflow/rules/quality.smk"
include: "workflow/rules/features.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/report_tables.smk"
include: "workflow/rules/report_figures.smk"


rule all:
    input:
        final_outputs(),
