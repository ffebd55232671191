"""The synthetic "rock" style: backbeat, overdriven power chords, 8th-note bass, four artist flavours."""

from __future__ import annotations

from genrec.data.synth import drums
from genrec.data.synth.parts import arpeggio, bassline, drum_fills, drum_pattern, guitar_riff, melody, sustained_chords
from genrec.data.synth.song import Song
from genrec.data.synth.theory import SCALES

# the artists' flavours, in FLAVOURS["rock"] order
CLASSIC_ROCK, PUNK, INDIE, BLUES_ROCK = range(4)


def arrange_rock(song: Song) -> None:
    """Backbeat drums with fills, overdriven power-chord riffs, 8th-note bass, a bent guitar or vocal-like lead."""
    flavour, rng, palette = song.flavour, song.rng, song.palette
    song.setup(song.pick_tempo(), swing=song.swing_ratio(0.58, 0.66) if flavour == BLUES_ROCK else 0.5, jitter=0.005)
    progs = [
        [(0, "5", 1), (10, "5", 1), (5, "5", 1), (0, "5", 1)],
        [(0, "5", 1), (5, "5", 1), (7, "5", 1), (5, "5", 1)],
        [(0, "5", 2), (5, "5", 1), (7, "5", 1)],
        [(9, "5", 1), (5, "5", 1), (0, "5", 1), (7, "5", 1)],
    ]
    if flavour == BLUES_ROCK:
        song.progression([(root, "dom7", 1) for root in [0, 0, 0, 0, 5, 5, 0, 0, 7, 5, 0, 7]])  # 12-bar blues
    else:
        song.progression(progs[int(rng.integers(4))])
    drum_bus = song.bus("drums", level=song.bus_level("drums", -2), hp=40, lp=13000, rev=0.18)
    kit: dict = {}
    song.kit_add(
        kit,
        "kick",
        drums.kick,
        f0=song.kit_rng.uniform(50, 62),
        decay=song.kit_rng.uniform(0.12, 0.22),
        click=0.5,
        drive=2.0,
    )
    song.kit_add(
        kit, "snare", drums.snare, tone=song.kit_rng.uniform(180, 230), noise_decay=song.kit_rng.uniform(0.12, 0.2)
    )
    song.kit_add(kit, "hat", drums.hat, 3, decay=0.04)
    song.kit_add(kit, "ride", drums.ride, 1, decay=1.2)
    song.kit_add(kit, "crash", drums.crash, 2)
    song.kit_add(kit, "tom_hi", drums.kick, 1, f0=140, f1=210, decay=0.16, click=0.2, drive=1.2)
    song.kit_add(kit, "tom_lo", drums.kick, 1, f0=85, f1=130, decay=0.22, click=0.2, drive=1.2)
    if flavour == BLUES_ROCK:
        drum_pattern(song, drum_bus, kit, "hat", "xxxxxxxx", 0.5)
        drum_pattern(song, drum_bus, kit, "kick", "x...x.x.", 0.9)
        drum_pattern(song, drum_bus, kit, "snare", "..X...X.", 0.9)
    else:
        cymbal = "ride" if flavour == INDIE and rng.random() < 0.4 else "hat"
        cymbal_pattern = "x.x.x.x.x.x.x.x." if flavour != PUNK else "xxxxxxxxxxxxxxxx"
        drum_pattern(song, drum_bus, kit, cymbal, cymbal_pattern, 0.5, ghost=0.04)
        kick_pattern = {CLASSIC_ROCK: "X.......X.x.....", PUNK: "X.x.....X.x.....", INDIE: "X...X...X...X..."}[flavour]
        drum_pattern(song, drum_bus, kit, "kick", kick_pattern, 0.95, drop=0.05)
        drum_pattern(song, drum_bus, kit, "snare", "....X.......X...", 1.0, ghost=0.04)
    drum_fills(song, drum_bus, kit, every=4 if flavour == PUNK else 8, beats=1.0, crash=0.8)
    drive_range = {CLASSIC_ROCK: (5.0, 12.0), PUNK: (10.0, 25.0), INDIE: (1.5, 4.0), BLUES_ROCK: (4.0, 10.0)}[flavour]
    gtr_bus = song.bus(
        "gtr",
        level=song.bus_level("gtr", -1),
        drive=(rng.uniform(*drive_range), rng.uniform(0.0, 0.3)),
        hp=90,
        lp=rng.uniform(4500, 6500),
        tilt=0.5,
        rev=0.15,
    )
    riffs = {
        CLASSIC_ROCK: ["P---P-p-P---p-P-", "P-.pP-.pP-.pP-.p", "P-----p-P---P-p-"],
        PUNK: ["PpPpPpPpPpPpPpPp", "P-p-P-p-P-p-P-p-", "PpPpPpPpP-P-P-P-"],
        INDIE: ["P.......P.......", "P---p---P---p---", "n.n.n.n.n.n.n.n."],
        BLUES_ROCK: ["n-n-n-n-", "P--pP--p", "n-5-6-5-"],
    }[flavour]
    riff = riffs[int(rng.integers(3))]
    if flavour == BLUES_ROCK and "5" in riff:
        bassline(song, gtr_bus, "drive", riff, lo=40, gain=0.9)
    else:
        guitar_riff(song, gtr_bus, riff, lo=40, gain=1.0)
    if flavour == INDIE:
        clean_bus = song.bus("keys", level=song.bus_level("keys", -6), rev=0.3, hp=150)
        arpeggio(song, clean_bus, "clean", (0, 2, 1, 3, 2, 1, 4, 2), unit=0.5, center=64, gain=0.6)
    if flavour == BLUES_ROCK and rng.random() < 0.5:
        organ_bus = song.bus("pad", level=song.bus_level("pad", -8), rev=0.3)
        sustained_chords(song, organ_bus, "organ_full", center=60, gain=0.8)
    bass_bus = song.bus("bass", level=song.bus_level("bass", -4), lp=2500)
    bassline(song, bass_bus, "bass", "r.r.r.r.r.r.r.r." if flavour != BLUES_ROCK else "r.3.5.6.", lo=28, legato=0.85)
    lead = palette["lead"]
    lead_bus = song.bus(
        "lead",
        level=song.bus_level("lead", -2),
        rev=0.3,
        hp=180,
        lp=6500,
        drive=(rng.uniform(4, 12), 0.0) if lead == "bendlead" else None,
    )
    scale = SCALES["minpent"] if lead in ("bendlead", "harp") else SCALES["major"]
    melody(
        song, lead_bus, lead, scale, 60, 84, unit=0.5, density=palette["density"], motif_bars=2, rest=0.4, legato=0.95
    )
