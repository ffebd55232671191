"""The synthetic "country" style: major keys, twangy guitars, train beat or shuffle, four artist flavours."""

from __future__ import annotations

from genrec.data.synth import drums
from genrec.data.synth.parts import bassline, chord_hits, drum_fills, drum_pattern, guitar_riff, melody
from genrec.data.synth.song import Song
from genrec.data.synth.theory import SCALES

# the artists' flavours, in FLAVOURS["country"] order
TRAIN_BEAT, WALTZ_BALLAD, HONKY_TONK, COUNTRY_ROCK = range(4)


def arrange_country(song: Song) -> None:
    """Brushed train beat, waltz, shuffle or rock beat; boom-chick bass, strummed steel guitar, a twangy lead."""
    flavour, rng, palette = song.flavour, song.rng, song.palette
    if flavour == WALTZ_BALLAD:
        song.setup(song.pick_tempo(), bpb=3, jitter=0.007)
    elif flavour == HONKY_TONK:
        song.setup(song.pick_tempo(), swing=song.swing_ratio(0.56, 0.64), jitter=0.007)
    else:
        song.setup(song.pick_tempo(), jitter=0.006)
    progs = [
        [(0, "maj", 1), (5, "maj", 1), (7, "maj", 1), (0, "maj", 1)],
        [(0, "maj", 2), (5, "maj", 2), (7, "maj", 2), (0, "maj", 2)],
        [(0, "maj", 1), (0, "maj", 1), (5, "maj", 1), (0, "maj", 1), (7, "dom7", 1), (0, "maj", 1)],
        [(0, "maj", 1), (7, "maj", 1), (9, "min", 1), (5, "maj", 1)],
    ]
    song.progression(progs[int(rng.integers(4 if flavour == COUNTRY_ROCK else 3))])
    drum_bus = song.bus("drums", level=song.bus_level("drums", -4), hp=40, lp=12000, rev=0.15)
    kit: dict = {}
    song.kit_add(kit, "kick", drums.kick, f0=song.kit_rng.uniform(50, 62), decay=0.16, click=0.25)
    song.kit_add(kit, "snare", drums.snare, tone=song.kit_rng.uniform(180, 230), noise_decay=0.1)
    song.kit_add(kit, "brush", drums.brush, 3, decay=0.07)
    song.kit_add(kit, "hat", drums.hat, decay=0.04)
    song.kit_add(kit, "rim", drums.rim, 1)
    song.kit_add(kit, "crash", drums.crash, 1)
    if flavour == TRAIN_BEAT:
        drum_pattern(song, drum_bus, kit, "brush", "xoxoXoxoxoxoXoxo", 0.7, drop=0.05)  # train beat
        drum_pattern(song, drum_bus, kit, "kick", "X.......X.......", 0.9)
        drum_pattern(song, drum_bus, kit, "snare", "....X.......X...", 0.5)
    elif flavour == WALTZ_BALLAD:
        drum_pattern(song, drum_bus, kit, "kick", "X...........", 0.8)
        drum_pattern(song, drum_bus, kit, "rim", "....x...x...", 0.6)
        drum_pattern(song, drum_bus, kit, "brush", "x.x.x.x.x.x.", 0.35)
    elif flavour == HONKY_TONK:
        drum_pattern(song, drum_bus, kit, "hat", "xxxxxxxx", 0.45)
        drum_pattern(song, drum_bus, kit, "kick", "x...x...", 0.85)
        drum_pattern(song, drum_bus, kit, "snare", "..X...X.", 0.75)
        drum_fills(song, drum_bus, kit, every=8, beats=1.0, insts=("snare",), crash=0.5)
    else:
        drum_pattern(song, drum_bus, kit, "hat", "x.x.x.x.x.x.x.x.", 0.5, ghost=0.05)
        drum_pattern(song, drum_bus, kit, "kick", "X.......X.x.....", 0.9)
        drum_pattern(song, drum_bus, kit, "snare", "....X.......X...", 0.9)
        drum_fills(song, drum_bus, kit, every=8, beats=1.0, insts=("snare",), crash=0.7)
    bass_bus = song.bus("bass", level=song.bus_level("bass", -5), lp=2200)
    bass_pattern = {
        TRAIN_BEAT: "r...5...",
        WALTZ_BALLAD: "r...5...5...",
        HONKY_TONK: "r.5.r.5.",
        COUNTRY_ROCK: "r.r.r.r5",
    }[flavour]
    bassline(song, bass_bus, "bass" if rng.random() < 0.6 else "upright", bass_pattern, lo=31, drop=0.05)
    gtr_bus = song.bus("keys", level=song.bus_level("keys", -4), rev=0.2, hp=90)
    strum_pattern = {TRAIN_BEAT: "x.x.x.x.", WALTZ_BALLAD: "x.x.x.", HONKY_TONK: ".x.x.x.x", COUNTRY_ROCK: "x.xx.xx."}[
        flavour
    ]
    chord_hits(song, gtr_bus, "steel", strum_pattern, center=60, gain=0.6, strum=0.014, drop=0.1)
    if flavour == HONKY_TONK:
        pad_bus = song.bus("pad", level=song.bus_level("pad", -7), rev=0.3)
        chord_hits(song, pad_bus, "piano", ".x.x.x.x", center=70, gain=0.6)
    if flavour == COUNTRY_ROCK:
        rhythm_bus = song.bus(
            "gtr", level=song.bus_level("gtr", -7), drive=(rng.uniform(2.0, 4.0), 0.0), lp=5000, hp=100
        )
        guitar_riff(song, rhythm_bus, "P-------P---p---", lo=40, gain=0.8)
    lead = palette["lead"]
    lead_bus = song.bus(
        "lead", level=song.bus_level("lead", -1.5), rev=0.25, hp=140, echo=(0.09 if lead == "twang" else 0.0, 0.2, 0.25)
    )
    scale = SCALES["majpent"] if rng.random() < 0.6 else SCALES["major"]
    lo = 55 if lead == "twang" else 62
    melody(
        song,
        lead_bus,
        lead,
        scale,
        lo,
        lo + 22,
        unit=0.25 if lead == "twang" and flavour == TRAIN_BEAT else 0.5,
        density=palette["density"],
        motif_bars=2,
        rest=0.3,
        legato=0.8 if lead == "twang" else 1.0,
    )
