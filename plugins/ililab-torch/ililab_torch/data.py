"""Feature-level audio-visual datasets: one ``.npz`` file per dataset.

Layout (every array numeric or unicode; nothing is ever unpickled)::

    audio        float (n, d_a)   clip-level audio features, e.g. 128-d VGGish
    visual       float (n, d_v)   clip-level visual features, e.g. 1024-d Inception / 2048-d ResNet
    label        int   (n,)       annotated class of each clip, 0 .. C-1
    split        optional (n,)    "train" / "test" strings, or 0 (train) / 1 (test)
    class_names  optional (C,)    unicode class names, e.g. "Frying (food)"

Real AVE (28 classes; the paper's 15-class subset) and VEGAS (10 classes)
features take this layout directly: stack the per-clip vectors of each
modality in the same clip order, add the label, and the official split.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ililab.errors import DataError, UsageError
from ililab.io import atomic_write

__all__ = ["AVFeatures", "load_features", "save_features", "stratified_split", "MODALITIES"]

MODALITIES = ("audio", "visual")
_SPLIT_WORDS = {"train": 0, "test": 1}


@dataclass(frozen=True, eq=False)
class AVFeatures:
    """Clip-level features of two modalities with one annotated class per clip.

    Parameters
    ----------
    audio : ndarray of shape (n, d_a)
    visual : ndarray of shape (n, d_v)
    label : ndarray of shape (n,)
        Integers in ``[0, n_classes)``.
    class_names : list of str
        One name per class (``class 0``, ... when the file has none).
    split : ndarray of shape (n,), optional
        ``0`` for train, ``1`` for test; None when the file has no split.
    source : str
        Where the data came from (for messages).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> data = AVFeatures(rng.normal(size=(6, 4)), rng.normal(size=(6, 8)), np.array([0, 0, 0, 1, 1, 1]),
    ...                   ["Train", "Car"])
    >>> data.n_clips, data.n_classes, data.dims, data.soft_label_names()[:3]
    (6, 2, {'audio': 4, 'visual': 8}, ['Train (audio)', 'Car (audio)', 'Train (visual)'])
    """

    audio: np.ndarray
    visual: np.ndarray
    label: np.ndarray
    class_names: list[str]
    split: np.ndarray | None = None
    source: str = "features"
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        _validate(self)

    @property
    def n_clips(self) -> int:
        return int(self.label.shape[0])

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    @property
    def dims(self) -> dict[str, int]:
        """Feature width per modality."""
        return {"audio": int(self.audio.shape[1]), "visual": int(self.visual.shape[1])}

    def soft_label_names(self) -> list[str]:
        """Column names of soft labels: ``C`` audio columns then ``C`` visual columns."""
        return [f"{c} ({m})" for m in MODALITIES for c in self.class_names]

    def split_indices(self, test_fraction: float = 0.2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Indices of the train and test clips.

        The file's ``split`` when present; otherwise a stratified split drawn
        with ``seed`` (so teacher and student agree when given the same seed).
        """
        if self.split is not None:
            train, test = np.flatnonzero(self.split == 0), np.flatnonzero(self.split == 1)
        else:
            train, test = stratified_split(self.label, test_fraction, seed)
        if train.size < 2:
            raise DataError(f"{self.source}: the train split has {train.size} clips; need at least 2")
        return train, test

    def subset(self, rows: np.ndarray) -> AVFeatures:
        """The clips at ``rows`` (split dropped)."""
        return AVFeatures(
            self.audio[rows], self.visual[rows], self.label[rows], list(self.class_names), None, self.source
        )


def _validate(data: AVFeatures) -> None:
    src = data.source
    for name in MODALITIES:
        x = getattr(data, name)
        if not isinstance(x, np.ndarray) or x.ndim != 2:
            shape = getattr(x, "shape", None)
            raise DataError(f"{src}: {name!r} must be a 2-D array (clips x features), got shape {shape}")
        if x.dtype.kind not in "iuf":
            raise DataError(f"{src}: {name!r} must be numeric, got dtype {x.dtype}")
        if x.shape[1] < 1:
            raise DataError(f"{src}: {name!r} has no feature columns")
        if x.dtype.kind == "f" and not np.isfinite(x).all():
            row = int(np.argwhere(~np.isfinite(x))[0][0])
            raise DataError(f"{src}: {name!r} has NaN or inf (first at clip {row}); remove or impute them")
    label = data.label
    if not isinstance(label, np.ndarray) or label.ndim != 1:
        raise DataError(f"{src}: 'label' must be a 1-D integer array, one class index per clip")
    if label.dtype.kind == "f":
        if not np.all(np.isfinite(label)) or not np.all(label == np.round(label)):
            raise DataError(f"{src}: 'label' must hold integer class indices, got non-integer floats")
    elif label.dtype.kind not in "iu":
        raise DataError(f"{src}: 'label' must hold integer class indices, got dtype {label.dtype}")
    n = label.shape[0]
    if data.audio.shape[0] != n or data.visual.shape[0] != n:
        raise DataError(
            f"{src}: row counts differ: audio {data.audio.shape[0]}, visual {data.visual.shape[0]}, label {n}; "
            "every array needs one row per clip in the same order"
        )
    if n < 2:
        raise DataError(f"{src}: need at least 2 clips, got {n}")
    c = len(data.class_names)
    if c < 2:
        raise DataError(f"{src}: need at least 2 classes, got {c}")
    if len(set(data.class_names)) != c:
        raise DataError(f"{src}: class names are not unique")
    low, high = int(label.min()), int(label.max())
    if low < 0 or high >= c:
        bad = low if low < 0 else high
        raise DataError(
            f"{src}: label {bad} is out of range for {c} classes (labels must lie in 0..{c - 1}); "
            "fix the labels or give matching class_names"
        )
    if data.split is not None:
        if data.split.shape != (n,):
            raise DataError(f"{src}: 'split' must have one entry per clip ({n}), got shape {data.split.shape}")
        if not np.isin(data.split, (0, 1)).all():
            raise DataError(f"{src}: 'split' entries must be 'train'/'test' or 0/1")


def _split_array(raw: np.ndarray, src: str) -> np.ndarray:
    if raw.dtype.kind in "US":
        words = np.char.lower(np.char.strip(raw.astype(str)))
        unknown = sorted(set(words.tolist()) - set(_SPLIT_WORDS))
        if unknown:
            raise DataError(f"{src}: unknown split value(s) {unknown[:3]}; use 'train' and 'test'")
        return np.where(words == "test", 1, 0).astype(np.int8)
    if raw.dtype.kind in "iub":
        return raw.astype(np.int8)
    raise DataError(f"{src}: 'split' must be strings ('train'/'test') or integers (0/1), got dtype {raw.dtype}")


def load_features(path: str | Path) -> AVFeatures:
    """Read and validate a feature ``.npz`` (see the module docstring for the layout).

    Raises
    ------
    DataError
        Missing file, pickled content, missing arrays, mismatched rows,
        NaN / inf, labels out of range, a malformed split.

    Examples
    --------
    >>> load_features("no/such.npz")
    Traceback (most recent call last):
    ...
    ililab.errors.DataError: no such file: 'no/such.npz'
    """
    path = Path(path)
    src = str(path)
    if path.suffix.lower() != ".npz":
        raise UsageError(f"{src!r}: feature files are .npz archives with 'audio', 'visual' and 'label' arrays")
    if not path.is_file():
        raise DataError(f"no such file: {src!r}")
    try:
        archive = np.load(path, allow_pickle=False)
    except Exception as error:
        raise DataError(f"{src!r} is not a valid .npz archive: {error}") from None
    arrays: dict[str, np.ndarray] = {}
    with archive:
        missing = [k for k in ("audio", "visual", "label") if k not in archive.files]
        if missing:
            raise DataError(
                f"{src!r} lacks array(s) {', '.join(missing)}; it holds: {', '.join(archive.files) or 'none'}"
            )
        for key in ("audio", "visual", "label", "split", "class_names"):
            if key not in archive.files:
                continue
            try:
                arrays[key] = archive[key]
            except ValueError:
                raise DataError(f"{src!r}: array {key!r} holds Python objects; save plain numeric/unicode arrays") from None
    label = arrays["label"]
    if label.ndim == 1 and label.dtype.kind == "f" and np.all(np.isfinite(label)) and np.all(label == np.round(label)):
        label = label.astype(np.int64)
    if "class_names" in arrays:
        names_arr = arrays["class_names"]
        if names_arr.dtype.kind not in "US" or names_arr.ndim != 1:
            raise DataError(f"{src!r}: 'class_names' must be a 1-D array of strings")
        class_names = [str(x) for x in names_arr.tolist()]
    else:
        if label.size == 0 or label.dtype.kind not in "iu":
            class_names = ["class 0", "class 1"]
        else:
            class_names = [f"class {i}" for i in range(max(int(label.max()) + 1, 2))]
    split = _split_array(arrays["split"], src) if "split" in arrays else None
    return AVFeatures(arrays["audio"], arrays["visual"], label, class_names, split, src)


def save_features(data: AVFeatures, path: str | Path, **extra: np.ndarray) -> Path:
    """Write ``data`` as a feature ``.npz`` atomically (split as 'train'/'test' strings).

    >>> import tempfile
    >>> data = AVFeatures(np.zeros((4, 2)), np.ones((4, 3)), np.array([0, 1, 0, 1]), ["Train", "Car"])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     back = load_features(save_features(data, Path(tmp) / "f.npz"))
    >>> back.class_names, back.dims
    (['Train', 'Car'], {'audio': 2, 'visual': 3})
    """
    arrays = {
        "audio": data.audio,
        "visual": data.visual,
        "label": data.label.astype(np.int64),
        "class_names": np.array(data.class_names, dtype=str),
    }
    if data.split is not None:
        arrays["split"] = np.where(data.split == 1, "test", "train")
    arrays.update(extra)

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as handle:
            np.savez(handle, **arrays)

    return atomic_write(path, write)


def stratified_split(
    labels: Sequence[int] | np.ndarray, test_fraction: float = 0.2, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Seeded stratified train/test indices: ``test_fraction`` of each class (at least one clip of a class of 2+).

    >>> train, test = stratified_split([0, 0, 0, 0, 1, 1, 1, 1], 0.25, seed=0)
    >>> len(train), len(test), sorted(np.array([0, 0, 0, 0, 1, 1, 1, 1])[test].tolist())
    (6, 2, [0, 1])
    """
    if not 0.0 < test_fraction < 1.0:
        raise UsageError(f"test fraction must lie strictly between 0 and 1, got {test_fraction}")
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    train, test = [], []
    for c in np.unique(labels):
        rows = np.flatnonzero(labels == c)
        rows = rows[rng.permutation(rows.size)]
        k = int(round(test_fraction * rows.size))
        if rows.size >= 2:
            k = min(max(k, 1), rows.size - 1)
        else:
            k = 0
        test.append(rows[:k])
        train.append(rows[k:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))
