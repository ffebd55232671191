"""The synthetic "reggae" style: one-drop or steppers drums, offbeat skank, dub echo, four artist flavours."""

from __future__ import annotations

from genrec.data.synth import drums
from genrec.data.synth.parts import bassline, chord_hits, drum_pattern, melody, sustained_chords
from genrec.data.synth.song import Song
from genrec.data.synth.theory import SCALES

# the artists' flavours, in FLAVOURS["reggae"] order
ROOTS_ONE_DROP, STEPPERS, DUB, LOVERS_ROCK = range(4)


def arrange_reggae(song: Song) -> None:
    """One-drop or steppers drums, a loud dark melodic bass, offbeat skank and organ bubble, echo-heavy dub."""
    flavour, rng, palette = song.flavour, song.rng, song.palette
    song.setup(song.pick_tempo(), swing=song.swing_ratio(0.52, 0.6), pair=0.5, jitter=0.006)
    minor = flavour in (ROOTS_ONE_DROP, STEPPERS, DUB) and rng.random() < 0.6
    progs = (
        [[(0, "min", 2), (5, "min", 2)], [(0, "min", 1), (10, "maj", 1)], [(0, "min7", 4)]]
        if minor
        else [
            [(0, "maj", 1), (5, "maj", 1), (7, "maj", 1), (5, "maj", 1)],
            [(0, "maj", 2), (5, "maj", 2)],
            [(0, "maj", 1), (7, "maj", 1), (9, "min", 1), (5, "maj", 1)],
        ]
    )
    song.progression(progs[int(rng.integers(len(progs)))])
    drum_bus = song.bus(
        "drums",
        level=song.bus_level("drums", -3),
        hp=40,
        lp=11000,
        rev=0.2,
        echo=(0.75 * 60 / song.bpm, 0.45, 0.25 if flavour == DUB else 0.08),
    )
    kit: dict = {}
    song.kit_add(kit, "kick", drums.kick, f0=song.kit_rng.uniform(48, 58), decay=0.22, click=0.2)
    song.kit_add(kit, "rim", drums.rim, 2)
    song.kit_add(kit, "snare", drums.snare, tone=song.kit_rng.uniform(220, 280), noise_decay=0.09, snap=0.5)
    song.kit_add(kit, "hat", drums.hat, 3, decay=0.035)
    song.kit_add(kit, "ohat", drums.hat, 1, decay=0.15)
    if flavour == STEPPERS:
        drum_pattern(song, drum_bus, kit, "kick", "X...X...X...X...", 1.0)
        drum_pattern(song, drum_bus, kit, "rim", "........X.......", 0.8)
        drum_pattern(song, drum_bus, kit, "hat", "x.x.x.x.x.x.x.x.", 0.4, ghost=0.1)
    else:
        drum_pattern(song, drum_bus, kit, "kick", "........X.......", 1.0)
        drum_pattern(song, drum_bus, kit, "rim" if rng.random() < 0.6 else "snare", "........X.......", 0.85)
        hat_pattern = "x.x.x.x.x.x.x.x." if flavour != DUB else "x...x...x...x..."
        drum_pattern(song, drum_bus, kit, "hat", hat_pattern, 0.4, drop=0.1, ghost=0.05)
        drum_pattern(song, drum_bus, kit, "ohat", "..............x.", 0.3, every=2)
    bass_bus = song.bus("bass", level=song.bus_level("bass", 1), lp=rng.uniform(600, 1100), hp=30)
    bass_patterns = ["r..r5...r.o.5.3.", "r-..r.3.5...o.5.", "r...5..r.3.r....", "r..5.....r.3.5.."]
    bassline(song, bass_bus, "bass", bass_patterns[int(rng.integers(4))], lo=26, legato=0.9, drop=0.05)
    skank_bus = song.bus(
        "keys",
        level=song.bus_level("keys", -6),
        hp=250,
        lp=7000,
        rev=0.2,
        echo=(0.75 * 60 / song.bpm, 0.5, 0.35 if flavour == DUB else 0.12),
    )
    skank = "..x...x...x...x." if flavour == STEPPERS or rng.random() < 0.5 else "....x.......x..."
    guitar = "clean" if rng.random() < 0.5 else "steel"
    chord_hits(
        song, skank_bus, guitar, skank, center=64, gain=0.8, legato=0.25, top=3, drop=0.15 if flavour == DUB else 0.0
    )
    organ_bus = song.bus("pad", level=song.bus_level("pad", -9), rev=0.2, hp=150)
    bubble = ".xx..xx..xx..xx." if rng.random() < 0.5 else "..x...x...x...x."
    chord_hits(song, organ_bus, "organ", bubble, center=58, gain=0.6, legato=0.5, top=3)
    if flavour == LOVERS_ROCK:
        pad_bus = song.bus("pad", rev=0.4)
        sustained_chords(song, pad_bus, "pad", center=64, gain=0.5)
    lead = palette["lead"]
    lead_bus = song.bus(
        "lead",
        level=song.bus_level("lead", -2 if flavour != DUB else -6),
        rev=0.35,
        hp=150,
        echo=(0.75 * 60 / song.bpm, 0.4, 0.3),
    )
    melody(
        song,
        lead_bus,
        lead,
        SCALES["minpent"] if minor else SCALES["majpent"],
        60,
        82,
        unit=0.5,
        density=palette["density"] * (0.6 if flavour == DUB else 1.0),
        motif_bars=2,
        rest=0.35 if flavour != DUB else 0.6,
        legato=0.9,
    )
