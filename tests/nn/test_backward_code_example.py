"""examples/backward_code.py: the book's layers and the traced program agree on real MNIST."""

from __future__ import annotations

from .test_examples import load_example


def test_backward_code_example(mnist_loader, monkeypatch, capsys):
    example = load_example("backward_code", mnist_loader, monkeypatch)
    differences = example.main(["--batch-size", "30", "--hidden", "8"])
    assert set(differences) == {"W1", "b1", "W2", "b2"}
    assert all(d < 1e-12 for d in differences.values())
    out = capsys.readouterr().out
    assert "def forward_backward(x, t, W1, b1, W2, b2):" in out
    assert "dW2 = z1.T @ dout" in out and "dout = dout @ W2.T" in out
    assert "dx = np.dot(dout, self.W.T)" in out  # the book's Affine.backward, printed beside
