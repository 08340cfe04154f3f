"""Renders the Helm chart with Helm's own engine (helm-python-sdk) and checks
the manifests against the Kubernetes schemas (kubernetes-validate, strict),
for the default values and variations. Run by `make helm-check`."""

import copy
import sys

import helm_python
import kubernetes_validate
import yaml

KUBE = "1.30.0"
SERVICES = ["registry", "crediting", "supervision", "quality"]


def render(chart_dir, values):
    with helm_python.Chart.load(chart_dir) as chart:
        chart.validate_schema(values)
        out = chart.render(values=values, name="ce", namespace="ce", is_install=True)
    docs = []
    for path, text in sorted(out.items()):
        for doc in yaml.safe_load_all(text):
            if doc:
                docs.append((path, doc))
    return docs


def validate(docs, label):
    for path, doc in docs:
        try:
            kubernetes_validate.validate(doc, KUBE, strict=True)
        except kubernetes_validate.ValidationError as e:
            sys.exit(f"{label}: {path}: {doc['kind']} {doc['metadata']['name']}: {e.message} at {list(e.path)}")


def kinds(docs, kind):
    return [d for _, d in docs if d["kind"] == kind]


def expect(cond, message):
    if not cond:
        sys.exit("FAILED: " + message)


def main(chart_dir):
    report = helm_python.lint(chart_dir, strict=True, kube_version="v" + KUBE)
    errors = [m for m in report["messages"] if m["severity"] >= 2] + report["errors"]
    expect(not errors, f"helm lint: {errors}")

    with helm_python.Chart.load(chart_dir) as chart:
        defaults = chart.values
    variations = {
        "default": defaults,
        "tls": {**copy.deepcopy(defaults), "tls": {**defaults["tls"], "enabled": True, "mutual": True},
                "yearEnd": {**defaults["yearEnd"], "enabled": True}},
        "network-policies": {
            **copy.deepcopy(defaults),
            "networkPolicies": {**defaults["networkPolicies"], "enabled": True},
            "yearEnd": {**defaults["yearEnd"], "enabled": True},
            "telemetry": {**defaults["telemetry"], "otlpEndpoint": "http://otel-collector.observability:4317"},
            "rules": {"overlays": {"44-guangdong.toml": open("libs/rules/rulesets/provinces/44-guangdong.toml").read()}},
        },
        # Guangdong's own system (docs/deploying.md, "One country, many systems").
        "provincial": {**copy.deepcopy(defaults),
                       "deployment": {"scope": "provincial", "province": "44", "trustNational": True}},
    }
    for label, values in variations.items():
        docs = render(chart_dir, values)
        validate(docs, label)
        deployments = kinds(docs, "Deployment")
        expect(sorted(d["metadata"]["name"].split("-")[-1] for d in deployments) == sorted(SERVICES),
               f"{label}: one Deployment per service")
        for kind in ["Service", "ServiceAccount", "HorizontalPodAutoscaler", "PodDisruptionBudget"]:
            expect(len(kinds(docs, kind)) == 4, f"{label}: four {kind}s")
        jobs = kinds(docs, "Job")
        expect(len(jobs) == 4 and all("pre-install" in j["metadata"]["annotations"]["helm.sh/hook"] for j in jobs),
               f"{label}: a migration hook Job per service")
        for d in deployments + jobs:
            pod = d["spec"]["template"]["spec"]
            c = pod["containers"][0]
            sc = c["securityContext"]
            expect(pod["securityContext"]["runAsNonRoot"] and sc["readOnlyRootFilesystem"]
                   and sc["capabilities"]["drop"] == ["ALL"] and not sc["allowPrivilegeEscalation"],
                   f"{label}: {d['metadata']['name']}: non-root, read-only, no capabilities")
        for d in deployments:
            c = d["spec"]["template"]["spec"]["containers"][0]
            probe = c["readinessProbe"]
            if values["tls"]["enabled"]:
                expect("tcpSocket" in probe, f"{label}: TCP probes with TLS")
            else:
                expect(probe["grpc"]["port"] == c["ports"][0]["containerPort"], f"{label}: gRPC probes")
        # Each calling service signs with its own key, from its own Secret,
        # mounted into its pods only; the registry calls no one.
        for d in deployments:
            name = d["metadata"]["name"].split("-")[-1]
            secrets = [v["secret"]["secretName"] for v in d["spec"]["template"]["spec"]["volumes"] if "secret" in v]
            own = [s for s in secrets if s.endswith("-service-key")]
            want = [] if name == "registry" else [f"ce-{name}-service-key"]
            expect(own == want, f"{label}: {name} mounts its own service key only: {own}")
            items = [i["key"] for v in d["spec"]["template"]["spec"]["volumes"] if v["name"] == "service-key"
                     for i in v["secret"]["items"]]
            expect(("certificate-private.pem" in items) == (name == "crediting"),
                   f"{label}: only crediting holds the certificate key: {name} has {items}")
        configs = {d["metadata"]["name"]: d for d in kinds(docs, "ConfigMap")}
        trusted = {
            "registry": ["crediting", "quality", "supervision"],
            "crediting": ["quality", "supervision"],
            "supervision": ["crediting", "quality"],
            "quality": [],
        }
        # A provincial install that trusts the national deployment adds it
        # to crediting's and the registry's keys, and to no other service's.
        national = values["deployment"].get("trustNational", False)
        for name, callers in trusted.items():
            text = next(v for k, v in configs.items() if k.endswith(f"{name}-config"))["data"][f"{name}.toml"]
            table = text.split("[auth.trusted_services]")[1].split("[")[0]
            found = sorted(line.split("=")[0].strip() for line in table.splitlines() if "=" in line)
            callers = sorted(callers + (["national"] if national and name in ("crediting", "registry") else []))
            expect(found == callers, f"{label}: {name} trusts the keys of {found}, not {callers}")
            expect(("service_key_path" in text) == (name != "registry"), f"{label}: {name}'s own key")
        crediting = next(v for k, v in configs.items() if k.endswith("crediting-config"))
        toml = crediting["data"]["crediting.toml"]
        expect('registry = "' in toml and 'signing_key_path = "/etc/ce/service-key/certificate-private.pem"' in toml,
               f"{label}: crediting's peers and certificate key")
        if values["tls"]["enabled"]:
            expect("[server.tls]" in toml and "client_ca_path" in toml and "https://" in toml, f"{label}: TLS configured")
            expect("[peer_tls]" in toml and 'cert_path = "/etc/ce/tls/tls.crt"' in toml.split("[peer_tls]")[1],
                   f"{label}: crediting calls its peers over mutual TLS")
            registry_toml = next(v for k, v in configs.items() if k.endswith("registry-config"))["data"]["registry.toml"]
            expect("[peer_tls]" not in registry_toml, f"{label}: the registry calls no peers")
        # Every service of one installation has the same scope.
        scope = values["deployment"]
        for name in SERVICES:
            text = next(v for k, v in configs.items() if k.endswith(f"{name}-config"))["data"][f"{name}.toml"]
            section = text.split("[deployment]")[1].split("[")[0]
            expect(f'scope = "{scope["scope"]}"' in section and f'province = "{scope["province"]}"' in section,
                   f"{label}: {name}'s deployment scope: {section}")
        year_end = values["yearEnd"]["enabled"]
        cronjobs = kinds(docs, "CronJob")
        expect(len(cronjobs) == (2 if year_end else 0), f"{label}: year-end CronJobs")
        for cj in cronjobs:
            pod = cj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
            c = pod["containers"][0]
            expect(c["command"] == ["/usr/local/bin/cectl"] and c["args"][0] in ("sweep", "close-period")
                   and cj["spec"]["timeZone"] == "Asia/Shanghai", f"{label}: {cj['metadata']['name']} runs cectl")
            env = {e["name"]: e for e in c["env"]}
            expect(env["CE_TOKEN"]["valueFrom"]["secretKeyRef"]["key"] == "token", f"{label}: the job's token")
            scheme = "https://" if values["tls"]["enabled"] else "http://"
            expect(env["CE_CREDITING_ADDR"]["value"].startswith(scheme), f"{label}: the job reaches crediting")
            expect(("CE_CA_CERT" in env) == values["tls"]["enabled"], f"{label}: the job trusts the services' CA")
            sc = c["securityContext"]
            expect(pod["securityContext"]["runAsNonRoot"] and sc["readOnlyRootFilesystem"]
                   and sc["capabilities"]["drop"] == ["ALL"], f"{label}: the job is locked down")
        policies = kinds(docs, "NetworkPolicy")
        want = (4 + (1 if year_end else 0)) if values["networkPolicies"]["enabled"] else 0
        expect(len(policies) == want, f"{label}: NetworkPolicies")
        if policies:
            registry = next(p for p in policies if p["metadata"]["name"].endswith("registry"))
            callers = [f["podSelector"]["matchLabels"]["app.kubernetes.io/name"]
                       for f in registry["spec"]["ingress"][0]["from"] if "podSelector" in f]
            expect(sorted(callers) == ["crediting", "quality", "supervision"], f"{label}: registry's callers {callers}")
            crediting_policy = next(p for p in policies if p["metadata"]["name"].endswith("-crediting"))
            callers = [f["podSelector"]["matchLabels"]["app.kubernetes.io/name"]
                       for f in crediting_policy["spec"]["ingress"][0]["from"] if "podSelector" in f]
            expect(sorted(callers) == ["quality", "supervision", "year-end"], f"{label}: crediting's callers {callers}")
            supervision_policy = next(p for p in policies if p["metadata"]["name"].endswith("-supervision"))
            callers = [f["podSelector"]["matchLabels"]["app.kubernetes.io/name"]
                       for f in supervision_policy["spec"]["ingress"][0]["from"] if "podSelector" in f]
            expect(sorted(callers) == ["crediting", "quality"], f"{label}: supervision's callers {callers}")
            expect("otlp_endpoint" in toml, f"{label}: OTLP endpoint")
            rules = next(v for k, v in configs.items() if k.endswith("-rules"))
            expect("44-guangdong.toml" in rules["data"], f"{label}: rule overlays mounted")
        print(f"{label}: {len(docs)} manifests valid against Kubernetes {KUBE}")

    # The schema refuses nonsense values, naming the key.
    bad = {**copy.deepcopy(defaults), "environment": "staging"}
    with helm_python.Chart.load(chart_dir) as chart:
        try:
            chart.validate_schema(bad)
        except helm_python.HelmError as e:
            expect("environment" in str(e), f"schema error names the key: {e}")
        else:
            sys.exit("FAILED: values.schema.json accepted environment = staging")
    # A deployment's scope and province go together.
    for scope, province in [("provincial", ""), ("provincial", "4"), ("national", "44"), ("regional", "")]:
        bad = {**copy.deepcopy(defaults), "deployment": {"scope": scope, "province": province}}
        with helm_python.Chart.load(chart_dir) as chart:
            try:
                chart.validate_schema(bad)
            except helm_python.HelmError as e:
                expect("deployment" in str(e), f"schema error names the key: {e}")
            else:
                sys.exit(f"FAILED: values.schema.json accepted deployment {scope}/{province!r}")
    print("values.schema.json refuses bad values")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "helm/ce-suite")
