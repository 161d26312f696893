"""Numbers as people write them."""

import numpy as np
import pytest

from viz.format import number, shape_dtype, shown, values


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


def test_shown_uses_the_minus_sign_of_the_formulas() -> None:
    assert shown(-2.5) == "−2.5" and shown(1.2e-8) == "1.2e−08" and shown(float("-inf")) == "−inf"


def test_small_arrays_in_full_a_matrix_row_by_row() -> None:
    assert values(np.array([1.0, 2.5, 3.0])) == "[1, 2.5, 3]"
    assert values(np.array([[1.0, 2.0], [3.0, 4.0]])) == "[1, 2]\n[3, 4]"
    assert (
        values(np.arange(16.0).reshape(2, 8))
        == "[0, 1, 2, 3, 4, 5, 6, 7]\n[8, 9, 10, 11, 12, 13, 14, 15]"
    )
    assert values(np.ones(12)) == "[" + ", ".join(["1"] * 12) + "]"  # up to 16: in full


def test_large_arrays_summarised_by_range_and_first_entries() -> None:
    data = np.full((100, 50), 0.12)
    assert values(data) == "all 0.12"
    assert values(np.ones(17)) == "all 1"
    assert values(np.arange(20.0) - 5) == "min −5 max 14\n[−5, −4, −3, −2, …]"
    assert shape_dtype(data) == "(100, 50) float64"
    assert shape_dtype(np.zeros(3, dtype=np.float32)) == "(3,) float32"


def test_summaries_are_right_with_inf_and_nan() -> None:
    # issue 7: an array holding inf was summarised as "mean 0 std nan"
    with_inf = np.r_[np.zeros(19), np.inf]
    assert values(with_inf) == "min 0 max inf\n[0, 0, 0, 0, …]"
    with_nan = np.r_[np.ones(18), np.nan, -np.inf]
    assert values(with_nan) == "min −inf max 1, 1 nan\n[1, 1, 1, 1, …]"
    assert values(np.full(20, np.nan)) == "all nan"
    assert values(np.full(20, -np.inf)) == "all −inf"
    assert values(np.array([np.inf, np.nan])) == "[inf, nan]"
