"""The synthetic "pop" style: I-V-vi-IV progressions, bright synths, clap backbeat, four artist flavours."""

from __future__ import annotations

from genrec.data.synth import drums
from genrec.data.synth.parts import arpeggio, bassline, chord_hits, drum_fills, drum_pattern, melody, sustained_chords
from genrec.data.synth.song import Song
from genrec.data.synth.theory import SCALES

# the artists' flavours, in FLAVOURS["pop"] order
DANCE_POP, PIANO_BALLAD, SYNTH_POP, GUITAR_POP = range(4)


def arrange_pop(song: Song) -> None:
    """Four-on-the-floor or backbeat drums, synth or electric bass, piano/pluck/guitar chords, a vocal-like lead."""
    flavour, rng, palette = song.flavour, song.rng, song.palette
    song.setup(song.pick_tempo(), jitter=0.003)
    progs = [
        [(0, "maj", 1), (7, "maj", 1), (9, "min", 1), (5, "maj", 1)],
        [(9, "min", 1), (5, "maj", 1), (0, "maj", 1), (7, "maj", 1)],
        [(0, "maj", 1), (9, "min", 1), (5, "maj", 1), (7, "maj", 1)],
        [(5, "maj", 1), (0, "maj", 1), (7, "maj", 1), (9, "min", 1)],
        [(0, "add9", 1), (7, "sus4", 1), (9, "min7", 1), (5, "maj7", 1)],
    ]
    song.progression(progs[int(rng.integers(5))])
    drum_bus = song.bus("drums", level=song.bus_level("drums", -2), hp=35, lp=15000, rev=0.15)
    kit: dict = {}
    song.kit_add(
        kit,
        "kick",
        drums.kick,
        f0=song.kit_rng.uniform(45, 58),
        decay=song.kit_rng.uniform(0.15, 0.3),
        click=0.35,
        drive=2.0,
    )
    song.kit_add(kit, "snare", drums.snare, tone=song.kit_rng.uniform(180, 230), noise_decay=0.15)
    song.kit_add(kit, "clap", drums.clap, decay=0.1)
    song.kit_add(kit, "hat", drums.hat, 3, decay=0.03)
    song.kit_add(kit, "ohat", drums.hat, 1, decay=0.15)
    song.kit_add(kit, "shaker", drums.shaker, 3)
    song.kit_add(kit, "crash", drums.crash, 1)
    if flavour == DANCE_POP:
        drum_pattern(song, drum_bus, kit, "kick", "X...X...X...X...", 1.0, kick=True)
        drum_pattern(song, drum_bus, kit, "clap", "....X.......X...", 0.8)
        drum_pattern(song, drum_bus, kit, "ohat", "..x...x...x...x.", 0.4)
    elif flavour == PIANO_BALLAD:
        drum_pattern(song, drum_bus, kit, "kick", "X.........X.....", 0.9, kick=True)
        drum_pattern(song, drum_bus, kit, "snare", "........X.......", 0.8, bars=range(2, song.nbars))
        drum_pattern(song, drum_bus, kit, "shaker", "x.x.x.x.x.x.x.x.", 0.3)
    elif flavour == SYNTH_POP:
        drum_pattern(song, drum_bus, kit, "kick", "X.....x.X.......", 1.0, kick=True)
        drum_pattern(song, drum_bus, kit, "clap", "....X.......X...", 0.9)
        drum_pattern(song, drum_bus, kit, "hat", "xxxxxxxxxxxxxxxx", 0.35, drop=0.15)
    else:
        drum_pattern(song, drum_bus, kit, "kick", "X.......X.X.....", 0.9, kick=True)
        drum_pattern(song, drum_bus, kit, "snare", "....X.......X...", 0.9)
        drum_pattern(song, drum_bus, kit, "hat", "x.x.x.x.x.x.x.x.", 0.45)
        drum_pattern(song, drum_bus, kit, "shaker", "xoxoxoxoxoxoxoxo", 0.25)
    drum_fills(song, drum_bus, kit, every=8, beats=0.5, insts=("snare",), crash=0.5)
    bass_bus = song.bus("bass", level=song.bus_level("bass", -4), lp=3000)
    if flavour in (DANCE_POP, SYNTH_POP):
        bass_pattern = "r.r.r.r.r.r.r.ro" if flavour == DANCE_POP else "r..r..r.r..r..r."
        bassline(song, bass_bus, "synth_bass", bass_pattern, lo=28, legato=0.8)
    else:
        bass_pattern = "r-----r-r-----5-" if flavour == PIANO_BALLAD else "r.r.r.r.r.r.r.r."
        bassline(song, bass_bus, "bass", bass_pattern, lo=28, legato=0.9)
    keys_bus = song.bus(
        "keys", level=song.bus_level("keys", -5), rev=0.25, duck=0.3 if flavour != PIANO_BALLAD else 0.0
    )
    if flavour == PIANO_BALLAD:
        piano_pattern = "x---x---x---x---" if rng.random() < 0.5 else "x.x.x.x.x.x.x.x."
        chord_hits(song, keys_bus, "piano", piano_pattern, center=60, gain=0.8)
        strings_bus = song.bus("pad", level=song.bus_level("pad", -8), rev=0.5)
        sustained_chords(song, strings_bus, "strings", center=64, gain=0.7, bars=range(4, song.nbars))
    elif flavour == SYNTH_POP:
        arpeggio(song, keys_bus, "synth_pluck", (0, 1, 2, 1, 3, 2, 1, 2), unit=0.25, center=67, gain=0.6, legato=0.9)
        pad_bus = song.bus("pad", level=song.bus_level("pad", -7), rev=0.4, duck=0.5)
        sustained_chords(song, pad_bus, "pad", center=60, gain=0.8)
    elif flavour == GUITAR_POP:
        gtr_bus = song.bus("gtr", level=song.bus_level("gtr", -5), rev=0.2, hp=100)
        guitar = "steel" if rng.random() < 0.5 else "clean"
        chord_hits(song, gtr_bus, guitar, "x.xx.xx.x.xx.xx.", center=60, gain=0.6, strum=0.012)
    else:
        chord_hits(song, keys_bus, "synth_pluck", "..x..x....x..x..", center=67, gain=0.7, legato=0.6)
        pad_bus = song.bus("pad", level=song.bus_level("pad", -8), rev=0.4, duck=0.6)
        sustained_chords(song, pad_bus, "pad", center=62, gain=0.8)
    lead = palette["lead"]
    lead_bus = song.bus("lead", level=song.bus_level("lead", 0), rev=0.3, hp=160, echo=(0.75 * 60 / song.bpm, 0.3, 0.2))
    melody(
        song,
        lead_bus,
        lead,
        SCALES["majpent"] if rng.random() < 0.5 else SCALES["major"],
        62,
        82,
        unit=0.5,
        density=palette["density"],
        motif_bars=1 if rng.random() < 0.5 else 2,
        rest=0.2,
        legato=0.95,
        mutate=0.15,
        snap=0.85,
    )
