"""Text-to-speech with the espeak-ng command-line synthesizer, resampled from 22.05 kHz to 16 kHz."""

from __future__ import annotations

import io
import shutil
import subprocess
from collections.abc import Mapping
from xml.sax.saxutils import escape, quoteattr

import numpy as np
import soundfile as sf

from .audio import BadAudioError, check_waveform, resample

ESPEAK = "espeak-ng"


def _ssml(text: str, prosody: Mapping[str, str] | None) -> str:
    body = escape(text)
    if prosody:
        attributes = " ".join(f"{name}={quoteattr(value)}" for name, value in sorted(prosody.items()))
        body = f"<prosody {attributes}>{body}</prosody>"
    return f"<speak>{body}</speak>"


def synthesize(
    text: str, voice: str, speed: int = 175, pitch: int = 50, prosody: Mapping[str, str] | None = None
) -> np.ndarray:
    """Speak `text` and return mono float32 audio `(num_samples,)` at 16 kHz.

    Args:
        voice: espeak-ng voice, e.g. `"en-gb-x-rp+f2"`.
        speed: words per minute (espeak `-s`).
        pitch: base pitch 0..99 (espeak `-p`).
        prosody: optional SSML `<prosody>` attributes (`pitch`, `range`, `rate`, `volume`, e.g. `{"rate": "80%"}`)
            applied on top of the voice, used to render emotions.

    The text goes through stdin as escaped SSML, so no text can be mistaken for a command-line flag. espeak-ng is
    deterministic: the same arguments always give the same samples.
    """
    if shutil.which(ESPEAK) is None:
        raise RuntimeError("espeak-ng is not installed (Debian/Ubuntu: apt-get install espeak-ng)")
    command = [ESPEAK, "-m", "-v", voice, "-s", str(int(speed)), "-p", str(int(pitch)), "--stdout"]
    result = subprocess.run(command, input=_ssml(text, prosody).encode("utf-8"), capture_output=True, check=False)
    if result.returncode != 0 or not result.stdout:
        raise BadAudioError("tts_failed", f"espeak-ng failed for voice {voice!r}: {result.stderr.decode()[-200:]}")
    waveform, sampling_rate = sf.read(io.BytesIO(result.stdout), dtype="float32")
    check_waveform(waveform, sampling_rate, f"espeak-ng {voice!r} {text[:40]!r}")
    return resample(waveform, sampling_rate)
