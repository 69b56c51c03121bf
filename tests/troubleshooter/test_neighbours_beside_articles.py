# ruff: noqa: E501  (real log lines are kept whole: their length is part of the test data)
"""The second set of neighbours, seen from the articles they sit beside.

Each pair below says the same kind of thing twice: once with our article's mechanism, once
with the neighbour's (a sidecar instead of kube-proxy, an SQLite lock instead of sendfile,
a missing lock service instead of a hung mount). The first must still name the article, the
second must be refused with the neighbour's advice. Pasted logs whose only story is a
neighbour's are refused with its advice; a log where one line is an article's own message
keeps the article. None of these texts is one of the neighbours' listed reports.
"""

import html
from pathlib import Path

import pytest

from troubleshooter.diagnosis import diagnose, load_articles_dir, load_tree

ROOT = Path(__file__).resolve().parents[2]
KNOWLEDGE = load_articles_dir(ROOT / "articles")
TREE = load_tree()

PAIRS = [
    pytest.param(
        "the app logs the node IP instead of the real client address behind the LoadBalancer",
        "client-source-ip-external-traffic-policy",
        "since the envoy sidecar was injected our php app sees 127.0.0.6 instead of the client ip",
        "mesh-sidecar-hides-client-address",
        id="client-address-en",
    ),
    pytest.param(
        "the static files nginx serves from our NFS volume arrive cut short in the browser",
        "httpd-network-docroot-sendfile-mmap",
        "Grafana keeps its sqlite file on our NFS volume and now complains that the database is locked",
        "sqlite-on-network-share",
        id="files-on-a-share-en",
    ),
    pytest.param(
        "Azure Files に置いた静的ファイルを nginx が返すと途中で切れる",
        "httpd-network-docroot-sendfile-mmap",
        "Azure Files に置いた Grafana の SQLite が database is locked になる",
        "sqlite-on-network-share",
        id="files-on-a-share-ja",
    ),
    pytest.param(
        "放在 Azure Files 上的静态文件经 nginx 返回时被截断",
        "httpd-network-docroot-sendfile-mmap",
        "放在 Azure Files 上的 Grafana 的 SQLite 报 database is locked",
        "sqlite-on-network-share",
        id="files-on-a-share-zh",
    ),
    pytest.param(
        "the NFS volume hangs and every process touching it is stuck in D state",
        "nfs-efs-mount-options",
        "file locking on the NFS v3 volume does not work, statd is missing on the node",
        "nfs-locking-unavailable",
        id="nfs-en",
    ),
    pytest.param(
        "2024/05/02 10:11:12 [emerg] 1#1: bind() to 0.0.0.0:80 failed (13: Permission denied)",
        "run-as-non-root",
        "2024/05/02 10:11:12 [emerg] 1#1: bind() to 0.0.0.0:80 failed (98: Address already in use)",
        "port-already-in-use",
        id="bind-en",
    ),
    pytest.param(
        "nginx restarts in a loop with envsubst: Argument list too long since the namespace grew to 600 services",
        "nginx-envsubst-argument-list-too-long",
        "exec /usr/local/bin/python: argument list too long -- our pod passes one variable holding a 300 KB json document",
        "one-value-over-string-limit",
        id="one-value-en",
    ),
    pytest.param(
        "pods freeze on the NFS PersistentVolume and dmesg shows that the server is not responding, still trying",
        "nfs-efs-mount-options",
        "after our nfs server pod restarted on a new emptyDir, every app pod gets Stale file handle on the mounted volume",
        "nfs-server-lost-file-handles",
        id="nfs-server-identity-en",
    ),
    # A reader on another node that opens a file before its writer finished: refused, though
    # with no one neighbour confident enough to give its advice (None).
    pytest.param(
        "apache serves a half old javascript bundle from the NFS document root right after a deploy",
        "httpd-network-docroot-sendfile-mmap",
        "our importer pod on node B opens the CSV that the exporter on node A is still writing to the NFS share and gets only part of it",
        None,
        id="shared-file-en",
    ),
    pytest.param(
        "Azure Files に置いた静的ファイルを nginx が返すと途中で切れる",
        "httpd-network-docroot-sendfile-mmap",
        "node B 上の取り込み用 Pod が、node A のエクスポーターがまだ NFS 共有に書いている CSV を開いてしまい、一部しか読めない",
        None,
        id="shared-file-ja",
    ),
    # The fourth set (NFS version, EFS mount target, nginx conf.d, nginx configuration).
    pytest.param(
        "pods freeze on the NFS PersistentVolume and dmesg shows that the server is not responding, still trying",
        "nfs-efs-mount-options",
        "the NFS PersistentVolume never mounts: mount.nfs: requested NFS version or transport protocol is not supported",
        "nfs-version-not-supported",
        id="nfs-version-en",
    ),
    pytest.param(
        "pods freeze on the EFS volume and every process touching it hangs in D state",
        "nfs-efs-mount-options",
        "the efs csi mount fails at once: Failed to resolve the file system name, ensure that the VPC has an EFS mount target",
        "efs-mount-target-unreachable",
        id="efs-target-en",
    ),
    pytest.param(
        "20-envsubst-on-templates.sh fails with Argument list too long in a namespace with hundreds of services",
        "nginx-envsubst-argument-list-too-long",
        "20-envsubst-on-templates.sh prints that /etc/nginx/conf.d is not writable because a read-only configmap is mounted there",
        "nginx-conf-dir-not-writable",
        id="conf-dir-en",
    ),
    pytest.param(
        "nginx restarts in a loop with envsubst: Argument list too long since the namespace grew to 600 services",
        "nginx-envsubst-argument-list-too-long",
        "nginx restarts in a loop since we mounted a server block from a configmap over nginx.conf: server directive is not allowed here",
        "nginx-config-rejected",
        id="nginx-conf-en",
    ),
    # The fifth set (limits and forwarders beside the upload, client-address, mount and E2BIG
    # articles).
    pytest.param(
        "the WordPress upload fails in the pod because PHP cannot write its temporary file, $_FILES error 6",
        "php-upload-tmp-dir",
        "the WordPress upload in the pod fails for big files because Apache answers 413, LimitRequestBody is lower than the file",
        "nginx-body-size-limit",
        id="upload-body-limit-en",
    ),
    pytest.param(
        "the WordPress upload fails in the pod because PHP cannot write its temporary file, $_FILES error 6",
        "php-upload-tmp-dir",
        "our Laravel form in the pod turns down an 8 MB PDF because the image's php.ini keeps upload_max_filesize at 2M",
        "php-upload-size-limit",
        id="upload-php-limit-en",
    ),
    pytest.param(
        "after a node reboot the pod started before the NAS was mounted and saw an empty directory",
        "nas-hostpath-mount-race",
        "the NFS home directories that autofs mounts on the host give Too many levels of symbolic links inside the container",
        "automount-in-container",
        id="automount-en",
    ),
    pytest.param(
        "nginx restarts in a loop with envsubst: Argument list too long since the namespace grew to 600 services",
        "nginx-envsubst-argument-list-too-long",
        "the GitHub Actions runner fails to start the release step once the changelog passed as its input grew to hundreds of kilobytes",
        "program-spawn-too-long",
        id="ci-runner-en",
    ),
    pytest.param(
        "after a node reboot the pod started before the NAS was mounted and saw an empty directory",
        "nas-hostpath-mount-race",
        "the database pod moved to another node after a drain and the hostPath directory there had none of its files",
        "hostpath-is-per-node",
        id="hostpath-per-node-en",
    ),
    pytest.param(
        "the WordPress upload fails in the pod because PHP cannot write its temporary file, $_FILES error 6",
        "php-upload-tmp-dir",
        "the node's disk is full and every write in our pods fails with No space left on device, df -i shows all inodes used",
        "filesystem-full",
        id="disk-full-en",
    ),
]

# An article's own near miss that a neighbour now explains: refused with that neighbour's
# advice rather than with no advice at all.
NEAR_MISSES = [
    pytest.param(
        "nfs-efs-mount-options",
        "mount.nfs: rpc.statd is not running but is required for remote locking.",
        "nfs-locking-unavailable",
        id="statd",
    ),
    pytest.param(
        "php-opcache-hugepages",
        "WARNING you have Transparent Huge Pages (THP) support enabled in your kernel. This will create latency and memory usage issues with Redis.",
        "redis-host-kernel-warnings",
        id="redis-thp",
    ),
    pytest.param(
        "aks-virtual-node-azure-files-pvc",
        'Multi-Attach error for volume "pvc-0a1b2c3d" Volume is already exclusively attached to one node and can\'t be attached to another',
        "volume-multi-attach",
        id="multi-attach",
    ),
    pytest.param(
        "aks-virtual-node-azure-files-pvc",
        "0/3 nodes are available: 3 node(s) had volume node affinity conflict.",
        "volume-zone-conflict",
        id="zone",
    ),
    pytest.param(
        "nas-hostpath-mount-race",
        "mount: /mnt/nas: bad option; for several filesystems (e.g. nfs, cifs) you might need a /sbin/mount.<type> helper program.",
        "mount-helper-missing",
        id="mount-helper",
    ),
    pytest.param(
        "configmap-subpath-no-update",
        'Error: configmap "app-config" not found',
        "configmap-or-secret-missing",
        id="configmap-missing",
    ),
    pytest.param(
        "configmap-subpath-no-update",
        'Error from server (NotFound): configmaps "app-config" not found',
        "configmap-or-secret-missing",
        id="configmap-missing-kubectl",
    ),
    pytest.param(
        "nginx-envsubst-argument-list-too-long",
        'nginx: [emerg] unknown "backend_host" variable',
        "nginx-template-variable-missing",
        id="template-variable",
    ),
    pytest.param(
        "kubelet-max-pods",
        'Error creating: pods "web-7d4b9c" is forbidden: exceeded quota: pod-quota, requested: pods=1, used: pods=10, limited: pods=10',
        "resource-quota-exceeded",
        id="pod-quota",
    ),
    pytest.param(
        "run-as-non-root",
        'Error from server (Forbidden): pods "web" is forbidden: exceeded quota: compute-resources, requested: limits.cpu=2, used: limits.cpu=3, limited: limits.cpu=4',
        "resource-quota-exceeded",
        id="cpu-quota",
    ),
    pytest.param(
        "run-as-non-root",
        'Error from server (Forbidden): pods is forbidden: User "system:serviceaccount:default:default" cannot list resource "pods" in API group "" in the namespace "default"',
        "rbac-forbidden",
        id="rbac",
    ),
    pytest.param(
        "run-as-non-root",
        "nginx: [emerg] bind() to 0.0.0.0:80 failed (98: Address already in use)",
        "port-already-in-use",
        id="port-in-use",
    ),
    # The fourth set (NFS version, EFS mount target, nginx conf.d, nginx configuration).
    pytest.param(
        "client-source-ip-external-traffic-policy",
        'nginx: [emerg] unknown directive "set_real_ip_from" in /etc/nginx/conf.d/default.conf:3',
        "nginx-config-rejected",
        id="realip-missing",
    ),
    # The fifth set.
    pytest.param(
        "php-upload-tmp-dir",
        "413 Request Entity Too Large",
        "nginx-body-size-limit",
        id="request-entity-too-large",
    ),
]

NEIGHBOUR_LOGS = [
    pytest.param(
        """1:C 02 May 2024 10:11:12.000 # oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo
1:M 02 May 2024 10:11:12.003 * Running mode=standalone, port=6379.
1:M 02 May 2024 10:11:12.003 # WARNING: The TCP backlog setting of 511 cannot be enforced because /proc/sys/net/core/somaxconn is set to the lower value of 128.
1:M 02 May 2024 10:11:12.003 # Server initialized
1:M 02 May 2024 10:11:12.003 # WARNING Memory overcommit must be enabled! Without it, a background save or replication may fail under low memory condition. To fix this issue add 'vm.overcommit_memory = 1' to /etc/sysctl.conf and then reboot or run the command 'sysctl vm.overcommit_memory=1' for this to take effect.
1:M 02 May 2024 10:11:12.004 * Ready to accept connections tcp""",
        "redis-host-kernel-warnings",
        id="redis-start",
    ),
    pytest.param(
        """Events:
  Type     Reason     Age                From     Message
  ----     ------     ----               ----     -------
  Normal   Started    4m                 kubelet  Started container api
  Warning  Unhealthy  3m (x3 over 3m)    kubelet  Liveness probe failed: Get "http://10.244.2.17:8080/actuator/health": context deadline exceeded (Client.Timeout exceeded while awaiting headers)
  Normal   Killing    3m                 kubelet  Container api failed liveness probe, will be restarted
  Warning  BackOff    1m                 kubelet  Back-off restarting failed container api in pod api-5c8d7f9b4-k2l9m_shop""",
        "liveness-probe-restarts",
        id="liveness-events",
    ),
    pytest.param(
        """Traceback (most recent call last):
  File "/usr/local/lib/python3.12/site-packages/django/db/backends/sqlite3/base.py", line 329, in execute
    return super().execute(query, params)
django.db.utils.OperationalError: database is locked""",
        "sqlite-on-network-share",
        id="django-sqlite",
    ),
    pytest.param(
        """Status:           Failed
Reason:           Evicted
Message:          Pod ephemeral local storage usage exceeds the total limit of containers 2Gi.""",
        "ephemeral-storage-eviction",
        id="eviction",
    ),
    pytest.param(
        """Warning  FailedMount  12s  kubelet  MountVolume.MountDevice failed for volume "pvc-9f8e" : rpc error: code = Internal desc = volume attachment is being deleted
Warning  FailedAttachVolume  40s  attachdetach-controller  Multi-Attach error for volume "pvc-9f8e7d6c" Volume is already used by pod(s) db-0""",
        "volume-multi-attach",
        id="multi-attach-events",
    ),
    pytest.param(
        """2024-01-01 00:00:00.000 UTC [1] FATAL:  data directory "/var/lib/postgresql/data" has invalid permissions
2024-01-01 00:00:00.000 UTC [1] DETAIL:  Permissions should be u=rwx (0700) or u=rwx,g=rx (0750).""",
        "cifs-fixed-ownership-and-mode",
        id="postgres-on-smb",
    ),
    pytest.param(
        '2023/01/01 00:00:00 [emerg] 1#1: open() "/var/run/nginx.pid" failed (30: Read-only file system)\nnginx: [emerg] open() "/var/run/nginx.pid" failed (30: Read-only file system)',
        "read-only-root-filesystem",
        id="nginx-pid-read-only",
    ),
    pytest.param(
        """Warning  FailedMount  kubelet  MountVolume.SetUp failed for volume "nfs-data" : mount failed: exit status 32
Mounting command: mount
Mounting arguments: -t nfs 10.0.1.25:/exports/data /var/lib/kubelet/pods/1b2c/volumes/kubernetes.io~nfs/nfs-data
Output: mount: /var/lib/kubelet/pods/1b2c/volumes/kubernetes.io~nfs/nfs-data: bad option; for several filesystems (e.g. nfs, cifs) you might need a /sbin/mount.<type> helper program.""",
        "mount-helper-missing",
        id="nfs-without-client-tools",
    ),
    pytest.param(
        'W1202 10:11:12.123456       7 controller.go:1044] Service "shop/web" does not have any active Endpoint.',
        "service-without-endpoints",
        id="ingress-without-endpoints",
    ),
    pytest.param(
        'Warning  FailedCreate  replicaset-controller  Error creating: pods "web-7d4b9c-abcde" is forbidden: failed quota: compute-resources: must specify limits.cpu for: web; limits.memory for: web; requests.cpu for: web; requests.memory for: web',
        "resource-quota-exceeded",
        id="quota-wants-limits",
    ),
    pytest.param(
        """[ 8812.123456] NFS: server nfs-server.storage.svc.cluster.local error: fileid changed
               fsid 0:52: expected fileid 0x2a41, got 0x1c07
[ 8812.130001] NFS: server nfs-server.storage.svc.cluster.local error: fileid changed
               fsid 0:52: expected fileid 0x2a44, got 0x1c0b""",
        "nfs-server-lost-file-handles",
        id="nfs-fileid-changed",
    ),
    # The fourth set (NFS version, EFS mount target, nginx conf.d, nginx configuration).
    pytest.param(
        """Warning  FailedMount  kubelet  MountVolume.SetUp failed for volume "nfs-data" : mount failed: exit status 32
Mounting command: mount
Mounting arguments: -t nfs -o nfsvers=3 10.0.1.25:/exports/data /var/lib/kubelet/pods/1b2c/volumes/kubernetes.io~nfs/nfs-data
Output: mount.nfs: requested NFS version or transport protocol is not supported""",
        "nfs-version-not-supported",
        id="nfs-version-not-supported-log",
    ),
    pytest.param(
        """Warning  FailedMount  kubelet  MountVolume.SetUp failed for volume "efs-pv" : rpc error: code = Internal desc = Could not mount "fs-0123456789abcdef0:/" at "/var/lib/kubelet/pods/5e6f/volumes/kubernetes.io~csi/efs-pv/mount": mount failed: exit status 1
Output: Failed to resolve "fs-0123456789abcdef0.efs.eu-west-1.amazonaws.com" - check that your file system ID is correct, and ensure that the VPC has an EFS mount target for this file system ID.""",
        "efs-mount-target-unreachable",
        id="efs-mount-target-unreachable-log",
    ),
    pytest.param(
        """/docker-entrypoint.sh: Launching /docker-entrypoint.d/10-listen-on-ipv6-by-default.sh
10-listen-on-ipv6-by-default.sh: info: can not modify /etc/nginx/conf.d/default.conf (read-only file system?)
/docker-entrypoint.sh: Launching /docker-entrypoint.d/20-envsubst-on-templates.sh
20-envsubst-on-templates.sh: ERROR: /etc/nginx/templates exists, but /etc/nginx/conf.d is not writable""",
        "nginx-conf-dir-not-writable",
        id="nginx-conf-dir-not-writable-log",
    ),
    pytest.param(
        """2024/05/02 10:11:12 [emerg] 1#1: "server" directive is not allowed here in /etc/nginx/nginx.conf:1
nginx: [emerg] "server" directive is not allowed here in /etc/nginx/nginx.conf:1""",
        "nginx-config-rejected",
        id="nginx-config-rejected-log",
    ),
    # The fifth set.
    pytest.param(
        """$ docker run --rm -v /home/alice:/data alpine ls /data
ls: cannot open directory '/data': Too many levels of symbolic links""",
        "automount-in-container",
        id="automount-eloop-log",
    ),
    pytest.param(
        """2024/05/02 10:11:12 [crit] 31#31: *211 pwrite() "/var/cache/nginx/client_temp/0000000007" failed (28: No space left on device), client: 10.244.1.1, server: shop.example.com, request: "POST /wp-admin/async-upload.php HTTP/1.1", host: "shop.example.com"
10.244.1.1 - - [02/May/2024:10:11:12 +0000] "POST /wp-admin/async-upload.php HTTP/1.1" 500 579""",
        "filesystem-full",
        id="nginx-body-on-full-disk-log",
    ),
    # A node's vm.max_map_count below Elasticsearch's minimum; an entrypoint without execute permission.
    pytest.param(
        """{"@timestamp":"2024-05-02T10:11:12.000Z", "log.level": "INFO", "message":"bound or publishing to a non-loopback address, enforcing bootstrap checks"}
ERROR: [1] bootstrap checks failed. You must address the points described in the following [1] lines before starting Elasticsearch.
bootstrap check failure [1] of [1]: max virtual memory areas vm.max_map_count [65530] is too low, increase to at least [262144]""",
        "vm-max-map-count-too-low",
        id="elasticsearch-bootstrap",
    ),
    pytest.param(
        """Events:
  Normal   Pulled   20s (x3 over 45s)  kubelet  Container image "registry.example.com/shop/api:2.1" already present on machine
  Warning  Failed   20s (x3 over 45s)  kubelet  Error: failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "/usr/local/bin/start.sh": permission denied: unknown
  Warning  BackOff  8s (x4 over 40s)   kubelet  Back-off restarting failed container api in pod api-5c8d7f9b4-k2l9m_shop""",
        "entrypoint-not-executable",
        id="entrypoint-without-execute-bit",
    ),
]

# One line is an article's own message, another a neighbour's: the article is named.
MIXED_LOGS = [
    pytest.param(
        """Events:
  Warning  FailedScheduling  2m  default-scheduler  0/3 nodes are available: 3 Too many pods.
  Warning  Unhealthy  3m (x3 over 3m)    kubelet  Liveness probe failed: HTTP probe failed with statuscode: 500""",
        "kubelet-max-pods",
        id="pods-and-liveness",
    ),
    pytest.param(
        """1:M 02 May 2024 10:11:12.003 # WARNING you have Transparent Huge Pages (THP) support enabled in your kernel. This will create latency and memory usage issues with Redis.
[02-May-2024 10:11:13] PHP Warning:  Zend OPcache huge_code_pages: mmap(HUGETLB) failed: Cannot allocate memory (12) in Unknown on line 0""",
        "php-opcache-hugepages",
        id="redis-thp-and-opcache",
    ),
    pytest.param(
        "[ 4021.113] nfs: server 10.0.1.25 not responding, still trying\nflock: failed to get lock: No locks available",
        "nfs-efs-mount-options",
        id="nfs-hang-and-lock",
    ),
    # The fourth set (NFS version, EFS mount target, nginx conf.d, nginx configuration).
    pytest.param(
        """/docker-entrypoint.sh: Launching /docker-entrypoint.d/10-listen-on-ipv6-by-default.sh
10-listen-on-ipv6-by-default.sh: info: can not modify /etc/nginx/conf.d/default.conf (read-only file system?)
/docker-entrypoint.sh: Launching /docker-entrypoint.d/20-envsubst-on-templates.sh
/docker-entrypoint.d/20-envsubst-on-templates.sh: 26: envsubst: Argument list too long""",
        "nginx-envsubst-argument-list-too-long",
        id="ipv6-note-and-envsubst",
    ),
    # A neighbour's message beside an article's own in one paste.
    pytest.param(
        """bootstrap check failure [1] of [1]: max virtual memory areas vm.max_map_count [65530] is too low, increase to at least [262144]
[02-May-2024 10:11:13] PHP Warning:  Zend OPcache huge_code_pages: mmap(HUGETLB) failed: Cannot allocate memory (12) in Unknown on line 0""",
        "php-opcache-hugepages",
        id="map-count-and-opcache",
    ),
    pytest.param(
        """Warning  Failed  1m  kubelet  Error: container has runAsNonRoot and image will run as root (pod: "web-6f7c9d7b8-x2k4q_shop(0b1c)", container: php)
Warning  Failed  2m  kubelet  Error: failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "/docker-entrypoint.sh": permission denied: unknown""",
        "run-as-non-root",
        id="non-root-and-entrypoint-mode",
    ),
]


# Japanese and Chinese wordings that are not among the neighbours' reports.
OTHER_WORDINGS = [
    pytest.param(
        "emptyDir を /app にマウントしたら、イメージに入れたはずのファイルが見えなくなった",
        "volume-hides-image-content",
        id="volume-hides-image-ja",
    ),
    pytest.param(
        "给 /app 挂了 emptyDir 以后，打包进镜像的文件都看不到了",
        "volume-hides-image-content",
        id="volume-hides-image-zh",
    ),
    pytest.param(
        "Pod が Evicted になっていて、理由はノードの ephemeral-storage 不足だった",
        "ephemeral-storage-eviction",
        id="eviction-ja",
    ),
    pytest.param(
        "Pod 被驱逐，原因是节点临时存储不足", "ephemeral-storage-eviction", id="eviction-zh"
    ),
    pytest.param(
        "Redis のログに overcommit_memory の警告が毎回出る",
        "redis-host-kernel-warnings",
        id="redis-ja",
    ),
    pytest.param(
        "Istio を入れたらアプリに届く送信元 IP が 127.0.0.6 になった",
        "mesh-sidecar-hides-client-address",
        id="mesh-ja",
    ),
    pytest.param(
        "开了 Istio 之后应用拿到的源 IP 全是 127.0.0.6",
        "mesh-sidecar-hides-client-address",
        id="mesh-zh",
    ),
    pytest.param("CoreDNS 挂了，Pod 里解析不了服务名", "cluster-dns-resolution", id="dns-zh"),
    pytest.param(
        "NFS 上の SQLite が database is locked になって Grafana が起動しない",
        "sqlite-on-network-share",
        id="sqlite-ja",
    ),
    pytest.param(
        "Azure Files 上的 Postgres 启动失败，提示数据目录权限不对",
        "cifs-fixed-ownership-and-mode",
        id="cifs-zh",
    ),
    pytest.param(
        "ReadWriteOnce の PVC を使う Deployment のローリングアップデートで Multi-Attach error が出る",
        "volume-multi-attach",
        id="multi-attach-ja",
    ),
    pytest.param(
        "liveness probe が失敗して Pod が何度も再起動される",
        "liveness-probe-restarts",
        id="liveness-ja",
    ),
    pytest.param("存活探针失败导致 Pod 反复重启", "liveness-probe-restarts", id="liveness-zh"),
    pytest.param(
        "readOnlyRootFilesystem にしたら nginx が /var/run/nginx.pid を作れない",
        "read-only-root-filesystem",
        id="read-only-ja",
    ),
    pytest.param(
        "把 300 KB 的 JSON 放进单个变量传给容器，启动时报参数列表过长",
        "one-value-over-string-limit",
        id="one-value-zh",
    ),
    pytest.param(
        "NFS 服务器的 Pod 换了节点以后，挂载这个共享的 Pod 全部报 Stale file handle，/etc/exports 里没有写 fsid",
        "nfs-server-lost-file-handles",
        id="nfs-server-identity-zh",
    ),
    pytest.param(
        "ServiceAccount に権限がなくて API から Pod 一覧が取れない", "rbac-forbidden", id="rbac-ja"
    ),
    # The fourth set (NFS version, EFS mount target, nginx conf.d, nginx configuration).
    pytest.param(
        "NAS が NFSv4.1 しか受け付けず、nfsvers=3 のマウントが Protocol not supported になる",
        "nfs-version-not-supported",
        id="nfs-version-ja",
    ),
    pytest.param(
        "NAS 只支持 NFSv4.1，用 nfsvers=3 挂载报 Protocol not supported",
        "nfs-version-not-supported",
        id="nfs-version-zh",
    ),
    pytest.param(
        "EFS のマウントターゲットがないゾーンのノードでは Pod が EFS をマウントできない",
        "efs-mount-target-unreachable",
        id="efs-target-ja",
    ),
    pytest.param(
        "没有 EFS 挂载目标的可用区里，节点上的 Pod 挂不上 EFS",
        "efs-mount-target-unreachable",
        id="efs-target-zh",
    ),
    pytest.param(
        "conf.d を ConfigMap で読み取り専用にしたら nginx のテンプレートが展開されなくなった",
        "nginx-conf-dir-not-writable",
        id="conf-dir-ja",
    ),
    pytest.param(
        "conf.d 用 ConfigMap 只读挂载后，nginx 的模板就不渲染了",
        "nginx-conf-dir-not-writable",
        id="conf-dir-zh",
    ),
    pytest.param(
        "nginx.conf に server ブロックだけ書いた ConfigMap をマウントしたら is not allowed here で止まる",
        "nginx-config-rejected",
        id="nginx-conf-ja",
    ),
    pytest.param(
        "把只有 server 块的 ConfigMap 挂成 nginx.conf，nginx 报 is not allowed here",
        "nginx-config-rejected",
        id="nginx-conf-zh",
    ),
    # The fifth set.
    pytest.param(
        "Traefik の buffering ミドルウェアの maxRequestBodyBytes より大きいアップロードが 413 で弾かれる",
        "nginx-body-size-limit",
        id="body-limit-ja",
    ),
    pytest.param(
        "Traefik 的 buffering 中间件把超过 maxRequestBodyBytes 的上传直接回了 413",
        "nginx-body-size-limit",
        id="body-limit-zh",
    ),
    pytest.param(
        "Laravel で 8MB の PDF が上げられず、イメージの php.ini の upload_max_filesize が 2M のままだった",
        "php-upload-size-limit",
        id="php-limit-ja",
    ),
    pytest.param(
        "Laravel 传不了 8MB 的 PDF，镜像里 php.ini 的 upload_max_filesize 还是 2M",
        "php-upload-size-limit",
        id="php-limit-zh",
    ),
    pytest.param(
        "autofs で自動マウントしたディレクトリをコンテナに渡すと Too many levels of symbolic links になる",
        "automount-in-container",
        id="automount-ja",
    ),
    pytest.param(
        "把 autofs 自动挂载的目录交给容器，访问时报 Too many levels of symbolic links",
        "automount-in-container",
        id="automount-zh",
    ),
    pytest.param(
        "変更ファイルの一覧を GITHUB_ENV に入れたら、GitHub Actions のランナーが次のステップで Argument list too long になる",
        "program-spawn-too-long",
        id="ci-runner-ja",
    ),
    pytest.param(
        "把改动文件列表写进 GITHUB_ENV 以后，GitHub Actions 的 runner 在下一步报 Argument list too long",
        "program-spawn-too-long",
        id="ci-runner-zh",
    ),
    pytest.param(
        "Pod が別のノードに移ったら hostPath のデータがなかった",
        "hostpath-is-per-node",
        id="hostpath-per-node-ja",
    ),
    pytest.param(
        "Pod 迁到别的节点后 hostPath 目录里没有数据",
        "hostpath-is-per-node",
        id="hostpath-per-node-zh",
    ),
    pytest.param(
        "ノードのディスクが満杯になり、Pod の書き込みが No space left on device で失敗する",
        "filesystem-full",
        id="disk-full-ja",
    ),
    pytest.param(
        "节点磁盘满了，Pod 写文件报 No space left on device", "filesystem-full", id="disk-full-zh"
    ),
]


def named(text: str) -> list[str]:
    return [m.article for m in diagnose(text, knowledge=KNOWLEDGE, tree=TREE).matches]


def refused_with(text: str) -> list[str]:
    diagnosis = diagnose(text, knowledge=KNOWLEDGE, tree=TREE)
    assert not diagnosis.matches, (text, [m.article for m in diagnosis.matches])
    return [n.node for n in diagnosis.not_covered]


@pytest.mark.parametrize(("ours", "article", "theirs", "node_id"), PAIRS)
def test_it_names_the_article_for_its_mechanism_and_refuses_the_neighbours(
    ours, article, theirs, node_id
):
    assert named(ours)[:1] == [article]
    refused = refused_with(theirs)
    assert node_id is None or refused[:1] == [node_id], refused


@pytest.mark.parametrize(("article", "near_miss", "node_id"), NEAR_MISSES)
def test_an_articles_near_miss_gets_the_neighbours_advice(article, near_miss, node_id):
    assert near_miss in KNOWLEDGE.cause(article).near_misses
    assert refused_with(near_miss)[:1] == [node_id]


@pytest.mark.parametrize(("log", "node_id"), NEIGHBOUR_LOGS)
def test_a_pasted_log_that_is_only_a_neighbours_is_refused_with_its_advice(log, node_id):
    assert refused_with(log)[:1] == [node_id]


@pytest.mark.parametrize(("log", "article"), MIXED_LOGS)
def test_a_log_with_an_articles_own_message_beside_a_neighbours_names_the_article(log, article):
    assert named(log)[:1] == [article]


@pytest.mark.parametrize(("text", "node_id"), OTHER_WORDINGS)
def test_a_japanese_or_chinese_wording_of_its_own_gets_the_neighbours_advice(text, node_id):
    assert refused_with(text)[:1] == [node_id]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("question", "node_id"),
    [
        ("network-storage-errors", "nfs-locking-unavailable"),
        ("network-storage-errors", "nfsv4-idmap-nobody"),
        ("network-storage-errors", "mount-helper-missing"),
        ("network-storage-errors", "sqlite-on-network-share"),
        ("pod-does-not-start", "volume-multi-attach"),
        ("pod-does-not-start", "volume-zone-conflict"),
        ("pod-does-not-start", "configmap-or-secret-missing"),
        ("pod-does-not-start", "resource-quota-exceeded"),
        ("files-look-wrong", "network-fs-client-cache"),
        ("argument-list-too-long", "one-value-over-string-limit"),
        ("stale-file-handle", "nfs-server-lost-file-handles"),
    ],
)
def test_a_reader_browsing_the_tree_reaches_the_neighbour_from_its_question(
    client, question, node_id
):
    """Without a paste, the browsing questions lead to the neighbour's page."""
    from django.urls import reverse

    page = client.get(reverse("troubleshooter:node", args=[question]), {"lang": "ja"})
    target = reverse("troubleshooter:node", args=[node_id])
    assert page.status_code == 200
    assert f'href="{target}' in page.content.decode()
    answer = client.get(target, {"lang": "ja"})
    assert TREE.nodes[node_id].i18n["advice"]["ja"] in html.unescape(answer.content.decode())
