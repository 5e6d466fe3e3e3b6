# SPDX-License-Identifier: MIT
"""nginx as the tests run it: deploy/nginx.conf itself, moved to loopback test ports, with a test certificate."""

import shutil
import ssl
import subprocess

from bench.seam_process import ROOT, free_port


def nginx_executable():
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")
    assert found, "nginx is missing: .ci/system-deps installs it"
    return found


def self_signed_certificate(directory):
    """A certificate for 127.0.0.1 that the clients trust explicitly (no verification turned off)."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


# The limits deploy/nginx.conf sets, and the small ones `limited` swaps in to reach them with a few requests.
TEST_LIMITS = {
    "limit_conn seam_conn 100;": "limit_conn seam_conn 3;",
    "zone=seam_api:10m rate=30r/s;": "zone=seam_api:10m rate=1r/m;",
    "limit_req zone=seam_api burst=60 nodelay;": "limit_req zone=seam_api burst=5 nodelay;",
}


def site_config(http_port, https_port, seam_ports, cert, key, limits=None):
    """deploy/nginx.conf with its ports moved to loopback test ports and the test certificate.

    It names three SEAM processes (3000-3002, instances p3000-p3002): with `seam_ports` [P, P+1, P+2] they become
    those; with one port, every upstream server is that one."""
    text = (ROOT / "deploy" / "nginx.conf").read_text()
    several = len(seam_ports) == 3
    for index, port in enumerate(list(seam_ports) * (1 if several else 3)):
        renames = [(f"127.0.0.1:{3000 + index};", f"127.0.0.1:{port};")]
        if several:  # the processes' names (instance = p<port>) route sockets; one process's sids carry none
            renames.append((f"seam_p{3000 + index}", f"seam_p{port}"))
        for old, new in renames:
            assert old in text, f"deploy/nginx.conf no longer names {old!r}"
            text = text.replace(old, new)
    replacements = {
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen 443 ssl;": f"listen 127.0.0.1:{https_port} ssl;",
        "/etc/letsencrypt/live/seam.example.com/fullchain.pem": str(cert),
        "/etc/letsencrypt/live/seam.example.com/privkey.pem": str(key),
        **(limits or {}),
    }
    for old, new in replacements.items():
        assert text.count(old) == 1, f"deploy/nginx.conf no longer has exactly one {old!r}"
        text = text.replace(old, new)
    return text


def main_config(prefix, site, connections=64):
    """The few main-context lines a packaged nginx.conf would give, all inside the temp prefix."""
    temp = "\n".join(
        f"    {kind}_temp_path {prefix / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""daemon off;
user root;
worker_processes 1;
pid {prefix / "nginx.pid"};
error_log {prefix / "error.log"} info;
events {{ worker_connections {connections}; }}
http {{
    access_log {prefix / "access.log"};
{temp}
    include {site};
}}
"""


def start_nginx(processes, prefix, seam_ports, limits=None, connections=64):
    """deploy/nginx.conf in front of these SEAM ports, in `prefix` -> (https base url, http port, cert, trust)."""
    http_port, https_port = free_port(), free_port()
    prefix.mkdir(exist_ok=True)
    cert, key = self_signed_certificate(prefix)
    site = prefix / "seam.conf"
    site.write_text(site_config(http_port, https_port, seam_ports, cert, key, limits))
    (prefix / "nginx.conf").write_text(main_config(prefix, site, connections))
    nginx = processes(
        "nginx",
        [nginx_executable(), "-p", str(prefix), "-e", str(prefix / "error.log"), "-c", str(prefix / "nginx.conf")],
        prefix,
        None,
    )
    trust = ssl.create_default_context(cafile=str(cert))
    base_url = f"https://127.0.0.1:{https_port}"
    nginx.wait_until_up(base_url + "/healthz", context=trust)
    return nginx, base_url, http_port, cert, trust
