"""Supervisor PINs: scrypt hashes, checked in constant time, never the PIN itself."""

from __future__ import annotations

import pytest

from balagh.supervise import hash_pin, valid_pin, verify_pin
from balagh.supervise.pins import is_pin_hash


def test_a_hash_names_its_parameters_and_verifies() -> None:
    hashed = hash_pin("2468")
    scheme, n, r, p, salt, key = hashed.split("$")
    assert (scheme, n, r, p) == ("scrypt", "16384", "8", "1")
    assert salt and key and "2468" not in hashed
    assert verify_pin("2468", hashed)
    assert is_pin_hash(hashed)


def test_every_hash_has_its_own_salt() -> None:
    first, second = hash_pin("2468"), hash_pin("2468")
    assert first != second
    assert verify_pin("2468", first) and verify_pin("2468", second)


@pytest.mark.parametrize("wrong", ["2469", "246", "24680", "", "٢٤٦٨"])
def test_a_wrong_pin_fails(wrong: str) -> None:
    assert not verify_pin(wrong, hash_pin("2468"))


@pytest.mark.parametrize("hashed", [
    "", "2468", "scrypt", "scrypt$16384$8$1$$", "bcrypt$16384$8$1$AAAAAAAAAAA=$AAAA",
    "scrypt$x$8$1$qVt51G6NBTkxBJK8WaMJUQ==$pxGnkezJKjwj5oaQvhvFxsdw1I55UeJl/NLbjInBGwg=",
    "scrypt$16384$8$1$not base64!$pxGnkezJKjwj5oaQvhvFxsdw1I55UeJl/NLbjInBGwg=",
    "scrypt$1000$8$1$qVt51G6NBTkxBJK8WaMJUQ==$pxGnkezJKjwj5oaQvhvFxsdw1I55UeJl/NLbjInBGwg=",
    # a tampered file must not make a check take all the memory
    "scrypt$1073741824$8$1$qVt51G6NBTkxBJK8WaMJUQ==$pxGnkezJKjwj5oaQvhvFxsdw1I55UeJl/NLbjInBGwg=",
    "scrypt$16384$8$1$qVt51G6NBTkxBJK8WaMJUQ==$pxGnkezJKjwj5oaQ",
])
def test_a_malformed_hash_is_false_not_an_error(hashed: str) -> None:
    assert verify_pin("2468", hashed) is False
    assert not is_pin_hash(hashed)


def test_a_non_string_is_not_a_hash() -> None:
    assert verify_pin("2468", None) is False  # type: ignore[arg-type]
    assert not is_pin_hash(1234)


@pytest.mark.parametrize(("pin", "ok"), [
    ("1234", True), ("12345678", True), ("0000", True),
    ("123", False), ("123456789", False), ("12a4", False), ("12 34", False), ("", False),
    ("١٢٣٤", False), ("1234\n", False), (1234, False), (None, False),
])
def test_valid_pins_are_4_to_8_digits(pin: object, ok: bool) -> None:
    assert valid_pin(pin) is ok
