"""WAV inspection: is a prompt file something Asterisk plays well to a caller?

Pure Python (wave + array), no audioop: it was removed in Python 3.13.
Asterisk plays .wav natively as 8 kHz mono signed 16-bit PCM (its "slin");
anything else is either refused or resampled at every playback.
"""

from __future__ import annotations

import array
import math
import sys
import wave
from dataclasses import dataclass
from pathlib import Path

# What Asterisk's format_wav reads without transcoding.
ASTERISK_RATE = 8000
ASTERISK_CHANNELS = 1
ASTERISK_WIDTH = 2  # bytes per sample

# Limits for a spoken prompt on a phone line.
SILENT_DBFS = -45.0  # quieter than this on average is a blank or broken recording
CLIPPED_RATIO = 0.001  # more than 0.1% of samples at full scale sounds distorted
MIN_SECONDS = 0.2  # shorter than the shortest digit ("six") is a truncated file
MAX_SECONDS = 60.0  # a prompt this long is a wrong file (a whole session, music)

# Problem names, as `balagh sounds check` prints them.
BAD_FORMAT = "BAD FORMAT"
SILENT = "SILENT"
CLIPPED = "CLIPPED"
TOO_SHORT = "TOO SHORT"
TOO_LONG = "TOO LONG"


class AudioError(ValueError):
    """The file is not a PCM WAV file we can read."""


@dataclass(frozen=True, slots=True)
class WavInfo:
    path: Path
    rate: int  # samples per second
    channels: int
    width: int  # bytes per sample
    frames: int
    rms_dbfs: float  # -inf for digital silence
    peak: float  # largest sample as a fraction of full scale, 0..1
    clipped_ratio: float  # share of samples at full scale

    @property
    def duration(self) -> float:
        return self.frames / self.rate if self.rate else 0.0

    @property
    def peak_dbfs(self) -> float:
        return _dbfs(self.peak)

    @property
    def asterisk_format(self) -> bool:
        return (self.rate, self.channels, self.width) == (
            ASTERISK_RATE,
            ASTERISK_CHANNELS,
            ASTERISK_WIDTH,
        )

    @property
    def format_text(self) -> str:
        return f"{self.rate} Hz, {self.channels} ch, {8 * self.width}-bit"


def inspect_wav(path: str | Path) -> WavInfo:
    """Read a PCM WAV file and measure it. Raises AudioError if it is not one."""
    path = Path(path)
    try:
        with wave.open(str(path), "rb") as wav:
            rate, channels, width = wav.getframerate(), wav.getnchannels(), wav.getsampwidth()
            frames = wav.getnframes()
            data = wav.readframes(frames)
    except (wave.Error, EOFError) as exc:
        # wave reads only integer PCM: float, mu-law, MP3-in-WAV end up here.
        raise AudioError(f"{path}: not a PCM WAV file ({exc})") from None
    samples, full_scale = _samples(data, width)
    frames = len(samples) // channels if channels else 0  # a truncated file has fewer frames
    count = len(samples)
    if count == 0:
        return WavInfo(path, rate, channels, width, 0, -math.inf, 0.0, 0.0)
    peak = max(max(samples), -min(samples))
    power = math.fsum(s * s for s in samples) / count
    # Full scale is the negative limit; the positive one is one step short of it.
    clipped = sum(1 for s in samples if s >= full_scale - 1 or s <= -full_scale)
    return WavInfo(
        path=path,
        rate=rate,
        channels=channels,
        width=width,
        frames=frames,
        rms_dbfs=_dbfs(math.sqrt(power) / full_scale),
        peak=min(peak / full_scale, 1.0),
        clipped_ratio=clipped / count,
    )


def problems(info: WavInfo) -> list[str]:
    """What is wrong with this file as an Asterisk prompt; [] when nothing is."""
    found: list[str] = []
    if not info.asterisk_format:
        found.append(BAD_FORMAT)
    if info.duration < MIN_SECONDS:
        found.append(TOO_SHORT)
    elif info.duration > MAX_SECONDS:
        found.append(TOO_LONG)
    if info.rms_dbfs < SILENT_DBFS:
        found.append(SILENT)
    elif info.clipped_ratio > CLIPPED_RATIO:
        found.append(CLIPPED)
    return found


def _dbfs(ratio: float) -> float:
    return 20 * math.log10(ratio) if ratio > 0 else -math.inf


def _samples(data: bytes, width: int) -> tuple[array.array[int], int]:
    """Signed integer samples and the full-scale value for a sample width."""
    usable = len(data) - len(data) % width if width else 0
    data = data[:usable]
    if width == 1:  # 8-bit WAV is unsigned, centred on 128
        return array.array("h", (b - 128 for b in data)), 1 << 7
    if width == 2:
        samples = array.array("h", data)
    elif width == 3:  # no array type for 24-bit: widen each sample to 32 bits
        padded = b"".join(b"\0" + data[i : i + 3] for i in range(0, len(data), 3))
        samples = array.array("i", padded)
        if sys.byteorder == "big":
            samples.byteswap()
        return array.array("i", (s >> 8 for s in samples)), 1 << 23
    elif width == 4:
        samples = array.array("i", data)
    else:
        raise AudioError(f"unsupported sample width: {width} bytes")
    if sys.byteorder == "big":  # WAV is little-endian
        samples.byteswap()
    return samples, 1 << (8 * width - 1)


__all__ = [
    "ASTERISK_CHANNELS",
    "ASTERISK_RATE",
    "ASTERISK_WIDTH",
    "BAD_FORMAT",
    "CLIPPED",
    "SILENT",
    "TOO_LONG",
    "TOO_SHORT",
    "AudioError",
    "WavInfo",
    "inspect_wav",
    "problems",
]
