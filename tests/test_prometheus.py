# SPDX-License-Identifier: MIT
"""deploy/prometheus/ (issue 15): promtool accepts the scrape config and the alert rules, the rules fire when they
should (promtool's unit tests), /metrics passes promtool's lint, and a real Prometheus with the example config
scrapes two SEAM processes with the bearer token and evaluates every rule."""

import json
import shutil
import subprocess
import time
import urllib.parse
import urllib.request

import pytest

from bench.seam_process import ROOT, free_port

pytestmark = pytest.mark.timeout(120)
DEPLOY = ROOT / "deploy" / "prometheus"
TOKEN = "metrics-token-0123456789abcdefghijklmnop"


def tool(name):
    found = shutil.which(name)
    assert found, f"{name} is missing: .ci/system-deps installs Debian's prometheus package"
    return found


def promtool(*args, stdin=None):
    done = subprocess.run([tool("promtool"), *args], input=stdin, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def config_for(directory, targets, interval=None):
    """deploy/prometheus/prometheus.yml with its SEAM targets, its token file (and interval) in `directory`."""
    text = (DEPLOY / "prometheus.yml").read_text()
    token_file = directory / "seam-metrics-token"
    token_file.write_text(TOKEN + "\n")
    replacements = {
        "          - 127.0.0.1:3000\n          - 127.0.0.1:3001\n": "".join(f"          - {t}\n" for t in targets),
        "/etc/prometheus/seam-metrics-token": str(token_file),
    }
    if interval:
        replacements |= {
            "scrape_interval: 15s": f"scrape_interval: {interval}",
            "evaluation_interval: 15s": f"evaluation_interval: {interval}",
        }
    for old, new in replacements.items():
        assert text.count(old) == 1, f"deploy/prometheus/prometheus.yml no longer has exactly one {old!r}"
        text = text.replace(old, new)
    shutil.copy(DEPLOY / "seam-alerts.yml", directory / "seam-alerts.yml")
    (directory / "prometheus.yml").write_text(text)
    return directory / "prometheus.yml"


def test_promtool_accepts_the_rules_and_they_fire_when_they_should():
    assert "SUCCESS: 5 rules found" in promtool("check", "rules", str(DEPLOY / "seam-alerts.yml"))
    promtool("test", "rules", str(ROOT / "tests" / "prometheus" / "seam-alerts.test.yml"))


def test_promtool_accepts_the_scrape_config(tmp_path):
    promtool("check", "config", str(config_for(tmp_path, ["127.0.0.1:3000", "127.0.0.1:3001"])))


@pytest.mark.parametrize("overrides", [{"metrics": True}])
async def test_metrics_pass_promtool_lint(api):
    await api.login()
    scraped = await api.fetch("GET", "/metrics", prefix="")
    assert scraped.status == 200
    promtool("check", "metrics", stdin=scraped.text)


def query(base_url, expression):
    url = f"{base_url}/api/v1/query?" + urllib.parse.urlencode({"query": expression})
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())["data"]["result"]


def test_prometheus_scrapes_each_process_with_the_token_and_evaluates_the_rules(processes, tmp_path):
    """Both SEAMs run behind a (notional) proxy, so only the token from the credentials file lets a scrape in."""
    seams = [
        processes.seam(name, proxy_headers="true", metrics="true", metrics_token=TOKEN) for name in ("seam-a", "seam-b")
    ]
    targets = [f"127.0.0.1:{seam.port}" for seam in seams]
    home = tmp_path / "prometheus"
    home.mkdir()
    port = free_port()
    config = config_for(home, targets, interval="1s")
    command = [tool("prometheus"), f"--config.file={config}", f"--storage.tsdb.path={home / 'data'}"]
    command += [f"--web.listen-address=127.0.0.1:{port}"]
    prometheus = processes("prometheus", command, home, None)
    base_url = f"http://127.0.0.1:{port}"
    prometheus.wait_until_up(base_url + "/-/ready")

    deadline = time.monotonic() + 60
    while True:
        up = {r["metric"]["instance"]: r["value"][1] for r in query(base_url, 'up{job="seam"}')}
        scrapes = query(base_url, 'seam_http_requests_total{route="/metrics", status="200"}')
        rules = json.loads(urllib.request.urlopen(base_url + "/api/v1/rules", timeout=10).read())["data"]["groups"]
        evaluated = [r for group in rules for r in group["rules"] if r.get("lastEvaluation", "").startswith("2")]
        if up == dict.fromkeys(targets, "1") and len(scrapes) == 2 and len(evaluated) == 5:
            break
        assert time.monotonic() < deadline, (up, scrapes, rules, prometheus.output())
        time.sleep(0.2)
    assert {r["metric"]["instance"] for r in scrapes} == set(targets)
    assert [(r["name"], r["health"]) for r in evaluated] == [
        ("SeamDown", "ok"),
        ("SeamHigh5xxRate", "ok"),
        ("SeamSlowRequests", "ok"),
        ("SeamSlowBroadcasts", "ok"),
        ("SeamDatabaseDiskSpace", "ok"),
    ]
    assert prometheus.stop() == 0
    for seam in seams:
        assert "/metrics 401" not in seam.output()  # every scrape sent the token
        assert seam.stop() == 0
