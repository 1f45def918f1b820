"""Timing summaries: every comparison is alternated and reported with its spread.

A shared 2-core machine drifts by more than the differences being measured,
so candidates run A, B, A, B... in one run and ratios are taken per round.
"""

import statistics
import time


def summarize_times(values):
    """Median and spread of a list of measurements."""
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "n": len(values),
    }


def alternate(candidates, repeats):
    """Time each zero-argument callable in turn, ``repeats`` rounds.

    Alternating A, B, A, B... spreads slow drifts of a shared machine over
    every candidate instead of charging them to whichever ran last.
    Returns ``{name: [seconds, ...]}``.
    """
    times = {name: [] for name in candidates}
    for _ in range(repeats):
        for name, run in candidates.items():
            started = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - started)
    return times


def ratio_summary(numerator, denominator):
    """Per-round ratios of two alternated series, summarised."""
    return summarize_times([a / b for a, b in zip(numerator, denominator)])


def speedup_rows(key, seconds_per_image, baseline):
    """Rows of images/s and speed-up over ``baseline``, printed as they come.

    ``seconds_per_image`` maps each candidate to its per-round times.
    """
    rows = []
    width = max(len(name) for name in seconds_per_image) + 2
    for name, values in seconds_per_image.items():
        row = {key: name, "images_per_second": 1 / statistics.median(values),
               "speedup": ratio_summary(seconds_per_image[baseline], values)}
        rows.append(row)
        sp = row["speedup"]
        print(f"  {name:<{width}} {row['images_per_second']:7.1f} img/s  "
              f"{sp['median']:.2f}x [{sp['min']:.2f}..{sp['max']:.2f}]", flush=True)
    return rows
