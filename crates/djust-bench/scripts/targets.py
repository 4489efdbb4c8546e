#!/usr/bin/env python3
"""Markdown targets table (met / not met, by how much) from targets.sh's JSON lines.

    python3 crates/djust-bench/scripts/targets.py /tmp/targets.jsonl
"""
import json
import sys


def check(name, value, limit, better="below", unit=""):
    """One criterion: text, met?, margin."""
    if value is None:
        return f"{name}: no value", False
    ok = value < limit if better == "below" else value >= limit
    if better == "below":
        margin = f"{value / limit:.2f}× the limit" if limit else ""
    else:
        margin = f"{value - limit:+.4g}"
    return f"{name} {value:g}{unit} ({'met' if ok else 'NOT met: ' + margin})", ok


def storm(r, ratio_min, p99_max, cores_max=None):
    out = [check("delivered", r.get("delivery_ratio"), ratio_min, "above"),
           check("p99", (r.get("latency_ms") or {}).get("p99"), p99_max, unit=" ms")]
    if cores_max is not None:
        out.append(check("server", r.get("server_cores"), cores_max, unit=" cores"))
    return out


def main():
    rows = {}
    for line in open(sys.argv[1]):
        rec = json.loads(line)
        rows[rec["row"]] = rec
    specs = [
        ("storm-1x10", "cursor-storm 1 room × 10 users, 20 Hz, 20 s",
         "100 % delivered, p99 < 20 ms, server < 0.1 core", lambda r: storm(r, 1.0, 20, 0.1)),
        ("storm-1x50", "cursor-storm 1 room × 50 users, 20 Hz",
         "100 % delivered, p99 < 50 ms, server < 1 core", lambda r: storm(r, 1.0, 50, 1.0)),
        ("storm-1x200", "cursor-storm 1 room × 200 users, 20 Hz",
         "≥ 99 % delivered, p99 < 150 ms", lambda r: storm(r, 0.99, 150)),
        ("storm-50x4", "cursor-storm 50 rooms × 4 users, 20 Hz",
         "100 % delivered, p99 < 30 ms", lambda r: storm(r, 1.0, 30)),
        ("storm-1x1000-m50", "cursor-storm 1 room × 1000 users, 50 moving, 20 Hz",
         "≥ 99.9 % delivered, p99 < 150 ms", lambda r: storm(r, 0.999, 150)),
        ("fair-10x4-crowd500", "10 rooms × 4 users next to a 500-user room (10 moving)",
         "the small rooms: 100 % delivered, p99 < 30 ms",
         lambda r: storm(r, 1.0, 30)),
        ("join-1000", "join-storm N = 1000", "all clients at 1000 within 3 s; ≤ 100 frames per client",
         lambda r: [check("all at N after", r.get("all_show_n_s"), 3, unit=" s"),
                    check("mount p99 in the full room", (r.get("mount_probes") or {}).get("p99_ms"), 100, unit=" ms"),
                    check("frames per client (max)", (r.get("frames_per_client") or {}).get("max"), 100.0001)]),
        ("idle-10000", "idle C = 10,000 in rooms of 10", "≤ 10 KiB RSS per connection beyond baseline",
         lambda r: [check("RSS per connection", r.get("rss_per_connection_kb"), 10.0001, unit=" KiB")]),
        ("multi-2x25", "multi-node 2 × 25 users", "cross-process p99 < 50 ms; kill -9 cleanup ≤ presence_timeout + 1 s",
         lambda r: [check("cross-process p99", ((r.get("cross_process") or {}).get("latency_ms") or {}).get("p99"), 50, unit=" ms"),
                    check("cleanup", r.get("kill_cleanup_s"), (r.get("kill_cleanup_target_s") or 0) + 1e-9, unit=" s")]),
        ("typing-20x5", "typing: 20 users × 5 characters/s into one document, 20 s",
         "p99 keystroke → every peer < 100 ms; server < 0.3 core; the same text everywhere",
         lambda r: [check("p99", (r.get("latency_ms") or {}).get("p99"), 100, unit=" ms"),
                    check("server", r.get("server_cores"), 0.3, unit=" cores"),
                    (f"delivered {r.get('delivered_pairs')}/{r.get('expected_pairs')}",
                     r.get("delivered_pairs") == r.get("expected_pairs")),
                    ("text identical and complete" if r.get("text_identical_everywhere") and r.get("text_complete")
                     else "text DIFFERS or incomplete",
                     bool(r.get("text_identical_everywhere") and r.get("text_complete")))]),
    ]
    print("| scenario | target | measured | met |")
    print("|---|---|---|---|")
    for key, scen, target, fn in specs:
        rec = rows.get(key)
        if not rec:
            print(f"| {scen} | {target} | not run | – |")
            continue
        checks = fn(rec["result"])
        met = all(ok for _, ok in checks)
        text = "; ".join(t for t, _ in checks) + f" (load {rec['load_before']})"
        print(f"| {scen} | {target} | {text} | {'yes' if met else 'no'} |")


if __name__ == "__main__":
    main()
