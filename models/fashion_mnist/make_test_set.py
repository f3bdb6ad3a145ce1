#!/usr/bin/python3
"""Fashion-MNIST loading, and a writer for the whole test set as .npy files.

Run with the system Python (python3-numpy), after `apt-get install dataset-fashion-mnist`:

    /usr/bin/python3 models/fashion_mnist/make_test_set.py [OUT_DIR]

writes OUT_DIR/test_images.npy (float32 [10000, 1, 28, 28], ~31 MB) and OUT_DIR/test_labels.npy (int64
[10000]). OUT_DIR defaults to build/fashion_mnist/ under the repository root; it is not committed. A C++ tool
can then evaluate the int8 model on all 10,000 test images.

Input normalization (the one the bundled models expect): x = float32(pixel) / 255.0f, computed in float32,
so x is in [0, 1], layout NCHW with one channel. No mean or standard deviation is subtracted. With the
model's input QuantizeLinear (scale float32(1/255), zero point 0), every such x quantizes back to exactly
its pixel value.

This file needs only numpy; train_and_quantize.py imports its loading functions from here.
"""

import argparse
import gzip
import os
import sys
from pathlib import Path

import numpy as np

# Where Debian's dataset-fashion-mnist package installs the IDX files. FASHION_MNIST_DIR overrides it.
DEBIAN_DIRS = (
    "/usr/share/datasets/fashion-mnist",
    "/usr/share/dataset-fashion-mnist",
    "/usr/share/fashion-mnist",
)

FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

# Fashion-MNIST label order (0..9).
CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

# models/fashion_mnist/ -> the repository root
REPO_ROOT = Path(__file__).resolve().parent.parent.parent


def _find_file(directory, stem):
    for name in (stem + ".gz", stem):
        p = Path(directory) / name
        if p.is_file():
            return p
    return None


def find_dataset_dir():
    """The directory holding all four IDX files (gzipped or not), or exits with instructions."""
    candidates = []
    if os.environ.get("FASHION_MNIST_DIR"):
        candidates.append(os.environ["FASHION_MNIST_DIR"])
    candidates.extend(DEBIAN_DIRS)
    # Wherever else the package may have put them (a future layout), without asking dpkg.
    share = Path("/usr/share")
    if share.is_dir():
        for sub in ("datasets", "."):
            base = share / sub
            if base.is_dir():
                candidates.extend(str(p) for p in sorted(base.glob("*fashion*mnist*")) if p.is_dir())
    stems = [s for pair in FILES.values() for s in pair]
    for d in candidates:
        if all(_find_file(d, s) is not None for s in stems):
            return Path(d)
    sys.exit(
        "error: Fashion-MNIST not found (looked in: " + ", ".join(dict.fromkeys(candidates)) + ").\n"
        "Install the Debian package first:\n\n"
        "    sudo apt-get install dataset-fashion-mnist\n\n"
        "or point FASHION_MNIST_DIR at a directory holding the four *-idx*-ubyte[.gz] files."
    )


def read_idx(path):
    """Reads one IDX file (optionally gzipped): big-endian magic, dims, then unsigned bytes."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ValueError(f"{path}: not an IDX file")
    dtype_code, ndim = data[2], data[3]
    if dtype_code != 0x08:
        raise ValueError(f"{path}: IDX element type 0x{dtype_code:02x}, expected 0x08 (unsigned byte)")
    dims = np.frombuffer(data, dtype=">u4", count=ndim, offset=4).astype(np.int64)
    offset = 4 + 4 * ndim
    count = int(np.prod(dims))
    if len(data) != offset + count:
        raise ValueError(f"{path}: size {len(data)} does not match dims {dims.tolist()}")
    return np.frombuffer(data, dtype=np.uint8, count=count, offset=offset).reshape(dims)


def load_split(split, directory=None):
    """Returns (pixels uint8 [n, 28, 28], labels int64 [n]) for split 'train' or 'test'."""
    directory = directory or find_dataset_dir()
    img_stem, lbl_stem = FILES[split]
    images = read_idx(_find_file(directory, img_stem))
    labels = read_idx(_find_file(directory, lbl_stem)).astype(np.int64)
    if images.ndim != 3 or images.shape[1:] != (28, 28) or labels.shape != (images.shape[0],):
        raise ValueError(f"unexpected {split} shapes {images.shape} / {labels.shape}")
    if labels.min() < 0 or labels.max() > 9:
        raise ValueError(f"{split} labels out of range")
    return images, labels


def normalize(pixels):
    """uint8 [n, 28, 28] -> float32 [n, 1, 28, 28] in [0, 1]: float32(pixel) / 255.0f."""
    x = pixels.astype(np.float32) / np.float32(255.0)
    assert x.dtype == np.float32
    return x[:, None, :, :]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "out_dir",
        nargs="?",
        default=str(REPO_ROOT / "build" / "fashion_mnist"),
        help="output directory (default: build/fashion_mnist/ under the repository root)",
    )
    args = ap.parse_args()
    pixels, labels = load_split("test")
    images = np.ascontiguousarray(normalize(pixels))
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    np.save(out / "test_images.npy", images)
    np.save(out / "test_labels.npy", labels)
    print(f"wrote {out / 'test_images.npy'} {images.dtype} {list(images.shape)}")
    print(f"wrote {out / 'test_labels.npy'} {labels.dtype} {list(labels.shape)}")


if __name__ == "__main__":
    main()
