"""Reports of the study (docs/reports.md): the paper's published numbers, tables and figures.

Submodules are imported on demand: ``mesr.report.paper`` (the paper's Tables 1
and 2 as data) and ``mesr.report.tables`` (Table 2 from result files, and the
md/csv/tex writer every table uses).
"""

__all__ = []
