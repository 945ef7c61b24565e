"""Validation helpers shared by every public function of the library.

Each check raises ``ValueError`` naming the argument, what was expected and
what was received, so that a caller never needs to read a traceback to know
what to fix.
"""

import numbers

import numpy as np

__all__ = ["check_array", "check_integer", "check_option", "check_positive"]


def check_array(name, value, *, ndim, integer_valued=False):
    """Return ``value`` as an ndarray after checking its number of dimensions.

    Parameters
    ----------
    name : str
        Argument name used in the error message.
    value : array_like
        The argument.
    ndim : int or tuple of int
        Allowed number(s) of dimensions.
    integer_valued : bool, optional
        Require integer dtype, or float values that are all whole numbers.

    Returns
    -------
    ndarray
        ``np.asarray(value)``.

    Raises
    ------
    ValueError
        If the array has another number of dimensions or non-integer values.
    """
    array = np.asarray(value)
    allowed = (ndim,) if np.isscalar(ndim) else tuple(ndim)
    if array.ndim not in allowed:
        expected = " or ".join(f"{n}-D" for n in allowed)
        raise ValueError(f"{name} must be {expected}, got {array.ndim}-D array of shape {array.shape}")
    if integer_valued:
        if array.dtype.kind not in "iuf" or (
            array.dtype.kind == "f" and not np.all(np.isfinite(array) & (array == np.round(array)))
        ):
            raise ValueError(
                f"{name} must hold integer values (uint8 or integer-valued float), got dtype {array.dtype}"
            )
    return array


def check_option(name, value, options):
    """Check that ``value`` is one of ``options``; the error lists the valid ones."""
    if value not in options:
        valid = ", ".join(repr(o) for o in options)
        raise ValueError(f"{name} must be one of {valid}, got {value!r}")
    return value


def check_integer(name, value, *, allow_zero=False):
    """Check that ``value`` is a positive (or, with ``allow_zero``, non-negative) integer; return it as int.

    Python and numpy integers pass; bool, floats (even whole ones) and strings do not.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < (0 if allow_zero else 1):
        raise ValueError(f"{name} must be a {'non-negative' if allow_zero else 'positive'} integer, got {value!r}")
    return int(value)


def check_positive(name, value, *, allow_zero=False):
    """Check that a scalar is positive (or non-negative with ``allow_zero``)."""
    if not np.isscalar(value) or not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {bound}, got {value!r}")
    return value
