"""Data for the examples: the MNIST loader of "Deep Learning from Scratch" and a minibatch iterator.

``load_mnist`` keeps the book's signature and return value, so the book's code runs unchanged, but
it reads the original IDX files itself (no pickle) and finds them without network access when a
copy is on disk. Lookup order, first folder holding all four ``.gz`` files wins:

1. the ``data_dir`` argument,
2. the folder named by the environment variable ``$SCRATCHGRAD_DATA``,
3. the user cache ``$XDG_CACHE_HOME/scratchgrad/mnist`` (default ``~/.cache/scratchgrad/mnist``),
4. a download from ``MIRRORS`` into that cache, each file checked against ``SHA256`` (hash of the
   *decompressed* bytes, so a differently gzipped copy of the same data is accepted) and written
   atomically, so an interrupted or rejected download never leaves a half-written file.

A download is announced on stderr (what, from where, into which folder) before the first
connection, shows its progress, and waits at most ``DOWNLOAD_TIMEOUT`` seconds for a silent
mirror before trying the next. When ``$SCRATCHGRAD_DATA`` is set, the data is expected there:
if neither it nor the cache holds the files, nothing is downloaded and the error says so.

Files found on disk are parsed strictly (magic number, header dimensions and exact length) but are
not hashed, so any dataset in the MNIST format (Fashion-MNIST, say) can be loaded via ``data_dir``.

``MIRRORS``, ``SHA256`` and ``_urlopen`` are module-level so tests can replace them.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import math
import os
import sys
import urllib.request
import warnings
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt
from tqdm import tqdm

from autograd.files import write_atomically

__all__ = [
    "DATA_ENV_VAR",
    "MIRRORS",
    "MNIST_FILES",
    "SHA256",
    "SIZES",
    "DataLoader",
    "MNISTChecksumError",
    "MNISTError",
    "MNISTFormatError",
    "MNISTNotFoundError",
    "load_mnist",
    "minibatches",
    "mnist_cache_dir",
    "read_idx",
]

#: Environment variable naming a folder that holds the four MNIST ``.gz`` files.
DATA_ENV_VAR = "SCRATCHGRAD_DATA"

#: The four files, keyed by the names the book uses.
MNIST_FILES: dict[str, str] = {
    "train_img": "train-images-idx3-ubyte.gz",
    "train_label": "train-labels-idx1-ubyte.gz",
    "test_img": "t10k-images-idx3-ubyte.gz",
    "test_label": "t10k-labels-idx1-ubyte.gz",
}

#: SHA-256 of the *decompressed* content of each file (independent of the gzip settings used).
SHA256: dict[str, str] = {
    "train-images-idx3-ubyte.gz": (
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"
    ),
    "train-labels-idx1-ubyte.gz": (
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"
    ),
    "t10k-images-idx3-ubyte.gz": (
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"
    ),
    "t10k-labels-idx1-ubyte.gz": (
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"
    ),
}

#: Base URLs tried in order; a file's URL is base + file name.
MIRRORS: tuple[str, ...] = (
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
)

#: Size in bytes of each file as the mirrors serve it (for the announcement and progress bar).
SIZES: dict[str, int] = {
    "train-images-idx3-ubyte.gz": 9912422,
    "train-labels-idx1-ubyte.gz": 28881,
    "t10k-images-idx3-ubyte.gz": 1648877,
    "t10k-labels-idx1-ubyte.gz": 4542,
}

#: Seconds a mirror may stay silent (connecting, or between two pieces of data) before the next
#: one is tried.
DOWNLOAD_TIMEOUT = 20.0
_CHUNK = 1 << 16

# IDX magic numbers: 0x0000 | type 0x08 (unsigned byte) | number of dimensions.
_LABEL_MAGIC = 2049  # 0x00000801: uint8, 1 dimension
_IMAGE_MAGIC = 2051  # 0x00000803: uint8, 3 dimensions
_NUM_CLASSES = 10

# Indirection so tests can serve bytes without a network (monkeypatch this name).
_urlopen = urllib.request.urlopen

Split = tuple[np.ndarray, np.ndarray]


class MNISTError(RuntimeError):
    """Base class of every error raised while locating, downloading or parsing MNIST."""


class MNISTNotFoundError(MNISTError):
    """No folder holds the files and they could not be downloaded; the message says where to
    put them."""


class MNISTFormatError(MNISTError):
    """A file is not valid gzip-compressed IDX data (truncated, corrupt, wrong magic number...)."""


class MNISTChecksumError(MNISTError):
    """A downloaded file decompressed to content whose SHA-256 is not the expected one."""


# --------------------------------------------------------------------------------------------
# Locating the files
# --------------------------------------------------------------------------------------------


def mnist_cache_dir() -> Path:
    """Folder where downloads are kept: ``$XDG_CACHE_HOME/scratchgrad/mnist``, by default
    ``~/.cache/scratchgrad/mnist`` (a relative ``XDG_CACHE_HOME`` is ignored, per the XDG spec)."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"
    return base / "scratchgrad" / "mnist"


def _candidate_dirs(data_dir: str | os.PathLike[str] | None) -> list[tuple[str, Path | None]]:
    """The folders to search, in order, each with a label for error messages."""
    env = os.environ.get(DATA_ENV_VAR, "")
    return [
        ("data_dir argument", Path(data_dir).expanduser() if data_dir is not None else None),
        (f"${DATA_ENV_VAR}", Path(env).expanduser() if env else None),
        ("user cache", mnist_cache_dir()),
    ]


def _missing(folder: Path) -> list[str]:
    return [name for name in MNIST_FILES.values() if not (folder / name).is_file()]


def _describe(folder: Path | None) -> str:
    if folder is None:
        return "not set"
    if not folder.exists():
        return f"{folder} (does not exist)"
    if not folder.is_dir():
        return f"{folder} (not a folder)"
    missing = _missing(folder)
    return f"{folder} (missing: {', '.join(missing)})" if missing else f"{folder} (complete)"


def _find_dir(data_dir: str | os.PathLike[str] | None) -> Path | None:
    """First candidate folder that holds all four files, or None."""
    for label, folder in _candidate_dirs(data_dir):
        if folder is None:
            continue
        if not folder.is_dir():
            if label != "user cache":  # given, but wrong: say so if another copy is used
                env = label.startswith("$")
                shown = f"{label}={folder}" if env else f"{label} {folder}"
                warnings.warn(f"MNIST: skipping {shown}: it is not a folder", stacklevel=4)
            continue
        missing = _missing(folder)
        if not missing:
            return folder
        if label != "user cache" and len(missing) < len(MNIST_FILES):
            # Some but not all files: most likely a mistake worth pointing out.
            warnings.warn(
                f"MNIST: skipping {label} {folder}: it lacks {', '.join(missing)}",
                stacklevel=4,
            )
    return None


# --------------------------------------------------------------------------------------------
# Downloading
# --------------------------------------------------------------------------------------------


def _gunzip(data: bytes, name: str) -> bytes:
    """Decompress, turning every flavour of gzip failure into an error naming the file."""
    if not data:  # gzip reads no bytes as no members: say what the file is
        raise MNISTFormatError(f"{name}: the file is empty (0 bytes); delete it and fetch it again")
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as exc:  # BadGzipFile is an OSError
        raise MNISTFormatError(
            f"{name}: not a valid gzip file (truncated or corrupt: {exc}); "
            "delete it and fetch it again"
        ) from exc


def _atomic_write(path: Path, data: bytes) -> None:
    write_atomically(path, lambda f: f.write(data))


def _fetch(url: str, name: str) -> bytes:
    """The body at `url`, read piece by piece with a progress bar on stderr."""
    request = urllib.request.Request(url, headers={"User-Agent": "scratchgrad"})
    with _urlopen(request, timeout=DOWNLOAD_TIMEOUT) as response:
        total = getattr(response, "length", None) or SIZES.get(name)
        chunks: list[bytes] = []
        with tqdm(
            total=total, desc=f"  {name}", unit="B", unit_scale=True, file=sys.stderr,
            mininterval=0.5, leave=True, dynamic_ncols=True,
        ) as bar:  # fmt: skip
            while chunk := response.read(_CHUNK):
                chunks.append(chunk)
                bar.update(len(chunk))
        return b"".join(chunks)


def _mirrors() -> str:
    if not MIRRORS:
        return "no mirror"
    others = len(MIRRORS) - 1
    return MIRRORS[0] + (f" (or {others} other mirror{'s' * (others > 1)})" if others else "")


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _download(name: str, cache: Path) -> list[str]:
    """Fetch one file from the first mirror that serves verified content into ``cache``.

    Returns the list of failures if every mirror failed because of the network; raises
    MNISTChecksumError if some mirror answered but with wrong content.
    """
    expected = SHA256[name]
    failures: list[str] = []
    bad_content = False
    for base in MIRRORS:
        url = base + name
        try:
            data = _fetch(url, name)
        except (OSError, http.client.HTTPException, ValueError) as exc:
            # URLError, HTTPError, timeouts and resets are OSErrors; IncompleteRead is an
            # HTTPException; ValueError is a malformed mirror URL. Try the next mirror.
            failures.append(f"{url}: {exc}")
            _say(f"  {url}: {exc}" + ("; trying the next mirror" if base != MIRRORS[-1] else ""))
            continue
        try:
            digest = hashlib.sha256(_gunzip(data, name)).hexdigest()
        except MNISTFormatError as exc:
            failures.append(f"{url}: {exc}")
            bad_content = True
            continue
        if digest != expected:
            failures.append(
                f"{url}: SHA-256 of decompressed content is {digest}, expected {expected}"
            )
            bad_content = True
            continue
        cache.mkdir(parents=True, exist_ok=True)
        _atomic_write(cache / name, data)
        return []
    if bad_content:
        raise MNISTChecksumError(
            f"{name}: no mirror served the expected content (nothing was saved):\n  "
            + "\n  ".join(failures)
        )
    return failures


def _not_found_message(
    data_dir: str | os.PathLike[str] | None,
    failures: list[str],
    cache: Path,
    headline: str = "MNIST data not found on disk, and downloading it failed.",
) -> str:
    lines = [headline]
    lines.append("Looked for the four files")
    lines.append("    " + ", ".join(MNIST_FILES.values()))
    lines.append("in these folders, in this order:")
    for i, (label, folder) in enumerate(_candidate_dirs(data_dir), 1):
        lines.append(f"    {i}. {label}: {_describe(folder)}")
    if failures:
        lines.append("Download attempts:")
        lines.extend(f"    {f}" for f in failures)
    lines.append(
        "To fix: put the four .gz files together in one folder, then either pass "
        f"load_mnist(data_dir=FOLDER), or set the environment variable {DATA_ENV_VAR}=FOLDER, "
        f"or copy them into {cache}"
    )
    return "\n".join(lines)


def _ensure_files(data_dir: str | os.PathLike[str] | None) -> Path:
    """Folder holding all four files, downloading missing ones into the cache if needed."""
    folder = _find_dir(data_dir)
    if folder is not None:
        return folder
    cache = mnist_cache_dir()
    env = os.environ.get(DATA_ENV_VAR, "")
    if env:  # the user said where the data lives: don't put a copy somewhere else unasked
        raise MNISTNotFoundError(
            _not_found_message(
                data_dir,
                [],
                cache,
                f"MNIST: ${DATA_ENV_VAR} is set to {_describe(Path(env).expanduser())}, so "
                "nothing was downloaded. Put the four files there, correct the variable, or "
                f"unset it to let load_mnist download them into {cache}.",
            )
        )
    missing = _missing(cache)
    size = sum(SIZES.get(name, 0) for name in missing) / 1e6
    _say(
        f"MNIST: not found on disk; downloading {len(missing)} file(s) (about {size:.1f} MB) "
        f"from {_mirrors()} into {cache}\n"
        f"  (to use a copy you have, pass data_dir=FOLDER or set ${DATA_ENV_VAR}=FOLDER; a mirror "
        f"silent for {DOWNLOAD_TIMEOUT:g} s is given up on)"
    )
    failures: list[str] = []
    for name in missing:
        failures = _download(name, cache)
        if failures:  # every mirror unreachable: don't wait for the others' timeouts too
            break
    if failures or _missing(cache):
        raise MNISTNotFoundError(_not_found_message(data_dir, failures, cache))
    return cache


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------


def _parse_idx(raw: bytes, name: str, magic: int | None = None) -> np.ndarray:
    if len(raw) < 4:
        raise MNISTFormatError(f"{name}: too short for an IDX header ({len(raw)} bytes)")
    found = int.from_bytes(raw[:4], "big")
    if magic is not None and found != magic:
        raise MNISTFormatError(f"{name}: magic number is {found}, expected {magic}")
    if found >> 8 != 0x08:  # 0x0000 then type code 0x08 = unsigned byte
        raise MNISTFormatError(
            f"{name}: magic number {found:#010x} is not an unsigned-byte IDX file"
        )
    ndim = found & 0xFF
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise MNISTFormatError(f"{name}: truncated IDX header ({len(raw)} bytes, need {header})")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    expected = header + math.prod(shape)
    if len(raw) != expected:
        raise MNISTFormatError(
            f"{name}: header says shape {shape} ({expected} bytes) but the decompressed file "
            f"has {len(raw)} bytes ({'truncated' if len(raw) < expected else 'trailing data'})"
        )
    # Copy so callers get an ordinary writable array rather than a view of immutable bytes.
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape).copy()


def read_idx(path: str | os.PathLike[str], magic: int | None = None) -> np.ndarray:
    """Read a (gzip-compressed if the name ends in .gz) unsigned-byte IDX file as a uint8 array
    shaped as its header says; errors name the file. ``magic``: expected magic number, if any."""
    path = Path(path)
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = _gunzip(data, str(path))
    return _parse_idx(data, str(path), magic)


def _load_split(folder: Path, img_key: str, label_key: str) -> Split:
    images = read_idx(folder / MNIST_FILES[img_key], _IMAGE_MAGIC)
    labels = read_idx(folder / MNIST_FILES[label_key], _LABEL_MAGIC)
    if len(images) != len(labels):
        raise MNISTFormatError(
            f"{folder / MNIST_FILES[img_key]} holds {len(images)} images but "
            f"{folder / MNIST_FILES[label_key]} holds {len(labels)} labels"
        )
    return images, labels


def load_mnist(
    normalize: bool = True,
    flatten: bool = True,
    one_hot_label: bool = False,
    data_dir: str | os.PathLike[str] | None = None,
    dtype: npt.DTypeLike = np.float64,
) -> tuple[Split, Split]:
    """Load MNIST as the book does: ``(x_train, t_train), (x_test, t_test)``.

    Images are (N, 784) if ``flatten`` else (N, 1, 28, 28); floats of ``dtype`` in [0, 1] if
    ``normalize``, else the raw uint8 pixels. Labels are uint8 (N,), or one-hot (N, 10) floats of
    ``dtype`` if ``one_hot_label``. See the module docstring for where the files are looked for;
    raises MNISTNotFoundError (saying where to put them) if none are found and download fails.
    """
    float_dtype = np.dtype(dtype)
    if float_dtype.kind != "f":
        raise ValueError(f"dtype must be a floating-point type, got {float_dtype}")
    folder = _ensure_files(data_dir)
    splits = []
    for img_key, label_key in (("train_img", "train_label"), ("test_img", "test_label")):
        x, t = _load_split(folder, img_key, label_key)
        x = x.reshape(len(x), -1) if flatten else x.reshape(len(x), 1, *x.shape[1:])
        if normalize:
            x = x.astype(float_dtype)
            x /= 255.0
        if one_hot_label:
            if t.size and t.max() >= _NUM_CLASSES:
                raise MNISTFormatError(
                    f"{folder / MNIST_FILES[label_key]}: label {t.max()} is not in 0..9"
                )
            one_hot = np.zeros((len(t), _NUM_CLASSES), dtype=float_dtype)
            one_hot[np.arange(len(t)), t] = 1.0
            t = one_hot
        splits.append((x, t))
    return splits[0], splits[1]


# --------------------------------------------------------------------------------------------
# Minibatches
# --------------------------------------------------------------------------------------------


def _rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    """numpy's generator for `seed`, its refusals worded as ours (it names no argument)."""
    if isinstance(seed, (np.random.Generator, type(None))):
        return np.random.default_rng(seed)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(
            f"seed must be a whole number of at least 0, a np.random.Generator or None, "
            f"got {seed!r}"
        )
    return np.random.default_rng(seed)


def _check_batch_args(x: np.ndarray, t: np.ndarray, batch_size: int) -> None:
    if x.ndim == 0 or t.ndim == 0:
        raise ValueError(
            f"x and t must hold one sample per row, got shapes {x.shape} and {t.shape}"
        )
    if len(x) != len(t):
        raise ValueError(f"x and t must have the same length, got {len(x)} and {len(t)}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
        raise TypeError(f"batch_size must be an integer, got {batch_size!r}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")


def _batches(
    x: np.ndarray,
    t: np.ndarray,
    batch_size: int,
    shuffle: bool,
    drop_last: bool,
    rng: np.random.Generator | None,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    n = len(x)
    stop = n - n % batch_size if drop_last else n
    if shuffle:
        assert rng is not None
        order = rng.permutation(n)
        for start in range(0, stop, batch_size):
            idx = order[start : start + batch_size]
            yield x[idx], t[idx]
    else:
        for start in range(0, stop, batch_size):
            yield x[start : start + batch_size], t[start : start + batch_size]


def minibatches(
    x: npt.ArrayLike,
    t: npt.ArrayLike,
    batch_size: int,
    *,
    shuffle: bool = True,
    drop_last: bool = False,
    seed: int | np.random.Generator | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """One epoch of ``(x_batch, t_batch)`` pairs covering every sample once.

    The order comes from ``np.random.default_rng(seed)``, so a fixed seed gives the same batches
    on every run. The last batch is smaller unless ``drop_last``. Arguments are checked here,
    at the call, not at the first ``next()``.
    """
    xa, ta = np.asarray(x), np.asarray(t)
    _check_batch_args(xa, ta, batch_size)
    rng = _rng(seed) if shuffle else None
    return _batches(xa, ta, int(batch_size), shuffle, drop_last, rng)


class DataLoader:
    """Re-iterable minibatches: each ``for`` loop over it is one epoch.

    Shuffled epochs draw successive permutations from one generator seeded once, so the whole
    sequence of epochs is reproducible with a fixed ``seed`` while each epoch differs.
    """

    def __init__(
        self,
        x: npt.ArrayLike,
        t: npt.ArrayLike,
        batch_size: int,
        shuffle: bool = True,
        drop_last: bool = False,
        seed: int | np.random.Generator | None = None,
    ) -> None:
        self.x = np.asarray(x)
        self.t = np.asarray(t)
        _check_batch_args(self.x, self.t, batch_size)
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self._rng = _rng(seed)

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        rng = self._rng if self.shuffle else None
        return _batches(self.x, self.t, self.batch_size, self.shuffle, self.drop_last, rng)

    def __len__(self) -> int:
        """Number of batches per epoch."""
        n = len(self.x)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __repr__(self) -> str:
        return (
            f"DataLoader(n={len(self.x)}, batch_size={self.batch_size}, "
            f"shuffle={self.shuffle}, drop_last={self.drop_last}, batches={len(self)})"
        )
