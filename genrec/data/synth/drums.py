"""Drum sounds: kicks (pitch-swept sine + beater click), snares (tone + band noise),
hats/rides/crashes (band noise + inharmonic square partials), claps, rims, brushes,
shakers; toms are short high kicks.  Each sound takes ``(sr, rng, **params)``."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import numpy as np

from genrec.data.synth.seeds import SYNTH_VERSION, seeded_rng


def _band_noise(rng: np.random.Generator, n: int, sr: int, lo: float, hi: float) -> np.ndarray:
    spec = rng.standard_normal(n // 2 + 1) + 1j * rng.standard_normal(n // 2 + 1)
    f = np.fft.rfftfreq(n, 1.0 / sr)
    spec *= (f / lo) ** 2 / (1 + (f / lo) ** 2) / np.sqrt(1 + (f / hi) ** 4)
    y = np.fft.irfft(spec, n)
    return y / (np.std(y) + 1e-12)


def _metal_partials(rng: np.random.Generator, t: np.ndarray, base: float) -> np.ndarray:
    """Six inharmonic square partials (the classic analogue-cymbal recipe)."""
    ratios = np.array([1.0, 1.4471, 1.617, 1.9265, 2.5028, 2.6637])
    ph = rng.random(6).astype(np.float32)
    square = ((np.outer(t.astype(np.float32), (ratios * base).astype(np.float32)) + ph) % 1.0) < 0.5
    return square.sum(axis=1) / 3.0 - 1.0


def _normalise(y: np.ndarray) -> np.ndarray:
    return (y / (np.max(np.abs(y)) + 1e-12)).astype(np.float32)


def kick(
    sr: int, rng: np.random.Generator, f0=50.0, f1=150.0, sweep=0.035, decay=0.25, click=0.3, drive=1.5
) -> np.ndarray:
    """Bass drum: a sine swept from ``f1`` down to ``f0`` plus a beater click, soft-clipped (also toms)."""
    n = int(sr * min(2.5, 6 * decay + 0.05))
    t = np.arange(n) / sr
    f = f0 + (f1 - f0) * np.exp(-t / sweep)
    y = np.sin(2 * np.pi * np.cumsum(f) / sr) * np.exp(-t / decay)
    y += click * np.diff(rng.standard_normal(n + 1)) * np.exp(-t / 0.003)
    return _normalise(np.tanh(drive * y))


def snare(
    sr: int, rng: np.random.Generator, tone=190.0, tone_decay=0.05, noise_decay=0.15, lo=1200.0, hi=9000.0, snap=0.65
) -> np.ndarray:
    """Snare: two-mode drum tone plus band-passed noise (the wires)."""
    n = int(sr * (5 * noise_decay + 0.03))
    t = np.arange(n) / sr
    body = (np.sin(2 * np.pi * tone * t) + 0.5 * np.sin(2 * np.pi * tone * 1.47 * t)) * np.exp(-t / tone_decay)
    noise = _band_noise(rng, n, sr, lo, hi) * np.exp(-t / noise_decay) * 0.5
    return _normalise((1 - snap) * body + snap * noise)


def hat(sr: int, rng: np.random.Generator, decay=0.04, lo=6500.0, metal=0.35) -> np.ndarray:
    """Closed or open hi-hat: high-passed noise plus metallic partials."""
    n = int(sr * (6 * decay + 0.01))
    t = np.arange(n) / sr
    y = _band_noise(rng, n, sr, lo, 15000.0) + metal * 2.0 * _metal_partials(rng, t, rng.uniform(330, 420))
    return _normalise(_high_pass(y, sr, lo) * np.exp(-t / decay))


def _high_pass(y: np.ndarray, sr: int, lo: float) -> np.ndarray:
    """High-pass an arbitrary short buffer (zero phase)."""
    f = np.fft.rfftfreq(len(y), 1.0 / sr)
    return np.fft.irfft(np.fft.rfft(y) * ((f / lo) ** 4 / (1 + (f / lo) ** 4)), len(y))


def ride(sr: int, rng: np.random.Generator, decay=1.3, bell=0.3, hi=14000.0) -> np.ndarray:
    """Ride cymbal: metallic partials and noise with a long decay and a bell tone."""
    n = int(sr * min(3.0, 3 * decay))
    t = np.arange(n) / sr
    base = rng.uniform(380, 480)
    y = 0.8 * _metal_partials(rng, t, base) + 0.5 * _band_noise(rng, n, sr, 3000.0, hi)
    y = _high_pass(y, sr, 2000.0) * (0.4 * np.exp(-t / 0.02) + np.exp(-t / decay))
    y += bell * np.sin(2 * np.pi * base * 5.1 * t) * np.exp(-t / (0.4 * decay))
    return _normalise(y)


def crash(sr: int, rng: np.random.Generator, decay=1.8) -> np.ndarray:
    """Crash cymbal: bright noise and partials with a soft attack and a long decay."""
    n = int(sr * min(3.0, 2.5 * decay))
    t = np.arange(n) / sr
    y = _band_noise(rng, n, sr, 3000.0, 16000.0) + 0.6 * _metal_partials(rng, t, rng.uniform(300, 400))
    return _normalise(_high_pass(y, sr, 1800.0) * (np.exp(-t / decay) * (1 - np.exp(-t / 0.002))))


def clap(sr: int, rng: np.random.Generator, decay=0.09) -> np.ndarray:
    """Hand clap: three quick noise bursts and a short tail."""
    n = int(sr * (6 * decay + 0.04))
    t = np.arange(n) / sr
    env = sum(np.where(t >= d, np.exp(-(t - d) / 0.004), 0.0) for d in (0.0, 0.011, 0.023))
    env = env + 0.7 * np.where(t >= 0.03, np.exp(-(t - 0.03) / decay), 0.0)
    return _normalise(_band_noise(rng, n, sr, 900.0, 6000.0) * env)


def rim(sr, rng):
    n = int(sr * 0.08)
    t = np.arange(n) / sr
    y = (np.sin(2 * np.pi * 1750 * t) + 0.6 * np.sin(2 * np.pi * 480 * t)) * np.exp(-t / 0.012)
    y += 0.3 * _band_noise(rng, n, sr, 2000.0, 10000.0) * np.exp(-t / 0.004)
    return _normalise(y)


def brush(sr: int, rng: np.random.Generator, decay=0.12) -> np.ndarray:
    """Brush stroke on a snare: soft-attack band noise."""
    n = int(sr * (5 * decay + 0.03))
    t = np.arange(n) / sr
    return _normalise(_band_noise(rng, n, sr, 1800.0, 9000.0) * (1 - np.exp(-t / 0.015)) * np.exp(-t / decay))


def shaker(sr: int, rng: np.random.Generator, decay=0.05) -> np.ndarray:
    """Shaker: soft-attack high band noise."""
    n = int(sr * (5 * decay + 0.02))
    t = np.arange(n) / sr
    return _normalise(_band_noise(rng, n, sr, 5000.0, 13000.0) * (1 - np.exp(-t / 0.01)) * np.exp(-t / decay))


@lru_cache(maxsize=128)
def kit_sound(
    genre: str, artist: int, seed: int, sr: int, name: str, fn: Callable, variants: int, kw: tuple
) -> tuple[np.ndarray, ...]:
    """``variants`` read-only takes of drum ``name`` made by ``fn(sr, rng, **dict(kw))``; seeded
    per artist, so all of an artist's clips share (and cache) one kit."""
    # "_" + the function's name: the sounds were private ``_kick`` etc. when the seeds were fixed
    rng = seeded_rng("drum", SYNTH_VERSION, seed, genre, artist, name, f"_{fn.__name__}", variants, kw, sr)
    out = tuple(fn(sr, rng, **dict(kw)) for _ in range(variants))
    for a in out:
        a.setflags(write=False)
    return out
