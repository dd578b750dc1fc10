"""Write mynn/data/digits.npz, the bundled copy of the UCI optical handwritten digits.

The source is the copy of the data set that scikit-learn ships (``sklearn.datasets.load_digits``):
the 1,797 samples of the test part (``optdigits.tes``) of the UCI "Optical Recognition of
Handwritten Digits" data set (E. Alpaydin and C. Kaynak, 1998; licence CC BY 4.0). Each sample
is an 8x8 image whose pixels count the "on" pixels of a 4x4 block of a 32x32 bitmap, so every
value is an integer from 0 to 16.

scikit-learn is needed only to run this script once; neither mynn nor its tests import it::

    pip install scikit-learn
    python scripts/make_digits.py

The archive holds two arrays, ``images`` (uint8, shape (1797, 8, 8)) and ``labels`` (uint8,
shape (1797,)), deflate-compressed like ``np.savez_compressed`` writes them, but with a fixed
timestamp on each member so that running the script again gives a byte-identical file (the
test ``tests/test_digits.py`` checks its sha256).
"""

from __future__ import annotations

import hashlib
import io
import sys
import zipfile
from pathlib import Path

import numpy as np

OUTPUT = Path(__file__).resolve().parent.parent / "mynn" / "data" / "digits.npz"
FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip member can carry


def load_source() -> tuple[np.ndarray, np.ndarray]:
    """The images and labels from scikit-learn, checked and converted to uint8."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images, labels = np.asarray(bunch.images), np.asarray(bunch.target)
    if images.shape != (1797, 8, 8) or labels.shape != (1797,):
        raise SystemExit(f"unexpected shapes {images.shape} and {labels.shape}")
    if not (np.array_equal(images, np.round(images)) and images.min() >= 0 and images.max() <= 16):
        raise SystemExit("pixels are not integers in 0..16")
    if set(np.unique(labels).tolist()) != set(range(10)):
        raise SystemExit(f"labels are not the digits 0..9: {np.unique(labels)}")
    return images.astype(np.uint8), labels.astype(np.uint8)


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """A compressed .npz that ``np.load`` reads, with no timestamp of its own."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        for name, array in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.ascontiguousarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, buffer.getvalue(), compresslevel=9)


def main() -> int:
    images, labels = load_source()
    write_npz(OUTPUT, {"images": images, "labels": labels})
    with np.load(OUTPUT, allow_pickle=False) as data:  # read back what was written
        assert np.array_equal(data["images"], images) and np.array_equal(data["labels"], labels)
    digest = hashlib.sha256(OUTPUT.read_bytes()).hexdigest()
    print(f"wrote {OUTPUT} ({OUTPUT.stat().st_size:,} bytes)")
    print(f"sha256 {digest}")
    print(f"class counts {np.bincount(labels, minlength=10).tolist()}")
    print(f"pixel sum {int(images.sum(dtype=np.int64))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
