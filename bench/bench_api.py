"""Issue 2: requests/s and p50 of /healthz and GET /api/v1/me/ under gunicorn, one worker.

Floor in the same run: `GET /api/v1/meta/`, a minimal DRF view (no auth, no database). Sequential
keep-alive requests from one client, so requests/s = 1000 / mean latency; 3 rounds of 2,000, medians.
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import api_token, gunicorn, setup_django, summarise, write_results

ROUNDS, REQUESTS = 3, 2000


def main() -> None:
    setup_django()
    from bench.httpclient import Client
    from bench.seed import reset_project

    reset_project("BAPI")
    token = api_token("bench-agent")
    server = gunicorn(workers=1)
    figures: dict[str, Any] = {}
    try:
        for name, path, auth in [
            ("healthz", "/healthz", False),
            ("meta_drf_floor", "/api/v1/meta/", False),
            ("me", "/api/v1/me/", True),
        ]:
            rounds = []
            for _ in range(ROUNDS):
                client = Client(server.base, token if auth else None)
                for _ in range(50):
                    client.request("GET", path)
                samples = []
                for _ in range(REQUESTS):
                    status, _, ms = client.request("GET", path)
                    assert status == 200, (path, status)
                    samples.append(ms)
                client.close()
                rounds.append(
                    {**summarise(samples), "rps": round(1000 / statistics.fmean(samples), 1)}
                )
            figures[name] = {
                "p50_ms": statistics.median(r["p50_ms"] for r in rounds),
                "p99_ms": statistics.median(r["p99_ms"] for r in rounds),
                "rps": statistics.median(r["rps"] for r in rounds),
                "rounds": rounds,
            }
    finally:
        server.stop()
    figures["me_over_floor_p50_ratio"] = round(
        figures["me"]["p50_ms"] / figures["meta_drf_floor"]["p50_ms"], 2
    )
    write_results("api", {"workers": 1, "requests_per_round": REQUESTS, **figures})
    for name in ("healthz", "meta_drf_floor", "me"):
        print(
            f"{name:16} p50 {figures[name]['p50_ms']:.3f} ms  p99 {figures[name]['p99_ms']:.3f} ms  {figures[name]['rps']} req/s"
        )


if __name__ == "__main__":
    main()
