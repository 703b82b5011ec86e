"""The Helm chart (deploy/helm/swapline): `helm lint`, `helm template` with the default values and
with the GPU/MIG values, the rendered manifests validated strictly against Kubernetes' schemas
(kubernetes-validate), and every metric the chart's dashboard and alert rules query read from
the live /metrics of a real API, worker and coordinator on a real PostgreSQL server. No
Kubernetes cluster runs here: that is as far as it can be tested (docs/DEPLOY.md)."""
import json
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "api"))
from conftest import SAMPLES, SWAPLINE, api_cluster, free_port, make_clip  # noqa: E402

CHART = ROOT / "deploy" / "helm" / "swapline"
GPU_VALUES = ROOT / "deploy" / "helm" / "values-gpu-mig.yaml"
HELM = ROOT / "vendor" / "k8s" / "helm"
VALIDATE = Path(sys.executable).parent / "kubernetes-validate"
# Kinds the chart renders from CRDs (Prometheus Operator, KEDA): kubernetes-validate has no schema
# for them, so their required fields are checked here instead.
CUSTOM_KINDS = {"ServiceMonitor", "PrometheusRule", "ScaledObject"}


def helm(*args):
    result = subprocess.run([str(HELM), *map(str, args)], capture_output=True, text=True)
    assert result.returncode == 0, f"helm {' '.join(map(str, args))}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def render(*values):
    text = helm("template", "sl", CHART, *[arg for path in values for arg in ("-f", path)])
    return text, [doc for doc in yaml.safe_load_all(text) if doc]


@pytest.mark.parametrize("values", [[], [GPU_VALUES]], ids=["default", "gpu-mig"])
def test_the_chart_lints_renders_and_validates(values, tmp_path):
    lint = helm("lint", CHART, *[arg for path in values for arg in ("-f", path)])
    assert "0 chart(s) failed" in lint
    text, docs = render(*values)
    rendered = tmp_path / "rendered.yaml"
    rendered.write_text(text)
    result = subprocess.run([str(VALIDATE), "--strict", str(rendered)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    kinds = {doc["kind"] for doc in docs}
    passed = re.findall(r"passed for resource (\w+)/", result.stdout)
    # Everything but the custom kinds was validated (none skipped silently).
    assert len(passed) == len([d for d in docs if d["kind"] not in CUSTOM_KINDS]), result.stdout
    assert {"Deployment", "Service", "PodDisruptionBudget", "ConfigMap", "ServiceMonitor", "PrometheusRule"} <= kinds
    deployments = {doc["metadata"]["name"]: doc for doc in docs if doc["kind"] == "Deployment"}
    for name, deployment in deployments.items():
        pod = deployment["spec"]["template"]["spec"]
        container = pod["containers"][0]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert container["securityContext"]["readOnlyRootFilesystem"] is True, name
        assert "limits" in container["resources"], name
        # The database URL comes from a Secret, never from values.
        env = {e["name"]: e for e in container["env"]}
        assert "secretKeyRef" in env["DATABASE_URL"]["valueFrom"], name
        assert "$(DATABASE_URL)" in container["args"], name
    api = deployments["sl-swapline-api"]["spec"]["template"]["spec"]["containers"][0]
    assert api["livenessProbe"]["httpGet"]["path"] == "/healthz" and api["readinessProbe"]["httpGet"]["path"] == "/readyz"
    workers = {name: d for name, d in deployments.items() if "-worker-" in name}
    for name, worker in workers.items():
        assert worker["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] >= 30, name
    if values:
        # One pool per GPU class: whole GPUs and MIG slices, each with its own autoscaler.
        gpus = {name: w["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"] for name, w in workers.items()}
        assert gpus["sl-swapline-worker-h100"]["nvidia.com/gpu"] == 1
        assert gpus["sl-swapline-worker-mig-1g10gb"]["nvidia.com/mig-1g.10gb"] == 1
        # The slice pool is pinned to its tenants; the whole-GPU pool serves everyone.
        mig_args = workers["sl-swapline-worker-mig-1g10gb"]["spec"]["template"]["spec"]["containers"][0]["args"]
        assert [mig_args[i + 1] for i, arg in enumerate(mig_args) if arg == "--tenant"] == ["t_small_studio", "t_hobby"]
        assert "--tenant" not in workers["sl-swapline-worker-h100"]["spec"]["template"]["spec"]["containers"][0]["args"]
        scaled = [doc for doc in docs if doc["kind"] == "ScaledObject"]
        assert {s["spec"]["scaleTargetRef"]["name"] for s in scaled} == set(workers)
        queries = {s["spec"]["scaleTargetRef"]["name"]: s["spec"]["triggers"][0]["metadata"]["query"] for s in scaled}
        assert queries["sl-swapline-worker-h100"] == "sum(max by (tenant) (swapline_pending_chunks))"
        assert queries["sl-swapline-worker-mig-1g10gb"] == 'sum(max by (tenant) (swapline_pending_chunks{tenant=~"t_small_studio|t_hobby"}))'
        assert all("--storage" in w["spec"]["template"]["spec"]["containers"][0]["args"]
                   and "s3://media/swapline" in w["spec"]["template"]["spec"]["containers"][0]["args"] for w in workers.values())
    for doc in docs:
        if doc["kind"] == "ServiceMonitor":
            assert doc["spec"]["endpoints"][0]["path"] == "/metrics" and doc["spec"]["selector"]["matchLabels"]
        if doc["kind"] == "PrometheusRule":
            rules = doc["spec"]["groups"][0]["rules"]
            assert {"SwaplineDeadChunks", "SwaplineQueueStalled", "SwaplineNoLiveWorkers", "SwaplineJobFailureRate",
                    "SwaplineCoordinatorDown"} <= {rule["alert"] for rule in rules}


def queried_metrics(docs):
    """Metric names the rendered dashboard and alert rules query (histogram series to their family)."""
    exprs = []
    for doc in docs:
        if doc["kind"] == "PrometheusRule":
            exprs += [rule["expr"] for group in doc["spec"]["groups"] for rule in group["rules"]]
        if doc["kind"] == "ConfigMap" and "swapline.json" in doc.get("data", {}):
            dashboard = json.loads(doc["data"]["swapline.json"])
            exprs += [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    names = set()
    for expr in exprs:
        names |= set(re.findall(r"\b(swapline_[a-z0-9_]+|up)\b", expr))
    return exprs, {re.sub(r"_(bucket|sum|count)$", "", name) for name in names}


def scrape(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    return {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")}


def test_every_metric_the_dashboard_and_alerts_query_is_exported(tmp_path):
    _, docs = render(GPU_VALUES)
    exprs, queried = queried_metrics(docs)
    assert len(exprs) >= 25 and len(queried) >= 18, (len(exprs), sorted(queried))
    ports = {"worker": free_port(), "coordinator": free_port()}
    with api_cluster(tmp_path / "data", metrics_ports=ports) as (server, url):
        tenant = subprocess.run([SWAPLINE, "tenants", "create", "metrics", "--database", url, "--json"], cwd=ROOT,
                                capture_output=True, text=True, check=True).stdout
        key = json.loads(tenant)["api_key"]
        # One real job, so the workers' and coordinator's series exist with samples.
        source = server.upload(key, SAMPLES / "grace_hopper.jpg")
        target = server.upload(key, make_clip(tmp_path / "clip.mp4", seconds=1, size="320x240"))
        job = server.submit(key, {"sources": [source["id"]], "target": target["id"], "options": {"video": {"chunkSize": 25}}})
        assert server.wait(key, job["id"])["status"] == "succeeded", server.log_text()
        exported = {"up"}  # Prometheus's own series for every scrape target
        exported |= scrape(server.port)
        deadline = time.time() + 30
        while time.time() < deadline and not all(scrape_ok(port) for port in ports.values()):
            time.sleep(0.5)
        for port in ports.values():
            exported |= scrape(port)
    missing = queried - exported
    assert not missing, f"queried but not exported: {sorted(missing)}; exported: {sorted(exported)}"


def scrape_ok(port):
    try:
        scrape(port)
        return True
    except OSError:
        return False
