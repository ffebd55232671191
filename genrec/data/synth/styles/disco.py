"""The synthetic "disco" style: four-on-the-floor, octave bass, strings and sidechain pumping, four artist flavours."""

from __future__ import annotations

from genrec.data.synth import drums
from genrec.data.synth.parts import arpeggio, bassline, chord_hits, drum_fills, drum_pattern, melody, sustained_chords
from genrec.data.synth.song import Song
from genrec.data.synth.theory import SCALES

# the artists' flavours, in FLAVOURS["disco"] order
CLASSIC_DISCO, FUNK_DISCO, EURO_DISCO, ORCHESTRAL_DISCO = range(4)


def arrange_disco(song: Song) -> None:
    """Four-on-the-floor kick with offbeat open hats, octave or funk bass, ducked keys and pads, a lead with echo."""
    flavour, rng, palette = song.flavour, song.rng, song.palette
    tempo = song.pick_tempo()
    swing = song.swing_ratio(0.5, 0.56) if flavour == FUNK_DISCO else 0.5
    song.setup(tempo, swing=swing, pair=0.5, jitter=0.004)
    progs = [
        [(0, "min7", 2), (5, "min7", 2)],
        [(0, "min7", 1), (5, "dom9", 1)],
        [(0, "maj7", 1), (2, "min7", 1), (4, "min7", 1), (2, "min7", 1)],
        [(0, "min9", 1), (10, "maj", 1), (8, "maj7", 1), (7, "min7", 1)],
    ]
    song.progression(progs[int(rng.integers(4))])
    drum_bus = song.bus("drums", level=song.bus_level("drums", -2), hp=35, lp=14000, rev=0.12)
    kit: dict = {}
    song.kit_add(
        kit, "kick", drums.kick, f0=song.kit_rng.uniform(48, 58), decay=song.kit_rng.uniform(0.16, 0.26), click=0.3
    )
    song.kit_add(kit, "snare", drums.snare, tone=song.kit_rng.uniform(180, 220), noise_decay=0.14)
    song.kit_add(kit, "clap", drums.clap)
    song.kit_add(kit, "hat", drums.hat, 3, decay=0.03)
    song.kit_add(kit, "ohat", drums.hat, 1, decay=song.kit_rng.uniform(0.12, 0.22), lo=5500)
    song.kit_add(kit, "crash", drums.crash, 1)
    song.kit_add(kit, "tom_hi", drums.kick, 1, f0=160, f1=240, decay=0.15, click=0.1, drive=1.0)
    song.kit_add(kit, "tom_lo", drums.kick, 1, f0=100, f1=160, decay=0.18, click=0.1, drive=1.0)
    drum_pattern(song, drum_bus, kit, "kick", "X...X...X...X...", 1.0, kick=True)
    drum_pattern(song, drum_bus, kit, "ohat", "..x...x...x...x.", 0.55)
    hat_pattern = "x.o.x.o.x.o.x.o." if rng.random() < 0.5 else "xoo.xoo.xoo.xoo."
    drum_pattern(song, drum_bus, kit, "hat", hat_pattern, 0.4, drop=0.1)
    drum_pattern(song, drum_bus, kit, "snare", "....X.......X...", 0.7)
    if rng.random() < 0.7:
        drum_pattern(song, drum_bus, kit, "clap", "....X.......X...", 0.6)
    drum_fills(song, drum_bus, kit, every=8, beats=1.0, crash=0.6)
    bass_bus = song.bus("bass", level=song.bus_level("bass", -3), lp=3500 if flavour != EURO_DISCO else 5000)
    if flavour == FUNK_DISCO:
        bassline(song, bass_bus, "bass", "r..o.r5.r..or.7a", lo=28, legato=0.6, drop=0.1)
    else:
        octaves = "rorororororororo" if flavour == EURO_DISCO else "r.o.r.o.r.o.r.o."
        bassline(song, bass_bus, "synth_bass" if flavour == EURO_DISCO else "bass", octaves, lo=28, legato=0.7)
    keys_bus = song.bus("keys", level=song.bus_level("keys", -6), rev=0.2, duck=0.3)
    if flavour == FUNK_DISCO:
        gtr_bus = song.bus("gtr", level=song.bus_level("gtr", -7), hp=300, lp=6000, rev=0.1)
        chord_hits(song, gtr_bus, "clean", "x.xox.xox.xox.xo", center=67, gain=0.6, legato=0.3, top=3)
        chord_hits(song, keys_bus, "epiano", ".x...x...x..x...", center=62, gain=0.6)
    elif flavour == EURO_DISCO:
        arpeggio(song, keys_bus, "synth_pluck", (0, 2, 1, 3, 2, 4, 3, 1), unit=0.25, center=64, gain=0.6, legato=0.8)
    else:
        chord_hits(song, keys_bus, "epiano" if rng.random() < 0.5 else "piano", "..x...x...x...x.", center=62, gain=0.6)
    pad_bus = song.bus("pad", level=song.bus_level("pad", -5), rev=0.4, duck=0.45, lp=8000)
    if flavour in (CLASSIC_DISCO, ORCHESTRAL_DISCO):
        sustained_chords(song, pad_bus, "strings", center=67, gain=0.8)
    elif flavour == EURO_DISCO:
        sustained_chords(song, pad_bus, "pad", center=62, gain=0.8)
    lead = palette["lead"]
    lead_bus = song.bus(
        "lead", level=song.bus_level("lead", -2), rev=0.3, hp=150, echo=(0.75 * 60 / song.bpm, 0.25, 0.2)
    )
    if lead == "brass":
        chord_hits(
            song, lead_bus, "brass", "X-.x....X-.x..x.", center=70, gain=0.9, bars=range(0, song.nbars, 2), top=3
        )
    melody(
        song,
        lead_bus,
        lead if lead != "brass" else "vocal",
        SCALES["dorian"],
        62,
        84,
        unit=0.5,
        density=palette["density"],
        motif_bars=2,
        rest=0.4,
        legato=0.9,
    )
