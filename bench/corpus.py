# Sample log lines are kept verbatim, however long they are.
# ruff: noqa: E501
"""Generated benchmark data: articles (ja/zh/en), queries, manifests and logs.

Everything is built from the word lists below and, for extra variety, sentences taken from the
project's own `articles/*.md`. A fixed seed makes every run see the same data.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = 20261122

EN_NOUNS = [
    "pod",
    "node",
    "volume",
    "container",
    "image",
    "kubelet",
    "scheduler",
    "service",
    "endpoint",
    "ingress",
    "gateway",
    "secret",
    "configmap",
    "deployment",
    "replicaset",
    "daemonset",
    "statefulset",
    "cronjob",
    "namespace",
    "quota",
    "limit",
    "request",
    "probe",
    "sidecar",
    "init-container",
    "mount",
    "share",
    "filesystem",
    "socket",
    "port",
    "cgroup",
    "hugepage",
    "cache",
    "worker",
    "process",
    "thread",
    "heap",
    "buffer",
    "manifest",
    "chart",
    "release",
    "registry",
    "proxy",
    "certificate",
    "token",
    "account",
    "cluster",
    "region",
    "zone",
    "disk",
    "snapshot",
    "backup",
    "upload",
    "session",
    "cookie",
    "header",
    "payload",
    "queue",
    "broker",
]
EN_VERBS = [
    "fails",
    "restarts",
    "crashes",
    "hangs",
    "times",
    "out",
    "leaks",
    "grows",
    "shrinks",
    "blocks",
    "retries",
    "drops",
    "rejects",
    "evicts",
    "throttles",
    "mounts",
    "unmounts",
    "rotates",
    "reloads",
    "caches",
    "truncates",
    "corrupts",
    "schedules",
    "binds",
]
EN_ADJ = [
    "stale",
    "slow",
    "broken",
    "missing",
    "duplicate",
    "orphaned",
    "pending",
    "read-only",
    "shared",
    "remote",
    "local",
    "transient",
    "intermittent",
    "silent",
    "noisy",
    "large",
    "tiny",
    "default",
    "custom",
    "immutable",
]
TECH = [
    "nginx",
    "httpd",
    "php-fpm",
    "opcache",
    "envsubst",
    "efs",
    "nfs",
    "smb",
    "cifs",
    "azure",
    "aks",
    "eks",
    "gke",
    "kubectl",
    "helm",
    "containerd",
    "docker",
    "runc",
    "systemd",
    "journald",
    "coredns",
    "iptables",
    "ipvs",
    "calico",
    "cilium",
    "flannel",
    "prometheus",
    "grafana",
    "fluentd",
    "redis",
    "mysql",
    "postgres",
    "kafka",
    "rabbitmq",
    "memcached",
]
ERRORS = (
    "mmap(HUGETLB) failed: Cannot allocate memory (12)",
    "envsubst: Argument list too long",
    "exec user process caused: argument list too long",
    "Stale file handle",
    "Bus error (core dumped)",
    "0/3 nodes are available: 3 Insufficient hugepages-2Mi.",
    "requires volume data which is of an unsupported type",
    "container has runAsNonRoot and image will run as root",
    "Back-off restarting failed container",
    "MountVolume.SetUp failed for volume",
    "connection refused",
    "no space left on device",
    "permission denied",
    "OOMKilled",
    "context deadline exceeded",
    "too many open files",
    "upload_tmp_dir is not writable",
    "AH00052: child pid 42 exit signal Bus error (7)",
    "x509: certificate signed by unknown authority",
    "ImagePullBackOff",
    "FailedScheduling",
    "CrashLoopBackOff",
    "failed to create pod sandbox",
    "readiness probe failed: HTTP probe failed with statuscode: 503",
)
JA_NOUNS = [
    "ポッド",
    "ノード",
    "ボリューム",
    "コンテナ",
    "イメージ",
    "設定ファイル",
    "環境変数",
    "共有ストレージ",
    "ファイル共有",
    "メモリ",
    "ヒュージページ",
    "仮想ノード",
    "永続ボリューム",
    "証明書",
    "名前空間",
    "ログ",
    "再起動",
    "スケジューラ",
    "ロードバランサー",
    "送信元アドレス",
    "負荷分散",
    "アップロード",
    "一時ディレクトリ",
    "権限",
    "所有者",
    "ネットワーク",
    "帯域",
    "キャッシュ",
    "プロセス",
    "ワーカー",
    "応答",
    "接続",
    "更新",
    "反映",
    "監視",
    "警告",
]
JA_PHRASES = (
    "が起動しない",
    "が反映されない",
    "を確保できません",
    "が長すぎます",
    "がマウントできない",
    "に失敗しました",
    "が見つかりません",
    "が応答しない",
    "が遅くなる",
    "が突然落ちる",
    "を再起動すると直る",
    "の設定を見直す",
    "を確認してください",
    "が保留中のままになる",
    "でエラーが発生する",
)
JA_GLUE = ("場合、", "ため、", "ので、", "とき、", "ところ、", "結果、")
ZH_NOUNS = [
    "容器",
    "节点",
    "存储卷",
    "镜像",
    "配置文件",
    "环境变量",
    "共享存储",
    "文件共享",
    "内存",
    "巨页",
    "虚拟节点",
    "持久卷",
    "证书",
    "命名空间",
    "日志",
    "重启",
    "调度器",
    "负载均衡",
    "源地址",
    "上传",
    "临时目录",
    "权限",
    "网络",
    "带宽",
    "缓存",
    "进程",
    "响应",
    "连接",
    "更新",
    "监控",
    "告警",
    "集群",
    "副本",
    "服务",
    "入口",
]
ZH_PHRASES = (
    "无法启动",
    "不生效",
    "无法分配内存",
    "参数列表过长",
    "挂载失败",
    "找不到文件",
    "没有响应",
    "变得很慢",
    "突然崩溃",
    "重启后恢复",
    "需要检查配置",
    "一直处于等待状态",
    "出现错误",
    "被拒绝",
)
ZH_GLUE = ("时，", "后，", "因此，", "但是", "如果", "所以")

_MD_NOISE = re.compile(r"^(?:---|```|~~~|\s*[-*|>#]|\s*\w+:\s|\s*$)")


def article_sentences() -> list[str]:
    """Prose lines from the project's own articles (front matter, code and lists left out)."""
    sentences: list[str] = []
    for path in sorted((ROOT / "articles").glob("*.md")):
        text = path.read_text(encoding="utf-8")
        body = text.split("\n---\n", 1)[-1]
        in_fence = False
        for line in body.split("\n"):
            if line.startswith(("```", "~~~")):
                in_fence = not in_fence
                continue
            if in_fence or _MD_NOISE.match(line) or len(line) < 40:
                continue
            sentences.extend(s.strip() for s in re.split(r"(?<=[.!?])\s+", line) if len(s) > 30)
    return sentences


class Generator:
    """Deterministic text generator; one instance per corpus.

    Each article has a topic (two error strings, three technologies, a few nouns) that most of
    its sentences use, like a real article about one problem; the rest is general prose.
    """

    def __init__(self, seed: int = SEED) -> None:
        self.rng = random.Random(seed)
        self.sentences = article_sentences()
        self.topic(0)

    def topic(self, number: int) -> None:
        r = self.rng
        self.errors = r.sample(ERRORS, 2)
        self.tech = r.sample(TECH, 3)
        self.nouns = r.sample(EN_NOUNS, 6)
        self.ja_nouns = r.sample(JA_NOUNS, 6)
        self.zh_nouns = r.sample(ZH_NOUNS, 6)

    def _pick(self, focused: list[str], everything: tuple[str, ...] | list[str]) -> str:
        return self.rng.choice(focused if self.rng.random() < 0.7 else everything)

    def en_sentence(self) -> str:
        r = self.rng
        if self.sentences and r.random() < 0.3:
            return r.choice(self.sentences)
        words = [
            "The",
            r.choice(EN_ADJ),
            self._pick(self.tech, TECH),
            self._pick(self.nouns, EN_NOUNS),
            r.choice(EN_VERBS),
            "when the",
            self._pick(self.nouns, EN_NOUNS),
            r.choice(("is", "gets", "stays", "becomes")),
            r.choice(EN_ADJ),
        ]
        if r.random() < 0.2:
            words += ["and logs", f'"{r.choice(self.errors)}"']
        if r.random() < 0.5:
            words += ["after", str(r.randint(2, 500)), r.choice(("seconds", "minutes", "requests"))]
        return " ".join(words) + "."

    def ja_sentence(self) -> str:
        r = self.rng
        nouns = self.ja_nouns
        parts = [self._pick(nouns, JA_NOUNS), r.choice(("の", "と", "で")), r.choice(JA_NOUNS)]
        parts += [r.choice(JA_PHRASES), r.choice(JA_GLUE), self._pick(self.tech, TECH), "の"]
        parts += [self._pick(nouns, JA_NOUNS), r.choice(JA_PHRASES)]
        if r.random() < 0.15:
            parts += ["（", r.choice(self.errors), "）"]
        return "".join(parts) + "。"

    def zh_sentence(self) -> str:
        r = self.rng
        nouns = self.zh_nouns
        parts = [r.choice(ZH_GLUE), self._pick(nouns, ZH_NOUNS), r.choice(ZH_PHRASES), "，"]
        parts += [self._pick(self.tech, TECH), "的", self._pick(nouns, ZH_NOUNS)]
        parts += [r.choice(ZH_PHRASES)]
        if r.random() < 0.15:
            parts += ["（", r.choice(self.errors), "）"]
        return "".join(parts) + "。"

    def sentence(self, lang: str) -> str:
        return {"en": self.en_sentence, "ja": self.ja_sentence, "zh": self.zh_sentence}[lang]()

    def title(self, lang: str) -> str:
        r = self.rng
        tech = self.tech[0]
        if lang == "ja":
            return f"{tech} の{self.ja_nouns[0]}{r.choice(JA_PHRASES)}"
        if lang == "zh":
            return f"{tech} {self.zh_nouns[0]}{r.choice(ZH_PHRASES)}"
        return f"{tech} {self.nouns[0]} {r.choice(EN_VERBS)}: {self.errors[0]}"

    def article(self, number: int) -> tuple[str, str]:
        """(file name, Markdown text with front matter) of about 2 KB."""
        r = self.rng
        self.topic(number)
        lang = r.choices(("en", "ja", "zh"), weights=(4, 3, 3))[0]
        title = self.title(lang).replace('"', "'")
        slug = f"bench-{number:05d}"
        tags = self.tech
        symptoms = self.errors
        lines = [
            "---",
            f'title: "{title}"',
            f"slug: {slug}",
            f"lang: {lang}",
            f"tags: [{', '.join(tags)}]",
            "symptoms:",
            *(f'  - "{s}"' for s in symptoms),
            "---",
            "",
            f"# {title}",
            "",
        ]
        heads = {
            "en": ("Symptoms", "Cause", "Fix", "Check", "Background"),
            "ja": ("症状", "原因", "対処", "確認方法", "背景"),
            "zh": ("症状", "原因", "解决方法", "检查", "背景"),
        }[lang]
        for head in r.sample(heads, r.randint(3, 5)):
            lines += [f"## {head}", ""]
            for _ in range(r.randint(1, 3)):
                lines += [" ".join(self.sentence(lang) for _ in range(r.randint(2, 4))), ""]
            if r.random() < 0.25:
                lines += ["```", f"kubectl logs {self.nouns[1]}-0", self.errors[0], "```", ""]
        return f"{slug}.md", "\n".join(lines)


def write_corpus(folder: Path, count: int, *, seed: int = SEED) -> int:
    """Write `count` generated articles into `folder`; returns the total size in bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    generator = Generator(seed)
    total = 0
    for number in range(count):
        name, text = generator.article(number)
        data = text.encode("utf-8")
        (folder / name).write_bytes(data)
        total += len(data)
    return total


# --- queries --------------------------------------------------------------------------------

_NOISY_LOG = """\
2026-11-22T09:14:03.123Z stdout F 10.244.1.7 - - "GET /healthz HTTP/1.1" 200 2
I1122 09:14:03.239157       1 reflector.go:302] Listing and watching *v1.Pod
2026-11-22T09:14:04.000Z stderr F /docker-entrypoint.d/20-envsubst-on-templates.sh: 26: envsubst: Argument list too long
2026-11-22T09:14:04.001Z stderr F nginx: [emerg] could not build server_names_hash
  Warning  BackOff    11s (x14 over 98s)  kubelet  Back-off restarting failed container web in pod web-7d55d7679b-ftb5n
"""
_NOISY_PHP = """\
[22-Nov-2026 09:14:03 UTC] PHP Warning:  Zend OPcache huge_code_pages: mmap(HUGETLB) failed: Cannot allocate memory (12) in Unknown on line 0
[22-Nov-2026 09:14:03 UTC] NOTICE: fpm is running, pid 1
[22-Nov-2026 09:14:04 UTC] WARNING: [pool www] child 123 exited on signal 7 (SIGBUS) after 12.3 seconds from start
May 10 15:16:20 node-3 kernel: [32495.562824] php-fpm[123]: Bus error (core dumped)
"""
_NOISY_DESCRIBE = """\
Events:
  Type     Reason            Age   From               Message
  ----     ------            ----  ----               -------
  Normal   Scheduled         2m    default-scheduler  Successfully assigned default/web-6f4d8b7c9d-x2x9q to virtual-node-aci-linux
  Warning  ProviderFailed    2m    virtual-kubelet    pod web-6f4d8b7c9d-x2x9q requires volume data which is of an unsupported type
  Warning  FailedMount       90s   kubelet            MountVolume.SetUp failed for volume "share" : mount failed: exit status 32 Stale file handle
"""

QUERIES: tuple[tuple[str, str], ...] = (
    ("error", "mmap(HUGETLB) failed: Cannot allocate memory (12)"),
    ("error", "envsubst: Argument list too long"),
    ("error", "Stale file handle"),
    ("error", "Bus error (core dumped)"),
    ("error", "0/3 nodes are available: 3 Insufficient hugepages-2Mi."),
    ("error", "container has runAsNonRoot and image will run as root"),
    ("error", "x509: certificate signed by unknown authority"),
    ("error", "readiness probe failed: HTTP probe failed with statuscode: 503"),
    ("error", "CrashLoopBackOff"),
    ("error", "nginx sendfile"),
    ("ja", "メモリを確保できません"),
    ("ja", "引数リストが長すぎます"),
    ("ja", "仮想ノード ボリューム"),
    ("ja", "設定ファイルが反映されない"),
    ("ja", "共有ストレージがマウントできない"),
    ("ja", "ヒュージページ"),
    ("zh", "无法分配内存"),
    ("zh", "参数列表过长"),
    ("zh", "配置文件不生效"),
    ("zh", "总线错误"),
    ("zh", "虚拟节点 存储卷 挂载失败"),
    ("zh", "巨页"),
    ("log", _NOISY_LOG),
    ("log", _NOISY_PHP),
    ("log", _NOISY_DESCRIBE),
)


def fts5_match(prepared: str) -> str | None:
    """An FTS5 trigram MATCH expression for prepared query text: OR of its words of 3+ chars."""
    terms = []
    for word in re.findall(r"[^\W_]+", prepared):
        if len(word) >= 3 and word not in terms:
            terms.append(word)
    if not terms:
        return None
    return " OR ".join('"' + term.replace('"', '""') + '"' for term in terms[:40])


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
