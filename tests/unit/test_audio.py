"""WAV inspection, on files written here with the wave module."""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

import pytest

from balagh.sounds.wav import (
    BAD_FORMAT,
    CLIPPED,
    SILENT,
    TOO_LONG,
    TOO_SHORT,
    AudioError,
    inspect_wav,
    problems,
)


def write_wav(
    path: Path,
    *,
    seconds: float = 1.0,
    amplitude: float = 0.5,
    rate: int = 8000,
    channels: int = 1,
    width: int = 2,
    square: bool = False,
) -> Path:
    """A 440 Hz tone (or square wave) at `amplitude` of full scale."""
    full = 1 << (8 * width - 1)
    frames = bytearray()
    for n in range(round(seconds * rate)):
        wave_value = math.sin(2 * math.pi * 440 * n / rate)
        if square:
            wave_value = 1.0 if wave_value >= 0 else -1.0
        value = max(-full, min(full - 1, round(amplitude * wave_value * full)))
        if width == 1:
            sample = bytes([value + 128])
        else:
            sample = value.to_bytes(width, "little", signed=True)
        frames += sample * channels
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(width)
        wav.setframerate(rate)
        wav.writeframes(bytes(frames))
    return path


def test_telephone_tone(tmp_path: Path) -> None:
    info = inspect_wav(write_wav(tmp_path / "a.wav", seconds=1.5, amplitude=0.5))
    assert (info.rate, info.channels, info.width, info.frames) == (8000, 1, 2, 12000)
    assert info.duration == pytest.approx(1.5)
    # A sine's RMS is its peak over sqrt 2: -6.02 dB - 3.01 dB.
    assert info.rms_dbfs == pytest.approx(-9.03, abs=0.05)
    assert info.peak == pytest.approx(0.5, abs=0.001)
    assert info.peak_dbfs == pytest.approx(-6.02, abs=0.05)
    assert info.clipped_ratio == 0
    assert info.asterisk_format
    assert problems(info) == []


def test_silence(tmp_path: Path) -> None:
    info = inspect_wav(write_wav(tmp_path / "s.wav", amplitude=0.0))
    assert info.rms_dbfs == -math.inf and info.peak == 0
    assert problems(info) == [SILENT]


def test_a_whisper_is_silent_too(tmp_path: Path) -> None:
    # -50 dBFS RMS: a line that was not plugged in, or room noise only.
    info = inspect_wav(write_wav(tmp_path / "w.wav", amplitude=0.0045))
    assert -52 < info.rms_dbfs < -48
    assert problems(info) == [SILENT]


def test_clipped(tmp_path: Path) -> None:
    info = inspect_wav(write_wav(tmp_path / "c.wav", amplitude=1.0, square=True))
    assert info.clipped_ratio > 0.99
    assert info.peak == 1.0
    assert problems(info) == [CLIPPED]


def test_a_few_full_scale_samples_are_tolerated(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "p.wav", seconds=1.0, amplitude=0.5)
    with wave.open(str(path), "rb") as wav:
        frames = bytearray(wav.readframes(wav.getnframes()))
    frames[0:2] = struct.pack("<h", -32768)  # one sample in 8000
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(bytes(frames))
    info = inspect_wav(path)
    assert 0 < info.clipped_ratio < 0.001
    assert problems(info) == []


@pytest.mark.parametrize(
    ("rate", "channels", "width"),
    [(44100, 1, 2), (16000, 1, 2), (8000, 2, 2), (8000, 1, 1), (8000, 1, 3), (48000, 2, 4)],
)
def test_other_formats_are_read_but_bad(
    tmp_path: Path, rate: int, channels: int, width: int
) -> None:
    info = inspect_wav(
        write_wav(tmp_path / "f.wav", seconds=0.5, rate=rate, channels=channels, width=width)
    )
    assert (info.rate, info.channels, info.width) == (rate, channels, width)
    assert info.duration == pytest.approx(0.5)
    assert info.rms_dbfs == pytest.approx(-9.03, abs=0.2)  # measured the same at any width
    assert problems(info) == [BAD_FORMAT]
    assert info.format_text == f"{rate} Hz, {channels} ch, {8 * width}-bit"


def test_too_short_and_too_long(tmp_path: Path) -> None:
    short = inspect_wav(write_wav(tmp_path / "short.wav", seconds=0.1))
    assert problems(short) == [TOO_SHORT]
    long = inspect_wav(write_wav(tmp_path / "long.wav", seconds=61, amplitude=0.3))
    assert long.duration == pytest.approx(61)
    assert problems(long) == [TOO_LONG]


def test_empty_file_is_short_and_silent(tmp_path: Path) -> None:
    info = inspect_wav(write_wav(tmp_path / "e.wav", seconds=0))
    assert info.frames == 0 and info.duration == 0
    assert problems(info) == [TOO_SHORT, SILENT]


def test_not_a_wav(tmp_path: Path) -> None:
    path = tmp_path / "x.wav"
    path.write_bytes(b"ID3\x04 an mp3 renamed to .wav")
    with pytest.raises(AudioError, match="not a PCM WAV"):
        inspect_wav(path)


def test_float_wav_is_not_pcm(tmp_path: Path) -> None:
    # WAVE_FORMAT_IEEE_FLOAT (3), as some editors export by default.
    data = struct.pack("<4f", 0.1, -0.1, 0.2, -0.2)
    fmt = struct.pack("<HHIIHH", 3, 1, 8000, 8000 * 4, 4, 32)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(data)) + data
    path = tmp_path / "float.wav"
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    with pytest.raises(AudioError):
        inspect_wav(path)


def test_truncated_data_counts_what_is_there(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "t.wav", seconds=1.0)
    path.write_bytes(path.read_bytes()[:-8001])  # cut mid-sample: the header still says 1 s
    info = inspect_wav(path)
    assert info.duration == pytest.approx(0.5, abs=0.01)
