"""Reference numbers: 6 random digits + a Luhn digit, never starting with 0."""

from __future__ import annotations

import pytest

from balagh.store import reference as refs


@pytest.mark.parametrize(
    ("body", "check"),
    [("7992739871", "3"), ("123456", "6"), ("100000", "9"), ("0", "0")],
)
def test_luhn_check_digit_known_values(body: str, check: str) -> None:
    assert refs.luhn_check_digit(body) == check


def test_generated_references_are_valid() -> None:
    for _ in range(5_000):
        reference = refs.generate()
        assert len(reference) == refs.LENGTH == 7
        assert reference.isdigit() and reference[0] != "0"
        assert refs.is_valid(reference)


def test_one_wrong_digit_or_a_swap_is_caught() -> None:
    reference = refs.generate()
    for index in range(1, len(reference)):  # the first digit could turn into a 0
        for digit in "0123456789":
            if digit != reference[index]:
                typo = reference[:index] + digit + reference[index + 1 :]
                assert not refs.is_valid(typo), typo
    assert refs.is_valid("1234566")
    assert not refs.is_valid("1234656")  # neighbours swapped


@pytest.mark.parametrize("text", ["", "5", "0234567", "12345a6", "١٢٣٤٥٦٦", "1234567"])
def test_invalid_references(text: str) -> None:
    assert not refs.is_valid(text)


def test_bad_input() -> None:
    with pytest.raises(ValueError):
        refs.luhn_check_digit("12a")
    with pytest.raises(ValueError):
        refs.generate(0)


def test_space_size() -> None:
    assert refs.space_size() == 900_000
