"""Numbers as people write them."""

import numpy as np
import pytest

from viz.format import number, shape_dtype, values


@pytest.mark.parametrize(
    ("x", "text"),
    [
        (220.00000000000003, "220"),
        (3.3000000000000003, "3.3"),
        (2.2, "2.2"),
        (0.1 + 0.2, "0.3"),
        (715.0000000000001, "715"),
        (110.00000000000001, "110"),
        (1e-8, "1e-08"),
        (1.2e-8, "1.2e-08"),
        (1e12, "1e+12"),
        (3.4e12, "3.4e+12"),
        (-2.5, "-2.5"),
        (0.0, "0"),
        (-0.0, "0"),
        (123456.7, "123457"),
        (0.196611933241, "0.196612"),
        (np.float64(2.2), "2.2"),
        (np.float32(0.1), "0.1"),
        (np.array(650.0000000000001), "650"),
        (7, "7"),
        (float("nan"), "nan"),
        (float("inf"), "inf"),
        (float("-inf"), "-inf"),
    ],
)
def test_number(x: float, text: str) -> None:
    assert number(x) == text


def test_small_arrays_in_full_a_matrix_row_by_row() -> None:
    assert values(np.array([1.0, 2.5, 3.0])) == "[1, 2.5, 3]"
    assert values(np.array([[1.0, 2.0], [3.0, 4.0]])) == "[1, 2]\n[3, 4]"


def test_large_arrays_summarised() -> None:
    data = np.full((100, 50), 0.12)
    assert values(data) == "mean 0.12 std 0"
    assert shape_dtype(data) == "(100, 50) float64"
    assert shape_dtype(np.zeros(3, dtype=np.float32)) == "(3,) float32"


def test_rounding_noise_in_a_mean_is_zero() -> None:
    g = np.array([0.1, -0.1, 0.2, -0.2, 0.3, -0.3, 1e-17])
    assert values(g).startswith("mean 0 std")
