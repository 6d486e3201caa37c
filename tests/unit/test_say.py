"""Reading a number back, digit by digit."""

from __future__ import annotations

import pytest

from balagh.config import Settings
from balagh.say import DIGIT_PROMPTS, FLOW_PROMPTS, say_digits
from balagh.sounds import load_catalogue


def test_one_prompt_per_digit_in_order() -> None:
    assert say_digits("3307") == ["digit-3", "digit-3", "digit-0", "digit-7"]
    assert say_digits("0") == ["digit-0"]


@pytest.mark.parametrize("number", ["", "12a4", "12 34", "-1", "1.5", "²", "٣٣", "１"])
def test_anything_but_ascii_digits_is_refused(number: str) -> None:
    with pytest.raises(ValueError, match="digits"):
        say_digits(number)


def test_fixed_prompt_ids() -> None:
    assert FLOW_PROMPTS == ("reference", "connecting")
    assert DIGIT_PROMPTS == tuple(f"digit-{d}" for d in range(10))
    assert set(say_digits("0123456789")) == set(DIGIT_PROMPTS)


def test_the_catalogue_has_them_all() -> None:
    catalogue = load_catalogue(Settings().sounds_dir / "prompts.yaml")
    assert set(FLOW_PROMPTS + DIGIT_PROMPTS) <= set(catalogue.ids)
