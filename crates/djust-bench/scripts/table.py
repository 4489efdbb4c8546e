#!/usr/bin/env python3
"""Markdown side-by-side table from side_by_side.sh's JSON lines.

    python3 crates/djust-bench/scripts/table.py /tmp/side-by-side.jsonl [BASELINE_KB_THEIRS]

Per row (the last run of each side wins): delivery ratio, p99 latency, delivered peer updates
per server CPU-second, server cores, RSS per connection beyond the empty server, and the ratios
ours/theirs. Their RSS per connection needs the empty uvicorn's RSS (BASELINE_KB_THEIRS, from
`VmRSS` of a fresh server after one page GET); without it the column shows their total RSS.
"""
import json
import sys


def ours(r):
    cpu = r.get("server_cpu_s") or 0
    return {
        "ratio": r.get("delivery_ratio"),
        "p99": (r.get("latency_ms") or {}).get("p99"),
        "per_cpu": r.get("updates_per_server_cpu_s"),
        "cores": r.get("server_cores"),
        "rss_conn": r.get("rss_per_connection_kb"),
        "delivered": r.get("updates_delivered"),
        "cpu": cpu,
    }


def theirs(r, baseline):
    cpu = r.get("server_cpu_s") or 0
    delivered = r.get("peer_delivered") or 0
    start = (r.get("server_rss_kb") or {}).get("start")
    users = r.get("mounted") or r.get("U") or 1
    rss_conn = None
    if baseline and start:
        rss_conn = round((start - baseline) / users, 1)
    return {
        "ratio": r.get("peer_delivery_ratio"),
        "p99": (r.get("peer_lat_ms") or {}).get("p99"),
        "per_cpu": round(delivered / cpu) if cpu else None,
        "cores": r.get("server_cpu_util"),
        "rss_conn": rss_conn,
        "delivered": delivered,
        "cpu": cpu,
    }


def fmt(v, nd=1):
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:,.{nd}f}"
    return f"{v:,}"


def ratio(a, b, nd=1):
    if a is None or b in (None, 0):
        return "–"
    return f"{a / b:,.{nd}f}×"


def main():
    path = sys.argv[1]
    baseline = float(sys.argv[2]) if len(sys.argv) > 2 else None
    rows, order = {}, []
    for line in open(path):
        rec = json.loads(line)
        row = rec["row"]
        if row not in order:
            order.append(row)
        side = rec["side"]
        res = rec["result"]
        val = ours(res) if side == "ours" else theirs(res, baseline)
        val["load"] = rec.get("load_before")
        rows.setdefault(row, {})[side] = val
    print("| row | side | delivered (≤1 s) | p99 ms | updates / CPU-s | server cores | RSS / conn KiB | load before |")
    print("|---|---|---|---|---|---|---|---|")
    for row in order:
        for side in ("ours", "theirs"):
            v = rows[row].get(side)
            if not v:
                continue
            print(f"| {row} | {side} | {fmt(v['ratio'] * 100 if v['ratio'] is not None else None)} % "
                  f"| {fmt(v['p99'])} | {fmt(v['per_cpu'], 0)} | {fmt(v['cores'], 2)} "
                  f"| {fmt(v['rss_conn'])} | {fmt(v['load'], 2)} |")
    print()
    print("| row | updates / CPU-s ours ÷ theirs | p99 theirs ÷ ours | RSS / conn theirs ÷ ours |")
    print("|---|---|---|---|")
    for row in order:
        o, t = rows[row].get("ours"), rows[row].get("theirs")
        if not (o and t):
            continue
        print(f"| {row} | {ratio(o['per_cpu'], t['per_cpu'])} | {ratio(t['p99'], o['p99'])} "
              f"| {ratio(t['rss_conn'], o['rss_conn'])} |")


if __name__ == "__main__":
    main()
