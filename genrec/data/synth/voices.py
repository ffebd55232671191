"""Pitched voices: band-limited wavetables, the timbre table and one-note rendering.

A voice cross-fades between a bright and a dull spectrum (a plucked string loses its
upper harmonics; a brass note swells into them), with an envelope, vibrato, detuned
oscillators, an attack noise burst and an initial pitch bend.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

_TABLE_LEN = 4096  # wavetable length (power of two)
_HARMONIC_STEPS = (1, 2, 3, 4, 5, 6, 8, 10, 12, 14, 16, 20, 24, 28, 32, 40, 48)
_TABLE_MASK = _TABLE_LEN - 1


@lru_cache(maxsize=1024)
def _wavetable(shape: str, param: float, k_max: int) -> np.ndarray:
    """One period of a band-limited waveform with ``k_max`` harmonics, peak 1."""
    k = np.arange(1, k_max + 1, dtype=np.float64)
    if shape == "pow":
        a = k**-param
    elif shape == "square":
        a = np.where(k % 2 == 1, 1.0 / k, 0.12 / k) * (1.0 + 0 * param)
    elif shape == "sine":
        a = (k == 1).astype(np.float64)
    elif shape == "pluck":  # string plucked at fraction ``param`` of its length
        a = (np.abs(np.sin(np.pi * k * param)) + 0.05) / k**0.85
    elif shape == "twang":  # bridge pickup, bright upper-mid partials
        a = (np.abs(np.sin(np.pi * k * param)) + 0.1) / k**0.55 * (1.0 + 1.5 * ((k >= 5) & (k <= 12)))
    elif shape == "piano":  # hammer at ~1/8 of the string
        a = k**-1.15 * (np.abs(np.sin(np.pi * k / 8.0)) + 0.15) * (1.0 + 0.6 * (k == 2))
    elif shape == "epiano":
        a = np.where(k == 1, 1.0, 0.0) + np.where(k == 2, 0.18, 0.0) + np.where(k == 7, 0.12 * param, 0.0)
    elif shape == "organ":  # drawbar registrations
        regs = {
            0: {1: 1.0, 2: 0.8, 3: 0.6, 4: 0.25, 6: 0.2, 8: 0.15},
            1: {1: 1.0, 2: 1.0, 3: 0.9, 4: 0.6, 5: 0.3, 6: 0.45, 8: 0.4, 10: 0.2, 12: 0.15},
            2: {1: 1.0, 3: 0.5, 5: 0.2},
        }
        reg = regs[int(param)]
        a = np.array([reg.get(int(i), 0.0) for i in k])
    elif shape == "reed":  # sax/harmonica-ish: odd-heavy with a formant bump
        a = k**-1.25 * np.where(k % 2 == 0, 0.5, 1.0) * (1.0 + 1.5 * np.exp(-(((k - param) / 2.5) ** 2)))
    elif shape == "brass":
        a = k**-0.7 * np.exp(-k / param)
    elif shape == "flute":
        a = np.array([1.0, 0.35, 0.12, 0.05, 0.03, 0.02][:k_max] + [0.0] * max(0, k_max - 6))
    elif shape == "vocal":  # "ah": strong 2nd-4th partials
        a = k**-1.0 * (1.0 + 2.0 * np.exp(-(((k - param) / 1.5) ** 2)))
    else:  # pragma: no cover - internal
        raise KeyError(shape)
    x = np.arange(_TABLE_LEN, dtype=np.float64) / _TABLE_LEN
    wave = np.sin(2.0 * np.pi * np.outer(x, k)) @ a
    peak = np.max(np.abs(wave))
    return (wave / (peak if peak > 0 else 1.0)).astype(np.float32)


@dataclass(frozen=True)
class Timbre:
    """How one instrument sounds: spectra, envelope, vibrato, detune, attack noise, bend."""

    bright: tuple[str, float] = ("pow", 1.0)
    dull: tuple[str, float] | None = None
    morph: float = 0.0  # >0: bright->dull time constant (s); <0: dull->bright swell
    attack: float = 0.005
    decay: float = 0.0  # amplitude decay time constant (s); 0 = none
    sustain: float = 1.0  # level reached after the decay
    release: float = 0.05
    pitch_decay: float = 0.0  # decay *= (220 / f) ** pitch_decay (low notes ring longer)
    vib: tuple[float, float, float] = (0.0, 0.0, 0.0)  # rate Hz, depth (fraction), delay s
    detune: tuple[float, ...] = (0.0,)  # cents, one oscillator each
    noise: float = 0.0  # attack noise: pick, hammer, breath
    noise_decay: float = 0.01
    bend: float = 0.0  # start this many semitones off and glide in
    bend_time: float = 0.05
    max_harm: int = 40


TIMBRES: dict[str, Timbre] = {
    # plucked strings (decaying harmonics: bright spectrum fades to a dull one)
    "nylon": Timbre(("pluck", 0.2), ("pow", 3.0), 0.08, 0.002, 0.5, 0.0, 0.05, 0.4, noise=0.04),
    "steel": Timbre(("pluck", 0.13), ("pow", 2.2), 0.25, 0.002, 0.8, 0.0, 0.06, 0.4, noise=0.08),
    "twang": Timbre(
        ("twang", 0.09),
        ("pow", 1.6),
        0.15,
        0.002,
        0.55,
        0.0,
        0.04,
        0.3,
        noise=0.12,
        noise_decay=0.004,
        bend=-0.25,
        bend_time=0.03,
    ),
    "slide": Timbre(
        ("pluck", 0.13),
        ("pow", 2.0),
        0.3,
        0.003,
        1.0,
        0.1,
        0.08,
        0.3,
        vib=(5.5, 0.006, 0.15),
        bend=-1.0,
        bend_time=0.07,
        noise=0.03,
    ),
    "clean": Timbre(("pluck", 0.25), ("pow", 2.5), 0.3, 0.002, 1.0, 0.0, 0.05, 0.3, noise=0.03),
    "pizz": Timbre(("pluck", 0.3), ("pow", 3.0), 0.04, 0.002, 0.25, 0.0, 0.05, 0.5),
    # guitar sources for the distortion bus
    "drive": Timbre(("pow", 1.0), ("pow", 1.7), 0.6, 0.003, 2.0, 0.35, 0.05, 0.2, noise=0.05),
    "mute": Timbre(("pow", 1.3), ("pow", 2.6), 0.04, 0.002, 0.09, 0.0, 0.02, 0.0, noise=0.08),
    "bendlead": Timbre(
        ("pow", 1.0), ("pow", 1.6), 0.8, 0.004, 1.5, 0.5, 0.06, 0.0, vib=(6.0, 0.008, 0.18), bend=-1.0, bend_time=0.09
    ),
    # keys
    "piano": Timbre(("piano", 0.0), ("pow", 3.0), 0.35, 0.002, 1.6, 0.0, 0.12, 0.5, noise=0.04, noise_decay=0.006),
    "epiano": Timbre(("epiano", 1.0), ("sine", 0.0), 0.2, 0.002, 1.8, 0.0, 0.15, 0.4, vib=(4.5, 0.0015, 0.0)),
    "organ": Timbre(("organ", 0.0), None, 0.0, 0.008, 0.0, 1.0, 0.05, vib=(6.7, 0.0025, 0.0), detune=(0.0, 3.0)),
    "organ_full": Timbre(("organ", 1.0), None, 0.0, 0.006, 0.0, 1.0, 0.05, vib=(6.7, 0.003, 0.0), detune=(0.0, 4.0)),
    # sustained: detuned saws with slow attack and vibrato
    "strings": Timbre(
        ("pow", 1.0), ("pow", 2.0), -0.4, 0.3, 0.0, 1.0, 0.45, vib=(5.4, 0.004, 0.25), detune=(-9.0, 0.0, 8.0)
    ),
    "violin": Timbre(
        ("pow", 1.0), ("pow", 1.8), -0.15, 0.07, 0.0, 1.0, 0.15, vib=(5.8, 0.006, 0.12), detune=(0.0, 5.0)
    ),
    "pad": Timbre(("pow", 1.3), ("pow", 2.6), 0.0, 0.5, 0.0, 1.0, 0.8, detune=(-13.0, 0.0, 12.0)),
    "brass": Timbre(
        ("brass", 10.0), ("pow", 2.6), -0.09, 0.04, 0.5, 0.75, 0.09, vib=(5.0, 0.003, 0.25), detune=(0.0, 5.0)
    ),
    "reed": Timbre(
        ("reed", 4.0), ("pow", 2.2), -0.06, 0.03, 0.0, 1.0, 0.06, vib=(5.2, 0.005, 0.2), noise=0.03, noise_decay=0.05
    ),
    "harp": Timbre(
        ("reed", 6.0),
        ("pow", 1.8),
        -0.05,
        0.02,
        0.0,
        1.0,
        0.05,
        vib=(6.0, 0.012, 0.15),
        bend=-0.8,
        bend_time=0.06,
        noise=0.05,
        noise_decay=0.04,
    ),
    "flute": Timbre(
        ("flute", 0.0),
        None,
        0.0,
        0.06,
        0.0,
        1.0,
        0.08,
        vib=(5.0, 0.004, 0.15),
        noise=0.06,
        noise_decay=0.12,
        max_harm=6,
    ),
    "vocal": Timbre(
        ("vocal", 3.0), ("pow", 2.0), -0.05, 0.05, 0.0, 1.0, 0.12, vib=(5.5, 0.007, 0.2), bend=-0.4, bend_time=0.06
    ),
    # synths
    "lead": Timbre(
        ("square", 0.0), ("pow", 1.5), 0.3, 0.005, 0.4, 0.7, 0.08, vib=(5.5, 0.003, 0.2), detune=(-6.0, 6.0)
    ),
    "saw_lead": Timbre(
        ("pow", 1.0), ("pow", 1.8), 0.5, 0.004, 0.6, 0.6, 0.08, vib=(5.8, 0.004, 0.2), detune=(-8.0, 0.0, 8.0)
    ),
    "synth_pluck": Timbre(("pow", 1.0), ("pow", 3.0), 0.05, 0.002, 0.25, 0.0, 0.05, detune=(-7.0, 7.0)),
    "whistle": Timbre(
        ("sine", 0.0), None, 0.0, 0.02, 0.0, 1.0, 0.1, vib=(6.0, 0.01, 0.1), bend=-2.0, bend_time=0.08, max_harm=2
    ),
    "bell": Timbre(("epiano", 3.0), ("sine", 0.0), 0.15, 0.002, 0.9, 0.0, 0.3, 0.2),
    # basses
    "bass": Timbre(("pow", 1.6), ("pow", 3.5), 0.12, 0.003, 0.9, 0.25, 0.04, 0.2, noise=0.02, max_harm=14),
    "upright": Timbre(
        ("pow", 2.0), ("sine", 0.0), 0.05, 0.004, 0.5, 0.0, 0.05, 0.3, noise=0.05, noise_decay=0.008, max_harm=10
    ),
    "synth_bass": Timbre(("pow", 1.0), ("pow", 2.5), 0.12, 0.004, 0.25, 0.55, 0.03, detune=(-5.0, 5.0)),
    "sub808": Timbre(("sine", 0.0), ("sine", 0.0), 0.0, 0.003, 1.2, 0.0, 0.08, bend=2.0, bend_time=0.04, max_harm=2),
    "timpani": Timbre(
        ("pow", 2.6),
        ("sine", 0.0),
        0.15,
        0.004,
        0.9,
        0.0,
        0.3,
        bend=0.5,
        bend_time=0.05,
        noise=0.1,
        noise_decay=0.01,
        max_harm=8,
    ),
}


def render_note(timbre: Timbre, freq: float, dur: float, sr: float, rng: np.random.Generator) -> np.ndarray:
    """One note of ``dur`` seconds (plus its release) as float32."""
    decay = timbre.decay * (220.0 / freq) ** timbre.pitch_decay if timbre.decay > 0 else 0.0
    length = dur + 4.0 * timbre.release
    if decay > 0 and timbre.sustain <= 0:
        length = min(length, timbre.attack + 6.0 * decay)
    n = max(32, int(length * sr))
    t = np.arange(n, dtype=np.float64) / sr
    rate, depth, delay = timbre.vib
    spread = (
        2.0 ** (max(abs(c) for c in timbre.detune) / 1200.0)
        * (1.0 + 2.0 * depth)
        * 2.0 ** (max(0.0, timbre.bend) / 12.0)
    )
    k_max = int(np.clip(0.45 * sr / (freq * spread), 1, timbre.max_harm))
    k_max = _HARMONIC_STEPS[bisect.bisect_right(_HARMONIC_STEPS, k_max) - 1]  # few distinct tables
    if depth > 0 or timbre.bend != 0:
        f = np.full(n, freq)
        if timbre.bend != 0:
            f *= 2.0 ** (timbre.bend * np.exp(-t / timbre.bend_time) / 12.0)
        if depth > 0:
            ramp = np.clip((t - delay) / 0.25, 0.0, 1.0) if delay > 0 else 1.0
            f *= 1.0 + depth * ramp * np.sin(2 * np.pi * rate * t + rng.uniform(0, 2 * np.pi))
        cycles = np.cumsum(f) / sr
    else:
        cycles = t * freq
    bright = _wavetable(timbre.bright[0], timbre.bright[1], k_max)
    dull = _wavetable(timbre.dull[0], timbre.dull[1], k_max) if timbre.dull is not None else None
    yb = np.zeros(n, dtype=np.float32)
    yd = np.zeros(n, dtype=np.float32) if dull is not None and timbre.morph != 0 else None
    for cents in timbre.detune:
        ph = cycles * (_TABLE_LEN * 2.0 ** (cents / 1200.0)) + rng.random() * _TABLE_LEN
        idx = ph.astype(np.int64) & _TABLE_MASK
        yb += bright[idx]
        if yd is not None:
            yd += dull[idx]
    if yd is not None:
        tt = t.astype(np.float32)
        if timbre.morph > 0:
            w = np.exp(tt * np.float32(-1.0 / timbre.morph))
        else:
            w = 1.0 - np.exp(tt * np.float32(1.0 / timbre.morph))
        yb = yd + w * (yb - yd)
    y = (yb * (1.0 / len(timbre.detune))).astype(np.float32)
    t32 = t.astype(np.float32)
    na = min(n, int(timbre.attack * sr))
    if na > 1:
        y[:na] *= np.linspace(0.0, 1.0, na, dtype=np.float32)
    if decay > 0:
        y *= np.float32(timbre.sustain) + np.float32(1.0 - timbre.sustain) * np.exp(t32 * np.float32(-1.0 / decay))
    nd = int(dur * sr)
    if nd < n:
        y[nd:] *= np.exp((t32[nd:] - np.float32(dur)) * np.float32(-1.0 / max(timbre.release, 1e-3)))
    if timbre.noise > 0:
        m = min(n, int(6 * timbre.noise_decay * sr) + 1)
        burst = np.diff(rng.standard_normal(m + 1)) * np.exp(-t[:m] / timbre.noise_decay)
        y[:m] += (timbre.noise * burst).astype(np.float32)
    fade = min(n, 64)
    y[-fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    return y
