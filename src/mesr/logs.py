"""Logging set-up for the workflow's scripts (the library itself adds no handlers)."""

import logging
import os
import sys
import traceback

__all__ = ["log_to"]


def log_to(path):
    """Send stderr and the ``logging`` output of a workflow script to ``path``.

    Called as the first statement of every script in ``workflow/scripts/``,
    before heavy imports such as TensorFlow, so that everything they print
    lands in the rule's log. An uncaught exception is written to the log with
    its traceback and its one-line message is repeated on the console, so the
    user sees what went wrong without opening the log.

    Parameters
    ----------
    path : str or path-like
        The rule's log file (``snakemake.log[0]``).
    """
    console = os.fdopen(os.dup(2), "w", buffering=1, encoding="utf-8")
    log = open(path, "w", buffering=1, encoding="utf-8")
    os.dup2(log.fileno(), 2)  # native libraries (TensorFlow's C++ runtime) write to file descriptor 2
    sys.stderr = log
    logging.basicConfig(
        stream=log,
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )

    def report(kind, value, tb):
        traceback.print_exception(kind, value, tb, file=log)
        print(f"{kind.__name__}: {value} (log: {path})", file=console)

    sys.excepthook = report
