"""MNIST data layer: real files, download scenarios against a local server, corrupted inputs.

No network: downloads come from an HTTP server on 127.0.0.1 whose routes play the mirrors
(``/error/``, ``/corrupt/``, ``/interrupt/``, ``/recompressed/``, ``/good/``). Corrupted files
are built in ``tmp_path`` from the real ones; the big image files are symlinked wherever a
test is about the (small) label files, so the suite stays fast.
"""

from __future__ import annotations

import gzip
import http.server
import os
import shutil
import socket
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from project_scripts import script

from lecture_utils.data import mnist as data
from lecture_utils.data.idx import IdxFormatError, parse_idx
from lecture_utils.data.mnist import (
    CACHE_ENV_VAR,
    ENV_VAR,
    FETCH_COMMAND,
    FILES,
    MnistFetchError,
    MnistFileError,
    MnistNotFoundError,
    fetch_mnist,
    load_mnist,
    mnist_status,
)

NAMES = [spec.name for spec in FILES.values()]
TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
LABELS = FILES["train_labels"].name
IMAGES = FILES["train_images"].name


# ----------------------------------------------------------------------------- helpers


def flip_byte(gz: bytes) -> bytes:
    """The same file with one decompressed pixel/label byte changed, re-compressed."""
    raw = bytearray(gzip.decompress(gz))
    raw[len(raw) // 2] ^= 0x01
    return gzip.compress(bytes(raw), compresslevel=1, mtime=0)


def idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + np.array(array.shape, dtype=">u4").tobytes()
    return header + array.astype(np.uint8).tobytes()


def folder_with(tmp: Path, mnist_dir: Path, **replace: bytes) -> Path:
    """A folder of symlinks to the real files, with some files (by key) given other bytes."""
    tmp.mkdir(parents=True, exist_ok=True)
    for key, spec in FILES.items():
        if key in replace:
            (tmp / spec.name).write_bytes(replace[key])
        else:
            (tmp / spec.name).symlink_to(mnist_dir / spec.name)
    return tmp


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture(scope="module")
def mnist(mnist_dir: Path) -> data.Mnist:
    return load_mnist(mnist_dir, download=False)


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No $LECTURE_MNIST_DIR, an empty cache root, and mirrors that cannot be reached."""
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setenv(CACHE_ENV_VAR, str(tmp_path / "cache"))
    monkeypatch.setattr(data, "MIRRORS", ("http://127.0.0.1:9/unreachable/",))
    return tmp_path / "cache" / "mnist"


# ----------------------------------------------------------------------------- local mirrors


class Mirrors:
    """An HTTP server on 127.0.0.1 whose first path segment picks the mirror's behaviour."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.requests: list[str] = []
        self._corrupt: dict[str, bytes] = {}
        handler = self._handler()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, mode: str) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/{mode}/"

    def body(self, mode: str, name: str) -> bytes:
        if mode == "corrupt":
            if name not in self._corrupt:
                self._corrupt[name] = flip_byte(self.files[name])
            return self._corrupt[name]
        if mode == "recompressed":
            return gzip.compress(gzip.decompress(self.files[name]), compresslevel=9, mtime=1)
        return self.files[name]

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        mirrors = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                mirrors.requests.append(self.path)
                _, mode, name = self.path.split("/", 2)
                if mode == "error" or name not in mirrors.files:
                    self.send_error(503 if mode == "error" else 404)
                    return
                body = mirrors.body(mode, name)
                self.send_response(200)
                self.send_header("Content-Type", "application/gzip")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if mode == "interrupt":  # the connection drops half-way through the body
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        return Handler

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def mirrors(mnist_dir: Path) -> Iterator[Mirrors]:
    server = Mirrors({name: (mnist_dir / name).read_bytes() for name in NAMES})
    yield server
    server.close()


@pytest.fixture
def use_mirrors(monkeypatch: pytest.MonkeyPatch, mirrors: Mirrors) -> Callable[..., None]:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")

    def use(*modes: str) -> None:
        monkeypatch.setattr(data, "MIRRORS", tuple(mirrors.url(m) for m in modes))

    return use


# ----------------------------------------------------------------------------- the real data


def test_shapes_dtypes_and_ranges(mnist: data.Mnist) -> None:
    assert mnist.x_train.shape == (60000, 784) and mnist.x_test.shape == (10000, 784)
    assert mnist.y_train.shape == (60000,) and mnist.y_test.shape == (10000,)
    assert mnist.x_val.shape == (0, 784) and mnist.y_val.shape == (0,)
    for x in (mnist.x_train, mnist.x_val, mnist.x_test):
        assert x.dtype == np.float32
    for y in (mnist.y_train, mnist.y_val, mnist.y_test):
        assert y.dtype == np.int64
    for x in (mnist.x_train, mnist.x_test):
        assert x.min() == 0.0 and x.max() == 1.0
    assert repr(mnist) == "Mnist(train=(60000, 784), val=(0, 784), test=(10000, 784))"


def test_label_counts_and_pixel_mean(mnist: data.Mnist) -> None:
    assert np.bincount(mnist.y_train).tolist() == TRAIN_COUNTS
    assert np.bincount(mnist.y_test).tolist() == TEST_COUNTS
    assert np.mean(mnist.x_train, dtype=np.float64) * 255 == pytest.approx(33.318, abs=5e-4)


def test_pixels_are_exactly_byte_over_255(mnist: data.Mnist, mnist_dir: Path) -> None:
    gz = (mnist_dir / FILES["test_images"].name).read_bytes()
    raw = np.frombuffer(gzip.decompress(gz), np.uint8, offset=16)
    np.testing.assert_array_equal(mnist.x_test.ravel(), raw.astype(np.float32) / 255)


def test_image_shape_is_the_flat_data_reshaped(mnist: data.Mnist, mnist_dir: Path) -> None:
    images = load_mnist(mnist_dir, shape="image", download=False)
    assert images.x_train.shape == (60000, 28, 28) and images.x_val.shape == (0, 28, 28)
    np.testing.assert_array_equal(images.x_test.reshape(10000, 784), mnist.x_test)


def test_validation_split_is_seeded_and_partitions_train(mnist: data.Mnist,
                                                         mnist_dir: Path) -> None:
    split = load_mnist(mnist_dir, validation=10000, seed=3, download=False)
    assert (len(split.y_train), len(split.y_val), len(split.y_test)) == (50000, 10000, 10000)
    perm = np.random.default_rng(3).permutation(60000)
    val_idx, train_idx = np.sort(perm[:10000]), np.sort(perm[10000:])
    np.testing.assert_array_equal(split.x_val, mnist.x_train[val_idx])
    np.testing.assert_array_equal(split.y_train, mnist.y_train[train_idx])
    again = load_mnist(mnist_dir, validation=10000, seed=3, download=False)
    np.testing.assert_array_equal(again.y_val, split.y_val)
    other = load_mnist(mnist_dir, validation=10000, seed=4, download=False)
    assert not np.array_equal(other.x_val, split.x_val)


def test_callers_cannot_corrupt_the_cache(mnist_dir: Path) -> None:
    first = load_mnist(mnist_dir, download=False)
    first.x_train[:] = -1.0
    first.y_test[:] = 42
    second = load_mnist(mnist_dir, download=False)
    assert second.x_train.min() == 0.0 and second.y_test.max() == 9


def test_cache_is_reused_until_a_file_changes(tmp_path: Path, mnist_dir: Path) -> None:
    folder = folder_with(tmp_path, mnist_dir, train_labels=(mnist_dir / LABELS).read_bytes())
    load_mnist(folder, download=False)
    hits = data._read_cached.cache_info().hits
    load_mnist(folder, download=False)
    assert data._read_cached.cache_info().hits == hits + 4
    (folder / LABELS).write_bytes(flip_byte((mnist_dir / LABELS).read_bytes()))
    with pytest.raises(MnistFileError, match="SHA-256"):
        load_mnist(folder, download=False)


def test_one_hot_is_reexported() -> None:
    np.testing.assert_array_equal(data.one_hot(np.array([0, 2]), 3), [[1, 0, 0], [0, 0, 1]])


# ----------------------------------------------------------------------------- where from


def test_env_var_folder_is_used_and_reported(monkeypatch: pytest.MonkeyPatch,
                                             mnist_dir: Path) -> None:
    monkeypatch.setenv(ENV_VAR, str(mnist_dir))
    status = mnist_status()
    assert (status.folder, status.source, status.ok) == (mnist_dir, "env", True)
    assert str(status) == f"MNIST: 4 files present in {mnist_dir} (from ${ENV_VAR})"
    assert load_mnist(download=False).x_test.shape == (10000, 784)


def test_explicit_folder_wins_over_env_var(monkeypatch: pytest.MonkeyPatch, mnist_dir: Path,
                                           tmp_path: Path) -> None:
    monkeypatch.setenv(ENV_VAR, str(mnist_dir))
    with pytest.raises(MnistNotFoundError, match="the folder argument"):
        load_mnist(tmp_path, download=False)
    assert mnist_status(tmp_path).source == "explicit"


def test_cache_folder_is_overridable(offline: Path) -> None:
    status = mnist_status()
    assert (status.folder, status.source, status.missing) == (offline, "cache", tuple(NAMES))
    assert not status.ok
    text = str(status)
    assert FETCH_COMMAND in text and ENV_VAR in text and str(offline) in text


def test_offline_with_nothing_says_where_it_looked_and_what_to_do(offline: Path) -> None:
    with pytest.raises(MnistFetchError) as info:
        load_mnist()
    text = str(info.value)
    for needle in (str(offline), ENV_VAR, "not set", FETCH_COMMAND, "unreachable/train-"):
        assert needle in text
    assert listing(offline) == []
    with pytest.raises(MnistNotFoundError) as info:
        load_mnist(download=False)
    assert all(needle in str(info.value) for needle in (str(offline), ENV_VAR, FETCH_COMMAND))


# ----------------------------------------------------------------------------- downloads


def test_download_skips_failing_and_corrupt_mirrors(use_mirrors: Callable[..., None],
                                                    mirrors: Mirrors, offline: Path,
                                                    mnist: data.Mnist) -> None:
    use_mirrors("error", "corrupt", "good")
    fetched = load_mnist()
    assert listing(offline) == sorted(NAMES)  # verified files only, no .part leftovers
    for name in NAMES:
        assert f"/error/{name}" in mirrors.requests and f"/corrupt/{name}" in mirrors.requests
    np.testing.assert_array_equal(fetched.x_train, mnist.x_train)
    np.testing.assert_array_equal(fetched.y_test, mnist.y_test)
    seen = len(mirrors.requests)
    load_mnist()
    assert len(mirrors.requests) == seen  # served from the cache folder now


def test_recompressed_mirror_is_accepted(use_mirrors: Callable[..., None], tmp_path: Path,
                                         mnist_dir: Path, capsys: pytest.CaptureFixture[str]
                                         ) -> None:
    use_mirrors("recompressed")
    folder = folder_with(tmp_path / "d", mnist_dir)
    (folder / LABELS).unlink()
    assert fetch_mnist(folder, progressbar=False) == folder
    assert f"4 files verified in {folder}" in capsys.readouterr().out
    assert (folder / LABELS).read_bytes() != (mnist_dir / LABELS).read_bytes()  # new gzip
    assert listing(folder) == sorted(NAMES)


def test_interrupted_download_leaves_nothing(use_mirrors: Callable[..., None], tmp_path: Path,
                                             mnist_dir: Path) -> None:
    use_mirrors("interrupt")
    folder = folder_with(tmp_path / "d", mnist_dir)
    (folder / LABELS).unlink()
    with pytest.raises(MnistFetchError, match=f"interrupt/{LABELS}: the connection broke"):
        fetch_mnist(folder, progressbar=False)
    assert LABELS not in listing(folder) and len(listing(folder)) == 3
    use_mirrors("interrupt", "good")
    fetch_mnist(folder, progressbar=False)
    assert listing(folder) == sorted(NAMES)


def test_corrupted_cached_file_is_fetched_again(use_mirrors: Callable[..., None],
                                                tmp_path: Path, mnist_dir: Path) -> None:
    bad = flip_byte((mnist_dir / LABELS).read_bytes())
    folder = folder_with(tmp_path / "d", mnist_dir, train_labels=bad)
    assert mnist_status(folder).ok and not mnist_status(folder, verify=True).ok
    use_mirrors("good")
    assert np.bincount(load_mnist(folder).y_train).tolist() == TRAIN_COUNTS
    assert (folder / LABELS).read_bytes() == (mnist_dir / LABELS).read_bytes()
    assert mnist_status(folder, verify=True).ok


def test_mirrors_must_be_a_sequence_of_urls() -> None:
    with pytest.raises(TypeError, match="mirrors must be a sequence of base URLs, got the str"):
        fetch_mnist(mirrors="http://127.0.0.1/")


def test_missing_cache_folder_is_created(use_mirrors: Callable[..., None], tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    use_mirrors("good")
    monkeypatch.setattr(data, "FILES", {"test_labels": FILES["test_labels"]})
    folder = tmp_path / "new" / "deeper"
    fetch_mnist(folder, progressbar=False)
    assert listing(folder) == [FILES["test_labels"].name]


def test_cache_under_a_file_gives_a_clear_error(offline: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "plainfile").write_text("")
    monkeypatch.setenv(CACHE_ENV_VAR, str(tmp_path / "plainfile"))
    with pytest.raises(MnistFetchError, match=f"cannot write to .*; set {CACHE_ENV_VAR} to a"):
        load_mnist()


def test_read_only_cache_gives_a_clear_error(offline: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    offline.mkdir(parents=True)
    offline.chmod(0o555)
    if os.geteuid() == 0:  # root may write anyway: fail the write as it fails for a user

        def refuse(*args: object, **kwargs: object) -> None:
            raise PermissionError(13, "Permission denied", str(offline))

        monkeypatch.setattr(tempfile, "mkstemp", refuse)
    try:
        with pytest.raises(MnistFetchError, match=f"cannot write to {offline} .*Permission"):
            load_mnist()
    finally:
        offline.chmod(0o755)


# ----------------------------------------------------------------------------- corrupted inputs


def _truncated(gz: bytes) -> bytes:
    return gz[: len(gz) // 2]


def _wrong_magic(gz: bytes) -> bytes:
    raw = bytearray(gzip.decompress(gz))
    raw[2] = 0x0D  # float32 instead of ubyte
    return gzip.compress(bytes(raw), mtime=0)


def _wrong_length(gz: bytes) -> bytes:
    return gzip.compress(gzip.decompress(gz)[:-7], mtime=0)


@pytest.mark.parametrize(("make", "message"), [
    (_truncated, "not a complete gzip file"),
    (_wrong_magic, r"element type 0x0d \(float32\); expected 0x08"),
    (_wrong_length, "truncated: header \\(60000,\\) needs 60000 data bytes, found 59993"),
    (flip_byte, "SHA-256 of the decompressed content does not match: expected "
                + FILES["train_labels"].sha256 + ", found [0-9a-f]{64}"),
    (lambda gz: b"", r"the file is empty \(0 bytes\)"),
    (lambda gz: gz[:1] + b"\x00" + gz[2:], "not a complete gzip file"),
])
def test_corrupted_file_gives_its_clear_error(make: Callable[[bytes], bytes], message: str,
                                              tmp_path: Path, mnist_dir: Path) -> None:
    folder = folder_with(tmp_path, mnist_dir,
                         train_labels=make((mnist_dir / LABELS).read_bytes()))
    with pytest.raises(MnistFileError, match=message) as info:
        load_mnist(folder, download=False)
    text = str(info.value)
    assert str(folder / LABELS) in text and FETCH_COMMAND in text


def test_decompression_bomb_is_rejected_within_normal_memory(tmp_path: Path,
                                                             mnist_dir: Path) -> None:
    """A 1 MB gzip of 1 GB of zeros in place of the training images: stopped at the file's
    size limit while decompressing, with no more peak memory than loading the real files."""
    bench = script("bench_data", "bench")  # a child process per load: its peak memory alone
    folder = bench.bomb_folder(tmp_path / "bomb", mnist_dir)
    assert (folder / IMAGES).stat().st_size < 2 << 20
    normal = bench.run_child(str(mnist_dir), trace=False, validation=0)
    bomb = bench.run_child(str(folder), trace=False, validation=0)
    assert normal["error"] is None
    message = bomb["error"]
    assert str(folder / IMAGES) in message and "47,040,016 bytes" in message, message
    assert "rejected while decompressing" in message
    assert bomb["maxrss_mb"] <= normal["maxrss_mb"], (bomb, normal)


def test_labels_in_place_of_images_fail_the_dimension_check(tmp_path: Path,
                                                            mnist_dir: Path) -> None:
    folder = folder_with(tmp_path, mnist_dir,
                         test_images=(mnist_dir / FILES["test_labels"].name).read_bytes())
    with pytest.raises(MnistFileError, match=r"1 dimensions \(10000,\); expected 3"):
        load_mnist(folder, download=False)


def test_directory_in_place_of_file(use_mirrors: Callable[..., None], tmp_path: Path,
                                    mnist_dir: Path, mirrors: Mirrors) -> None:
    folder = folder_with(tmp_path, mnist_dir)
    (folder / LABELS).unlink()
    (folder / LABELS).mkdir()
    use_mirrors("good")
    seen = len(mirrors.requests)
    with pytest.raises(MnistFileError, match=f"{LABELS} is a directory .* remove it"):
        load_mnist(folder)  # not downloaded: it would not replace the directory
    assert len(mirrors.requests) == seen
    assert mnist_status(folder).invalid == (LABELS,)


# ----------------------------------------------------------------------------- IDX parser


def test_parse_idx_roundtrip_without_copy() -> None:
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    raw = idx_bytes(array)
    parsed = parse_idx(raw, shape=(None, 3, 4))
    np.testing.assert_array_equal(parsed, array)
    assert not parsed.flags.writeable and np.shares_memory(parsed, np.frombuffer(raw, np.uint8))


@pytest.mark.parametrize(("raw", "shape", "message"), [
    (b"\x00\x00", None, "shorter than the 4-byte magic"),
    (b"\x1f\x8b\x08\x00", None, "does not start with two zero bytes"),
    (b"\x00\x00\x08\x00", None, "declares 0 dimensions"),
    (b"\x00\x00\x08\x02\x00\x00\x00\x01", None, "shorter than the 12-byte header"),
    (b"\x00\x00\x08\x01\x00\x00\x00\x03\x01\x02", None, r"truncated: header \(3,\) needs 3"),
    (b"\x00\x00\x08\x01\x00\x00\x00\x01\x01\x02", None, "has trailing bytes"),
    (b"\x00\x00\x08\x02\x00\x00\x00\x01\x00\x00\x00\x01\x07", (None, 1, 1),
     r"2 dimensions \(1, 1\); expected 3 \(shape \(n, 1, 1\)\)"),
])
def test_parse_idx_names_the_failed_check(raw: bytes, shape: tuple[int | None, ...] | None,
                                          message: str) -> None:
    with pytest.raises(IdxFormatError, match=f"^file.idx: not a valid IDX file: .*{message}"):
        parse_idx(raw, name="file.idx", shape=shape)


def test_parse_idx_checks_each_expected_dimension() -> None:
    with pytest.raises(IdxFormatError, match=r"dimension 1 is 3; expected 28 \(shape \(n, 28\)\)"):
        parse_idx(idx_bytes(np.zeros((2, 3))), shape=(None, 28))


@given(st.binary(max_size=64))
def test_parse_idx_never_fails_with_anything_else(raw: bytes) -> None:
    try:
        parse_idx(raw)
    except IdxFormatError:
        pass


# ----------------------------------------------------------------------------- parameters


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"shape": "square"}, ValueError, "shape must be 'flat' or 'image', got 'square'"),
    ({"validation": -1}, ValueError, r"validation must be an integer in \[0, 59999\], got -1"),
    ({"validation": 60000}, ValueError,
     r"validation must be an integer in \[0, 59999\], got 60000"),
    ({"validation": 0.5}, TypeError,
     r"validation must be an integer in \[0, 59999\], got 0.5 \(float\)"),
    ({"validation": True}, TypeError,
     r"validation must be an integer in \[0, 59999\], got True \(bool\)"),
    ({"seed": "0"}, TypeError, r"seed must be an integer >= 0, got '0' \(str\)"),
    ({"seed": -1}, ValueError, "seed must be an integer >= 0, got -1"),
    ({"download": "yes"}, TypeError, "download must be True or False, got 'yes'"),
    ({"folder": 3}, TypeError, "folder must be a str, os.PathLike or None, got int"),
])
def test_load_mnist_rejects_bad_parameters(kwargs: dict[str, object], error: type[Exception],
                                           message: str) -> None:
    with pytest.raises(error, match=f"^{message}$"):
        load_mnist(**kwargs)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- command line


def test_main_status_and_fetch(mnist_dir: Path, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    assert data.main(["--status", str(mnist_dir)]) == 0
    assert "4 files present" in capsys.readouterr().out
    folder = folder_with(tmp_path / "d", mnist_dir)
    assert data.main([str(folder)]) == 0
    assert "4 files verified" in capsys.readouterr().out
    shutil.rmtree(folder)
    assert data.main(["--status", str(folder)]) == 1


def test_main_reports_errors_without_traceback(offline: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert data.main(["--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "error: MNIST files not usable" in err and "Traceback" not in err
