#!/usr/bin/env python3
"""Turns xact_bench's JSON (--benchmark_out=<file> --benchmark_out_format=json) into markdown.

    python3 scripts/bench_table.py bench.json [--stat median|min] > table.md

Benchmark names are <dir>/<function>/<impl>/<n>: dir fwd|bwd; impl xact, xact_y (backward from
y), or a baseline (naive, eigen, onednn, onednn_dst, xnnpack); function "roof" holds the memory
roofs (fwd: memcpy, bwd: add). One table per size class (L1, L2, DRAM); one row per xact
variant, or per function when xact has none yet. Columns: ns per element and GB/s for xact and
each baseline, xact's time over the fastest baseline's (below 1: xact is faster), and xact's
bandwidth as a share of the roof's. With repetitions, each cell is the median (or --stat min)
over them. Standard library only.
"""
import argparse
import json
import re
import statistics
import sys
from collections import defaultdict

BASELINES = ["naive", "eigen", "onednn", "onednn_dst", "xnnpack"]
CLASSES = [("L1", lambda n: n <= 16384), ("L2", lambda n: 16384 < n <= 1 << 20),
           ("DRAM", lambda n: n > 1 << 20)]
NAME = re.compile(r"^(fwd|bwd)/([^/]+)/([^/]+)/(\d+)")


def cpu_name(context):
    for key in ("cpu_name", "model_name"):
        if key in context:
            return context[key]
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def size_label(n):
    if n % (1 << 20) == 0:
        return f"{n >> 20}M"
    if n % (1 << 10) == 0:
        return f"{n >> 10}K"
    return str(n)


def load(path, stat):
    with open(path) as f:
        data = json.load(f)
    runs = defaultdict(list)      # (dir, fn, impl, n) -> [(ns/elem, GB/s)]
    aggregates = {}
    ulps = {}                     # (dir, fn, impl) -> max ulp over sizes and repetitions
    for b in data.get("benchmarks", []):
        if b.get("error_occurred"):
            continue
        m = NAME.match(b.get("run_name", b["name"]))
        if not m or "items_per_second" not in b:
            continue
        key = (m.group(1), m.group(2), m.group(3), int(m.group(4)))
        if "max_ulp" in b:
            ulps[key[:3]] = max(ulps.get(key[:3], 0.0), b["max_ulp"])
        value = (1e9 / b["items_per_second"], b.get("bytes_per_second", 0.0) / 1e9)
        if b.get("run_type") == "aggregate":
            if b.get("aggregate_name") == "median" or (
                    b.get("aggregate_name") == "mean" and key not in aggregates):
                aggregates[key] = value
        else:
            runs[key].append(value)
    cells = {}
    for key, values in runs.items():
        if stat == "min":
            cells[key] = min(values)
        else:
            ns = statistics.median(v[0] for v in values)
            gb = statistics.median(v[1] for v in values)
            cells[key] = (ns, gb)
    for key, value in aggregates.items():
        cells.setdefault(key, value)
    return data.get("context", {}), cells, ulps


def fmt(cell):
    if cell is None:
        return "-"
    ns, gb = cell
    return f"{ns:.3g} ({gb:.3g})"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("json")
    ap.add_argument("--stat", choices=["median", "min"], default="median")
    args = ap.parse_args()
    context, cells, ulps = load(args.json, args.stat)

    reps = "" if not context else ""
    print(f"CPU: {cpu_name(context)}, {context.get('num_cpus', '?')} cpus at "
          f"{context.get('mhz_per_cpu', '?')} MHz; baselines: "
          f"{context.get('xact_baselines', '?')}; {args.stat} over repetitions{reps}.")
    print()
    print("Cells: ns per element (GB/s). **xact/best**: xact's time over the fastest baseline's"
          " (< 1: xact faster). **roof**: xact's GB/s as a share of the roof's (memcpy for"
          " forward; a vectorized x + dy for backward, which reads 2n and writes n).")

    keys = sorted({k[:2] for k in cells if k[1] != "roof" and not k[1].endswith("_denormal")},
                  key=lambda k: (k[1], k[0] != "fwd"))
    present = [b for b in BASELINES if any(k[2] == b for k in cells)]
    for label, in_class in CLASSES:
        sizes = sorted({k[3] for k in cells if in_class(k[3])})
        if not sizes:
            continue
        print()
        print(f"### {label} ({', '.join(size_label(n) for n in sizes)} floats)")
        print()
        head = ["function", "dir", "n", "xact"] + present + ["xact/best", "roof"]
        print("| " + " | ".join(head) + " |")
        print("|" + "|".join(["---"] * 3 + ["---:"] * (len(head) - 3)) + "|")
        for d, fn in keys:
            variants = sorted({k[2] for k in cells if k[:2] == (d, fn) and
                               k[2].startswith("xact")}) or [None]
            for n in sizes:
                base = {b: cells.get((d, fn, b, n)) for b in present}
                if all(v is None for v in base.values()) and variants == [None]:
                    continue
                roof = cells.get((d, "roof", "memcpy" if d == "fwd" else "add", n))
                best = min((v[0] for v in base.values() if v), default=None)
                for var in variants:
                    x = cells.get((d, fn, var, n)) if var else None
                    if var and x is None:
                        continue
                    ratio = f"{x[0] / best:.2f}" if x and best else "-"
                    share = f"{100 * x[1] / roof[1]:.0f}%" if x and roof and roof[1] else "-"
                    name = fn if var in (None, "xact") else f"{fn} ({var})"
                    row = [name, d, size_label(n), fmt(x)] + [fmt(base[b]) for b in present]
                    print("| " + " | ".join(row + [ratio, share]) + " |")
    denormal(cells)
    accuracy(ulps)
    return 0


def accuracy(ulps):
    """The largest error of each implementation on the benchmark's own input (bench/common.hpp
    check(): up to ~64K points per size, against a double-precision reference), in ulp."""
    if not ulps:
        return
    impls = sorted({k[2] for k in ulps if k[2].startswith("xact")}) + \
        [b for b in BASELINES if any(k[2] == b for k in ulps)]
    print()
    print("### Accuracy on the benchmark input (max error in ulp against a double reference, "
          "over the points the benchmark checks)")
    print()
    print("| function | dir | " + " | ".join(impls) + " |")
    print("|---|---|" + "|".join(["---:"] * len(impls)) + "|")
    for d, fn in sorted({k[:2] for k in ulps if not k[1].endswith("_denormal")},
                        key=lambda k: (k[1], k[0] != "fwd")):
        row = []
        for impl in impls:
            u = ulps.get((d, fn, impl))
            row.append("-" if u is None else ("NaN" if u >= 2**32 else f"{u:.0f}"))
        print(f"| {fn} | {d} | " + " | ".join(row) + " |")


def denormal(cells):
    """Rows <dir>/<fn>_denormal/{xact,xact_subin,xact_subout}/<n> (bench_subnormal.cpp): the
    time with subnormal inputs and with subnormal outputs, as ratios to the normal input's."""
    rows = sorted({(k[1], k[0], k[3]) for k in cells if k[1].endswith("_denormal")},
                  key=lambda k: (k[0], k[1] != "fwd", k[2]))
    if not rows:
        return
    print()
    print("### Subnormals (ns per element; ratio to the normal input's time)")
    print()
    print("| function | dir | n | normal input | subnormal input | subnormal output |")
    print("|---|---|---|---:|---:|---:|")
    for fn, d, n in rows:
        base = cells.get((d, fn, "xact", n))
        out = []
        for impl in ("xact_subin", "xact_subout"):
            c = cells.get((d, fn, impl, n))
            out.append("-" if c is None or base is None else f"{c[0]:.3g} ({c[0] / base[0]:.2f}x)")
        print(f"| {fn[:-len('_denormal')]} | {d} | {size_label(n)} | "
              f"{'-' if base is None else f'{base[0]:.3g}'} | {out[0]} | {out[1]} |")


if __name__ == "__main__":
    sys.exit(main())
