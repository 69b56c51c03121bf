# Sample log lines are kept verbatim, however long they are.
# ruff: noqa: E501
"""Generated benchmark data: manifests and logs. A fixed seed makes every run see the same data.

The search benchmark reads a real corpus instead (bench/realcorpus.py): a generated one shared one
small vocabulary across every document, which no real knowledge base does and which punished
every engine alike, so it measured nothing the real one does not.
"""

from __future__ import annotations

import random
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = 20261122

# --- manifests -------------------------------------------------------------------------------

_HTTPD_CONF = """\
    ServerRoot "/usr/local/apache2"
    Listen 8080
    DocumentRoot "/var/www/html"
    EnableSendfile {sendfile}
    EnableMMAP {mmap}
    <Directory "/var/www/html">
        AllowOverride None
        Require all granted
    </Directory>
"""
_PHP_INI = """\
    memory_limit = 256M
    upload_max_filesize = 64M
    post_max_size = 64M
    upload_tmp_dir = {tmp}
    opcache.enable = 1
    opcache.huge_code_pages = {huge}
"""
_NGINX_CONF = """\
    worker_processes auto;
    events {{ worker_connections 1024; }}
    http {{
        sendfile {sendfile};
        server {{
            listen 8080;
            root /usr/share/nginx/html;
            location / {{ try_files $uri $uri/ =404; }}
        }}
    }}
"""


def _deployment(r: random.Random, name: str, ns: str, claim: str, config: str) -> str:
    return f"""\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: {ns}
  labels: {{app: {name}, tier: web}}
spec:
  replicas: {r.randint(1, 5)}
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}, tier: web}}
    spec:
      securityContext:
        runAsNonRoot: {r.choice(("true", "false"))}
      containers:
        - name: web
          image: {r.choice(("nginx:1.27", "httpd:2.4", "php:8.3-fpm"))}
          ports:
            - containerPort: 8080
          env:
            - name: MODE
              value: production
            - name: WORKERS
              value: "{r.randint(1, 16)}"
          resources:
            requests: {{cpu: 100m, memory: 128Mi}}
            limits: {{cpu: 500m, memory: 256Mi}}
          volumeMounts:
            - name: data
              mountPath: /var/www/html
            - name: config
              mountPath: /etc/app
      volumes:
        - name: data
          persistentVolumeClaim:
            claimName: {claim}
        - name: config
          configMap:
            name: {config}
"""


def _service(name: str, ns: str) -> str:
    return f"""\
apiVersion: v1
kind: Service
metadata:
  name: {name}
  namespace: {ns}
spec:
  selector: {{app: {name}}}
  ports:
    - name: http
      port: 80
      targetPort: 8080
"""


def _configmap(r: random.Random, name: str, ns: str) -> str:
    kind = r.choice(("httpd.conf", "php.ini", "nginx.conf"))
    if kind == "httpd.conf":
        body = _HTTPD_CONF.format(sendfile=r.choice(("On", "Off")), mmap=r.choice(("On", "Off")))
    elif kind == "php.ini":
        body = _PHP_INI.format(tmp=r.choice(("/tmp", "/var/www/html/tmp")), huge=r.randint(0, 1))
    else:
        body = _NGINX_CONF.format(sendfile=r.choice(("on", "off")))
    return f"""\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}
  namespace: {ns}
data:
  {kind}: |
{body}"""


def _pvc(name: str, ns: str, volume: str) -> str:
    return f"""\
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: {name}
  namespace: {ns}
spec:
  accessModes: [ReadWriteMany]
  storageClassName: ""
  volumeName: {volume}
  resources:
    requests:
      storage: 5Gi
"""


def _pv(r: random.Random, name: str) -> str:
    options = r.choice(
        (
            "[nfsvers=4.1, rsize=1048576, wsize=1048576, hard, timeo=600, retrans=2, noresvport]",
            "[nfsvers=4.1, soft, timeo=30]",
            "[vers=3]",
        )
    )
    return f"""\
apiVersion: v1
kind: PersistentVolume
metadata:
  name: {name}
spec:
  capacity:
    storage: 5Gi
  accessModes: [ReadWriteMany]
  mountOptions: {options}
  nfs:
    server: fs-{r.randint(10000, 99999)}.efs.eu-west-1.amazonaws.com
    path: /
"""


def manifest(objects: int, *, seed: int = SEED) -> str:
    """A multi-document manifest of about `objects` objects, in groups of five."""
    r = random.Random(seed + objects)
    docs = []
    for group in range(max(1, objects // 5)):
        ns = f"team-{group % 17}"
        name = f"app-{group:04d}"
        docs += [
            _deployment(r, name, ns, f"{name}-data", f"{name}-config"),
            _service(name, ns),
            _configmap(r, f"{name}-config", ns),
            _pvc(f"{name}-data", ns, f"{name}-pv"),
            _pv(r, f"{name}-pv"),
        ]
    return "---\n".join(docs)


# --- logs ------------------------------------------------------------------------------------

_LOG_LINES = (
    '{ts} stdout F 10.244.{a}.{b} - - "GET /api/items/{n} HTTP/1.1" 200 {n}',
    "I1122 09:{m:02d}:{s:02d}.{n:06d}       1 reflector.go:{a}] Listing and watching *v1.Pod",
    "{ts} stderr F [{m:02d}-Nov-2026 09:14:03 UTC] NOTICE: fpm is running, pid {n}",
    "  Normal   Pulled     {m}m   kubelet  Container image already present on machine",
    "{ts} stdout F worker {a} processed job {n} in {b}ms",
    '{ts} stderr F level=info msg="reconciled" object=web-{n} duration={b}ms',
)
_LOG_ERRORS = (
    "{ts} stderr F /docker-entrypoint.d/20-envsubst-on-templates.sh: 26: envsubst: "
    "Argument list too long",
    "{ts} stderr F PHP Warning:  Zend OPcache huge_code_pages: mmap(HUGETLB) failed: "
    "Cannot allocate memory (12) in Unknown on line 0",
    '  Warning  FailedMount  {m}s  kubelet  MountVolume.SetUp failed for volume "share" : '
    "Stale file handle",
)


def log(size: int = 1_000_000, *, seed: int = SEED) -> str:
    """A noisy container log of about `size` bytes with a few real error lines in it."""
    r = random.Random(seed + size)
    out = []
    total = 0
    count = 0
    while total < size:
        count += 1
        fields = {
            "ts": f"2026-11-22T09:{r.randint(0, 59):02d}:{r.randint(0, 59):02d}.{r.randint(0, 999):03d}Z",
            "a": r.randint(0, 255),
            "b": r.randint(0, 999),
            "n": r.randint(0, 999999),
            "m": r.randint(0, 59),
            "s": r.randint(0, 59),
        }
        template = r.choice(_LOG_ERRORS) if count % 997 == 0 else r.choice(_LOG_LINES)
        line = template.format(**fields)
        out.append(line)
        total += len(line) + 1
    return "\n".join(out) + "\n"
