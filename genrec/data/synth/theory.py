"""Music theory for the generator: scales, chord qualities, pitch helpers (MIDI numbers)."""

from __future__ import annotations

#: Scale steps in semitones above the tonic.
SCALES: dict[str, tuple[int, ...]] = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "phrygian": (0, 1, 3, 5, 7, 8, 10),
    "harmonic": (0, 2, 3, 5, 7, 8, 11),
    "blues": (0, 3, 5, 6, 7, 10),
    "minpent": (0, 3, 5, 7, 10),
    "majpent": (0, 2, 4, 7, 9),
    "bebop": (0, 2, 4, 5, 7, 9, 10, 11),
}
#: Chord qualities as intervals above the root ("5" is a power chord).
CHORDS: dict[str, tuple[int, ...]] = {
    "maj": (0, 4, 7),
    "min": (0, 3, 7),
    "dim": (0, 3, 6),
    "sus4": (0, 5, 7),
    "5": (0, 7, 12),
    "dom7": (0, 4, 7, 10),
    "maj7": (0, 4, 7, 11),
    "min7": (0, 3, 7, 10),
    "m7b5": (0, 3, 6, 10),
    "add9": (0, 4, 7, 14),
    "dom9": (0, 4, 7, 10, 14),
    "maj9": (0, 4, 7, 11, 14),
    "min9": (0, 3, 7, 10, 14),
    "dom13": (0, 4, 10, 14, 21),
    "min11": (0, 3, 10, 14, 17),
    "6": (0, 4, 7, 9),
    "min6": (0, 3, 7, 9),
}


def midi_to_hz(midi: float) -> float:
    """Frequency of a MIDI note number (A4 = 69 = 440 Hz)."""
    return 440.0 * 2.0 ** ((midi - 69.0) / 12.0)


def fold_octaves(pitch: int, lo: int, hi: int) -> int:
    """Move ``pitch`` by octaves into ``[lo, hi]`` (as close as possible)."""
    while pitch > hi:
        pitch -= 12
    while pitch < lo:
        pitch += 12
    return pitch


def close_voicing(root: int, intervals: tuple[int, ...], center: int, rootless: bool = False) -> list[int]:
    """Close voicing of a chord around ``center`` (each tone within a fifth or so)."""
    tones = intervals[1:] if rootless and len(intervals) > 3 else intervals
    out = {center - 6 + ((root + interval - (center - 6)) % 12) for interval in tones}
    return sorted(out)
