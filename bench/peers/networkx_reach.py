#!/usr/bin/python3
"""networkx peer for lifecircle's bounded-Dijkstra "reach" (see README.md).

Run with Debian's interpreter (python3-networkx 2.8 from apt):

    /usr/bin/python3 bench/peers/networkx_reach.py \
        --edges edges.csv --origins origins.json --budget 900 --mode check|bench [--multi]

Input
  edges.csv     header `source,target,time_s`, one directed arc per line,
                integer node ids, float seconds. Parallel arcs: the minimum is kept.
  origins.json  JSON array of node ids.
  --budget      seconds; inclusive cutoff (reached iff shortest time <= budget).

Output (stdout, JSON)
  check          {"results": [{"origin": o, "reached": {"node": time, ...}}, ...]}
  check --multi  {"field": {"node": time, ...}}   (one multi-source run)
  bench          {"tool": "networkx", "version", "queries", "seconds",
                  "queriesPerSecond", "loadSeconds", "reachedTotal", "multi"}

Cutoff semantics: networkx 2.8's _dijkstra_multisource skips a relaxation only
when `vu_dist > cutoff`, so a node whose distance equals the cutoff is kept:
the cutoff is inclusive (<=), matching lifecircle. The defensive `<= budget`
filter below is therefore a no-op, kept so the contract holds even if a future
networkx changed it. Origins are always reached at 0 (budget must be >= 0).
"""

import argparse
import json
import math
import sys
import time

import networkx as nx

EXPECTED_HEADER = ["source", "target", "time_s"]


def fail(msg):
    print(f"networkx_reach: {msg}", file=sys.stderr)
    sys.exit(2)


def load_graph(path):
    """Read the edge list into a DiGraph, keeping the minimum of parallel arcs."""
    best = {}
    with open(path, "r", encoding="utf-8") as f:
        header = f.readline().strip().split(",")
        if [h.strip() for h in header] != EXPECTED_HEADER:
            fail(f"{path}: expected header {','.join(EXPECTED_HEADER)}, got {','.join(header)}")
        for lineno, line in enumerate(f, start=2):
            line = line.strip()
            if not line:
                continue
            parts = line.split(",")
            if len(parts) != 3:
                fail(f"{path}:{lineno}: expected 3 fields, got {len(parts)}")
            try:
                u = int(parts[0])
                v = int(parts[1])
                w = float(parts[2])
            except ValueError as e:
                fail(f"{path}:{lineno}: {e}")
            if u < 0 or v < 0:
                fail(f"{path}:{lineno}: node ids must be non-negative")
            if not (w >= 0.0) or math.isinf(w):
                fail(f"{path}:{lineno}: time_s must be finite and >= 0, got {parts[2]}")
            key = (u, v)
            old = best.get(key)
            if old is None or w < old:
                best[key] = w
    G = nx.DiGraph()
    G.add_weighted_edges_from(((u, v, w) for (u, v), w in best.items()), weight="time_s")
    return G


def load_origins(path):
    with open(path, "r", encoding="utf-8") as f:
        data = json.load(f)
    if not isinstance(data, list) or not all(isinstance(o, int) and not isinstance(o, bool) and o >= 0 for o in data):
        fail(f"{path}: expected a JSON array of non-negative integer node ids")
    return data


def reach_one(G, origin, budget):
    d = nx.single_source_dijkstra_path_length(G, origin, cutoff=budget, weight="time_s")
    # No-op for networkx 2.8 (cutoff is already inclusive); see module docstring.
    return {n: t for n, t in d.items() if t <= budget}


def reach_multi(G, origins, budget):
    d = nx.multi_source_dijkstra_path_length(G, set(origins), cutoff=budget, weight="time_s")
    return {n: t for n, t in d.items() if t <= budget}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--edges", required=True)
    ap.add_argument("--origins", required=True)
    ap.add_argument("--budget", required=True, type=float)
    ap.add_argument("--mode", required=True, choices=["check", "bench"])
    ap.add_argument("--multi", action="store_true", help="one multi-source run over all origins")
    args = ap.parse_args()

    budget = args.budget
    if not (budget >= 0.0) or math.isinf(budget):
        fail(f"--budget must be finite and >= 0, got {budget}")

    t0 = time.perf_counter()
    G = load_graph(args.edges)
    origins = load_origins(args.origins)
    # An origin with no arcs at all (isolated node of the dense id range) is not in
    # the edge list; it still reaches itself at 0, as in lifecircle and pgRouting.
    for o in origins:
        if o not in G:
            G.add_node(o)
    load_seconds = time.perf_counter() - t0

    if args.mode == "check":
        if args.multi:
            field = reach_multi(G, origins, budget)
            out = {"field": {str(n): t for n, t in field.items()}}
        else:
            out = {
                "results": [
                    {"origin": o, "reached": {str(n): t for n, t in reach_one(G, o, budget).items()}}
                    for o in origins
                ]
            }
        json.dump(out, sys.stdout, allow_nan=False)
        sys.stdout.write("\n")
        return

    # bench: time only the queries
    reached_total = 0
    if args.multi:
        t1 = time.perf_counter()
        field = reach_multi(G, origins, budget)
        seconds = time.perf_counter() - t1
        reached_total = len(field)
        queries = 1
    else:
        t1 = time.perf_counter()
        for o in origins:
            reached_total += len(reach_one(G, o, budget))
        seconds = time.perf_counter() - t1
        queries = len(origins)
    out = {
        "tool": "networkx",
        "version": nx.__version__,
        "multi": bool(args.multi),
        "queries": queries,
        "seconds": seconds,
        "queriesPerSecond": (queries / seconds) if seconds > 0 else None,
        "loadSeconds": load_seconds,
        "reachedTotal": reached_total,
        "nodes": G.number_of_nodes(),
        "arcs": G.number_of_edges(),
    }
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
