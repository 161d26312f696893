"""Tests of nn.datasets: IDX parsing, lookup order, verified atomic download, minibatches.

No test touches the network or the real user cache: an autouse fixture points the cache at
tmp_path, clears $SCRATCHGRAD_DATA and makes every download fail unless a test serves bytes.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import io
import threading
import urllib.error
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nn import datasets
from nn.datasets import (
    MNIST_FILES,
    DataLoader,
    MNISTChecksumError,
    MNISTFormatError,
    MNISTNotFoundError,
    load_mnist,
    minibatches,
    read_idx,
)

NAMES = list(MNIST_FILES.values())
TRAIN_IMG, TRAIN_LABEL, TEST_IMG, TEST_LABEL = NAMES


# ----------------------------------------------------------------------------- helpers


def idx_bytes(array: np.ndarray) -> bytes:
    """Uncompressed unsigned-byte IDX encoding of ``array``."""
    array = np.asarray(array, dtype=np.uint8)
    magic = (0x08 << 8) | array.ndim
    dims = b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return magic.to_bytes(4, "big") + dims + array.tobytes()


def synthetic(n_train: int = 6, n_test: int = 4, label: int = 3) -> dict[str, bytes]:
    """The four files (gzipped) of a tiny MNIST lookalike; every label equals ``label``."""
    rng = np.random.default_rng(label)
    return {
        TRAIN_IMG: gzip.compress(idx_bytes(rng.integers(0, 256, (n_train, 28, 28)))),
        TRAIN_LABEL: gzip.compress(idx_bytes(np.full(n_train, label))),
        TEST_IMG: gzip.compress(idx_bytes(rng.integers(0, 256, (n_test, 28, 28)))),
        TEST_LABEL: gzip.compress(idx_bytes(np.full(n_test, label))),
    }


def write_files(folder: Path, files: dict[str, bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


def hashes_of(files: dict[str, bytes]) -> dict[str, str]:
    return {name: hashlib.sha256(gzip.decompress(data)).hexdigest() for name, data in files.items()}


class FakeOpener:
    """Stands in for urllib's urlopen: serves ``routes`` (url -> bytes), else URLError."""

    def __init__(self, routes: dict[str, bytes] | None = None) -> None:
        self.routes = routes or {}
        self.calls: list[str] = []

    def __call__(self, request, timeout=None):
        url = getattr(request, "full_url", request)
        self.calls.append(url)
        if url not in self.routes:
            raise urllib.error.URLError("offline (test)")
        response = io.BytesIO(self.routes[url])
        response.length = len(self.routes[url])  # as http.client's response has
        return response


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Private cache, no env var, fake mirrors, no network."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("SCRATCHGRAD_DATA", raising=False)
    monkeypatch.setattr(datasets, "MIRRORS", ("https://m1.invalid/mnist/", "https://m2.invalid/"))
    opener = FakeOpener()
    monkeypatch.setattr(datasets, "_urlopen", opener)
    return opener


@pytest.fixture
def cache(tmp_path) -> Path:
    return tmp_path / "xdg" / "scratchgrad" / "mnist"


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# ----------------------------------------------------------------------------- parsing


def test_synthetic_files_load_with_book_shapes_and_dtypes(tmp_path):
    folder = write_files(tmp_path / "d", synthetic(n_train=6, n_test=4, label=7))
    (x, t), (xt, _) = load_mnist(data_dir=folder)
    assert x.shape == (6, 784) and x.dtype == np.float64
    assert xt.shape == (4, 784)
    assert x.min() >= 0.0 and x.max() <= 1.0
    assert t.dtype == np.uint8 and t.shape == (6,) and (t == 7).all()

    (x, t), _ = load_mnist(normalize=False, flatten=False, one_hot_label=True, data_dir=folder)
    assert x.shape == (6, 1, 28, 28) and x.dtype == np.uint8
    assert t.shape == (6, 10) and t.dtype == np.float64
    np.testing.assert_array_equal(t.argmax(axis=1), 7)
    np.testing.assert_array_equal(t.sum(axis=1), 1.0)
    x.flat[0] = 1  # arrays are ordinary writable arrays

    (x, t), _ = load_mnist(one_hot_label=True, data_dir=folder, dtype=np.float32)
    assert x.dtype == np.float32 and t.dtype == np.float32


def test_pixel_values_survive_round_trip(tmp_path):
    files = synthetic()
    folder = write_files(tmp_path / "d", files)
    raw = np.frombuffer(gzip.decompress(files[TRAIN_IMG])[16:], dtype=np.uint8)
    (x, _), _ = load_mnist(normalize=False, data_dir=folder)
    np.testing.assert_array_equal(x.ravel(), raw)
    (xn, _), _ = load_mnist(data_dir=folder)
    np.testing.assert_allclose(xn.ravel(), raw / 255.0)


def test_non_float_dtype_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="floating"):
        load_mnist(data_dir=write_files(tmp_path / "d", synthetic()), dtype=np.int32)


def test_read_idx_plain_and_gz(tmp_path):
    arr = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / "a.idx").write_bytes(idx_bytes(arr))
    (tmp_path / "a.idx.gz").write_bytes(gzip.compress(idx_bytes(arr)))
    np.testing.assert_array_equal(read_idx(tmp_path / "a.idx"), arr)
    np.testing.assert_array_equal(read_idx(tmp_path / "a.idx.gz", magic=2051), arr)


@pytest.mark.parametrize(
    ("name", "make", "message"),
    [
        # gzip stream cut short
        (TRAIN_IMG, lambda good: good[: len(good) // 2], "not a valid gzip"),
        # valid gzip, not gzip at all
        (TEST_LABEL, lambda good: b"hello, not gzip", "not a valid gzip"),
        # valid gzip of an IDX body shorter than its header says
        (TRAIN_IMG, lambda good: gzip.compress(gzip.decompress(good)[:-5]), "truncated"),
        # trailing garbage after the data
        (TRAIN_LABEL, lambda good: gzip.compress(gzip.decompress(good) + b"xx"), "trailing"),
        # labels file where images are expected: wrong magic number
        (TRAIN_IMG, lambda good: gzip.compress(idx_bytes(np.zeros(6))), "magic number is 2049"),
        # images file where labels are expected
        (TEST_LABEL, lambda good: gzip.compress(idx_bytes(np.zeros((4, 28, 28)))), "2051"),
        # header cut inside the dimensions
        (TRAIN_IMG, lambda good: gzip.compress(gzip.decompress(good)[:9]), "truncated IDX"),
        # fewer than 4 bytes
        (TEST_IMG, lambda good: gzip.compress(b"\x00\x00"), "too short"),
    ],
)
def test_bad_files_give_error_naming_the_file(tmp_path, name, make, message):
    files = synthetic()
    files[name] = make(files[name])
    folder = write_files(tmp_path / "d", files)
    with pytest.raises(MNISTFormatError, match=message) as info:
        load_mnist(data_dir=folder)
    assert str(folder / name) in str(info.value)


def test_image_label_count_mismatch(tmp_path):
    files = synthetic(n_train=6)
    files[TRAIN_LABEL] = gzip.compress(idx_bytes(np.zeros(5)))
    folder = write_files(tmp_path / "d", files)
    with pytest.raises(MNISTFormatError, match=r"6 images but .* 5 labels"):
        load_mnist(data_dir=folder)


def test_label_out_of_range_for_one_hot(tmp_path):
    folder = write_files(tmp_path / "d", synthetic(label=12))
    load_mnist(data_dir=folder)  # fine without one-hot
    with pytest.raises(MNISTFormatError, match="label 12"):
        load_mnist(data_dir=folder, one_hot_label=True)


# ----------------------------------------------------------------------------- lookup order


def _label(**kwargs) -> int:
    (_, t), _ = load_mnist(**kwargs)
    return int(t[0])


def test_lookup_order_data_dir_then_env_then_cache(tmp_path, monkeypatch, cache, isolated):
    arg = write_files(tmp_path / "arg", synthetic(label=1))
    env = write_files(tmp_path / "env", synthetic(label=2))
    write_files(cache, synthetic(label=3))
    monkeypatch.setenv("SCRATCHGRAD_DATA", str(env))

    assert _label(data_dir=arg) == 1
    assert _label(data_dir=str(arg)) == 1  # str accepted too
    assert _label() == 2
    with pytest.warns(UserWarning, match=r"skipping data_dir argument .*nowhere: it is not a"):
        assert _label(data_dir=tmp_path / "nowhere") == 2  # missing folder: fall through
    monkeypatch.delenv("SCRATCHGRAD_DATA")
    assert _label() == 3
    monkeypatch.setenv("SCRATCHGRAD_DATA", "")  # empty means unset
    assert _label() == 3
    assert isolated.calls == []  # never tried to download


def test_a_wrong_env_var_is_pointed_out_when_the_cache_is_used(tmp_path, monkeypatch, cache):
    write_files(cache, synthetic(label=3))
    monkeypatch.setenv("SCRATCHGRAD_DATA", str(tmp_path / "typo"))
    with pytest.warns(UserWarning, match=r"skipping \$SCRATCHGRAD_DATA=.*typo: it is not a folder"):
        assert _label() == 3


def test_a_data_dir_typo_is_pointed_out_when_other_data_is_used(tmp_path, cache):
    """data_dir="fashion_mnsit" (a typo) silently loaded the cache's digits instead."""
    write_files(cache, synthetic(label=3))
    (tmp_path / "a_file").write_text("")
    for wrong in (tmp_path / "fashion_mnsit", tmp_path / "a_file"):
        with pytest.warns(UserWarning, match=f"skipping data_dir argument {wrong}: it is not a"):
            assert _label(data_dir=wrong) == 3


def test_an_empty_file_is_named_as_empty(tmp_path):
    """A 0-byte .gz (an interrupted copy) was "too short for an IDX header (0 bytes)"."""
    files = synthetic()
    files[TEST_LABEL] = b""
    folder = write_files(tmp_path / "d", files)
    with pytest.raises(MNISTFormatError, match=f"{TEST_LABEL}: the file is empty \\(0 bytes\\)"):
        load_mnist(data_dir=folder)


def test_incomplete_folder_is_skipped_with_a_warning(tmp_path, cache):
    files = synthetic(label=1)
    del files[TEST_LABEL]
    arg = write_files(tmp_path / "arg", files)
    write_files(cache, synthetic(label=3))
    with pytest.warns(UserWarning, match=TEST_LABEL):
        assert _label(data_dir=arg) == 3


def test_cache_dir_respects_xdg_and_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert datasets.mnist_cache_dir() == tmp_path / "x" / "scratchgrad" / "mnist"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert datasets.mnist_cache_dir() == tmp_path / "home" / ".cache" / "scratchgrad" / "mnist"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/path")  # ignored per the XDG spec
    assert datasets.mnist_cache_dir() == tmp_path / "home" / ".cache" / "scratchgrad" / "mnist"


# ----------------------------------------------------------------------------- offline error


def test_offline_error_says_where_to_put_the_files(tmp_path, cache, isolated, capsys):
    with (
        pytest.raises(MNISTNotFoundError) as info,
        pytest.warns(UserWarning, match="skipping data_dir argument .*argdir: it is not a folder"),
    ):
        load_mnist(data_dir=tmp_path / "argdir")
    msg = str(info.value)
    assert isinstance(info.value, RuntimeError)
    for name in NAMES:
        assert name in msg
    assert "SCRATCHGRAD_DATA" in msg
    assert str(tmp_path / "argdir") in msg
    assert str(cache) in msg
    assert "https://m1.invalid/mnist/" in msg and "https://m2.invalid/" in msg
    assert "data_dir" in msg
    # searched in order, nothing written
    assert msg.index("argdir") < msg.index("SCRATCHGRAD_DATA") < msg.index(str(cache))
    # each mirror tried once for the first file, then it gives up instead of timing out 8 times
    assert isolated.calls == [
        "https://m1.invalid/mnist/" + TRAIN_IMG,
        "https://m2.invalid/" + TRAIN_IMG,
    ]
    assert leftovers(cache) == []
    err = capsys.readouterr().err
    assert (
        "https://m1.invalid/mnist/train-images-idx3-ubyte.gz: <urlopen error offline (test)>; "
        "trying the next mirror\n  https://m2.invalid/train-images-idx3-ubyte.gz: <urlopen error "
        "offline (test)>\n"
    ) in err


def test_with_the_env_var_set_nothing_is_downloaded_elsewhere(tmp_path, monkeypatch, isolated):
    """The old loader quietly downloaded 11 MB into ~/.cache when $SCRATCHGRAD_DATA was wrong."""
    monkeypatch.setenv("SCRATCHGRAD_DATA", str(tmp_path / "envdir"))
    with (
        pytest.warns(
            UserWarning, match=r"skipping \$SCRATCHGRAD_DATA=.*envdir: it is not a folder"
        ),
        pytest.raises(MNISTNotFoundError) as info,
    ):
        load_mnist()
    msg = str(info.value)
    assert msg.startswith(
        f"MNIST: $SCRATCHGRAD_DATA is set to {tmp_path / 'envdir'} (does not exist), so nothing "
        "was downloaded. Put the four files there, correct the variable, or unset it"
    )
    assert isolated.calls == []
    partial = synthetic()
    del partial[TEST_LABEL]
    write_files(tmp_path / "envdir", partial)
    with (
        pytest.warns(UserWarning, match=f"it lacks {TEST_LABEL}"),
        pytest.raises(MNISTNotFoundError, match=rf"\(missing: {TEST_LABEL}\), so nothing was"),
    ):
        load_mnist()
    assert isolated.calls == []


def test_the_download_is_announced_on_stderr_before_any_connection(cache, served, capsys):
    heard_before_connecting: list[str] = []
    opener = datasets._urlopen

    def listening(request, timeout=None):
        heard_before_connecting.append(capsys.readouterr().err)
        return opener(request, timeout=timeout)

    datasets._urlopen = listening  # the `isolated` fixture restores it
    assert _label() == 5
    first = heard_before_connecting[0]
    assert first.startswith("MNIST: not found on disk; downloading 4 file(s) (about 11.6 MB) from ")
    assert f"https://m1.invalid/mnist/ (or 1 other mirror) into {cache}\n" in first
    assert "set $SCRATCHGRAD_DATA=FOLDER" in first and "silent for 20 s is given up on" in first


def test_download_progress_is_shown_per_file(cache, served, capsys):
    assert _label() == 5
    err = capsys.readouterr().err
    for name, data in served.items():
        shown = f"{len(data) / 1000:.2f}k" if len(data) >= 1000 else f"{len(data)}"
        assert f"{name}: 100%" in err and shown in err, (name, err)


def test_each_mirror_gets_a_bounded_wait(tmp_path, monkeypatch, cache, isolated):
    """A mirror that accepts the connection and then says nothing (or stops mid-file) is given
    up on after DOWNLOAD_TIMEOUT seconds of silence, and the next one is tried. (Only silence is
    timed here: no assertion depends on how fast this machine answers.)"""
    assert datasets.DOWNLOAD_TIMEOUT <= 20  # the old 60 s per mirror was two minutes of silence
    files = synthetic(label=4)
    monkeypatch.setattr(datasets, "SHA256", hashes_of(files))
    monkeypatch.setattr(datasets, "DOWNLOAD_TIMEOUT", 0.2)
    monkeypatch.setattr(datasets, "_urlopen", datasets.urllib.request.urlopen)
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "*")
    release = threading.Event()

    class Stalling(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path.startswith("/silent/"):
                release.wait(30)  # never answers while the client waits
                return
            data = files[self.path.rsplit("/", 1)[1]]
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.path.startswith("/stops/"):
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                release.wait(30)  # half the body, then silence
                return
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Stalling)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        monkeypatch.setattr(datasets, "MIRRORS", (base + "silent/", base + "stops/"))
        with pytest.raises(MNISTNotFoundError) as info:
            load_mnist()
        message = str(info.value)
        assert f"{base}silent/{TRAIN_IMG}: " in message and "timed out" in message, message
        assert message.count("timed out") == 2 and f"{base}stops/{TRAIN_IMG}: " in message
    finally:
        release.set()
        server.shutdown()
        server.server_close()
        thread.join()


def test_offline_error_without_env_var_says_not_set():
    with pytest.raises(MNISTNotFoundError, match=r"\$SCRATCHGRAD_DATA: not set"):
        load_mnist()


# ----------------------------------------------------------------------------- download


@pytest.fixture
def served(monkeypatch, isolated):
    """Synthetic files served by the second mirror, their hashes made the expected ones."""
    files = synthetic(label=5)
    monkeypatch.setattr(datasets, "SHA256", hashes_of(files))
    isolated.routes.update({"https://m2.invalid/" + n: data for n, data in files.items()})
    return files


def test_download_falls_back_to_second_mirror_and_caches(cache, served, isolated):
    assert _label() == 5
    assert sorted(leftovers(cache)) == sorted(NAMES)  # no temp files left
    for name, data in served.items():
        assert (cache / name).read_bytes() == data
    assert len(isolated.calls) == 8  # 4 files x (mirror 1 fails, mirror 2 serves)

    isolated.calls.clear()
    assert _label() == 5  # second call reads the cache
    assert isolated.calls == []


def test_download_only_fetches_missing_files(cache, served, isolated):
    write_files(cache, {TRAIN_IMG: served[TRAIN_IMG], TEST_IMG: served[TEST_IMG]})
    assert _label() == 5
    fetched = {url.rsplit("/", 1)[1] for url in isolated.calls}
    assert fetched == {TRAIN_LABEL, TEST_LABEL}


def test_download_accepts_differently_compressed_same_content(cache, served, isolated):
    name = TRAIN_IMG
    recompressed = gzip.compress(gzip.decompress(served[name]), compresslevel=1, mtime=123)
    assert recompressed != served[name]
    isolated.routes["https://m2.invalid/" + name] = recompressed
    assert _label() == 5
    assert (cache / name).read_bytes() == recompressed


@pytest.mark.parametrize(
    "corrupt",
    [
        lambda good: gzip.compress(gzip.decompress(good)[:-1] + b"\x01"),  # wrong content
        lambda good: good[:-20],  # truncated transfer
    ],
    ids=["wrong-checksum", "truncated"],
)
def test_bad_download_is_rejected_and_nothing_is_written(cache, served, isolated, corrupt):
    isolated.routes["https://m2.invalid/" + TEST_LABEL] = corrupt(served[TEST_LABEL])
    with pytest.raises(MNISTChecksumError) as info:
        load_mnist()
    assert TEST_LABEL in str(info.value)
    assert "https://m2.invalid/" + TEST_LABEL in str(info.value)
    # the files verified before it are kept; the bad one and any temp file are not
    assert TEST_LABEL not in leftovers(cache)
    assert not [n for n in leftovers(cache) if n.endswith(".part")]


def test_wrong_checksum_on_first_mirror_then_good_second(cache, served, isolated):
    isolated.routes["https://m1.invalid/mnist/" + TRAIN_LABEL] = gzip.compress(b"junk")
    assert _label() == 5
    assert sorted(leftovers(cache)) == sorted(NAMES)


def test_failed_write_leaves_no_partial_file(cache, served, monkeypatch):
    def broken_replace(src, dst):
        raise OSError("disk full (test)")

    monkeypatch.setattr(datasets.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        load_mnist()
    assert leftovers(cache) == []


def test_download_from_a_real_local_http_server(tmp_path, monkeypatch, cache):
    """The real urlopen path: mirror 1 answers 404, mirror 2 serves the files."""
    files = synthetic(label=9)
    write_files(tmp_path / "www" / "good", files)
    monkeypatch.setattr(datasets, "SHA256", hashes_of(files))
    monkeypatch.setattr(datasets, "_urlopen", datasets.urllib.request.urlopen)
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "*")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(tmp_path / "www"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}/"
        monkeypatch.setattr(datasets, "MIRRORS", (base + "missing/", base + "good/"))
        assert _label() == 9
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert sorted(leftovers(cache)) == sorted(NAMES)


def test_download_of_real_bytes_matches_the_hashes_in_the_source(mnist_dir: Path, cache, isolated):
    """Serve the real files as a mirror would: verifies the SHA-256 table in nn/datasets.py."""
    isolated.routes.update(
        {"https://m1.invalid/mnist/" + n: (mnist_dir / n).read_bytes() for n in NAMES}
    )
    (x, _), (xt, _) = load_mnist(normalize=False)
    assert x.shape == (60000, 784) and xt.shape == (10000, 784)
    for name in NAMES:
        assert (cache / name).read_bytes() == (mnist_dir / name).read_bytes()


# ----------------------------------------------------------------------------- real MNIST


def test_real_mnist_normalized_flat(mnist_dir: Path):
    (x, t), (xt, tt) = load_mnist(data_dir=mnist_dir)
    assert x.shape == (60000, 784) and x.dtype == np.float64
    assert xt.shape == (10000, 784) and xt.dtype == np.float64
    assert t.shape == (60000,) and t.dtype == np.uint8
    assert tt.shape == (10000,) and tt.dtype == np.uint8
    assert x.min() == 0.0 and x.max() == 1.0
    assert abs(x.mean() - 0.1307) < 1e-3
    assert abs(x.std() - 0.3081) < 1e-3
    counts = np.bincount(t, minlength=10)
    assert counts.sum() == 60000 and len(counts) == 10 and counts.min() > 5000
    assert np.bincount(tt, minlength=10).sum() == 10000
    assert t[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]  # the well-known first labels


def test_real_mnist_raw_images_one_hot_float32(mnist_dir: Path):
    (x, t), (xt, tt) = load_mnist(
        normalize=False, flatten=False, one_hot_label=True, data_dir=mnist_dir, dtype=np.float32
    )
    assert x.shape == (60000, 1, 28, 28) and x.dtype == np.uint8
    assert xt.shape == (10000, 1, 28, 28)
    assert x.max() == 255
    assert t.shape == (60000, 10) and t.dtype == np.float32
    assert tt.shape == (10000, 10)
    np.testing.assert_array_equal(t.sum(axis=1), 1.0)
    assert t.sum() == 60000 and tt.sum() == 10000


# ----------------------------------------------------------------------------- minibatches


def test_minibatches_cover_every_sample_once():
    x = np.arange(10).reshape(10, 1) * 10
    t = np.arange(10)
    batches = list(minibatches(x, t, 3, seed=0))
    assert [len(b[1]) for b in batches] == [3, 3, 3, 1]
    seen = np.concatenate([bt for _, bt in batches])
    assert sorted(seen.tolist()) == list(range(10))
    for bx, bt in batches:
        np.testing.assert_array_equal(bx[:, 0], bt * 10)  # pairs stay aligned
    assert seen.tolist() != list(range(10))  # shuffled


def test_minibatches_drop_last_and_no_shuffle():
    x, t = np.arange(10), np.arange(10) + 100
    batches = list(minibatches(x, t, 4, shuffle=False, drop_last=True))
    assert [bx.tolist() for bx, _ in batches] == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert [bt.tolist() for _, bt in batches] == [[100, 101, 102, 103], [104, 105, 106, 107]]
    assert list(minibatches(x, t, 11, drop_last=True)) == []
    assert len(list(minibatches(x, t, 11))) == 1


def test_minibatches_seed_is_reproducible():
    x = np.arange(50)
    a = [bx.tolist() for bx, _ in minibatches(x, x, 7, seed=42)]
    b = [bx.tolist() for bx, _ in minibatches(x, x, 7, seed=42)]
    c = [bx.tolist() for bx, _ in minibatches(x, x, 7, seed=43)]
    assert a == b and a != c


@pytest.mark.parametrize("seed", [-1, 1.5, "42", True])
def test_a_bad_seed_is_named_at_the_call(seed):
    """Were numpy's "expected non-negative integer" / "SeedSequence expects int ..." (from
    nn.train too), which name no argument."""
    x = np.arange(4)
    with pytest.raises(ValueError, match=f"seed must be a whole number of at least 0.*{seed!r}"):
        minibatches(x, x, 2, seed=seed)
    with pytest.raises(ValueError, match="seed must be a whole number"):
        DataLoader(x, x, 2, seed=seed)
    generator = np.random.default_rng(0)
    assert len(list(minibatches(x, x, 2, seed=generator))) == 2
    assert len(list(minibatches(x, x, 2, seed=np.int64(3)))) == 2


def test_a_single_number_is_not_a_dataset():
    with pytest.raises(ValueError, match=r"one sample per row, got shapes \(\) and \(\)"):
        minibatches(3.0, 1, 2)  # was "len() of unsized object"


@pytest.mark.parametrize(
    ("batch_size", "error"),
    [(0, ValueError), (-1, ValueError), (2.5, TypeError), (True, TypeError)],
)
def test_minibatches_bad_batch_size(batch_size, error):
    x = np.arange(4)
    with pytest.raises(error, match="batch_size"):
        minibatches(x, x, batch_size)  # raised at the call, not at first next()
    with pytest.raises(error, match="batch_size"):
        DataLoader(x, x, batch_size)
    assert len(list(minibatches(x, x, np.int64(3)))) == 2  # numpy integers are fine


def test_minibatches_length_mismatch():
    with pytest.raises(ValueError, match=r"same length.*5 and 4"):
        minibatches(np.arange(5), np.arange(4), 2)
    with pytest.raises(ValueError, match="same length"):
        DataLoader(np.arange(5), np.arange(4), 2)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(0, 40),
    batch_size=st.integers(1, 50),
    shuffle=st.booleans(),
    drop_last=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_minibatches_properties(n, batch_size, shuffle, drop_last, seed):
    x = np.arange(n)
    t = -np.arange(n)
    loader = DataLoader(x, t, batch_size, shuffle=shuffle, drop_last=drop_last, seed=seed)
    batches = list(minibatches(x, t, batch_size, shuffle=shuffle, drop_last=drop_last, seed=seed))
    assert len(batches) == len(loader) == len(list(loader))
    sizes = [len(bx) for bx, _ in batches]
    assert all(s == batch_size for s in sizes[:-1])
    if drop_last:
        assert sum(sizes) == n - n % batch_size
        assert all(s == batch_size for s in sizes)
    else:
        assert sum(sizes) == n
    seen = np.concatenate([bx for bx, _ in batches]) if batches else np.array([], dtype=int)
    assert len(set(seen.tolist())) == len(seen)  # no sample twice
    for bx, bt in batches:
        np.testing.assert_array_equal(bt, -bx)
    if not shuffle:
        assert seen.tolist() == list(range(len(seen)))


def test_dataloader_is_reiterable_with_new_order_each_epoch():
    x = np.arange(100)
    loader = DataLoader(x, x, 10, seed=1)
    assert len(loader) == 10
    epoch1 = np.concatenate([bx for bx, _ in loader])
    epoch2 = np.concatenate([bx for bx, _ in loader])
    assert sorted(epoch1.tolist()) == sorted(epoch2.tolist()) == list(range(100))
    assert epoch1.tolist() != epoch2.tolist()

    again = DataLoader(x, x, 10, seed=1)  # same seed: same sequence of epochs
    assert np.concatenate([bx for bx, _ in again]).tolist() == epoch1.tolist()
    assert np.concatenate([bx for bx, _ in again]).tolist() == epoch2.tolist()


def test_dataloader_len_and_no_shuffle():
    x = np.arange(10)
    assert len(DataLoader(x, x, 3)) == 4
    assert len(DataLoader(x, x, 3, drop_last=True)) == 3
    assert len(DataLoader(x, x, 10)) == 1
    assert len(DataLoader(np.arange(0), np.arange(0), 3)) == 0
    loader = DataLoader(x, x, 4, shuffle=False)
    assert [bx.tolist() for bx, _ in loader] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert [bx.tolist() for bx, _ in loader] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert "batch_size=4" in repr(loader)


def test_dataloader_on_real_mnist_shapes(mnist_dir: Path):
    (x, t), _ = load_mnist(normalize=False, data_dir=mnist_dir)
    loader = DataLoader(x, t, 100, seed=0)
    assert len(loader) == 600
    bx, bt = next(iter(loader))
    assert bx.shape == (100, 784) and bt.shape == (100,)
