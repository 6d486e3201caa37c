"""The FastAGI route's pure parts: answers from channel variables, the AGI wire format,
the caller's read-back, and the pure-dialplan menu kept in step with config/ivr.yaml."""

from __future__ import annotations

import re

import pytest

from balagh.config import load_settings
from balagh.config.yamlsrc import ConfigError
from balagh.fastagi.answers import Given, answer_variables, read_answers
from balagh.fastagi.channel import call_info
from balagh.fastagi.protocol import BadSession, parse_headers, parse_reply, quoted, script_name
from balagh.fastagi.route import readback
from balagh.ivr.menu import Menu, load_menu
from balagh.routing import Decision

from .shipped import IVR_FILE, REPO

DIALPLAN_MENU = REPO / "dialplan" / "extensions_balagh_dialplan.conf"


@pytest.fixture(scope="module")
def menu() -> Menu:
    return load_menu(IVR_FILE)


def test_the_variables_follow_the_menu(menu):
    assert answer_variables(menu) == ("BALAGH_LANGUAGE", "BALAGH_DANGER", "BALAGH_AGE",
                                      "BALAGH_GENDER", "BALAGH_EMIRATE", "BALAGH_CONDITION",
                                      "BALAGH_ENDED")


def test_keys_are_mapped_through_the_menu(menu):
    read = read_answers({"BALAGH_LANGUAGE": "2", "BALAGH_DANGER": "1", "BALAGH_AGE": "1",
                         "BALAGH_GENDER": "2", "BALAGH_EMIRATE": "3",
                         "BALAGH_CONDITION": "0"}, menu)
    assert read.errors == ()
    assert {q: g.value for q, g in read.answers.items()} == {
        "language": "en", "danger": "yes", "age": "child", "gender": "female",
        "emirate": "sharjah", "condition": "none"}
    assert read.answers["age"] == Given("child", "1")


def test_answer_values_are_taken_as_they_are_with_their_key(menu):
    read = read_answers({"BALAGH_LANGUAGE": "ar", "BALAGH_DANGER": "no",
                         "BALAGH_AGE": " elderly ", "BALAGH_GENDER": "male",
                         "BALAGH_EMIRATE": "fujairah", "BALAGH_CONDITION": "psychiatric"}, menu)
    assert read.errors == ()
    assert read.answers["age"] == Given("elderly", "3")
    assert read.answers["condition"] == Given("psychiatric", "2")


def test_invalid_values_are_named_with_their_value_and_left_out(menu):
    read = read_answers({"BALAGH_LANGUAGE": "fr", "BALAGH_DANGER": "1", "BALAGH_AGE": "7",
                         "BALAGH_GENDER": "female", "BALAGH_EMIRATE": "2",
                         "BALAGH_CONDITION": "0"}, menu)
    assert set(read.answers) == {"danger", "gender", "emirate", "condition"}
    assert read.errors == (
        "BALAGH_LANGUAGE='fr': not a key or answer of 'language' (1=ar, 2=en)",
        "BALAGH_AGE='7': not a key or answer of 'age' (1=child, 2=adult, 3=elderly)")
    assert "; " in read.error_text


def test_missing_variables_on_the_callers_path_are_named(menu):
    read = read_answers({"BALAGH_AGE": "1", "BALAGH_LANGUAGE": ""}, menu)
    assert read.answers == {"age": Given("child", "1")}
    assert read.errors == ("BALAGH_LANGUAGE: missing", "BALAGH_DANGER: missing",
                           "BALAGH_GENDER: missing", "BALAGH_EMIRATE: missing",
                           "BALAGH_CONDITION: missing")


def test_nothing_at_all_is_all_missing_but_still_routable(menu):
    read = read_answers({}, menu)
    assert read.answers == {} and len(read.errors) == 6


def test_danger_key_ends_the_menu_and_means_danger(menu):
    read = read_answers({"BALAGH_LANGUAGE": "2", "BALAGH_DANGER": "2", "BALAGH_AGE": "1",
                         "BALAGH_ENDED": "danger-key"}, menu)
    assert read.errors == ()  # the questions after the danger key are not missing
    assert read.ended == "danger-key"
    assert read.answers["danger"] == Given("yes", "9")
    # The danger key as the danger question's own answer.
    assert read_answers({"BALAGH_DANGER": "9"}, menu).answers["danger"] == Given("yes", "9")


def test_no_answer_ending_names_the_question(menu):
    read = read_answers({"BALAGH_LANGUAGE": "1", "BALAGH_ENDED": "no-answer:danger"}, menu)
    assert read.errors == () and read.ended == "no-answer:danger"


@pytest.mark.parametrize("ended", ["no-answer:shoe-size", "later", "no-answer:"])
def test_an_unknown_ending_is_an_error(menu, ended):
    read = read_answers({"BALAGH_ENDED": ended}, menu)
    assert read.ended is None
    assert read.errors[0].startswith("BALAGH_ENDED=")


def test_values_quoted_in_errors_cannot_break_the_dialplan_or_a_log(menu):
    read = read_answers({"BALAGH_AGE": 'x"; Hangup()\n\\' + "y" * 100}, menu)
    shown = read.errors[0]
    value = shown.split(":")[0]
    assert not {'"', "\n", "\\", ";"} & set(value)
    assert len(shown) < 140


# -- the wire format ---------------------------------------------------------------

HEADERS = (b"agi_network: yes\nagi_network_script: route\nagi_request: agi://127.0.0.1/route\n"
           b"agi_channel: PJSIP/softphone-00000001\nagi_language: ar\nagi_uniqueid: 1700.1\n"
           b"agi_callerid: +97165551234\nagi_dnid: 800701\nagi_arg_1: x: y\n")


def test_headers_are_parsed_and_make_the_call_info():
    headers = parse_headers(HEADERS)
    assert headers["agi_arg_1"] == "x: y"
    assert script_name(headers) == "route"
    info = call_info(headers)
    assert (info.call_id, info.channel, info.caller, info.hotline) == (
        "1700.1", "PJSIP/softphone-00000001", "+97165551234", "800701")
    assert call_info({**headers, "agi_callerid": "anonymous"}, "800700").caller is None
    assert call_info({**headers, "agi_dnid": "unknown"}).hotline is None
    assert script_name({"agi_network_script": "/route?x=1"}) == "route"


@pytest.mark.parametrize("block", [
    b"GET / HTTP/1.1\nHost: example\n",
    b"\xff\xfe\x00garbage\n",
    b"agi_network: yes\n",                       # no script, channel or uniqueid
    b"agi_network_script route\nagi_uniqueid: 1\n",
    b"",
], ids=["http", "binary", "incomplete", "no-colon", "empty"])
def test_wrong_headers_are_a_bad_session(block):
    with pytest.raises(BadSession):
        parse_headers(block)


def test_replies():
    assert parse_reply("200 result=1 (child (under 18))\n").data == "child (under 18)"
    unset = parse_reply("200 result=0")
    assert unset is not None and (unset.result, unset.data) == ("0", None)
    assert parse_reply("511 Command Not Permitted on a dead channel").code == 511
    assert parse_reply("520-Invalid command syntax.").code == 520
    assert parse_reply("HANGUP") is None and parse_reply("") is None


def test_quoted_arguments_escape_what_res_agi_reads():
    assert quoted('a "b" \\ c') == '"a \\"b\\" \\\\ c"'
    assert quoted("two\nlines") == '"two lines"'


# -- what the caller hears before the queue ----------------------------------------

def test_readback_as_on_the_ari_path():
    plain = Decision("child", "child-protection", 10)
    assert readback(plain, "407", None) == ("balagh/reference&balagh/digit-4&balagh/digit-0&"
                                            "balagh/digit-7&balagh/connecting")
    assert readback(plain, "407", "danger-key") == ""
    announced = Decision("night", "social-welfare", 0, announce="night-service")
    assert readback(announced, "1", "no-answer:age") == "balagh/night-service"
    assert readback(announced, "1", None).startswith("balagh/night-service&balagh/reference")


# -- the pure-dialplan menu is config/ivr.yaml's ------------------------------------

def test_the_dialplan_menu_asks_the_shipped_menus_questions_with_its_keys(menu, tmp_path):
    text = DIALPLAN_MENU.read_text(encoding="utf-8")
    asked = re.findall(r"Gosub\(balagh-menu-ask,s,1\((\w+),([\w-]+),(\d+),(\w*)\)\)", text)
    consent = [ask for ask in asked if ask[0] == "CONTACT_SAFE"]
    asked = [ask for ask in asked if ask[0] != "CONTACT_SAFE"]
    assert [(q.lower(), prompt) for q, prompt, _, _ in asked] == [
        (question.id, question.prompt) for question in menu.questions]
    for (_, _, keys, default), question in zip(asked, menu.questions, strict=True):
        assert sorted(keys) == sorted(question.options)
        assert (default or None) == question.default
    assert f"Set(BALAGH_DANGER_KEY={menu.danger_key})" in text
    attempts = {question.attempts for question in menu.questions}
    assert attempts == {3} and "Set(BALAGH_ATTEMPTS=3)" in text
    assert {question.timeout for question in menu.questions} == {5.0}
    assert menu.longer_timeouts is not None and menu.longer_timeouts.timeout == 10
    language = menu.language_question
    assert dict(language.options) == {"1": "ar", "2": "en"}
    assert '${IF($["${BALAGH_LANGUAGE}" = "2"]?en:ar)}' in text
    assert "AGI(agi://127.0.0.1:4573/route)" in text
    # The consent question: off as in the shipped ivr.yaml, the same prompt and keys as its
    # commented block, no key meaning no.
    assert menu.consent is None
    assert 'Set(BALAGH_ASK_CONSENT=${IF($["${BALAGH_ASK_CONSENT}" = "1"]?1:0)})' in text
    block = load_menu(_with_the_consent_block_on(tmp_path)).consent
    assert block is not None and consent == [
        ("CONTACT_SAFE", block.question.prompt, "".join(sorted(block.question.options)),
         next(key for key, value in block.question.options.items() if value == "no"))]
    assert f"Set(BALAGH_ATTEMPTS={block.question.attempts})" in text


def _with_the_consent_block_on(tmp_path):
    shipped = IVR_FILE.read_text(encoding="utf-8")
    at = shipped.index("# consent:")
    on = "".join(line.removeprefix("# ") for line in shipped[at:].splitlines(True))
    path = tmp_path / "ivr.yaml"
    path.write_text(shipped[:at] + on, encoding="utf-8")
    return path


# -- settings --------------------------------------------------------------------------

def test_fastagi_settings_default_on_loopback_and_can_be_switched_off(tmp_path):
    shipped = load_settings(environ={})
    assert (shipped.fastagi.enabled, shipped.fastagi.host, shipped.fastagi.port) == (
        True, "127.0.0.1", 4573)
    config = tmp_path / "balagh.yaml"
    config.write_text("fastagi:\n  enabled: false\n  port: 4599\n  host: '::1'\n")
    mine = load_settings(config, environ={})
    assert (mine.fastagi.enabled, mine.fastagi.host, mine.fastagi.port) == (False, "::1", 4599)
    assert load_settings(config, environ={"BALAGH_FASTAGI_ENABLED": "yes"}).fastagi.enabled


@pytest.mark.parametrize(("text", "problem"), [
    ("fastagi:\n  host: 0.0.0.0\n", "loopback"),
    ("fastagi:\n  host: 192.168.1.10\n", "loopback"),
    ("fastagi:\n  enabled: maybe\n", "true or false"),
    ("fastagi:\n  port: 70000\n", "port"),
])
def test_fastagi_settings_refuse_what_would_open_it_up_or_make_no_sense(tmp_path, text, problem):
    config = tmp_path / "balagh.yaml"
    config.write_text(text)
    with pytest.raises(ConfigError, match=problem):
        load_settings(config, environ={})


def test_the_consent_answer_is_read_apart_only_with_the_block(menu, tmp_path):
    with_block = load_menu(_with_the_consent_block_on(tmp_path))
    assert "BALAGH_CONTACT_SAFE" not in answer_variables(menu)
    assert answer_variables(with_block)[-2:] == ("BALAGH_CONTACT_SAFE", "BALAGH_ENDED")
    given = read_answers({"BALAGH_LANGUAGE": "1", "BALAGH_CONTACT_SAFE": "1"}, with_block)
    assert given.consent == Given("yes", "1") and "contact_safe" not in given.answers
    assert read_answers({"BALAGH_CONTACT_SAFE": "no"}, with_block).consent == Given("no", "2")
    wrong = read_answers({"BALAGH_CONTACT_SAFE": "7"}, with_block)
    assert wrong.consent is None
    assert "BALAGH_CONTACT_SAFE='7': not a key or answer of 'contact_safe'" in wrong.error_text
    assert read_answers({"BALAGH_CONTACT_SAFE": "1"}, menu).consent is None
