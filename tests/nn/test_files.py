"""Weights files are never lost or clobbered (issue 7, "Files"): `Module.save` refuses what is not
a regular file, writes through symlinks, keeps permissions and names only the user's path;
`Module.load` checks everything before changing a weight and says what a wrong file is."""

from __future__ import annotations

import contextlib
import errno
import gzip
import io
import os
import pickle
import re
import stat
import zipfile
from pathlib import Path

import numpy as np
import pytest

from autograd import Tensor
from autograd.files import write_atomically
from nn import Affine, Module, Sequential, TwoLayerNet
from nn.files import WeightsFileError, read_npz


def weights(net: TwoLayerNet) -> dict[str, np.ndarray]:
    return {key: value.copy() for key, value in net.params.items()}


def assert_unchanged(net: TwoLayerNet, before: dict[str, np.ndarray]) -> None:
    for key, value in before.items():
        np.testing.assert_array_equal(net.params[key], value, err_msg=key)


# --- load: everything checked before anything changes ------------------------------------------
@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (np.full((3, 2), 1 + 2j), r"'W2' holds complex128 values .* float64"),
        (np.full((3, 2), "abc"), r"'W2' holds <U3 values"),
        (np.zeros((2, 3)), r"'W2' has shape \(2, 3\) in the state but \(3, 2\)"),
    ],
)
def test_load_checks_every_parameter_before_changing_any_weight(tmp_path, bad, message):
    """The old load copied W1 and b1, then failed on W2: a half-loaded model."""
    net = TwoLayerNet(4, 3, 2, rng=0)
    before = weights(net)
    state = weights(TwoLayerNet(4, 3, 2, rng=1))
    state["W2"] = bad  # after W1 and b1 in the parameters' order
    np.savez(tmp_path / "w.npz", **state)
    with pytest.raises(ValueError, match=message):
        net.load(tmp_path / "w.npz")
    assert_unchanged(net, before)
    with pytest.raises(ValueError, match=message):
        net.load_state_dict(state)
    assert_unchanged(net, before)


def test_float64_weights_too_large_for_a_float32_model_are_refused_not_made_inf():
    """They were copied as inf, with only numpy's 'overflow encountered in cast' on stderr."""
    net = TwoLayerNet(4, 3, 2, rng=0, dtype=np.float32)
    before = weights(net)
    state = {key: value.astype(np.float64) for key, value in weights(net).items()}
    state["W2"][1, 1] = 1e300
    with pytest.raises(ValueError, match=r"parameter 'W2': 1e\+300 is beyond the largest float32"):
        net.load_state_dict(state)
    assert_unchanged(net, before)
    state["W2"][1, 1] = np.inf  # already inf in the file: loaded as it is, as in float64
    state["W2"][0, 0] = 3e38  # within float32's range
    net.load_state_dict(state)
    assert np.isinf(net.params["W2"][1, 1]) and net.params["W2"][0, 0] == np.float32(3e38)


def test_load_state_dict_refuses_a_path_and_a_ragged_list():
    net = TwoLayerNet(4, 3, 2, rng=0)
    with pytest.raises(TypeError, match=r"takes a dict of arrays; for a file use load\(path\)"):
        net.load_state_dict("w.npz")  # type: ignore[arg-type]
    state: dict = {**weights(net), "b2": [[1.0], [2.0, 3.0]]}
    with pytest.raises(ValueError, match="'b2' is not an array"):
        net.load_state_dict(state)


# --- load: files that are not weights archives --------------------------------------------------
def _npy(path: Path) -> None:
    with open(path, "wb") as f:  # np.save(path) would append .npy to the name
        np.save(f, np.ones(3))


def _text(path: Path) -> None:
    path.write_text("W1 = 0.1, 0.2\nb1 = 0\n")


def _random(path: Path) -> None:
    path.write_bytes(np.random.default_rng(0).bytes(500))


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _pickle(path: Path) -> None:
    path.write_bytes(pickle.dumps({"W1": np.ones(2)}))


def _gzip(path: Path) -> None:
    path.write_bytes(gzip.compress(b"\0" * 100))


def _truncated(path: Path) -> None:
    TwoLayerNet(4, 3, 2, rng=0).save(path)
    path.write_bytes(path.read_bytes()[:300])


def _zip_of_text(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("notes.txt", "hello")


def _objects(path: Path) -> None:
    state = weights(TwoLayerNet(4, 3, 2, rng=0))
    np.savez(path, **{**state, "b2": np.array([None, "x"], dtype=object)}, allow_pickle=True)


def _lying_header(path: Path) -> None:
    """A member whose header promises far more data than it holds (a corrupt or hostile file)."""
    buffer = io.BytesIO()
    np.save(buffer, np.ones(2))
    header = buffer.getvalue().replace(b"'shape': (2,)", b"'shape': (9999999999999,)")
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("W1.npy", header)


def _duplicate(path: Path) -> None:
    """Two members of one name (zip allows it): the later one used to win, silently."""
    members = [*weights(TwoLayerNet(4, 3, 2, rng=0)).items(), ("b1", np.zeros(3))]
    with zipfile.ZipFile(path, "w") as archive:
        for key, array in members:
            buffer = io.BytesIO()
            np.save(buffer, array)
            with contextlib.ExitStack() as stack:
                if f"{key}.npy" in archive.namelist():
                    stack.enter_context(pytest.warns(UserWarning, match="Duplicate name"))
                archive.writestr(f"{key}.npy", buffer.getvalue())


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (_duplicate, r"holds 'b1\.npy' twice, so which weights it means is ambiguous"),
        (_npy, r"a single NumPy array \(\.npy, as np\.save writes\)"),
        (_text, r"a text file \(it begins 'W1 = 0\.1, 0\.2'\)"),
        (_random, r"not a NumPy file \(it begins with the bytes b'"),
        (_empty, r"the file is empty \(0 bytes\)"),
        (_pickle, r"a Python pickle, which is never loaded"),
        (_gzip, r"a gzip-compressed file"),
        (_truncated, r"a truncated or corrupt \.npz archive"),
        (_zip_of_text, r"a zip archive holding 'notes\.txt', which is not a NumPy array"),
        (_objects, r"'b2' holds Python objects \(stored as a pickle\), not numbers"),
        (_lying_header, r"corrupt .*header promises \d+ bytes of data but it holds"),
    ],
    ids=lambda v: getattr(v, "__name__", "")[1:],
)
def test_loading_a_wrong_file_says_what_it_is_and_changes_nothing(tmp_path, make, says):
    path = tmp_path / "weights.npz"
    make(path)
    net = TwoLayerNet(4, 3, 2, rng=5)
    before = weights(net)
    with pytest.raises(WeightsFileError, match=says) as caught:
        net.load(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert "allow_pickle" not in message
    if make not in (_truncated, _lying_header, _objects):
        assert "expected a .npz archive of TwoLayerNet's parameters" in message
    assert_unchanged(net, before)


def test_a_small_archive_that_unpacks_to_gigabytes_is_refused_before_reading(tmp_path):
    """A deflated member of 100 MB of zeros is 0.1 MB on disk (1.6 GB would be 1.6 MB); load
    read all of it into memory before finding that it fits no parameter."""
    path = tmp_path / "bomb.npz"
    shape = (2_500, 5_000)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("W1.npy", "w", force_zip64=True) as member:
            header = io.BytesIO()
            np.lib.format.write_array_header_1_0(
                header, {"descr": "<f8", "fortran_order": False, "shape": shape}
            )
            member.write(header.getvalue())
            zeros = bytes(1_000_000)
            for _ in range(100):
                member.write(zeros)
    assert path.stat().st_size < 1_000_000
    net = TwoLayerNet(4, 3, 2, rng=0)
    before = weights(net)
    refused = r"'W1' is an array of shape \(2500, 5000\) \(100,000,000 bytes\), more than"
    with pytest.raises(WeightsFileError, match=refused):
        net.load(path)
    assert_unchanged(net, before)
    many = tmp_path / "many.npz"  # the budget is for the whole archive, not for each member
    with zipfile.ZipFile(many, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for k in range(3):
            buffer = io.BytesIO()
            np.save(buffer, np.zeros(3_000_000))  # 24 MB each, 72 MB in all
            archive.writestr(f"extra{k}.npy", buffer.getvalue())
    with pytest.raises(WeightsFileError, match=r"'extra2' is an array of shape \(3000000,\)"):
        net.load(many)


def test_a_name_zip_cannot_store_is_refused_and_the_old_file_kept(tmp_path):
    """A module named 'L\\x00one' saved as 'L' (zip names end at a NUL): save succeeded,
    with only zipfile's 'Duplicate name' warning, and the file could never be loaded."""
    model = Sequential(Affine.create(3, 2, name="L\x00one"), Affine.create(2, 2, name="L\x00two"))
    path = tmp_path / "w.npz"
    path.write_bytes(b"old")
    with pytest.raises(ValueError, match=r"'L\\x00one.W': its name holds a NUL character"):
        model.save(path)
    assert path.read_bytes() == b"old" and sorted(p.name for p in tmp_path.iterdir()) == ["w.npz"]


def test_read_npz_round_trips_every_dtype_and_order(tmp_path):
    arrays = {
        "a": np.arange(6.0).reshape(2, 3),
        "f": np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)),
        "scalar": np.array(3.5),
        "empty": np.zeros((0, 4)),
        "ints": np.arange(5, dtype=np.int16),
        "Affine1.W": np.ones(1),
    }
    np.savez_compressed(tmp_path / "x.npz", **arrays)
    loaded = read_npz(tmp_path / "x.npz")
    assert loaded.keys() == arrays.keys()
    for key, value in arrays.items():
        assert loaded[key].dtype == value.dtype and loaded[key].shape == value.shape
        np.testing.assert_array_equal(loaded[key], value)
        assert loaded[key].flags.writeable


def test_a_missing_file_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nothing\.npz"):
        TwoLayerNet(4, 3, 2).load(tmp_path / "nothing.npz")


# --- save: never clobber what is not a weights file ---------------------------------------------
def test_save_refuses_a_folder(tmp_path):
    folder = tmp_path / "out"
    (folder / "keep").mkdir(parents=True)
    with pytest.raises(IsADirectoryError, match=rf"cannot write {folder}: it is a folder"):
        TwoLayerNet(2, 2, 2).save(folder)
    assert (folder / "keep").is_dir()
    with pytest.raises(IsADirectoryError, match="ends in '/'"):
        TwoLayerNet(2, 2, 2).save(f"{tmp_path}/new/")
    assert not (tmp_path / "new").exists()


def test_save_refuses_a_named_pipe_and_a_symlink_to_one(tmp_path):
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    link = tmp_path / "link.npz"
    link.symlink_to(pipe)
    for path, shown in ((pipe, f"{pipe}"), (link, f"{link} (a symlink to {pipe})")):
        with pytest.raises(
            FileExistsError, match=re.escape(f"{shown}: it exists and is a named pipe")
        ):
            TwoLayerNet(2, 2, 2).save(path)
    assert stat.S_ISFIFO(os.stat(pipe).st_mode) and link.is_symlink()
    assert sorted(os.listdir(tmp_path)) == ["link.npz", "pipe"]


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0, reason="creating a device node needs root"
)
def test_save_as_root_leaves_a_character_device_alone(tmp_path):
    """As root the old save replaced a character device with a file."""
    device = tmp_path / "null"
    os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    with pytest.raises(FileExistsError, match="a character device, not a regular file"):
        TwoLayerNet(2, 2, 2).save(device)
    assert stat.S_ISCHR(os.lstat(device).st_mode)


def test_save_writes_through_a_symlink_to_its_target(tmp_path):
    (tmp_path / "runs").mkdir()
    target = tmp_path / "runs" / "best.npz"
    TwoLayerNet(4, 3, 2, rng=0).save(target)
    link = tmp_path / "latest.npz"
    link.symlink_to(Path("runs") / "best.npz")  # relative, as `ln -s` makes them
    net = TwoLayerNet(4, 3, 2, rng=1)
    net.save(link)
    assert link.is_symlink() and os.readlink(link) == str(Path("runs") / "best.npz")
    np.testing.assert_array_equal(TwoLayerNet(4, 3, 2).load(target).params["W1"], net.params["W1"])
    dangling = tmp_path / "next.npz"
    dangling.symlink_to(tmp_path / "later" / "w.npz")
    net.save(dangling)
    assert dangling.is_symlink() and (tmp_path / "later" / "w.npz").is_file()


@pytest.mark.parametrize("name", ["w" * 251 + ".npz", "重" * 83 + "ww.npz"], ids=["ascii", "utf8"])
def test_a_name_as_long_as_the_system_allows_is_saved(tmp_path, name):
    """The temporary file beside the target is named after it, 15 bytes longer: a name of 241
    to 255 bytes, which open() takes, was 'File name too long'."""
    assert len(os.fsencode(name)) == 255
    net = TwoLayerNet(4, 3, 2, rng=0)
    net.save(tmp_path / name)
    np.testing.assert_array_equal(
        TwoLayerNet(4, 3, 2).load(tmp_path / name).params["W1"], net.params["W1"]
    )
    assert os.listdir(tmp_path) == [name]


def test_save_keeps_the_permissions_of_the_file_it_replaces(tmp_path):
    path = tmp_path / "private.npz"
    TwoLayerNet(2, 2, 2).save(path)
    os.chmod(path, 0o600)
    TwoLayerNet(2, 2, 2, rng=1).save(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_save_refuses_a_read_only_file_as_open_would(tmp_path, monkeypatch):
    path = tmp_path / "frozen.npz"
    TwoLayerNet(2, 2, 2).save(path)
    before = path.read_bytes()
    monkeypatch.setattr(os, "access", lambda p, mode: False)  # root may write anything
    with pytest.raises(PermissionError, match=rf"cannot write {path}: the file is read-only"):
        TwoLayerNet(2, 2, 2, rng=1).save(path)
    assert path.read_bytes() == before


def test_save_never_changes_the_umask(tmp_path, monkeypatch):
    """The old save set the umask to 0 for a moment: a file another thread created meanwhile got
    mode 0o666. The temporary file is now created with 0o666 and the umask applies by itself."""
    old = os.umask(0o027)
    try:
        monkeypatch.setattr(os, "umask", lambda *_: pytest.fail("save changed the umask"))
        TwoLayerNet(2, 2, 2).save(tmp_path / "w.npz")
    finally:
        monkeypatch.undo()
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "w.npz").st_mode) == 0o640


@pytest.mark.parametrize("where", ["open", "write", "replace"])
def test_errors_name_the_users_path_never_the_temporary_file(tmp_path, monkeypatch, where):
    path = tmp_path / "w.npz"
    TwoLayerNet(2, 2, 2).save(path)
    before = path.read_bytes()
    real_open = os.open

    def failing_open(name, *args, **kwargs):
        if str(name).endswith(".part"):
            raise PermissionError(errno.EACCES, "Permission denied", str(name))
        return real_open(name, *args, **kwargs)

    def failing_write(file, array, **options):
        raise OSError(errno.ENOSPC, "No space left on device")

    def failing_replace(src, dst):
        raise OSError(errno.EXDEV, "Invalid cross-device link", str(src), str(dst))

    if where == "open":
        monkeypatch.setattr(os, "open", failing_open)
    elif where == "write":
        monkeypatch.setattr(np.lib.format, "write_array", failing_write)
    else:
        monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError) as caught:
        TwoLayerNet(2, 2, 2, rng=1).save(path)
    message = str(caught.value)
    assert f"cannot write {path}: " in message and ".part" not in message, message
    assert caught.value.errno == {"open": errno.EACCES, "write": errno.ENOSPC}.get(
        where, errno.EXDEV
    )
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    monkeypatch.undo()
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["w.npz"]


def test_a_file_where_a_folder_should_be_is_named(tmp_path):
    (tmp_path / "plain").write_text("not a folder")
    with pytest.raises(OSError, match=rf"cannot write {tmp_path}/plain/w.npz: "):
        write_atomically(tmp_path / "plain" / "w.npz", lambda f: f.write(b"x"))


def test_loading_from_a_named_pipe_is_refused_instead_of_waiting(tmp_path):
    os.mkfifo(tmp_path / "w.npz")
    with pytest.raises(WeightsFileError, match=r"w\.npz: this is a named pipe, not a file"):
        TwoLayerNet(2, 2, 2).load(tmp_path / "w.npz")


@pytest.mark.parametrize("name", ["allow_pickle", "file", "arr_0", "Affine1.W"])
def test_a_parameter_of_any_name_is_saved(tmp_path, name):
    """Through np.savez(f, **arrays), a parameter called allow_pickle was silently dropped (numpy
    took it for the flag) and one called file was a TypeError."""

    class Odd(Module):
        pass

    model = Odd()
    setattr(model, name, Tensor(np.arange(3.0)))
    model.save(tmp_path / "odd.npz")
    assert read_npz(tmp_path / "odd.npz").keys() == {name}
    other = Odd()
    setattr(other, name, Tensor(np.zeros(3)))
    np.testing.assert_array_equal(getattr(other.load(tmp_path / "odd.npz"), name).data, [0, 1, 2])
