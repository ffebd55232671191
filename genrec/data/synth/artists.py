"""The pseudo-artists: four flavours per style and each artist's seeded palette."""

from __future__ import annotations

from functools import lru_cache

from genrec.data.synth.seeds import SYNTH_VERSION, seeded_rng

# Per style, four artist flavours: name, tempo range, keys (pitch classes), leads
# (favourite timbres), reverb range (s), lo-fi probability.
FLAVOURS: dict[str, list[dict]] = {
    "blues": [
        dict(
            name="slow blues", range=(58, 76), keys=(4, 9, 7, 0), leads=("bendlead", "harp"), rev=(0.8, 1.6), lofi=0.5
        ),
        dict(
            name="chicago shuffle",
            range=(96, 124),
            keys=(9, 4, 7, 2),
            leads=("harp", "bendlead"),
            rev=(0.5, 1.2),
            lofi=0.4,
        ),
        dict(
            name="piano boogie", range=(110, 135), keys=(0, 7, 5, 10), leads=("piano", "reed"), rev=(0.6, 1.2), lofi=0.4
        ),
        dict(name="delta acoustic", range=(70, 100), keys=(4, 9, 2), leads=("slide", "harp"), rev=(0.3, 0.9), lofi=0.7),
    ],
    "classical": [
        dict(
            name="string ensemble",
            range=(60, 100),
            keys=(2, 7, 0, 9, 4),
            leads=("violin", "strings"),
            rev=(1.8, 2.8),
            lofi=0.15,
        ),
        dict(name="solo piano", range=(66, 120), keys=(0, 5, 10, 3, 8), leads=("piano",), rev=(1.3, 2.2), lofi=0.15),
        dict(
            name="chamber winds",
            range=(72, 112),
            keys=(7, 2, 5, 10),
            leads=("flute", "reed"),
            rev=(1.4, 2.4),
            lofi=0.15,
        ),
        dict(
            name="orchestral", range=(60, 110), keys=(2, 3, 0, 5), leads=("brass", "strings"), rev=(2.0, 3.0), lofi=0.1
        ),
    ],
    "country": [
        dict(name="train beat", range=(108, 140), keys=(7, 2, 9, 4), leads=("twang",), rev=(0.3, 0.8), lofi=0.2),
        dict(
            name="waltz ballad", range=(80, 104), keys=(7, 0, 2, 5), leads=("slide", "violin"), rev=(0.8, 1.5), lofi=0.2
        ),
        dict(
            name="honky-tonk", range=(96, 124), keys=(7, 2, 9, 0), leads=("violin", "twang"), rev=(0.5, 1.1), lofi=0.35
        ),
        dict(
            name="country rock", range=(100, 126), keys=(9, 4, 7, 2), leads=("twang", "vocal"), rev=(0.5, 1.0), lofi=0.1
        ),
    ],
    "disco": [
        dict(
            name="classic disco",
            range=(112, 124),
            keys=(9, 2, 4, 7),
            leads=("strings", "violin"),
            rev=(0.7, 1.3),
            lofi=0.25,
        ),
        dict(
            name="funk disco", range=(108, 118), keys=(4, 9, 7, 5), leads=("brass", "vocal"), rev=(0.5, 1.0), lofi=0.25
        ),
        dict(
            name="euro disco",
            range=(122, 132),
            keys=(9, 2, 5, 0),
            leads=("saw_lead", "lead"),
            rev=(0.8, 1.4),
            lofi=0.05,
        ),
        dict(
            name="orchestral disco",
            range=(114, 126),
            keys=(7, 0, 5, 10),
            leads=("brass", "strings"),
            rev=(0.9, 1.6),
            lofi=0.2,
        ),
    ],
    "hiphop": [
        dict(name="boom bap", range=(84, 98), keys=(1, 5, 7, 10), leads=("piano", "epiano"), rev=(0.3, 0.8), lofi=0.7),
        dict(
            name="half-time 808",
            range=(80, 92),
            keys=(1, 3, 6, 8),
            leads=("bell", "synth_pluck"),
            rev=(0.6, 1.2),
            lofi=0.15,
        ),
        dict(name="jazz hop", range=(82, 96), keys=(2, 5, 9, 0), leads=("epiano", "reed"), rev=(0.5, 1.0), lofi=0.6),
        dict(name="g-funk", range=(88, 100), keys=(6, 11, 4, 9), leads=("whistle", "lead"), rev=(0.5, 1.0), lofi=0.2),
    ],
    "jazz": [
        dict(
            name="swing quartet",
            range=(120, 180),
            keys=(5, 10, 3, 0),
            leads=("reed", "brass"),
            rev=(0.8, 1.4),
            lofi=0.5,
        ),
        dict(
            name="ballad", range=(60, 84), keys=(3, 8, 1, 5), leads=("reed", "brass", "piano"), rev=(1.0, 1.8), lofi=0.5
        ),
        dict(name="bebop", range=(180, 230), keys=(5, 10, 3, 8), leads=("brass", "reed"), rev=(0.6, 1.2), lofi=0.45),
        dict(
            name="organ trio", range=(100, 140), keys=(5, 10, 0, 7), leads=("clean", "reed"), rev=(0.6, 1.2), lofi=0.35
        ),
    ],
    "metal": [
        dict(name="thrash", range=(180, 200), keys=(4, 2), leads=("bendlead",), rev=(0.4, 0.9), lofi=0.05),
        dict(name="doom groove", range=(140, 156), keys=(0, 11, 1), leads=("bendlead",), rev=(0.8, 1.6), lofi=0.05),
        dict(
            name="melodic power",
            range=(160, 186),
            keys=(4, 9, 11),
            leads=("bendlead", "saw_lead"),
            rev=(0.8, 1.5),
            lofi=0.05,
        ),
        dict(
            name="alt groove", range=(140, 160), keys=(2, 4, 1), leads=("bendlead", "vocal"), rev=(0.5, 1.1), lofi=0.05
        ),
    ],
    "pop": [
        dict(name="dance pop", range=(118, 128), keys=(0, 5, 7, 9), leads=("vocal", "lead"), rev=(0.8, 1.4), lofi=0.05),
        dict(
            name="piano ballad",
            range=(100, 112),
            keys=(0, 5, 10, 3),
            leads=("vocal", "flute"),
            rev=(1.2, 2.0),
            lofi=0.05,
        ),
        dict(
            name="synth pop",
            range=(108, 124),
            keys=(2, 9, 4, 11),
            leads=("lead", "saw_lead"),
            rev=(0.8, 1.5),
            lofi=0.05,
        ),
        dict(
            name="guitar pop", range=(100, 126), keys=(7, 2, 9, 4), leads=("vocal", "clean"), rev=(0.6, 1.2), lofi=0.1
        ),
    ],
    "reggae": [
        dict(
            name="roots one-drop", range=(70, 82), keys=(9, 7, 2, 4), leads=("vocal", "reed"), rev=(0.7, 1.4), lofi=0.4
        ),
        dict(name="steppers", range=(74, 88), keys=(4, 9, 11, 2), leads=("reed", "vocal"), rev=(0.8, 1.5), lofi=0.3),
        dict(name="dub", range=(70, 84), keys=(9, 2, 7), leads=("reed", "flute"), rev=(1.5, 2.5), lofi=0.5),
        dict(name="lovers rock", range=(76, 90), keys=(0, 7, 5, 2), leads=("vocal", "flute"), rev=(0.8, 1.4), lofi=0.2),
    ],
    "rock": [
        dict(
            name="classic rock",
            range=(110, 136),
            keys=(4, 9, 2, 7),
            leads=("bendlead", "vocal"),
            rev=(0.6, 1.2),
            lofi=0.25,
        ),
        dict(name="punk", range=(138, 150), keys=(4, 9, 2, 0), leads=("vocal", "bendlead"), rev=(0.3, 0.8), lofi=0.2),
        dict(name="indie", range=(108, 130), keys=(2, 7, 9, 11), leads=("vocal", "clean"), rev=(0.8, 1.5), lofi=0.15),
        dict(name="blues rock", range=(100, 120), keys=(4, 9, 7), leads=("bendlead", "harp"), rev=(0.6, 1.2), lofi=0.3),
    ],
}


@lru_cache(maxsize=256)
def artist_palette(genre: str, artist: int, seed: int) -> dict:
    """An artist's sub-palette: tempo centre, home key, favourite lead, brightness,
    room size, mix offsets -- shared by all of that artist's clips.  ``artist`` (0-3)
    indexes the style's ``FLAVOURS`` and is stored as ``variant``."""
    spec = FLAVOURS[genre][artist]
    rng = seeded_rng("artist", SYNTH_VERSION, seed, genre, artist)
    lo, hi = spec["range"]
    width = hi - lo
    return dict(
        spec,
        variant=artist,
        tempo=float(rng.uniform(lo + 0.25 * width, hi - 0.25 * width)),
        key=int(rng.choice(spec["keys"])),
        lead=str(rng.choice(spec["leads"])),
        tilt=float(rng.normal(0.0, 0.6)),  # dB/octave around 1 kHz
        room=float(rng.uniform(*spec["rev"])),
        damp=float(rng.uniform(3000.0, 7000.0)),
        wet=float(rng.uniform(0.6, 1.4)),
        levels={b: float(rng.normal(0.0, 1.5)) for b in ("drums", "bass", "keys", "gtr", "pad", "lead")},
        lofi=bool(rng.random() < spec["lofi"]),
        hiss=float(rng.uniform(32.0, 55.0)),  # SNR in dB
        swing=float(rng.uniform(0.0, 1.0)),  # where in the style's swing range
        density=float(rng.uniform(0.4, 0.7)),
    )
