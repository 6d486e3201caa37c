"""Where a prompt file is heard in a leg's recording: the e2e tests' ears for speech.

Normalised cross-correlation of the prompt's samples against the recording: close to 1
where the recording holds that prompt (even mixed over the queue's music), near 0 for
a prompt that was never played. Both are 8 kHz 16-bit mono (Asterisk's slin).
"""

from __future__ import annotations

import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Match:
    seconds: float  # where in the recording the prompt starts
    score: float    # normalised correlation there, 0..1


def samples(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as wav:
        assert wav.getsampwidth() == 2 and wav.getnchannels() == 1, f"{path}: 16-bit mono"
        data = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
        return data.astype(np.float64), wav.getframerate()


def best_match(recording: np.ndarray, prompt: np.ndarray, rate: int) -> Match:
    template = prompt - prompt.mean()
    size = len(template)
    if len(recording) < size:
        return Match(0.0, 0.0)
    length = 1 << int(np.ceil(np.log2(len(recording) + size)))
    spectrum = np.fft.rfft(recording, length) * np.conj(np.fft.rfft(template, length))
    numerator = np.fft.irfft(spectrum, length)[:len(recording) - size + 1]
    energy = np.concatenate(([0.0], np.cumsum(recording ** 2)))
    windows = energy[size:] - energy[:-size]
    sums = np.concatenate(([0.0], np.cumsum(recording)))
    window_sums = sums[size:] - sums[:-size]
    centred = np.maximum(windows - window_sums ** 2 / size, 1e-9)
    scores = numerator / (np.sqrt(centred) * np.linalg.norm(template))
    best = int(np.argmax(scores))
    return Match(best / rate, float(scores[best]))
