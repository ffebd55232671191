"""The file names of a run folder, in one place (what each file holds: :mod:`genrec.runs.reader`).

This module imports nothing from genrec, so every stage (the predictors, Grad-CAM, the reader, the
writer, bundles) may name a run's files without importing the others.
"""

from __future__ import annotations

#: Every parameter, library fingerprint and split method, weights source, wall time per stage.
RUN_JSON = "run.json"
#: Test (and valid) classification report, confusion matrix, retrieval figures.
METRICS_JSON = "metrics.json"
#: Per epoch: loss, accuracy, val_loss, val_accuracy, seconds.
HISTORY_CSV = "history.csv"
#: The library tracks used, with genre, split, artist and the SHA-256 digest of each file.
TRACKS_CSV = "tracks.csv"
#: Per track: L2-normalised clip embedding and probabilities.
EMBEDDINGS_NPZ = "embeddings.npz"
#: The trained Keras model (a run pulled from a bundle may lack it and answer with its LiteRT predictor).
MODEL_KERAS = "model.keras"
#: The model's image → (probabilities, embedding, last feature map) for LiteRT.
PREDICTOR_FILE = "predictor.tflite"
#: The 8-bit LiteRT predictor (genrec.model.quantize).
QUANTIZED_FILE = "predictor-int8.tflite"
#: The 8-bit predictor's agreement with the float model on the run's library (written by genrec.model.quantize).
AGREEMENT_FILE = "predictor-int8.json"
#: The head's weights after pooling, for Grad-CAM without TensorFlow (``genrec export`` writes it).
HEAD_FILE = "head.npz"

#: The files every complete run holds (a pulled run may hold a LiteRT predictor instead of the model).
RUN_FILES = (RUN_JSON, MODEL_KERAS, HISTORY_CSV, METRICS_JSON, TRACKS_CSV, EMBEDDINGS_NPZ)
#: The files a bundle carries for every run (the model files are optional there).
RECORD_FILES = (RUN_JSON, METRICS_JSON, HISTORY_CSV, TRACKS_CSV, EMBEDDINGS_NPZ)
#: Prefix of the hidden folder a run is written in before it is renamed into place.
TMP_PREFIX = ".tmp-"
