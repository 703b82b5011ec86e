#!/usr/bin/env python3
"""Writes deploy/helm/swapline/files/swapline-dashboard.json, the Grafana dashboard the chart ships.

Edit the panels here, run `python3 deploy/make_dashboard.py`, commit both. Every metric a panel
queries must be one the binaries export: tests/deploy checks the rendered chart against live
/metrics of a real API, worker and coordinator.
"""
import json
from pathlib import Path

PANELS = [
    # (title, unit, [(expr, legend)], kind)
    ("Throughput: frames/s by worker", "fps",
     [("sum by (pod) (rate(swapline_worker_frames_total[2m]))", "{{pod}}")], "timeseries"),
    ("Queue depth: chunks by state", "short",
     [("max by (state) (swapline_chunks)", "{{state}}")], "timeseries"),
    ("Queue depth: pending chunks of running jobs by tenant", "short",
     [("max by (tenant) (swapline_pending_chunks)", "{{tenant}}")], "timeseries"),
    ("Queue age: oldest claimable chunk", "s",
     [("max(swapline_oldest_pending_chunk_seconds)", "oldest pending")], "timeseries"),
    ("Jobs by state", "short",
     [("max by (state) (swapline_jobs)", "{{state}}")], "timeseries"),
    ("Chunk duration (claim to commit)", "s",
     [("histogram_quantile(0.5, sum by (le) (rate(swapline_worker_chunk_seconds_bucket[5m])))", "p50"),
      ("histogram_quantile(0.95, sum by (le) (rate(swapline_worker_chunk_seconds_bucket[5m])))", "p95"),
      ("histogram_quantile(0.99, sum by (le) (rate(swapline_worker_chunk_seconds_bucket[5m])))", "p99")], "timeseries"),
    ("Queue wait before a claim", "s",
     [("histogram_quantile(0.95, sum by (le) (rate(swapline_worker_queue_wait_seconds_bucket[5m])))", "p95")], "timeseries"),
    ("Attempts by outcome", "ops",
     [("sum by (outcome) (rate(swapline_worker_attempts_total[5m]))", "worker: {{outcome}}"),
      ("sum by (outcome) (rate(swapline_attempts_total[5m]))", "coordinator: {{outcome}}")], "timeseries"),
    ("Stale commits refused (fencing)", "short",
     [("sum(increase(swapline_worker_stale_commits_rejected_total[15m]))", "last 15 min")], "stat"),
    ("Inference pool: resident model bytes", "bytes",
     [("sum by (pod) (swapline_worker_pool_resident_bytes)", "{{pod}}")], "timeseries"),
    ("Inference pool: evictions", "short",
     [("sum by (pod) (swapline_worker_pool_evictions)", "{{pod}}")], "timeseries"),
    ("Joins: duration", "s",
     [("histogram_quantile(0.95, sum by (le) (rate(swapline_join_seconds_bucket[15m])))", "p95")], "timeseries"),
    ("Jobs finished by outcome", "short",
     [("sum by (outcome) (increase(swapline_jobs_finished_total[1h]))", "{{outcome}}")], "timeseries"),
    ("Coordinators: leader", "short",
     [("sum(swapline_coordinator_leading)", "leading"), ("sum(up{job=~\".*-coordinator-metrics\"})", "up")], "stat"),
    ("API: requests/s by route and status", "reqps",
     [("sum by (route, status) (rate(swapline_api_requests_total[5m]))", "{{route}} {{status}}")], "timeseries"),
    ("API: latency p95 by route", "s",
     [("histogram_quantile(0.95, sum by (le, route) (rate(swapline_api_request_seconds_bucket[5m])))", "{{route}}")], "timeseries"),
    ("API: errors (5xx) by route", "reqps",
     [("sum by (route) (rate(swapline_api_requests_total{status=~\"5..\"}[5m]))", "{{route}}")], "timeseries"),
    ("Per tenant: jobs submitted", "short",
     [("sum by (tenant) (increase(swapline_api_jobs_submitted_total[1h]))", "{{tenant}}")], "timeseries"),
    ("Per tenant: bytes uploaded", "bytes",
     [("sum by (tenant) (increase(swapline_api_uploaded_bytes_total[1h]))", "{{tenant}}")], "timeseries"),
    ("Webhook deliveries by outcome", "short",
     [("sum by (outcome) (increase(swapline_api_webhook_attempts_total[1h]))", "{{outcome}}")], "timeseries"),
]


def dashboard():
    panels = []
    for index, (title, unit, targets, kind) in enumerate(PANELS):
        panels.append({
            "id": index + 1,
            "type": kind,
            "title": title,
            "datasource": {"type": "prometheus", "uid": "${datasource}"},
            "gridPos": {"h": 8, "w": 12, "x": (index % 2) * 12, "y": (index // 2) * 8},
            "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
            "targets": [{"refId": chr(65 + n), "expr": expr, "legendFormat": legend} for n, (expr, legend) in enumerate(targets)],
        })
    return {
        "title": "Swapline",
        "uid": "swapline",
        "schemaVersion": 39,
        "version": 1,
        "editable": True,
        "time": {"from": "now-6h", "to": "now"},
        "refresh": "30s",
        "tags": ["swapline"],
        "templating": {"list": [{"name": "datasource", "type": "datasource", "query": "prometheus", "label": "Prometheus"}]},
        "panels": panels,
    }


if __name__ == "__main__":
    path = Path(__file__).resolve().parent / "helm" / "swapline" / "files" / "swapline-dashboard.json"
    path.write_text(json.dumps(dashboard(), indent=2) + "\n")
    print(f"wrote {path} ({len(PANELS)} panels)")
