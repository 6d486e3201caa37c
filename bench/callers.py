"""How each kind of bench caller presses keys (pure: when, after a prompt starts).

  ahead    all keys typed at once when the call is answered (a caller who knows the menu)
  barge    each key 0.3 s after its question's prompt starts (cuts the prompt)
  option   each key when its option has been spoken: options are taken as evenly spread
           over the prompt, in their spoken order (ivr.yaml lists them so)
  end      each key when the prompt has played to its end (the whole menu heard)
  silent   no key at all
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

BARGE_SECONDS = 0.3
MODES = ("ahead", "barge", "option", "end", "silent")

Lengths = Mapping[str, Mapping[str, float]]  # language -> prompt -> seconds


def prompt_lengths(sounds_dir: Path, languages: Sequence[str]) -> dict[str, dict[str, float]]:
    from balagh.sounds.wav import inspect_wav

    return {lang: {path.stem: inspect_wav(path).duration
                   for path in sorted((sounds_dir / lang / "balagh").glob("*.wav"))}
            for lang in languages}


def caller_language(keys: Sequence[str], language_keys: Mapping[str, str],
                    default: str) -> str:
    """The language the caller chose with their first key (the language question's)."""
    return language_keys.get(keys[0], default) if keys else default


def press_delay(mode: str, prompt: str, key: str, spoken_keys: Sequence[str],
                language: str, lengths: Lengths) -> float | None:
    """Seconds after `prompt` starts at which the caller presses `key` (None: not at all)."""
    length = lengths.get(language, {}).get(prompt, 0.0)
    if mode == "barge":
        return BARGE_SECONDS
    if mode == "end":
        return length
    if mode == "option":
        position = spoken_keys.index(key) + 1 if key in spoken_keys else len(spoken_keys)
        return length * position / max(1, len(spoken_keys))
    return None


def menu_seconds(prompts: Sequence[str], language: str, lengths: Lengths) -> float:
    """How long the prompts take when each is heard to its end."""
    return sum(lengths.get(language, {}).get(prompt, 0.0) for prompt in prompts)
