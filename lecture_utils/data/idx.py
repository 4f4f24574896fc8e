"""The IDX file format of MNIST (LeCun et al.), parsed with every check spelled out.

An IDX file is a 4-byte magic number ``0x00 0x00 <type> <ndim>``, then ``ndim`` big-endian
uint32 dimensions, then the values in C order. MNIST uses type ``0x08`` (unsigned byte):
images are ``(n, 28, 28)`` (magic 2051), labels ``(n,)`` (magic 2049).
"""

from __future__ import annotations

import numpy as np

__all__ = ["IdxFormatError", "parse_idx"]

_UBYTE = 0x08
# Other IDX element types (not used by MNIST); listed so the error can name them.
_TYPE_NAMES = {0x08: "ubyte", 0x09: "byte", 0x0B: "int16", 0x0C: "int32", 0x0D: "float32",
               0x0E: "float64"}


class IdxFormatError(ValueError):
    """Not a well-formed IDX file of the expected shape; the message names the failed check."""


def parse_idx(data: bytes | bytearray | memoryview, *, name: str = "IDX data",
              shape: tuple[int | None, ...] | None = None) -> np.ndarray:
    """Parse IDX bytes of unsigned bytes into a uint8 array without copying.

    Checks, in order: at least 4 bytes; magic starts with two zero bytes; element type is
    ubyte (0x08); ``ndim`` ≥ 1 and the header holds ``ndim`` dimensions; if ``shape`` is given,
    ``ndim`` and every non-``None`` entry match; the payload is exactly
    ``prod(dims)`` bytes. ``name`` (a file name) appears in every error message.

    The result is a view of ``data`` (read-only if ``data`` is ``bytes``).
    """
    view = memoryview(data).cast("B")
    size = view.nbytes

    def fail(what: str) -> IdxFormatError:
        return IdxFormatError(f"{name}: not a valid IDX file: {what}")

    if size < 4:
        raise fail(f"{size} bytes is shorter than the 4-byte magic number")
    zero0, zero1, dtype_code, ndim = view[:4]
    if zero0 != 0 or zero1 != 0:
        raise fail(f"magic number {bytes(view[:4]).hex()} does not start with two zero bytes "
                   "(is it still gzip-compressed, or another format?)")
    if dtype_code != _UBYTE:
        kind = _TYPE_NAMES.get(dtype_code, "unknown")
        raise fail(f"element type 0x{dtype_code:02x} ({kind}); expected 0x08 (ubyte)")
    if ndim == 0:
        raise fail("magic number declares 0 dimensions")
    header = 4 + 4 * ndim
    if size < header:
        raise fail(f"{size} bytes is shorter than the {header}-byte header for {ndim} dimensions")
    dims = tuple(int(d) for d in np.frombuffer(view, dtype=">u4", count=ndim, offset=4))
    if shape is not None:
        if len(shape) != ndim:
            raise fail(f"{ndim} dimensions {dims}; expected {len(shape)} (shape {_fmt(shape)})")
        for axis, (got, want) in enumerate(zip(dims, shape, strict=True)):
            if want is not None and got != want:
                raise fail(f"dimension {axis} is {got}; expected {want} (shape {_fmt(shape)})")
    expected = int(np.prod(dims, dtype=np.int64))
    payload = size - header
    if payload != expected:
        short_long = "truncated" if payload < expected else "has trailing bytes"
        raise fail(f"{short_long}: header {dims} needs {expected} data bytes, found {payload}")
    return np.frombuffer(view, dtype=np.uint8, offset=header).reshape(dims)


def _fmt(shape: tuple[int | None, ...]) -> str:
    return "(" + ", ".join("n" if s is None else str(s) for s in shape) + ")"
