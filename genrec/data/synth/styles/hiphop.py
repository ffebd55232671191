"""The synthetic "hiphop" style: boom-bap or half-time 808 beats, sparse minor chords, four artist flavours."""

from __future__ import annotations

from genrec.data.synth import drums
from genrec.data.synth.parts import (
    bassline,
    chord_hits,
    drum_pattern,
    melody,
    sustained_chords,
    vinyl_crackle,
    walking_bass,
)
from genrec.data.synth.song import Song
from genrec.data.synth.theory import SCALES

# the artists' flavours, in FLAVOURS["hiphop"] order
BOOM_BAP, HALF_TIME_808, JAZZ_HOP, G_FUNK = range(4)


def arrange_hiphop(song: Song) -> None:
    """Swung boom-bap or half-time 808 beats, heavy bass, sparse minor chords or a lead, often lo-fi with crackle."""
    flavour, rng, palette = song.flavour, song.rng, song.palette
    swing = song.swing_ratio(0.54, 0.63) if flavour != HALF_TIME_808 else 0.5
    song.setup(song.pick_tempo(), swing=swing, pair=0.5, jitter=0.006)
    progs = [
        [(0, "min7", 2)],
        [(0, "min7", 1), (8, "maj7", 1)],
        [(0, "min9", 2), (5, "min9", 2)],
        [(0, "min", 2), (10, "maj", 2)],
        [(2, "min9", 1), (7, "dom9", 1), (0, "maj9", 2)],
    ]
    song.progression(progs[4 if flavour == JAZZ_HOP and rng.random() < 0.5 else int(rng.integers(4))])
    drum_bus = song.bus(
        "drums", level=song.bus_level("drums", 0), hp=30, lp=9000 if palette["lofi"] else 13000, rev=0.08
    )
    kit: dict = {}
    if flavour == HALF_TIME_808:
        song.kit_add(
            kit,
            "kick",
            drums.kick,
            f0=song.kit_rng.uniform(42, 50),
            f1=120,
            decay=song.kit_rng.uniform(0.3, 0.5),
            click=0.2,
            drive=2.5,
        )
        song.kit_add(kit, "snare", drums.clap, decay=0.12)
        song.kit_add(kit, "hat", drums.hat, 3, decay=0.02, lo=7500)
    else:
        song.kit_add(
            kit,
            "kick",
            drums.kick,
            f0=song.kit_rng.uniform(45, 56),
            f1=song.kit_rng.uniform(120, 170),
            decay=song.kit_rng.uniform(0.2, 0.35),
            click=0.4,
            drive=3.0,
        )
        song.kit_add(
            kit,
            "snare",
            drums.snare,
            tone=song.kit_rng.uniform(170, 210),
            noise_decay=song.kit_rng.uniform(0.12, 0.2),
            snap=0.75,
        )
        song.kit_add(kit, "hat", drums.hat, 3, decay=0.035)
        song.kit_add(kit, "clap", drums.clap)
    kick_patterns = ["X.....x...X.....", "X..x..x...X.....", "X.....x.x.X...x.", "X......x..X..x.."]
    drum_pattern(
        song, drum_bus, kit, "kick", kick_patterns[int(rng.integers(4))], 1.0, drop=0.08, ghost=0.02, kick=True
    )
    if flavour == HALF_TIME_808:
        drum_pattern(song, drum_bus, kit, "snare", "........X.......", 1.0)
        hat_pattern = "x.x.x.x.x.x.x.x." if rng.random() < 0.3 else "xxxxxxxxxxxxxxxx"
        drum_pattern(song, drum_bus, kit, "hat", hat_pattern, 0.45, drop=0.1)
        for bar in range(1, song.nbars, 2):  # hat rolls
            if rng.random() < 0.6:
                start = bar * 4 + float(rng.choice([1.5, 2.5, 3.0]))
                for step in range(int(rng.choice([4, 6, 8]))):
                    song.hit(drum_bus, kit["hat"], start + step / 6, 0.35, swing=False)
    else:
        drum_pattern(song, drum_bus, kit, "snare", "....X.......X...", 1.0, ghost=0.02)
        if "clap" in kit and rng.random() < 0.3:
            drum_pattern(song, drum_bus, kit, "clap", "....X.......X...", 0.6)
        hat_pattern = "x.x.x.x.x.x.x.x." if rng.random() < 0.6 else "x.xxx.xxx.xxx.xx"
        drum_pattern(song, drum_bus, kit, "hat", hat_pattern, 0.5, drop=0.08)
    bass_bus = song.bus(
        "bass",
        level=song.bus_level("bass", -1),
        lp=1500 if flavour == HALF_TIME_808 else 2500,
        drive=(2.0, 0.0) if flavour == HALF_TIME_808 else None,
    )
    if flavour == HALF_TIME_808:
        bassline(song, bass_bus, "sub808", kick_patterns[0].replace("X", "r").replace("x", "r"), lo=29, legato=1.0)
    elif flavour == JAZZ_HOP:
        walking_bass(song, bass_bus, "upright", lo=28, hi=45, gain=1.0, feel=2)
    elif flavour == G_FUNK:
        bassline(song, bass_bus, "synth_bass", "r--.r..o.r---5..", lo=28, legato=0.85)
    else:
        bassline(song, bass_bus, "bass", "r.....r...r-....", lo=28, legato=0.9, drop=0.1)
    keys_bus = song.bus("keys", level=song.bus_level("keys", -5), rev=0.3, lp=4500 if palette["lofi"] else 9000, hp=150)
    lead = palette["lead"]
    if flavour == BOOM_BAP:
        chord_hits(song, keys_bus, lead, "X-.....x........", center=62, gain=0.8, bars=range(0, song.nbars, 1))
    elif flavour == HALF_TIME_808:
        pad_bus = song.bus("pad", level=song.bus_level("pad", -8), rev=0.5, lp=3000)
        sustained_chords(song, pad_bus, "pad", center=58, gain=0.8)
        melody(
            song,
            keys_bus,
            lead,
            SCALES["minor"],
            67,
            84,
            unit=0.25,
            density=0.35,
            motif_bars=1,
            rest=0.2,
            legato=0.6,
            mutate=0.1,
        )
    elif flavour == JAZZ_HOP:
        chord_hits(song, keys_bus, "epiano", "x--.....x--.....", center=60, gain=0.8, rootless=True)
    else:
        chord_hits(song, keys_bus, "synth_pluck", "..x...x...x...x.", center=64, gain=0.5, legato=0.5)
        lead_bus = song.bus("lead", level=song.bus_level("lead", -4), rev=0.35, echo=(0.5 * 60 / song.bpm, 0.3, 0.3))
        melody(
            song,
            lead_bus,
            "whistle",
            SCALES["minpent"],
            72,
            91,
            unit=0.5,
            density=0.35,
            motif_bars=2,
            rest=0.3,
            legato=1.0,
        )
    if flavour == JAZZ_HOP and rng.random() < 0.6:
        lead_bus = song.bus("lead", level=song.bus_level("lead", -6), rev=0.4, lp=5000)
        melody(song, lead_bus, "reed", SCALES["dorian"], 58, 79, unit=0.5, density=0.3, motif_bars=2, rest=0.5)
    if palette["lofi"] or rng.random() < 0.3:
        vinyl_crackle(song, rate=rng.uniform(4.0, 20.0), level_db=rng.uniform(-6.0, 3.0))
