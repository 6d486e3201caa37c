"""Consent is yes only when said, on a number we have."""

from balagh.consent import CONSENT_QUESTION, may_contact


def test_yes_on_a_known_number_allows_contact() -> None:
    assert may_contact({CONSENT_QUESTION: "yes"}, "+971501234567")


def test_unanswered_means_no() -> None:
    assert not may_contact({}, "+971501234567")
    assert not may_contact({CONSENT_QUESTION: None}, "+971501234567")


def test_no_means_no() -> None:
    assert not may_contact({CONSENT_QUESTION: "no"}, "+971501234567")


def test_a_withheld_or_redacted_number_means_no_whatever_was_said() -> None:
    assert not may_contact({CONSENT_QUESTION: "yes"}, None)
    assert not may_contact({CONSENT_QUESTION: "yes"}, "")
    assert not may_contact({CONSENT_QUESTION: "yes"}, "[redacted]")
