"""Everything a caller hears: the prompt catalogue (sounds/prompts.yaml) and its audio.

One concern per module:

- catalogue: prompts.yaml loaded and checked into a Catalogue
- files: where a prompt's audio lives (sounds/<lang>/balagh/<id>.wav), atomic copies
- synth: placeholder audio with espeak-ng and sox, and the manifest of what we made
- wav: WAV inspection (format, loudness, clipping, length)
- check: every prompt a call can play, judged in every language
- install: copy the audio into a PBX's sounds folder
- script: the catalogue as a numbered script for the voice artist

(Not to be confused with the data folder sounds/ at the top of a checkout.)
"""

from __future__ import annotations

from balagh.sounds.catalogue import CATALOGUE_FILE, Catalogue, catalogue_path, load_catalogue
from balagh.sounds.check import CheckRow, check_prompts, prompts_needed
from balagh.sounds.files import audio_path, missing_audio
from balagh.sounds.install import install_prompts
from balagh.sounds.script import ScriptLine, script
from balagh.sounds.synth import MANIFEST, generate

__all__ = [
    "CATALOGUE_FILE",
    "MANIFEST",
    "Catalogue",
    "CheckRow",
    "ScriptLine",
    "audio_path",
    "catalogue_path",
    "check_prompts",
    "generate",
    "install_prompts",
    "load_catalogue",
    "missing_audio",
    "prompts_needed",
    "script",
]
