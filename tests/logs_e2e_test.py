#!/usr/bin/python3
"""fedgate's log lines, its secrets and its /debug/ endpoints, end to end.

Runs the real fedgate twice, with --log.level=debug and --log.format=json (and
--web.enable-debug), then --log.format=logfmt (without it), against loopback
servers this script runs: a healthy target, and a server that answers 401 to
everything (the scrape targets that send credentials, the proxy, the Kubernetes
API server). Every place a secret can be configured holds a distinctive marker:
scrape basic_auth passwords (inline and in a file), bearer tokens (inline and in
a file), authorization credentials, a proxy URL's password, a Kubernetes API
server's bearer token and the in-cluster service account token, the web
config's bcrypt hash and its bearer token file. fedgate is then driven through
everything that logs: failing scrapes and discovery, requests with wrong
credentials (basic and bearer, each holding a marker), a reload that fails on a
secret field, a good reload, web config reloads (good, then with a marker in an
invalid hash).

Checks: every stderr line parses with json.loads and has ts, caller, level and
msg (or is a logfmt line with them); the events above were logged; no marker
appears in stderr, /api/v1/status/config (which shows <secret>), /targets,
/api/v1/targets or /debug/*; /debug/ answers 401 without credentials, serves
JSON with --web.enable-debug and is 404 without it; a bad --log.format is a
command-line error (exit status 2).

Run: bazel test //tests:logs_e2e_test, or after `bazel build //gateway:fedgate`,
/usr/bin/python3 tests/logs_e2e_test.py. Every wait is bounded and every fedgate
started is stopped by its PID; about 15 s.
"""

import base64
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
import warnings

with warnings.catch_warnings():
    # Debian 12's Python 3.11 has it (libcrypt's bcrypt); nothing else here
    # makes a bcrypt hash.
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_processes import (  # noqa: E402
    fedgate_binary, repo_root, start_target, stop, wait_until)

MARK = "Mrk7q"  # Every secret below contains it; nothing fedgate shows may.
SECRETS = {
    "basic_password": f"{MARK}-basic-password",
    "password_file": f"{MARK}-password-file",
    "bearer_token": f"{MARK}-bearer-token",
    "bearer_token_file": f"{MARK}-bearer-token-file",
    "credentials": f"{MARK}-authorization-credentials",
    "proxy_password": f"{MARK}-proxy-password",
    "kubernetes_token": f"{MARK}-kubernetes-token",
    "api_server_password": f"{MARK}-api-server-password",
    "in_cluster_token": f"{MARK}-in-cluster-token",
    "web_password": f"{MARK}-web-password",
    "web_token": f"{MARK}-web-token",
    "wrong_password": f"{MARK}-wrong-password",
    "wrong_token": f"{MARK}-wrong-token",
}
HTTP_TIMEOUT_S = 5


def get(port, path, auth=None):
    """GETs http://127.0.0.1:port/path; returns (status, body)."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    if auth:
        request.add_header("Authorization", auth)
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_S) as res:
            return res.status, res.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


def basic(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def scrape_config(tmp, ok, reject, extra=""):
    """Every scrape-side place of a secret, aimed at the rejecting server."""
    write(os.path.join(tmp, "password"), SECRETS["password_file"] + "\n")
    write(os.path.join(tmp, "token"), SECRETS["bearer_token_file"] + "\n")
    rejected = f"static_configs: [{{targets: ['127.0.0.1:{reject}']}}]"
    return f"""global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: healthy
    static_configs: [{{targets: ['127.0.0.1:{ok}']}}]
  - job_name: basic
    basic_auth: {{username: scraper, password: {SECRETS["basic_password"]}}}
    {rejected}
  - job_name: basic-file
    basic_auth: {{username: scraper, password_file: {tmp}/password}}
    {rejected}
  - job_name: bearer
    bearer_token: {SECRETS["bearer_token"]}
    {rejected}
  - job_name: bearer-file
    bearer_token_file: {tmp}/token
    {rejected}
  - job_name: authorization
    authorization: {{type: Token, credentials: {SECRETS["credentials"]}}}
    {rejected}
  - job_name: proxied
    proxy_url: http://proxy-user:{SECRETS["proxy_password"]}@127.0.0.1:{reject}/
    static_configs: [{{targets: ['127.0.0.1:{ok}']}}]
  - job_name: kubernetes
    kubernetes_sd_configs:
      - role: pod
        api_server: http://127.0.0.1:{reject}
        bearer_token: {SECRETS["kubernetes_token"]}
      - role: node
        api_server: http://k8s-user:{SECRETS["api_server_password"]}@127.0.0.1:{reject}
  - job_name: in-cluster
    kubernetes_sd_configs:
      - role: endpoints
{extra}"""


def web_config_basic(tmp):
    hashed = crypt.crypt(SECRETS["web_password"], crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16))
    write(os.path.join(tmp, "web.yml"), f"basic_auth_users:\n  admin: '{hashed}'\n")
    return hashed


def docs_example(marker):
    """The code block after `<!-- example: MARKER -->` in docs/index.md, as written."""
    with open(os.path.join(repo_root(), "docs", "index.md"), encoding="utf-8") as f:
        page = f.read()
    m = re.search(r"<!-- example: " + re.escape(marker) + r" -->\n```\n(.*?)\n```", page, re.S)
    assert m, f"no example {marker} in docs/index.md"
    return m.group(1)


def logfmt_keys(line):
    return re.findall(r'(?:^| )([a-z_]+)=(?:"(?:[^"\\]|\\.)*"|\S*)', line)


def check_docs_examples(lines, fmt):
    """docs/index.md's example of the ready line has the real line's shape."""
    real = next(line for line in lines if "Server is ready to receive web requests." in line)
    if fmt == "json":
        example = json.loads(docs_example("log-json"))
        got = json.loads(real)
        assert list(example) == list(got), (example, got)
        for key, value in example.items():
            assert type(value) is type(got[key]), (key, value, got[key])
        assert example["msg"] == got["msg"], example
        # The same file; the line number moves as main.cc changes.
        assert example["caller"].split(":")[0] == got["caller"].split(":")[0], example
    else:
        example = docs_example("log-logfmt")
        check_lines(example, "logfmt")
        assert logfmt_keys(example) == logfmt_keys(real), (example, real)
        assert example.split(" caller=")[1].split(":")[0] == \
            real.split(" caller=")[1].split(":")[0], (example, real)


def check_lines(text, fmt):
    """Every line is one event with ts, caller, level and msg in `fmt`."""
    lines = text.splitlines()
    assert lines, "no log lines"
    for line in lines:
        if fmt == "json":
            event = json.loads(line)
            assert isinstance(event, dict), line
            for key in ("ts", "caller", "level", "msg"):
                assert isinstance(event.get(key), str) and event[key], f"{key} in {line}"
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", event["ts"]), line
            assert re.fullmatch(r"[a-z_]+\.cc:\d+", event["caller"]), line
            assert event["level"] in ("debug", "info", "warn", "error"), line
        else:
            assert re.match(
                r'ts=\S+Z caller=[a-z_]+\.cc:\d+ level=(debug|info|warn|error) msg=("[^"]+"|\S+)',
                line), line
    return lines


def msgs(lines, fmt):
    if fmt == "json":
        return [json.loads(line)["msg"] for line in lines]
    return [m.group(1).strip('"') for m in (re.search(r' msg=("[^"]*"|\S+)', l) for l in lines)]


def assert_no_secret(where, text, extra=()):
    for secret in list(SECRETS.values()) + list(extra):
        leaks = [line for line in text.splitlines() if secret in line]
        assert not leaks, f"{secret!r} leaked into {where}: {leaks}"
    assert MARK not in text, f"the marker leaked into {where}"


def run(binary, tmp, fmt, debug_on, ok, reject):
    """One fedgate in `fmt`; returns after every check of that run."""
    run_dir = os.path.join(tmp, fmt)
    os.makedirs(run_dir)
    sa_dir = os.path.join(run_dir, "serviceaccount")
    os.makedirs(sa_dir)
    write(os.path.join(sa_dir, "token"), SECRETS["in_cluster_token"] + "\n")
    write(os.path.join(sa_dir, "namespace"), "default\n")
    write(os.path.join(sa_dir, "ca.crt"), "not a certificate\n")
    config = os.path.join(run_dir, "fedgate.yml")
    write(config, scrape_config(run_dir, ok, reject))
    hashed = web_config_basic(run_dir)
    admin = basic("admin", SECRETS["web_password"])
    stderr_path = os.path.join(run_dir, "fedgate.stderr")
    env = dict(os.environ, KUBERNETES_SERVICE_HOST="127.0.0.1",
               KUBERNETES_SERVICE_PORT=str(reject))
    argv = [binary, f"--config.file={config}", "--web.listen-address=127.0.0.1:0",
            "--grpc.listen-address=", f"--web.config.file={run_dir}/web.yml",
            "--log.level=debug", f"--log.format={fmt}",
            f"--discovery.kubernetes.service-account-dir={sa_dir}"]
    if debug_on:
        argv.append("--web.enable-debug")
    with open(stderr_path, "w+", encoding="utf-8") as stderr:
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=stderr, env=env)
    try:
        def log():
            with open(stderr_path, encoding="utf-8") as f:
                return f.read()

        def port():
            if proc.poll() is not None:
                raise AssertionError(f"fedgate exited with {proc.returncode}:\n{log()}")
            for line in log().splitlines():
                if "Server is ready to receive web requests." not in line:
                    continue
                if fmt == "json":
                    return json.loads(line)["web"]
                return int(re.search(r" web=(\d+)", line).group(1))
            return 0

        web = wait_until("fedgate's web port in its log", 30, port)

        # Every credential-bearing scrape has failed once.
        def all_scraped():
            status, body = get(web, "/api/v1/targets", admin)
            if status != 200:
                return False
            active = json.loads(body)["data"]["activeTargets"]
            return len(active) >= 7 and all(t["health"] != "unknown" for t in active)

        wait_until("every target scraped once", 20, all_scraped)
        wait_until("the Kubernetes API server's refusal logged", 20,
                   lambda: "Failed to list objects" in log())

        # The web side: wrong passwords and tokens, then the right password.
        assert get(web, "/federate?match[]=up", basic("admin", SECRETS["wrong_password"]))[0] == 401
        assert get(web, "/federate?match[]=up", "Bearer " + SECRETS["wrong_token"])[0] == 401
        assert get(web, "/federate?match[]=up", admin)[0] == 200

        # What fedgate shows about its configuration and targets.
        status, shown = get(web, "/api/v1/status/config", admin)
        assert status == 200, shown
        yaml = json.loads(shown)["data"]["yaml"]
        # basic_auth, bearer_token, authorization, the Kubernetes token.
        assert yaml.count("<secret>") == 4, yaml
        assert "proxy-user:xxxxx@" in yaml, yaml
        pages = {"/api/v1/status/config": shown}
        for path in ("/targets", "/api/v1/targets"):
            status, pages[path] = get(web, path, admin)
            assert status == 200, path

        # /debug/: behind the credentials, served only with the flag.
        assert get(web, "/debug/threads")[0] == 401
        status, threads = get(web, "/debug/threads", admin)
        if debug_on:
            assert status == 200, threads
            names = [t["name"] for t in json.loads(threads)["threads"]]
            for name in ("scrape-io", "http-worker", "discovery"):
                assert name in names, names
            for path in ("/debug/store", "/debug/scrape"):
                status, pages[path] = get(web, path, admin)
                assert status == 200, path
            scrape = json.loads(pages["/debug/scrape"])
            assert any(t["job"] == "basic" and t["health"] == "down" for t in scrape["targets"])
            store = json.loads(pages["/debug/store"])
            assert store["series"] > 0 and store["jobs"], store
        else:
            assert status == 404, threads
            assert get(web, "/debug/store", admin)[0] == 404

        # A reload that fails on secret fields, then a good one.
        write(config, scrape_config(run_dir, ok, reject, f"""  - job_name: bad
    basic_auth: {{username: u, password: {SECRETS["basic_password"]}, password_file: {run_dir}/password}}
    static_configs: [{{targets: ['127.0.0.1:{ok}']}}]
"""))
        proc.send_signal(signal.SIGHUP)
        wait_until("the failed reload logged", 10, lambda: "Error reloading config" in log())
        write(config, scrape_config(run_dir, ok, reject, f"""  - job_name: proxy-invalid
    proxy_url: ":proxy-user:{SECRETS["proxy_password"]}@127.0.0.1:3128/"
    static_configs: [{{targets: ['127.0.0.1:{ok}']}}]
"""))
        proc.send_signal(signal.SIGHUP)
        wait_until("the second failed reload logged", 10,
                   lambda: log().count("Error reloading config") >= 2)
        write(config, scrape_config(run_dir, ok, reject))
        proc.send_signal(signal.SIGHUP)
        wait_until("the good reload logged", 10,
                   lambda: "Completed loading of configuration file" in log())

        # The web config: static bearer token files, then an invalid hash.
        write(os.path.join(run_dir, "web.token"), SECRETS["web_token"] + "\n")
        write(os.path.join(run_dir, "web.yml"),
              "authentication:\n  bearer_token_files: [web.token]\n")
        token = "Bearer " + SECRETS["web_token"]
        wait_until("the token file in force", 10,
                   lambda: get(web, "/api/v1/targets", token)[0] == 200)
        assert get(web, "/api/v1/targets", "Bearer " + SECRETS["wrong_token"])[0] == 401
        write(os.path.join(run_dir, "web.yml"),
              f"basic_auth_users:\n  admin: '$2b$10${SECRETS['web_password']}'\n")
        wait_until("the bad web config logged", 10, lambda: (
            get(web, "/api/v1/targets", token)[0] == 200
            and "Error reloading the web config file" in log()))
    finally:
        stop(proc)
    assert proc.returncode == 0, proc.returncode

    text = log()
    lines = check_lines(text, fmt)
    check_docs_examples(lines, fmt)
    seen = msgs(lines, fmt)
    for want in ("Starting fedgate", "Server is ready to receive web requests.",
                 "Failed to list objects", "Error reloading config",
                 "Completed loading of configuration file",
                 "Completed loading of web config file",
                 "Error reloading the web config file; the previous settings stay in force",
                 "See you next time!"):
        assert want in seen, f"{want!r} not logged:\n{text}"
    assert_no_secret(f"the {fmt} log", text, [hashed])
    for path, body in pages.items():
        assert_no_secret(path, body, [hashed])
    print(f"{fmt}: {len(lines)} log lines checked")


def main():
    binary = fedgate_binary()
    ok = start_target("# TYPE demo_up gauge\ndemo_up 1\n")
    # The targets that want credentials, the proxy and the Kubernetes API server. (The
    # in-cluster client's TLS handshake makes it print a traceback: no HTTP request.)
    reject = start_target('{"kind":"Status","message":"Unauthorized","code":401}\n', 401)
    with tempfile.TemporaryDirectory(prefix="fedgate-logs-test.") as tmp:
        bad = subprocess.run([binary, "--log.format=xml"], capture_output=True, text=True,
                             timeout=10)
        assert bad.returncode == 2, bad
        assert 'invalid value "xml" for flag --log.format: must be one of logfmt, json' in \
            bad.stderr, bad.stderr
        run(binary, tmp, "json", True, ok.server_address[1], reject.server_address[1])
        run(binary, tmp, "logfmt", False, ok.server_address[1], reject.server_address[1])
    ok.shutdown()
    reject.shutdown()
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
