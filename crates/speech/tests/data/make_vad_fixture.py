#!/usr/bin/env python3
"""Regenerates the VAD/endpointer fixture (needs espeak-ng and numpy).

Two espeak-ng utterances separated by 1.6 s of silence, with 1.0 s of leading and trailing
silence, resampled to 8 kHz and written as mu-law WAV (what a Twilio caller sends):
  vad_clean_8k_ulaw.wav  - speech only (truth is computed from its energy by the test)
  vad_noisy_8k_ulaw.wav  - the same plus white noise at 20 dB SNR (seeded; SNR_DB env overrides)
"""
import subprocess, wave, os, numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
RATE = 8000
SNR_DB = float(os.environ.get("SNR_DB", "20"))

def say(text, path):
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "160", "-w", path, text], check=True)
    w = wave.open(path)
    x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64) / 32768
    sr = w.getframerate()
    # Trim espeak's own leading/trailing silence.
    nz = np.nonzero(np.abs(x) > 1e-3)[0]
    x = x[nz[0]: nz[-1] + 1]
    # Band-limited FFT resample to 8 kHz.
    n_out = int(round(len(x) * RATE / sr))
    X = np.fft.rfft(x)
    Y = np.zeros(n_out // 2 + 1, dtype=complex)
    m = min(len(X), len(Y))
    Y[:m] = X[:m]
    return np.fft.irfft(Y, n_out) * (n_out / len(x))

def ulaw(x):
    s = np.clip(np.round(x * 32768), -32768, 32767).astype(np.int32)
    out = bytearray()
    for v in s.tolist():
        sign = 0x80 if v < 0 else 0
        m = min(-v if v < 0 else v, 32635) + 0x84
        e = max(0, min(7, m.bit_length() - 8))
        out.append(~(sign | (e << 4) | ((m >> (e + 3)) & 0x0F)) & 0xFF)
    return bytes(out)

def write_ulaw(path, x):
    data = ulaw(x)
    n = len(data)
    pad = n & 1
    hdr = b"RIFF" + (4 + 26 + 12 + 8 + n + pad).to_bytes(4, "little") + b"WAVE"
    hdr += b"fmt " + (18).to_bytes(4, "little") + (7).to_bytes(2, "little") + (1).to_bytes(2, "little")
    hdr += RATE.to_bytes(4, "little") + RATE.to_bytes(4, "little") + (1).to_bytes(2, "little")
    hdr += (8).to_bytes(2, "little") + (0).to_bytes(2, "little")
    hdr += b"fact" + (4).to_bytes(4, "little") + n.to_bytes(4, "little")
    hdr += b"data" + n.to_bytes(4, "little")
    open(path, "wb").write(hdr + data + (b"\0" if pad else b""))

a = say("Hello, I would like to book a table.", "/tmp/vad_a.wav")
b = say("Tomorrow at seven.", "/tmp/vad_b.wav")
sil = lambda s: np.zeros(int(s * RATE))
clean = np.concatenate([sil(1.0), a, sil(1.6), b, sil(1.0)])
clean *= 0.5 / np.max(np.abs(clean))
rng = np.random.default_rng(7)
speech_power = np.mean(clean[np.abs(clean) > 0.01] ** 2)
noise = rng.normal(0, np.sqrt(speech_power / 10 ** (SNR_DB / 10)), len(clean))
write_ulaw(os.path.join(HERE, "vad_clean_8k_ulaw.wav"), clean)
write_ulaw(os.path.join(HERE, "vad_noisy_8k_ulaw.wav"), clean + noise)
print("samples", len(clean), "seconds", len(clean) / RATE)
