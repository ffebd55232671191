"""A deterministic, seeded *synthetic* music library: the built-in demo library.

Nothing here is real music.  Every clip is rendered from scratch with numpy so
that a fresh machine can train and demo the classifier without downloading
GTZAN.  The ten "styles" borrow the GTZAN genre names and imitate the obvious
surface features of each genre (tempo range, drum pattern, swing, harmony,
timbre, distortion, reverb), with deliberate per-artist and per-clip
variation so that neighbouring styles overlap the way real genres do
(rock/metal, disco/pop, blues/jazz/country, ...).

Building blocks
---------------
* drums: kicks (pitch-swept sine + beater click), snares (tone + band noise),
  hats/rides/crashes (band noise + inharmonic square partials), claps, rims,
  brushes, shakers, toms, timpani;
* pitched voices: band-limited wavetables cross-faded between a bright and a
  dull spectrum (plucked strings, piano, electric piano, organ, detuned-saw
  strings and pads with slow attack and vibrato, brass and reeds that swell,
  synth leads, a vocal-ish lead, several basses and an 808);
* distorted guitar: power chords and palm mutes summed on a bus, then soft
  (tanh) and hard clipped and band-limited like a speaker cabinet;
* a zero-phase EQ per bus, a reverb (convolution with a decaying noise tail)
  and a feedback echo, all applied in one FFT per bus; tape/vinyl noise.

Determinism: every random choice comes from ``np.random.default_rng`` seeded
with a SHA-256 of ``(version, seed, genre, index)``; the same arguments give
bit-identical audio on the same platform and numpy build.
"""
from __future__ import annotations

import bisect
import hashlib
import math
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np

from genrec.config import GENRES, SAMPLE_RATE

__all__ = [
    "ARTISTS_PER_GENRE", "STYLE_NOTES", "SYNTH_VERSION",
    "artist_of", "synthesize_clip", "track_id", "write_library",
]

#: Bumped whenever the rendering changes; stored in every written file so a
#: library made by another version is regenerated rather than reused.
SYNTH_VERSION = 1
#: Pseudo-artists per style; clip ``i`` belongs to artist ``i % 4``.
ARTISTS_PER_GENRE = 4
_PEAK = 10.0 ** (-1.0 / 20.0)          # -1 dBFS

#: How each synthetic style is made (one line each, for the README and the app).
STYLE_NOTES: dict[str, str] = {
    "blues": "synthetic: 12-bar I7-IV7-V7 shuffle (swung 8ths), boogie/walking bass, "
             "overdriven or acoustic slide guitar and harmonica-like reed with bends, 58-135 bpm, often lo-fi",
    "classical": "synthetic: no drums; detuned-saw string sections with slow attack and vibrato, "
                 "piano arpeggios, flute/reed/brass swells, timpani, rubato tempo, long hall reverb",
    "country": "synthetic: major keys, twangy plucked guitars and fiddle/steel leads with slides, "
               "brushed train beat or shuffle, boom-chick root-fifth bass, 80-140 bpm",
    "disco": "synthetic: 110-130 bpm four-on-the-floor kick with offbeat open hats and claps, "
             "octave-jumping bass, string/brass stabs, electric piano, sidechain pumping",
    "hiphop": "synthetic: 80-100 bpm swung boom-bap or half-time beats, heavy kick and 808 bass, "
              "sparse minor chords (piano/e-piano/pad), vinyl crackle, lo-fi filtering",
    "jazz": "synthetic: swing ride with hat on 2 and 4, walking upright bass, rootless 7th/9th/13th "
            "piano or organ comping on ii-V-I changes, sax/trumpet-like lines; ballads with brushes",
    "metal": "synthetic: 140-200 bpm double kick, heavily clipped power chords and 16th palm mutes "
             "in low minor/phrygian keys, gallops, crash-heavy, harmonised distorted leads",
    "pop": "synthetic: 100-130 bpm, I-V-vi-IV progressions, bright saw/square synths and plucks, "
           "clap backbeat or four-on-the-floor, vocal-like lead with vibrato, piano ballads",
    "reggae": "synthetic: 70-90 bpm one-drop or steppers drums, offbeat skank chords and organ bubble, "
              "loud dark melodic bass, dub echo and reverb",
    "rock": "synthetic: 100-150 bpm backbeat, moderately overdriven power/open chords, 8th-note bass, "
            "guitar solos with bends; punk, indie, classic and blues-rock flavours",
}

# --------------------------------------------------------------------------------------
# seeding, names
# --------------------------------------------------------------------------------------


def _rng(*parts: object) -> np.random.Generator:
    """A generator seeded from a stable hash of ``parts`` (never Python's salted hash)."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode("utf-8")).digest()
    return np.random.default_rng(int.from_bytes(digest[:16], "little"))


def _check(genre: str, index: int = 0) -> None:
    if genre not in GENRES:
        raise ValueError(f"unknown genre {genre!r}; expected one of {', '.join(GENRES)}")
    if int(index) < 0:
        raise ValueError(f"clip index must be >= 0, got {index}")


def artist_of(genre: str, index: int) -> str:
    """The pseudo-artist id of clip ``index`` of ``genre``, e.g. ``"metal-a2"`` (index % 4)."""
    _check(genre, index)
    return f"{genre}-a{int(index) % ARTISTS_PER_GENRE}"


def track_id(genre: str, index: int) -> str:
    """GTZAN-style track id, e.g. ``"metal.00007"``."""
    _check(genre, index)
    return f"{genre}.{int(index):05d}"


# --------------------------------------------------------------------------------------
# music theory
# --------------------------------------------------------------------------------------

_SCALES: dict[str, tuple[int, ...]] = {
    "major": (0, 2, 4, 5, 7, 9, 11), "minor": (0, 2, 3, 5, 7, 8, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10), "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "phrygian": (0, 1, 3, 5, 7, 8, 10), "harmonic": (0, 2, 3, 5, 7, 8, 11),
    "blues": (0, 3, 5, 6, 7, 10), "minpent": (0, 3, 5, 7, 10), "majpent": (0, 2, 4, 7, 9),
    "bebop": (0, 2, 4, 5, 7, 9, 10, 11),
}
_CHORDS: dict[str, tuple[int, ...]] = {
    "maj": (0, 4, 7), "min": (0, 3, 7), "dim": (0, 3, 6), "sus4": (0, 5, 7), "5": (0, 7, 12),
    "dom7": (0, 4, 7, 10), "maj7": (0, 4, 7, 11), "min7": (0, 3, 7, 10), "m7b5": (0, 3, 6, 10),
    "add9": (0, 4, 7, 14), "dom9": (0, 4, 7, 10, 14), "maj9": (0, 4, 7, 11, 14),
    "min9": (0, 3, 7, 10, 14), "dom13": (0, 4, 10, 14, 21), "min11": (0, 3, 10, 14, 17),
    "6": (0, 4, 7, 9), "min6": (0, 3, 7, 9),
}


def _hz(midi: float) -> float:
    return 440.0 * 2.0 ** ((midi - 69.0) / 12.0)


def _fold(p: int, lo: int, hi: int) -> int:
    """Move ``p`` by octaves into ``[lo, hi]`` (as close as possible)."""
    while p > hi:
        p -= 12
    while p < lo:
        p += 12
    return p


def _voicing(root: int, ivs: tuple[int, ...], center: int, rootless: bool = False) -> list[int]:
    """Close voicing of a chord around ``center`` (each tone within a fifth or so)."""
    tones = ivs[1:] if rootless and len(ivs) > 3 else ivs
    out = {center - 6 + ((root + iv - (center - 6)) % 12) for iv in tones}
    return sorted(out)


# --------------------------------------------------------------------------------------
# wavetable voices
# --------------------------------------------------------------------------------------

_TL = 4096                 # wavetable length (power of two)
_K_STEPS = (1, 2, 3, 4, 5, 6, 8, 10, 12, 14, 16, 20, 24, 28, 32, 40, 48)
_TMASK = _TL - 1


@lru_cache(maxsize=1024)
def _table(shape: str, param: float, k_max: int) -> np.ndarray:
    """One period of a band-limited waveform with ``k_max`` harmonics, peak 1."""
    k = np.arange(1, k_max + 1, dtype=np.float64)
    if shape == "pow":
        a = k ** -param
    elif shape == "square":
        a = np.where(k % 2 == 1, 1.0 / k, 0.12 / k) * (1.0 + 0 * param)
    elif shape == "sine":
        a = (k == 1).astype(np.float64)
    elif shape == "pluck":            # string plucked at fraction ``param`` of its length
        a = (np.abs(np.sin(np.pi * k * param)) + 0.05) / k ** 0.85
    elif shape == "twang":            # bridge pickup, bright upper-mid partials
        a = (np.abs(np.sin(np.pi * k * param)) + 0.1) / k ** 0.55 * (1.0 + 1.5 * ((k >= 5) & (k <= 12)))
    elif shape == "piano":            # hammer at ~1/8 of the string
        a = k ** -1.15 * (np.abs(np.sin(np.pi * k / 8.0)) + 0.15) * (1.0 + 0.6 * (k == 2))
    elif shape == "epiano":
        a = np.where(k == 1, 1.0, 0.0) + np.where(k == 2, 0.18, 0.0) + np.where(k == 7, 0.12 * param, 0.0)
    elif shape == "organ":            # drawbar registrations
        regs = {0: {1: 1.0, 2: 0.8, 3: 0.6, 4: 0.25, 6: 0.2, 8: 0.15},
                1: {1: 1.0, 2: 1.0, 3: 0.9, 4: 0.6, 5: 0.3, 6: 0.45, 8: 0.4, 10: 0.2, 12: 0.15},
                2: {1: 1.0, 3: 0.5, 5: 0.2}}
        reg = regs[int(param)]
        a = np.array([reg.get(int(i), 0.0) for i in k])
    elif shape == "reed":             # sax/harmonica-ish: odd-heavy with a formant bump
        a = k ** -1.25 * np.where(k % 2 == 0, 0.5, 1.0) * (1.0 + 1.5 * np.exp(-((k - param) / 2.5) ** 2))
    elif shape == "brass":
        a = k ** -0.7 * np.exp(-k / param)
    elif shape == "flute":
        a = np.array([1.0, 0.35, 0.12, 0.05, 0.03, 0.02][:k_max] + [0.0] * max(0, k_max - 6))
    elif shape == "vocal":            # "ah": strong 2nd-4th partials
        a = k ** -1.0 * (1.0 + 2.0 * np.exp(-((k - param) / 1.5) ** 2))
    else:  # pragma: no cover - internal
        raise KeyError(shape)
    x = np.arange(_TL, dtype=np.float64) / _TL
    wave = np.sin(2.0 * np.pi * np.outer(x, k)) @ a
    peak = np.max(np.abs(wave))
    return (wave / (peak if peak > 0 else 1.0)).astype(np.float32)


@dataclass(frozen=True)
class _Timbre:
    bright: tuple[str, float] = ("pow", 1.0)
    dull: tuple[str, float] | None = None
    morph: float = 0.0           # >0: bright->dull time constant (s); <0: dull->bright swell
    attack: float = 0.005
    decay: float = 0.0           # amplitude decay time constant (s); 0 = none
    sustain: float = 1.0         # level reached after the decay
    release: float = 0.05
    pitch_decay: float = 0.0     # decay *= (220 / f) ** pitch_decay (low notes ring longer)
    vib: tuple[float, float, float] = (0.0, 0.0, 0.0)   # rate Hz, depth (fraction), delay s
    detune: tuple[float, ...] = (0.0,)                  # cents, one oscillator each
    noise: float = 0.0           # attack noise: pick, hammer, breath
    noise_decay: float = 0.01
    bend: float = 0.0            # start this many semitones off and glide in
    bend_time: float = 0.05
    max_harm: int = 40


_TIMBRES: dict[str, _Timbre] = {
    # plucked strings (decaying harmonics: bright spectrum fades to a dull one)
    "nylon": _Timbre(("pluck", 0.2), ("pow", 3.0), 0.08, 0.002, 0.5, 0.0, 0.05, 0.4, noise=0.04),
    "steel": _Timbre(("pluck", 0.13), ("pow", 2.2), 0.25, 0.002, 0.8, 0.0, 0.06, 0.4, noise=0.08),
    "twang": _Timbre(("twang", 0.09), ("pow", 1.6), 0.15, 0.002, 0.55, 0.0, 0.04, 0.3,
                     noise=0.12, noise_decay=0.004, bend=-0.25, bend_time=0.03),
    "slide": _Timbre(("pluck", 0.13), ("pow", 2.0), 0.3, 0.003, 1.0, 0.1, 0.08, 0.3,
                     vib=(5.5, 0.006, 0.15), bend=-1.0, bend_time=0.07, noise=0.03),
    "clean": _Timbre(("pluck", 0.25), ("pow", 2.5), 0.3, 0.002, 1.0, 0.0, 0.05, 0.3, noise=0.03),
    "pizz": _Timbre(("pluck", 0.3), ("pow", 3.0), 0.04, 0.002, 0.25, 0.0, 0.05, 0.5),
    # guitar sources for the distortion bus
    "drive": _Timbre(("pow", 1.0), ("pow", 1.7), 0.6, 0.003, 2.0, 0.35, 0.05, 0.2, noise=0.05),
    "mute": _Timbre(("pow", 1.3), ("pow", 2.6), 0.04, 0.002, 0.09, 0.0, 0.02, 0.0, noise=0.08),
    "bendlead": _Timbre(("pow", 1.0), ("pow", 1.6), 0.8, 0.004, 1.5, 0.5, 0.06, 0.0,
                        vib=(6.0, 0.008, 0.18), bend=-1.0, bend_time=0.09),
    # keys
    "piano": _Timbre(("piano", 0.0), ("pow", 3.0), 0.35, 0.002, 1.6, 0.0, 0.12, 0.5,
                     noise=0.04, noise_decay=0.006),
    "epiano": _Timbre(("epiano", 1.0), ("sine", 0.0), 0.2, 0.002, 1.8, 0.0, 0.15, 0.4,
                      vib=(4.5, 0.0015, 0.0)),
    "organ": _Timbre(("organ", 0.0), None, 0.0, 0.008, 0.0, 1.0, 0.05, vib=(6.7, 0.0025, 0.0),
                     detune=(0.0, 3.0)),
    "organ_full": _Timbre(("organ", 1.0), None, 0.0, 0.006, 0.0, 1.0, 0.05, vib=(6.7, 0.003, 0.0),
                          detune=(0.0, 4.0)),
    # sustained: detuned saws with slow attack and vibrato
    "strings": _Timbre(("pow", 1.0), ("pow", 2.0), -0.4, 0.3, 0.0, 1.0, 0.45,
                       vib=(5.4, 0.004, 0.25), detune=(-9.0, 0.0, 8.0)),
    "violin": _Timbre(("pow", 1.0), ("pow", 1.8), -0.15, 0.07, 0.0, 1.0, 0.15,
                      vib=(5.8, 0.006, 0.12), detune=(0.0, 5.0)),
    "pad": _Timbre(("pow", 1.3), ("pow", 2.6), 0.0, 0.5, 0.0, 1.0, 0.8, detune=(-13.0, 0.0, 12.0)),
    "brass": _Timbre(("brass", 10.0), ("pow", 2.6), -0.09, 0.04, 0.5, 0.75, 0.09,
                     vib=(5.0, 0.003, 0.25), detune=(0.0, 5.0)),
    "reed": _Timbre(("reed", 4.0), ("pow", 2.2), -0.06, 0.03, 0.0, 1.0, 0.06,
                    vib=(5.2, 0.005, 0.2), noise=0.03, noise_decay=0.05),
    "harp": _Timbre(("reed", 6.0), ("pow", 1.8), -0.05, 0.02, 0.0, 1.0, 0.05,
                    vib=(6.0, 0.012, 0.15), bend=-0.8, bend_time=0.06, noise=0.05, noise_decay=0.04),
    "flute": _Timbre(("flute", 0.0), None, 0.0, 0.06, 0.0, 1.0, 0.08,
                     vib=(5.0, 0.004, 0.15), noise=0.06, noise_decay=0.12, max_harm=6),
    "vocal": _Timbre(("vocal", 3.0), ("pow", 2.0), -0.05, 0.05, 0.0, 1.0, 0.12,
                     vib=(5.5, 0.007, 0.2), bend=-0.4, bend_time=0.06),
    # synths
    "lead": _Timbre(("square", 0.0), ("pow", 1.5), 0.3, 0.005, 0.4, 0.7, 0.08,
                    vib=(5.5, 0.003, 0.2), detune=(-6.0, 6.0)),
    "saw_lead": _Timbre(("pow", 1.0), ("pow", 1.8), 0.5, 0.004, 0.6, 0.6, 0.08,
                        vib=(5.8, 0.004, 0.2), detune=(-8.0, 0.0, 8.0)),
    "synth_pluck": _Timbre(("pow", 1.0), ("pow", 3.0), 0.05, 0.002, 0.25, 0.0, 0.05, detune=(-7.0, 7.0)),
    "whistle": _Timbre(("sine", 0.0), None, 0.0, 0.02, 0.0, 1.0, 0.1, vib=(6.0, 0.01, 0.1),
                       bend=-2.0, bend_time=0.08, max_harm=2),
    "bell": _Timbre(("epiano", 3.0), ("sine", 0.0), 0.15, 0.002, 0.9, 0.0, 0.3, 0.2),
    # basses
    "bass": _Timbre(("pow", 1.6), ("pow", 3.5), 0.12, 0.003, 0.9, 0.25, 0.04, 0.2, noise=0.02, max_harm=14),
    "upright": _Timbre(("pow", 2.0), ("sine", 0.0), 0.05, 0.004, 0.5, 0.0, 0.05, 0.3,
                       noise=0.05, noise_decay=0.008, max_harm=10),
    "synth_bass": _Timbre(("pow", 1.0), ("pow", 2.5), 0.12, 0.004, 0.25, 0.55, 0.03, detune=(-5.0, 5.0)),
    "sub808": _Timbre(("sine", 0.0), ("sine", 0.0), 0.0, 0.003, 1.2, 0.0, 0.08, bend=2.0,
                      bend_time=0.04, max_harm=2),
    "timpani": _Timbre(("pow", 2.6), ("sine", 0.0), 0.15, 0.004, 0.9, 0.0, 0.3, bend=0.5,
                       bend_time=0.05, noise=0.1, noise_decay=0.01, max_harm=8),
}


def _render(tb: _Timbre, freq: float, dur: float, sr: float, rng: np.random.Generator) -> np.ndarray:
    """One note of ``dur`` seconds (plus its release) as float32."""
    decay = tb.decay * (220.0 / freq) ** tb.pitch_decay if tb.decay > 0 else 0.0
    length = dur + 4.0 * tb.release
    if decay > 0 and tb.sustain <= 0:
        length = min(length, tb.attack + 6.0 * decay)
    n = max(32, int(length * sr))
    t = np.arange(n, dtype=np.float64) / sr
    rate, depth, delay = tb.vib
    spread = 2.0 ** (max(abs(c) for c in tb.detune) / 1200.0) * (1.0 + 2.0 * depth) \
        * 2.0 ** (max(0.0, tb.bend) / 12.0)
    k_max = int(np.clip(0.45 * sr / (freq * spread), 1, tb.max_harm))
    k_max = _K_STEPS[bisect.bisect_right(_K_STEPS, k_max) - 1]     # few distinct tables
    if depth > 0 or tb.bend != 0:
        f = np.full(n, freq)
        if tb.bend != 0:
            f *= 2.0 ** (tb.bend * np.exp(-t / tb.bend_time) / 12.0)
        if depth > 0:
            ramp = np.clip((t - delay) / 0.25, 0.0, 1.0) if delay > 0 else 1.0
            f *= 1.0 + depth * ramp * np.sin(2 * np.pi * rate * t + rng.uniform(0, 2 * np.pi))
        cycles = np.cumsum(f) / sr
    else:
        cycles = t * freq
    bright = _table(tb.bright[0], tb.bright[1], k_max)
    dull = _table(tb.dull[0], tb.dull[1], k_max) if tb.dull is not None else None
    yb = np.zeros(n, dtype=np.float32)
    yd = np.zeros(n, dtype=np.float32) if dull is not None and tb.morph != 0 else None
    for cents in tb.detune:
        ph = cycles * (_TL * 2.0 ** (cents / 1200.0)) + rng.random() * _TL
        idx = ph.astype(np.int64) & _TMASK
        yb += bright[idx]
        if yd is not None:
            yd += dull[idx]
    if yd is not None:
        tt = t.astype(np.float32)
        w = np.exp(tt * np.float32(-1.0 / tb.morph)) if tb.morph > 0 else 1.0 - np.exp(tt * np.float32(1.0 / tb.morph))
        yb = yd + w * (yb - yd)
    y = (yb * (1.0 / len(tb.detune))).astype(np.float32)
    t32 = t.astype(np.float32)
    na = min(n, int(tb.attack * sr))
    if na > 1:
        y[:na] *= np.linspace(0.0, 1.0, na, dtype=np.float32)
    if decay > 0:
        y *= np.float32(tb.sustain) + np.float32(1.0 - tb.sustain) * np.exp(t32 * np.float32(-1.0 / decay))
    nd = int(dur * sr)
    if nd < n:
        y[nd:] *= np.exp((t32[nd:] - np.float32(dur)) * np.float32(-1.0 / max(tb.release, 1e-3)))
    if tb.noise > 0:
        m = min(n, int(6 * tb.noise_decay * sr) + 1)
        burst = np.diff(rng.standard_normal(m + 1)) * np.exp(-t[:m] / tb.noise_decay)
        y[:m] += (tb.noise * burst).astype(np.float32)
    fade = min(n, 64)
    y[-fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    return y


# --------------------------------------------------------------------------------------
# drum sounds
# --------------------------------------------------------------------------------------

def _band_noise(rng: np.random.Generator, n: int, sr: int, lo: float, hi: float) -> np.ndarray:
    spec = rng.standard_normal(n // 2 + 1) + 1j * rng.standard_normal(n // 2 + 1)
    f = np.fft.rfftfreq(n, 1.0 / sr)
    spec *= (f / lo) ** 2 / (1 + (f / lo) ** 2) / np.sqrt(1 + (f / hi) ** 4)
    y = np.fft.irfft(spec, n)
    return y / (np.std(y) + 1e-12)


def _metal(rng: np.random.Generator, t: np.ndarray, base: float) -> np.ndarray:
    """Six inharmonic square partials (the classic analogue-cymbal recipe)."""
    ratios = np.array([1.0, 1.4471, 1.617, 1.9265, 2.5028, 2.6637])
    ph = rng.random(6).astype(np.float32)
    square = ((np.outer(t.astype(np.float32), (ratios * base).astype(np.float32)) + ph) % 1.0) < 0.5
    return square.sum(axis=1) / 3.0 - 1.0


def _norm(y: np.ndarray) -> np.ndarray:
    return (y / (np.max(np.abs(y)) + 1e-12)).astype(np.float32)


def _kick(sr, rng, f0=50.0, f1=150.0, sweep=0.035, decay=0.25, click=0.3, drive=1.5):
    n = int(sr * min(2.5, 6 * decay + 0.05))
    t = np.arange(n) / sr
    f = f0 + (f1 - f0) * np.exp(-t / sweep)
    y = np.sin(2 * np.pi * np.cumsum(f) / sr) * np.exp(-t / decay)
    y += click * np.diff(rng.standard_normal(n + 1)) * np.exp(-t / 0.003)
    return _norm(np.tanh(drive * y))


def _snare(sr, rng, tone=190.0, tone_decay=0.05, noise_decay=0.15, lo=1200.0, hi=9000.0, snap=0.65):
    n = int(sr * (5 * noise_decay + 0.03))
    t = np.arange(n) / sr
    body = (np.sin(2 * np.pi * tone * t) + 0.5 * np.sin(2 * np.pi * tone * 1.47 * t)) * np.exp(-t / tone_decay)
    noise = _band_noise(rng, n, sr, lo, hi) * np.exp(-t / noise_decay) * 0.5
    return _norm((1 - snap) * body + snap * noise)


def _hat(sr, rng, decay=0.04, lo=6500.0, metal=0.35):
    n = int(sr * (6 * decay + 0.01))
    t = np.arange(n) / sr
    y = _band_noise(rng, n, sr, lo, 15000.0) + metal * 2.0 * _metal(rng, t, rng.uniform(330, 420))
    return _norm(_band_noise_like(y, sr, lo) * np.exp(-t / decay))


def _band_noise_like(y: np.ndarray, sr: int, lo: float) -> np.ndarray:
    """High-pass an arbitrary short buffer (zero phase)."""
    f = np.fft.rfftfreq(len(y), 1.0 / sr)
    return np.fft.irfft(np.fft.rfft(y) * ((f / lo) ** 4 / (1 + (f / lo) ** 4)), len(y))


def _ride(sr, rng, decay=1.3, bell=0.3, hi=14000.0):
    n = int(sr * min(3.0, 3 * decay))
    t = np.arange(n) / sr
    base = rng.uniform(380, 480)
    y = 0.8 * _metal(rng, t, base) + 0.5 * _band_noise(rng, n, sr, 3000.0, hi)
    y = _band_noise_like(y, sr, 2000.0) * (0.4 * np.exp(-t / 0.02) + np.exp(-t / decay))
    y += bell * np.sin(2 * np.pi * base * 5.1 * t) * np.exp(-t / (0.4 * decay))
    return _norm(y)


def _crash(sr, rng, decay=1.8):
    n = int(sr * min(3.0, 2.5 * decay))
    t = np.arange(n) / sr
    y = _band_noise(rng, n, sr, 3000.0, 16000.0) + 0.6 * _metal(rng, t, rng.uniform(300, 400))
    return _norm(_band_noise_like(y, sr, 1800.0) * (np.exp(-t / decay) * (1 - np.exp(-t / 0.002))))


def _clap(sr, rng, decay=0.09):
    n = int(sr * (6 * decay + 0.04))
    t = np.arange(n) / sr
    env = sum(np.where(t >= d, np.exp(-(t - d) / 0.004), 0.0) for d in (0.0, 0.011, 0.023))
    env = env + 0.7 * np.where(t >= 0.03, np.exp(-(t - 0.03) / decay), 0.0)
    return _norm(_band_noise(rng, n, sr, 900.0, 6000.0) * env)


def _rim(sr, rng):
    n = int(sr * 0.08)
    t = np.arange(n) / sr
    y = (np.sin(2 * np.pi * 1750 * t) + 0.6 * np.sin(2 * np.pi * 480 * t)) * np.exp(-t / 0.012)
    y += 0.3 * _band_noise(rng, n, sr, 2000.0, 10000.0) * np.exp(-t / 0.004)
    return _norm(y)


def _brush(sr, rng, decay=0.12):
    n = int(sr * (5 * decay + 0.03))
    t = np.arange(n) / sr
    return _norm(_band_noise(rng, n, sr, 1800.0, 9000.0) * (1 - np.exp(-t / 0.015)) * np.exp(-t / decay))


def _shaker(sr, rng, decay=0.05):
    n = int(sr * (5 * decay + 0.02))
    t = np.arange(n) / sr
    return _norm(_band_noise(rng, n, sr, 5000.0, 13000.0) * (1 - np.exp(-t / 0.01)) * np.exp(-t / decay))


@lru_cache(maxsize=128)
def _kit_sound(genre: str, artist: int, seed: int, sr: int, name: str, fn: Callable, variants: int,
               kw: tuple) -> tuple[np.ndarray, ...]:
    rng = _rng("drum", SYNTH_VERSION, seed, genre, artist, name, fn.__name__, variants, kw, sr)
    out = tuple(fn(sr, rng, **dict(kw)) for _ in range(variants))
    for a in out:
        a.setflags(write=False)
    return out


# --------------------------------------------------------------------------------------
# the song: timing, buses, placement
# --------------------------------------------------------------------------------------

_BASS_DIV = 4
_BUS_DEFAULTS = dict(level=0.0, hp=0.0, lp=0.0, tilt=0.0, rev=0.0, echo=None, drive=None, duck=0.0)


class _Song:
    """Everything one clip needs: rng, artist palette, tempo map, buses."""

    def __init__(self, genre: str, index: int, seed: int, seconds: float, sr: int):
        self.genre, self.sr = genre, sr
        self.n = max(1, int(round(seconds * sr)))
        self.seconds = self.n / sr
        self.art = _artist_palette(genre, index % ARTISTS_PER_GENRE, seed)
        self.art_seed = seed
        self.variant = self.art["variant"]
        self.rng = _rng("clip", SYNTH_VERSION, seed, genre, index)
        self.krng = _rng("kit", SYNTH_VERSION, seed, genre, index % ARTISTS_PER_GENRE)
        self.buses: dict[str, np.ndarray] = {}
        self.fx: dict[str, dict] = {}
        self.div: dict[str, int] = {}
        self.kicks: list[int] = []
        self.crackle: tuple[np.ndarray, np.ndarray] | None = None
        self._cache: dict[tuple, np.ndarray] = {}
        self.key = self.art["key"] if self.rng.random() < 0.7 else int(self.rng.choice(self.art["keys"]))
        self.chords: list[tuple[float, float, int, tuple[int, ...]]] = []
        self._starts: list[float] = []
        self.setup(120.0)

    # ---- timing
    def pick_tempo(self) -> float:
        lo, hi = self.art["range"]
        return float(np.clip(self.rng.normal(self.art["tempo"], 0.06 * (hi - lo) + 1.5), lo, hi))

    def setup(self, bpm: float, swing: float = 0.5, pair: float = 1.0, rubato: float = 0.0,
              bpb: int = 4, jitter: float = 0.005) -> None:
        """Tempo, swing ratio (0.5 straight, 0.67 triplet shuffle), swing pair length in
        beats (1.0: swung 8ths, 0.5: swung 16ths), rubato depth, beats per bar, timing jitter."""
        rng = self.rng
        self.bpm, self.swing, self.pair, self.bpb, self.jitter = bpm, swing, pair, bpb, jitter
        bar_s = bpb * 60.0 / bpm
        self.offset = rng.uniform(0.0, bar_s)
        beats = (self.seconds + self.offset) * bpm / 60.0 * (1.0 + 2.5 * rubato) + 2 * bpb
        self.nbars = int(math.ceil(beats / bpb)) + 1
        self.nbeats = self.nbars * bpb
        if rubato > 0:
            res = 8
            b = np.arange(self.nbeats * res + 1) / res
            ph = rng.uniform(0, 2 * np.pi, 3)
            curve = 1.0 + rubato * (np.sin(2 * np.pi * b / (2 * bpb) + ph[0])
                                    + 0.6 * np.sin(2 * np.pi * b / (4 * bpb) + ph[1])
                                    - 0.8 * np.exp(-((b % (4 * bpb)) - 4 * bpb + 1) ** 2))
            dt = 60.0 / (bpm * np.clip(curve, 0.5, 1.5)) / res
            self._tb, self._tt = b, np.concatenate([[0.0], np.cumsum(dt[:-1])])
        else:
            self._tb = self._tt = None

    def time(self, beat: float, swing: bool = True) -> float:
        if swing and self.swing != 0.5:
            q, f = divmod(beat / self.pair, 1.0)
            s = self.swing
            f = f * 2 * s if f < 0.5 else s + (f - 0.5) * 2 * (1 - s)
            beat = (q + f) * self.pair
        if self._tt is None:
            t = beat * 60.0 / self.bpm
        else:
            t = float(np.interp(beat, self._tb, self._tt))
        return t - self.offset

    def _jit(self, amount: float | None) -> float:
        j = self.jitter if amount is None else amount
        return float(self.rng.normal(0.0, j)) if j > 0 else 0.0

    # ---- buses
    def bus(self, name: str, **fx) -> str:
        """Create (or update the effects of) a bus.  The bass bus, unless distorted, runs at a
        quarter of the sample rate: its content is band-limited anyway, and its FFT and notes
        then cost a quarter as much (the mix upsamples it exactly in the frequency domain)."""
        if name not in self.buses:
            div = _BASS_DIV if name == "bass" and not fx.get("drive") else 1
            self.div[name] = div
            self.buses[name] = np.zeros(-(-self.n // div), dtype=np.float32)
            self.fx[name] = dict(_BUS_DEFAULTS)
        self.fx[name].update(fx)
        return name

    def put(self, bus: str, buf: np.ndarray, t: float, gain: float = 1.0) -> None:
        arr = self.buses[bus]
        i = int(round(t * self.sr / self.div[bus]))
        if i >= len(arr) or i + len(buf) <= 0:
            return
        if i < 0:
            buf, i = buf[-i:], 0
        j = min(len(arr), i + len(buf))
        arr[i:j] += np.float32(gain) * buf[: j - i]

    def hit(self, bus: str, samples: list[np.ndarray], beat: float, gain: float = 1.0,
            swing: bool = True, jitter: float | None = None) -> None:
        assert self.div[bus] == 1, "drum samples need a full-rate bus"
        buf = samples[int(self.rng.integers(len(samples)))] if len(samples) > 1 else samples[0]
        t = self.time(beat, swing) + self._jit(jitter)
        self.put(bus, buf, t, gain * (1.0 + 0.08 * self.rng.standard_normal()))

    def play(self, bus: str, timbre: str, midi: int, beat: float, length: float, gain: float = 1.0,
             swing: bool = True, jitter: float | None = None, delay: float = 0.0) -> None:
        t0 = self.time(beat, swing)
        t = t0 + self._jit(jitter) + delay
        if t >= self.seconds:
            return
        dur = max(0.03, self.time(beat + length, swing) - t0)
        q = max(1, int(round(dur * 40)))
        div = self.div[bus]
        key = (timbre, int(midi), q, div)
        buf = self._cache.get(key)
        if buf is None:
            buf = _render(_TIMBRES[timbre], _hz(midi), q / 40.0, self.sr / div, self.rng)
            self._cache[key] = buf
        self.put(bus, buf, t, gain)

    # ---- harmony
    def progression(self, prog: list[tuple[int, str, float]], rotate: bool = True) -> None:
        """Loop ``prog`` = [(root offset from key, chord quality, length in bars), ...]."""
        if rotate and len(prog) > 1:
            r = int(self.rng.integers(len(prog)))
            if sum(p[2] for p in prog[:r]) % 1 == 0:
                prog = prog[r:] + prog[:r]
        self.chords, beat = [], 0.0
        while beat < self.nbeats:
            for off, q, bars in prog:
                self.chords.append((beat, bars * self.bpb, (self.key + off) % 12, _CHORDS[q]))
                beat += bars * self.bpb
        self._starts = [c[0] for c in self.chords]

    def chord_at(self, beat: float) -> tuple[float, float, int, tuple[int, ...]]:
        i = max(0, bisect.bisect_right(self._starts, beat + 1e-9) - 1)
        return self.chords[i]

    # ---- drum helper
    def kit_add(self, kit: dict, name: str, fn, variants: int = 2, **kw) -> None:
        """Add ``variants`` takes of a drum sound.  A kit belongs to the artist (its parameters
        come from ``self.krng``), so the sounds are cached across that artist's clips."""
        kit[name] = list(_kit_sound(self.genre, self.variant, self.art_seed, self.sr, name, fn,
                                    variants, tuple(sorted(kw.items()))))


# --------------------------------------------------------------------------------------
# parts
# --------------------------------------------------------------------------------------

_VEL = {"X": 1.0, "x": 0.72, "o": 0.33}


def _beat(s: _Song, bus: str, kit: dict, inst: str, pat: str, gain: float = 1.0, drop: float = 0.0,
          ghost: float = 0.0, bars: range | None = None, swing: bool = True, every: int = 1,
          kick: bool = False) -> None:
    """Repeat a one-bar step pattern ('X' accent, 'x' hit, 'o' ghost, '.' rest)."""
    if inst not in kit:
        return
    step = s.bpb / len(pat)
    for bar in bars if bars is not None else range(s.nbars):
        if bar % every:
            continue
        for i, ch in enumerate(pat):
            v = _VEL.get(ch, 0.0)
            if v == 0.0:
                if ghost and s.rng.random() < ghost:
                    v = 0.3
                else:
                    continue
            elif drop and ch != "X" and s.rng.random() < drop:
                continue
            beat = bar * s.bpb + i * step
            s.hit(bus, kit[inst], beat, gain * v, swing)
            if kick:
                s.kicks.append(int(round(s.time(beat, swing) * s.sr)))


def _fills(s: _Song, bus: str, kit: dict, every: int = 4, gain: float = 0.9, crash: float = 0.8,
           insts: tuple[str, ...] = ("snare", "tom_hi", "tom_lo"), beats: float = 1.0) -> None:
    """A 16th-note fill in the last beat(s) of every ``every`` bars, then a crash."""
    for bar in range(every - 1, s.nbars, every):
        if s.rng.random() < 0.25:
            continue
        end = (bar + 1) * s.bpb
        nsteps = int(beats * 4)
        for k in range(nsteps):
            inst = insts[min(len(insts) - 1, k * len(insts) // nsteps)]
            if inst in kit and s.rng.random() < 0.85:
                s.hit(bus, kit[inst], end - beats + k * 0.25, gain * (0.6 + 0.4 * k / nsteps), False)
        if "crash" in kit and crash > 0:
            s.hit(bus, kit["crash"], end, crash, False)


def _scale_pitch(s: _Song, scale: tuple[int, ...], deg: int, lo: int) -> int:
    base = lo + ((s.key - lo) % 12)
    o, r = divmod(deg, len(scale))
    return base + 12 * o + scale[r]


def _melody(s: _Song, bus: str, timbre: str | tuple[str, ...], scale: tuple[int, ...], lo: int, hi: int,
            unit: float = 0.5, density: float = 0.55, motif_bars: int = 2, legato: float = 0.9,
            gain: float = 1.0, rest: float = 0.25, snap: float = 0.7, leap: float = 0.15,
            bars: range | None = None, mutate: float = 0.3, harmony: int = 0) -> None:
    """Motif-based melody: a random rhythm + scale-degree walk repeated with variations,
    strong beats snapped to chord tones.  ``timbre`` may be a tuple (alternatives per note)."""
    rng = s.rng
    spb = int(round(s.bpb / unit))
    length = spb * motif_bars
    strong = np.array([1.0 if (i * unit) % 1 == 0 else 0.75 for i in range(length)])
    onsets = [i for i in range(length) if i == 0 or rng.random() < density * strong[i]]
    moves = np.array([-2, -1, -1, 0, 1, 1, 2, -3, 3, -4, 4])
    probs = np.array([1.0, 2.0, 2.0, 0.8, 2.0, 2.0, 1.0, leap, leap, leap, leap])
    probs /= probs.sum()
    nsc = len(scale)
    start = int(round((((lo + hi) / 2) - lo) / 12 * nsc))
    degs, d = [], start
    for _ in onsets:
        degs.append(d)
        d += int(rng.choice(moves, p=probs))
        d = int(np.clip(d, start - nsc, start + nsc))
    lens = [b - a for a, b in zip(onsets, onsets[1:] + [length])]
    timbres = (timbre,) if isinstance(timbre, str) else tuple(timbre)
    bar_range = bars if bars is not None else range(s.nbars)
    for block in range(bar_range.start, bar_range.stop, motif_bars):
        if block > bar_range.start and rng.random() < rest:
            continue
        shift = int(rng.choice([0, 0, 0, 2, -2, 4])) if rng.random() < 0.4 else 0
        for on, dg, ln in zip(onsets, degs, lens):
            if rng.random() < mutate * 0.3:
                continue
            if rng.random() < mutate:
                dg += int(rng.choice([-2, -1, 1, 2]))
            beat = block * s.bpb + on * unit
            pitch = _scale_pitch(s, scale, dg + shift, lo)
            if (on * unit) % 1 == 0 and rng.random() < snap:
                _, _, root, ivs = s.chord_at(beat)
                pcs = {(root + iv) % 12 for iv in ivs}
                if pitch % 12 not in pcs:
                    for delta in (1, -1, 2, -2):
                        if (pitch + delta) % 12 in pcs:
                            pitch += delta
                            break
            pitch = _fold(pitch, lo, hi)
            tb = timbres[int(rng.integers(len(timbres)))] if len(timbres) > 1 else timbres[0]
            vel = gain * (0.8 + 0.4 * rng.random())
            s.play(bus, tb, pitch, beat, ln * unit * legato, vel)
            if harmony:
                hp = _scale_pitch(s, scale, dg + shift + harmony, lo)
                s.play(bus, tb, _fold(hp, lo, hi + 7), beat, ln * unit * legato, vel * 0.7)


def _bassline(s: _Song, bus: str, timbre: str, pat: str, lo: int = 28, gain: float = 1.0,
              drop: float = 0.0, legato: float = 0.9) -> None:
    """Per-bar bass pattern: 'r' root, 'o' octave, '5' fifth, '3' third, '7' seventh, '6' sixth,
    'a' chromatic approach to the next chord's root, '-' hold previous, '.' rest."""
    step = s.bpb / len(pat)
    for bar in range(s.nbars):
        i = 0
        while i < len(pat):
            ch = pat[i]
            j = i + 1
            while j < len(pat) and pat[j] == "-":
                j += 1
            if ch not in ".-" and not (drop and i > 0 and s.rng.random() < drop):
                beat = bar * s.bpb + i * step
                _, _, root, ivs = s.chord_at(beat)
                r = _fold(root, lo, lo + 11)
                third = 3 if 3 in ivs else 4
                sev = 10 if 10 in ivs else (11 if 11 in ivs else 9)
                off = {"r": 0, "o": 12, "5": 7, "3": third, "7": sev, "6": 9}.get(ch)
                if ch == "a":
                    nxt = s.chord_at(beat + s.bpb - (beat % s.bpb) + 1e-6)[2]
                    p = _fold(nxt, lo, lo + 11) + int(s.rng.choice([-1, 1]))
                else:
                    p = r + (off or 0)
                s.play(bus, timbre, p, beat, (j - i) * step * legato, gain * (0.85 + 0.3 * s.rng.random()))
            i = j


def _walking(s: _Song, bus: str, timbre: str, lo: int = 28, hi: int = 50, gain: float = 1.0,
             feel: int = 1) -> None:
    """Walking bass in quarters (feel=1) or a two-feel (feel=2): roots on chord changes,
    chord/scale tones in between, chromatic approach into the next chord."""
    prev = None
    for beat in range(0, s.nbeats, feel):
        start, _, root, ivs = s.chord_at(beat)
        nxt_root = s.chord_at(beat + feel)[2]
        changes = s.chord_at(beat + feel)[0] != start
        if beat == start or prev is None:
            cands = [p for p in range(lo, hi + 1) if p % 12 == root]
        elif changes and s.rng.random() < 0.75:
            cands = [p + d for p in range(lo, hi + 1) if p % 12 == nxt_root for d in (-1, 1, -2)]
        else:
            cands = [p for p in range(lo, hi + 1) if (p - root) % 12 in {iv % 12 for iv in ivs} | {2, 5}]
        cands = [c for c in cands if lo <= c <= hi] or [lo + ((root - lo) % 12)]
        if prev is None:
            p = int(s.rng.choice(cands))
        else:
            w = np.array([1.0 / (1.0 + abs(c - prev)) ** 1.5 if c != prev else 0.1 for c in cands])
            p = int(s.rng.choice(cands, p=w / w.sum()))
        s.play(bus, timbre, p, beat, feel * 0.92, gain * (0.85 + 0.3 * s.rng.random()))
        prev = p


def _comp(s: _Song, bus: str, timbre: str, pat: str, center: int = 60, gain: float = 1.0,
          rootless: bool = False, legato: float = 0.9, strum: float = 0.0, drop: float = 0.0,
          ghost: float = 0.0, bars: range | None = None, top: int = 0) -> None:
    """Chord hits on a per-bar step pattern ('X'/'x'/'o' hits, '-' hold, '.' rest)."""
    step = s.bpb / len(pat)
    for bar in bars if bars is not None else range(s.nbars):
        i = 0
        while i < len(pat):
            ch = pat[i]
            j = i + 1
            while j < len(pat) and pat[j] == "-":
                j += 1
            v = _VEL.get(ch, 0.0)
            if v == 0 and ghost and s.rng.random() < ghost:
                v = 0.35
            if v > 0 and not (drop and ch != "X" and s.rng.random() < drop):
                beat = bar * s.bpb + i * step
                _, _, root, ivs = s.chord_at(beat)
                notes = _voicing(root, ivs, center, rootless)
                if top:
                    notes = notes[-top:]
                jt = s._jit(None)
                down = s.rng.random() < 0.6
                for k, p in enumerate(notes if down else notes[::-1]):
                    s.play(bus, timbre, p, beat, (j - i) * step * legato, gain * v / len(notes) ** 0.5,
                           jitter=0.0, delay=jt + k * strum)
            i = j


def _pad(s: _Song, bus: str, timbre: str, center: int = 60, gain: float = 1.0, rootless: bool = False,
         bars: range | None = None, top: int = 0) -> None:
    """Hold every chord for its full length."""
    first = bars.start * s.bpb if bars is not None else 0
    last = bars.stop * s.bpb if bars is not None else s.nbeats
    for start, length, root, ivs in s.chords:
        if start + length <= first or start >= last:
            continue
        notes = _voicing(root, ivs, center, rootless)
        if top:
            notes = notes[-top:]
        for p in notes:
            s.play(bus, timbre, p, start, length * 1.02, gain / len(notes) ** 0.5, jitter=0.0)


def _arp(s: _Song, bus: str, timbre: str, order: tuple[int, ...], unit: float = 0.5, center: int = 60,
         gain: float = 1.0, legato: float = 1.5, bars: range | None = None) -> None:
    """Broken chords: ``order`` indexes the voicing extended by an octave."""
    steps = int(round(s.bpb / unit))
    for bar in bars if bars is not None else range(s.nbars):
        for i in range(steps):
            beat = bar * s.bpb + i * unit
            _, _, root, ivs = s.chord_at(beat)
            notes = _voicing(root, ivs, center)
            notes = notes + [p + 12 for p in notes]
            p = notes[order[i % len(order)] % len(notes)]
            s.play(bus, timbre, p, beat, unit * legato, gain * (0.8 + 0.3 * s.rng.random()))


def _riff(s: _Song, bus: str, pat: str, lo: int = 40, gain: float = 1.0, fifth: bool = True,
          octave: bool = True, drop: float = 0.0, legato: float = 0.95) -> None:
    """Guitar riff for the distortion bus: 'P' power chord, 'p' quieter power chord,
    'm' palm-muted root, 'n' root note, '-' hold, '.' rest; root follows the progression
    (kept in ``lo``..``lo``+11, so low tunings stay low)."""
    step = s.bpb / len(pat)
    for bar in range(s.nbars):
        i = 0
        while i < len(pat):
            ch = pat[i]
            j = i + 1
            while j < len(pat) and pat[j] == "-":
                j += 1
            if ch in "Ppmn" and not (drop and ch == "m" and s.rng.random() < drop):
                beat = bar * s.bpb + i * step
                root = _fold(s.chord_at(beat)[2], lo, lo + 11)
                ln = (j - i) * step * legato
                jt = s._jit(None)
                if ch == "m":
                    s.play(bus, "mute", root, beat, ln, gain * 0.8, jitter=0.0, delay=jt)
                    if fifth:
                        s.play(bus, "mute", root + 7, beat, ln, gain * 0.5, jitter=0.0, delay=jt)
                else:
                    g = gain * (1.0 if ch == "P" else 0.7 if ch == "p" else 0.8)
                    notes = [root] if ch == "n" else [root, root + 7] + ([root + 12] if octave else [])
                    for k, p in enumerate(notes):
                        s.play(bus, "drive", p, beat, ln, g, jitter=0.0, delay=jt + k * 0.004)
            i = j


def _crackle(s: _Song, rate: float = 8.0, level_db: float = -12.0) -> None:
    """Vinyl clicks (Poisson impulses), added after the mix relative to its RMS."""
    k = int(s.rng.poisson(rate * s.seconds))
    if k:
        pos = s.rng.integers(0, s.n, k)
        amp = s.rng.standard_normal(k) * s.rng.random(k) ** 3 * 10.0 ** (level_db / 20.0)
        s.crackle = (pos, amp)


# --------------------------------------------------------------------------------------
# artists
# --------------------------------------------------------------------------------------

# Per style, four artist flavours: name, tempo range, keys (pitch classes), leads
# (favourite timbres), reverb range (s), lo-fi probability.
_FLAVOURS: dict[str, list[dict]] = {
    "blues": [
        dict(name="slow blues", range=(58, 76), keys=(4, 9, 7, 0), leads=("bendlead", "harp"), rev=(0.8, 1.6), lofi=0.5),
        dict(name="chicago shuffle", range=(96, 124), keys=(9, 4, 7, 2), leads=("harp", "bendlead"), rev=(0.5, 1.2), lofi=0.4),
        dict(name="piano boogie", range=(110, 135), keys=(0, 7, 5, 10), leads=("piano", "reed"), rev=(0.6, 1.2), lofi=0.4),
        dict(name="delta acoustic", range=(70, 100), keys=(4, 9, 2), leads=("slide", "harp"), rev=(0.3, 0.9), lofi=0.7),
    ],
    "classical": [
        dict(name="string ensemble", range=(60, 100), keys=(2, 7, 0, 9, 4), leads=("violin", "strings"), rev=(1.8, 2.8), lofi=0.15),
        dict(name="solo piano", range=(66, 120), keys=(0, 5, 10, 3, 8), leads=("piano",), rev=(1.3, 2.2), lofi=0.15),
        dict(name="chamber winds", range=(72, 112), keys=(7, 2, 5, 10), leads=("flute", "reed"), rev=(1.4, 2.4), lofi=0.15),
        dict(name="orchestral", range=(60, 110), keys=(2, 3, 0, 5), leads=("brass", "strings"), rev=(2.0, 3.0), lofi=0.1),
    ],
    "country": [
        dict(name="train beat", range=(108, 140), keys=(7, 2, 9, 4), leads=("twang",), rev=(0.3, 0.8), lofi=0.2),
        dict(name="waltz ballad", range=(80, 104), keys=(7, 0, 2, 5), leads=("slide", "violin"), rev=(0.8, 1.5), lofi=0.2),
        dict(name="honky-tonk", range=(96, 124), keys=(7, 2, 9, 0), leads=("violin", "twang"), rev=(0.5, 1.1), lofi=0.35),
        dict(name="country rock", range=(100, 126), keys=(9, 4, 7, 2), leads=("twang", "vocal"), rev=(0.5, 1.0), lofi=0.1),
    ],
    "disco": [
        dict(name="classic disco", range=(112, 124), keys=(9, 2, 4, 7), leads=("strings", "violin"), rev=(0.7, 1.3), lofi=0.25),
        dict(name="funk disco", range=(108, 118), keys=(4, 9, 7, 5), leads=("brass", "vocal"), rev=(0.5, 1.0), lofi=0.25),
        dict(name="euro disco", range=(122, 132), keys=(9, 2, 5, 0), leads=("saw_lead", "lead"), rev=(0.8, 1.4), lofi=0.05),
        dict(name="orchestral disco", range=(114, 126), keys=(7, 0, 5, 10), leads=("brass", "strings"), rev=(0.9, 1.6), lofi=0.2),
    ],
    "hiphop": [
        dict(name="boom bap", range=(84, 98), keys=(1, 5, 7, 10), leads=("piano", "epiano"), rev=(0.3, 0.8), lofi=0.7),
        dict(name="half-time 808", range=(80, 92), keys=(1, 3, 6, 8), leads=("bell", "synth_pluck"), rev=(0.6, 1.2), lofi=0.15),
        dict(name="jazz hop", range=(82, 96), keys=(2, 5, 9, 0), leads=("epiano", "reed"), rev=(0.5, 1.0), lofi=0.6),
        dict(name="g-funk", range=(88, 100), keys=(6, 11, 4, 9), leads=("whistle", "lead"), rev=(0.5, 1.0), lofi=0.2),
    ],
    "jazz": [
        dict(name="swing quartet", range=(120, 180), keys=(5, 10, 3, 0), leads=("reed", "brass"), rev=(0.8, 1.4), lofi=0.5),
        dict(name="ballad", range=(60, 84), keys=(3, 8, 1, 5), leads=("reed", "brass", "piano"), rev=(1.0, 1.8), lofi=0.5),
        dict(name="bebop", range=(180, 230), keys=(5, 10, 3, 8), leads=("brass", "reed"), rev=(0.6, 1.2), lofi=0.45),
        dict(name="organ trio", range=(100, 140), keys=(5, 10, 0, 7), leads=("clean", "reed"), rev=(0.6, 1.2), lofi=0.35),
    ],
    "metal": [
        dict(name="thrash", range=(180, 200), keys=(4, 2), leads=("bendlead",), rev=(0.4, 0.9), lofi=0.05),
        dict(name="doom groove", range=(140, 156), keys=(0, 11, 1), leads=("bendlead",), rev=(0.8, 1.6), lofi=0.05),
        dict(name="melodic power", range=(160, 186), keys=(4, 9, 11), leads=("bendlead", "saw_lead"), rev=(0.8, 1.5), lofi=0.05),
        dict(name="alt groove", range=(140, 160), keys=(2, 4, 1), leads=("bendlead", "vocal"), rev=(0.5, 1.1), lofi=0.05),
    ],
    "pop": [
        dict(name="dance pop", range=(118, 128), keys=(0, 5, 7, 9), leads=("vocal", "lead"), rev=(0.8, 1.4), lofi=0.05),
        dict(name="piano ballad", range=(100, 112), keys=(0, 5, 10, 3), leads=("vocal", "flute"), rev=(1.2, 2.0), lofi=0.05),
        dict(name="synth pop", range=(108, 124), keys=(2, 9, 4, 11), leads=("lead", "saw_lead"), rev=(0.8, 1.5), lofi=0.05),
        dict(name="guitar pop", range=(100, 126), keys=(7, 2, 9, 4), leads=("vocal", "clean"), rev=(0.6, 1.2), lofi=0.1),
    ],
    "reggae": [
        dict(name="roots one-drop", range=(70, 82), keys=(9, 7, 2, 4), leads=("vocal", "reed"), rev=(0.7, 1.4), lofi=0.4),
        dict(name="steppers", range=(74, 88), keys=(4, 9, 11, 2), leads=("reed", "vocal"), rev=(0.8, 1.5), lofi=0.3),
        dict(name="dub", range=(70, 84), keys=(9, 2, 7), leads=("reed", "flute"), rev=(1.5, 2.5), lofi=0.5),
        dict(name="lovers rock", range=(76, 90), keys=(0, 7, 5, 2), leads=("vocal", "flute"), rev=(0.8, 1.4), lofi=0.2),
    ],
    "rock": [
        dict(name="classic rock", range=(110, 136), keys=(4, 9, 2, 7), leads=("bendlead", "vocal"), rev=(0.6, 1.2), lofi=0.25),
        dict(name="punk", range=(138, 150), keys=(4, 9, 2, 0), leads=("vocal", "bendlead"), rev=(0.3, 0.8), lofi=0.2),
        dict(name="indie", range=(108, 130), keys=(2, 7, 9, 11), leads=("vocal", "clean"), rev=(0.8, 1.5), lofi=0.15),
        dict(name="blues rock", range=(100, 120), keys=(4, 9, 7), leads=("bendlead", "harp"), rev=(0.6, 1.2), lofi=0.3),
    ],
}


@lru_cache(maxsize=256)
def _artist_palette(genre: str, a: int, seed: int) -> dict:
    """An artist's sub-palette: tempo centre, home key, favourite lead, brightness,
    room size, mix offsets -- shared by all of that artist's clips."""
    spec = _FLAVOURS[genre][a]
    r = _rng("artist", SYNTH_VERSION, seed, genre, a)
    lo, hi = spec["range"]
    w = hi - lo
    return dict(
        spec, variant=a,
        tempo=float(r.uniform(lo + 0.25 * w, hi - 0.25 * w)),
        key=int(r.choice(spec["keys"])),
        lead=str(r.choice(spec["leads"])),
        tilt=float(r.normal(0.0, 0.6)),              # dB/octave around 1 kHz
        room=float(r.uniform(*spec["rev"])),
        damp=float(r.uniform(3000.0, 7000.0)),
        wet=float(r.uniform(0.6, 1.4)),
        levels={b: float(r.normal(0.0, 1.5)) for b in ("drums", "bass", "keys", "gtr", "pad", "lead")},
        lofi=bool(r.random() < spec["lofi"]),
        hiss=float(r.uniform(32.0, 55.0)),           # SNR in dB
        swing=float(r.uniform(0.0, 1.0)),            # where in the style's swing range
        density=float(r.uniform(0.4, 0.7)),
    )


# --------------------------------------------------------------------------------------
# styles
# --------------------------------------------------------------------------------------

def _swing(s: _Song, lo: float, hi: float) -> float:
    return float(np.clip(lo + (hi - lo) * s.art["swing"] + s.rng.normal(0, 0.015), 0.5, 0.72))


def _lvl(s: _Song, bus: str, db: float) -> float:
    return db + s.art["levels"].get(bus, 0.0) + float(s.rng.normal(0.0, 1.2))


def _style_blues(s: _Song) -> None:
    v, rng, A = s.variant, s.rng, s.art
    swing = _swing(s, 0.6, 0.69)
    if v == 0:
        s.setup(s.pick_tempo(), swing=0.5, bpb=4, jitter=0.01)     # 12/8: triplet grid
    else:
        s.setup(s.pick_tempo(), swing=swing, jitter=0.008)
    quick = rng.random() < 0.5
    bars = [0, 5 if quick else 0, 0, 0, 5, 5, 0, 0, 7, 5, 0, 7]
    s.progression([(b, "dom9" if v == 2 and rng.random() < 0.3 else "dom7", 1) for b in bars])
    d = s.bus("drums", level=_lvl(s, "drums", -3), hp=40, lp=11000, rev=0.15)
    kit: dict = {}
    if v != 3:
        s.kit_add(kit, "kick", _kick, f0=s.krng.uniform(48, 60), decay=0.18, click=0.2)
        s.kit_add(kit, "snare", _snare, tone=s.krng.uniform(170, 220), noise_decay=0.12)
        s.kit_add(kit, "hat", _hat, decay=0.05)
        s.kit_add(kit, "ride", _ride, 1, decay=1.1)
        s.kit_add(kit, "crash", _crash, 1)
        s.kit_add(kit, "brush", _brush)
    if v == 0:
        _beat(s, d, kit, "ride" if rng.random() < 0.5 else "hat", "Xxx" "xxx" "Xxx" "xxx", 0.45)
        _beat(s, d, kit, "kick", "X.." "..." "x.." "...", 0.9)
        _beat(s, d, kit, "snare", "..." "X.." "..." "X.o", 0.8, ghost=0.05)
        _fills(s, d, kit, every=12, beats=1.0, insts=("snare",))
    elif v in (1, 2):
        hatpat = "xxxxxxxx" if rng.random() < 0.6 else "x.x.x.x."
        _beat(s, d, kit, "ride" if v == 1 and rng.random() < 0.4 else "hat", hatpat, 0.5, drop=0.05)
        _beat(s, d, kit, "kick", "x.o.x.o." if rng.random() < 0.5 else "x...x...", 0.85)
        _beat(s, d, kit, "snare" if v == 1 else "brush", "..X...X.", 0.8, ghost=0.08)
        _fills(s, d, kit, every=4, beats=1.0, insts=("snare",), crash=0.6)
    else:  # delta: foot stomp only, sometimes
        if rng.random() < 0.6:
            s.kit_add(kit, "kick", _kick, f0=s.krng.uniform(55, 70), decay=0.12, click=0.5, drive=1.0)
            _beat(s, d, kit, "kick", "x.x.x.x.", 0.8)
    b = s.bus("bass", level=_lvl(s, "bass", -5), lp=2500, rev=0.05)
    if v == 2:
        _bassline(s, b, "upright", "r3565653", lo=36, gain=1.0)
        k = s.bus("keys", level=_lvl(s, "keys", -2), rev=0.25, tilt=-0.5)
        _bassline(s, k, "piano", "r3565653", lo=40, gain=0.9)          # boogie left hand
        _comp(s, k, "piano", "..x...x." if rng.random() < 0.5 else ".x.x.x.x", center=67, gain=0.7)
    elif v == 3:
        g = s.bus("keys", level=_lvl(s, "keys", -2), rev=0.15, hp=80)
        _bassline(s, g, "steel", "r.r.r.r.", lo=40, gain=0.9)
        _comp(s, g, "steel", ".x.x.x.x", center=60, gain=0.4, strum=0.012, drop=0.3)
    else:
        _walking(s, b, "upright" if rng.random() < 0.5 else "bass", lo=28, hi=47, gain=1.0)
        g = s.bus("gtr", level=_lvl(s, "gtr", -4), drive=(rng.uniform(1.5, 4.0), 0.1), lp=5000, hp=90, rev=0.2)
        _bassline(s, g, "drive", "r-5-6-5-" if rng.random() < 0.7 else "r-5-r-5-", lo=40, gain=0.8)
        if rng.random() < 0.5:
            o = s.bus("pad", level=_lvl(s, "pad", -9), rev=0.3)
            _pad(s, o, "organ", center=62, gain=0.8)
    lead = A["lead"]
    if lead == "piano" and v != 2:
        lead = "bendlead"
    lb = s.bus("lead", level=_lvl(s, "lead", -1.5), rev=0.3, hp=150,
               drive=(rng.uniform(2.0, 5.0), 0.0) if lead == "bendlead" else None, lp=6000)
    _melody(s, lb, lead, _SCALES["blues"], 55, 79, unit=0.5 if v else 1 / 3, density=A["density"],
            motif_bars=2, rest=0.35, legato=0.95, snap=0.4)


def _style_classical(s: _Song) -> None:
    v, rng, A = s.variant, s.rng, s.art
    bpb = 3 if rng.random() < 0.35 else 4
    s.setup(s.pick_tempo(), rubato=rng.uniform(0.04, 0.12), bpb=bpb, jitter=0.012)
    major = rng.random() < 0.6
    progs_major = [[(0, "maj", 1), (5, "maj", 1), (7, "maj", 1), (0, "maj", 1)],
                   [(0, "maj", 1), (9, "min", 1), (2, "min", 1), (7, "dom7", 1)],
                   [(0, "maj", 1), (7, "maj", 1), (9, "min", 1), (4, "min", 1),
                    (5, "maj", 1), (0, "maj", 1), (5, "maj", 1), (7, "maj", 1)],
                   [(0, "maj", 2), (2, "min7", 1), (7, "dom7", 1)]]
    progs_minor = [[(0, "min", 1), (5, "min", 1), (7, "dom7", 1), (0, "min", 1)],
                   [(0, "min", 1), (8, "maj", 1), (2, "dim", 1), (7, "dom7", 1)],
                   [(0, "min", 2), (3, "maj", 1), (7, "maj", 1)]]
    progs = progs_major if major else progs_minor
    s.progression(progs[int(rng.integers(len(progs)))])
    scale = _SCALES["major"] if major else _SCALES["harmonic"]
    lead = A["lead"]
    arp_orders = [(0, 1, 2, 1), (0, 2, 1, 2), (0, 1, 2, 3, 4, 3, 2, 1), (0, 2, 4, 2)]
    if v == 1:   # solo piano
        k = s.bus("keys", level=_lvl(s, "keys", 0), rev=0.45, tilt=-0.3)
        unit = 0.25 if rng.random() < 0.5 else 0.5
        _arp(s, k, "piano", arp_orders[int(rng.integers(4))], unit=unit, center=50, gain=0.7, legato=2.5)
        _melody(s, k, "piano", scale, 64, 88, unit=0.5, density=A["density"], motif_bars=2, rest=0.1,
                gain=1.0, legato=1.2, snap=0.8)
        return
    st = s.bus("pad", level=_lvl(s, "pad", -2), rev=0.6, lp=7000, hp=60)
    _pad(s, st, "strings", center=60, gain=0.9)
    lo_st = s.bus("bass", level=_lvl(s, "bass", -5), rev=0.5, lp=3000)
    if rng.random() < 0.4 and v != 3:
        _bassline(s, lo_st, "pizz", "r.5." if bpb == 4 else "r55", lo=36, gain=1.0)
    else:
        _bassline(s, lo_st, "strings", "r---" if bpb == 4 else "r--", lo=36, gain=1.0)
    lb = s.bus("lead", level=_lvl(s, "lead", -1), rev=0.5, hp=120)
    lo, hi = (67, 91) if lead in ("violin", "flute") else (58, 82)
    _melody(s, lb, lead, scale, lo, hi, unit=0.5 if rng.random() < 0.6 else 1.0, density=A["density"],
            motif_bars=2, rest=0.15, legato=1.0, snap=0.8)
    if v == 2 and rng.random() < 0.7:
        k = s.bus("keys", level=_lvl(s, "keys", -6), rev=0.5)
        _arp(s, k, "pizz" if rng.random() < 0.5 else "nylon", arp_orders[int(rng.integers(4))],
             unit=0.5, center=55, gain=0.6)
    if v == 3:
        br = s.bus("gtr", level=_lvl(s, "gtr", -6), rev=0.7, lp=5000)
        _comp(s, br, "brass", "X---" if bpb == 4 else "X--", center=55, gain=0.9, bars=range(1, s.nbars, 2))
        d = s.bus("drums", level=_lvl(s, "drums", -6), rev=0.6, lp=4000)
        for bar in range(3, s.nbars, 4):
            for k in range(8):
                s.play(d, "timpani", _fold(s.key, 38, 49), bar * s.bpb + s.bpb - 1 + k / 8, 0.12,
                       0.4 + 0.08 * k, swing=False)


def _style_country(s: _Song) -> None:
    v, rng, A = s.variant, s.rng, s.art
    if v == 1:
        s.setup(s.pick_tempo(), bpb=3, jitter=0.007)
    elif v == 2:
        s.setup(s.pick_tempo(), swing=_swing(s, 0.56, 0.64), jitter=0.007)
    else:
        s.setup(s.pick_tempo(), jitter=0.006)
    progs = [[(0, "maj", 1), (5, "maj", 1), (7, "maj", 1), (0, "maj", 1)],
             [(0, "maj", 2), (5, "maj", 2), (7, "maj", 2), (0, "maj", 2)],
             [(0, "maj", 1), (0, "maj", 1), (5, "maj", 1), (0, "maj", 1), (7, "dom7", 1), (0, "maj", 1)],
             [(0, "maj", 1), (7, "maj", 1), (9, "min", 1), (5, "maj", 1)]]
    s.progression(progs[int(rng.integers(4 if v == 3 else 3))])
    d = s.bus("drums", level=_lvl(s, "drums", -4), hp=40, lp=12000, rev=0.15)
    kit: dict = {}
    s.kit_add(kit, "kick", _kick, f0=s.krng.uniform(50, 62), decay=0.16, click=0.25)
    s.kit_add(kit, "snare", _snare, tone=s.krng.uniform(180, 230), noise_decay=0.1)
    s.kit_add(kit, "brush", _brush, 3, decay=0.07)
    s.kit_add(kit, "hat", _hat, decay=0.04)
    s.kit_add(kit, "rim", _rim, 1)
    s.kit_add(kit, "crash", _crash, 1)
    if v == 0:
        _beat(s, d, kit, "brush", "xoxoXoxoxoxoXoxo", 0.7, drop=0.05)        # train beat
        _beat(s, d, kit, "kick", "X.......X.......", 0.9)
        _beat(s, d, kit, "snare", "....X.......X...", 0.5)
    elif v == 1:
        _beat(s, d, kit, "kick", "X...........", 0.8)
        _beat(s, d, kit, "rim", "....x...x...", 0.6)
        _beat(s, d, kit, "brush", "x.x.x.x.x.x.", 0.35)
    elif v == 2:
        _beat(s, d, kit, "hat", "xxxxxxxx", 0.45)
        _beat(s, d, kit, "kick", "x...x...", 0.85)
        _beat(s, d, kit, "snare", "..X...X.", 0.75)
        _fills(s, d, kit, every=8, beats=1.0, insts=("snare",), crash=0.5)
    else:
        _beat(s, d, kit, "hat", "x.x.x.x.x.x.x.x.", 0.5, ghost=0.05)
        _beat(s, d, kit, "kick", "X.......X.x.....", 0.9)
        _beat(s, d, kit, "snare", "....X.......X...", 0.9)
        _fills(s, d, kit, every=8, beats=1.0, insts=("snare",), crash=0.7)
    b = s.bus("bass", level=_lvl(s, "bass", -5), lp=2200)
    pat = {0: "r...5...", 1: "r...5...5...", 2: "r.5.r.5.", 3: "r.r.r.r5"}[v]
    _bassline(s, b, "bass" if rng.random() < 0.6 else "upright", pat, lo=31, drop=0.05)
    g = s.bus("keys", level=_lvl(s, "keys", -4), rev=0.2, hp=90)
    strum_pat = {0: "x.x.x.x.", 1: "x.x.x.", 2: ".x.x.x.x", 3: "x.xx.xx."}[v]
    _comp(s, g, "steel", strum_pat, center=60, gain=0.6, strum=0.014, drop=0.1)
    if v == 2:
        p = s.bus("pad", level=_lvl(s, "pad", -7), rev=0.3)
        _comp(s, p, "piano", ".x.x.x.x", center=70, gain=0.6)
    if v == 3:
        r = s.bus("gtr", level=_lvl(s, "gtr", -7), drive=(rng.uniform(2.0, 4.0), 0.0), lp=5000, hp=100)
        _riff(s, r, "P-------P---p---", lo=40, gain=0.8)
    lead = A["lead"]
    lb = s.bus("lead", level=_lvl(s, "lead", -1.5), rev=0.25, hp=140,
               echo=(0.09 if lead == "twang" else 0.0, 0.2, 0.25))
    scale = _SCALES["majpent"] if rng.random() < 0.6 else _SCALES["major"]
    lo = 55 if lead == "twang" else 62
    _melody(s, lb, lead, scale, lo, lo + 22, unit=0.25 if lead == "twang" and v == 0 else 0.5,
            density=A["density"], motif_bars=2, rest=0.3, legato=0.8 if lead == "twang" else 1.0)


def _style_disco(s: _Song) -> None:
    v, rng, A = s.variant, s.rng, s.art
    s.setup(s.pick_tempo(), swing=_swing(s, 0.5, 0.56) if v == 1 else 0.5, pair=0.5, jitter=0.004)
    progs = [[(0, "min7", 2), (5, "min7", 2)], [(0, "min7", 1), (5, "dom9", 1)],
             [(0, "maj7", 1), (2, "min7", 1), (4, "min7", 1), (2, "min7", 1)],
             [(0, "min9", 1), (10, "maj", 1), (8, "maj7", 1), (7, "min7", 1)]]
    s.progression(progs[int(rng.integers(4))])
    d = s.bus("drums", level=_lvl(s, "drums", -2), hp=35, lp=14000, rev=0.12)
    kit: dict = {}
    s.kit_add(kit, "kick", _kick, f0=s.krng.uniform(48, 58), decay=s.krng.uniform(0.16, 0.26), click=0.3)
    s.kit_add(kit, "snare", _snare, tone=s.krng.uniform(180, 220), noise_decay=0.14)
    s.kit_add(kit, "clap", _clap)
    s.kit_add(kit, "hat", _hat, 3, decay=0.03)
    s.kit_add(kit, "ohat", _hat, 1, decay=s.krng.uniform(0.12, 0.22), lo=5500)
    s.kit_add(kit, "crash", _crash, 1)
    s.kit_add(kit, "tom_hi", _kick, 1, f0=160, f1=240, decay=0.15, click=0.1, drive=1.0)
    s.kit_add(kit, "tom_lo", _kick, 1, f0=100, f1=160, decay=0.18, click=0.1, drive=1.0)
    _beat(s, d, kit, "kick", "X...X...X...X...", 1.0, kick=True)
    _beat(s, d, kit, "ohat", "..x...x...x...x.", 0.55)
    _beat(s, d, kit, "hat", "x.o.x.o.x.o.x.o." if rng.random() < 0.5 else "xoo.xoo.xoo.xoo.", 0.4, drop=0.1)
    _beat(s, d, kit, "snare", "....X.......X...", 0.7)
    if rng.random() < 0.7:
        _beat(s, d, kit, "clap", "....X.......X...", 0.6)
    _fills(s, d, kit, every=8, beats=1.0, crash=0.6)
    b = s.bus("bass", level=_lvl(s, "bass", -3), lp=3500 if v != 2 else 5000)
    if v == 1:
        _bassline(s, b, "bass", "r..o.r5.r..or.7a", lo=28, legato=0.6, drop=0.1)
    else:
        _bassline(s, b, "synth_bass" if v == 2 else "bass", "rorororororororo" if v == 2 else "r.o.r.o.r.o.r.o.",
                  lo=28, legato=0.7)
    k = s.bus("keys", level=_lvl(s, "keys", -6), rev=0.2, duck=0.3)
    if v == 1:
        g = s.bus("gtr", level=_lvl(s, "gtr", -7), hp=300, lp=6000, rev=0.1)
        _comp(s, g, "clean", "x.xox.xox.xox.xo", center=67, gain=0.6, legato=0.3, top=3)
        _comp(s, k, "epiano", ".x...x...x..x...", center=62, gain=0.6)
    elif v == 2:
        _arp(s, k, "synth_pluck", (0, 2, 1, 3, 2, 4, 3, 1), unit=0.25, center=64, gain=0.6, legato=0.8)
    else:
        _comp(s, k, "epiano" if rng.random() < 0.5 else "piano", "..x...x...x...x.", center=62, gain=0.6)
    p = s.bus("pad", level=_lvl(s, "pad", -5), rev=0.4, duck=0.45, lp=8000)
    if v in (0, 3):
        _pad(s, p, "strings", center=67, gain=0.8)
    elif v == 2:
        _pad(s, p, "pad", center=62, gain=0.8)
    lead = A["lead"]
    lb = s.bus("lead", level=_lvl(s, "lead", -2), rev=0.3, hp=150, echo=(0.75 * 60 / s.bpm, 0.25, 0.2))
    if lead == "brass":
        _comp(s, lb, "brass", "X-.x....X-.x..x.", center=70, gain=0.9, bars=range(0, s.nbars, 2), top=3)
    _melody(s, lb, lead if lead != "brass" else "vocal", _SCALES["dorian"], 62, 84, unit=0.5,
            density=A["density"], motif_bars=2, rest=0.4, legato=0.9)


def _style_hiphop(s: _Song) -> None:
    v, rng, A = s.variant, s.rng, s.art
    swing = _swing(s, 0.54, 0.63) if v != 1 else 0.5
    s.setup(s.pick_tempo(), swing=swing, pair=0.5, jitter=0.006)
    progs = [[(0, "min7", 2)], [(0, "min7", 1), (8, "maj7", 1)], [(0, "min9", 2), (5, "min9", 2)],
             [(0, "min", 2), (10, "maj", 2)], [(2, "min9", 1), (7, "dom9", 1), (0, "maj9", 2)]]
    s.progression(progs[4 if v == 2 and rng.random() < 0.5 else int(rng.integers(4))])
    d = s.bus("drums", level=_lvl(s, "drums", 0), hp=30, lp=9000 if A["lofi"] else 13000, rev=0.08)
    kit: dict = {}
    if v == 1:
        s.kit_add(kit, "kick", _kick, f0=s.krng.uniform(42, 50), f1=120, decay=s.krng.uniform(0.3, 0.5), click=0.2, drive=2.5)
        s.kit_add(kit, "snare", _clap, decay=0.12)
        s.kit_add(kit, "hat", _hat, 3, decay=0.02, lo=7500)
    else:
        s.kit_add(kit, "kick", _kick, f0=s.krng.uniform(45, 56), f1=s.krng.uniform(120, 170),
                  decay=s.krng.uniform(0.2, 0.35), click=0.4, drive=3.0)
        s.kit_add(kit, "snare", _snare, tone=s.krng.uniform(170, 210), noise_decay=s.krng.uniform(0.12, 0.2), snap=0.75)
        s.kit_add(kit, "hat", _hat, 3, decay=0.035)
        s.kit_add(kit, "clap", _clap)
    kicks = ["X.....x...X.....", "X..x..x...X.....", "X.....x.x.X...x.", "X......x..X..x.."]
    _beat(s, d, kit, "kick", kicks[int(rng.integers(4))], 1.0, drop=0.08, ghost=0.02, kick=True)
    if v == 1:
        _beat(s, d, kit, "snare", "........X.......", 1.0)
        hat = "x.x.x.x.x.x.x.x." if rng.random() < 0.3 else "xxxxxxxxxxxxxxxx"
        _beat(s, d, kit, "hat", hat, 0.45, drop=0.1)
        for bar in range(1, s.nbars, 2):                       # hat rolls
            if rng.random() < 0.6:
                start = bar * 4 + float(rng.choice([1.5, 2.5, 3.0]))
                for k in range(int(rng.choice([4, 6, 8]))):
                    s.hit(d, kit["hat"], start + k / 6, 0.35, swing=False)
    else:
        _beat(s, d, kit, "snare", "....X.......X...", 1.0, ghost=0.02)
        if "clap" in kit and rng.random() < 0.3:
            _beat(s, d, kit, "clap", "....X.......X...", 0.6)
        _beat(s, d, kit, "hat", "x.x.x.x.x.x.x.x." if rng.random() < 0.6 else "x.xxx.xxx.xxx.xx", 0.5, drop=0.08)
    b = s.bus("bass", level=_lvl(s, "bass", -1), lp=1500 if v == 1 else 2500,
              drive=(2.0, 0.0) if v == 1 else None)
    if v == 1:
        _bassline(s, b, "sub808", kicks[0].replace("X", "r").replace("x", "r"), lo=29, legato=1.0)
    elif v == 2:
        _walking(s, b, "upright", lo=28, hi=45, gain=1.0, feel=2)
    elif v == 3:
        _bassline(s, b, "synth_bass", "r--.r..o.r---5..", lo=28, legato=0.85)
    else:
        _bassline(s, b, "bass", "r.....r...r-....", lo=28, legato=0.9, drop=0.1)
    k = s.bus("keys", level=_lvl(s, "keys", -5), rev=0.3, lp=4500 if A["lofi"] else 9000, hp=150)
    lead = A["lead"]
    if v == 0:
        _comp(s, k, lead, "X-.....x........", center=62, gain=0.8, bars=range(0, s.nbars, 1))
    elif v == 1:
        p = s.bus("pad", level=_lvl(s, "pad", -8), rev=0.5, lp=3000)
        _pad(s, p, "pad", center=58, gain=0.8)
        _melody(s, k, lead, _SCALES["minor"], 67, 84, unit=0.25, density=0.35, motif_bars=1, rest=0.2,
                legato=0.6, mutate=0.1)
    elif v == 2:
        _comp(s, k, "epiano", "x--.....x--.....", center=60, gain=0.8, rootless=True)
    else:
        _comp(s, k, "synth_pluck", "..x...x...x...x.", center=64, gain=0.5, legato=0.5)
        lb = s.bus("lead", level=_lvl(s, "lead", -4), rev=0.35, echo=(0.5 * 60 / s.bpm, 0.3, 0.3))
        _melody(s, lb, "whistle", _SCALES["minpent"], 72, 91, unit=0.5, density=0.35, motif_bars=2,
                rest=0.3, legato=1.0)
    if v == 2 and rng.random() < 0.6:
        lb = s.bus("lead", level=_lvl(s, "lead", -6), rev=0.4, lp=5000)
        _melody(s, lb, "reed", _SCALES["dorian"], 58, 79, unit=0.5, density=0.3, motif_bars=2, rest=0.5)
    if A["lofi"] or rng.random() < 0.3:
        _crackle(s, rate=rng.uniform(4.0, 20.0), level_db=rng.uniform(-6.0, 3.0))


def _style_jazz(s: _Song) -> None:
    v, rng, A = s.variant, s.rng, s.art
    s.setup(s.pick_tempo(), swing=_swing(s, 0.6, 0.7) if v != 1 else 0.62, jitter=0.01)
    progs = [[(2, "min7", 1), (7, "dom9", 1), (0, "maj7", 2)],
             [(2, "min9", 1), (7, "dom13", 1), (0, "maj9", 1), (9, "dom7", 1)],
             [(0, "maj7", 1), (9, "min7", 1), (2, "min7", 1), (7, "dom7", 1)],
             [(5, "maj7", 1), (4, "m7b5", 1), (9, "dom7", 1), (2, "min9", 1)]]
    if v == 3 and rng.random() < 0.5:      # jazz blues
        s.progression([(b, q, 1) for b, q in zip([0, 5, 0, 0, 5, 5, 0, 9, 2, 7, 0, 7],
                                                  ["dom9", "dom9", "dom7", "dom7", "dom9", "dom9", "dom7",
                                                   "dom7", "min7", "dom7", "dom9", "dom7"])])
    else:
        s.progression(progs[int(rng.integers(4))])
    d = s.bus("drums", level=_lvl(s, "drums", -8), hp=40, lp=6000, tilt=-1.0, rev=0.25)
    kit: dict = {}
    s.kit_add(kit, "ride", _ride, 3, decay=s.krng.uniform(0.6, 1.2), bell=s.krng.uniform(0.2, 0.5), hi=7000.0)
    s.kit_add(kit, "hat", _hat, 2, decay=0.03, lo=4500)
    s.kit_add(kit, "kick", _kick, 1, f0=s.krng.uniform(55, 70), decay=0.2, click=0.1, drive=1.0)
    s.kit_add(kit, "snare", _snare, 2, tone=s.krng.uniform(200, 260), noise_decay=0.09, snap=0.5)
    s.kit_add(kit, "brush", _brush, 3, decay=0.12)
    if v == 1:
        _beat(s, d, kit, "brush", "x.xx.x.xx.xx.x.x", 0.5, drop=0.2)
        _beat(s, d, kit, "hat", "..x...x.", 0.3)
    else:
        _beat(s, d, kit, "ride", "x.Xxx.Xx", 0.55, drop=0.05)
        _beat(s, d, kit, "hat", "..x...x.", 0.5)
        _beat(s, d, kit, "kick", "o.o.o.o.", 0.3, drop=0.3)
        _beat(s, d, kit, "snare", "........", 0.5, ghost=0.12)
    b = s.bus("bass", level=_lvl(s, "bass", -3), lp=2500, rev=0.1)
    if v == 3:
        s.bus("bass", lp=900)
        _walking(s, b, "organ", lo=31, hi=47, gain=1.0)
    else:
        _walking(s, b, "upright", lo=28, hi=47, gain=1.0, feel=2 if v == 1 else 1)
    k = s.bus("keys", level=_lvl(s, "keys", -5), rev=0.3, tilt=-0.3)
    comp_t = "organ_full" if v == 3 else ("epiano" if rng.random() < 0.3 else "piano")
    if v == 1:
        _arp(s, k, "piano", (0, 1, 2, 3, 4, 3, 2, 1), unit=0.5, center=58, gain=0.5, legato=2.5)
    else:
        for bar in range(s.nbars):
            pats = ["x--.....", "...x--..", ".x---...", "x...-x--", "..x...x.", "...x...x"]
            _comp(s, k, comp_t, pats[int(rng.integers(len(pats)))], center=60, gain=0.7, rootless=True,
                  bars=range(bar, bar + 1), legato=0.8)
    lead = A["lead"]
    lb = s.bus("lead", level=_lvl(s, "lead", -1), rev=0.3, hp=120, lp=5000)
    scale = _SCALES["bebop"] if v in (0, 2) else _SCALES["dorian"]
    lo = 55 if lead in ("reed", "clean") else 60
    _melody(s, lb, lead, scale, lo, lo + 24, unit=0.5 if v != 1 else 1.0, density=A["density"] + (0.2 if v == 2 else 0),
            motif_bars=1 if v == 2 else 2, rest=0.3, legato=0.9, snap=0.5, mutate=0.5, leap=0.3)


def _style_metal(s: _Song) -> None:
    v, rng, A = s.variant, s.rng, s.art
    s.setup(s.pick_tempo(), jitter=0.003)
    progs = [[(0, "5", 2), (1, "5", 1), (0, "5", 1)], [(0, "5", 1), (8, "5", 1), (10, "5", 1), (0, "5", 1)],
             [(0, "5", 2), (3, "5", 1), (5, "5", 1)], [(0, "5", 1), (0, "5", 1), (6, "5", 1), (5, "5", 1)]]
    s.progression(progs[int(rng.integers(4))])
    d = s.bus("drums", level=_lvl(s, "drums", -3), hp=40, lp=14000, rev=0.12)
    kit: dict = {}
    s.kit_add(kit, "kick", _kick, f0=s.krng.uniform(50, 62), f1=s.krng.uniform(180, 260), sweep=0.02,
              decay=0.09, click=0.9, drive=3.0)
    s.kit_add(kit, "snare", _snare, tone=s.krng.uniform(190, 240), noise_decay=0.12, snap=0.7)
    s.kit_add(kit, "hat", _hat, decay=0.03)
    s.kit_add(kit, "crash", _crash, 2, decay=s.krng.uniform(1.2, 2.0))
    s.kit_add(kit, "ride", _ride, 1, decay=1.0)
    s.kit_add(kit, "tom_hi", _kick, 1, f0=150, f1=220, decay=0.15, click=0.3, drive=1.5)
    s.kit_add(kit, "tom_lo", _kick, 1, f0=90, f1=140, decay=0.2, click=0.3, drive=1.5)
    half = v == 1 or (v == 3 and rng.random() < 0.5)
    if v == 1:
        _beat(s, d, kit, "kick", "X.x.....X.X.x...", 1.0)
        _beat(s, d, kit, "snare", "........X.......", 1.0)
        _beat(s, d, kit, "crash", "X.......X.......", 0.45)
    elif v == 3:
        _beat(s, d, kit, "kick", "X..x..X...x.X...", 1.0)
        _beat(s, d, kit, "snare", "........X......." if half else "....X.......X...", 1.0)
        _beat(s, d, kit, "hat" if rng.random() < 0.5 else "ride", "x.x.x.x.x.x.x.x.", 0.5)
    else:
        dbl = "XxXxXxXxXxXxXxXx" if s.bpm < 190 or v == 2 else "X.x.X.x.X.x.X.x."
        _beat(s, d, kit, "kick", dbl, 0.95)
        _beat(s, d, kit, "snare", "....X.......X..." if rng.random() < 0.7 else "..X...X...X...X.", 1.0)
        _beat(s, d, kit, "crash" if rng.random() < 0.6 else "ride", "X...x...x...x...", 0.45)
    _fills(s, d, kit, every=4, beats=1.0, crash=0.9)
    g = s.bus("gtr", level=_lvl(s, "gtr", 0), drive=(rng.uniform(25.0, 60.0), rng.uniform(0.3, 0.7)),
              hp=110, lp=rng.uniform(5500, 8000), tilt=1.0, rev=0.1)
    riffs = {0: ["mmmmmmmmP-mmP-mm", "mmP-mmP-mmmmP---", "mmmmmmmmmmmmP-P-"],
             1: ["P-------P-----mm", "P-----P---m.P---", "P---------------"],
             2: ["mmmmP-mmmmP-mmmm", "m.mmm.mmP---m.mm", "m.mmm.mmm.mmP-P-"],
             3: ["P--m..m.P-.m..m.", "mm.m..P-mm.m..P-", "P-.m.m..P---m.m."]}[v]
    lo = 35 if v in (1, 3) else 40
    _riff(s, g, riffs[int(rng.integers(3))], lo=lo, gain=1.0)
    b = s.bus("bass", level=_lvl(s, "bass", -6), lp=1800, drive=(4.0, 0.2))
    _riff(s, b, "n-n-n-n-n-n-n-n-" if v != 1 else "n-------n-------", lo=lo - 12, gain=1.0)
    lead = A["lead"]
    lb = s.bus("lead", level=_lvl(s, "lead", -4), drive=(rng.uniform(8, 20), 0.2) if lead == "bendlead" else None,
               rev=0.3, lp=6500, hp=200, echo=(0.375 * 60 / s.bpm * 2, 0.25, 0.2))
    scale = _SCALES["phrygian"] if rng.random() < 0.4 else _SCALES["harmonic" if v == 2 else "minor"]
    _melody(s, lb, lead, scale, 60, 86,
            unit=0.25 if v in (0, 2) else 0.5, density=A["density"], motif_bars=1 if v == 0 else 2,
            rest=0.55, legato=0.95, harmony=2 if v == 2 else 0, bars=range(2, s.nbars))


def _style_pop(s: _Song) -> None:
    v, rng, A = s.variant, s.rng, s.art
    s.setup(s.pick_tempo(), jitter=0.003)
    progs = [[(0, "maj", 1), (7, "maj", 1), (9, "min", 1), (5, "maj", 1)],
             [(9, "min", 1), (5, "maj", 1), (0, "maj", 1), (7, "maj", 1)],
             [(0, "maj", 1), (9, "min", 1), (5, "maj", 1), (7, "maj", 1)],
             [(5, "maj", 1), (0, "maj", 1), (7, "maj", 1), (9, "min", 1)],
             [(0, "add9", 1), (7, "sus4", 1), (9, "min7", 1), (5, "maj7", 1)]]
    s.progression(progs[int(rng.integers(5))])
    d = s.bus("drums", level=_lvl(s, "drums", -2), hp=35, lp=15000, rev=0.15)
    kit: dict = {}
    s.kit_add(kit, "kick", _kick, f0=s.krng.uniform(45, 58), decay=s.krng.uniform(0.15, 0.3), click=0.35, drive=2.0)
    s.kit_add(kit, "snare", _snare, tone=s.krng.uniform(180, 230), noise_decay=0.15)
    s.kit_add(kit, "clap", _clap, decay=0.1)
    s.kit_add(kit, "hat", _hat, 3, decay=0.03)
    s.kit_add(kit, "ohat", _hat, 1, decay=0.15)
    s.kit_add(kit, "shaker", _shaker, 3)
    s.kit_add(kit, "crash", _crash, 1)
    if v == 0:
        _beat(s, d, kit, "kick", "X...X...X...X...", 1.0, kick=True)
        _beat(s, d, kit, "clap", "....X.......X...", 0.8)
        _beat(s, d, kit, "ohat", "..x...x...x...x.", 0.4)
    elif v == 1:
        _beat(s, d, kit, "kick", "X.........X.....", 0.9, kick=True)
        _beat(s, d, kit, "snare", "........X.......", 0.8, bars=range(2, s.nbars))
        _beat(s, d, kit, "shaker", "x.x.x.x.x.x.x.x.", 0.3)
    elif v == 2:
        _beat(s, d, kit, "kick", "X.....x.X.......", 1.0, kick=True)
        _beat(s, d, kit, "clap", "....X.......X...", 0.9)
        _beat(s, d, kit, "hat", "xxxxxxxxxxxxxxxx", 0.35, drop=0.15)
    else:
        _beat(s, d, kit, "kick", "X.......X.X.....", 0.9, kick=True)
        _beat(s, d, kit, "snare", "....X.......X...", 0.9)
        _beat(s, d, kit, "hat", "x.x.x.x.x.x.x.x.", 0.45)
        _beat(s, d, kit, "shaker", "xoxoxoxoxoxoxoxo", 0.25)
    _fills(s, d, kit, every=8, beats=0.5, insts=("snare",), crash=0.5)
    b = s.bus("bass", level=_lvl(s, "bass", -4), lp=3000)
    if v in (0, 2):
        _bassline(s, b, "synth_bass", "r.r.r.r.r.r.r.ro" if v == 0 else "r..r..r.r..r..r.", lo=28, legato=0.8)
    else:
        _bassline(s, b, "bass", "r-----r-r-----5-" if v == 1 else "r.r.r.r.r.r.r.r.", lo=28, legato=0.9)
    k = s.bus("keys", level=_lvl(s, "keys", -5), rev=0.25, duck=0.3 if v != 1 else 0.0)
    if v == 1:
        _comp(s, k, "piano", "x---x---x---x---" if rng.random() < 0.5 else "x.x.x.x.x.x.x.x.", center=60, gain=0.8)
        st = s.bus("pad", level=_lvl(s, "pad", -8), rev=0.5)
        _pad(s, st, "strings", center=64, gain=0.7, bars=range(4, s.nbars))
    elif v == 2:
        _arp(s, k, "synth_pluck", (0, 1, 2, 1, 3, 2, 1, 2), unit=0.25, center=67, gain=0.6, legato=0.9)
        p = s.bus("pad", level=_lvl(s, "pad", -7), rev=0.4, duck=0.5)
        _pad(s, p, "pad", center=60, gain=0.8)
    elif v == 3:
        g = s.bus("gtr", level=_lvl(s, "gtr", -5), rev=0.2, hp=100)
        _comp(s, g, "steel" if rng.random() < 0.5 else "clean", "x.xx.xx.x.xx.xx.", center=60, gain=0.6, strum=0.012)
    else:
        _comp(s, k, "synth_pluck", "..x..x....x..x..", center=67, gain=0.7, legato=0.6)
        p = s.bus("pad", level=_lvl(s, "pad", -8), rev=0.4, duck=0.6)
        _pad(s, p, "pad", center=62, gain=0.8)
    lead = A["lead"]
    lb = s.bus("lead", level=_lvl(s, "lead", 0), rev=0.3, hp=160, echo=(0.75 * 60 / s.bpm, 0.3, 0.2))
    _melody(s, lb, lead, _SCALES["majpent"] if rng.random() < 0.5 else _SCALES["major"], 62, 82,
            unit=0.5, density=A["density"], motif_bars=1 if rng.random() < 0.5 else 2, rest=0.2,
            legato=0.95, mutate=0.15, snap=0.85)


def _style_reggae(s: _Song) -> None:
    v, rng, A = s.variant, s.rng, s.art
    s.setup(s.pick_tempo(), swing=_swing(s, 0.52, 0.6), pair=0.5, jitter=0.006)
    minor = v in (0, 1, 2) and rng.random() < 0.6
    progs = [[(0, "min", 2), (5, "min", 2)], [(0, "min", 1), (10, "maj", 1)], [(0, "min7", 4)]] if minor else \
        [[(0, "maj", 1), (5, "maj", 1), (7, "maj", 1), (5, "maj", 1)], [(0, "maj", 2), (5, "maj", 2)],
         [(0, "maj", 1), (7, "maj", 1), (9, "min", 1), (5, "maj", 1)]]
    s.progression(progs[int(rng.integers(len(progs)))])
    d = s.bus("drums", level=_lvl(s, "drums", -3), hp=40, lp=11000, rev=0.2,
              echo=(0.75 * 60 / s.bpm, 0.45, 0.25 if v == 2 else 0.08))
    kit: dict = {}
    s.kit_add(kit, "kick", _kick, f0=s.krng.uniform(48, 58), decay=0.22, click=0.2)
    s.kit_add(kit, "rim", _rim, 2)
    s.kit_add(kit, "snare", _snare, tone=s.krng.uniform(220, 280), noise_decay=0.09, snap=0.5)
    s.kit_add(kit, "hat", _hat, 3, decay=0.035)
    s.kit_add(kit, "ohat", _hat, 1, decay=0.15)
    if v == 1:
        _beat(s, d, kit, "kick", "X...X...X...X...", 1.0)
        _beat(s, d, kit, "rim", "........X.......", 0.8)
        _beat(s, d, kit, "hat", "x.x.x.x.x.x.x.x.", 0.4, ghost=0.1)
    else:
        _beat(s, d, kit, "kick", "........X.......", 1.0)
        _beat(s, d, kit, "rim" if rng.random() < 0.6 else "snare", "........X.......", 0.85)
        _beat(s, d, kit, "hat", "x.x.x.x.x.x.x.x." if v != 2 else "x...x...x...x...", 0.4, drop=0.1, ghost=0.05)
        _beat(s, d, kit, "ohat", "..............x.", 0.3, every=2)
    b = s.bus("bass", level=_lvl(s, "bass", 1), lp=rng.uniform(600, 1100), hp=30)
    bpats = ["r..r5...r.o.5.3.", "r-..r.3.5...o.5.", "r...5..r.3.r....", "r..5.....r.3.5.."]
    _bassline(s, b, "bass", bpats[int(rng.integers(4))], lo=26, legato=0.9, drop=0.05)
    k = s.bus("keys", level=_lvl(s, "keys", -6), hp=250, lp=7000, rev=0.2,
              echo=(0.75 * 60 / s.bpm, 0.5, 0.35 if v == 2 else 0.12))
    skank = "..x...x...x...x." if v == 1 or rng.random() < 0.5 else "....x.......x..."
    _comp(s, k, "clean" if rng.random() < 0.5 else "steel", skank, center=64, gain=0.8, legato=0.25, top=3,
          drop=0.15 if v == 2 else 0.0)
    o = s.bus("pad", level=_lvl(s, "pad", -9), rev=0.2, hp=150)
    _comp(s, o, "organ", ".xx..xx..xx..xx." if rng.random() < 0.5 else "..x...x...x...x.", center=58, gain=0.6,
          legato=0.5, top=3)
    if v == 3:
        p = s.bus("pad", rev=0.4)
        _pad(s, p, "pad", center=64, gain=0.5)
    lead = A["lead"]
    lb = s.bus("lead", level=_lvl(s, "lead", -2 if v != 2 else -6), rev=0.35, hp=150,
               echo=(0.75 * 60 / s.bpm, 0.4, 0.3))
    _melody(s, lb, lead, _SCALES["minpent"] if minor else _SCALES["majpent"], 60, 82, unit=0.5,
            density=A["density"] * (0.6 if v == 2 else 1.0), motif_bars=2, rest=0.35 if v != 2 else 0.6,
            legato=0.9)


def _style_rock(s: _Song) -> None:
    v, rng, A = s.variant, s.rng, s.art
    s.setup(s.pick_tempo(), swing=_swing(s, 0.58, 0.66) if v == 3 else 0.5, jitter=0.005)
    progs = [[(0, "5", 1), (10, "5", 1), (5, "5", 1), (0, "5", 1)], [(0, "5", 1), (5, "5", 1), (7, "5", 1), (5, "5", 1)],
             [(0, "5", 2), (5, "5", 1), (7, "5", 1)], [(9, "5", 1), (5, "5", 1), (0, "5", 1), (7, "5", 1)]]
    if v == 3:
        s.progression([(b, "dom7", 1) for b in [0, 0, 0, 0, 5, 5, 0, 0, 7, 5, 0, 7]])
    else:
        s.progression(progs[int(rng.integers(4))])
    d = s.bus("drums", level=_lvl(s, "drums", -2), hp=40, lp=13000, rev=0.18)
    kit: dict = {}
    s.kit_add(kit, "kick", _kick, f0=s.krng.uniform(50, 62), decay=s.krng.uniform(0.12, 0.22), click=0.5, drive=2.0)
    s.kit_add(kit, "snare", _snare, tone=s.krng.uniform(180, 230), noise_decay=s.krng.uniform(0.12, 0.2))
    s.kit_add(kit, "hat", _hat, 3, decay=0.04)
    s.kit_add(kit, "ride", _ride, 1, decay=1.2)
    s.kit_add(kit, "crash", _crash, 2)
    s.kit_add(kit, "tom_hi", _kick, 1, f0=140, f1=210, decay=0.16, click=0.2, drive=1.2)
    s.kit_add(kit, "tom_lo", _kick, 1, f0=85, f1=130, decay=0.22, click=0.2, drive=1.2)
    if v == 3:
        _beat(s, d, kit, "hat", "xxxxxxxx", 0.5)
        _beat(s, d, kit, "kick", "x...x.x.", 0.9)
        _beat(s, d, kit, "snare", "..X...X.", 0.9)
    else:
        cym = "ride" if v == 2 and rng.random() < 0.4 else "hat"
        _beat(s, d, kit, cym, "x.x.x.x.x.x.x.x." if v != 1 else "xxxxxxxxxxxxxxxx", 0.5, ghost=0.04)
        _beat(s, d, kit, "kick", ["X.......X.x.....", "X.x.....X.x.....", "X...X...X...X..."][v % 3], 0.95, drop=0.05)
        _beat(s, d, kit, "snare", "....X.......X...", 1.0, ghost=0.04)
    _fills(s, d, kit, every=4 if v == 1 else 8, beats=1.0, crash=0.8)
    gain_amt = {0: (5.0, 12.0), 1: (10.0, 25.0), 2: (1.5, 4.0), 3: (4.0, 10.0)}[v]
    g = s.bus("gtr", level=_lvl(s, "gtr", -1), drive=(rng.uniform(*gain_amt), rng.uniform(0.0, 0.3)),
              hp=90, lp=rng.uniform(4500, 6500), tilt=0.5, rev=0.15)
    riffs = {0: ["P---P-p-P---p-P-", "P-.pP-.pP-.pP-.p", "P-----p-P---P-p-"],
             1: ["PpPpPpPpPpPpPpPp", "P-p-P-p-P-p-P-p-", "PpPpPpPpP-P-P-P-"],
             2: ["P.......P.......", "P---p---P---p---", "n.n.n.n.n.n.n.n."],
             3: ["n-n-n-n-", "P--pP--p", "n-5-6-5-"]}[v]
    riff = riffs[int(rng.integers(3))]
    if v == 3 and "5" in riff:
        _bassline(s, g, "drive", riff, lo=40, gain=0.9)
    else:
        _riff(s, g, riff, lo=40, gain=1.0)
    if v == 2:
        c = s.bus("keys", level=_lvl(s, "keys", -6), rev=0.3, hp=150)
        _arp(s, c, "clean", (0, 2, 1, 3, 2, 1, 4, 2), unit=0.5, center=64, gain=0.6)
    if v == 3 and rng.random() < 0.5:
        o = s.bus("pad", level=_lvl(s, "pad", -8), rev=0.3)
        _pad(s, o, "organ_full", center=60, gain=0.8)
    b = s.bus("bass", level=_lvl(s, "bass", -4), lp=2500)
    _bassline(s, b, "bass", "r.r.r.r.r.r.r.r." if v != 3 else "r.3.5.6.", lo=28, legato=0.85)
    lead = A["lead"]
    lb = s.bus("lead", level=_lvl(s, "lead", -2), rev=0.3, hp=180, lp=6500,
               drive=(rng.uniform(4, 12), 0.0) if lead == "bendlead" else None)
    scale = _SCALES["minpent"] if lead in ("bendlead", "harp") else _SCALES["major"]
    _melody(s, lb, lead, scale, 60, 84, unit=0.5, density=A["density"], motif_bars=2, rest=0.4, legato=0.95)


_STYLES: dict[str, Callable[[_Song], None]] = {
    "blues": _style_blues, "classical": _style_classical, "country": _style_country, "disco": _style_disco,
    "hiphop": _style_hiphop, "jazz": _style_jazz, "metal": _style_metal, "pop": _style_pop,
    "reggae": _style_reggae, "rock": _style_rock,
}


# --------------------------------------------------------------------------------------
# mixing
# --------------------------------------------------------------------------------------

def _fast_len(n: int) -> int:
    """Smallest 2^a 3^b 5^c >= n (a fast FFT size)."""
    best = 1 << (n - 1).bit_length()
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            q = -(-n // p35)
            best = min(best, (1 << (q - 1).bit_length()) * p35)
            p35 *= 3
        p5 *= 5
    return best


def _eq(f: np.ndarray, hp: float, lp: float, tilt: float) -> np.ndarray:
    """Zero-phase magnitude response: 2nd-order-ish high/low pass and a dB/octave tilt."""
    h = np.ones_like(f)
    if hp > 0:
        r = np.square(f * np.float32(1.0 / hp))
        h = r / np.sqrt(1.0 + r * r)
    if lp > 0:
        r = np.square(f * np.float32(1.0 / lp))
        h /= np.sqrt(1.0 + r * r)
    if tilt:
        h *= np.exp(np.float32(tilt / 6.02) * np.log(np.maximum(f, np.float32(20.0)) * np.float32(1e-3)))
    return h


@lru_cache(maxsize=2)
def _white(nf: int) -> np.ndarray:
    """Complex white noise, shared by all clips of one length (each clip rotates it)."""
    w = _rng("hiss", SYNTH_VERSION, nf).standard_normal(2 * nf, dtype=np.float32).view(np.complex64)
    w.setflags(write=False)
    return w


@lru_cache(maxsize=8)
def _room(genre: str, artist: int, seed: int, nfft: int, sr: int) -> np.ndarray:
    """Spectrum of the artist's room: a decaying noise tail after a short pre-delay,
    normalised to unit energy (so a send of 1 is as loud as the dry signal)."""
    A = _artist_palette(genre, artist, seed)
    r = _rng("room", SYNTH_VERSION, seed, genre, artist)
    room = A["room"]
    ir_len = min(int(min(room, 3.0) * sr), nfft)
    t = np.arange(ir_len) / sr
    ir = r.standard_normal(ir_len) * np.exp(-6.9 * t / room)
    pre = int(r.uniform(0.008, 0.03) * sr)
    ir = np.concatenate([np.zeros(pre), ir])[:ir_len]
    spec = np.fft.rfft(ir, nfft) / math.sqrt(float(np.sum(ir ** 2)) + 1e-12)
    f = np.fft.rfftfreq(nfft, 1.0 / sr)
    spec /= np.sqrt(1.0 + np.square(f / A["damp"]))           # highs die faster
    spec = spec.astype(np.complex64)
    spec.setflags(write=False)
    return spec


def _mix(s: _Song) -> np.ndarray:
    """Level, drive, duck and EQ every bus, add reverb/echo sends, noise, limiting, -1 dBFS.

    All filtering is circular over a fast FFT length just above the clip: tails that run
    off the end wrap into the start, like the ringing of music before the excerpt."""
    sr, n, rng, A = s.sr, s.n, s.rng, s.art
    nfft = 8 * _fast_len(-(-n // 8))        # divisible by every bus's rate divisor
    f = np.fft.rfftfreq(nfft, 1.0 / sr).astype(np.float32)
    nf = len(f)
    kicks = np.array(sorted(set(s.kicks)), dtype=np.int64)
    kicks = kicks[(kicks >= 0) & (kicks < n)]
    duck_env = None
    if len(kicks) and any(fx["duck"] for fx in s.fx.values()):
        marker = np.zeros(n, dtype=np.int64)
        marker[kicks] = kicks
        since = (np.arange(n) - np.maximum.accumulate(marker)).astype(np.float32)
        since[: kicks[0]] = 1e9
        duck_env = np.exp(since * np.float32(-1.0 / (0.12 * sr)))
    dry = np.zeros(nf, dtype=np.complex128)
    rev_send = None
    echo_sends: dict[tuple[float, float], np.ndarray] = {}
    for name, x in s.buses.items():
        fx, div = s.fx[name], s.div[name]
        peak = max(float(x.max()), -float(x.min()))
        if peak <= 0:
            continue
        if fx["drive"]:
            g, hard = fx["drive"]
            x = x * np.float32(g / peak)
            x = np.float32(1.0 - hard) * np.tanh(x) + np.float32(hard) * np.clip(x, -1.0, 1.0)
        if fx["duck"] and duck_env is not None:
            x = x * (1.0 - np.float32(fx["duck"]) * duck_env[::div])
        e = np.square(x)
        active = np.count_nonzero(e > np.float32(1e-6) * e.max())
        rms = math.sqrt(float(e.sum(dtype=np.float64)) / active) if active else 1.0
        # a bus at sr/div: its rfft over nfft/div points gives exactly the first bins of the
        # full-rate spectrum (same bin spacing), scaled by 1/div
        spec = np.fft.rfft(x.astype(np.float64), nfft // div)  # (float64: the faster pocketfft path)
        k = len(spec)
        h = _eq(f[:k], fx["hp"], fx["lp"], fx["tilt"])
        h *= np.float32(div * 10.0 ** (fx["level"] / 20.0) / rms)
        spec *= h
        dry[:k] += spec
        if fx["rev"] > 0:
            if rev_send is None:
                rev_send = np.zeros(nf, dtype=np.complex128)
            rev_send[:k] += fx["rev"] * spec
        if fx["echo"] and fx["echo"][2] > 0:
            dt, fb, send = fx["echo"]
            key = (float(dt), float(fb))
            if key not in echo_sends:
                echo_sends[key] = np.zeros(nf, dtype=np.complex128)
            echo_sends[key][:k] += send * spec
    total = dry
    if rev_send is not None:
        rev_send *= _room(s.genre, s.variant, s.art_seed, nfft, sr)
        rev_send *= A["wet"] * rng.uniform(0.8, 1.2)
        total += rev_send
    for (dt, fb), send in echo_sends.items():
        w = np.float32(2.0 * np.pi * dt) * f
        z = np.empty(nf, dtype=np.complex64)
        z.real = np.cos(w)
        z.imag = -np.sin(w)
        send *= z / ((1.0 - fb * z) * np.sqrt(1.0 + np.square(f / np.float32(2500.0))))
        total += send
    lofi = A["lofi"] and rng.random() < 0.8
    total *= _eq(f, rng.uniform(150, 300) if lofi else 25.0, rng.uniform(3500, 7000) if lofi else 0.0,
                 A["tilt"] + rng.normal(0.0, 0.35))
    # hiss / room noise at the artist's SNR (Parseval estimate of the music's power)
    power = 2.0 * float(np.vdot(total, total).real) / (nfft * float(nfft))
    snr = A["hiss"] - (12.0 if lofi else 0.0) + rng.normal(0.0, 3.0)
    shape = _eq(f, 40.0, 9000.0 if lofi else 0.0, -3.0 if lofi else -1.5)
    noise = np.roll(_white(nf), int(rng.integers(nf)))
    noise *= shape
    npow = 2.0 * float(np.vdot(noise, noise).real) / (nfft * float(nfft))
    noise *= math.sqrt(power * 10.0 ** (-snr / 10.0) / max(npow, 1e-30))
    total += noise
    y = np.fft.irfft(total.astype(np.complex64), nfft)[:n]
    if s.crackle is not None:
        pos, amp = s.crackle
        np.add.at(y, pos, (amp * math.sqrt(power) * 8.0).astype(y.dtype))
    # bus compression / soft limiting
    drive = {"metal": 2.5, "rock": 1.8, "pop": 1.8, "disco": 1.4, "hiphop": 1.6}.get(s.genre, 0.8)
    y *= np.float32(drive * rng.uniform(0.7, 1.3) / (max(float(y.max()), -float(y.min())) + 1e-12))
    y = np.tanh(y)
    peak = max(float(y.max()), -float(y.min()))
    if not np.isfinite(peak) or peak < 1e-6:            # never silent
        y = rng.standard_normal(n).astype(np.float32) * np.float32(0.1)
        peak = max(float(y.max()), -float(y.min()))
    return (y * np.float32(_PEAK / peak)).astype(np.float32)


# --------------------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------------------

def synthesize_clip(genre: str, index: int, seed: int = 0, seconds: float = 30.0,
                    sr: int = SAMPLE_RATE) -> np.ndarray:
    """Render synthetic clip ``index`` of style ``genre``: mono float32, ``round(seconds * sr)``
    samples, peak-normalised to -1 dBFS.  Deterministic in ``(genre, index, seed, seconds, sr)``.

    Raises ``ValueError`` for an unknown genre, a negative index or a non-positive length.
    """
    _check(genre, index)
    if not seconds > 0 or sr <= 0:
        raise ValueError(f"seconds and sr must be positive, got {seconds} and {sr}")
    song = _Song(genre, int(index), int(seed), float(seconds), int(sr))
    _STYLES[genre](song)
    return _mix(song)


def _stamp(genre: str, index: int, seed: int, seconds: float) -> str:
    return f"genrec synthetic v{SYNTH_VERSION} genre={genre} index={index} seed={seed} seconds={seconds:g}"


def _is_current(path: Path, frames: int, stamp: str, sr: int) -> bool:
    import soundfile as sf
    try:
        with sf.SoundFile(str(path)) as fh:
            return fh.frames == frames and fh.samplerate == sr and fh.channels == 1 and fh.comment == stamp
    except Exception:  # unreadable or truncated: regenerate
        return False


def _build_one(root: str, genre: str, index: int, seed: int, seconds: float) -> dict:
    """Render and write one clip (atomically) unless an identical one is already there."""
    import soundfile as sf
    tid = track_id(genre, index)
    folder = Path(root) / genre
    path = folder / f"{tid}.flac"
    stamp = _stamp(genre, index, seed, seconds)
    frames = max(1, int(round(seconds * SAMPLE_RATE)))
    row = {"track_id": tid, "path": str(path), "genre": genre, "artist": artist_of(genre, index)}
    if path.exists() and _is_current(path, frames, stamp, SAMPLE_RATE):
        return row
    folder.mkdir(parents=True, exist_ok=True)
    audio = synthesize_clip(genre, index, seed, seconds, SAMPLE_RATE)
    tmp = folder / f".{tid}.{os.getpid()}.tmp"
    try:
        with sf.SoundFile(str(tmp), "w", samplerate=SAMPLE_RATE, channels=1, format="FLAC",
                          subtype="PCM_16") as fh:
            fh.comment = stamp
            fh.artist = row["artist"]
            fh.genre = f"{genre} (synthetic)"
            fh.title = f"{tid} (synthetic)"
            fh.write(audio)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return row


def write_library(root: Path, clips_per_genre: int = 20, seed: int = 0, seconds: float = 30.0,
                  workers: int = 2, progress: Callable[[int, int], None] | None = None) -> list[dict]:
    """Write <root>/<genre>/<genre>.000NN.flac (16-bit FLAC via soundfile, atomic: write to a temp name
    then os.replace) and return rows {"track_id": "<genre>.000NN", "path": str, "genre": ..., "artist": ...}
    in genre/index order.  progress(done, total) is called after each clip.  Files already present with
    the right length (and made by this generator with the same seed/version) are not regenerated."""
    if clips_per_genre < 0:
        raise ValueError(f"clips_per_genre must be >= 0, got {clips_per_genre}")
    if not seconds > 0:
        raise ValueError(f"seconds must be positive, got {seconds}")
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    jobs = [(g, i) for g in GENRES for i in range(clips_per_genre)]
    total = len(jobs)
    rows: dict[tuple[str, int], dict] = {}
    workers = max(1, min(int(workers), total or 1))

    def finished(job: tuple[str, int], row: dict) -> None:
        rows[job] = row
        if progress:
            progress(len(rows), total)

    if workers > 1:
        try:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                futs = {pool.submit(_build_one, str(root), g, i, seed, seconds): (g, i) for g, i in jobs}
                for fut in as_completed(futs):
                    finished(futs[fut], fut.result())
        except (OSError, BrokenProcessPool):
            pass            # no usable process pool here (sandbox, no /dev/shm): finish serially
    for g, i in jobs:
        if (g, i) not in rows:
            finished((g, i), _build_one(str(root), g, i, seed, seconds))
    return [rows[j] for j in jobs]
