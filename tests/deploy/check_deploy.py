#!/usr/bin/python3
"""Checks deploy/ as far as it can be checked without a host to boot or a
cluster: the systemd unit with systemd-analyze verify, the Kubernetes
manifests parsed and checked for the fields each needs, and every policy
they carry through `sockfix check -`.

    check_deploy.py SOURCE_DIR SOCKFIX_BINARY
Exits 1 with one line per failure; 77 (skipped, for ctest) when python3-yaml
or systemd-analyze, which scripts/deps.sh installs, are missing."""
import os
import shutil
import subprocess
import sys
import tempfile

try:
    import yaml
except ImportError:
    print("skipped: python3-yaml is not installed (scripts/deps.sh installs it)")
    sys.exit(77)
if not shutil.which("systemd-analyze"):
    print("skipped: systemd-analyze is not installed (scripts/deps.sh installs systemd)")
    sys.exit(77)

source, sockfix = sys.argv[1], sys.argv[2]
failures = []


def expect(ok, what):
    if not ok:
        failures.append(what)


def check_policy(text, where):
    r = subprocess.run([sockfix, "check", "-"], input=text, capture_output=True, text=True)
    expect(r.returncode == 0, f"{where}: sockfix check: {r.returncode}: {r.stdout}{r.stderr}")


def check_unit():
    unit = os.path.join(source, "deploy/systemd/sockfix-attach.service")
    text = open(unit).read()
    for line in ("ExecStart=/usr/bin/sockfix attach -c /etc/sockfix/sockfix.ini --unit system.slice",
                 "ExecReload=/usr/bin/sockfix attach -c /etc/sockfix/sockfix.ini --unit system.slice",
                 "ExecStop=/usr/bin/sockfix detach --unit system.slice",
                 "Type=oneshot", "RemainAfterExit=yes", "DefaultDependencies=no",
                 "Before=sysinit.target shutdown.target", "WantedBy=sysinit.target"):
        expect(line in text.splitlines(), f"the unit lacks {line}")
    # systemd-analyze verify wants the commands to exist: the built one.
    with tempfile.TemporaryDirectory() as d:
        copy = os.path.join(d, "sockfix-attach.service")
        with open(copy, "w") as f:
            f.write(text.replace("/usr/bin/sockfix", sockfix))
        r = subprocess.run(["systemd-analyze", "verify", "--man=no", copy], capture_output=True, text=True)
        # Only what concerns this unit: the host's own units may have warnings.
        ours = [l for l in (r.stdout + r.stderr).splitlines() if "sockfix-attach" in l]
        expect(r.returncode == 0 and not ours,
               f"systemd-analyze verify: {r.returncode}: " + "\n".join(ours or [r.stderr]))


def by_kind(docs):
    out = {}
    for d in docs:
        out.setdefault(d["kind"], []).append(d)
    return out


def volume_names(spec):
    return {v["name"]: v for v in spec.get("volumes", [])}


def check_daemonset():
    path = os.path.join(source, "deploy/kubernetes/sockfix-attach.yaml")
    docs = by_kind([d for d in yaml.safe_load_all(open(path)) if d])
    ds = docs["DaemonSet"][0]
    cms = {c["metadata"]["name"]: c for c in docs["ConfigMap"]}
    ns = docs["Namespace"][0]["metadata"]["name"]
    expect(ds["apiVersion"] == "apps/v1", "DaemonSet: apiVersion apps/v1")
    expect(ds["metadata"]["namespace"] == ns, "DaemonSet: in the namespace the file makes")
    spec = ds["spec"]["template"]["spec"]
    expect(ds["spec"]["selector"]["matchLabels"].items()
           <= ds["spec"]["template"]["metadata"]["labels"].items(),
           "DaemonSet: the selector matches the template's labels")
    expect({"operator": "Exists"} in spec.get("tolerations", []),
           "DaemonSet: tolerates every taint (every node)")
    c = spec["containers"][0]
    expect(c.get("securityContext", {}).get("privileged") is True, "DaemonSet: privileged")
    script = " ".join(c.get("command", []) + c.get("args", []))
    expect("sockfix attach -c /etc/sockfix/sockfix.ini" in script,
           "DaemonSet: runs sockfix attach with the mounted policy")
    env = {e["name"]: e.get("value") for e in c.get("env", [])}
    expect(env.get("KUBEPODS_CGROUP") == "kubepods.slice", "DaemonSet: attaches to kubepods.slice")
    volumes = volume_names(spec)
    mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
    cg = mounts.get("/host/sys/fs/cgroup")
    expect(cg and volumes[cg["name"]].get("hostPath", {}).get("path") == "/sys/fs/cgroup",
           "DaemonSet: the host's cgroup hierarchy at /host/sys/fs/cgroup")
    bpf = mounts.get("/sys/fs/bpf")
    expect(bpf and volumes[bpf["name"]].get("hostPath", {}).get("path") == "/sys/fs/bpf"
           and bpf.get("mountPropagation") == "Bidirectional",
           "DaemonSet: the host's bpffs, Bidirectional (pins outlive the pod)")
    pol = mounts.get("/etc/sockfix")
    cm_name = pol and volumes[pol["name"]].get("configMap", {}).get("name")
    expect(cm_name in cms, "DaemonSet: the policy volume is the file's ConfigMap")
    if cm_name in cms:
        expect(cms[cm_name]["metadata"].get("namespace") == ns, "ConfigMap: in the namespace")
        check_policy(cms[cm_name]["data"]["sockfix.ini"], f"ConfigMap {cm_name}")


def check_init_container():
    path = os.path.join(source, "deploy/kubernetes/ld-preload-init-container.yaml")
    docs = by_kind([d for d in yaml.safe_load_all(open(path)) if d])
    dep = docs["Deployment"][0]
    cm = docs["ConfigMap"][0]
    spec = dep["spec"]["template"]["spec"]
    volumes = volume_names(spec)
    init = spec["initContainers"][0]
    app = spec["containers"][0]
    cmd = init["command"]
    expect(cmd[0] == "cp" and cmd[1].endswith("/sockfix/libsockfix.so"),
           "init container: copies libsockfix.so")
    dest_mount = {m["name"]: m["mountPath"] for m in init["volumeMounts"]}
    lib_volume = next((n for n, p in dest_mount.items() if cmd[-1].rstrip("/") == p), None)
    expect(lib_volume and "emptyDir" in volumes.get(lib_volume, {}),
           "init container: into an emptyDir")
    env = {e["name"]: e.get("value") for e in app.get("env", [])}
    app_mounts = {m["mountPath"]: m["name"] for m in app["volumeMounts"]}
    preload = env.get("LD_PRELOAD", "")
    expect(os.path.dirname(preload) in app_mounts
           and app_mounts[os.path.dirname(preload)] == lib_volume
           and preload.endswith("/libsockfix.so"),
           "app: LD_PRELOAD is the copy in the shared emptyDir")
    conf = env.get("SOCKFIX_CONFIG", "")
    conf_volume = app_mounts.get(os.path.dirname(conf))
    expect(conf_volume and volumes[conf_volume].get("configMap", {}).get("name")
           == cm["metadata"]["name"], "app: SOCKFIX_CONFIG is the ConfigMap's file")
    check_policy(cm["data"][os.path.basename(conf)], "init-container ConfigMap")


for check in (check_unit, check_daemonset, check_init_container):
    try:
        check()
    except (KeyError, IndexError, TypeError, StopIteration) as e:
        failures.append(f"{check.__name__}: a field is missing: {e!r}")
for f in failures:
    print(f)
sys.exit(1 if failures else 0)
