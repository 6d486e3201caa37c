"""Which steady tones a recording holds: the e2e tests' ears.

Each party of a monitored call speaks its own tone (caller 600 Hz, agent 1000 Hz,
supervisor 1800 Hz); a Goertzel filter per tone over 100 ms frames tells which of them
a leg's recording heard, and for how long.
"""

from __future__ import annotations

import math
import wave
from array import array
from pathlib import Path

CALLER_HZ = 600
AGENT_HZ = 1000
SUPERVISOR_HZ = 1800
FRAME_SECONDS = 0.1
# A frame "has" a tone when that frequency carries this share of the frame's energy.
SHARE = 0.2
MIN_LEVEL = 1e-4  # frames quieter than this (of full scale, squared) count as silence


def tone_seconds(path: Path, frequencies: tuple[int, ...] = (CALLER_HZ, AGENT_HZ,
                                                            SUPERVISOR_HZ)) -> dict[int, float]:
    """Seconds of the recording in which each frequency is clearly present."""
    with wave.open(str(path), "rb") as wav:
        rate, width = wav.getframerate(), wav.getsampwidth()
        assert width == 2 and wav.getnchannels() == 1, "expects 16-bit mono"
        samples = array("h", wav.readframes(wav.getnframes()))
    size = int(rate * FRAME_SECONDS)
    found = dict.fromkeys(frequencies, 0.0)
    for start in range(0, len(samples) - size + 1, size):
        frame = [s / 32768.0 for s in samples[start:start + size]]
        energy = sum(x * x for x in frame) / size
        if energy < MIN_LEVEL:
            continue
        for hz in frequencies:
            if _goertzel_power(frame, rate, hz) / energy >= SHARE:
                found[hz] += FRAME_SECONDS
    return found


def _goertzel_power(frame: list[float], rate: int, hz: int) -> float:
    """Mean power of `frame` at `hz`, on the same scale as the mean square of the frame."""
    n = len(frame)
    coeff = 2 * math.cos(2 * math.pi * hz / rate)
    prev = prev2 = 0.0
    for x in frame:
        prev, prev2 = x + coeff * prev - prev2, prev
    power = prev * prev + prev2 * prev2 - coeff * prev * prev2
    return 2 * power / (n * n)


def first_tone(path: Path, hz: int) -> float | None:
    """When `hz` is first clearly present in the recording (seconds from its start)."""
    for start, frame, energy in _frames(path):
        if energy >= MIN_LEVEL and _goertzel_power(frame, 8000, hz) / energy >= SHARE:
            return start
    return None


def sound_seconds(path: Path, until: float) -> float:
    """Seconds of the recording before `until` that are not silence."""
    return sum(FRAME_SECONDS for start, _, energy in _frames(path)
               if start < until and energy >= MIN_LEVEL)


def _frames(path: Path) -> list[tuple[float, list[float], float]]:
    """(start second, samples, mean square) of each 100 ms frame of an 8 kHz recording."""
    with wave.open(str(path), "rb") as wav:
        assert wav.getframerate() == 8000 and wav.getsampwidth() == 2
        samples = array("h", wav.readframes(wav.getnframes()))
    size = int(8000 * FRAME_SECONDS)
    frames = []
    for index, start in enumerate(range(0, len(samples) - size + 1, size)):
        frame = [s / 32768.0 for s in samples[start:start + size]]
        frames.append((index * FRAME_SECONDS, frame, sum(x * x for x in frame) / size))
    return frames
