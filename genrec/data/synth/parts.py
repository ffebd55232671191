"""Parts: the musical lines a style lays onto a ``Song`` -- drum patterns and fills,
melodies, bass lines (patterned and walking), chord hits, sustained chords,
arpeggios, distorted-guitar riffs and vinyl crackle.

Patterns are one-bar strings of steps: ``X`` accent, ``x`` hit, ``o`` ghost note,
``-`` hold the previous step, ``.`` rest (bass lines and riffs add their own letters).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from genrec.data.synth.song import Song
from genrec.data.synth.theory import close_voicing, fold_octaves

_VELOCITY = {"X": 1.0, "x": 0.72, "o": 0.33}


def _pattern_steps(pattern: str) -> Iterator[tuple[int, str, int]]:
    """(position, symbol, length in steps) of each step of a one-bar pattern; a '-' lengthens the step before."""
    start = 0
    while start < len(pattern):
        end = start + 1
        while end < len(pattern) and pattern[end] == "-":
            end += 1
        yield start, pattern[start], end - start
        start = end


def drum_pattern(
    song: Song,
    bus: str,
    kit: dict,
    inst: str,
    pat: str,
    gain: float = 1.0,
    drop: float = 0.0,
    ghost: float = 0.0,
    bars: range | None = None,
    swing: bool = True,
    every: int = 1,
    kick: bool = False,
) -> None:
    """Repeat a one-bar step pattern ('X' accent, 'x' hit, 'o' ghost, '.' rest)."""
    if inst not in kit:
        return
    step = song.bpb / len(pat)
    for bar in bars if bars is not None else range(song.nbars):
        if bar % every:
            continue
        for i, ch in enumerate(pat):
            v = _VELOCITY.get(ch, 0.0)
            if v == 0.0:
                if ghost and song.rng.random() < ghost:
                    v = 0.3
                else:
                    continue
            elif drop and ch != "X" and song.rng.random() < drop:
                continue
            beat = bar * song.bpb + i * step
            song.hit(bus, kit[inst], beat, gain * v, swing)
            if kick:
                song.kicks.append(int(round(song.time(beat, swing) * song.sr)))


def drum_fills(
    song: Song,
    bus: str,
    kit: dict,
    every: int = 4,
    gain: float = 0.9,
    crash: float = 0.8,
    insts: tuple[str, ...] = ("snare", "tom_hi", "tom_lo"),
    beats: float = 1.0,
) -> None:
    """A 16th-note fill in the last beat(s) of every ``every`` bars, then a crash."""
    for bar in range(every - 1, song.nbars, every):
        if song.rng.random() < 0.25:
            continue
        end = (bar + 1) * song.bpb
        nsteps = int(beats * 4)
        for k in range(nsteps):
            inst = insts[min(len(insts) - 1, k * len(insts) // nsteps)]
            if inst in kit and song.rng.random() < 0.85:
                song.hit(bus, kit[inst], end - beats + k * 0.25, gain * (0.6 + 0.4 * k / nsteps), False)
        if "crash" in kit and crash > 0:
            song.hit(bus, kit["crash"], end, crash, False)


def _scale_pitch(song: Song, scale: tuple[int, ...], deg: int, lo: int) -> int:
    base = lo + ((song.key - lo) % 12)
    o, r = divmod(deg, len(scale))
    return base + 12 * o + scale[r]


def melody(
    song: Song,
    bus: str,
    timbre: str | tuple[str, ...],
    scale: tuple[int, ...],
    lo: int,
    hi: int,
    unit: float = 0.5,
    density: float = 0.55,
    motif_bars: int = 2,
    legato: float = 0.9,
    gain: float = 1.0,
    rest: float = 0.25,
    snap: float = 0.7,
    leap: float = 0.15,
    bars: range | None = None,
    mutate: float = 0.3,
    harmony: int = 0,
) -> None:
    """Motif-based melody: a random rhythm + scale-degree walk repeated with variations,
    strong beats snapped to chord tones.  ``timbre`` may be a tuple (alternatives per note)."""
    rng = song.rng
    spb = int(round(song.bpb / unit))
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
    lens = [b - a for a, b in zip(onsets, [*onsets[1:], length])]
    timbres = (timbre,) if isinstance(timbre, str) else tuple(timbre)
    bar_range = bars if bars is not None else range(song.nbars)
    for block in range(bar_range.start, bar_range.stop, motif_bars):
        if block > bar_range.start and rng.random() < rest:
            continue
        shift = int(rng.choice([0, 0, 0, 2, -2, 4])) if rng.random() < 0.4 else 0
        for on, dg, ln in zip(onsets, degs, lens):
            if rng.random() < mutate * 0.3:
                continue
            if rng.random() < mutate:
                dg += int(rng.choice([-2, -1, 1, 2]))
            beat = block * song.bpb + on * unit
            pitch = _scale_pitch(song, scale, dg + shift, lo)
            if (on * unit) % 1 == 0 and rng.random() < snap:
                _, _, root, ivs = song.chord_at(beat)
                pcs = {(root + iv) % 12 for iv in ivs}
                if pitch % 12 not in pcs:
                    for delta in (1, -1, 2, -2):
                        if (pitch + delta) % 12 in pcs:
                            pitch += delta
                            break
            pitch = fold_octaves(pitch, lo, hi)
            tb = timbres[int(rng.integers(len(timbres)))] if len(timbres) > 1 else timbres[0]
            vel = gain * (0.8 + 0.4 * rng.random())
            song.play(bus, tb, pitch, beat, ln * unit * legato, vel)
            if harmony:
                hp = _scale_pitch(song, scale, dg + shift + harmony, lo)
                song.play(bus, tb, fold_octaves(hp, lo, hi + 7), beat, ln * unit * legato, vel * 0.7)


def bassline(
    song: Song, bus: str, timbre: str, pat: str, lo: int = 28, gain: float = 1.0, drop: float = 0.0, legato: float = 0.9
) -> None:
    """Per-bar bass pattern: 'r' root, 'o' octave, '5' fifth, '3' third, '7' seventh, '6' sixth,
    'a' chromatic approach to the next chord's root, '-' hold previous, '.' rest."""
    step = song.bpb / len(pat)
    for bar in range(song.nbars):
        for i, ch, held in _pattern_steps(pat):
            if ch not in ".-" and not (drop and i > 0 and song.rng.random() < drop):
                beat = bar * song.bpb + i * step
                _, _, root, ivs = song.chord_at(beat)
                r = fold_octaves(root, lo, lo + 11)
                third = 3 if 3 in ivs else 4
                sev = 10 if 10 in ivs else (11 if 11 in ivs else 9)
                off = {"r": 0, "o": 12, "5": 7, "3": third, "7": sev, "6": 9}.get(ch)
                if ch == "a":
                    nxt = song.chord_at(beat + song.bpb - (beat % song.bpb) + 1e-6)[2]
                    p = fold_octaves(nxt, lo, lo + 11) + int(song.rng.choice([-1, 1]))
                else:
                    p = r + (off or 0)
                song.play(bus, timbre, p, beat, held * step * legato, gain * (0.85 + 0.3 * song.rng.random()))


def walking_bass(
    song: Song, bus: str, timbre: str, lo: int = 28, hi: int = 50, gain: float = 1.0, feel: int = 1
) -> None:
    """Walking bass in quarters (feel=1) or a two-feel (feel=2): roots on chord changes,
    chord/scale tones in between, chromatic approach into the next chord."""
    prev = None
    for beat in range(0, song.nbeats, feel):
        start, _, root, ivs = song.chord_at(beat)
        nxt_root = song.chord_at(beat + feel)[2]
        changes = song.chord_at(beat + feel)[0] != start
        if beat == start or prev is None:
            cands = [p for p in range(lo, hi + 1) if p % 12 == root]
        elif changes and song.rng.random() < 0.75:
            cands = [p + d for p in range(lo, hi + 1) if p % 12 == nxt_root for d in (-1, 1, -2)]
        else:
            cands = [p for p in range(lo, hi + 1) if (p - root) % 12 in {iv % 12 for iv in ivs} | {2, 5}]
        cands = [c for c in cands if lo <= c <= hi] or [lo + ((root - lo) % 12)]
        if prev is None:
            p = int(song.rng.choice(cands))
        else:
            w = np.array([1.0 / (1.0 + abs(c - prev)) ** 1.5 if c != prev else 0.1 for c in cands])
            p = int(song.rng.choice(cands, p=w / w.sum()))
        song.play(bus, timbre, p, beat, feel * 0.92, gain * (0.85 + 0.3 * song.rng.random()))
        prev = p


def chord_hits(
    song: Song,
    bus: str,
    timbre: str,
    pat: str,
    center: int = 60,
    gain: float = 1.0,
    rootless: bool = False,
    legato: float = 0.9,
    strum: float = 0.0,
    drop: float = 0.0,
    ghost: float = 0.0,
    bars: range | None = None,
    top: int = 0,
) -> None:
    """Chord hits on a per-bar step pattern ('X'/'x'/'o' hits, '-' hold, '.' rest)."""
    step = song.bpb / len(pat)
    for bar in bars if bars is not None else range(song.nbars):
        for i, ch, held in _pattern_steps(pat):
            v = _VELOCITY.get(ch, 0.0)
            if v == 0 and ghost and song.rng.random() < ghost:
                v = 0.35
            if v > 0 and not (drop and ch != "X" and song.rng.random() < drop):
                beat = bar * song.bpb + i * step
                _, _, root, ivs = song.chord_at(beat)
                notes = close_voicing(root, ivs, center, rootless)
                if top:
                    notes = notes[-top:]
                jt = song.jitter_offset(None)
                down = song.rng.random() < 0.6
                for k, p in enumerate(notes if down else notes[::-1]):
                    song.play(
                        bus,
                        timbre,
                        p,
                        beat,
                        held * step * legato,
                        gain * v / len(notes) ** 0.5,
                        jitter=0.0,
                        delay=jt + k * strum,
                    )


def sustained_chords(
    song: Song,
    bus: str,
    timbre: str,
    center: int = 60,
    gain: float = 1.0,
    rootless: bool = False,
    bars: range | None = None,
    top: int = 0,
) -> None:
    """Hold every chord for its full length."""
    first = bars.start * song.bpb if bars is not None else 0
    last = bars.stop * song.bpb if bars is not None else song.nbeats
    for start, length, root, ivs in song.chords:
        if start + length <= first or start >= last:
            continue
        notes = close_voicing(root, ivs, center, rootless)
        if top:
            notes = notes[-top:]
        for p in notes:
            song.play(bus, timbre, p, start, length * 1.02, gain / len(notes) ** 0.5, jitter=0.0)


def arpeggio(
    song: Song,
    bus: str,
    timbre: str,
    order: tuple[int, ...],
    unit: float = 0.5,
    center: int = 60,
    gain: float = 1.0,
    legato: float = 1.5,
    bars: range | None = None,
) -> None:
    """Broken chords: ``order`` indexes the voicing extended by an octave."""
    steps = int(round(song.bpb / unit))
    for bar in bars if bars is not None else range(song.nbars):
        for i in range(steps):
            beat = bar * song.bpb + i * unit
            _, _, root, ivs = song.chord_at(beat)
            notes = close_voicing(root, ivs, center)
            notes = notes + [p + 12 for p in notes]
            p = notes[order[i % len(order)] % len(notes)]
            song.play(bus, timbre, p, beat, unit * legato, gain * (0.8 + 0.3 * song.rng.random()))


def guitar_riff(
    song: Song,
    bus: str,
    pat: str,
    lo: int = 40,
    gain: float = 1.0,
    fifth: bool = True,
    octave: bool = True,
    drop: float = 0.0,
    legato: float = 0.95,
) -> None:
    """Guitar riff for the distortion bus: 'P' power chord, 'p' quieter power chord,
    'm' palm-muted root, 'n' root note, '-' hold, '.' rest; root follows the progression
    (kept in ``lo``..``lo``+11, so low tunings stay low)."""
    step = song.bpb / len(pat)
    for bar in range(song.nbars):
        for i, ch, held in _pattern_steps(pat):
            if ch in "Ppmn" and not (drop and ch == "m" and song.rng.random() < drop):
                beat = bar * song.bpb + i * step
                root = fold_octaves(song.chord_at(beat)[2], lo, lo + 11)
                ln = held * step * legato
                jt = song.jitter_offset(None)
                if ch == "m":
                    song.play(bus, "mute", root, beat, ln, gain * 0.8, jitter=0.0, delay=jt)
                    if fifth:
                        song.play(bus, "mute", root + 7, beat, ln, gain * 0.5, jitter=0.0, delay=jt)
                else:
                    g = gain * (1.0 if ch == "P" else 0.7 if ch == "p" else 0.8)
                    notes = [root] if ch == "n" else [root, root + 7] + ([root + 12] if octave else [])
                    for k, p in enumerate(notes):
                        song.play(bus, "drive", p, beat, ln, g, jitter=0.0, delay=jt + k * 0.004)


def vinyl_crackle(song: Song, rate: float = 8.0, level_db: float = -12.0) -> None:
    """Vinyl clicks (Poisson impulses), added after the mix relative to its RMS."""
    k = int(song.rng.poisson(rate * song.seconds))
    if k:
        pos = song.rng.integers(0, song.n_samples, k)
        amp = song.rng.standard_normal(k) * song.rng.random(k) ** 3 * 10.0 ** (level_db / 20.0)
        song.crackle = (pos, amp)
