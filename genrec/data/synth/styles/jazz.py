"""The synthetic "jazz" style: swing ride, walking bass, rootless comping on ii-V-I changes, four artist flavours."""

from __future__ import annotations

from genrec.data.synth import drums
from genrec.data.synth.parts import arpeggio, chord_hits, drum_pattern, melody, walking_bass
from genrec.data.synth.song import Song
from genrec.data.synth.theory import SCALES

# the artists' flavours, in FLAVOURS["jazz"] order
SWING_QUARTET, BALLAD, BEBOP, ORGAN_TRIO = range(4)


def arrange_jazz(song: Song) -> None:
    """Swing ride (brushes for ballads), walking bass, rootless piano/organ comping, a sax/trumpet-like line."""
    flavour, rng, palette = song.flavour, song.rng, song.palette
    song.setup(song.pick_tempo(), swing=song.swing_ratio(0.6, 0.7) if flavour != BALLAD else 0.62, jitter=0.01)
    progs = [
        [(2, "min7", 1), (7, "dom9", 1), (0, "maj7", 2)],
        [(2, "min9", 1), (7, "dom13", 1), (0, "maj9", 1), (9, "dom7", 1)],
        [(0, "maj7", 1), (9, "min7", 1), (2, "min7", 1), (7, "dom7", 1)],
        [(5, "maj7", 1), (4, "m7b5", 1), (9, "dom7", 1), (2, "min9", 1)],
    ]
    if flavour == ORGAN_TRIO and rng.random() < 0.5:  # jazz blues
        roots = [0, 5, 0, 0, 5, 5, 0, 9, 2, 7, 0, 7]
        qualities = ["dom9", "dom9", "dom7", "dom7", "dom9", "dom9", "dom7", "dom7", "min7", "dom7", "dom9", "dom7"]
        song.progression([(root, quality, 1) for root, quality in zip(roots, qualities)])
    else:
        song.progression(progs[int(rng.integers(4))])
    drum_bus = song.bus("drums", level=song.bus_level("drums", -8), hp=40, lp=6000, tilt=-1.0, rev=0.25)
    kit: dict = {}
    song.kit_add(
        kit, "ride", drums.ride, 3, decay=song.kit_rng.uniform(0.6, 1.2), bell=song.kit_rng.uniform(0.2, 0.5), hi=7000.0
    )
    song.kit_add(kit, "hat", drums.hat, 2, decay=0.03, lo=4500)
    song.kit_add(kit, "kick", drums.kick, 1, f0=song.kit_rng.uniform(55, 70), decay=0.2, click=0.1, drive=1.0)
    song.kit_add(kit, "snare", drums.snare, 2, tone=song.kit_rng.uniform(200, 260), noise_decay=0.09, snap=0.5)
    song.kit_add(kit, "brush", drums.brush, 3, decay=0.12)
    if flavour == BALLAD:
        drum_pattern(song, drum_bus, kit, "brush", "x.xx.x.xx.xx.x.x", 0.5, drop=0.2)
        drum_pattern(song, drum_bus, kit, "hat", "..x...x.", 0.3)
    else:
        drum_pattern(song, drum_bus, kit, "ride", "x.Xxx.Xx", 0.55, drop=0.05)
        drum_pattern(song, drum_bus, kit, "hat", "..x...x.", 0.5)
        drum_pattern(song, drum_bus, kit, "kick", "o.o.o.o.", 0.3, drop=0.3)
        drum_pattern(song, drum_bus, kit, "snare", "........", 0.5, ghost=0.12)
    bass_bus = song.bus("bass", level=song.bus_level("bass", -3), lp=2500, rev=0.1)
    if flavour == ORGAN_TRIO:
        song.bus("bass", lp=900)
        walking_bass(song, bass_bus, "organ", lo=31, hi=47, gain=1.0)
    else:
        walking_bass(song, bass_bus, "upright", lo=28, hi=47, gain=1.0, feel=2 if flavour == BALLAD else 1)
    keys_bus = song.bus("keys", level=song.bus_level("keys", -5), rev=0.3, tilt=-0.3)
    comping_timbre = "organ_full" if flavour == ORGAN_TRIO else ("epiano" if rng.random() < 0.3 else "piano")
    if flavour == BALLAD:
        arpeggio(song, keys_bus, "piano", (0, 1, 2, 3, 4, 3, 2, 1), unit=0.5, center=58, gain=0.5, legato=2.5)
    else:
        for bar in range(song.nbars):
            patterns = ["x--.....", "...x--..", ".x---...", "x...-x--", "..x...x.", "...x...x"]
            chord_hits(
                song,
                keys_bus,
                comping_timbre,
                patterns[int(rng.integers(len(patterns)))],
                center=60,
                gain=0.7,
                rootless=True,
                bars=range(bar, bar + 1),
                legato=0.8,
            )
    lead = palette["lead"]
    lead_bus = song.bus("lead", level=song.bus_level("lead", -1), rev=0.3, hp=120, lp=5000)
    scale = SCALES["bebop"] if flavour in (SWING_QUARTET, BEBOP) else SCALES["dorian"]
    lo = 55 if lead in ("reed", "clean") else 60
    melody(
        song,
        lead_bus,
        lead,
        scale,
        lo,
        lo + 24,
        unit=0.5 if flavour != BALLAD else 1.0,
        density=palette["density"] + (0.2 if flavour == BEBOP else 0),
        motif_bars=1 if flavour == BEBOP else 2,
        rest=0.3,
        legato=0.9,
        snap=0.5,
        mutate=0.5,
        leap=0.3,
    )
