"""The synthetic "metal" style: double kick, clipped power chords and palm mutes, four artist flavours."""

from __future__ import annotations

from genrec.data.synth import drums
from genrec.data.synth.parts import drum_fills, drum_pattern, guitar_riff, melody
from genrec.data.synth.song import Song
from genrec.data.synth.theory import SCALES

# the artists' flavours, in FLAVOURS["metal"] order
THRASH, DOOM_GROOVE, MELODIC_POWER, ALT_GROOVE = range(4)


def arrange_metal(song: Song) -> None:
    """Double-kick or half-time drums, heavily distorted riffs in low minor/phrygian keys, a harmonised lead."""
    flavour, rng, palette = song.flavour, song.rng, song.palette
    song.setup(song.pick_tempo(), jitter=0.003)
    progs = [
        [(0, "5", 2), (1, "5", 1), (0, "5", 1)],
        [(0, "5", 1), (8, "5", 1), (10, "5", 1), (0, "5", 1)],
        [(0, "5", 2), (3, "5", 1), (5, "5", 1)],
        [(0, "5", 1), (0, "5", 1), (6, "5", 1), (5, "5", 1)],
    ]
    song.progression(progs[int(rng.integers(4))])
    drum_bus = song.bus("drums", level=song.bus_level("drums", -3), hp=40, lp=14000, rev=0.12)
    kit: dict = {}
    song.kit_add(
        kit,
        "kick",
        drums.kick,
        f0=song.kit_rng.uniform(50, 62),
        f1=song.kit_rng.uniform(180, 260),
        sweep=0.02,
        decay=0.09,
        click=0.9,
        drive=3.0,
    )
    song.kit_add(kit, "snare", drums.snare, tone=song.kit_rng.uniform(190, 240), noise_decay=0.12, snap=0.7)
    song.kit_add(kit, "hat", drums.hat, decay=0.03)
    song.kit_add(kit, "crash", drums.crash, 2, decay=song.kit_rng.uniform(1.2, 2.0))
    song.kit_add(kit, "ride", drums.ride, 1, decay=1.0)
    song.kit_add(kit, "tom_hi", drums.kick, 1, f0=150, f1=220, decay=0.15, click=0.3, drive=1.5)
    song.kit_add(kit, "tom_lo", drums.kick, 1, f0=90, f1=140, decay=0.2, click=0.3, drive=1.5)
    half = flavour == DOOM_GROOVE or (flavour == ALT_GROOVE and rng.random() < 0.5)
    if flavour == DOOM_GROOVE:
        drum_pattern(song, drum_bus, kit, "kick", "X.x.....X.X.x...", 1.0)
        drum_pattern(song, drum_bus, kit, "snare", "........X.......", 1.0)
        drum_pattern(song, drum_bus, kit, "crash", "X.......X.......", 0.45)
    elif flavour == ALT_GROOVE:
        drum_pattern(song, drum_bus, kit, "kick", "X..x..X...x.X...", 1.0)
        drum_pattern(song, drum_bus, kit, "snare", "........X......." if half else "....X.......X...", 1.0)
        drum_pattern(song, drum_bus, kit, "hat" if rng.random() < 0.5 else "ride", "x.x.x.x.x.x.x.x.", 0.5)
    else:
        fast = song.bpm < 190 or flavour == MELODIC_POWER
        double_kick = "XxXxXxXxXxXxXxXx" if fast else "X.x.X.x.X.x.X.x."
        drum_pattern(song, drum_bus, kit, "kick", double_kick, 0.95)
        snare_pattern = "....X.......X..." if rng.random() < 0.7 else "..X...X...X...X."
        drum_pattern(song, drum_bus, kit, "snare", snare_pattern, 1.0)
        drum_pattern(song, drum_bus, kit, "crash" if rng.random() < 0.6 else "ride", "X...x...x...x...", 0.45)
    drum_fills(song, drum_bus, kit, every=4, beats=1.0, crash=0.9)
    gtr_bus = song.bus(
        "gtr",
        level=song.bus_level("gtr", 0),
        drive=(rng.uniform(25.0, 60.0), rng.uniform(0.3, 0.7)),
        hp=110,
        lp=rng.uniform(5500, 8000),
        tilt=1.0,
        rev=0.1,
    )
    riffs = {
        THRASH: ["mmmmmmmmP-mmP-mm", "mmP-mmP-mmmmP---", "mmmmmmmmmmmmP-P-"],
        DOOM_GROOVE: ["P-------P-----mm", "P-----P---m.P---", "P---------------"],
        MELODIC_POWER: ["mmmmP-mmmmP-mmmm", "m.mmm.mmP---m.mm", "m.mmm.mmm.mmP-P-"],
        ALT_GROOVE: ["P--m..m.P-.m..m.", "mm.m..P-mm.m..P-", "P-.m.m..P---m.m."],
    }[flavour]
    lo = 35 if flavour in (DOOM_GROOVE, ALT_GROOVE) else 40
    guitar_riff(song, gtr_bus, riffs[int(rng.integers(3))], lo=lo, gain=1.0)
    bass_bus = song.bus("bass", level=song.bus_level("bass", -6), lp=1800, drive=(4.0, 0.2))
    bass_riff = "n-n-n-n-n-n-n-n-" if flavour != DOOM_GROOVE else "n-------n-------"
    guitar_riff(song, bass_bus, bass_riff, lo=lo - 12, gain=1.0)
    lead = palette["lead"]
    lead_bus = song.bus(
        "lead",
        level=song.bus_level("lead", -4),
        drive=(rng.uniform(8, 20), 0.2) if lead == "bendlead" else None,
        rev=0.3,
        lp=6500,
        hp=200,
        echo=(0.375 * 60 / song.bpm * 2, 0.25, 0.2),
    )
    minor = "harmonic" if flavour == MELODIC_POWER else "minor"
    scale = SCALES["phrygian"] if rng.random() < 0.4 else SCALES[minor]
    melody(
        song,
        lead_bus,
        lead,
        scale,
        60,
        86,
        unit=0.25 if flavour in (THRASH, MELODIC_POWER) else 0.5,
        density=palette["density"],
        motif_bars=1 if flavour == THRASH else 2,
        rest=0.55,
        legato=0.95,
        harmony=2 if flavour == MELODIC_POWER else 0,
        bars=range(2, song.nbars),
    )
