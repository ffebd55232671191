"""One clip in the making: its random streams, artist palette, tempo map, chord
progression and the buses that parts write notes and drum hits onto."""

from __future__ import annotations

import bisect
import math

import numpy as np

from genrec.data.synth.artists import artist_palette
from genrec.data.synth.drums import kit_sound
from genrec.data.synth.seeds import ARTISTS_PER_GENRE, SYNTH_VERSION, seeded_rng
from genrec.data.synth.theory import CHORDS, midi_to_hz
from genrec.data.synth.voices import TIMBRES, render_note

_BASS_DIV = 4
_BUS_DEFAULTS = dict(level=0.0, hp=0.0, lp=0.0, tilt=0.0, rev=0.0, echo=None, drive=None, duck=0.0)


class Song:
    """Everything one clip needs: rng, artist palette, tempo map, buses.

    ``flavour`` is the artist's index (0-3) into its style's ``FLAVOURS`` list;
    ``rng`` draws everything clip-specific, ``kit_rng`` the artist's drum kit."""

    def __init__(self, genre: str, index: int, seed: int, seconds: float, sr: int):
        self.genre, self.sr = genre, sr
        self.n_samples = max(1, int(round(seconds * sr)))
        self.seconds = self.n_samples / sr
        self.palette = artist_palette(genre, index % ARTISTS_PER_GENRE, seed)
        self.seed = seed
        self.flavour = self.palette["variant"]
        self.rng = seeded_rng("clip", SYNTH_VERSION, seed, genre, index)
        self.kit_rng = seeded_rng("kit", SYNTH_VERSION, seed, genre, index % ARTISTS_PER_GENRE)
        self.buses: dict[str, np.ndarray] = {}
        self.fx: dict[str, dict] = {}
        self.div: dict[str, int] = {}
        self.kicks: list[int] = []
        self.crackle: tuple[np.ndarray, np.ndarray] | None = None
        self._cache: dict[tuple, np.ndarray] = {}
        self.key = self.palette["key"] if self.rng.random() < 0.7 else int(self.rng.choice(self.palette["keys"]))
        self.chords: list[tuple[float, float, int, tuple[int, ...]]] = []
        self._starts: list[float] = []
        self.setup(120.0)

    # ---- timing
    def pick_tempo(self) -> float:
        """A tempo near the artist's centre, inside its flavour's range."""
        lo, hi = self.palette["range"]
        return float(np.clip(self.rng.normal(self.palette["tempo"], 0.06 * (hi - lo) + 1.5), lo, hi))

    def setup(
        self,
        bpm: float,
        swing: float = 0.5,
        pair: float = 1.0,
        rubato: float = 0.0,
        bpb: int = 4,
        jitter: float = 0.005,
    ) -> None:
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
            curve = 1.0 + rubato * (
                np.sin(2 * np.pi * b / (2 * bpb) + ph[0])
                + 0.6 * np.sin(2 * np.pi * b / (4 * bpb) + ph[1])
                - 0.8 * np.exp(-(((b % (4 * bpb)) - 4 * bpb + 1) ** 2))
            )
            dt = 60.0 / (bpm * np.clip(curve, 0.5, 1.5)) / res
            self._tb, self._tt = b, np.concatenate([[0.0], np.cumsum(dt[:-1])])
        else:
            self._tb = self._tt = None

    def time(self, beat: float, swing: bool = True) -> float:
        """Seconds from the clip start of ``beat`` (after swing and rubato)."""
        if swing and self.swing != 0.5:
            q, f = divmod(beat / self.pair, 1.0)
            s = self.swing
            f = f * 2 * s if f < 0.5 else s + (f - 0.5) * 2 * (1 - s)
            beat = (q + f) * self.pair
        t = beat * 60.0 / self.bpm if self._tt is None else float(np.interp(beat, self._tb, self._tt))
        return t - self.offset

    def jitter_offset(self, amount: float | None) -> float:
        """A random timing error in seconds (``None``: the song's own jitter)."""
        j = self.jitter if amount is None else amount
        return float(self.rng.normal(0.0, j)) if j > 0 else 0.0

    def swing_ratio(self, lo: float, hi: float) -> float:
        """A swing ratio where the artist sits in the style's range ``lo``..``hi``."""
        return float(np.clip(lo + (hi - lo) * self.palette["swing"] + self.rng.normal(0, 0.015), 0.5, 0.72))

    # ---- buses
    def bus_level(self, bus: str, db: float) -> float:
        """A bus level in dB: the style's ``db``, the artist's offset and a little per-clip variation."""
        return db + self.palette["levels"].get(bus, 0.0) + float(self.rng.normal(0.0, 1.2))

    def bus(self, name: str, **fx) -> str:
        """Create (or update the effects of) a bus.  The bass bus, unless distorted, runs at a
        quarter of the sample rate: its content is band-limited anyway, and its FFT and notes
        then cost a quarter as much (the mix upsamples it exactly in the frequency domain)."""
        if name not in self.buses:
            div = _BASS_DIV if name == "bass" and not fx.get("drive") else 1
            self.div[name] = div
            self.buses[name] = np.zeros(-(-self.n_samples // div), dtype=np.float32)
            self.fx[name] = dict(_BUS_DEFAULTS)
        self.fx[name].update(fx)
        return name

    def put(self, bus: str, buf: np.ndarray, t: float, gain: float = 1.0) -> None:
        """Add ``buf`` onto ``bus`` at ``t`` seconds (clipped to the clip)."""
        arr = self.buses[bus]
        i = int(round(t * self.sr / self.div[bus]))
        if i >= len(arr) or i + len(buf) <= 0:
            return
        if i < 0:
            buf, i = buf[-i:], 0
        j = min(len(arr), i + len(buf))
        arr[i:j] += np.float32(gain) * buf[: j - i]

    def hit(
        self,
        bus: str,
        samples: list[np.ndarray],
        beat: float,
        gain: float = 1.0,
        swing: bool = True,
        jitter: float | None = None,
    ) -> None:
        """Place one of a drum's takes ``samples`` at ``beat``, with a little velocity variation."""
        assert self.div[bus] == 1, "drum samples need a full-rate bus"
        buf = samples[int(self.rng.integers(len(samples)))] if len(samples) > 1 else samples[0]
        t = self.time(beat, swing) + self.jitter_offset(jitter)
        self.put(bus, buf, t, gain * (1.0 + 0.08 * self.rng.standard_normal()))

    def play(
        self,
        bus: str,
        timbre: str,
        midi: int,
        beat: float,
        length: float,
        gain: float = 1.0,
        swing: bool = True,
        jitter: float | None = None,
        delay: float = 0.0,
    ) -> None:
        """Render (or reuse) a note of ``timbre`` and place it at ``beat`` for ``length`` beats."""
        t0 = self.time(beat, swing)
        t = t0 + self.jitter_offset(jitter) + delay
        if t >= self.seconds:
            return
        dur = max(0.03, self.time(beat + length, swing) - t0)
        q = max(1, int(round(dur * 40)))
        div = self.div[bus]
        key = (timbre, int(midi), q, div)
        buf = self._cache.get(key)
        if buf is None:
            buf = render_note(TIMBRES[timbre], midi_to_hz(midi), q / 40.0, self.sr / div, self.rng)
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
                self.chords.append((beat, bars * self.bpb, (self.key + off) % 12, CHORDS[q]))
                beat += bars * self.bpb
        self._starts = [c[0] for c in self.chords]

    def chord_at(self, beat: float) -> tuple[float, float, int, tuple[int, ...]]:
        """The chord sounding at ``beat``: (start beat, length in beats, root pitch class, intervals)."""
        i = max(0, bisect.bisect_right(self._starts, beat + 1e-9) - 1)
        return self.chords[i]

    # ---- drum helper
    def kit_add(self, kit: dict, name: str, fn, variants: int = 2, **kw) -> None:
        """Add ``variants`` takes of a drum sound.  A kit belongs to the artist (its parameters
        come from ``self.kit_rng``), so the sounds are cached across that artist's clips."""
        kit[name] = list(
            kit_sound(self.genre, self.flavour, self.seed, self.sr, name, fn, variants, tuple(sorted(kw.items())))
        )
