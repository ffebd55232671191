"""The synthetic "classical" style: no drums, strings, piano and winds with rubato, four artist flavours."""

from __future__ import annotations

from genrec.data.synth.parts import arpeggio, bassline, chord_hits, melody, sustained_chords
from genrec.data.synth.song import Song
from genrec.data.synth.theory import SCALES, fold_octaves

# the artists' flavours, in FLAVOURS["classical"] order
STRING_ENSEMBLE, SOLO_PIANO, CHAMBER_WINDS, ORCHESTRAL = range(4)


def arrange_classical(song: Song) -> None:
    """Rubato tempo, held string chords, a string or pizzicato bass line, a lead; solo piano arpeggiates."""
    flavour, rng, palette = song.flavour, song.rng, song.palette
    bpb = 3 if rng.random() < 0.35 else 4
    song.setup(song.pick_tempo(), rubato=rng.uniform(0.04, 0.12), bpb=bpb, jitter=0.012)
    major = rng.random() < 0.6
    progs_major = [
        [(0, "maj", 1), (5, "maj", 1), (7, "maj", 1), (0, "maj", 1)],
        [(0, "maj", 1), (9, "min", 1), (2, "min", 1), (7, "dom7", 1)],
        [
            (0, "maj", 1),
            (7, "maj", 1),
            (9, "min", 1),
            (4, "min", 1),
            (5, "maj", 1),
            (0, "maj", 1),
            (5, "maj", 1),
            (7, "maj", 1),
        ],
        [(0, "maj", 2), (2, "min7", 1), (7, "dom7", 1)],
    ]
    progs_minor = [
        [(0, "min", 1), (5, "min", 1), (7, "dom7", 1), (0, "min", 1)],
        [(0, "min", 1), (8, "maj", 1), (2, "dim", 1), (7, "dom7", 1)],
        [(0, "min", 2), (3, "maj", 1), (7, "maj", 1)],
    ]
    progs = progs_major if major else progs_minor
    song.progression(progs[int(rng.integers(len(progs)))])
    scale = SCALES["major"] if major else SCALES["harmonic"]
    lead = palette["lead"]
    arp_orders = [(0, 1, 2, 1), (0, 2, 1, 2), (0, 1, 2, 3, 4, 3, 2, 1), (0, 2, 4, 2)]
    if flavour == SOLO_PIANO:
        keys_bus = song.bus("keys", level=song.bus_level("keys", 0), rev=0.45, tilt=-0.3)
        unit = 0.25 if rng.random() < 0.5 else 0.5
        arpeggio(song, keys_bus, "piano", arp_orders[int(rng.integers(4))], unit=unit, center=50, gain=0.7, legato=2.5)
        melody(
            song,
            keys_bus,
            "piano",
            scale,
            64,
            88,
            unit=0.5,
            density=palette["density"],
            motif_bars=2,
            rest=0.1,
            gain=1.0,
            legato=1.2,
            snap=0.8,
        )
        return
    strings_bus = song.bus("pad", level=song.bus_level("pad", -2), rev=0.6, lp=7000, hp=60)
    sustained_chords(song, strings_bus, "strings", center=60, gain=0.9)
    low_strings_bus = song.bus("bass", level=song.bus_level("bass", -5), rev=0.5, lp=3000)
    if rng.random() < 0.4 and flavour != ORCHESTRAL:
        bassline(song, low_strings_bus, "pizz", "r.5." if bpb == 4 else "r55", lo=36, gain=1.0)
    else:
        bassline(song, low_strings_bus, "strings", "r---" if bpb == 4 else "r--", lo=36, gain=1.0)
    lead_bus = song.bus("lead", level=song.bus_level("lead", -1), rev=0.5, hp=120)
    lo, hi = (67, 91) if lead in ("violin", "flute") else (58, 82)
    melody(
        song,
        lead_bus,
        lead,
        scale,
        lo,
        hi,
        unit=0.5 if rng.random() < 0.6 else 1.0,
        density=palette["density"],
        motif_bars=2,
        rest=0.15,
        legato=1.0,
        snap=0.8,
    )
    if flavour == CHAMBER_WINDS and rng.random() < 0.7:
        keys_bus = song.bus("keys", level=song.bus_level("keys", -6), rev=0.5)
        arpeggio(
            song,
            keys_bus,
            "pizz" if rng.random() < 0.5 else "nylon",
            arp_orders[int(rng.integers(4))],
            unit=0.5,
            center=55,
            gain=0.6,
        )
    if flavour == ORCHESTRAL:
        brass_bus = song.bus("gtr", level=song.bus_level("gtr", -6), rev=0.7, lp=5000)
        chord_hits(
            song, brass_bus, "brass", "X---" if bpb == 4 else "X--", center=55, gain=0.9, bars=range(1, song.nbars, 2)
        )
        drum_bus = song.bus("drums", level=song.bus_level("drums", -6), rev=0.6, lp=4000)
        timpani_pitch = fold_octaves(song.key, 38, 49)
        for bar in range(3, song.nbars, 4):
            for stroke in range(8):  # a roll into the next phrase
                song.play(
                    drum_bus,
                    "timpani",
                    timpani_pitch,
                    bar * song.bpb + song.bpb - 1 + stroke / 8,
                    0.12,
                    0.4 + 0.08 * stroke,
                    swing=False,
                )
