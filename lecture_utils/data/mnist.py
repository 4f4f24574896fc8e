"""MNIST for the lecture: verified files, cached arrays, seeded splits and mini-batches.

Where the four original IDX files are read from (the *data folder*), first match wins:

1. the ``folder`` argument of :func:`load_mnist` / :func:`fetch_mnist`;
2. the folder named by the environment variable ``LECTURE_MNIST_DIR`` (:data:`ENV_VAR`),
   e.g. ``export LECTURE_MNIST_DIR=../shared/data/mnist`` on a machine without internet;
3. the user cache folder ``pooch.os_cache("lecture_utils") / "mnist"`` (``~/.cache/...`` on
   Linux), whose root is overridden by ``LECTURE_UTILS_CACHE`` (:data:`CACHE_ENV_VAR`).

A file missing from the data folder, or one that fails its checks, is downloaded into that
folder from the first of :data:`MIRRORS` that delivers a verified copy (``download=True``,
the default). Every file is checked on every cold read: gzip stream complete, IDX header and
length (:func:`lecture_utils.data.idx.parse_idx`) and the SHA-256 of the *decompressed* bytes
(mirrors may re-compress, so the digest of the ``.gz`` would not be enough). A download goes
to a hidden temporary file in the data folder and is renamed into place only once verified,
so a failed or interrupted download never leaves a file that looks valid.

In the browser edition (Pyodide, ``sys.platform == "emscripten"``) the one mirror is the site
itself (its ``lite/mnist/`` folder, :func:`browser_mirror`), read with a synchronous request in
the kernel's web worker, and the cache folder is in JupyterLite's drive, which the browser
keeps: the second notebook reads the files from there.

From a terminal (or Binder's ``postBuild``): ``python -m lecture_utils fetch-data``.
Beside the loader: ``one_hot`` (re-exported from :mod:`lecture_utils.network.functions`); the
mini-batches of training are ``lecture_utils.optim.training.minibatches``.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import gzip
import hashlib
import io
import os
import secrets
import sys
import tempfile
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np

from lecture_utils._checks import integer
from lecture_utils.data.idx import IdxFormatError, parse_idx
from lecture_utils.network.functions import one_hot

__all__ = [
    "CACHE_ENV_VAR",
    "ENV_VAR",
    "FETCH_COMMAND",
    "FILES",
    "MIRRORS",
    "Mnist",
    "MnistError",
    "MnistFetchError",
    "MnistFileError",
    "MnistNotFoundError",
    "MnistStatus",
    "browser_mirror",
    "cache_folder",
    "fetch_mnist",
    "load_mnist",
    "main",
    "mnist_status",
    "one_hot",
]

ENV_VAR = "LECTURE_MNIST_DIR"
"""Environment variable naming a folder that holds the four MNIST ``.gz`` files."""
CACHE_ENV_VAR = "LECTURE_UTILS_CACHE"
"""Environment variable overriding the cache root (MNIST goes to its ``mnist`` sub-folder)."""
FETCH_COMMAND = "python -m lecture_utils fetch-data"
"""The terminal command that downloads and verifies the data."""

MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",  # used by torchvision
    "https://storage.googleapis.com/cvdf-datasets/mnist/",  # used by TensorFlow/Keras
)
"""Base URLs tried in order; each serves the four original ``.gz`` files by name."""

IN_BROWSER = sys.platform == "emscripten"
"""Whether this Python runs in a browser (Pyodide: the browser edition)."""
#: The cache folder in the browser: in JupyterLite's drive (mounted at /drive), kept in the
#: browser's storage between notebooks and visits.
BROWSER_CACHE = Path("/drive/.cache/lecture_utils/mnist")

_DOWNLOAD_TIMEOUT_S = 60
_CHUNK_BYTES = 1 << 16


@dataclasses.dataclass(frozen=True)
class _FileSpec:
    name: str
    sha256: str  # of the decompressed IDX bytes
    shape: tuple[int, ...]


FILES: dict[str, _FileSpec] = {
    "train_images": _FileSpec(
        "train-images-idx3-ubyte.gz",
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db", (60000, 28, 28)),
    "train_labels": _FileSpec(
        "train-labels-idx1-ubyte.gz",
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5", (60000,)),
    "test_images": _FileSpec(
        "t10k-images-idx3-ubyte.gz",
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7", (10000, 28, 28)),
    "test_labels": _FileSpec(
        "t10k-labels-idx1-ubyte.gz",
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2", (10000,)),
}
"""The four files: name, SHA-256 of the decompressed content, IDX shape."""

Source = Literal["explicit", "env", "cache"]


class MnistError(Exception):
    """Base class of every MNIST data-layer error."""


class MnistNotFoundError(MnistError, FileNotFoundError):
    """Files are missing and may not (``download=False``) be downloaded."""


class MnistFileError(MnistError, ValueError):
    """A file is present but invalid: not a file, empty, bad gzip, bad IDX or wrong digest."""


class MnistFetchError(MnistError, OSError):
    """The data could not be fetched: every mirror failed, or the folder is not writable."""


# ----------------------------------------------------------------------------- locations


def cache_folder() -> Path:
    """The MNIST cache folder: ``$LECTURE_UTILS_CACHE/mnist`` or ``pooch.os_cache(...)/mnist``."""
    root = os.environ.get(CACHE_ENV_VAR, "").strip()
    if root:
        return Path(root).expanduser() / "mnist"
    if IN_BROWSER:
        return BROWSER_CACHE if BROWSER_CACHE.parents[2].is_dir() else Path("/tmp/mnist")
    import pooch

    return Path(pooch.os_cache("lecture_utils")) / "mnist"


def _resolve(folder: str | os.PathLike[str] | None) -> tuple[Path, Source]:
    if folder is not None:
        if not isinstance(folder, (str, os.PathLike)):
            raise TypeError(f"folder must be a str, os.PathLike or None, got "
                            f"{type(folder).__name__}")
        return Path(folder).expanduser().absolute(), "explicit"
    env = os.environ.get(ENV_VAR, "").strip()
    if env:  # absolute now, so messages show what a relative value meant in this directory
        return Path(env).expanduser().absolute(), "env"
    return cache_folder().absolute(), "cache"


def _describe(folder: Path, source: Source, *, long: bool = False) -> str:
    if source == "explicit":
        return f"{folder} (the folder argument)"
    if source == "env":
        return f"{folder} (from ${ENV_VAR})"
    if long:
        return (f"{folder} (the cache folder, as no folder was given and ${ENV_VAR} is not set; "
                f"${CACHE_ENV_VAR} moves it)")
    return f"{folder} (the cache folder)"


def _advice(folder: Path, source: Source) -> str:
    command = f"{FETCH_COMMAND} {folder}" if source == "explicit" else FETCH_COMMAND
    return (f"To fix: run `{command}` on a machine with internet access (it also replaces "
            f"invalid files), or set {ENV_VAR} to a folder holding the four MNIST .gz files.")


# ----------------------------------------------------------------------------- verification


def _gunzip(raw: bytes, spec: _FileSpec, origin: str) -> memoryview:
    """Decompress ``raw`` in a stream, refusing to write past the size of ``spec``'s IDX file.

    The limit is the IDX header plus the payload of ``spec.shape``: the largest an intact
    file can be. A gzip file that decompresses to more (a decompression bomb: a megabyte of
    compressed zeros can hold a gigabyte) is rejected as soon as it passes the limit, so memory
    never exceeds one buffer of that size.
    """
    limit = 4 + 4 * len(spec.shape) + int(np.prod(spec.shape, dtype=np.int64))
    out = memoryview(bytearray(limit + 1))  # one byte more than allowed, to notice a longer one
    size = 0
    with gzip.GzipFile(fileobj=io.BytesIO(raw)) as stream:
        while size <= limit and (n := stream.readinto(out[size:size + _CHUNK_BYTES])):
            size += n
    if size > limit:
        raise MnistFileError(f"{origin}: decompresses to more than {limit:,} bytes, the size of "
                             f"the IDX file {spec.name} with shape {spec.shape}; rejected while "
                             f"decompressing (a corrupted file or a decompression bomb)")
    return out[:size]


def _decode(raw: bytes, spec: _FileSpec, origin: str) -> np.ndarray:
    """gunzip (with a size limit), parse and verify ``raw``: a read-only uint8 array."""
    if not raw:
        raise MnistFileError(f"{origin}: the file is empty (0 bytes); expected gzip-compressed "
                             f"IDX data")
    try:
        data = _gunzip(raw, spec, origin)
    except (EOFError, OSError, zlib.error) as err:
        raise MnistFileError(f"{origin}: not a complete gzip file ({err}); it is truncated or "
                             f"corrupted") from err
    try:
        array = parse_idx(data, name=origin, shape=spec.shape)
    except IdxFormatError as err:
        raise MnistFileError(str(err)) from err
    found = hashlib.sha256(data).hexdigest()
    if found != spec.sha256:
        raise MnistFileError(f"{origin}: SHA-256 of the decompressed content does not match: "
                             f"expected {spec.sha256}, found {found}; the file is corrupted "
                             f"or not the original MNIST {spec.name}")
    array.flags.writeable = False
    return array


@dataclasses.dataclass(frozen=True)
class _Stamp:
    """A file's identity as cache key: same device, inode, size and mtime means same bytes.

    The path is carried along for messages but not compared, so symlinks share one entry.
    """

    dev: int
    ino: int
    size: int
    mtime_ns: int
    path: Path = dataclasses.field(compare=False)


@functools.lru_cache(maxsize=8)
def _read_cached(key: str, stamp: _Stamp) -> np.ndarray:
    """Read and verify one file (cached; a rewritten file has a new stamp and is read again)."""
    file = stamp.path
    if file.is_dir():
        raise MnistFileError(f"{file} is a directory where the file {FILES[key].name} should be; "
                             f"remove it")
    try:
        raw = file.read_bytes()
    except OSError as err:
        raise MnistFileError(f"{file}: cannot be read ({err})") from err
    return _decode(raw, FILES[key], str(file))


def _read(key: str, folder: Path) -> np.ndarray | None:
    """The verified array of ``FILES[key]`` in ``folder``; ``None`` if the file does not exist."""
    path = folder / FILES[key].name
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    except OSError as err:  # e.g. a parent is not a directory, or no permission
        raise MnistFileError(f"{path}: cannot be accessed ({err})") from err
    return _read_cached(key, _Stamp(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, path))


def _scan(folder: Path) -> tuple[dict[str, np.ndarray], list[str], dict[str, MnistFileError]]:
    arrays: dict[str, np.ndarray] = {}
    missing: list[str] = []
    invalid: dict[str, MnistFileError] = {}
    for key in FILES:
        try:
            array = _read(key, folder)
        except MnistFileError as err:
            invalid[key] = err
            continue
        if array is None:
            missing.append(key)
        else:
            arrays[key] = array
    return arrays, missing, invalid


# ----------------------------------------------------------------------------- download


def _writable_folder(folder: Path, source: Source) -> None:
    """Create ``folder`` if needed and prove it is writable (``os.access`` is wrong for root)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write-test.", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        hint = (f"set {CACHE_ENV_VAR} to a writable folder" if source == "cache"
                else "use a writable folder")
        raise MnistFetchError(f"cannot write to {folder} ({err}); {hint}") from err


def browser_mirror() -> str:
    """The site's MNIST folder, seen from the browser edition's kernel.

    The kernel runs in a web worker whose script is under the site's ``lite/extensions/``;
    the site build puts the four files into ``lite/mnist/``.
    """
    import js  # Pyodide's window on the browser

    here = str(js.location.href)
    if "/extensions/" not in here:
        raise MnistFetchError(f"the kernel runs from {here}, not from a JupyterLite site's "
                              "extensions/ folder: where the site's MNIST is is unknown")
    return here.split("/extensions/")[0] + "/mnist/"


def _browser_download(url: str, target: Path) -> None:
    """Write the file at ``url`` to ``target``: a synchronous request, as a web worker may make."""
    import js

    request = js.XMLHttpRequest.new()
    request.open("GET", url, False)
    request.responseType = "arraybuffer"
    try:
        request.send(None)
    except Exception as err:  # a JavaScript NetworkError
        raise OSError(f"cannot connect ({err})") from err
    if request.status != 200:
        raise OSError(f"HTTP {request.status} {request.statusText}")
    target.write_bytes(bytes(js.Uint8Array.new(request.response).to_py()))


def _download(key: str, folder: Path, mirrors: Sequence[str], progressbar: bool) -> None:
    """Download ``FILES[key]`` into ``folder`` from the first mirror with a verified copy.

    The bytes go to a hidden ``.part`` file that is renamed into place only after verification;
    raises ``MnistFetchError`` listing each mirror's failure if none delivered.
    """
    spec = FILES[key]
    failures = []
    for base in mirrors:
        url = base.rstrip("/") + "/" + spec.name
        # Opened by the downloader with the usual permissions; hidden and never the final name.
        tmp = folder / f".{spec.name}.{os.getpid()}.{secrets.token_hex(4)}.part"
        try:
            print(f"Downloading {url}", file=sys.stderr, flush=True)
            if IN_BROWSER:
                _browser_download(url, tmp)
            else:
                import pooch

                downloader = pooch.HTTPDownloader(progressbar=progressbar,
                                                  chunk_size=_CHUNK_BYTES,
                                                  timeout=_DOWNLOAD_TIMEOUT_S)
                downloader(url, str(tmp), None)
            _decode(tmp.read_bytes(), spec, url)
            os.replace(tmp, folder / spec.name)
            return
        except (OSError, ValueError) as err:  # requests errors are OSError; bad data ValueError
            failures.append(f"{url}: {_reason(err)}")
            print(f"  failed: {_reason(err)}", file=sys.stderr, flush=True)
        finally:
            tmp.unlink(missing_ok=True)
    raise MnistFetchError(f"could not download {spec.name} from any of {len(mirrors)} "
                          f"mirror(s):\n  " + "\n  ".join(failures or ["(no mirrors given)"]))


def _default_mirrors() -> tuple[str, ...]:
    """:data:`MIRRORS`; in the browser edition the site itself."""
    return (browser_mirror(),) if IN_BROWSER else MIRRORS


def _reason(err: Exception) -> str:
    """A one-line reason for a failed download (requests' messages run to several lines)."""
    if IN_BROWSER:
        return str(err)
    import requests

    if isinstance(err, requests.ConnectionError):
        return "cannot connect (no internet access, or the server is down)"
    if isinstance(err, requests.Timeout):
        return f"no answer within {_DOWNLOAD_TIMEOUT_S} s"
    if isinstance(err, requests.exceptions.ChunkedEncodingError):
        return "the connection broke during the download"
    return str(err)


def _ensure(folder_arg: str | os.PathLike[str] | None, *, download: bool,
            mirrors: Sequence[str] | None, progressbar: bool = True) -> dict[str, np.ndarray]:
    """The four verified uint8 arrays, downloading missing or invalid files if allowed."""
    if isinstance(mirrors, str):
        raise TypeError(f"mirrors must be a sequence of base URLs, got the str {mirrors!r}")
    folder, source = _resolve(folder_arg)
    arrays, missing, invalid = _scan(folder)
    if not missing and not invalid:
        return arrays
    where = _describe(folder, source, long=True)
    problems = [str(err) for err in invalid.values()]
    if missing:
        problems.insert(0, "missing: " + ", ".join(FILES[k].name for k in missing))
    summary = f"MNIST files not usable in {where}:\n  " + "\n  ".join(problems)
    blocked = [k for k in invalid if (folder / FILES[k].name).is_dir()]
    if blocked or not download:
        why = "a directory is in the way" if blocked else "download=False"
        cls = MnistFileError if invalid else MnistNotFoundError
        raise cls(f"{summary}\nNothing was downloaded ({why}). {_advice(folder, source)}")
    try:
        _writable_folder(folder, source)
        for key in [*missing, *invalid]:
            _download(key, folder, mirrors=_default_mirrors() if mirrors is None
                      else tuple(mirrors), progressbar=progressbar)
    except MnistFetchError as err:
        raise MnistFetchError(f"{summary}\nThe download failed: {err}\n"
                              f"{_advice(folder, source)}") from err
    arrays, missing, invalid = _scan(folder)
    if missing or invalid:  # only if another process removed the files meanwhile
        raise MnistFileError(f"MNIST files changed while being fetched in {where}")
    return arrays


# ----------------------------------------------------------------------------- public API


@dataclasses.dataclass(frozen=True, eq=False)
class Mnist:
    """MNIST as float32 images in [0, 1] and int64 labels in 0..9.

    ``x_*`` has shape ``(n, 784)`` (``shape="flat"``) or ``(n, 28, 28)`` (``shape="image"``);
    ``x_val``/``y_val`` are empty (``n = 0``) unless ``load_mnist(validation=...)``.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    def __repr__(self) -> str:
        return (f"Mnist(train={self.x_train.shape}, val={self.x_val.shape}, "
                f"test={self.x_test.shape})")


def load_mnist(folder: str | os.PathLike[str] | None = None, *,
               shape: Literal["flat", "image"] = "flat", validation: int = 0, seed: int = 0,
               download: bool = True) -> Mnist:
    """Load MNIST as float32 ``x = pixel / 255`` in [0, 1] and int64 labels (slides: 784-…-10).

    ``folder``: the data folder (default: ``$LECTURE_MNIST_DIR``, else the cache folder; see
    the module docstring). ``download``: fetch missing or invalid files from :data:`MIRRORS`.

    Validation split (the course uses 50,000 / 10,000 / 10,000, i.e. ``validation=10000``):
    ``perm = np.random.default_rng(seed).permutation(60000)``; the images ``perm[:validation]``
    form the validation set, the others the training set, both kept in file order. The test
    set is always the 10,000 test images. Parsed files are cached in-process, so repeated
    calls only convert; every call returns new arrays the caller may modify.
    """
    if shape not in ("flat", "image"):
        raise ValueError(f"shape must be 'flat' or 'image', got {shape!r}")
    n_train = FILES["train_labels"].shape[0]
    integer("validation", validation, minimum=0, maximum=n_train - 1)
    integer("seed", seed, minimum=0)
    if not isinstance(download, bool):
        raise TypeError(f"download must be True or False, got {download!r}")

    raw = _ensure(folder, download=download, mirrors=None)
    images, labels = raw["train_images"], raw["train_labels"]
    if validation:
        perm = np.random.default_rng(seed).permutation(n_train)
        val_idx, train_idx = np.sort(perm[:validation]), np.sort(perm[validation:])
        x_val, y_val = _scale(images[val_idx], shape), labels[val_idx].astype(np.int64)
        x_train, y_train = _scale(images[train_idx], shape), labels[train_idx].astype(np.int64)
    else:
        x_train, y_train = _scale(images, shape), labels.astype(np.int64)
        x_val, y_val = _scale(images[:0], shape), labels[:0].astype(np.int64)
    return Mnist(x_train, y_train, x_val, y_val,
                 _scale(raw["test_images"], shape), raw["test_labels"].astype(np.int64))


def _scale(images: np.ndarray, shape: Literal["flat", "image"]) -> np.ndarray:
    """uint8 ``(n, 28, 28)`` -> float32 ``pixel / 255`` in one pass (no float64 temporary)."""
    x = np.divide(images, np.float32(255), dtype=np.float32)
    return x if shape == "image" else x.reshape(x.shape[0], x.shape[1] * x.shape[2])


def fetch_mnist(folder: str | os.PathLike[str] | None = None, *,
                mirrors: Sequence[str] | None = None, progressbar: bool = True) -> Path:
    """Download (if needed) and verify the four MNIST files; print and return their folder.

    The folder is chosen as in :func:`load_mnist`; files already there are verified and
    kept, missing or invalid ones are downloaded from ``mirrors`` (default :data:`MIRRORS`).
    """
    _ensure(folder, download=True, mirrors=mirrors, progressbar=progressbar)
    target, source = _resolve(folder)
    print(f"MNIST: {len(FILES)} files verified in {_describe(target, source)}")
    return target


@dataclasses.dataclass(frozen=True)
class MnistStatus:
    """Where MNIST would be read from and which files are missing there (no network)."""

    folder: Path
    source: Source
    missing: tuple[str, ...]
    invalid: tuple[str, ...]
    verified: bool

    @property
    def ok(self) -> bool:
        """True if all four files are present (and, if ``verified``, pass their checks)."""
        return not self.missing and not self.invalid

    def __str__(self) -> str:
        where = _describe(self.folder, self.source)
        if self.ok:
            checked = "verified" if self.verified else "present"
            return f"MNIST: {len(FILES)} files {checked} in {where}"
        bad = [f"{label} {', '.join(names)}" for label, names in
               (("missing", self.missing), ("invalid", self.invalid)) if names]
        return f"MNIST: not ready in {where}: {'; '.join(bad)}. {_advice(self.folder, self.source)}"


def mnist_status(folder: str | os.PathLike[str] | None = None, *,
                 verify: bool = False) -> MnistStatus:
    """Report the data folder, its source and missing files, without network access.

    ``verify=False`` only checks that each file exists and is a non-empty file (instant);
    ``verify=True`` also decompresses and checks digests (about 0.3 s, then cached).
    """
    target, source = _resolve(folder)
    missing: list[str] = []
    invalid: list[str] = []
    for key, spec in FILES.items():
        path = target / spec.name
        if not path.exists():
            missing.append(spec.name)
        elif not path.is_file() or path.stat().st_size == 0:
            invalid.append(spec.name)
        elif verify:
            try:
                _read(key, target)
            except MnistFileError:
                invalid.append(spec.name)
    return MnistStatus(target, source, tuple(missing), tuple(invalid), verify)


def main(argv: Sequence[str] | None = None) -> int:
    """``fetch-data`` command: fetch and verify MNIST (or ``--status``: report, no network)."""
    parser = argparse.ArgumentParser(
        prog="python -m lecture_utils fetch-data",
        description=f"Download (if needed) and verify the four MNIST files. Folder: FOLDER, "
                    f"else ${ENV_VAR}, else the cache folder (${CACHE_ENV_VAR} moves it).")
    parser.add_argument("folder", nargs="?", default=None, help="where to put the files")
    parser.add_argument("--status", action="store_true",
                        help="only report where the files are (no network)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    try:
        if args.status:
            status = mnist_status(args.folder)
            print(status)
            return 0 if status.ok else 1
        fetch_mnist(args.folder, progressbar=not args.no_progress)
    except MnistError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
