"""mesr: super-resolution for micro-expression recognition, reproduced from raw data.

The library behind the Snakemake workflow. One module per concern (docs/layout.md#repository-layout):
``data``, ``degrade``, ``temporal``, ``sr``, ``descriptors``, ``evaluate``,
``quality`` and ``report``. Modules are imported on demand so that light stages
never load TensorFlow.
"""

__version__ = "0.1.0"
