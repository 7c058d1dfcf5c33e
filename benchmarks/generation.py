"""Images per second: synbols' own generator in one process vs alstudio's parallel generation,
side by side in one run, then the time to load a cached 20k-image dataset.

    .venv/bin/python benchmarks/generation.py [--images 3000] [--cache-images 20000]

Prints a markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
import warnings


def synbols_reference(n: int, fonts: tuple[str, ...]) -> float:
    """synbols' documented path: basic_attribute_sampler + dataset_generator, one process."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from synbols.drawing import SolidColor
        from synbols.generate import basic_attribute_sampler, dataset_generator
        from synbols.utils import Alphabet
    sampler = basic_attribute_sampler(alphabet=Alphabet("bench", list(fonts), ["a", "d"]),
                                      foreground=SolidColor((0, 0, 1)), inverse_color=False, resolution=(32, 32))
    start = time.perf_counter()
    for _ in dataset_generator(sampler, n, dataset_seed=0):
        pass
    return n / (time.perf_counter() - start)


def alstudio_rate(config, workers: int) -> float:
    from alstudio.engine.data import generate_dataset

    start = time.perf_counter()
    data = generate_dataset(config, workers=workers)
    return (len(data.pool) + len(data.test)) / (time.perf_counter() - start)


def cache_load_seconds(config, repeats: int = 5) -> tuple[float, int]:
    from alstudio.engine.data import cache_path, load_or_generate

    with tempfile.TemporaryDirectory() as folder:
        os.environ["ALSTUDIO_CACHE_DIR"] = folder
        load_or_generate(config)
        size = cache_path(config).stat().st_size
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            _, cached = load_or_generate(config)
            times.append(time.perf_counter() - start)
            assert cached
    return statistics.median(times), size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=3000)
    parser.add_argument("--cache-images", type=int, default=20000)
    args = parser.parse_args()
    os.environ["TQDM_DISABLE"] = "1"

    from alstudio.engine.config import DatasetConfig
    from alstudio.engine.data.fonts import bundled_families, register_fonts
    from alstudio.engine.data.generate import default_workers

    register_fonts()
    fonts = bundled_families()
    cores = default_workers()
    test = max(4, args.images // 10)
    config = DatasetConfig(pool_size=args.images - test, test_size=test, seed=7)

    reference = synbols_reference(args.images, fonts)
    one = alstudio_rate(config, workers=1)
    parallel = alstudio_rate(config, workers=cores)

    cache_config = DatasetConfig(pool_size=args.cache_images - args.cache_images // 10,
                                 test_size=args.cache_images // 10, seed=8)
    load, size = cache_load_seconds(cache_config)

    print(f"machine: {platform.processor() or platform.machine()}, {cores} cores, Python "
          f"{platform.python_version()}; {args.images} images at 32x32, default preset's attributes\n")
    print("| generator | processes | images/s | vs synbols |")
    print("|---|---|---|---|")
    print(f"| synbols `dataset_generator` (renders image + mask) | 1 | {reference:.0f} | 1.00x |")
    print(f"| alstudio (image only) | 1 | {one:.0f} | {one / reference:.2f}x |")
    print(f"| alstudio (image only) | {cores} | {parallel:.0f} | {parallel / reference:.2f}x |")
    print(f"\ncache load of {args.cache_images} images ({size / 2**20:.0f} MiB .npz): "
          f"{1000 * load:.0f} ms (median of 5)")


if __name__ == "__main__":
    main()
