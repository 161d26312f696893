"""The module system: parameter discovery and names, zero_grad, state dicts, and .npz files that
are written atomically and refuse to load into the wrong architecture."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from autograd import Tensor
from nn import Affine, Module, Relu, Sequential, TwoLayerNet


def rand(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


class Residual(Module):
    """A user-defined module: parameters and children are found from its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = Tensor(np.ones(3))
        self.blocks = [Affine(rand(3, 3), np.zeros(3), name="inner")]
        self.constant = Tensor(np.ones(3), requires_grad=False)  # not a parameter

    def forward(self, x):
        return x + self.scale * self.blocks[0](x)


def test_sequential_numbers_layers_like_the_book_and_keeps_given_names():
    seq = Sequential(
        Affine(rand(4, 3), np.zeros(3)),
        Relu(),
        Affine(rand(3, 2), np.zeros(2), name="head"),
        Relu(),
    )
    assert list(seq.layers) == ["Affine1", "Relu1", "head", "Relu2"]
    assert [layer.name for layer in seq.layers.values()] == list(seq.layers)
    assert [key for key, _ in seq.named_parameters()] == [
        "Affine1.W",
        "Affine1.b",
        "head.W",
        "head.b",
    ]
    out = seq(rand(5, 4))
    expected = np.maximum(
        np.maximum(rand(5, 4) @ seq.layers["Affine1"].W, 0) @ seq.layers["head"].W, 0
    )
    np.testing.assert_allclose(out.data, expected)


def test_sequential_refuses_a_repeated_instance_and_duplicate_names():
    relu = Relu()
    with pytest.raises(ValueError, match="appears twice"):
        Sequential(relu, relu)
    with pytest.raises(ValueError, match="two layers are named 'x'"):
        Sequential(Relu(name="x"), Relu(name="x"))


def test_sequential_refuses_a_layer_class_or_a_function():
    """Both were "'...' has no attribute 'name'" from inside the constructor."""
    with pytest.raises(TypeError, match=r"layer 1 is the class Relu; pass an instance, Relu\(\)"):
        Sequential(Affine.create(3, 2), Relu)
    with pytest.raises(TypeError, match="layer 0 is a function, not an nn layer"):
        Sequential(lambda x: x)


def test_parameters_are_found_from_attributes_and_shared_ones_listed_once():
    model = Residual()
    keys = [key for key, _ in model.named_parameters()]
    assert keys == ["scale", "inner.W", "inner.b"]
    shared = Affine(rand(2, 2), np.zeros(2))
    twice = Sequential(shared, Relu(), Affine(shared.weight, shared.bias))
    assert len(twice.parameters()) == 2


def test_children_with_the_same_name_are_an_error_not_a_silent_overwrite():
    model = Residual()
    model.blocks.append(Affine(rand(3, 3), np.zeros(3), name="inner"))
    with pytest.raises(ValueError, match="both named 'inner'"):
        model.parameters()


def test_zero_grad_clears_every_gradient():
    model = Residual()
    model(Tensor(rand(2, 3))).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_forward_must_be_defined():
    with pytest.raises(NotImplementedError, match="Module does not define forward"):
        Module()(1)


# --- state dicts ---------------------------------------------------------------------------------
def test_state_dict_is_a_snapshot():
    net = TwoLayerNet(4, 3, 2, rng=0)
    state = net.state_dict()
    assert list(state) == ["W1", "b1", "W2", "b2"]
    net.params["W1"] += 1.0
    assert not np.array_equal(state["W1"], net.params["W1"])


def test_load_state_dict_copies_in_place_so_shared_arrays_stay_shared():
    net, other = TwoLayerNet(4, 3, 2, rng=0), TwoLayerNet(4, 3, 2, rng=1)
    W1 = net.params["W1"]
    net.load_state_dict(other.state_dict())
    assert net.params["W1"] is W1 is net.layers["Affine1"].W
    for key in net.params:
        np.testing.assert_array_equal(net.params[key], other.params[key])


def test_load_state_dict_names_a_missing_parameter():
    net = TwoLayerNet(4, 3, 2)
    state = net.state_dict()
    del state["b2"]
    with pytest.raises(ValueError, match=r"missing parameter\(s\) 'b2' \(shape \(2,\)\)"):
        net.load_state_dict(state)


def test_load_state_dict_names_a_misshaped_parameter_and_changes_nothing():
    net = TwoLayerNet(4, 3, 2, rng=0)
    before = net.state_dict()
    state = TwoLayerNet(4, 3, 2, rng=1).state_dict()
    state["W2"] = np.zeros((3, 5))
    with pytest.raises(ValueError, match=r"'W2' has shape \(3, 5\) in the state but \(3, 2\)"):
        net.load_state_dict(state)
    for key, value in before.items():  # W1 came first but was not written either
        np.testing.assert_array_equal(net.params[key], value)


def test_load_state_dict_takes_only_a_dict():
    net = TwoLayerNet(4, 3, 2)
    for wrong in (None, list(net.state_dict().items())):  # were "not iterable", "missing W1"
        with pytest.raises(TypeError, match="takes a dict of arrays by key"):
            net.load_state_dict(wrong)


def test_load_state_dict_rejects_unknown_keys():
    net = TwoLayerNet(4, 3, 2)
    state = {**net.state_dict(), "W3": np.zeros(1)}
    with pytest.raises(ValueError, match="unexpected parameter\\(s\\) 'W3'"):
        net.load_state_dict(state)


# --- files ---------------------------------------------------------------------------------------
def test_save_load_round_trip(tmp_path):
    net = TwoLayerNet(6, 5, 3, rng=0)
    path = tmp_path / "net.npz"
    net.save(path)
    copy = TwoLayerNet(6, 5, 3, rng=1).load(path)
    x = rand(4, 6)
    np.testing.assert_array_equal(copy.predict(x).data, net.predict(x).data)
    with np.load(path) as archive:
        assert sorted(archive.files) == ["W1", "W2", "b1", "b2"]


def test_float64_file_loads_into_a_float32_model(tmp_path):
    net = TwoLayerNet(6, 5, 3, rng=0)
    net.save(tmp_path / "net.npz")
    small = TwoLayerNet(6, 5, 3, dtype=np.float32).load(tmp_path / "net.npz")
    assert small.params["W1"].dtype == np.float32
    np.testing.assert_allclose(small.params["W1"], net.params["W1"], rtol=1e-6)


def test_loading_into_another_architecture_names_the_file_and_parameter(tmp_path):
    path = tmp_path / "net.npz"
    TwoLayerNet(6, 5, 3).save(path)
    with pytest.raises(ValueError, match=r"net\.npz: .*'W1' has shape \(6, 5\)"):
        TwoLayerNet(6, 4, 3).load(path)


def test_save_is_atomic_a_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "net.npz"
    old = TwoLayerNet(6, 5, 3, rng=0)
    old.save(path)
    before = path.read_bytes()

    def crash(file, array, **options):
        file.write(b"half an array")
        raise OSError("disk full")

    monkeypatch.setattr(np.lib.format, "write_array", crash)
    with pytest.raises(OSError, match="disk full"):
        TwoLayerNet(6, 5, 3, rng=1).save(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["net.npz"]  # no temporary file left behind


def test_save_writes_exactly_the_given_path(tmp_path):
    path = tmp_path / "weights.bin"
    TwoLayerNet(2, 2, 2).save(path)
    assert os.listdir(tmp_path) == ["weights.bin"]
    TwoLayerNet(2, 2, 2).load(path)


def test_layers_draw_as_named_clusters() -> None:
    """Calling a module marks what it creates, so a drawing shows one cluster per layer."""
    from nn import TwoLayerNet
    from viz import draw

    net = TwoLayerNet(6, 4, 3, rng=0)
    x = np.random.default_rng(0).random((5, 6))
    loss = net.lastLayer(net(x), np.array([0, 1, 2, 0, 1]))
    loss.backward()
    source = draw(loss).source
    for layer in ("Affine1", "Relu1", "Affine2", "SoftmaxWithLoss"):
        assert f"label=<<B>{layer}</B>>" in source
    assert source.count("subgraph cluster") == 4
    for name in ("x", "W1", "b1", "W2", "b2"):
        assert f"label=<{name}>" in source


def test_saved_files_get_ordinary_permissions_and_missing_folders_are_created(
    tmp_path: Path,
) -> None:
    from nn import TwoLayerNet

    net = TwoLayerNet(3, 2, 2, rng=0)
    path = tmp_path / "w.npz"
    net.save(path)
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask  # what open() would give
    net.save(tmp_path / "missing" / "deeper" / "w.npz")  # as draw().save does
    TwoLayerNet(3, 2, 2).load(tmp_path / "missing" / "deeper" / "w.npz")


def test_a_module_name_must_be_a_non_empty_string() -> None:
    """Names key parameters and label drawings; a layer call opens a region of that name."""
    for bad in ("", 3):
        with pytest.raises(ValueError, match="Relu: name must be a non-empty string"):
            Relu(name=bad)  # type: ignore[arg-type]


def test_a_layer_call_marks_its_tensors_and_closes_its_region_on_errors() -> None:
    from autograd import current_region, region_of

    class Fails(Module):
        def forward(self, x):
            raise RuntimeError("inside")

    layer = Affine(rand(3, 2), np.zeros(2), name="Affine7")
    assert region_of(layer(rand(4, 3))).name == "Affine7"  # type: ignore[union-attr]
    with pytest.raises(RuntimeError, match="inside"):
        Fails()(1)
    assert current_region() is None
