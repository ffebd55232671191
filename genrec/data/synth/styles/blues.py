"""The synthetic "blues" style: a 12-bar I7-IV7-V7 shuffle, four artist flavours."""

from __future__ import annotations

from genrec.data.synth import drums
from genrec.data.synth.parts import (
    bassline,
    chord_hits,
    drum_fills,
    drum_pattern,
    melody,
    sustained_chords,
    walking_bass,
)
from genrec.data.synth.song import Song
from genrec.data.synth.theory import SCALES

# the artists' flavours, in FLAVOURS["blues"] order
SLOW_BLUES, CHICAGO_SHUFFLE, PIANO_BOOGIE, DELTA_ACOUSTIC = range(4)


def arrange_blues(song: Song) -> None:
    """Shuffle drums (or a foot stomp), walking/boogie bass, overdriven or acoustic guitar, a bent lead."""
    flavour, rng, palette = song.flavour, song.rng, song.palette
    swing = song.swing_ratio(0.6, 0.69)
    if flavour == SLOW_BLUES:
        song.setup(song.pick_tempo(), swing=0.5, bpb=4, jitter=0.01)  # 12/8: triplet grid
    else:
        song.setup(song.pick_tempo(), swing=swing, jitter=0.008)
    quick = rng.random() < 0.5
    roots = [0, 5 if quick else 0, 0, 0, 5, 5, 0, 0, 7, 5, 0, 7]
    song.progression(
        [(root, "dom9" if flavour == PIANO_BOOGIE and rng.random() < 0.3 else "dom7", 1) for root in roots]
    )
    drum_bus = song.bus("drums", level=song.bus_level("drums", -3), hp=40, lp=11000, rev=0.15)
    kit: dict = {}
    if flavour != DELTA_ACOUSTIC:
        song.kit_add(kit, "kick", drums.kick, f0=song.kit_rng.uniform(48, 60), decay=0.18, click=0.2)
        song.kit_add(kit, "snare", drums.snare, tone=song.kit_rng.uniform(170, 220), noise_decay=0.12)
        song.kit_add(kit, "hat", drums.hat, decay=0.05)
        song.kit_add(kit, "ride", drums.ride, 1, decay=1.1)
        song.kit_add(kit, "crash", drums.crash, 1)
        song.kit_add(kit, "brush", drums.brush)
    if flavour == SLOW_BLUES:
        drum_pattern(song, drum_bus, kit, "ride" if rng.random() < 0.5 else "hat", "XxxxxxXxxxxx", 0.45)
        drum_pattern(song, drum_bus, kit, "kick", "X.....x.....", 0.9)
        drum_pattern(song, drum_bus, kit, "snare", "...X.....X.o", 0.8, ghost=0.05)
        drum_fills(song, drum_bus, kit, every=12, beats=1.0, insts=("snare",))
    elif flavour in (CHICAGO_SHUFFLE, PIANO_BOOGIE):
        hat_pattern = "xxxxxxxx" if rng.random() < 0.6 else "x.x.x.x."
        cymbal = "ride" if flavour == CHICAGO_SHUFFLE and rng.random() < 0.4 else "hat"
        drum_pattern(song, drum_bus, kit, cymbal, hat_pattern, 0.5, drop=0.05)
        drum_pattern(song, drum_bus, kit, "kick", "x.o.x.o." if rng.random() < 0.5 else "x...x...", 0.85)
        drum_pattern(
            song, drum_bus, kit, "snare" if flavour == CHICAGO_SHUFFLE else "brush", "..X...X.", 0.8, ghost=0.08
        )
        drum_fills(song, drum_bus, kit, every=4, beats=1.0, insts=("snare",), crash=0.6)
    elif rng.random() < 0.6:  # delta: foot stomp only, sometimes
        song.kit_add(kit, "kick", drums.kick, f0=song.kit_rng.uniform(55, 70), decay=0.12, click=0.5, drive=1.0)
        drum_pattern(song, drum_bus, kit, "kick", "x.x.x.x.", 0.8)
    bass_bus = song.bus("bass", level=song.bus_level("bass", -5), lp=2500, rev=0.05)
    if flavour == PIANO_BOOGIE:
        bassline(song, bass_bus, "upright", "r3565653", lo=36, gain=1.0)
        keys_bus = song.bus("keys", level=song.bus_level("keys", -2), rev=0.25, tilt=-0.5)
        bassline(song, keys_bus, "piano", "r3565653", lo=40, gain=0.9)  # boogie left hand
        chord_hits(song, keys_bus, "piano", "..x...x." if rng.random() < 0.5 else ".x.x.x.x", center=67, gain=0.7)
    elif flavour == DELTA_ACOUSTIC:
        acoustic_bus = song.bus("keys", level=song.bus_level("keys", -2), rev=0.15, hp=80)
        bassline(song, acoustic_bus, "steel", "r.r.r.r.", lo=40, gain=0.9)
        chord_hits(song, acoustic_bus, "steel", ".x.x.x.x", center=60, gain=0.4, strum=0.012, drop=0.3)
    else:
        walking_bass(song, bass_bus, "upright" if rng.random() < 0.5 else "bass", lo=28, hi=47, gain=1.0)
        gtr_bus = song.bus(
            "gtr", level=song.bus_level("gtr", -4), drive=(rng.uniform(1.5, 4.0), 0.1), lp=5000, hp=90, rev=0.2
        )
        bassline(song, gtr_bus, "drive", "r-5-6-5-" if rng.random() < 0.7 else "r-5-r-5-", lo=40, gain=0.8)
        if rng.random() < 0.5:
            organ_bus = song.bus("pad", level=song.bus_level("pad", -9), rev=0.3)
            sustained_chords(song, organ_bus, "organ", center=62, gain=0.8)
    lead = palette["lead"]
    if lead == "piano" and flavour != PIANO_BOOGIE:
        lead = "bendlead"
    lead_bus = song.bus(
        "lead",
        level=song.bus_level("lead", -1.5),
        rev=0.3,
        hp=150,
        drive=(rng.uniform(2.0, 5.0), 0.0) if lead == "bendlead" else None,
        lp=6000,
    )
    melody(
        song,
        lead_bus,
        lead,
        SCALES["blues"],
        55,
        79,
        unit=0.5 if flavour != SLOW_BLUES else 1 / 3,
        density=palette["density"],
        motif_bars=2,
        rest=0.35,
        legato=0.95,
        snap=0.4,
    )
