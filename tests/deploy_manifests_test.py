#!/usr/bin/python3
"""deploy/, the Dockerfile and docs/deploying.md, checked with the real tools.

- Every kustomization (deploy/base, each folder of deploy/overlays/ as found, and
  deploy/prometheus-operator) renders with `kubectl kustomize`, and its objects fit together:
  selectors match the pod labels, the Service's ports name container ports, the probes and the
  listen flags use those ports, the ConfigMap holds the files the flags name, the service account
  exists and every binding names it in its namespace, the container is locked down and sized,
  the image is the version of the fedgate built here. A changed configuration renders a new
  ConfigMap name (so the pods roll), and a user's overlay that sets another namespace keeps the
  bindings right.
- The ServiceMonitors and deploy/prometheus/prometheus.yml describe the same jobs; the
  PrometheusRule holds the groups of deploy/prometheus/rules.yml; `promtool check rules` and
  `promtool test rules` pass.
- A real Prometheus 2.42 runs deploy/prometheus/prometheus.yml (with the test's target, a token
  file in place of the service account token, and 1 s intervals) against a real fedgate with a
  static-token web config: fedgate's metrics and its federated series arrive, with the rules
  loaded.
- Every query of the Grafana dashboard and every alert parses (`promtool check rules` on a rule
  file made of them), and every metric name they use is one that fedgate exposes (/metrics and
  /federate of the running fedgate, with gRPC on), histograms' _bucket and _count included.
- The Dockerfile's runtime stage installs exactly the Debian packages of the libraries `ldd`
  lists for the built fedgate (`dpkg -S`), plus ca-certificates; its build stage installs only
  packages .ci/dev.sh installs.
- docs/deploying.md: every YAML block marked `<!-- file: PATH -->` is that file's content, and
  every path it names exists; its user overlay, and docs/sharding.md's overlay of two replicas
  (`ha-overlay`, with `replica: ${POD_NAME}` in the configuration), render as they say.

Run: bazel test //tests:deploy_manifests_test, or after `bazel build //gateway:fedgate`,
/usr/bin/python3 tests/deploy_manifests_test.py. Every wait is bounded; fedgate and Prometheus
are stopped by their PIDs. About 25 s.
"""

import glob
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import unittest
import urllib.error
import urllib.parse
import urllib.request

import yaml

# The shared module is imported from the source tree: no bytecode cache is written into it.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_processes import (  # noqa: E402 (found through the path above)
    fedgate_binary, repo_root, start_target, stop, wait_until)

KUBECTL = "/usr/bin/kubectl"
PROMTOOL = "/usr/bin/promtool"
PROMETHEUS = "/usr/bin/prometheus"
SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
HTTP_TIMEOUT_S = 5

TARGET_BODY = (
    "# HELP demo_requests_total Requests.\n"
    "# TYPE demo_requests_total counter\n"
    'demo_requests_total{code="200"} 7\n'
)


ROOT = repo_root()


def path(rel):
    return os.path.join(ROOT, rel)


def read(rel):
    with open(path(rel), encoding="utf-8") as f:
        return f.read()


def scratch():
    base = os.environ.get("TEST_TMPDIR") or tempfile.gettempdir()
    return tempfile.mkdtemp(dir=base)


def copy_deploy():
    """A copy of deploy/ with the links of Bazel's runfiles resolved: kustomize refuses files
    reached through links that leave its root."""
    dest = os.path.join(scratch(), "deploy")
    shutil.copytree(path("deploy"), dest, symlinks=False)
    return dest


def render(directory):
    """The objects `kubectl kustomize directory` prints (its warnings go to stderr)."""
    out = subprocess.run([KUBECTL, "kustomize", directory], capture_output=True, text=True,
                         timeout=60, check=False)
    if out.returncode != 0:
        raise AssertionError(f"kubectl kustomize {directory}: {out.stderr}")
    return [d for d in yaml.safe_load_all(out.stdout) if d]


def kustomizations(deploy):
    """deploy/base, every overlay, and the Prometheus Operator objects."""
    overlays = sorted(d for d in glob.glob(os.path.join(deploy, "overlays", "*"))
                      if os.path.isdir(d))
    return [os.path.join(deploy, "base")] + overlays


def by_kind(objects, kind):
    return [o for o in objects if o["kind"] == kind]


def one(objects, kind, name=None):
    found = [o for o in by_kind(objects, kind) if name is None or o["metadata"]["name"] == name]
    if len(found) != 1:
        raise AssertionError(f"{len(found)} objects of kind {kind} named {name}")
    return found[0]


def selects(selector, labels):
    return all(labels.get(k) == v for k, v in selector.items())


def flag(args, name):
    values = [a.split("=", 1)[1] for a in args if a.startswith(f"--{name}=")]
    return values[0] if values else None


def get(url, token=None):
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_S) as res:
            return res.status, res.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")
    except (urllib.error.URLError, ConnectionError):
        return 0, ""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Fedgate:
    """The real fedgate scraping two loopback endpoints of one registry (a dedup group) with the
    external label of deploy/base/fedgate.yml, serving HTTP with a static bearer token, and
    gRPC."""

    TOKEN = "upstream-token"

    def __init__(self):
        self.dir = scratch()
        self.targets = [start_target(TARGET_BODY) for _ in range(2)]
        addresses = ", ".join(f"'127.0.0.1:{s.server_address[1]}'" for s in self.targets)
        external = yaml.safe_load(read("deploy/base/fedgate.yml"))["global"]["external_labels"]
        with open(os.path.join(self.dir, "fedgate.yml"), "w", encoding="utf-8") as f:
            f.write(yaml.safe_dump({
                "global": {"scrape_interval": "1s", "scrape_timeout": "1s",
                           "external_labels": external},
                "scrape_configs": [{"job_name": "k3s",
                                    "static_configs": [{"targets": []}]}],
                "dedup_groups": [{"name": "k3s", "job_names": ["k3s"],
                                  "source_labels": ["__address__"], "regex": "(.+):\\d+"}],
            }).replace("targets: []", f"targets: [{addresses}]"))
        with open(os.path.join(self.dir, "token"), "w", encoding="utf-8") as f:
            f.write(self.TOKEN + "\n")
        with open(os.path.join(self.dir, "web.yml"), "w", encoding="utf-8") as f:
            f.write("authentication:\n  bearer_token_files: [token]\n")
        # Started here rather than by start_fedgate, which turns gRPC off: the gRPC metrics the
        # dashboard and the alerts use are exposed only with --grpc.listen-address.
        self.port = free_port()
        self.log = open(os.path.join(self.dir, "fedgate.log"), "w", encoding="utf-8")
        self.process = subprocess.Popen(
            [fedgate_binary(), f"--config.file={os.path.join(self.dir, 'fedgate.yml')}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--grpc.listen-address=127.0.0.1:0",
             f"--web.config.file={os.path.join(self.dir, 'web.yml')}"],
            stdout=self.log, stderr=subprocess.STDOUT)
        wait_until("fedgate ready", 30, self.ready)

    def ready(self):
        if self.process.poll() is not None:
            raise AssertionError(f"fedgate exited with {self.process.returncode}: see {self.dir}")
        return get(f"http://127.0.0.1:{self.port}/-/ready")[0] == 200

    def metric_names(self):
        """The names of every series fedgate serves: /metrics and /federate."""
        names = set()
        for p in ["/metrics", "/federate?match[]=" + urllib.parse.quote('{__name__=~".+"}')]:
            status, body = get(f"http://127.0.0.1:{self.port}{p}", self.TOKEN)
            assert status == 200, (p, status, body)
            for line in body.splitlines():
                if line and not line.startswith("#"):
                    names.add(re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line).group(0))
        return names

    def close(self):
        """Stops fedgate and its targets; returns fedgate's exit status."""
        status = stop(self.process)
        self.log.close()
        for s in self.targets:
            s.shutdown()
            s.server_close()
        return status


FEDGATE = None


def setUpModule():  # noqa: N802 (unittest's name)
    global FEDGATE
    FEDGATE = Fedgate()


def tearDownModule():  # noqa: N802 (unittest's name)
    # A clean stop: under --config=asan, also no sanitizer report.
    if FEDGATE and FEDGATE.close() != 0:
        raise AssertionError(f"fedgate did not exit with status 0: see {FEDGATE.dir}")


class KustomizationTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.deploy = copy_deploy()
        out = subprocess.run([fedgate_binary(), "--version"], capture_output=True, text=True,
                             check=True)
        cls.version = re.search(r"version (\S+)", out.stdout + out.stderr).group(1)

    def test_every_kustomization_fits_together(self):
        dirs = kustomizations(self.deploy)
        self.assertIn(os.path.join(self.deploy, "overlays", "namespaced"), dirs)
        for d in dirs:
            with self.subTest(kustomization=os.path.relpath(d, self.deploy)):
                objects = render(d)
                self.check_fedgate_objects(objects)
        # The base's startup probe is the gRPC health service.
        deployment = one(render(os.path.join(self.deploy, "base")), "Deployment")
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        self.assertIn("grpc", container["startupProbe"])

    def check_fedgate_objects(self, objects):
        workloads = by_kind(objects, "Deployment") + by_kind(objects, "StatefulSet")
        self.assertEqual(len(workloads), 1)
        workload = workloads[0]
        ns = workload["metadata"]["namespace"]
        for o in objects:
            if o["kind"] not in ("ClusterRole", "ClusterRoleBinding"):
                self.assertEqual(o["metadata"].get("namespace"), ns, o["metadata"]["name"])
        spec = workload["spec"]
        pod_labels = spec["template"]["metadata"]["labels"]
        self.assertTrue(selects(spec["selector"]["matchLabels"], pod_labels))
        pod = spec["template"]["spec"]
        # Longer than --web.shutdown-timeout (25 s); Kubernetes's default is 30 s.
        self.assertGreater(pod.get("terminationGracePeriodSeconds", 30), 25)
        self.assertTrue(pod["securityContext"]["runAsNonRoot"])
        self.assertNotEqual(pod["securityContext"]["runAsUser"], 0)
        (container,) = pod["containers"]
        self.assertEqual(container["image"], f"fedgate:{self.version}")
        sc = container["securityContext"]
        self.assertTrue(sc["readOnlyRootFilesystem"])
        self.assertFalse(sc["allowPrivilegeEscalation"])
        self.assertEqual(sc["capabilities"]["drop"], ["ALL"])
        for kind in ("requests", "limits"):
            self.assertEqual(set(container["resources"][kind]), {"cpu", "memory"})
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        self.assertEqual(set(ports), {"http", "grpc"})
        args = container["args"]
        for name, port, default in (("web.listen-address", "http", "0.0.0.0:9099"),
                                    ("grpc.listen-address", "grpc", "0.0.0.0:9098")):
            address = flag(args, name) or default
            self.assertEqual(address.rsplit(":", 1)[1], str(ports[port]), name)

        def port_of(probe):
            p = probe.get("httpGet", probe.get("grpc"))["port"]
            return ports[p] if isinstance(p, str) else p

        self.assertEqual(container["livenessProbe"]["httpGet"]["path"], "/-/healthy")
        self.assertEqual(port_of(container["livenessProbe"]), ports["http"])
        self.assertEqual(container["readinessProbe"]["httpGet"]["path"], "/-/ready")
        self.assertEqual(port_of(container["readinessProbe"]), ports["http"])
        if "startupProbe" in container:
            self.assertEqual(port_of(container["startupProbe"]), ports["grpc"])

        # The files the flags name are keys of a mounted ConfigMap of these objects.
        volumes = {v["name"]: v for v in pod["volumes"]}
        mounted = {}
        for m in container["volumeMounts"]:
            if "configMap" not in volumes[m["name"]]:
                continue
            cm = one(objects, "ConfigMap", volumes[m["name"]]["configMap"]["name"])
            for key in cm["data"]:
                mounted[f"{m['mountPath']}/{key}"] = cm["data"][key]
        for name in ("config.file", "web.config.file"):
            self.assertIn(flag(args, name), mounted, name)
        yaml.safe_load(mounted[flag(args, "config.file")])
        # A changed ConfigMap reaches the running pod, which reloads it: mounted whole (files
        # mounted with subPath are never updated) and watched.
        for m in container["volumeMounts"]:
            self.assertNotIn("subPath", m, m["name"])
        interval = flag(args, "config.auto-reload-interval")
        self.assertRegex(interval or "", r"^[1-9][0-9]*[sm]$")

        # The Service: its selector picks these pods, its ports name the container's.
        services = [s for s in by_kind(objects, "Service")
                    if selects(s["spec"]["selector"], pod_labels)]
        self.assertTrue(services)
        for s in services:
            for p in s["spec"]["ports"]:
                target = p.get("targetPort", p["port"])
                self.assertIn(ports.get(target, target), ports.values(), s["metadata"]["name"])
                # The Service's port is the container's: http 9099 and grpc 9098 everywhere.
                self.assertEqual(p["port"], ports.get(target, target), s["metadata"]["name"])
        if workload["kind"] == "StatefulSet":
            one(objects, "Service", spec["serviceName"])

        # The service account exists, and every binding names it in its namespace.
        sa = pod["serviceAccountName"]
        one(objects, "ServiceAccount", sa)
        bindings = by_kind(objects, "ClusterRoleBinding") + by_kind(objects, "RoleBinding")
        self.assertTrue(bindings)
        for b in bindings:
            self.assertIn({"kind": "ServiceAccount", "name": sa, "namespace": ns},
                          b["subjects"])
            kind, name = b["roleRef"]["kind"], b["roleRef"]["name"]
            one(objects, kind, name)

    def test_a_changed_configuration_is_reloaded_in_place(self):
        def rendered():
            objects = render(os.path.join(self.deploy, "base"))
            deployment = one(objects, "Deployment")
            (volume,) = deployment["spec"]["template"]["spec"]["volumes"]
            config_map = one(objects, "ConfigMap", volume["configMap"]["name"])
            return deployment["spec"]["template"], config_map

        template, config_map = rendered()
        self.assertEqual(config_map["metadata"]["name"], "fedgate")
        with open(os.path.join(self.deploy, "base", "fedgate.yml"), "a", encoding="utf-8") as f:
            f.write("# changed\n")
        try:
            # The same ConfigMap with the new file, and the same pod template: no new pods.
            changed_template, changed_map = rendered()
            self.assertEqual(changed_map["metadata"]["name"], "fedgate")
            self.assertTrue(changed_map["data"]["fedgate.yml"].endswith("# changed\n"))
            self.assertEqual(changed_template, template)
        finally:
            shutil.copy(path("deploy/base/fedgate.yml"),
                        os.path.join(self.deploy, "base", "fedgate.yml"))

    def test_another_namespace_keeps_the_bindings(self):
        for d in kustomizations(self.deploy):
            with self.subTest(kustomization=os.path.relpath(d, self.deploy)):
                user = tempfile.mkdtemp(dir=self.deploy)
                with open(os.path.join(user, "kustomization.yaml"), "w", encoding="utf-8") as f:
                    f.write(f"namespace: team-a\nbases:\n  - {os.path.relpath(d, user)}\n")
                objects = render(user)
                for b in by_kind(objects, "ClusterRoleBinding") + by_kind(objects, "RoleBinding"):
                    for s in b["subjects"]:
                        self.assertEqual(s["namespace"], "team-a", b["metadata"]["name"])


class PrometheusTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.deploy = copy_deploy()
        cls.plain = yaml.safe_load(read("deploy/prometheus/prometheus.yml"))
        cls.operator = render(os.path.join(cls.deploy, "prometheus-operator"))
        cls.base = render(os.path.join(cls.deploy, "base"))

    def test_service_monitors_are_the_plain_jobs(self):
        service = one(self.base, "Service", "fedgate")
        jobs = {j["job_name"]: j for j in self.plain["scrape_configs"]}
        monitors = {m["metadata"]["name"]: m for m in by_kind(self.operator, "ServiceMonitor")}
        self.assertEqual(set(monitors), set(jobs))
        for name, monitor in monitors.items():
            job, spec = jobs[name], monitors[name]["spec"]
            self.assertTrue(selects(spec["selector"]["matchLabels"],
                                    service["metadata"]["labels"]))
            self.assertEqual(spec["namespaceSelector"]["matchNames"],
                             [service["metadata"]["namespace"]])
            (endpoint,) = spec["endpoints"]
            self.assertIn(endpoint["port"], [p["name"] for p in service["spec"]["ports"]])
            port = [p["port"] for p in service["spec"]["ports"] if p["name"] == endpoint["port"]]
            self.assertEqual(job["static_configs"][0]["targets"],
                             [f"fedgate.{service['metadata']['namespace']}.svc:{port[0]}"])
            self.assertEqual(endpoint["path"], job.get("metrics_path", "/metrics"))
            self.assertEqual(endpoint.get("params", {}), job.get("params", {}))
            self.assertEqual(endpoint.get("honorLabels", False), job.get("honor_labels", False))
            self.assertEqual(endpoint["interval"], job["scrape_interval"])
            self.assertEqual(endpoint.get("scrapeTimeout"), job.get("scrape_timeout"))
            self.assertEqual(endpoint["bearerTokenFile"], f"{SA_DIR}/token")
            self.assertEqual(job["authorization"]["credentials_file"], f"{SA_DIR}/token")
        # The readers may get exactly the paths the jobs scrape.
        paths = sorted({j.get("metrics_path", "/metrics") for j in jobs.values()})
        for objects in (self.operator,
                        [d for d in yaml.safe_load_all(read("deploy/prometheus/reader-rbac.yaml"))]):
            role = one(objects, "ClusterRole", "fedgate-reader")
            self.assertEqual(role["rules"], [{"nonResourceURLs": paths, "verbs": ["get"]}])

    def test_prometheus_rule_holds_the_rule_file(self):
        rule = one(self.operator, "PrometheusRule", "fedgate")
        self.assertEqual(rule["spec"], yaml.safe_load(read("deploy/prometheus/rules.yml")))

    def test_promtool_checks_and_unit_tests_the_rules(self):
        for args in (["check", "rules", "rules.yml"], ["test", "rules", "rules_test.yml"]):
            out = subprocess.run([PROMTOOL, *args], cwd=os.path.join(self.deploy, "prometheus"),
                                 capture_output=True, text=True, timeout=60, check=False)
            self.assertEqual(out.returncode, 0, out.stdout + out.stderr)

    def test_a_real_prometheus_federates_fedgate(self):
        work = scratch()
        shutil.copy(path("deploy/prometheus/rules.yml"), work)
        token = os.path.join(work, "token")
        with open(token, "w", encoding="utf-8") as f:
            f.write(Fedgate.TOKEN + "\n")
        text = read("deploy/prometheus/prometheus.yml")
        text = text.replace(f"{SA_DIR}/token", token)
        text = text.replace("fedgate.monitoring.svc:9099", f"127.0.0.1:{FEDGATE.port}")
        text = re.sub(r"scrape_(interval|timeout): \d+s", r"scrape_\1: 1s", text)
        config = os.path.join(work, "prometheus.yml")
        with open(config, "w", encoding="utf-8") as f:
            f.write(text)
        out = subprocess.run([PROMTOOL, "check", "config", config], capture_output=True,
                             text=True, timeout=60, check=False)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        port = free_port()
        log = open(os.path.join(work, "prometheus.log"), "w", encoding="utf-8")
        prometheus = subprocess.Popen(
            [PROMETHEUS, "--config.file=" + config, "--storage.tsdb.path=" + work + "/data",
             f"--web.listen-address=127.0.0.1:{port}"], stdout=log, stderr=subprocess.STDOUT)
        try:
            def query(q):
                status, body = get(f"http://127.0.0.1:{port}/api/v1/query?"
                                   + urllib.parse.urlencode({"query": q}))
                return json.loads(body)["data"]["result"] if status == 200 else []

            # fedgate's own metrics, and the dedup group's series federated once, with fedgate's
            # job and instance (honor_labels) and its external label.
            wait_until("fedgate's metrics in Prometheus", 30,
                       lambda: query('fedgate_series{job="fedgate"}'))
            series = wait_until("the federated series in Prometheus", 30,
                                lambda: query("demo_requests_total"))
            self.assertEqual(series[0]["metric"], {
                "__name__": "demo_requests_total", "code": "200", "federated_by": "fedgate",
                "instance": "127.0.0.1", "job": "k3s"})
            self.assertEqual(len(query('up{federated_by="fedgate"}')), 2)
            self.assertEqual(len(query('up{job=~"fedgate|fedgate-federate"} == 1')), 2)
            status, body = get(f"http://127.0.0.1:{port}/api/v1/rules")
            rules = json.loads(body)["data"]["groups"][0]["rules"]
            self.assertEqual(len(rules), 15)
            # fedgate's per-job label `scrape_job` arrives unchanged beside the upstream's
            # `job`: what the alerts and the dashboard group by.
            up = wait_until("fedgate's targets up in Prometheus", 30, lambda: query(
                'fedgate_scrape_pool_targets{job="fedgate",health="up"} == 2'))
            self.assertEqual([r["metric"]["scrape_job"] for r in up], ["k3s"])
            self.assertNotIn("exported_job", up[0]["metric"])
            self.assertTrue(all(r["health"] in ("ok", "unknown") for r in rules), rules)
        finally:
            self.assertEqual(stop(prometheus), 0)
            log.close()


def promql_names(expr):
    """The metric names an expression selects: identifiers outside label matchers, grouping
    clauses and strings that are not functions, keywords or durations."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    e = re.sub(r"\{[^}]*\}", " ", e)
    e = re.sub(r"\[[^\]]*\]", " ", e)
    e = re.sub(r"\boffset\s+-?\w+", " ", e)
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    keywords = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and",
                "or", "unless", "offset", "inf", "nan"}
    names = set()
    for m in re.finditer(r"[a-zA-Z_:][a-zA-Z0-9_:]*", e):
        rest = e[m.end():].lstrip()
        if m.group(0).lower() not in keywords and not rest.startswith("("):
            names.add(m.group(0))
    return names


class DashboardTest(unittest.TestCase):
    def exprs(self):
        dashboard = json.loads(read("deploy/grafana/fedgate.json"))
        out = []
        for panel in dashboard["panels"]:
            for target in panel.get("targets", []):
                out.append((panel["title"], target["expr"]))
        return out

    def test_every_query_parses(self):
        work = scratch()
        rules = {"groups": [{"name": "dashboard", "rules": [
            {"record": f"dashboard:query{i}", "expr": e.replace("$__rate_interval", "1m")}
            for i, (_, e) in enumerate(self.exprs())]}]}
        with open(os.path.join(work, "dashboard.yml"), "w", encoding="utf-8") as f:
            yaml.safe_dump(rules, f)
        out = subprocess.run([PROMTOOL, "check", "rules", os.path.join(work, "dashboard.yml")],
                             capture_output=True, text=True, timeout=60, check=False)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)

    def test_every_metric_is_one_fedgate_exposes(self):
        exposed = FEDGATE.metric_names()
        self.assertIn("fedgate_series", exposed)
        self.assertIn("up", exposed)
        alerts = [(r["alert"], r["expr"])
                  for g in yaml.safe_load(read("deploy/prometheus/rules.yml"))["groups"]
                  for r in g["rules"]]
        for title, expr in self.exprs() + alerts:
            names = promql_names(expr)
            self.assertTrue(names, (title, expr))
            self.assertLessEqual(names, exposed, (title, expr))

    def test_the_name_finder_finds_names(self):
        self.assertEqual(
            promql_names('histogram_quantile(0.99, sum by (le) (rate(a_bucket{x="y"}[5m]))) '
                         '/ on (job) b + time() - c offset 5m'),
            {"a_bucket", "b", "c"})


class DockerfileTest(unittest.TestCase):
    def stages(self):
        """The package names each stage's `apt-get install` lists."""
        text = read("Dockerfile").replace("\\\n", " ")
        stages = []
        for line in text.splitlines():
            if line.startswith("FROM "):
                stages.append(set())
            m = re.search(r"apt-get install ([^&]*)", line)
            if m:
                stages[-1] |= {w for w in m.group(1).split() if not w.startswith("-")}
        return stages

    def test_runtime_packages_are_those_of_the_linked_libraries(self):
        ldd = subprocess.run(["ldd", fedgate_binary()], capture_output=True, text=True,
                             check=True).stdout
        libraries = re.findall(r"=> (/\S+)", ldd)
        self.assertTrue(libraries)
        # One dpkg -S for every path (each call reads the whole package database): a library
        # is found under the path ldd gives or the file its links lead to.
        wanted = {lib: {lib, os.path.realpath(lib)} for lib in libraries}
        out = subprocess.run(["dpkg", "-S", *sorted(set().union(*wanted.values()))],
                             capture_output=True, text=True, timeout=120, check=False)
        owner = {}
        for line in out.stdout.splitlines():
            package, _, file = line.partition(": ")
            owner[file] = package.split(":")[0]
        packages = set()
        for lib, paths in wanted.items():
            found = [owner[p] for p in paths if p in owner]
            self.assertTrue(found, f"no Debian package holds {lib}")
            packages.add(found[0])
        # A sanitizer build (bazel test --config=asan) links the sanitizers' runtimes, which a
        # release image never ships.
        packages = {p for p in packages if not re.match(r"lib(asan|ubsan|tsan)\d+$", p)}
        build, runtime = self.stages()
        self.assertEqual(runtime - {"ca-certificates"}, packages)
        dev = re.search(r"PACKAGES=\(\n(.*?)\n\)", read(".ci/dev.sh"), re.S).group(1)
        self.assertLessEqual(build, set(dev.split()))

    def test_the_image_names_the_commit_it_was_built_from(self):
        # The build context has no .git: the revision and branch come in as build arguments,
        # which reach the workspace status of the `bazel build` that makes the binary.
        ignored = read(".dockerignore").split()
        self.assertIn(".git", ignored)
        self.assertIn("bazel-*", ignored)
        text = read("Dockerfile").replace("\\\n", " ")
        build_run = [line for line in text.splitlines()
                     if line.startswith("RUN") and "bazel build //gateway:fedgate" in line]
        self.assertEqual(len(build_run), 1)
        for name in ("FEDGATE_GIT_REVISION", "FEDGATE_GIT_BRANCH"):
            self.assertRegex(text, rf"(?m)^ARG {name}=unknown$")
            self.assertIn(f'{name}="${{{name}}}"', build_run[0])
        # docs/deploying.md's build command passes both, as users copy it.
        command = re.search(r"```sh\n *(docker build .*?)\n *docker push", read("docs/deploying.md"),
                            re.S).group(1)
        for name, git in (("FEDGATE_GIT_REVISION", "git rev-parse HEAD"),
                          ("FEDGATE_GIT_BRANCH", "git rev-parse --abbrev-ref HEAD")):
            self.assertIn(f'--build-arg {name}="$({git})"', command)
        # The workspace status prints them as given, and falls back to "unknown" where there
        # is no git checkout (an empty directory).
        script = path("bazel/workspace_status.sh")
        outside = tempfile.mkdtemp()
        env = {k: v for k, v in os.environ.items() if not k.startswith("FEDGATE_GIT_")}
        env["GIT_CEILING_DIRECTORIES"] = os.path.dirname(outside)
        given = subprocess.run(
            ["bash", script], cwd=outside, capture_output=True, text=True, check=True,
            env=dict(env, FEDGATE_GIT_REVISION="0123abc", FEDGATE_GIT_BRANCH="release-1")).stdout
        self.assertEqual(given, "STABLE_GIT_REVISION 0123abc\nSTABLE_GIT_BRANCH release-1\n")
        unknown = subprocess.run(["bash", script], cwd=outside, capture_output=True, text=True,
                                 check=True, env=env).stdout
        self.assertEqual(unknown, "STABLE_GIT_REVISION unknown\nSTABLE_GIT_BRANCH unknown\n")


def marked_blocks(doc, kind):
    """(name, text) of every code block after `<!-- kind: name -->`, as users copy it (the
    indentation of a block inside a list item taken off)."""
    out = []
    for m in re.finditer(r"^( *)<!-- " + kind + r": (\S+) -->\n *```\w*\n(.*?)^ *```", doc,
                         re.S | re.M):
        indent = len(m.group(1))
        out.append((m.group(2), "".join(line[indent:] for line in
                                        m.group(3).splitlines(keepends=True))))
    return out


def render_user_overlay(kustomization, config):
    """The objects of a user's overlay as the manual lays it out: `my-fedgate/` holding
    `kustomization` and `config` (its fedgate.yml), next to a checkout's `fedgate/deploy`."""
    work = scratch()
    shutil.copytree(path("deploy"), os.path.join(work, "fedgate", "deploy"))
    mine = os.path.join(work, "my-fedgate")
    os.makedirs(mine)
    for name, text in (("kustomization.yaml", kustomization), ("fedgate.yml", config)):
        with open(os.path.join(mine, name), "w", encoding="utf-8") as f:
            f.write(text)
    return render(mine)


def mounted_config_map(objects, deployment):
    """The data of the one ConfigMap the Deployment mounts."""
    (volume,) = deployment["spec"]["template"]["spec"]["volumes"]
    return one(objects, "ConfigMap", volume["configMap"]["name"])["data"]


class DocsTest(unittest.TestCase):
    def test_marked_blocks_are_the_files(self):
        blocks = marked_blocks(read("docs/deploying.md"), "file")
        self.assertGreaterEqual(len(blocks), 5)
        for rel, block in blocks:
            with self.subTest(file=rel):
                self.assertEqual(block, read(rel))

    def test_the_user_overlay_renders(self):
        (overlay,) = [b for n, b in marked_blocks(read("docs/deploying.md"), "example")
                      if n == "user-overlay"]
        config = read("deploy/base/fedgate.yml").replace("scrape_interval: 30s",
                                                        "scrape_interval: 15s")
        objects = render_user_overlay(overlay, config)
        deployment = one(objects, "Deployment", "fedgate")
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        self.assertEqual(container["image"], "registry.example.com/fedgate:0.2.0")
        data = mounted_config_map(objects, deployment)
        self.assertEqual(data["fedgate.yml"], config)
        self.assertEqual(data["web.yml"], read("deploy/base/web.yml"))

    def test_the_ha_overlay_renders(self):
        doc = read("docs/sharding.md")
        (overlay,) = [b for n, b in marked_blocks(doc, "example") if n == "ha-overlay"]
        (replica,) = [m.group(1) for m in re.finditer(
            r"^<!-- example: ha-replica .*?-->\n```yaml\n(.*?)^```", doc, re.S | re.M)]
        # The base configuration with the label of docs/sharding.md's block among its own.
        (label,) = yaml.safe_load(replica)["global"]["external_labels"].items()
        self.assertEqual(label, ("replica", "${POD_NAME}"))
        base = read("deploy/base/fedgate.yml")
        self.assertEqual(base.count("\n  external_labels:\n"), 1)
        config = base.replace("\n  external_labels:\n",
                              "\n  external_labels:\n    replica: ${POD_NAME}\n", 1)
        self.assertEqual(yaml.safe_load(config)["global"]["external_labels"],
                         {"federated_by": "fedgate", "replica": "${POD_NAME}"})
        objects = render_user_overlay(overlay, config)
        deployment = one(objects, "Deployment", "fedgate")
        self.assertEqual(deployment["spec"]["replicas"], 2)
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        self.assertIn("--enable-feature=expand-external-labels", container["args"])
        self.assertEqual(flag(container["args"], "config.file"), "/etc/fedgate/fedgate.yml")
        self.assertEqual(container["env"], [{"name": "POD_NAME", "valueFrom": {
            "fieldRef": {"fieldPath": "metadata.name"}}}])
        self.assertEqual(mounted_config_map(objects, deployment)["fedgate.yml"], config)

    def test_named_paths_exist(self):
        doc = read("docs/deploying.md")
        for rel in set(re.findall(r"\b((?:deploy|docs)/[\w./-]*\w)", doc)):
            with self.subTest(path=rel):
                self.assertTrue(os.path.exists(path(rel)), rel)


if __name__ == "__main__":
    unittest.main(verbosity=2)
